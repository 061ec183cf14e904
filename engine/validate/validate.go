package validate

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/facts"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/template"
	"github.com/tpago/tpago/inventory"
	"github.com/tpago/tpago/yamlx"
)

// Options say what surrounds the files being checked.
type Options struct {
	// Inventory supplies host and group variables (nil: none).
	Inventory *inventory.Inventory
	// ExtraVars are the -e variables.
	ExtraVars map[string]any
	// Known are more variable names taken as defined (a hook sees the
	// variables of the playbook that runs it).
	Known []string
	// Handlers are handler names a task file may notify (a hook may notify
	// the handlers of the play that runs it); nil: notify is not checked.
	Handlers []string
	// Dir is where files of a task file are looked up beside (templates/);
	// default: the task file's folder.
	Dir string
}

// Result is what a check found.
type Result struct {
	Findings []Finding
	// Playbook is the loaded playbook (nil when it did not load).
	Playbook *playbook.Playbook
	// Defined are the variable names that something could define.
	Defined []string
	// Handlers are the names (and listen topics) of every handler.
	Handlers []string
	// Used are the variable names that the playbook, its roles and their
	// templates read (guarded reads such as default(x, …) included).
	Used []string
}

// OK reports whether nothing was found.
func (r *Result) OK() bool { return len(r.Findings) == 0 }

// Playbook loads and checks a playbook (data is its content, or nil to
// read file). No host is contacted.
func Playbook(ld *playbook.Loader, file string, data []byte, opts Options) *Result {
	var pb *playbook.Playbook
	var err error
	if data != nil {
		pb, err = ld.LoadPlaybookData(file, data)
	} else {
		pb, err = ld.LoadPlaybook(file)
	}
	res := &Result{Playbook: pb}
	if err != nil {
		fs := FromError(err)
		for i, f := range fs {
			// The loader places a missing handler at its task; point at notify:.
			if strings.HasPrefix(f.Reason, "notify: ") && f.Line > 0 {
				p := keyPos(f.pos, "notify")
				fs[i].Line, fs[i].Col, fs[i].Snippet = p.Line, p.Col, yamlx.Snippet(p)
			}
		}
		res.Findings = Sorted(fs)
		return res
	}
	a := newAnalyzer(opts)
	a.pbDir = pb.Dir
	for _, p := range pb.Plays {
		a.collectPlay(p)
	}
	for _, p := range pb.Plays {
		a.checkPlay(p)
	}
	res.Findings = Sorted(a.findings)
	res.Defined = a.names()
	res.Handlers = a.handlerNames(pb)
	res.Used = a.usedNames()
	return res
}

// Tasks loads and checks a task file, such as a hook, that some playbook
// includes: opts.Known and opts.Handlers say what that playbook defines.
func Tasks(ld *playbook.Loader, file string, opts Options) *Result {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	res := &Result{}
	ts, err := ld.LoadTasks(abs, nil)
	if err != nil {
		res.Findings = Sorted(FromError(err))
		return res
	}
	a := newAnalyzer(opts)
	a.pbDir = opts.Dir
	if a.pbDir == "" {
		a.pbDir = filepath.Dir(abs)
	}
	a.collectTasks(ts)
	a.checkTasks(ts, nil, nil)
	if opts.Handlers != nil {
		a.checkNotify(ts, opts.Handlers)
	}
	res.Findings = Sorted(a.findings)
	res.Defined = a.names()
	res.Used = a.usedNames()
	return res
}

type analyzer struct {
	defined  map[string]bool
	noInv    bool // no inventory was given: its variables are unknown
	pbDir    string
	findings []Finding
	checked  map[string]bool // template files already parsed
	used     map[string]bool // every variable read, defined or not
}

// magic are the variables the executor defines for every task.
var magic = []string{
	"inventory_hostname", "inventory_hostname_short", "group_names", "groups", "hostvars",
	"ansible_play_hosts", "ansible_play_batch", "ansible_play_hosts_all", "ansible_check_mode",
	"ansible_diff_mode", "ansible_verbosity", "playbook_dir", "inventory_dir", "omit",
	"ansible_run_tags", "ansible_skip_tags", "ansible_managed",
}

// roleMagic are defined for the tasks of a role.
var roleMagic = []string{"role_name", "role_path"}

// factNames are the facts gather_facts sets (each also as ansible_NAME).
var factNames = facts.Names

func newAnalyzer(opts Options) *analyzer {
	a := &analyzer{defined: map[string]bool{}, checked: map[string]bool{},
		noInv: opts.Inventory == nil || len(opts.Inventory.Hosts) == 0}
	for _, m := range magic {
		a.defined[m] = true
	}
	for _, k := range opts.Known {
		a.defined[k] = true
	}
	for k := range opts.ExtraVars {
		a.defined[k] = true
	}
	if inv := opts.Inventory; inv != nil {
		for _, h := range inv.Order {
			for k := range inv.HostVars(h) {
				a.defined[k] = true
			}
		}
		for _, g := range inv.Groups {
			for k := range g.Vars {
				a.defined[k] = true
			}
		}
	}
	return a
}

func (a *analyzer) names() []string {
	out := make([]string, 0, len(a.defined))
	for k := range a.defined {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (a *analyzer) add(m map[string]any) {
	for k := range m {
		a.defined[k] = true
	}
}

func (a *analyzer) collectPlay(p *playbook.Play) {
	a.add(p.Vars)
	for _, vf := range p.VarsFiles {
		a.add(vf)
	}
	if p.GatherFacts {
		a.defineFacts()
	}
	for _, r := range p.AllRoles {
		a.collectRole(r)
	}
	a.collectTasks(p.PreTasks)
	a.collectTasks(p.Tasks)
	a.collectTasks(p.PostTasks)
	a.collectTasks(p.Handlers)
}

func (a *analyzer) collectRole(r *playbook.Role) {
	a.add(r.Defaults)
	a.add(r.Vars)
	a.add(r.Params)
	a.readIn(r.Defaults, r.Vars, r.Params)
	a.collectTasks(r.Tasks)
	a.collectTasks(r.Handlers)
}

// collectTasks adds what tasks define for the tasks after them: vars,
// include parameters, register, set_fact keys, role variables.
func (a *analyzer) collectTasks(ts []*playbook.Task) {
	for t := range playbook.Walk(ts) {
		a.add(t.Vars)
		if t.Register != "" {
			a.defined[t.Register] = true
		}
		switch t.Module {
		case "set_fact":
			for k := range t.Args {
				if k != "cacheable" && !expr.HasTemplate(k) {
					a.defined[k] = true
				}
			}
		case "setup":
			a.defineFacts()
		case "package_facts":
			a.defined["ansible_facts"] = true
			a.defined["packages"] = true
		case "include_vars":
			a.collectIncludeVars(t)
		}
		if t.Module == "getent" {
			// getent sets getent_DATABASE, also under ansible_facts.
			a.defined["ansible_facts"] = true
			if db, ok := t.Args["database"].(string); ok && !expr.HasTemplate(db) {
				a.defined["getent_"+db] = true
			}
		}
		if in := t.Include; in != nil {
			a.add(in.Params)
			if r := in.LoadedRole; r != nil {
				a.add(r.Defaults)
				a.add(r.Vars)
				a.add(r.Params)
				a.readIn(r.Defaults, r.Vars, r.Params)
				a.collectTasks(r.Handlers)
			}
		}
	}
}

// defineFacts defines what gathering facts sets.
func (a *analyzer) defineFacts() {
	a.defined["ansible_facts"] = true
	for _, f := range factNames {
		a.defined["ansible_"+f] = true
	}
}

func (a *analyzer) checkPlay(p *playbook.Play) {
	a.checkTasks(p.PreTasks, nil, nil)
	a.checkTasks(p.Tasks, nil, nil)
	a.checkTasks(p.PostTasks, nil, nil)
	a.checkTasks(p.Handlers, nil, nil)
}

// checkTasks checks the variables that tasks use; local holds the names
// only they see (loop variables), role the role they run in.
func (a *analyzer) checkTasks(ts []*playbook.Task, local map[string]bool, role *playbook.Role) {
	for t, parents := range playbook.Walk(ts) {
		// What the enclosing tasks give: the innermost role, the loop
		// variables of looped includes.
		r, outer := role, local
		for _, p := range parents {
			if p.Role != nil {
				r = p.Role
			}
			if p.HasLoop {
				outer = withLoopVars(outer, p)
			}
		}
		if t.Role != nil {
			r = t.Role
		}
		in := outer
		if t.HasLoop {
			in = withLoopVars(outer, t)
			if s, ok := t.Loop.(string); ok {
				a.useTemplate(s, keyPos(t.Pos, "loop"), outer, r, "loop")
			} else {
				playbook.WalkStrings(t.Loop, func(s string) { a.useTemplate(s, keyPos(t.Pos, "loop"), outer, r, "loop") })
			}
		}
		for _, c := range t.When {
			a.useExpr(c.Expr, c.Pos, in, r, "when")
		}
		for _, c := range t.ChangedWhen {
			a.useExpr(c.Expr, c.Pos, in, r, "changed_when")
		}
		for _, c := range t.FailedWhen {
			a.useExpr(c.Expr, c.Pos, in, r, "failed_when")
		}
		for _, c := range t.Until {
			a.useExpr(c.Expr, c.Pos, in, r, "until")
		}
		if t.DelegateTo != "" {
			a.useTemplate(t.DelegateTo, keyPos(t.Pos, "delegate_to"), in, r, "delegate_to")
		}
		if t.Module != "" && t.Module != "meta" {
			a.checkArgs(t, in, r)
		}
		if inc := t.Include; inc != nil {
			if inc.Kind == "tasks" {
				a.useTemplate(inc.File, t.Pos, in, r, "include_tasks")
			}
			if inc.LoadedRole != nil {
				a.checkTasks(inc.LoadedRole.Handlers, in, inc.LoadedRole)
			}
		}
	}
}

// withLoopVars is local and the variables t's loop defines for its items.
func withLoopVars(local map[string]bool, t *playbook.Task) map[string]bool {
	in := map[string]bool{}
	for k := range local {
		in[k] = true
	}
	lv := t.LoopVar
	if lv == "" {
		lv = "item"
	}
	in[lv] = true
	in["ansible_loop"] = true
	in["ansible_loop_var"] = true
	if t.IndexVar != "" {
		in[t.IndexVar] = true
	}
	return in
}

func (a *analyzer) checkArgs(t *playbook.Task, local map[string]bool, r *playbook.Role) {
	keys := make([]string, 0, len(t.Args))
	for k := range t.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := t.Args[k]
		pos := t.Pos
		if p, ok := t.ArgPos[k]; ok {
			pos = p
		}
		if arg, ok := t.Spec.Arg(k); ok && arg.Type == module.Expr {
			for _, e := range exprList(v) {
				a.useExpr(e, pos, local, r, t.Module+" "+k)
			}
			continue
		}
		playbook.WalkStrings(v, func(s string) { a.useTemplate(s, pos, local, r, t.Module+" "+k) })
	}
	if src, ok := t.Args["src"].(string); ok && !expr.HasTemplate(src) {
		switch t.Module {
		case "template":
			a.checkTemplateFile(t, src, local, r)
		case "copy":
			a.checkCopySrc(t, src, r)
		}
	}
}

func exprList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, it := range x {
			if s, ok := it.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (a *analyzer) isDefined(name string, local map[string]bool, r *playbook.Role) bool {
	if a.defined[name] || local[name] {
		return true
	}
	if r != nil {
		for _, m := range roleMagic {
			if m == name {
				return true
			}
		}
	}
	return false
}

// readIn records the variables that the templates in vars (role
// defaults and the like: values that are read when used) refer to.
func (a *analyzer) readIn(vars ...map[string]any) {
	for _, m := range vars {
		playbook.WalkStrings(m, func(s string) {
			if !expr.HasTemplate(s) {
				return
			}
			if tp, err := template.Parse("", s); err == nil {
				for _, ref := range tp.Refs() {
					a.use(ref.Name)
				}
			}
		})
	}
}

// use records that name is read.
func (a *analyzer) use(name string) {
	if a.used == nil {
		a.used = map[string]bool{}
	}
	a.used[name] = true
}

func (a *analyzer) usedNames() []string {
	out := make([]string, 0, len(a.used))
	for n := range a.used {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (a *analyzer) useExpr(code string, pos yamlx.Pos, local map[string]bool, r *playbook.Role, where string) {
	refs, err := expr.Refs(code)
	if err != nil {
		return // the loader reports expressions that do not compile
	}
	a.useRefs(refs, pos, local, r, where)
}

func (a *analyzer) useTemplate(s string, pos yamlx.Pos, local map[string]bool, r *playbook.Role, where string) {
	if !expr.HasTemplate(s) {
		return
	}
	tp, err := template.Parse(pos.File, s)
	if err != nil {
		return
	}
	a.useRefs(tp.Refs(), pos, local, r, where)
}

func (a *analyzer) useRefs(refs []expr.Ref, pos yamlx.Pos, local map[string]bool, r *playbook.Role, where string) {
	for _, ref := range refs {
		a.use(ref.Name)
		if ref.Optional || a.isDefined(ref.Name, local, r) {
			continue
		}
		p := refineCol(pos, ref.Name)
		a.findings = append(a.findings, at(p, a.hintFor(ref.Name, local),
			"undefined variable %q in %s: no inventory, play, role, vars, register or set_fact defines it", ref.Name, where))
	}
}

func (a *analyzer) hintFor(name string, local map[string]bool) string {
	if name == "item" {
		return "item is only defined in a task with loop:"
	}
	if h, ok := AnsibleVariables[name]; ok {
		return "tpago does not set " + name + ": " + h
	}
	best, bd := "", 3
	if len(name) <= 3 {
		bd = 2
	}
	try := func(c string) {
		if d := module.Distance(name, c); d < bd || (d == bd && best != "" && c < best) {
			best, bd = c, d
		}
	}
	for _, c := range a.names() {
		try(c)
	}
	for c := range local {
		try(c)
	}
	hint := fmt.Sprintf("define it (role defaults, vars, inventory, -e) or write default(%s, VALUE) if it is optional", name)
	if best != "" {
		hint = fmt.Sprintf("did you mean %s? (if it is optional, write default(%s, VALUE))", best, name)
	}
	if a.noInv {
		hint += "; no inventory was given: the inventory's variables are checked with -i INVENTORY"
	}
	return hint
}

// findFile finds a file of kind "templates" or "files" as the executor
// does: the role's folder of that kind, then that folder beside the
// playbook, then the playbook's folder. It returns the file's content (nil
// for a folder), its name, whether it was found, and where it looked.
func (a *analyzer) findFile(kind, src string, r *playbook.Role) ([]byte, string, bool, []string) {
	var tried []string
	read := func(p string) ([]byte, bool) {
		st, err := os.Stat(p)
		if err != nil {
			return nil, false
		}
		if st.IsDir() {
			return nil, true
		}
		data, err := os.ReadFile(p)
		return data, err == nil
	}
	if filepath.IsAbs(src) {
		data, ok := read(src)
		return data, src, ok, []string{src}
	}
	// In the role: its folder of that kind, then its top (src:
	// templates/x.j2 is accepted, as by Ansible and the executor).
	for _, p := range []string{path.Join(kind, src), path.Clean(src)} {
		if r == nil || strings.HasPrefix(p, "../") || p == ".." {
			break
		}
		if r.OnDisk {
			full := filepath.Join(r.Path, p)
			tried = append(tried, full)
			if data, ok := read(full); ok {
				return data, full, true, tried
			}
		} else {
			name := "(built-in) roles/" + r.Name + "/" + p
			tried = append(tried, name)
			if st, err := fs.Stat(r.FS, path.Join(r.Path, p)); err == nil {
				if st.IsDir() {
					return nil, name, true, tried
				}
				data, err := fs.ReadFile(r.FS, path.Join(r.Path, p))
				return data, name, err == nil, tried
			}
		}
	}
	if a.pbDir != "" {
		for _, p := range []string{filepath.Join(a.pbDir, kind, src), filepath.Join(a.pbDir, src)} {
			tried = append(tried, p)
			if data, ok := read(p); ok {
				return data, p, true, tried
			}
		}
	}
	return nil, "", false, tried
}

// checkCopySrc reports a copy task whose src is on the control machine and
// cannot be found.
func (a *analyzer) checkCopySrc(t *playbook.Task, src string, r *playbook.Role) {
	if b, err := module.ParseBool(t.Args["remote_src"]); t.Args["remote_src"] != nil && (err != nil || b) {
		return // on the host, or only known at run time
	}
	if _, _, ok, tried := a.findFile("files", src, r); !ok {
		pos := t.Pos
		if p, ok := t.ArgPos["src"]; ok {
			pos = p
		}
		a.findings = append(a.findings, at(pos, "put the file in the role's files/ folder, or in files/ beside the playbook",
			"copy: %s not found; looked in: %s", src, strings.Join(tried, ", ")))
	}
}

// checkTemplateFile finds a template module's src as the executor does
// (the role's templates/, then templates/ beside the playbook, then the
// playbook's folder), parses it and checks the variables it reads.
func (a *analyzer) checkTemplateFile(t *playbook.Task, src string, local map[string]bool, r *playbook.Role) {
	srcPos := t.Pos
	if p, ok := t.ArgPos["src"]; ok {
		srcPos = p
	}
	text, name, ok, tried := a.findFile("templates", src, r)
	if !ok || text == nil {
		a.findings = append(a.findings, at(srcPos, "put the file in the role's templates/ folder, or in templates/ beside the playbook",
			"template %s not found; looked in: %s", src, strings.Join(tried, ", ")))
		return
	}
	key := name + "\x00" + fmt.Sprint(r != nil)
	if a.checked[key] {
		return
	}
	a.checked[key] = true
	tp, err := template.Parse(name, string(text))
	if err != nil {
		for _, f := range FromError(err) {
			f.Snippet = yamlx.SnippetOf(string(text), f.Line, f.Col)
			f.Chain = append(f.Chain, "template used at "+srcPos.String())
			a.findings = append(a.findings, f)
		}
		return
	}
	for _, ref := range tp.Refs() {
		a.use(ref.Name)
		if ref.Optional || a.isDefined(ref.Name, local, r) {
			continue
		}
		line, col := findIdent(string(text), ref.Name)
		f := Finding{File: name, Line: line, Col: col,
			Reason:  fmt.Sprintf("undefined variable %q in template: no inventory, play, role, vars, register or set_fact defines it", ref.Name),
			Hint:    a.hintFor(ref.Name, local),
			Snippet: yamlx.SnippetOf(string(text), line, col),
			Chain:   []string{"template used at " + srcPos.String()}}
		a.findings = append(a.findings, f)
	}
}

// checkNotify reports notify: names that no handler has (task files run by
// a playbook that is not at hand).
func (a *analyzer) checkNotify(ts []*playbook.Task, names []string) {
	for _, e := range playbook.UnknownNotifies(ts, names) {
		a.findings = append(a.findings, at(keyPos(e.Pos, "notify"), e.Hint, "%s", e.Msg))
	}
}

func (a *analyzer) handlerNames(pb *playbook.Playbook) []string {
	var hs []*playbook.Task
	for _, p := range pb.Plays {
		hs = append(hs, p.Handlers...)
	}
	return playbook.HandlerNames(hs)
}

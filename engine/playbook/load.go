package playbook

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/yamlx"
)

// Loader loads playbooks, task files and roles.
type Loader struct {
	// RolePaths are folders searched for roles after the playbook's own
	// roles/ folder, in order.
	RolePaths []string
	// BuiltinRoles holds the roles embedded in the binary, one folder per
	// role at its root; searched last.
	BuiltinRoles fs.FS
	// PlaybookFS holds embedded playbooks: an import_playbook whose file is
	// not on disk beside the importing playbook is read from here.
	PlaybookFS fs.FS

	errs      []error
	dropped   int // problems past MaxErrors
	pbDir     string
	files     map[string]*yamlx.Node
	roleInsts map[string]*Role
	playRoles []*Role
	// loading is the chain of files and roles being loaded, outermost
	// first: meeting one of them again is an include loop.
	loading []loading
}

type loading struct {
	name string // a file's path, or "role " and the role's folder
	at   yamlx.Pos
}

// enter notes that name (a playbook, a task file, a role) is being loaded
// from at, and reports false, with an error naming the whole loop, when it
// is already being loaded: that include, import or dependency would never
// end. Every kind of include goes through here; leave undoes it.
func (ld *Loader) enter(what, name string, at yamlx.Pos) bool {
	for i, l := range ld.loading {
		if l.name != name {
			continue
		}
		var names []string
		for _, c := range ld.loading[i:] {
			names = append(names, strings.TrimPrefix(c.name, "role "))
		}
		names = append(names, strings.TrimPrefix(name, "role "))
		e := yamlx.At(at, "%s: %s", what, strings.Join(names, " → "))
		e.Hint = "a file or role that includes itself, directly or through others, would never end loading"
		ld.fail(e)
		return false
	}
	ld.loading = append(ld.loading, loading{name: name, at: at})
	return true
}

func (ld *Loader) leave() { ld.loading = ld.loading[:len(ld.loading)-1] }

// MaxErrors is how many problems a load reports at most; past it, a last
// error says how many more there are.
const MaxErrors = 1000

type loc struct {
	fsys   fs.FS
	dir    string // folder in fsys ("." for root)
	ondisk string // the real folder for fsys's root, "" when embedded
	role   *Role
}

func diskLoc(dir string) loc {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return loc{fsys: os.DirFS("/"), dir: strings.TrimPrefix(abs, "/"), ondisk: "/"}
}

// display is the name of a file for messages: its real path when on disk.
func (l loc) display(p string) string {
	if l.ondisk != "" {
		return filepath.Join(l.ondisk, p)
	}
	if l.role != nil {
		return "(built-in) roles/" + strings.TrimPrefix(p, "./")
	}
	return p
}

func (ld *Loader) fail(err error) {
	if err == nil {
		return
	}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			ld.fail(e)
		}
		return
	}
	if len(ld.errs) < MaxErrors {
		ld.errs = append(ld.errs, err)
	} else {
		ld.dropped++
	}
}

func (ld *Loader) result() error {
	if len(ld.errs) == 0 {
		return nil
	}
	errs := ld.errs
	if ld.dropped > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("%d more problems not shown (tpago reports at most %d at once)", ld.dropped, MaxErrors))
	}
	return errors.Join(errs...)
}

func (ld *Loader) read(l loc, p string) (*yamlx.Node, error) {
	full := path.Join(l.dir, p)
	disp := l.display(full)
	if ld.files == nil {
		ld.files = map[string]*yamlx.Node{}
	}
	if n, ok := ld.files[disp]; ok {
		return n, nil
	}
	if st, err := fs.Stat(l.fsys, full); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", disp)
	}
	data, err := fs.ReadFile(l.fsys, full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: file not found", disp)
		}
		return nil, err
	}
	n, err := yamlx.ParseOne(disp, data)
	if err != nil {
		return nil, err
	}
	ld.files[disp] = n
	return n, nil
}

// LoadPlaybook loads a playbook and everything it refers to, and checks it.
// All problems found are returned together (at most MaxErrors).
func (ld *Loader) LoadPlaybook(file string) (*Playbook, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("playbook %s: %w", file, err)
	}
	return ld.LoadPlaybookData(abs, data)
}

// LoadPlaybookData loads a playbook from data as if read from file (its
// folder is where roles/ and relative paths are looked up).
func (ld *Loader) LoadPlaybookData(file string, data []byte) (*Playbook, error) {
	ld.errs, ld.dropped = nil, 0
	ld.loading = nil
	ld.enter("", playbookKey(file), yamlx.Pos{File: file})
	return ld.loadPlaybook(file, data)
}

// playbookKey names a playbook file in the chain of files being loaded.
func playbookKey(file string) string {
	if abs, err := filepath.Abs(file); err == nil {
		return abs
	}
	return filepath.Clean(file)
}

func (ld *Loader) loadPlaybook(file string, data []byte) (*Playbook, error) {
	root, err := yamlx.ParseOne(file, data)
	if err != nil {
		return nil, err
	}
	pb := &Playbook{Path: file, Dir: filepath.Dir(file)}
	ld.pbDir = pb.Dir
	if root.Kind != yamlx.List {
		return nil, yamlx.Errorf(root, "a playbook is a list of plays, not %s", root.KindName())
	}
	base := diskLoc(pb.Dir)
	for _, pn := range root.Items {
		if pn.Kind == yamlx.Map && (pn.Get("import_playbook") != nil || pn.Get("ansible.builtin.import_playbook") != nil) {
			if ipb := ld.importPlaybook(pn, pb.Dir); ipb != nil {
				pb.Plays = append(pb.Plays, ipb.Plays...)
			}
			continue
		}
		if p := ld.loadPlay(pn, base); p != nil {
			pb.Plays = append(pb.Plays, p)
		}
	}
	if err := ld.result(); err != nil {
		return nil, err
	}
	return pb, nil
}

// importPlaybook loads the playbook that pn imports (from disk beside the
// importing one, else from PlaybookFS); nil after a problem.
func (ld *Loader) importPlaybook(pn *yamlx.Node, dir string) *Playbook {
	sub := pn.Get("import_playbook")
	if sub == nil {
		sub = pn.Get("ansible.builtin.import_playbook")
	}
	p := sub.String()
	rel := p
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	if !ld.enter("import_playbook loop", playbookKey(p), sub.Pos) {
		return nil
	}
	defer ld.leave()
	inner := &Loader{RolePaths: ld.RolePaths, BuiltinRoles: ld.BuiltinRoles, PlaybookFS: ld.PlaybookFS,
		loading: append([]loading(nil), ld.loading...)}
	var data []byte
	var err error
	if _, statErr := os.Stat(p); statErr != nil && ld.PlaybookFS != nil && !filepath.IsAbs(rel) {
		data, err = fs.ReadFile(ld.PlaybookFS, path.Clean(rel))
		if err != nil {
			err = fmt.Errorf("%s: import_playbook: %s not found", sub.Pos, rel)
		}
	} else if abs, aerr := filepath.Abs(p); aerr != nil {
		err = aerr
	} else if st, serr := os.Stat(abs); serr == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s: import_playbook: %s is not a regular file", sub.Pos, p)
	} else if data, err = os.ReadFile(abs); err != nil {
		err = fmt.Errorf("playbook %s: %w", p, err)
	} else {
		p = abs
	}
	var ipb *Playbook
	if err == nil {
		ipb, err = inner.loadPlaybook(p, data)
	}
	if err != nil {
		ld.fail(yamlx.WithChain(err, "imported from "+sub.Pos.String()))
		return nil
	}
	return ipb
}

var playKeys = []string{"name", "hosts", "vars", "vars_files", "roles", "pre_tasks", "tasks", "post_tasks",
	"handlers", "become", "become_user", "become_method", "gather_facts", "serial", "strategy", "any_errors_fatal",
	"ignore_unreachable", "tags", "environment", "check_mode", "diff", "no_log", "remote_user", "connection",
	"max_fail_percentage", "order", "collections", "vars_prompt", "module_defaults", "ignore_errors", "force_handlers",
	"gather_subset", "run_once"}

func (ld *Loader) loadPlay(n *yamlx.Node, base loc) *Play {
	if n.Kind != yamlx.Map {
		ld.fail(yamlx.Errorf(n, "a play is a mapping with hosts: and tasks:, not %s", n.KindName()))
		return nil
	}
	p := &Play{Pos: n.Pos, GatherFacts: true, Strategy: "linear"}
	ld.playRoles = nil
	ld.roleInsts = map[string]*Role{}
	for i, k := range n.Keys {
		v := n.Vals[i]
		switch key := k.String(); key {
		case "name":
			p.Name = v.String()
		case "hosts":
			if v.Kind == yamlx.List {
				var hs []string
				for _, it := range v.Items {
					hs = append(hs, it.String())
				}
				p.Hosts = strings.Join(hs, ":")
			} else {
				p.Hosts = v.String()
			}
		case "vars":
			p.Vars = ld.mapping(v, "vars")
		case "vars_files":
			for _, f := range ld.strings(v) {
				fp := f
				if !filepath.IsAbs(fp) {
					fp = filepath.Join(base.display(base.dir), fp)
				}
				if st, err := os.Stat(fp); err == nil && !st.Mode().IsRegular() {
					ld.fail(yamlx.Errorf(v, "vars_files: %s is not a regular file", fp))
					continue
				}
				fn, err := yamlx.ReadOne(fp)
				if err != nil {
					ld.fail(yamlx.WithChain(err, "in vars_files of the play at "+v.Pos.String()))
					continue
				}
				if fn.Kind == yamlx.Null {
					continue
				}
				if fn.Kind != yamlx.Map {
					ld.fail(yamlx.Errorf(fn, "a vars file holds a mapping of variables, not %s", fn.KindName()))
					continue
				}
				p.VarsFiles = append(p.VarsFiles, fn.Plain().(map[string]any))
			}
		case "gather_facts":
			if b := ld.boolp(v); b != nil {
				p.GatherFacts = *b
			}
		case "serial":
			p.Serial = ld.serial(v)
		case "strategy":
			p.Strategy = v.String()
			if p.Strategy != "linear" && p.Strategy != "free" {
				ld.fail(yamlx.Errorf(v, "unknown strategy %q: use linear or free", p.Strategy))
			}
		case "roles", "pre_tasks", "tasks", "post_tasks", "handlers":
			// below, in order
		case "remote_user", "connection", "max_fail_percentage", "order", "collections", "module_defaults",
			"force_handlers", "gather_subset", "run_once":
			// accepted, no effect
		case "vars_prompt":
			ld.fail(yamlx.Errorf(k, "vars_prompt is not supported: pass the values with -e name=value"))
		default:
			if !ld.keyword(&p.Keywords, key, v) {
				ld.fail(unknownKey(k, "play", playKeys))
			}
		}
	}
	if n.Get("hosts") == nil {
		ld.fail(yamlx.Errorf(n, "a play needs hosts:"))
	}
	if rv := n.Get("roles"); rv != nil {
		if rv.Kind != yamlx.List {
			ld.fail(yamlx.Errorf(rv, "roles: takes a list of roles"))
		} else {
			for _, it := range rv.Items {
				ref := ld.parseRoleRef(it)
				if ref == nil {
					continue
				}
				r := ld.loadRoleRef(ref, base, it.Pos)
				if r == nil {
					continue
				}
				p.Tasks = append(p.Tasks, roleBlock(r, ref, it.Pos)...)
			}
		}
	}
	p.PreTasks = ld.taskList(n.Get("pre_tasks"), base, nil, false)
	p.Tasks = append(p.Tasks, ld.taskList(n.Get("tasks"), base, nil, false)...)
	p.PostTasks = ld.taskList(n.Get("post_tasks"), base, nil, false)
	p.Handlers = ld.taskList(n.Get("handlers"), base, nil, true)
	p.AllRoles = ld.playRoles
	for _, r := range ld.playRoles {
		p.Handlers = append(p.Handlers, r.Handlers...)
	}
	ld.checkNotify(p)
	return p
}

// roleBlock wraps a role's dependencies and tasks as static blocks that
// carry the role reference's keywords (when, tags, become…).
func roleBlock(r *Role, ref *roleRef, pos yamlx.Pos) []*Task {
	var out []*Task
	for _, d := range r.Deps {
		out = append(out, roleBlock(d, &roleRef{}, pos)...)
	}
	b := &Task{Pos: pos, Name: "role " + r.Name, Block: r.Tasks, Static: true, Role: r}
	if b.Block == nil {
		b.Block = []*Task{}
	}
	if ref != nil && ref.keywords != nil {
		ref.keywords(b)
	}
	return append(out, b)
}

type roleRef struct {
	name     string
	params   map[string]any
	pos      yamlx.Pos
	keywords func(*Task)
}

func (ld *Loader) parseRoleRef(n *yamlx.Node) *roleRef {
	switch n.Kind {
	case yamlx.Scalar:
		return &roleRef{name: n.String(), pos: n.Pos}
	case yamlx.Map:
		ref := &roleRef{pos: n.Pos, params: map[string]any{}}
		kw := &yamlx.Node{Kind: yamlx.Map, Pos: n.Pos}
		for i, k := range n.Keys {
			key := k.String()
			switch {
			case key == "role" || key == "name":
				ref.name = n.Vals[i].String()
			case key == "vars":
				for kk, vv := range ld.mapping(n.Vals[i], "vars") {
					ref.params[kk] = vv
				}
			case isTaskKeyword(key):
				kw.Keys = append(kw.Keys, k)
				kw.Vals = append(kw.Vals, n.Vals[i])
			default:
				ref.params[key] = n.Vals[i].Plain()
			}
		}
		if ref.name == "" {
			ld.fail(yamlx.Errorf(n, "a role entry needs role: NAME"))
			return nil
		}
		if len(kw.Keys) > 0 {
			ref.keywords = func(t *Task) {
				tmp := &Task{}
				ld.taskKeywords(tmp, kw, loc{})
				t.When, t.DelegateTo, t.Keywords = tmp.When, tmp.DelegateTo, tmp.Keywords
			}
		}
		return ref
	}
	ld.fail(yamlx.Errorf(n, "a role entry is a name or a mapping with role:, not %s", n.KindName()))
	return nil
}

// findRole finds the role called name; a collection-qualified name
// (ns.collection.role) is also looked for by its last part, the role's own
// name. It returns the role's location, its path and the name found.
func (ld *Loader) findRole(name string, from loc) (loc, string, string, error) {
	l, p, err := ld.findRoleNamed(name, from)
	if err == nil {
		return l, p, name, nil
	}
	if parts := strings.Split(name, "."); len(parts) >= 3 && !strings.ContainsAny(name, "/\\") {
		short := parts[len(parts)-1]
		if l, p, err2 := ld.findRoleNamed(short, from); err2 == nil {
			return l, p, short, nil
		}
	}
	return loc{}, "", "", err
}

func (ld *Loader) findRoleNamed(name string, from loc) (loc, string, error) {
	var tried []string
	if strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		// A path: beside the referencing file first, then (a name such as
		// postgres/config) under every roles folder, as Ansible does.
		p := name
		if !filepath.IsAbs(p) && from.ondisk != "" {
			p = filepath.Join(from.display(from.dir), p)
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return diskLoc(p), p, nil
		}
		if filepath.IsAbs(name) || strings.HasPrefix(name, ".") {
			return loc{}, "", fmt.Errorf("role %s not found at %s", name, p)
		}
		tried = append(tried, p)
	}
	var dirs []string
	if from.ondisk != "" && from.role == nil {
		dirs = append(dirs, filepath.Join(from.display(from.dir), "roles"))
	}
	if from.role != nil && from.role.OnDisk {
		dirs = append(dirs, filepath.Dir(from.role.Path))
	}
	if ld.pbDir != "" {
		dirs = append(dirs, filepath.Join(ld.pbDir, "roles"))
	}
	if from.role != nil && !from.role.OnDisk && ld.BuiltinRoles != nil {
		// A built-in role's dependencies are built-in roles first.
		if st, err := fs.Stat(ld.BuiltinRoles, name); err == nil && st.IsDir() {
			return loc{fsys: ld.BuiltinRoles, dir: name}, name, nil
		}
	}
	dirs = append(dirs, ld.RolePaths...)
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[d] {
			continue
		}
		seen[d] = true
		p := filepath.Join(d, name)
		tried = append(tried, p)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return diskLoc(p), p, nil
		}
	}
	if ld.BuiltinRoles != nil {
		if st, err := fs.Stat(ld.BuiltinRoles, name); err == nil && st.IsDir() {
			return loc{fsys: ld.BuiltinRoles, dir: name}, name, nil
		}
		tried = append(tried, "the built-in roles")
	}
	hint := ""
	if ld.BuiltinRoles != nil {
		if ents, err := fs.ReadDir(ld.BuiltinRoles, "."); err == nil {
			var roles []string
			for _, e := range ents {
				if e.IsDir() {
					roles = append(roles, e.Name())
				}
			}
			if best := Closest(name, roles, 3); best != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", best)
			}
		}
	}
	return loc{}, "", fmt.Errorf("role %q not found%s; looked in: %s", name, hint, strings.Join(tried, ", "))
}

func (ld *Loader) loadRoleRef(ref *roleRef, from loc, pos yamlx.Pos) *Role {
	return ld.loadRole(ref.name, ref.params, "main", "main", "main", "main", from, pos)
}

func (ld *Loader) loadRole(name string, params map[string]any, tasksFrom, varsFrom, defaultsFrom, handlersFrom string, from loc, pos yamlx.Pos) *Role {
	rl, rpath, name, err := ld.findRole(name, from)
	if err != nil {
		ld.fail(yamlx.At(pos, "%v", err))
		return nil
	}
	key := fmt.Sprintf("%s|%s|%s|%v", rpath, tasksFrom, varsFrom, canonical(params))
	if r, ok := ld.roleInsts[key]; ok {
		return r
	}
	if !ld.enter("role dependency cycle", "role "+rpath, pos) {
		return nil
	}
	defer ld.leave()

	r := &Role{Name: path.Base(strings.TrimSuffix(name, "/")), Path: rpath, FS: rl.fsys, OnDisk: rl.ondisk != "", Params: params}
	rl.role = r
	chain := fmt.Sprintf("in role %s, used at %s", r.Name, pos)
	readVars := func(sub, entry string) map[string]any {
		n, err := ld.readEntry(rl, sub, entry)
		if err != nil {
			ld.fail(yamlx.WithChain(err, chain))
			return nil
		}
		if n == nil || n.Kind == yamlx.Null {
			return nil
		}
		if n.Kind != yamlx.Map {
			ld.fail(yamlx.WithChain(yamlx.Errorf(n, "%s/%s holds a mapping of variables, not %s", sub, entry, n.KindName()), chain))
			return nil
		}
		return n.Plain().(map[string]any)
	}
	r.Defaults = readVars("defaults", defaultsFrom)
	r.Vars = readVars("vars", varsFrom)
	if meta, err := ld.readEntry(rl, "meta", "main"); err != nil {
		ld.fail(yamlx.WithChain(err, chain))
	} else if meta != nil && meta.Kind == yamlx.Map {
		if deps := meta.Get("dependencies"); deps != nil && deps.Kind == yamlx.List {
			for _, d := range deps.Items {
				ref := ld.parseRoleRef(d)
				if ref == nil {
					continue
				}
				if dr := ld.loadRole(ref.name, ref.params, "main", "main", "main", "main", rl, d.Pos); dr != nil {
					r.Deps = append(r.Deps, dr)
				}
			}
		}
	}
	tl := loc{fsys: rl.fsys, dir: path.Join(rl.dir, "tasks"), ondisk: rl.ondisk, role: r}
	if tn, err := ld.readEntry(rl, "tasks", tasksFrom); err != nil {
		ld.fail(yamlx.WithChain(err, chain))
	} else if tn != nil {
		r.Tasks = ld.taskListIn(tn, tl, r, false, chain)
	} else if tasksFrom != "main" {
		ld.fail(yamlx.At(pos, "role %s has no tasks/%s.yml", r.Name, tasksFrom))
	}
	hl := loc{fsys: rl.fsys, dir: path.Join(rl.dir, "handlers"), ondisk: rl.ondisk, role: r}
	if hn, err := ld.readEntry(rl, "handlers", handlersFrom); err != nil {
		ld.fail(yamlx.WithChain(err, chain))
	} else if hn != nil {
		r.Handlers = ld.taskListIn(hn, hl, r, true, chain)
	}
	if !isRole(rl) {
		ld.fail(yamlx.At(pos, "%s is not a role: it has no tasks/, handlers/, defaults/, vars/ or meta/ entry file", rpath))
		return nil
	}
	ld.roleInsts[key] = r
	ld.playRoles = append(ld.playRoles, r)
	return r
}

// isRole reports whether the folder at rl holds a role: an entry file
// (main.yml, main.yaml or main) in one of the folders a role reads.
func isRole(rl loc) bool {
	for _, sub := range []string{"tasks", "handlers", "defaults", "vars", "meta"} {
		ents, err := fs.ReadDir(rl.fsys, path.Join(rl.dir, sub))
		if err == nil && len(ents) > 0 {
			return true
		}
	}
	return false
}

// readEntry reads ROLE/sub/entry.yml (or .yaml, or no extension); nil when
// the role has none.
func (ld *Loader) readEntry(rl loc, sub, entry string) (*yamlx.Node, error) {
	for _, name := range []string{entry + ".yml", entry + ".yaml", entry} {
		p := path.Join(sub, name)
		if st, err := fs.Stat(rl.fsys, path.Join(rl.dir, p)); err == nil && !st.IsDir() {
			return ld.read(rl, p)
		}
	}
	return nil, nil
}

func (ld *Loader) taskListIn(n *yamlx.Node, l loc, r *Role, handlers bool, chain string) []*Task {
	before := len(ld.errs)
	ts := ld.taskList(n, l, r, handlers)
	for i := before; i < len(ld.errs); i++ {
		ld.errs[i] = yamlx.WithChain(ld.errs[i], chain)
	}
	return ts
}

// LoadTasks loads a task file (for include_tasks at run time).
func (ld *Loader) LoadTasks(file string, from *Task) ([]*Task, error) {
	ld.errs, ld.dropped = nil, 0
	if ld.roleInsts == nil {
		ld.roleInsts = map[string]*Role{}
	}
	var l loc
	var r *Role
	if from != nil {
		r = from.Role
	}
	l, p := ld.resolveInclude(file, from)
	n, err := ld.read(l, p)
	if err != nil {
		return nil, err
	}
	ld.loading = nil
	at := yamlx.Pos{File: l.display(path.Join(l.dir, p))}
	if from != nil {
		at = from.Pos
	}
	ld.enter("", l.display(path.Join(l.dir, p)), at)
	defer ld.leave()
	ts := ld.taskList(n, loc{fsys: l.fsys, dir: path.Dir(path.Join(l.dir, p)), ondisk: l.ondisk, role: r}, r, false)
	return ts, ld.result()
}

// resolveInclude finds an included task file relative to the including
// task's folder (and for role tasks, the role's tasks/ folder).
func (ld *Loader) resolveInclude(file string, from *Task) (loc, string) {
	if filepath.IsAbs(file) {
		return diskLoc(filepath.Dir(file)), filepath.Base(file)
	}
	if from == nil {
		return diskLoc("."), file
	}
	l := loc{fsys: from.FS, dir: from.Dir, role: from.Role}
	if from.Role != nil && from.Role.OnDisk || from.Role == nil {
		l.ondisk = "/"
	}
	return l, file
}

func (ld *Loader) taskList(n *yamlx.Node, l loc, r *Role, handlers bool) []*Task {
	if n == nil || n.Kind == yamlx.Null {
		return nil
	}
	if n.Kind != yamlx.List {
		ld.fail(yamlx.Errorf(n, "expected a list of tasks, not %s", n.KindName()))
		return nil
	}
	var out []*Task
	for _, tn := range n.Items {
		if t := ld.task(tn, l, r, handlers); t != nil {
			out = append(out, t)
		}
	}
	return out
}

var taskKeywords = []string{"name", "when", "loop", "loop_control", "register", "notify", "listen",
	"changed_when", "failed_when", "ignore_errors", "ignore_unreachable", "tags", "become", "become_user",
	"become_method", "delegate_to", "delegate_facts", "run_once", "retries", "until", "delay", "vars",
	"environment", "no_log", "check_mode", "diff", "args", "block", "rescue", "always", "any_errors_fatal",
	"throttle", "timeout", "remote_user", "connection", "debugger", "collections", "module_defaults"}

func isTaskKeyword(k string) bool {
	for _, x := range taskKeywords {
		if x == k {
			return true
		}
	}
	return false
}

// WithLoops are the with_* loops tpago runs as Ansible does: the value is
// the loop's, and the name says how it is turned into items.
var WithLoops = []string{"items", "list", "dict", "indexed_items", "together", "sequence", "subelements",
	"first_found", "nested"}

func withLoop(key string) (string, bool) {
	kind, ok := strings.CutPrefix(key, "with_")
	return kind, ok && slices.Contains(WithLoops, kind)
}

var unsupported = map[string]string{
	"with_fileglob": "not supported; list the files, or use find-like command with register",
	"local_action":  "use delegate_to: localhost with the module as usual",
	"async":         "async tasks are not supported: run the command in the foreground",
	"poll":          "async tasks are not supported: run the command in the foreground",
}

// Closest returns the candidate nearest to name by edit distance, if one
// is nearer than limit; ties go to the first by name, so that the
// suggestion is the same on every run.
func Closest(name string, candidates []string, limit int) string {
	best, bd := "", limit
	for _, c := range candidates {
		if d := module.Distance(name, c); d < bd || d == bd && best != "" && c < best {
			best, bd = c, d
		}
	}
	return best
}

func unknownKey(k *yamlx.Node, what string, known []string) error {
	key := k.String()
	best := Closest(key, known, 3)
	e := yamlx.Errorf(k, "unknown %s keyword %q", what, key)
	if best != "" {
		e.Hint = fmt.Sprintf("did you mean %s?", best)
	}
	return e
}

func canonical(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v;", k, m[k])
	}
	return b.String()
}

// ModulePrefixes are collection prefixes stripped from module names.
var ModulePrefixes = []string{"ansible.builtin.", "ansible.legacy.", "ansible.posix.", "community.general."}

func (ld *Loader) task(n *yamlx.Node, l loc, r *Role, handler bool) *Task {
	if n.Kind != yamlx.Map {
		ld.fail(yamlx.Errorf(n, "a task is a mapping, not %s", n.KindName()))
		return nil
	}
	t := &Task{Pos: n.Pos, Role: r, Handler: handler, Dir: l.dir, FS: l.fsys}
	var modKey *yamlx.Node
	var modVal *yamlx.Node
	var argsKw *yamlx.Node
	// A problem with one key is reported and the rest of the task is still
	// checked: every problem shows in one pass.
	bad := false
	for i, k := range n.Keys {
		key := k.String()
		if _, ok := withLoop(key); ok || isTaskKeyword(key) {
			if key == "args" {
				argsKw = n.Vals[i]
			}
			continue
		}
		if hint, ok := unsupported[key]; ok {
			e := yamlx.Errorf(k, "%s is not supported", key)
			e.Hint = hint
			ld.fail(e)
			bad = true
			continue
		}
		name := key
		for _, p := range ModulePrefixes {
			name = strings.TrimPrefix(name, p)
		}
		if modKey != nil {
			if _, _, ok := module.Lookup(name); ok || isIncludeKey(name) || name == "action" {
				ld.fail(yamlx.Errorf(k, "a task runs one module: found both %s (line %d) and %s", modKey.String(), modKey.Pos.Line, key))
			} else {
				ld.fail(unknownKey(k, "task", taskKeywords))
			}
			bad = true
			continue
		}
		modKey, modVal = k, n.Vals[i]
		if name == "action" {
			if modKey, modVal = ld.action(n.Vals[i]); modKey == nil {
				bad = true
			}
		}
	}
	ld.taskKeywords(t, n, l)
	if bad && modKey == nil {
		return nil
	}
	if b := n.Get("block"); b != nil {
		if modKey != nil {
			ld.fail(yamlx.Errorf(modKey, "a block cannot also run a module (%s)", modKey.String()))
			return nil
		}
		t.Block = ld.taskList(b, l, r, handler)
		if t.Block == nil {
			t.Block = []*Task{}
		}
		t.Rescue = ld.taskList(n.Get("rescue"), l, r, handler)
		t.Always = ld.taskList(n.Get("always"), l, r, handler)
		return t
	}
	for _, k := range []string{"rescue", "always"} {
		if kn := n.KeyNode(k); kn != nil {
			ld.fail(yamlx.Errorf(kn, "%s: belongs to a block: (this task has no block:)", k))
		}
	}
	if modKey == nil {
		ld.fail(yamlx.Errorf(n, "this task runs no module (keys: %s)", strings.Join(keysOf(n), ", ")))
		return nil
	}
	name := modKey.String()
	for _, p := range ModulePrefixes {
		name = strings.TrimPrefix(name, p)
	}
	if isIncludeKey(name) {
		ld.include(t, name, modKey, modVal, l, r)
		return t
	}
	if name == "meta" {
		t.Module = "meta"
		t.Args = map[string]any{"_raw_params": modVal.String()}
		switch modVal.String() {
		case "flush_handlers", "noop", "end_play", "end_host", "clear_host_errors", "refresh_inventory", "clear_facts", "end_batch":
		default:
			ld.fail(yamlx.Errorf(modVal, "unknown meta action %q (flush_handlers, end_play, end_host, noop…)", modVal.String()))
		}
		return t
	}
	_, spec, ok := module.Lookup(name)
	if !ok {
		best := Closest(name, module.Names(), 3)
		e := yamlx.Errorf(modKey, "unknown module or keyword %q", modKey.String())
		if best != "" {
			e.Hint = fmt.Sprintf("did you mean %s? (`tpago modules` lists them all)", best)
		} else {
			e.Hint = "`tpago modules` lists the modules"
		}
		ld.fail(e)
		return nil
	}
	t.Module = spec.Name
	t.Spec = spec
	t.Args, t.ArgPos = ld.moduleArgs(spec, modKey, modVal)
	if argsKw != nil && t.Args != nil {
		if argsKw.Kind != yamlx.Map {
			ld.fail(yamlx.Errorf(argsKw, "args: takes a mapping"))
		} else {
			for i, k := range argsKw.Keys {
				t.Args[k.String()] = argsKw.Vals[i].Plain()
				t.ArgPos[k.String()] = k.Pos
			}
		}
	}
	if t.Args == nil {
		return nil
	}
	if t.Module == "set_fact" {
		for _, k := range slices.Sorted(maps.Keys(t.Args)) {
			if k != "cacheable" && !IsIdentifier(k) && !expr.HasTemplate(k) {
				ld.fail(yamlx.At(t.ArgPos[k], "set_fact: %q is not a variable name (letters, digits and _, not starting with a digit)", k))
			}
		}
	}
	for _, e := range spec.CheckStatic(t.Args) {
		p := modKey.Pos
		if pp, ok := t.ArgPos[e.Key]; ok {
			p = pp
		}
		ld.fail(yamlx.At(p, "%s: %s", spec.Name, e.Error()))
	}
	ld.checkArgTemplates(t)
	if bad {
		return nil
	}
	return t
}

// action reads the action: form of a task ("action: copy src=a dest=b",
// or a mapping with module:) as the module's key and arguments; nil after
// a problem.
func (ld *Loader) action(v *yamlx.Node) (key, args *yamlx.Node) {
	switch v.Kind {
	case yamlx.Scalar:
		text := strings.TrimSpace(v.String())
		name, rest, _ := strings.Cut(text, " ")
		if name == "" {
			break
		}
		key = &yamlx.Node{Kind: yamlx.Scalar, Pos: v.Pos, Value: name}
		args = &yamlx.Node{Kind: yamlx.Null, Pos: v.Pos}
		if rest = strings.TrimSpace(rest); rest != "" {
			args = &yamlx.Node{Kind: yamlx.Scalar, Pos: v.Pos, Value: rest}
		}
		return key, args
	case yamlx.Map:
		args = &yamlx.Node{Kind: yamlx.Map, Pos: v.Pos}
		for i, k := range v.Keys {
			if k.String() == "module" {
				key = &yamlx.Node{Kind: yamlx.Scalar, Pos: v.Vals[i].Pos, Value: v.Vals[i].String()}
				continue
			}
			args.Keys = append(args.Keys, k)
			args.Vals = append(args.Vals, v.Vals[i])
		}
		if key != nil {
			return key, args
		}
	}
	ld.fail(yamlx.Errorf(v, "action: takes \"MODULE ARGS\" or a mapping with module: MODULE"))
	return nil, nil
}

// freeFormMap reads "k=v k2=v2" text, as include_role and include_tasks
// also take, as a mapping node; other nodes are returned as they are.
func (ld *Loader) freeFormMap(v *yamlx.Node, kind string) *yamlx.Node {
	if v.Kind != yamlx.Scalar || !strings.Contains(v.String(), "=") {
		return v
	}
	words, err := splitWords(v.String())
	if err != nil {
		ld.fail(yamlx.Errorf(v, "%s: %v", kind, err))
		return v
	}
	m := &yamlx.Node{Kind: yamlx.Map, Pos: v.Pos}
	for _, w := range words {
		k, val, ok := strings.Cut(w.unquoted, "=")
		if !ok || w.quotedKey {
			if kind == "include_tasks" || kind == "import_tasks" || kind == "include" {
				return v // a file name with = in it
			}
			ld.fail(yamlx.Errorf(v, "%s: %q is not key=value", kind, w.raw))
			continue
		}
		m.Keys = append(m.Keys, &yamlx.Node{Kind: yamlx.Scalar, Pos: v.Pos, Value: k})
		m.Vals = append(m.Vals, &yamlx.Node{Kind: yamlx.Scalar, Pos: v.Pos, Value: val})
	}
	return m
}

func keysOf(n *yamlx.Node) []string {
	var ks []string
	for _, k := range n.Keys {
		ks = append(ks, k.String())
	}
	return ks
}

func isIncludeKey(k string) bool {
	switch k {
	case "include_tasks", "import_tasks", "include_role", "import_role", "include":
		return true
	}
	return false
}

func (ld *Loader) checkArgTemplates(t *Task) {
	for k, v := range t.Args {
		if a, ok := t.Spec.Arg(k); ok && a.Type == module.Expr {
			for _, e := range exprList(v) {
				if err := expr.Check(e); err != nil {
					ld.fail(yamlx.At(t.ArgPos[k], "%s: argument %s: %v", t.Module, k, err))
				}
			}
			continue
		}
		WalkStrings(v, func(s string) {
			if expr.HasTemplate(s) {
				if err := expr.CheckTemplate(s); err != nil {
					ld.fail(yamlx.At(t.ArgPos[k], "%s: argument %s: %v", t.Module, k, err))
				}
			}
		})
	}
}

func exprList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, it := range x {
			out = append(out, fmt.Sprint(it))
		}
		return out
	case bool:
		return []string{fmt.Sprint(x)}
	}
	return nil
}

// WalkStrings calls f on every string inside v (lists and maps nested,
// map keys in sorted order, so that reports come out in a stable order).
func WalkStrings(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case []any:
		for _, it := range x {
			WalkStrings(it, f)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			WalkStrings(x[k], f)
		}
	}
}

func (ld *Loader) moduleArgs(spec module.Spec, k, v *yamlx.Node) (map[string]any, map[string]yamlx.Pos) {
	args := map[string]any{}
	pos := map[string]yamlx.Pos{}
	switch v.Kind {
	case yamlx.Null:
	case yamlx.Map:
		for i, ak := range v.Keys {
			args[ak.String()] = v.Vals[i].Plain()
			pos[ak.String()] = ak.Pos
		}
	case yamlx.Scalar:
		s := v.String()
		kv, rest, err := SplitArgs(s, spec)
		if err != nil {
			ld.fail(yamlx.Errorf(v, "%s: %v", spec.Name, err))
			return nil, nil
		}
		for kk, vv := range kv {
			args[kk] = vv
			pos[kk] = v.Pos
		}
		if rest != "" {
			if spec.FreeForm == "" {
				ld.fail(yamlx.Errorf(v, "%s takes key=value arguments or a mapping, not free text %q", spec.Name, rest))
				return nil, nil
			}
			args[spec.FreeForm] = rest
			pos[spec.FreeForm] = v.Pos
		}
	default:
		ld.fail(yamlx.Errorf(v, "%s: arguments are a mapping or key=value text, not %s", spec.Name, v.KindName()))
		return nil, nil
	}
	return args, pos
}

// SplitArgs splits `k=v k2="v 2" free text` into the known key=value
// arguments of spec and, for free-form modules, the remaining text.
func SplitArgs(s string, spec module.Spec) (map[string]any, string, error) {
	words, err := splitWords(s)
	if err != nil {
		return nil, "", err
	}
	kv := map[string]any{}
	// The free text keeps its own spacing and newlines (a multi-line
	// shell script stays one); only the key=value words are cut out.
	var rest strings.Builder
	last := 0
	for _, w := range words {
		k, v, ok := strings.Cut(w.unquoted, "=")
		if ok && !w.quotedKey {
			_, known := spec.Arg(k)
			if known || spec.FreeForm == "" {
				kv[k] = v
				rest.WriteString(s[last:w.start])
				last = w.end
			}
		}
	}
	rest.WriteString(s[last:])
	return kv, strings.TrimSpace(rest.String()), nil
}

type word struct {
	raw, unquoted string
	quotedKey     bool
	start, end    int
}

func splitWords(s string) ([]word, error) {
	var out []word
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		if i >= len(s) {
			break
		}
		start := i
		var un strings.Builder
		var q byte
		quotedKey := false
		sawEq := false
		for i < len(s) {
			c := s[i]
			if q != 0 {
				if c == q {
					q = 0
				} else if c == '\\' && q == '"' && i+1 < len(s) {
					i++
					un.WriteByte(s[i])
				} else {
					un.WriteByte(c)
				}
				i++
				continue
			}
			if c == '{' && i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '%') {
				// A template stays one word, spaces and all.
				end := strings.Index(s[i+2:], map[byte]string{'{': "}}", '%': "%}"}[s[i+1]])
				if end >= 0 {
					un.WriteString(s[i : i+2+end+2])
					i += 2 + end + 2
					continue
				}
			}
			if c == ' ' || c == '\t' || c == '\n' {
				break
			}
			if c == '"' || c == '\'' {
				if !sawEq {
					quotedKey = true
				}
				q = c
				i++
				continue
			}
			if c == '=' {
				sawEq = true
			}
			un.WriteByte(c)
			i++
		}
		if q != 0 {
			return nil, fmt.Errorf("unterminated quote in %q", s)
		}
		out = append(out, word{raw: s[start:i], unquoted: un.String(), quotedKey: quotedKey, start: start, end: i})
	}
	return out, nil
}

func (ld *Loader) include(t *Task, kind string, k, v *yamlx.Node, l loc, r *Role) {
	v = ld.freeFormMap(v, kind)
	switch kind {
	case "include", "include_tasks", "import_tasks":
		file := ""
		params := map[string]any{}
		if v.Kind == yamlx.Map {
			for i, ak := range v.Keys {
				switch ak.String() {
				case "file", "_raw_params":
					file = v.Vals[i].String()
				case "apply":
					// keywords for included tasks; limited support
				default:
					ld.fail(yamlx.Errorf(ak, "%s takes file: (and apply:), not %s", kind, ak.String()))
				}
			}
		} else {
			file = v.String()
		}
		if file == "" {
			ld.fail(yamlx.Errorf(v, "%s needs a file name", kind))
			return
		}
		for kk, vv := range t.Vars {
			params[kk] = vv
		}
		if kind == "import_tasks" {
			if expr.HasTemplate(file) {
				ld.fail(yamlx.Errorf(v, "import_tasks is static: its file name cannot hold a template (use include_tasks)"))
				return
			}
			il, ip := ld.resolveInclude(file, t)
			n, err := ld.read(il, ip)
			if err != nil {
				ld.fail(yamlx.At(v.Pos, "import_tasks: %v", err))
				return
			}
			if !ld.enter("import_tasks loop", il.display(path.Join(il.dir, ip)), v.Pos) {
				return
			}
			defer ld.leave()
			t.Block = ld.taskListIn(n, loc{fsys: il.fsys, dir: path.Dir(path.Join(il.dir, ip)), ondisk: il.ondisk, role: r}, r, t.Handler, "imported from "+v.Pos.String())
			if t.Block == nil {
				t.Block = []*Task{}
			}
			t.Static = true
			t.Name = "import_tasks " + file
			return
		}
		t.Include = &Include{Kind: "tasks", File: file, Params: params}
		if !expr.HasTemplate(file) {
			il, ip := ld.resolveInclude(file, t)
			n, err := ld.read(il, ip)
			if err != nil {
				if len(t.When) == 0 {
					ld.fail(yamlx.At(v.Pos, "include_tasks: %v", err))
				}
				return
			}
			if !ld.enter(kind+" loop", il.display(path.Join(il.dir, ip)), v.Pos) {
				return
			}
			defer ld.leave()
			tasks := ld.taskListIn(n, loc{fsys: il.fsys, dir: path.Dir(path.Join(il.dir, ip)), ondisk: il.ondisk, role: r}, r, t.Handler, "included from "+v.Pos.String())
			if tasks == nil {
				tasks = []*Task{}
			}
			t.Include.Loaded = tasks
		}
	case "include_role", "import_role":
		if v.Kind != yamlx.Map {
			ld.fail(yamlx.Errorf(v, "%s takes a mapping with name:", kind))
			return
		}
		inc := &Include{Kind: "role", Params: map[string]any{}, TasksFrom: "main", VarsFrom: "main", DefaultsFrom: "main", HandlersFrom: "main"}
		for i, ak := range v.Keys {
			val := v.Vals[i].String()
			switch ak.String() {
			case "name", "role":
				inc.RoleName = val
			case "tasks_from":
				inc.TasksFrom = strings.TrimSuffix(strings.TrimSuffix(val, ".yml"), ".yaml")
			case "vars_from":
				inc.VarsFrom = strings.TrimSuffix(strings.TrimSuffix(val, ".yml"), ".yaml")
			case "defaults_from":
				inc.DefaultsFrom = strings.TrimSuffix(strings.TrimSuffix(val, ".yml"), ".yaml")
			case "handlers_from":
				inc.HandlersFrom = strings.TrimSuffix(strings.TrimSuffix(val, ".yml"), ".yaml")
			case "public", "allow_duplicates", "rolespec_validate":
				b, _ := module.ParseBool(v.Vals[i].Plain())
				if ak.String() == "public" {
					inc.Public = b
				}
			case "apply":
			default:
				ld.fail(yamlx.Errorf(ak, "%s: unknown argument %s (name, tasks_from, vars_from, defaults_from, handlers_from, public, apply)", kind, ak.String()))
			}
		}
		if inc.RoleName == "" {
			ld.fail(yamlx.Errorf(v, "%s needs name:", kind))
			return
		}
		for kk, vv := range t.Vars {
			inc.Params[kk] = vv
		}
		ro := ld.loadRole(inc.RoleName, inc.Params, inc.TasksFrom, inc.VarsFrom, inc.DefaultsFrom, inc.HandlersFrom, l, v.Pos)
		if ro == nil {
			return
		}
		if kind == "import_role" {
			blocks := roleBlock(ro, nil, v.Pos)
			t.Block = blocks
			t.Static = true
			t.Name = "import_role " + ro.Name
			return
		}
		inc.LoadedRole = ro
		t.Include = inc
	}
}

func (ld *Loader) taskKeywords(t *Task, n *yamlx.Node, l loc) {
	for i, k := range n.Keys {
		v := n.Vals[i]
		if ld.keyword(&t.Keywords, k.String(), v) {
			continue
		}
		if kind, ok := withLoop(k.String()); ok {
			if t.HasLoop {
				ld.fail(yamlx.Errorf(k, "a task has one loop: %s is the second", k.String()))
			}
			t.Loop, t.HasLoop, t.LoopWith = v.Plain(), true, kind
			ld.checkLoopTemplates(v)
			continue
		}
		switch k.String() {
		case "name":
			t.Name = v.String()
		case "when":
			t.When = ld.conds(v)
		case "loop":
			if t.HasLoop {
				ld.fail(yamlx.Errorf(k, "a task has one loop: loop: and with_%s: are both here", t.LoopWith))
			}
			t.Loop = v.Plain()
			t.HasLoop = true
			if s, ok := t.Loop.(string); ok {
				if err := expr.CheckTemplate(s); err != nil {
					ld.fail(yamlx.Errorf(v, "loop: %v", err))
				}
			}
		case "loop_control":
			if v.Kind != yamlx.Map {
				ld.fail(yamlx.Errorf(v, "loop_control takes a mapping"))
				continue
			}
			for j, lk := range v.Keys {
				switch lk.String() {
				case "loop_var":
					t.LoopVar = v.Vals[j].String()
				case "label":
					t.LoopLabel = v.Vals[j].String()
				case "index_var":
					t.IndexVar = v.Vals[j].String()
				case "pause", "extended", "extended_allitems":
				default:
					ld.fail(unknownKey(lk, "loop_control", []string{"loop_var", "label", "index_var", "pause", "extended"}))
				}
			}
		case "register":
			t.Register = v.String()
			if !IsIdentifier(t.Register) {
				ld.fail(yamlx.Errorf(v, "register: %q is not a variable name (letters, digits and _, not starting with a digit)", t.Register))
			}
		case "notify":
			t.Notify = ld.strings(v)
		case "listen":
			t.Listen = ld.strings(v)
		case "changed_when":
			t.ChangedWhen = ld.conds(v)
			t.HasChanged = true
		case "failed_when":
			t.FailedWhen = ld.conds(v)
			t.HasFailed = true
		case "until":
			t.Until = ld.conds(v)
			if !t.HasRetries {
				t.Retries = 3
			}
		case "delegate_to":
			t.DelegateTo = v.String()
		case "delegate_facts":
			if b := ld.boolp(v); b != nil {
				t.DelegateFacts = *b
			}
		case "run_once":
			if b := ld.boolp(v); b != nil {
				t.RunOnce = *b
			}
		case "retries":
			t.Retries = ld.countOrTemplate(v, "retries")
			t.HasRetries = true
		case "delay":
			t.Delay = ld.countOrTemplate(v, "delay")
		case "timeout":
			t.Timeout = ld.count(v, "timeout")
		case "vars":
			t.Vars = ld.mapping(v, "vars")
		}
	}
}

// keyword decodes one of the keywords plays, blocks and tasks share into
// kw; false when key is not one of them.
func (ld *Loader) keyword(kw *Keywords, key string, v *yamlx.Node) bool {
	switch key {
	case "become":
		kw.Become = ld.flag(v, "become")
	case "become_user":
		kw.BecomeUser = v.String()
	case "become_method":
		if v.String() != "sudo" {
			ld.fail(yamlx.Errorf(v, "become_method %q is not supported: tpago escalates with sudo", v.String()))
		}
	case "no_log":
		kw.NoLog = ld.flag(v, "no_log")
	case "ignore_errors":
		kw.IgnoreErrors = ld.flag(v, "ignore_errors")
	case "check_mode":
		kw.CheckMode = ld.boolp(v)
	case "diff":
		kw.Diff = ld.boolp(v)
	case "ignore_unreachable":
		kw.IgnoreUnreach = ld.boolp(v)
	case "any_errors_fatal":
		kw.AnyErrorsFatal = ld.boolp(v)
	case "tags":
		kw.Tags = ld.strings(v)
	case "environment":
		if s, ok := v.Plain().(string); ok && expr.HasTemplate(s) {
			ld.checkTemplate(v, "environment")
			kw.Environment = s
		} else if m := ld.mapping(v, "environment"); m != nil {
			kw.Environment = m
		}
	default:
		return false
	}
	return true
}

// flag reads a keyword that is true or false, or a template decided per
// host at run time.
func (ld *Loader) flag(v *yamlx.Node, what string) any {
	if s, ok := v.Plain().(string); ok && expr.HasTemplate(s) {
		ld.checkTemplate(v, what)
		return s
	}
	if b := ld.boolp(v); b != nil {
		return *b
	}
	return nil
}

// countOrTemplate reads a whole number of 0 or more, or a template
// checked at run time.
func (ld *Loader) countOrTemplate(v *yamlx.Node, what string) any {
	if s, ok := v.Plain().(string); ok && expr.HasTemplate(s) {
		ld.checkTemplate(v, what)
		return s
	}
	return ld.count(v, what)
}

// checkLoopTemplates checks the templates in a with_* loop's value.
func (ld *Loader) checkLoopTemplates(v *yamlx.Node) {
	WalkStrings(v.Plain(), func(s string) {
		if expr.HasTemplate(s) {
			if err := expr.CheckTemplate(s); err != nil {
				ld.fail(yamlx.Errorf(v, "loop: %v", err))
			}
		}
	})
}

func (ld *Loader) checkTemplate(v *yamlx.Node, what string) {
	if err := expr.CheckTemplate(v.String()); err != nil {
		ld.fail(yamlx.Errorf(v, "%s: %v", what, err))
	}
}

func (ld *Loader) conds(v *yamlx.Node) []Cond {
	var out []Cond
	add := func(n *yamlx.Node) {
		s := n.String()
		if n.Kind == yamlx.Scalar {
			if b, ok := n.Value.(bool); ok {
				s = fmt.Sprint(b)
			}
		}
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1 {
			s = strings.TrimSpace(s[2 : len(s)-2])
		}
		if s == "" {
			ld.fail(yamlx.Errorf(n, "empty condition"))
			return
		}
		if err := expr.Check(s); err != nil {
			ld.fail(yamlx.Errorf(n, "condition: %v", err))
			return
		}
		out = append(out, Cond{Expr: s, Pos: n.Pos})
	}
	if v.Kind == yamlx.List {
		for _, it := range v.Items {
			add(it)
		}
	} else {
		add(v)
	}
	return out
}

func (ld *Loader) strings(v *yamlx.Node) []string {
	switch v.Kind {
	case yamlx.Null:
		return nil
	case yamlx.List:
		var out []string
		for _, it := range v.Items {
			out = append(out, it.String())
		}
		return out
	case yamlx.Scalar:
		var out []string
		for _, p := range strings.Split(v.String(), ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	ld.fail(yamlx.Errorf(v, "expected a list of names, not %s", v.KindName()))
	return nil
}

func (ld *Loader) mapping(v *yamlx.Node, what string) map[string]any {
	if v.Kind == yamlx.Null {
		return nil
	}
	if v.Kind != yamlx.Map {
		ld.fail(yamlx.Errorf(v, "%s: takes a mapping, not %s", what, v.KindName()))
		return nil
	}
	return v.Plain().(map[string]any)
}

func (ld *Loader) boolp(v *yamlx.Node) *bool {
	if module.IsTemplated(v.Plain()) {
		ld.fail(yamlx.Errorf(v, "this keyword takes true or false, not a template"))
		return nil
	}
	b, err := module.ParseBool(v.Plain())
	if err != nil {
		ld.fail(yamlx.Errorf(v, "%v", err))
		return nil
	}
	return &b
}

// IsIdentifier reports whether s can name a variable.
func IsIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c != '_' && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// count reads a keyword that takes a whole number of zero or more.
func (ld *Loader) count(v *yamlx.Node, what string) int {
	n := ld.intv(v)
	if n < 0 {
		ld.fail(yamlx.Errorf(v, "%s: takes a whole number of 0 or more, not %d", what, n))
		return 0
	}
	return n
}

// serial reads a play's serial: batch sizes, each a number of hosts above 0
// or a percentage ("30%"); templated sizes are checked at run time.
func (ld *Loader) serial(v *yamlx.Node) []any {
	items := []*yamlx.Node{v}
	if v.Kind == yamlx.List {
		items = v.Items
	}
	var out []any
	for _, it := range items {
		x := it.Plain()
		ok := false
		switch n := x.(type) {
		case int:
			ok = n > 0
		case float64:
			ok = n >= 1
		case string:
			f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(n), "%"), 64)
			ok = err == nil && f > 0 || expr.HasTemplate(n)
		}
		if !ok {
			ld.fail(yamlx.Errorf(it, "serial: takes a number of hosts above 0 or a percentage such as 30%%, not %q", it.String()))
			continue
		}
		out = append(out, x)
	}
	return out
}

func (ld *Loader) intv(v *yamlx.Node) int {
	a := module.Arg{Type: module.Int}
	n, err := module.Spec{Args: []module.Arg{{Name: "x", Type: module.Int}}}.Normalize(map[string]any{"x": v.Plain()})
	_ = a
	if err != nil {
		ld.fail(yamlx.Errorf(v, "expected a whole number, not %q", v.String()))
		return 0
	}
	return n.Int("x")
}

// checkNotify reports notify: names that no handler has or listens to, and
// handlers that notify one another in a cycle (they would never end).
func (ld *Loader) checkNotify(p *Play) {
	names := HandlerNames(p.Handlers)
	for _, ts := range [][]*Task{p.PreTasks, p.Tasks, p.PostTasks, p.Handlers} {
		for _, e := range UnknownNotifies(ts, names) {
			ld.fail(e)
		}
	}
	ld.checkHandlerCycles(p.Handlers)
}

// UnknownNotifies reports, at their task, the notify: names of ts (and of
// the tasks inside them) that are not in names (see HandlerNames).
// Templated names are only known at run time and are not checked.
func UnknownNotifies(ts []*Task, names []string) []*yamlx.Error {
	var errs []*yamlx.Error
	for t := range Walk(ts) {
		for _, n := range t.Notify {
			if slices.Contains(names, n) || expr.HasTemplate(n) {
				continue
			}
			e := yamlx.At(t.Pos, "notify: no handler named or listening to %q", n)
			if best := Closest(n, names, 4); best != "" {
				e.Hint = fmt.Sprintf("did you mean %q?", best)
			}
			errs = append(errs, e)
		}
	}
	return errs
}

// HandlerMatches reports whether notifying name runs handler hd: its name,
// its role-qualified name ("role : name"), or one of its listen topics.
func HandlerMatches(hd *Task, name string) bool {
	if hd.Name == name || (hd.Role != nil && hd.Role.Name+" : "+hd.Name == name) {
		return true
	}
	for _, l := range hd.Listen {
		if l == name {
			return true
		}
	}
	return false
}

// checkHandlerCycles reports handlers that notify one another in a circle:
// each run of one would notify the next, for ever.
func (ld *Loader) checkHandlerCycles(handlers []*Task) {
	type edge struct {
		to  int
		pos yamlx.Pos
	}
	next := make([][]edge, len(handlers))
	for i, h := range handlers {
		for t := range Walk([]*Task{h}) {
			for _, n := range t.Notify {
				for j, o := range handlers {
					if HandlerMatches(o, n) {
						next[i] = append(next[i], edge{j, t.Pos})
					}
				}
			}
		}
	}
	const (
		unseen = iota
		open
		done
	)
	state := make([]int, len(handlers))
	var path []int
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = open
		path = append(path, i)
		for _, e := range next[i] {
			if state[e.to] == open {
				var names []string
				for k := slices.Index(path, e.to); k < len(path); k++ {
					names = append(names, handlers[path[k]].Label())
				}
				names = append(names, handlers[e.to].Label())
				err := yamlx.At(e.pos, "handlers notify one another in a cycle: %s", strings.Join(names, " → "))
				err.Hint = "each run would notify the next for ever; break the cycle"
				ld.fail(err)
				return true
			}
			if state[e.to] == unseen && visit(e.to) {
				return true
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return false
	}
	for i := range handlers {
		if state[i] == unseen && visit(i) {
			return
		}
	}
}

package playbook

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/yamlx"
)

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
	pb, err := ld.loadPlaybook(file, data)
	if err != nil {
		// A playbook that does not load is bad input (exit status 2).
		return nil, exitcode.Bad(err)
	}
	return pb, nil
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
			err = yamlx.At(sub.Pos, "import_playbook: %s not found", rel)
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
		for _, e := range splitErrors(err) {
			ld.fail(yamlx.WithChain(e, "imported from "+sub.Pos.String()))
		}
		return nil
	}
	return ipb
}

var playKeys = []string{"name", "hosts", "vars", "vars_files", "roles", "pre_tasks", "tasks", "post_tasks",
	"handlers", "become", "become_user", "become_method", "gather_facts", "serial", "strategy", "any_errors_fatal",
	"ignore_unreachable", "tags", "environment", "check_mode", "diff", "no_log", "remote_user", "connection",
	"max_fail_percentage", "order", "collections", "vars_prompt", "module_defaults", "ignore_errors", "force_handlers",
	"gather_subset", "run_once", "throttle", "debugger"}

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
			"force_handlers", "gather_subset", "run_once", "throttle", "debugger":
			// accepted, no effect
		default:
			if hint, ok := Unsupported("play", key); ok {
				ld.fail(yamlx.Errorf(k, "%s is not supported: %s", key, hint))
			} else if !ld.keyword(&p.Keywords, key, v) {
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
			seen := map[*Role]bool{}
			for _, it := range rv.Items {
				ref := ld.parseRoleRef(it)
				if ref == nil {
					continue
				}
				r := ld.loadRoleRef(ref, base, it.Pos)
				if r == nil {
					continue
				}
				p.Tasks = append(p.Tasks, roleBlock(r, ref, it.Pos, seen)...)
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

package playbook

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/yamlx"
)

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

func isIncludeKey(k string) bool {
	switch k {
	case "include_tasks", "import_tasks", "include_role", "import_role", "include":
		return true
	}
	return false
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
			blocks := roleBlock(ro, nil, v.Pos, nil)
			t.Block = blocks
			t.Static = true
			t.Name = "import_role " + ro.Name
			return
		}
		inc.LoadedRole = ro
		t.Include = inc
	}
}

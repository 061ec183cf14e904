package playbook

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/yamlx"
)

// roleBlock wraps a role's dependencies and tasks as static blocks that
// carry the role reference's keywords (when, tags, become…).
//
// seen (nil for include_role and import_role, which always run the role)
// holds the roles a play's roles: list has already placed: as in Ansible,
// a role that a play lists, or depends on, more than once with the same
// parameters runs once, unless its meta says allow_duplicates: true. An
// entry with keywords of its own (when, tags…) is another use of the role
// and runs again.
func roleBlock(r *Role, ref *roleRef, pos yamlx.Pos, seen map[*Role]bool) []*Task {
	if seen != nil && (ref == nil || ref.keywords == nil) {
		if seen[r] && !r.AllowDuplicates {
			return nil
		}
		seen[r] = true
	}
	var out []*Task
	for _, d := range r.Deps {
		out = append(out, roleBlock(d, &roleRef{}, pos, seen)...)
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
		if ad := meta.Get("allow_duplicates"); ad != nil {
			b, err := module.ParseBool(ad.Plain())
			if err != nil {
				ld.fail(yamlx.WithChain(yamlx.Errorf(ad, "allow_duplicates takes true or false: %v", err), chain))
			}
			r.AllowDuplicates = b
		}
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

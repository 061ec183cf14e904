package validate

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/yamlx"
)

// collectIncludeVars defines the variables an include_vars task reads. A
// file named as it is gives its own names; a templated name or a loop
// (with_first_found over per-OS files) may read any vars file of the
// role's vars/ folder or the playbook's, so the names of all of them are
// taken as defined; dir: gives every file of the folder.
func (a *analyzer) collectIncludeVars(t *playbook.Task) {
	if name, ok := t.Args["name"].(string); ok {
		if !expr.HasTemplate(name) {
			a.defined[name] = true
			return
		}
	}
	file, _ := t.Args["file"].(string)
	if file == "" {
		file, _ = t.Args["_raw_params"].(string)
	}
	if dir, ok := t.Args["dir"].(string); ok && !expr.HasTemplate(dir) {
		a.addVarsFolder(dir, t.Role)
		return
	}
	if file != "" && !expr.HasTemplate(file) && !t.HasLoop {
		if data, name, ok, _ := a.findFile("vars", file, t.Role); ok && data != nil {
			a.addVarsData(name, data)
		}
		return
	}
	a.addVarsFolder(".", t.Role)
}

// addVarsFolder defines the names of every vars file in the folder dir
// (relative: of the role's vars/ folder and of the playbook's vars/).
func (a *analyzer) addVarsFolder(dir string, r *playbook.Role) {
	var fsys fs.FS
	var roots []string
	if filepath.IsAbs(dir) {
		a.addVarsTree(os.DirFS(dir), ".")
		return
	}
	// As the executor looks: in vars/, then (for a folder named) at the top.
	subs := []string{path.Join("vars", dir)}
	if dir != "." {
		subs = append(subs, path.Clean(dir))
	}
	if r != nil {
		fsys = r.FS
		if r.OnDisk {
			fsys = os.DirFS(r.Path)
		}
		for _, s := range subs {
			if r.OnDisk {
				roots = append(roots, s)
			} else {
				roots = append(roots, path.Join(r.Path, s))
			}
		}
		for _, root := range roots {
			a.addVarsTree(fsys, root)
		}
	}
	if a.pbDir != "" {
		for _, s := range subs {
			a.addVarsTree(os.DirFS(a.pbDir), s)
		}
	}
}

// addVarsTree reads the vars files under root in fsys (at most a few
// hundred: a vars folder, not a file system).
func (a *analyzer) addVarsTree(fsys fs.FS, root string) {
	n := 0
	_ = fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || n > 500 {
			return fs.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		ext := path.Ext(p)
		if ext != ".yml" && ext != ".yaml" && ext != ".json" {
			return nil
		}
		n++
		if data, err := fs.ReadFile(fsys, p); err == nil {
			a.addVarsData(p, data)
		}
		return nil
	})
}

// addVarsData defines the top-level names of a vars file's mapping.
func (a *analyzer) addVarsData(name string, data []byte) {
	nd, err := yamlx.ParseOne(name, data)
	if err != nil || nd.Kind != yamlx.Map {
		return
	}
	for _, k := range nd.Keys {
		if s := k.String(); s != "" && !strings.ContainsAny(s, " {}") {
			a.defined[s] = true
		}
	}
}

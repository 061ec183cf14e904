package modules

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/yamlx"
)

func init() {
	module.Register(&IncludeVars{})
}

// IncludeVars reads variables from YAML (or JSON) files on the control
// machine into the host's variables.
type IncludeVars struct{}

// Spec implements module.Module.
func (*IncludeVars) Spec() module.Spec {
	return module.Spec{
		Name: "include_vars",
		Doc: "Read variables from a YAML or JSON file (or every such file of a folder) on the control machine; " +
			"they take precedence over play and role variables, for the rest of the play",
		Args: []module.Arg{
			{Name: "file", Type: module.String, Aliases: []string{"_raw_params"},
				Doc: "the file (free form); a relative name is looked for in the role's vars/, the role, the playbook's vars/ and the playbook's folder"},
			{Name: "dir", Type: module.String, Doc: "read every vars file of this folder (looked for as file is), in name order"},
			{Name: "files_matching", Type: module.String, Doc: "with dir: read only the files whose name matches this regular expression"},
			{Name: "ignore_files", Type: module.List, Default: []any{}, Doc: "with dir: skip the files whose name ends with a match of one of these regular expressions"},
			{Name: "extensions", Type: module.List, Default: []any{"yaml", "yml", "json"}, Doc: "with dir: the file extensions read"},
			{Name: "ignore_unknown_extensions", Type: module.Bool, Default: false, Doc: "with dir: skip files of other extensions instead of failing"},
			{Name: "depth", Type: module.Int, Default: 0, Doc: "with dir: how many folder levels to read (0: all)"},
			{Name: "name", Type: module.String, Doc: "put the variables under this one variable instead of at the top"},
		},
		FreeForm:  "file",
		OneOf:     [][]string{{"file", "dir"}},
		Exclusive: [][]string{{"file", "dir"}},
		Local:     true, Check: module.CheckReadOnly,
	}
}

// Run implements module.Module.
func (*IncludeVars) Run(_ context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	if name := args.String("name"); args.Has("name") && !isIdent(name) {
		return nil, fmt.Errorf("name: %q is not a variable name (letters, digits and _, not starting with a digit)", name)
	}
	if rt.Find == nil {
		return nil, fmt.Errorf("include_vars: no file lookup")
	}
	var files []string
	if args.Has("file") {
		p, err := rt.Find("vars", args.String("file"))
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return nil, fmt.Errorf("file: %s is a folder: use dir: to read every file in it", p)
		}
		files = []string{p}
	} else {
		dir, err := rt.Find("vars", args.String("dir"))
		if err != nil {
			return nil, err
		}
		if files, err = varsFiles(dir, args); err != nil {
			return nil, err
		}
	}
	vars := map[string]any{}
	for _, f := range files {
		m, err := readVarsFile(f)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			vars[k] = v
		}
	}
	if args.Has("name") {
		vars = map[string]any{args.String("name"): vars}
	}
	inc := make([]any, len(files))
	for i, f := range files {
		inc[i] = f
	}
	return &module.Result{IncludedVars: vars,
		Data: map[string]any{"ansible_facts": vars, "ansible_included_var_files": inc}}, nil
}

// readVarsFile reads one vars file through yamlx (size and depth capped):
// a mapping of variable names, or nothing.
func readVarsFile(p string) (map[string]any, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	n, err := yamlx.ReadOne(p)
	if err != nil {
		return nil, err
	}
	if n.Kind == yamlx.Null {
		return map[string]any{}, nil
	}
	if n.Kind != yamlx.Map {
		return nil, yamlx.Errorf(n, "a vars file holds a mapping of variables, not %s", n.KindName())
	}
	for _, k := range n.Keys {
		if !isIdent(k.String()) {
			return nil, yamlx.Errorf(k, "%q is not a variable name (letters, digits and _, not starting with a digit)", k.String())
		}
	}
	return n.Plain().(map[string]any), nil
}

// varsFiles lists the vars files under dir as Ansible's include_vars dir:
// does: in name order, folder by folder, down to depth (0: all).
func varsFiles(dir string, args module.Args) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("dir: %s is not a folder", dir)
	}
	var match *regexp.Regexp
	if p := args.String("files_matching"); p != "" {
		if match, err = regexp.Compile(p); err != nil {
			return nil, fmt.Errorf("files_matching: %v", err)
		}
	}
	var ignore []*regexp.Regexp
	for _, p := range args.Strings("ignore_files") {
		re, err := regexp.Compile("(?:" + p + ")$")
		if err != nil {
			return nil, fmt.Errorf("ignore_files: %q: %v", p, err)
		}
		ignore = append(ignore, re)
	}
	exts := args.Strings("extensions")
	for i, e := range exts {
		exts[i] = strings.TrimPrefix(e, ".")
	}
	depth := args.Int("depth")
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		level := 0
		if rel != "." {
			level = strings.Count(rel, string(filepath.Separator)) + 1
		}
		if d.IsDir() {
			if depth > 0 && level >= depth && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if match != nil && !match.MatchString(name) {
			return nil
		}
		for _, re := range ignore {
			if re.MatchString(name) {
				return nil
			}
		}
		ext := strings.TrimPrefix(filepath.Ext(name), ".")
		if !contains(exts, ext) {
			if args.Bool("ignore_unknown_extensions") {
				return nil
			}
			return fmt.Errorf("%s: not one of the extensions %s (set ignore_unknown_extensions: true to skip it)", p, strings.Join(exts, ", "))
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(files, func(i, j int) bool {
		// Folder by folder: a folder's own files before its sub-folders'.
		di, dj := filepath.Dir(files[i]), filepath.Dir(files[j])
		if di != dj {
			return di < dj
		}
		return files[i] < files[j]
	})
	return files, nil
}

func isIdent(s string) bool {
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

var _ module.Module = (*IncludeVars)(nil)

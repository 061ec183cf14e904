package expr

import (
	"path/filepath"
	"strings"
)

// pathFuncs registers file paths.
func pathFuncs(r *registry) {
	add, addN := r.add, r.addN
	add("basename", "basename(path)", "the last element of path (\"\" when it ends with /)", str1("basename", func(s string) any { return s[strings.LastIndex(s, "/")+1:] }))
	add("dirname", "dirname(path)", "path without its last element", str1("dirname", func(s string) any {
		head := s[:strings.LastIndex(s, "/")+1]
		if head != "" && strings.Trim(head, "/") != "" {
			head = strings.TrimRight(head, "/")
		}
		return head
	}))
	add("path_join", "path_join(list)", "the path elements joined with /", func(a ...any) (any, error) {
		l, err := list("path_join", a[0])
		if err != nil {
			return nil, err
		}
		out := ""
		for _, e := range l {
			s := str(e)
			switch {
			case strings.HasPrefix(s, "/") || out == "":
				out = s
			case strings.HasSuffix(out, "/"):
				out += s
			default:
				out += "/" + s
			}
		}
		return out, nil
	})
	addN("relpath", "relpath(path, [start])", "path relative to start (the working directory)", 1, 2, func(a ...any) (any, error) {
		start := "."
		if len(a) > 1 && a[1] != nil {
			start = str(a[1])
		}
		p := str(a[0])
		if filepath.IsAbs(p) != filepath.IsAbs(start) {
			var err error
			if p, err = filepath.Abs(p); err != nil {
				return nil, argErr("relpath", "%v", err)
			}
			if start, err = filepath.Abs(start); err != nil {
				return nil, argErr("relpath", "%v", err)
			}
		}
		rel, err := filepath.Rel(start, p)
		if err != nil {
			return nil, argErr("relpath", "%v", err)
		}
		return rel, nil
	})
}

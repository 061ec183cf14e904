package playbook

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/yamlx"
)

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

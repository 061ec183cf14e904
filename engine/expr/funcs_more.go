package expr

import (
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/jmespath/go-jmespath"
)

// dictsort, relpath, comment and json_query: filters public Ansible roles
// use, in the themes of dicts, paths, strings and data.
func moreFuncs(r *registry) {
	r.addN("dictsort", "dictsort(m, [case_sensitive], [by], [reverse])", "the map as a list of [key, value] pairs sorted by key (case-insensitively unless case_sensitive) or by='value'", 1, 4, dictsort)
	r.addN("relpath", "relpath(path, [start])", "path relative to start (the working directory)", 1, 2, func(a ...any) (any, error) {
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
	r.addN("comment", "comment(text, [style], [decoration=, prefix=, prefix_count=, postfix=, postfix_count=, beginning=, end=])", "text as a comment block: style plain (#), erlang (%), c (//), cblock (/* */) or xml (<!-- -->)", 1, 10, commentFn)
	r.addN("json_query", "json_query(v, query)", "the JMESPath query applied to v, as Ansible's json_query (e.g. '[?state==`up`].name')", 2, 2, func(a ...any) (any, error) {
		b, err := json.Marshal(jsonable(materialize(a[0])))
		if err != nil {
			return nil, argErr("json_query", "%v", err)
		}
		var data any
		if err := json.Unmarshal(b, &data); err != nil {
			return nil, argErr("json_query", "%v", err)
		}
		out, err := jmespath.Search(jmesLiterals(str(a[1])), data)
		if err != nil {
			return nil, argErr("json_query", "%v", err)
		}
		return intsFromJSON(out), nil
	})
}

// intsFromJSON turns the whole floats JSON decoding gave back into ints.
func intsFromJSON(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x)
		}
	case []any:
		for i, e := range x {
			x[i] = intsFromJSON(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = intsFromJSON(e)
		}
	}
	return v
}

func dictsort(a ...any) (any, error) {
	m, err := mapArg("dictsort", a[0])
	if err != nil {
		return nil, err
	}
	caseSensitive := len(a) > 1 && Truthy(a[1])
	by := "key"
	if len(a) > 2 && a[2] != nil {
		by = str(a[2])
	}
	if by != "key" && by != "value" {
		return nil, argErr("dictsort", "by must be 'key' or 'value', got %q", by)
	}
	reverse := len(a) > 3 && Truthy(a[3])
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortKey := func(k string) any {
		var v any = k
		if by == "value" {
			v = materialize(m[k])
		}
		if s, ok := v.(string); ok && !caseSensitive {
			return strings.ToLower(s)
		}
		return v
	}
	sort.SliceStable(keys, func(i, j int) bool {
		c := compare(sortKey(keys[i]), sortKey(keys[j]))
		if c == 0 {
			c = strings.Compare(keys[i], keys[j])
		}
		if reverse {
			return c > 0
		}
		return c < 0
	})
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = []any{k, m[k]}
	}
	return out, nil
}

// commentStyles are the comment filter's styles: what begins and ends the
// block, and what starts each line.
var commentStyles = map[string][3]string{
	"plain":  {"", "# ", ""},
	"erlang": {"", "% ", ""},
	"c":      {"", "// ", ""},
	"cblock": {"/*", " * ", " */"},
	"xml":    {"<!--", " - ", "-->"},
}

// commentFn(text, style, decoration, beginning, prefix, prefix_count,
// postfix, postfix_count, end, newline), the keyword arguments as nil when
// not given.
func commentFn(a ...any) (any, error) {
	arg := func(i int) (string, bool) {
		if i < len(a) && a[i] != nil {
			return str(a[i]), true
		}
		return "", false
	}
	text := str(a[0])
	style := "plain"
	if s, ok := arg(1); ok {
		style = s
	}
	st, ok := commentStyles[style]
	if !ok {
		return nil, argErr("comment", "unknown style %q (plain, erlang, c, cblock, xml)", style)
	}
	beginning, decoration, end := st[0], st[1], st[2]
	if d, ok := arg(2); ok {
		decoration = d
	}
	prefix, postfix := strings.TrimRight(decoration, " \t"), strings.TrimRight(decoration, " \t")
	if s, ok := arg(3); ok {
		beginning = s
	}
	if s, ok := arg(4); ok {
		prefix = s
	}
	prefixCount := 1
	if s, ok := arg(5); ok {
		n, isInt := toInt(s)
		if !isInt {
			return nil, argErr("comment", "prefix_count must be a number, got %q", s)
		}
		prefixCount = n
	}
	if s, ok := arg(6); ok {
		postfix = s
	}
	postfixCount := 1
	if s, ok := arg(7); ok {
		n, isInt := toInt(s)
		if !isInt {
			return nil, argErr("comment", "postfix_count must be a number, got %q", s)
		}
		postfixCount = n
	}
	if s, ok := arg(8); ok {
		end = s
	}
	nl := "\n"
	if s, ok := arg(9); ok {
		nl = s
	}
	var b strings.Builder
	if beginning != "" {
		b.WriteString(beginning + nl)
	}
	if prefix != "" {
		for i := 0; i < prefixCount; i++ {
			if prefix != nl {
				b.WriteString(prefix)
			}
			b.WriteString(nl)
		}
	}
	body := decoration + strings.ReplaceAll(text, nl, nl+decoration)
	body = strings.ReplaceAll(body, decoration+nl, strings.TrimRight(decoration, " \t")+nl)
	b.WriteString(body)
	for i := 0; i < postfixCount; i++ {
		b.WriteString(nl + postfix)
	}
	if end != "" {
		b.WriteString(nl + end)
	}
	return b.String(), nil
}

var jmesLiteral = regexp.MustCompile("`((?:[^`\\\\]|\\\\.)*)`")

// jmesLiterals quotes the `literals` that are not JSON (`up`), as the
// Python library Ansible uses accepts them.
func jmesLiterals(q string) string {
	return jmesLiteral.ReplaceAllStringFunc(q, func(m string) string {
		body := m[1 : len(m)-1]
		if json.Valid([]byte(strings.ReplaceAll(body, "\\`", "`"))) {
			return m
		}
		b, _ := json.Marshal(strings.ReplaceAll(body, "\\`", "`"))
		return "`" + strings.ReplaceAll(string(b), "`", "\\`") + "`"
	})
}

package expr

import (
	"strings"

	"github.com/tpago/tpago/engine/conn"
)

// convertFuncs registers conversions between types, quoting, ternary.
func convertFuncs(r *registry) {
	add, addN := r.add, r.addN
	addN("int", "int(v, [fallback])", "v as an integer (\"12\" and 12.7 give 12); fallback (0) when it is not a number", 1, 2, func(a ...any) (any, error) {
		if i, ok := toInt(materialize(a[0])); ok {
			return i, nil
		}
		if len(a) > 1 {
			return a[1], nil
		}
		return 0, nil
	})
	addN("float", "float(v, [fallback])", "v as a float; fallback (0.0) when it is not a number", 1, 2, func(a ...any) (any, error) {
		if f, ok := toFloat(materialize(a[0])); ok {
			return f, nil
		}
		if len(a) > 1 {
			return a[1], nil
		}
		return 0.0, nil
	})
	addN("string", "string(v)", "v as a string (lists and maps as JSON, nil as \"\")", 1, 1, func(a ...any) (any, error) {
		return str(a[0]), nil
	})
	addN("bool", "bool(v)", "v as a boolean: true, yes, on, 1, y, t (any case) and non-zero numbers are true", 1, 1, func(a ...any) (any, error) {
		switch v := materialize(a[0]).(type) {
		case bool:
			return v, nil
		case string:
			return truthStrings[strings.ToLower(strings.TrimSpace(v))], nil
		case nil:
			return false, nil
		default:
			f, ok := toFloat(v)
			return ok && f != 0, nil
		}
	})
	addN("list", "list(v)", "v as a list: a list as is, a map's keys, a string's characters", 1, 1, func(a ...any) (any, error) {
		v := materialize(a[0])
		if s, ok := v.(string); ok {
			out := []any{}
			for _, r := range s {
				out = append(out, string(r))
			}
			return out, nil
		}
		if m, ok := toMap(v); ok {
			out := []any{}
			for _, k := range sortedKeys(m) {
				out = append(out, k)
			}
			return out, nil
		}
		return list("list", v)
	})
	add("quote", "quote(s)", "s quoted for a POSIX shell (as Python's shlex.quote)", str1("quote", func(s string) any { return Quote(s) }))
	addN("ternary", "ternary(cond, a, b, [if_nil])", "a when cond is true, else b (if_nil when cond is nil)", 3, 4, func(a ...any) (any, error) {
		c := materialize(a[0])
		if c == nil && len(a) > 3 {
			return a[3], nil
		}
		if Truthy(c) {
			return a[1], nil
		}
		return a[2], nil
	})
}

// Quote quotes s for a POSIX shell the way Python's shlex.quote does; it
// is conn.Quote, kept here for callers of this package.
func Quote(s string) string { return conn.Quote(s) }

var truthStrings = map[string]bool{"yes": true, "on": true, "1": true, "true": true, "y": true, "t": true}

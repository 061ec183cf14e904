package expr

import (
	"sort"
	"strings"
)

// dictFuncs registers maps (Ansible's dicts).
func dictFuncs(r *registry) {
	add, addN := r.add, r.addN
	add("combine", "combine(m1, m2, ..., [recursive])", "the maps merged left to right, later keys winning; with a last argument true, nested maps are merged too", func(a ...any) (any, error) {
		recursive := false
		if len(a) > 1 {
			if b, ok := a[len(a)-1].(bool); ok {
				recursive = b
				a = a[:len(a)-1]
			}
		}
		out := map[string]any{}
		for _, e := range a {
			e = materialize(e)
			if l, ok := toList(e); ok {
				for _, x := range l {
					m, err := mapArg("combine", x)
					if err != nil {
						return nil, err
					}
					out = combine(out, m, recursive)
				}
				continue
			}
			m, err := mapArg("combine", e)
			if err != nil {
				return nil, err
			}
			out = combine(out, m, recursive)
		}
		return out, nil
	})
	addN("extract", "extract(key, container, [morekeys])", "container[key] (then [k] for each of morekeys, a key or a list of keys), as in map('extract', d)", 2, 3, func(a ...any) (any, error) {
		path := "extract"
		v, err := member(materialize(a[1]), a[0], path, strict, false)
		if err != nil {
			return nil, err
		}
		if len(a) < 3 {
			return v, nil
		}
		more, ok := toList(materialize(a[2]))
		if !ok {
			more = []any{a[2]}
		}
		for _, k := range more {
			if v, err = member(materialize(v), k, path, strict, false); err != nil {
				return nil, err
			}
		}
		return v, nil
	})
	addN("dict2items", "dict2items(m, [key_name], [value_name])", "the map as a list of {key, value} maps, sorted by key", 1, 3, func(a ...any) (any, error) {
		m, err := mapArg("dict2items", a[0])
		if err != nil {
			return nil, err
		}
		kn, vn := keyValueNames(a)
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, map[string]any{kn: k, vn: m[k]})
		}
		return out, nil
	})
	addN("items2dict", "items2dict(list, [key_name], [value_name])", "a list of {key, value} maps as one map", 1, 3, func(a ...any) (any, error) {
		l, err := list("items2dict", a[0])
		if err != nil {
			return nil, err
		}
		kn, vn := keyValueNames(a)
		out := map[string]any{}
		for _, e := range l {
			m, err := mapArg("items2dict", e)
			if err != nil {
				return nil, err
			}
			k, ok := m[kn]
			if !ok {
				return nil, argErr("items2dict", "element has no %q key", kn)
			}
			out[str(k)] = m[vn]
		}
		return out, nil
	})
	addN("items", "items(m)", "the map as a list of [key, value] pairs, sorted by key (m.items() works too)", 1, 1, func(a ...any) (any, error) {
		m, err := mapArg("items", a[0])
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, []any{k, m[k]})
		}
		return out, nil
	})
	add("get_", "get_(m, key, [fallback])", "m[key], or fallback (nil) when missing; written m.get(key, fallback)", func(a ...any) (any, error) {
		if err := nargs("get", a, 2, 3); err != nil {
			return nil, err
		}
		v, err := member(materialize(a[0]), a[1], "get", optional, false)
		if err != nil {
			return nil, err
		}
		if v == nil && len(a) > 2 {
			return a[2], nil
		}
		return v, nil
	})
	addN("keys", "keys(m)", "the keys of the map, sorted", 1, 1, func(a ...any) (any, error) {
		m, err := mapArg("keys", a[0])
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, k)
		}
		return out, nil
	})
	addN("values", "values(m)", "the values of the map, in key order", 1, 1, func(a ...any) (any, error) {
		m, err := mapArg("values", a[0])
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, m[k])
		}
		return out, nil
	})
	addN("dictsort", "dictsort(m, [case_sensitive], [by], [reverse])", "the map as a list of [key, value] pairs sorted by key (case-insensitively unless case_sensitive) or by='value'", 1, 4, dictsort)
}

func combine(a, b map[string]any, recursive bool) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if recursive {
			if am, ok := toMap(out[k]); ok {
				if bm, ok := toMap(v); ok {
					out[k] = combine(am, bm, true)
					continue
				}
			}
		}
		out[k] = v
	}
	return out
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

// keyValueNames reads the optional key_name and value_name arguments of
// dict2items and items2dict (a[1], a[2]): "key" and "value" by default.
func keyValueNames(a []any) (string, string) {
	kn, vn := "key", "value"
	if len(a) > 1 {
		kn = str(a[1])
	}
	if len(a) > 2 {
		vn = str(a[2])
	}
	return kn, vn
}

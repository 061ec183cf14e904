package expr

import (
	"math"
	"reflect"
	"sort"
	"strings"
)

// listFuncs registers lists: sets, flatten, length, zip, min and max, sort, first and last.
func listFuncs(r *registry) {
	add, addN := r.add, r.addN
	add("unique", "unique(list)", "the list without repeated elements, first occurrence kept", func(a ...any) (any, error) {
		l, err := list("unique", first(a))
		if err != nil {
			return nil, err
		}
		return setOp(l, nil, func(inA, inB bool) bool { return inA }), nil
	})
	add("union", "union(a, b)", "elements of a then those of b not in a, without repeats", setFn("union", list, func(inA, inB bool) bool { return true }))
	add("intersect", "intersect(a, b)", "elements of a that are also in b", setFn("intersect", list, func(inA, inB bool) bool { return inA && inB }))
	add("difference", "difference(a, b)", "elements of a that are not in b", setFn("difference", list, func(inA, inB bool) bool { return inA && !inB }))
	add("symmetric_difference", "symmetric_difference(a, b)", "elements in exactly one of a and b", setFn("symmetric_difference", list, func(inA, inB bool) bool { return inA != inB }))
	addN("flatten", "flatten(list, [levels])", "nested lists flattened (all levels, or only levels deep)", 1, 2, func(a ...any) (any, error) {
		l, err := list("flatten", a[0])
		if err != nil {
			return nil, err
		}
		levels := -1
		if len(a) > 1 {
			levels, _ = toInt(a[1])
		}
		out := flatten(l, levels)
		if out == nil {
			out = []any{}
		}
		return out, nil
	})
	addN("length", "length(v)", "the number of characters of a string, elements of a list, keys of a map", 1, 1, func(a ...any) (any, error) {
		v := materialize(a[0])
		if s, ok := v.(string); ok {
			return len([]rune(s)), nil
		}
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			return rv.Len(), nil
		}
		return nil, argErr("length", "has no length: %s", TypeName(v))
	})
	add("zip", "zip(a, b, ...)", "lists of the n-th elements of each list, as long as the shortest", func(a ...any) (any, error) {
		if err := nargs("zip", a, 1, -1); err != nil {
			return nil, err
		}
		var ls [][]any
		n := math.MaxInt
		for _, x := range a {
			l, err := list("zip", x)
			if err != nil {
				return nil, err
			}
			ls = append(ls, l)
			n = min(n, len(l))
		}
		out := make([]any, n)
		for i := range n {
			t := make([]any, len(ls))
			for j := range ls {
				t[j] = ls[j][i]
			}
			out[i] = t
		}
		return out, nil
	})
	minmax := func(name string, want int) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, -1); err != nil {
				return nil, err
			}
			l := a
			if len(a) == 1 {
				var err error
				if l, err = list(name, a[0]); err != nil {
					return nil, err
				}
			}
			if len(l) == 0 {
				return nil, argErr(name, "of an empty list")
			}
			best := l[0]
			for _, e := range l[1:] {
				if compare(e, best) == want {
					best = e
				}
			}
			return best, nil
		}
	}
	add("min", "min(list) or min(a, b, ...)", "the smallest element", minmax("min", -1))
	add("max", "max(list) or max(a, b, ...)", "the largest element", minmax("max", 1))
	addN("sort", "sort(list, [reverse], [attribute])", "the list sorted (numbers numerically, others as strings); reverse may be true or \"desc\"; attribute sorts maps by that key", 1, 3, func(a ...any) (any, error) {
		l, err := list("sort", a[0])
		if err != nil {
			return nil, err
		}
		reverse := false
		if len(a) > 1 {
			if s, ok := a[1].(string); ok {
				reverse = s == "desc"
			} else {
				reverse = Truthy(a[1])
			}
		}
		attr := ""
		if len(a) > 2 {
			attr = str(a[2])
		}
		out := append([]any(nil), l...)
		key := func(v any) any {
			if attr == "" {
				return v
			}
			m, _ := toMap(v)
			return m[attr]
		}
		sort.SliceStable(out, func(i, j int) bool {
			c := compare(key(out[i]), key(out[j]))
			if reverse {
				return c > 0
			}
			return c < 0
		})
		if out == nil {
			out = []any{}
		}
		return out, nil
	})
	firstLast := func(name string, last bool) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, 1); err != nil {
				return nil, err
			}
			v := materialize(a[0])
			if s, ok := v.(string); ok {
				r := []rune(s)
				if len(r) == 0 {
					return nil, nil
				}
				if last {
					return string(r[len(r)-1]), nil
				}
				return string(r[0]), nil
			}
			l, err := list(name, v)
			if err != nil {
				return nil, err
			}
			if len(l) == 0 {
				return nil, nil
			}
			if last {
				return l[len(l)-1], nil
			}
			return l[0], nil
		}
	}
	add("first", "first(list)", "the first element (nil when empty)", firstLast("first", false))
	add("last", "last(list)", "the last element (nil when empty)", firstLast("last", true))
	add("contains_", "contains(container, item)", "whether a list holds item, a string holds the substring, or a map has the key", func(a ...any) (any, error) {
		if err := nargs("contains", a, 2, 2); err != nil {
			return nil, err
		}
		return containsFn(a[0], a[1])
	})
}

func flatten(l []any, levels int) []any {
	var out []any
	for _, e := range l {
		if sub, ok := toList(e); ok && levels != 0 {
			if _, isStr := e.(string); !isStr {
				out = append(out, flatten(sub, levels-1)...)
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

func setFn(name string, list func(string, any) ([]any, error), keep func(inA, inB bool) bool) func(...any) (any, error) {
	return func(a ...any) (any, error) {
		if err := nargs(name, a, 2, 2); err != nil {
			return nil, err
		}
		x, err := list(name, a[0])
		if err != nil {
			return nil, err
		}
		y, err := list(name, a[1])
		if err != nil {
			return nil, err
		}
		return setOp(x, y, keep), nil
	}
}

func setOp(a, b []any, keep func(inA, inB bool) bool) []any {
	inA := map[string]bool{}
	inB := map[string]bool{}
	for _, e := range a {
		inA[setKey(e)] = true
	}
	for _, e := range b {
		inB[setKey(e)] = true
	}
	seen := map[string]bool{}
	out := []any{}
	for _, e := range append(append([]any(nil), a...), b...) {
		k := setKey(e)
		if seen[k] {
			continue
		}
		seen[k] = true
		if keep(inA[k], inB[k]) {
			out = append(out, e)
		}
	}
	return out
}

func first(a []any) any {
	if len(a) == 0 {
		return nil
	}
	return a[0]
}

func containsFn(container, item any) (any, error) {
	container = materialize(container)
	item = materialize(item)
	if s, ok := container.(string); ok {
		return strings.Contains(s, ToString(item)), nil
	}
	if l, ok := toList(container); ok {
		for _, e := range l {
			if equal(e, item) {
				return true, nil
			}
		}
		return false, nil
	}
	if m, ok := toMap(container); ok {
		_, has := m[ToString(item)]
		return has, nil
	}
	if container == nil {
		return false, nil
	}
	return nil, argErr("contains", "cannot look inside %s", TypeName(container))
}

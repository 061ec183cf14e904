package expr

import (
	"strconv"
	"strings"
)

// attrPath reads a dotted attribute ("a.b") of v; ok is false when missing.
// As in Jinja, a part that is a number indexes a list ("value.5").
func attrPath(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		v = materialize(v)
		var key any = part
		if _, isList := v.([]any); isList {
			if n, err := strconv.Atoi(part); err == nil {
				key = n
			}
		}
		next, err := member(v, key, path, soft, false)
		if err != nil || isUndefined(next) {
			return nil, false
		}
		v = next
	}
	return v, true
}

// testAliases are Jinja's spellings of tests, by the name tpago uses.
var testAliases = map[string]string{
	"==": "eq", "equalto": "eq", "!=": "ne", ">": "gt", "greaterthan": "gt", ">=": "ge",
	"<": "lt", "lessthan": "lt", "<=": "le", "succeeded": "success", "sameas": "eq",
}

// runTest applies the named test (as in "x is name(args)") to v.
func runTest(caller string, v any, name string, args []any) (bool, error) {
	if alias, ok := testAliases[name]; ok {
		name = alias
	}
	f, ok := funcIndex["is_"+name]
	if !ok || f.fn == nil {
		return false, argErr(caller, "unknown test %q", name)
	}
	out, err := f.fn(append([]any{v}, args...)...)
	if err != nil {
		return false, err
	}
	return Truthy(out), nil
}

func selectFuncs() []funcDef {
	selectAttr := func(name string, keep bool) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 2, -1); err != nil {
				return nil, err
			}
			l, ok := toList(materialize(a[0]))
			if !ok {
				return nil, argErr(name, "expects a list, got %s", TypeName(a[0]))
			}
			attr := ToString(a[1])
			out := []any{}
			for _, e := range l {
				v, found := attrPath(e, attr)
				var pass bool
				if len(a) == 2 {
					pass = found && Truthy(v)
				} else {
					if !found {
						v = &undefined{name: attr}
					}
					var err error
					if pass, err = runTest(name, v, ToString(a[2]), a[3:]); err != nil {
						return nil, err
					}
				}
				if pass == keep {
					out = append(out, e)
				}
			}
			return out, nil
		}
	}
	selectFn := func(name string, keep bool) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, -1); err != nil {
				return nil, err
			}
			l, ok := toList(materialize(a[0]))
			if !ok {
				return nil, argErr(name, "expects a list, got %s", TypeName(a[0]))
			}
			out := []any{}
			for _, e := range l {
				pass := Truthy(e)
				if len(a) > 1 {
					var err error
					if pass, err = runTest(name, e, ToString(a[1]), a[2:]); err != nil {
						return nil, err
					}
				}
				if pass == keep {
					out = append(out, e)
				}
			}
			return out, nil
		}
	}
	cmpTest := func(name string, ok func(int) bool) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 2, 2); err != nil {
				return nil, err
			}
			x, y := materialize(a[0]), materialize(a[1])
			if name == "ne" {
				return !equal(x, y), nil
			}
			return ok(compare(x, y)), nil
		}
	}
	return []funcDef{
		{name: "selectattr", sig: "selectattr(list, attr, [test, args...])", doc: "the elements whose attr passes the test (default: is truthy), e.g. hosts | selectattr('role', 'eq', 'primary')", fn: selectAttr("selectattr", true)},
		{name: "rejectattr", sig: "rejectattr(list, attr, [test, args...])", doc: "the elements whose attr fails the test (default: is truthy)", fn: selectAttr("rejectattr", false)},
		{name: "select", sig: "select(list, [test, args...])", doc: "the elements that pass the test (default: truthy), e.g. select('match', '^pg')", fn: selectFn("select", true)},
		{name: "reject", sig: "reject(list, [test, args...])", doc: "the elements that fail the test (default: truthy)", fn: selectFn("reject", false)},
		{name: "map_attr", sig: "map_attr(list, attr, [default])", doc: "each element's attr; written list | map(attribute='name')", fn: func(a ...any) (any, error) {
			if err := nargs("map", a, 2, 3); err != nil {
				return nil, err
			}
			l, ok := toList(materialize(a[0]))
			if !ok {
				return nil, argErr("map", "expects a list, got %s", TypeName(a[0]))
			}
			attr := ToString(a[1])
			out := make([]any, 0, len(l))
			for _, e := range l {
				v, found := attrPath(e, attr)
				if !found {
					if len(a) < 3 {
						return nil, &UndefinedError{Name: "element." + attr, Key: attr}
					}
					v = a[2]
				}
				out = append(out, v)
			}
			return out, nil
		}},
		{name: "map_filter", sig: "map_filter(list, filter, [args...])", doc: "each element passed through a function; written list | map('upper')", fn: func(a ...any) (any, error) {
			if err := nargs("map", a, 2, -1); err != nil {
				return nil, err
			}
			l, ok := toList(materialize(a[0]))
			if !ok {
				return nil, argErr("map", "expects a list, got %s", TypeName(a[0]))
			}
			fname := ToString(a[1])
			f, known := funcIndex[fname]
			if !known || f.fn == nil || strings.HasPrefix(fname, "__") {
				return nil, argErr("map", "unknown filter %q", fname)
			}
			out := make([]any, 0, len(l))
			for _, e := range l {
				v, err := f.fn(append([]any{e}, a[2:]...)...)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		}},
		{name: "is_ne", fn: cmpTest("ne", nil)},
		{name: "is_gt", fn: cmpTest("gt", func(c int) bool { return c > 0 })},
		{name: "is_ge", fn: cmpTest("ge", func(c int) bool { return c >= 0 })},
		{name: "is_lt", fn: cmpTest("lt", func(c int) bool { return c < 0 })},
		{name: "is_le", fn: cmpTest("le", func(c int) bool { return c <= 0 })},
	}
}

package expr

import (
	"strconv"
	"strings"
)

// testFuncs registers the tests, written x is name(args): is_name(x, args).
func testFuncs(r *registry) {
	add := r.add
	add("is_none", "", "", typeTest("none", func(v any) bool { return v == nil }))
	add("is_failed", "", "", resultFlag("failed", "failed", true))
	add("is_success", "", "", resultFlag("succeeded", "failed", false))
	add("is_changed", "", "", resultFlag("changed", "changed", true))
	add("is_skipped", "", "", resultFlag("skipped", "skipped", true))
	add("is_finished", "", "", resultFlag("finished", "finished", true))
	add("is_started", "", "", resultFlag("started", "started", true))
	add("is_string", "", "", typeTest("string", func(v any) bool { _, ok := v.(string); return ok }))
	add("is_number", "", "", typeTest("number", isNumber))
	add("is_integer", "", "", typeTest("integer", func(v any) bool {
		_, isF := v.(float64)
		return isNumber(v) && !isF
	}))
	add("is_float", "", "", typeTest("float", func(v any) bool { _, ok := v.(float64); return ok }))
	add("is_boolean", "", "", typeTest("boolean", func(v any) bool { _, ok := v.(bool); return ok }))
	add("is_mapping", "", "", typeTest("mapping", isMapValue))
	seqTest := func(v any) bool {
		if _, ok := v.(string); ok {
			return true
		}
		_, ok := toList(v)
		return ok
	}
	add("is_sequence", "", "", typeTest("sequence", seqTest))
	add("is_iterable", "", "", typeTest("iterable", func(v any) bool { return seqTest(v) || isMapValue(v) }))
	add("is_true", "", "", typeTest("true", func(v any) bool { return v == true }))
	add("is_false", "", "", typeTest("false", func(v any) bool { return v == false }))
	add("is_truthy", "", "", typeTest("truthy", Truthy))
	add("is_falsy", "", "", typeTest("falsy", func(v any) bool { return !Truthy(v) }))
	add("is_even", "", "", typeTest("even", func(v any) bool { i, ok := toInt(v); return ok && i%2 == 0 }))
	add("is_odd", "", "", typeTest("odd", func(v any) bool { i, ok := toInt(v); return ok && i%2 != 0 }))
	add("is_divisibleby", "", "", func(a ...any) (any, error) {
		if err := nargs("divisibleby", a, 2, 2); err != nil {
			return nil, err
		}
		x, okx := toInt(materialize(a[0]))
		y, oky := toInt(materialize(a[1]))
		if !okx || !oky {
			return nil, argErr("divisibleby", "needs integers, got %s and %s", TypeName(a[0]), TypeName(a[1]))
		}
		if y == 0 {
			return nil, argErr("divisibleby", "division by zero")
		}
		return x%y == 0, nil
	})
	add("is_eq", "", "", func(a ...any) (any, error) {
		if err := nargs("eq", a, 2, 2); err != nil {
			return nil, err
		}
		return equal(materialize(a[0]), materialize(a[1])), nil
	})
	add("is_equalto", "", "", funcIndexFn("is_eq", &r.fs))
	regexTest := func(name string, anchored bool) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 2, 3); err != nil {
				return nil, err
			}
			pat := str(a[1])
			if anchored {
				pat = `\A(?:` + pat + `)`
			}
			re, err := compileRegex(name, pat, len(a) > 2 && Truthy(a[2]))
			if err != nil {
				return nil, err
			}
			return re.MatchString(str(a[0])), nil
		}
	}
	add("is_match", "", "", regexTest("match", true))
	add("is_search", "", "", regexTest("search", false))
	add("is_in", "", "", func(a ...any) (any, error) {
		if err := nargs("in", a, 2, 2); err != nil {
			return nil, err
		}
		return containsFn(a[1], a[0])
	})
	add("is_contains", "", "", func(a ...any) (any, error) {
		if err := nargs("contains", a, 2, 2); err != nil {
			return nil, err
		}
		return containsFn(a[0], a[1])
	})
	versionFn := func(a ...any) (any, error) {
		if err := nargs("version", a, 2, 3); err != nil {
			return nil, err
		}
		op := "=="
		if len(a) > 2 {
			op = str(a[2])
		}
		return versionTest("version", a[0], a[1], op)
	}
	add("is_version", "", "", versionFn)
	add("version", "version(a, b, [op])", "compares dotted versions numerically: version('15.2', '15', '>=') (op one of < <= > >= == != lt le gt ge eq ne; default ==)", versionFn)
	add("is_subset", "", "", func(a ...any) (any, error) {
		if err := nargs("subset", a, 2, 2); err != nil {
			return nil, err
		}
		return isSubset(a[0], a[1])
	})
	add("is_superset", "", "", func(a ...any) (any, error) {
		if err := nargs("superset", a, 2, 2); err != nil {
			return nil, err
		}
		return isSubset(a[1], a[0])
	})

}

// versionCompare compares dotted versions numerically part by part.
func versionCompare(a, b string) int {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' || r == '_' || r == '+' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y string
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		xi, ex := strconv.Atoi(x)
		yi, ey := strconv.Atoi(y)
		if x == "" {
			xi, ex = 0, nil
		}
		if y == "" {
			yi, ey = 0, nil
		}
		if ex == nil && ey == nil {
			if xi != yi {
				if xi < yi {
					return -1
				}
				return 1
			}
			continue
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func versionTest(name string, a, b any, op string) (any, error) {
	c := versionCompare(ToString(a), ToString(b))
	switch op {
	case "<", "lt":
		return c < 0, nil
	case "<=", "le":
		return c <= 0, nil
	case ">", "gt":
		return c > 0, nil
	case ">=", "ge":
		return c >= 0, nil
	case "==", "=", "eq":
		return c == 0, nil
	case "!=", "<>", "ne":
		return c != 0, nil
	}
	return nil, argErr(name, "unknown comparison %q", op)
}

func isSubset(a, b any) (any, error) {
	x, ok1 := toList(materialize(a))
	y, ok2 := toList(materialize(b))
	if !ok1 || !ok2 {
		return nil, argErr("subset", "expects two lists")
	}
	in := map[string]bool{}
	for _, e := range y {
		in[setKey(e)] = true
	}
	for _, e := range x {
		if !in[setKey(e)] {
			return false, nil
		}
	}
	return true, nil
}

package expr

import "math"

// mathFuncs registers numbers: rounding, ranges.
func mathFuncs(r *registry) {
	addN := r.addN
	addN("round", "round(n, [precision], [method])", "n rounded to precision decimals (0), half to even as Python; method 'ceil' or 'floor' rounds up or down", 1, 3, func(a ...any) (any, error) {
		x, ok := toFloat(materialize(a[0]))
		if !ok {
			return nil, argErr("round", "expects a number, got %s", TypeName(a[0]))
		}
		prec := 0
		if len(a) > 1 && a[1] != nil {
			prec, _ = toInt(a[1])
		}
		method := "common"
		if len(a) > 2 {
			method = str(a[2])
		}
		p := math.Pow(10, float64(prec))
		switch method {
		case "common":
			return math.RoundToEven(x*p) / p, nil
		case "ceil":
			return math.Ceil(x*p) / p, nil
		case "floor":
			return math.Floor(x*p) / p, nil
		}
		return nil, argErr("round", "unknown method %q (common, ceil, floor)", method)
	})
	addN("range", "range([start], end, [step])", "the integers from start (0) up to but not including end", 1, 3, func(a ...any) (any, error) {
		nums := make([]int, len(a))
		for i, x := range a {
			n, ok := toInt(materialize(x))
			if !ok {
				return nil, argErr("range", "expects integers, got %q", str(x))
			}
			nums[i] = n
		}
		start, end, step := 0, nums[0], 1
		if len(nums) > 1 {
			start, end = nums[0], nums[1]
		}
		if len(nums) > 2 {
			step = nums[2]
		}
		if step == 0 {
			return nil, argErr("range", "step must not be 0")
		}
		if n := (end - start) / step; n > 0 {
			if err := CheckIterations(n); err != nil {
				return nil, &EvalError{Msg: "range: " + err.Error(), Err: err}
			}
		}
		out := []any{}
		for i := start; (step > 0 && i < end) || (step < 0 && i > end); i += step {
			out = append(out, i)
			if len(out) > 10_000_000 {
				return nil, argErr("range", "too many elements")
			}
		}
		return out, nil
	})
}

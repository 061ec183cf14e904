package expr

// coreFuncs registers the functions that tolerate undefined values: default, defined, mandatory.
func coreFuncs(r *registry) {
	add, addN := r.add, r.addN
	defaultFn := func(a ...any) (any, error) {
		if err := nargs("default", a, 1, 3); err != nil {
			return nil, err
		}
		v := materialize(a[0])
		fallback := any("")
		if len(a) > 1 && (a[1] != nil || len(a) < 3) {
			fallback = a[1]
		}
		if isUndefined(a[0]) || v == nil || (len(a) > 2 && Truthy(a[2]) && !Truthy(v)) {
			return materialize(fallback), nil
		}
		return v, nil
	}
	add("default", "default(v, fallback, [falsy])", "v, or fallback when v is undefined or nil (or, with falsy true, any false value); v may be undefined", defaultFn)
	add("d", "d(v, fallback, [falsy])", "alias of default", defaultFn)
	definedFn := func(a ...any) (any, error) {
		if err := nargs("defined", a, 1, 1); err != nil {
			return nil, err
		}
		return !isUndefined(a[0]), nil
	}
	undefinedFn := func(a ...any) (any, error) {
		if err := nargs("undefined", a, 1, 1); err != nil {
			return nil, err
		}
		return isUndefined(a[0]), nil
	}
	add("defined", "defined(v)", "whether v is defined (x is defined)", definedFn)
	add("undefined", "undefined(v)", "whether v is undefined (x is undefined)", undefinedFn)
	add("is_defined", "", "", definedFn)
	add("is_undefined", "", "", undefinedFn)
	addN("mandatory", "mandatory(v, [msg])", "v, or an error (msg if given) when v is undefined", 1, 2, func(a ...any) (any, error) {
		if u, ok := a[0].(*undefined); ok {
			if len(a) > 1 {
				return nil, &EvalError{Msg: str(a[1])}
			}
			return nil, &UndefinedError{Name: u.name}
		}
		return materialize(a[0]), nil
	})
}

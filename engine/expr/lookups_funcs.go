package expr

// lookupFuncs registers lookup, query and q (the lookups are in lookups.go).
func lookupFuncs(r *registry) {
	add := r.add
	// The compiler makes lookup(name, ...) a call of __lookup with the
	// role's and the playbook's folders and the resolver (lookups.go).
	lookupDoc := "a lookup on the control machine: env, file, first_found, template, varnames, pipe, password, dict; " +
		"several values are joined with \",\" (wantlist=True for a list, errors='ignore' for None on failure); " +
		"a relative path is looked for in the role's files/ (templates/ for template) and folder, then the playbook's"
	add("lookup", "lookup(name, terms..., [wantlist=, errors=, ...])", lookupDoc, func(a ...any) (any, error) {
		return callLookup(append([]any{false, nil, nil, nil}, a...)...)
	})
	queryFn := func(a ...any) (any, error) { return callLookup(append([]any{true, nil, nil, nil}, a...)...) }
	add("query", "query(name, terms..., [errors=, ...])", "lookup(name, ...) as a list, always", queryFn)
	add("q", "q(name, terms...)", "alias of query", queryFn)
	add("__lookup", "", "", callLookup)
	add("__kwargs", "", "", func(a ...any) (any, error) {
		m, _ := toMap(materialize(a[0]))
		return kwargs(m), nil
	})
}

package executor

import (
	"fmt"
	"slices"
	"sync"

	"context"
	"github.com/tpago/tpago/engine/conn"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/playbook"
)

// scope is what a list of tasks inherits from the blocks, includes and roles
// around it. It is shared by the hosts running the list and never changed
// once made: child scopes are new values.
type scope struct {
	parent *scope
	// block is the block (or static import) this scope opens; nil at the top.
	block *playbook.Task
	// role is the role whose tasks run in this scope.
	role *playbook.Role
	// params are include parameters (and role parameters).
	params map[string]any
	// hostParams are per-host include parameters (a looped include).
	hostParams map[string]map[string]any
}

func (s *scope) child(b *playbook.Task) *scope {
	c := &scope{parent: s, block: b, role: s.role}
	if b.Role != nil {
		c.role = b.Role
		c.params = b.Role.Params
	}
	return c
}

// each walks from the innermost scope outwards.
func (s *scope) each(f func(*scope) bool) {
	for c := s; c != nil; c = c.parent {
		if !f(c) {
			return
		}
	}
}

// hostScope is expr.Scope for one host and one task: variables are looked
// up through the layers by precedence, nothing is merged ahead of time.
// AnsibleManaged is ansible_managed's value unless a play, role or
// inventory variable sets it: the line templates print, commented, at their
// top ({{ ansible_managed | comment }}). Ansible's default says "Ansible
// managed"; this one names the tool that wrote the file.
const AnsibleManaged = "tpago managed"

// builtinDefaults are below every other variable: anything may set them.
var builtinDefaults = map[string]any{"ansible_managed": AnsibleManaged}

type hostScope struct {
	magic  map[string]any
	layers []map[string]any // highest precedence first
	ctx    context.Context  // the run's: cancelling it stops evaluation
}

// Context implements expr.ContextScope.
func (h *hostScope) Context() context.Context { return h.ctx }

var _ expr.Scope = (*hostScope)(nil)

// lazyValue is a magic variable computed only when an expression uses it.
type lazyValue func() any

// memo returns a lazyValue that computes f's value once, when first used.
func memo[T any](f func() T) lazyValue {
	get := sync.OnceValue(f)
	return func() any { return get() }
}

func (h *hostScope) Lookup(name string) (any, bool) {
	if v, ok := h.magic[name]; ok {
		if f, ok := v.(lazyValue); ok {
			return f(), true
		}
		return v, true
	}
	for _, l := range h.layers {
		if v, ok := l[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// Names implements expr.NamedScope (the varnames lookup).
func (h *hostScope) Names() []string {
	var out []string
	for k := range h.magic {
		out = append(out, k)
	}
	for _, l := range h.layers {
		for k := range l {
			out = append(out, k)
		}
	}
	return out
}

// flat merges every layer into one map (for templates and debug).
func (h *hostScope) flat() map[string]any {
	out := map[string]any{}
	for i := len(h.layers) - 1; i >= 0; i-- {
		for k, v := range h.layers[i] {
			out[k] = v
		}
	}
	for k, v := range h.magic {
		if f, ok := v.(lazyValue); ok {
			v = f()
		}
		out[k] = v
	}
	return out
}

// with returns a scope with extra variables on top (loop items).
func (h *hostScope) with(vars map[string]any) *hostScope {
	return &hostScope{magic: h.magic, layers: append([]map[string]any{vars}, h.layers...), ctx: h.ctx}
}

// inherit returns the innermost setting of a keyword for t: the task's
// own, then its blocks', roles' and includes' outwards, then the play's.
// set picks the keyword from a Keywords and says whether it is set there.
// Keywords written on a dynamic include apply to the included tasks unless
// throughIncludes is false (as for become, like Ansible).
func inherit[T any](t *playbook.Task, sc *scope, play *playbook.Play, throughIncludes bool, set func(*playbook.Keywords) (T, bool)) (T, bool) {
	if v, ok := set(&t.Keywords); ok {
		return v, true
	}
	var v T
	found := false
	sc.each(func(s *scope) bool {
		if s.block == nil || !throughIncludes && s.block.Include != nil {
			return true
		}
		v, found = set(&s.block.Keywords)
		return !found
	})
	if !found && play != nil {
		v, found = set(&play.Keywords)
	}
	return v, found
}

func isSet[T any](p *T) (T, bool) {
	if p == nil {
		var zero T
		return zero, false
	}
	return *p, true
}

func anySet(v any) (any, bool) { return v, v != nil }

// flag decides a keyword that is a bool or a template, for one host.
func flag(v any, hsc *hostScope, what string) (bool, error) {
	if s, ok := v.(string); ok && expr.HasTemplate(s) {
		r, err := expr.RenderIn(s, hsc)
		if err != nil {
			return false, fmt.Errorf("%s: %v", what, err)
		}
		v = r
	}
	if v == nil {
		return false, nil
	}
	b, err := module.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %v", what, err)
	}
	return b, nil
}

// count decides a keyword that is a whole number of 0 or more, or a
// template that gives one, for one host.
func count(v any, hsc *hostScope, what string) (int, error) {
	if s, ok := v.(string); ok && expr.HasTemplate(s) {
		r, err := expr.RenderIn(s, hsc)
		if err != nil {
			return 0, fmt.Errorf("%s: %v", what, err)
		}
		v = r
	}
	if v == nil {
		return 0, nil
	}
	n, err := module.Spec{Args: []module.Arg{{Name: what, Type: module.Int}}}.Normalize(map[string]any{what: v})
	if err != nil {
		return 0, fmt.Errorf("%s: expected a whole number, not %v", what, v)
	}
	if n.Int(what) < 0 {
		return 0, fmt.Errorf("%s: takes a whole number of 0 or more, not %d", what, n.Int(what))
	}
	return n.Int(what), nil
}

// checkMode tells whether t runs in check mode.
func (pr *playRun) checkMode(t *playbook.Task, sc *scope) bool {
	if v, ok := inherit(t, sc, pr.play, true, func(k *playbook.Keywords) (bool, bool) { return isSet(k.CheckMode) }); ok {
		return v
	}
	return pr.e.opts.Check
}

func (pr *playRun) diffMode(t *playbook.Task, sc *scope) bool {
	if v, ok := inherit(t, sc, pr.play, true, func(k *playbook.Keywords) (bool, bool) { return isSet(k.Diff) }); ok {
		return v
	}
	return pr.e.opts.Diff
}

func (pr *playRun) anyErrorsFatal(t *playbook.Task, sc *scope) bool {
	v, _ := inherit(t, sc, pr.play, true, func(k *playbook.Keywords) (bool, bool) { return isSet(k.AnyErrorsFatal) })
	return v
}

func (pr *playRun) ignoreUnreachable(t *playbook.Task, sc *scope) bool {
	v, _ := inherit(t, sc, pr.play, true, func(k *playbook.Keywords) (bool, bool) { return isSet(k.IgnoreUnreach) })
	return v
}

// noLog tells whether t's output is hidden on host h; a no_log template
// that cannot be decided hides it.
func (pr *playRun) noLog(t *playbook.Task, sc *scope, hsc *hostScope) bool {
	v, _ := inherit(t, sc, pr.play, true, func(k *playbook.Keywords) (any, bool) { return anySet(k.NoLog) })
	b, err := flag(v, hsc, "no_log")
	return b || err != nil
}

func (pr *playRun) ignoreErrors(t *playbook.Task, sc *scope, hsc *hostScope) bool {
	v, _ := inherit(t, sc, pr.play, true, func(k *playbook.Keywords) (any, bool) { return anySet(k.IgnoreErrors) })
	b, err := flag(v, hsc, "ignore_errors")
	return err == nil && b
}

// become resolves become and become_user for t on host h: the innermost
// setting, else the host's ansible_become and ansible_become_user.
func (pr *playRun) become(t *playbook.Task, sc *scope, hsc *hostScope) (bool, string, error) {
	v, ok := inherit(t, sc, pr.play, false, func(k *playbook.Keywords) (any, bool) { return anySet(k.Become) })
	if !ok {
		if hv, found := hsc.Lookup("ansible_become"); found {
			v = fmt.Sprint(hv)
			if !expr.HasTemplate(v.(string)) {
				v, _ = module.ParseBool(v)
			}
		}
	}
	become, err := flag(v, hsc, "become")
	if err != nil {
		if ok {
			return false, "", err
		}
		become = false // as before: an unusable ansible_become is no become
	}
	user, _ := inherit(t, sc, pr.play, false, func(k *playbook.Keywords) (string, bool) { return k.BecomeUser, k.BecomeUser != "" })
	if user == "" {
		if hv, found := hsc.Lookup("ansible_become_user"); found {
			user = fmt.Sprint(hv)
		}
	}
	if expr.HasTemplate(user) {
		if r, err := expr.RenderIn(user, hsc); err == nil {
			user = expr.ToString(r)
		}
	}
	return become, user, nil
}

// environment merges the environment of the play, t's blocks outwards in,
// and t; each may be a mapping or a template that gives one.
func (pr *playRun) environment(t *playbook.Task, sc *scope, hsc *hostScope) (map[string]string, error) {
	var levels []any
	sc.each(func(s *scope) bool {
		if s.block != nil && s.block.Environment != nil {
			levels = append(levels, s.block.Environment)
		}
		return true
	})
	if pr.play.Environment != nil {
		levels = append(levels, pr.play.Environment)
	}
	slices.Reverse(levels)
	if t.Environment != nil {
		levels = append(levels, t.Environment)
	}
	env := map[string]string{}
	for _, m := range levels {
		r, err := expr.RenderDeepIn(m, hsc)
		if err != nil {
			return nil, fmt.Errorf("environment: %v", err)
		}
		rm, ok := r.(map[string]any)
		if !ok && r != nil {
			return nil, fmt.Errorf("environment: needs a mapping of variables, got %v", r)
		}
		for k, v := range rm {
			if err := conn.CheckEnvName(k); err != nil {
				return nil, err
			}
			env[k] = expr.ToString(v)
		}
	}
	return env, nil
}

package executor

import (
	"context"

	"github.com/tpago/tpago/engine/expr"
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

package expr

import (
	"context"
	"sort"
	"sync/atomic"
)

// BlockEngine renders strings holding {% %} tags (if, for, set). Package
// engine/template registers one when it is linked in; without it such
// strings are an error.
type BlockEngine interface {
	// Check parses s and compiles its expressions.
	Check(s string) error
	// Render renders s with the variables of sc.
	Render(s string, sc Scope) (string, error)
}

var blockEngine atomic.Pointer[BlockEngine]

// RegisterBlockEngine makes Render and CheckTemplate handle {% %} tags
// with e.
func RegisterBlockEngine(e BlockEngine) {
	blockEngine.Store(&e)
}

func currentBlockEngine() BlockEngine {
	if p := blockEngine.Load(); p != nil {
		return *p
	}
	return nil
}

func noBlockEngine(s string, p *parsedString) error {
	return &SyntaxError{Expr: s, Msg: "{% %} tags need the template engine (import engine/template)", Col: p.blockCol}
}

// resolverScope lets the block engine read variables through the
// resolver of the enclosing evaluation, so cycles are still found.
type resolverScope struct {
	r   *resolver
	err error
}

// Context implements ContextScope.
func (s *resolverScope) Context() context.Context { return s.r.ctx }

// Names implements NamedScope when the enclosing scope does.
func (s *resolverScope) Names() []string {
	if ns, ok := s.r.scope.(NamedScope); ok {
		return ns.Names()
	}
	return nil
}

func (s *resolverScope) Lookup(name string) (any, bool) {
	v, ok, err := s.r.lookup(name)
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return nil, false
	}
	if !ok {
		return nil, false
	}
	return Raw{Value: v}, true
}

func (r *resolver) renderBlocks(s string, p *parsedString) (any, error) {
	be := currentBlockEngine()
	if be == nil {
		return nil, noBlockEngine(s, p)
	}
	sc := &resolverScope{r: r}
	out, err := be.Render(s, sc)
	if err != nil {
		if sc.err != nil {
			return nil, sc.err
		}
		return nil, err
	}
	return out, nil
}

// refsEngine is a BlockEngine that can also list a template's variables.
type refsEngine interface {
	Refs(s string) ([]Ref, error)
}

// TemplateRefs lists the variables a templated string refers to (every
// {{ }} expression, and the tags of a string with {% %}), sorted by name.
func TemplateRefs(s string) ([]Ref, error) {
	p := parseString(s)
	if p.err != nil {
		return nil, p.err
	}
	if p.blocks {
		be := currentBlockEngine()
		if be == nil {
			return nil, noBlockEngine(s, p)
		}
		re, ok := be.(refsEngine)
		if !ok {
			return nil, nil
		}
		return re.Refs(s)
	}
	all := map[string]bool{}
	for _, sg := range p.segs {
		if !sg.isCode {
			continue
		}
		refs, err := Refs(sg.code)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if prev, seen := all[r.Name]; seen {
				all[r.Name] = prev && r.Optional
			} else {
				all[r.Name] = r.Optional
			}
		}
	}
	out := make([]Ref, 0, len(all))
	for name, opt := range all {
		out = append(out, Ref{Name: name, Optional: opt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

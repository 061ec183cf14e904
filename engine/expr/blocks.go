package expr

import "sync/atomic"

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

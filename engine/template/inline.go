package template

import (
	"sync"
	"sync/atomic"

	"github.com/tpago/tpago/engine/expr"
)

// InlineName is the template name in errors about {% %} tags inside a
// task argument or variable.
const InlineName = "inline template"

// inlineEngine lets expr.Render handle strings with {% %} tags (Ansible
// allows them in any templated value); the result is always a string.
type inlineEngine struct{}

var (
	inlineCache     sync.Map // text -> *Template or error
	inlineCacheSize atomic.Int64
)

func parseInline(s string) (*Template, error) {
	if v, ok := inlineCache.Load(s); ok {
		if t, isT := v.(*Template); isT {
			return t, nil
		}
		return nil, v.(error)
	}
	t, err := Parse(InlineName, s)
	if inlineCacheSize.Add(1) > 10000 {
		inlineCache.Clear()
		inlineCacheSize.Store(0)
	}
	if err != nil {
		inlineCache.Store(s, err)
		return nil, err
	}
	inlineCache.Store(s, t)
	return t, nil
}

func (inlineEngine) Check(s string) error {
	_, err := parseInline(s)
	return err
}

func (inlineEngine) Render(s string, sc expr.Scope) (string, error) {
	t, err := parseInline(s)
	if err != nil {
		return "", err
	}
	return t.RenderIn(sc)
}

func init() { expr.RegisterBlockEngine(inlineEngine{}) }

func (inlineEngine) Refs(s string) ([]expr.Ref, error) {
	t, err := parseInline(s)
	if err != nil {
		return nil, err
	}
	return t.Refs(), nil
}

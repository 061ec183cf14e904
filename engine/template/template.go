// Package template renders Jinja-shaped file templates whose expressions
// are tpago expressions (package engine/expr).
//
// Supported: {{ expr }}, {% if %}/{% elif %}/{% else %}/{% endif %},
// {% for x in expr %}/{% else %}/{% endfor %} (with loop.index, loop.index0,
// loop.revindex, loop.revindex0, loop.first, loop.last, loop.length, and
// unpacking into several names), {% set x = expr %}, {% raw %}, {# comments #}
// and the -/+ whitespace controls. Whitespace follows Ansible's template
// module: trim_blocks on, lstrip_blocks off, the trailing newline kept.
package template

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/yamlx"
)

// Error locates a template failure: name:line:col (col 0 when unknown).
// It is printed as yamlx's positioned errors are, on one line; Snippet is
// the template's line with a caret, taken when the error is made.
type Error struct {
	Name    string
	Line    int
	Col     int
	Msg     string
	Err     error // the underlying error (an *expr.UndefinedError, ...)
	Snippet string
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	return (&yamlx.Error{Pos: yamlx.Pos{File: e.Name, Line: e.Line, Col: e.Col}, Msg: msg}).Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Template is a parsed template, safe to render concurrently.
type Template struct {
	name string
	src  string
	body []node
}

// Name is the name the template was parsed with.
func (t *Template) Name() string { return t.name }

// Parse parses text; syntax errors name name:line:col.
func Parse(name, text string) (*Template, error) {
	p := &parser{name: name, src: text}
	toks, err := p.lex()
	if err != nil {
		return nil, err
	}
	p.toks = toks
	body, end, err := p.parseBody(nil)
	if err != nil {
		return nil, err
	}
	if end != nil {
		return nil, p.errAt(end.pos, fmt.Sprintf("unexpected {%% %s %%}", end.word))
	}
	return &Template{name: name, src: text, body: body}, nil
}

// RenderString parses and renders text in one step.
func RenderString(name, text string, vars map[string]any) (string, error) {
	t, err := Parse(name, text)
	if err != nil {
		return "", err
	}
	return t.Render(vars)
}

// RenderStringIn parses and renders text with the variables of sc.
func RenderStringIn(name, text string, sc expr.Scope) (string, error) {
	t, err := Parse(name, text)
	if err != nil {
		return "", err
	}
	return t.RenderIn(sc)
}

// Render renders the template with vars; runtime errors name name:line.
func (t *Template) Render(vars map[string]any) (string, error) {
	return t.RenderIn(expr.MapScope(vars))
}

// RenderIn renders the template with the variables of sc, which are looked
// up (and rendered) only when the template uses them.
func (t *Template) RenderIn(sc expr.Scope) (string, error) {
	r := &renderer{t: t, sc: &scope{base: sc}, ctx: expr.ScopeContext(sc)}
	var b strings.Builder
	if err := r.nodes(&b, t.body); err != nil {
		return "", err
	}
	return b.String(), nil
}

// scope layers template variables (set, loop) over the caller's vars.
type scope struct {
	base   expr.Scope
	frames []map[string]any
}

// Context implements expr.ContextScope: the caller's context.
func (s *scope) Context() context.Context { return expr.ScopeContext(s.base) }

// Names implements expr.NamedScope: the template's names and the caller's.
func (s *scope) Names() []string {
	var out []string
	if ns, ok := s.base.(expr.NamedScope); ok {
		out = ns.Names()
	}
	for _, f := range s.frames {
		for k := range f {
			out = append(out, k)
		}
	}
	return out
}

func (s *scope) Lookup(name string) (any, bool) {
	for i := len(s.frames) - 1; i >= 0; i-- {
		if v, ok := s.frames[i][name]; ok {
			return expr.Raw{Value: v}, true
		}
	}
	return s.base.Lookup(name)
}

func (s *scope) set(name string, v any) {
	if len(s.frames) == 0 {
		s.frames = append(s.frames, map[string]any{})
	}
	s.frames[len(s.frames)-1][name] = v
}

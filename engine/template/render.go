package template

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/yamlx"
)

type renderer struct {
	t          *Template
	sc         *scope
	ctx        context.Context
	iterations int
}

// grown checks the output after a write at pos: not larger than
// expr.MaxValueSize, and the run not cancelled.
func (r *renderer) grown(b *strings.Builder, pos int) error {
	if err := expr.CheckSize("rendered output", b.Len()); err != nil {
		return r.fail(pos, err)
	}
	return nil
}

// step counts one loop iteration and stops when the run is cancelled or
// the loops ran more than expr.MaxLoopIterations times.
func (r *renderer) step(pos int) error {
	r.iterations++
	if err := expr.CheckIterations(r.iterations); err != nil {
		return r.fail(pos, err)
	}
	if err := r.ctx.Err(); err != nil {
		return r.fail(pos, fmt.Errorf("stopped: %w", err))
	}
	return nil
}

func (r *renderer) fail(pos int, err error) error {
	var te *Error
	if errors.As(err, &te) {
		return err
	}
	line := 1 + strings.Count(r.t.src[:min(pos, len(r.t.src))], "\n")
	return &Error{Name: r.t.name, Line: line, Err: err, Snippet: yamlx.SnippetOf(r.t.src, line, 0)}
}

func (r *renderer) eval(e exprNode) (any, error) {
	v, err := expr.EvalIn(e.code, r.sc)
	if err != nil {
		return nil, r.fail(e.pos, err)
	}
	return v, nil
}

func (r *renderer) nodes(b *strings.Builder, nodes []node) error {
	for _, n := range nodes {
		switch x := n.(type) {
		case textNode:
			b.WriteString(x.text)
			if err := r.grown(b, x.pos); err != nil {
				return err
			}
		case exprNode:
			v, err := r.eval(x)
			if err != nil {
				return err
			}
			b.WriteString(PyString(v))
			if err := r.grown(b, x.pos); err != nil {
				return err
			}
		case *ifNode:
			done := false
			for i, c := range x.conds {
				v, err := r.eval(c)
				if err != nil {
					return err
				}
				if expr.Truthy(v) {
					if err := r.nodes(b, x.bodies[i]); err != nil {
						return err
					}
					done = true
					break
				}
			}
			if !done {
				if err := r.nodes(b, x.els); err != nil {
					return err
				}
			}
		case setNode:
			v, err := r.eval(x.value)
			if err != nil {
				return err
			}
			r.sc.set(x.name, v)
		case *setBlockNode:
			var inner strings.Builder
			if err := r.nodes(&inner, x.body); err != nil {
				return err
			}
			r.sc.set(x.name, inner.String())
		case *forNode:
			if err := r.loop(b, x); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *renderer) loop(b *strings.Builder, f *forNode) error {
	v, err := r.eval(f.list)
	if err != nil {
		return err
	}
	items, err := iterate(v, len(f.names))
	if err != nil {
		return r.fail(f.list.pos, fmt.Errorf("for %s in %s: %w", strings.Join(f.names, ", "), f.list.code, err))
	}
	if f.filter != nil {
		kept := items[:0:0]
		for _, item := range items {
			if err := r.step(f.pos); err != nil {
				return err
			}
			frame, err := bindNames(f, item)
			if err != nil {
				return r.fail(f.pos, err)
			}
			r.sc.frames = append(r.sc.frames, frame)
			v, err := r.eval(*f.filter)
			r.sc.frames = r.sc.frames[:len(r.sc.frames)-1]
			if err != nil {
				return err
			}
			if expr.Truthy(v) {
				kept = append(kept, item)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		return r.nodes(b, f.els)
	}
	for i, item := range items {
		if err := r.step(f.pos); err != nil {
			return err
		}
		frame := map[string]any{
			"loop": map[string]any{
				"index":     i + 1,
				"index0":    i,
				"revindex":  len(items) - i,
				"revindex0": len(items) - i - 1,
				"first":     i == 0,
				"last":      i == len(items)-1,
				"length":    len(items),
			},
		}
		names, err := bindNames(f, item)
		if err != nil {
			return r.fail(f.pos, err)
		}
		for k, v := range names {
			frame[k] = v
		}
		r.sc.frames = append(r.sc.frames, frame)
		err = r.nodes(b, f.body)
		r.sc.frames = r.sc.frames[:len(r.sc.frames)-1]
		if err != nil {
			return err
		}
	}
	return nil
}

// bindNames gives the loop's names their values for one item.
func bindNames(f *forNode, item any) (map[string]any, error) {
	if len(f.names) == 1 {
		return map[string]any{f.names[0]: item}, nil
	}
	parts, err := unpack(item, len(f.names))
	if err != nil {
		return nil, fmt.Errorf("for %s in %s: %w", strings.Join(f.names, ", "), f.list.code, err)
	}
	out := make(map[string]any, len(parts))
	for k, name := range f.names {
		out[name] = parts[k]
	}
	return out, nil
}

// iterate lists what a for loop walks over: a list's elements, a map's keys
// in order (or, with two names, its [key, value] pairs), a string's
// characters.
func iterate(v any, names int) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, errors.New("cannot loop over nil")
	case string:
		var out []any
		for _, c := range x {
			out = append(out, string(c))
		}
		return out, nil
	case []any:
		return x, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out, nil
	case reflect.Map:
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i].Interface()) < fmt.Sprint(keys[j].Interface()) })
		out := make([]any, len(keys))
		for i, k := range keys {
			if names == 2 {
				out[i] = []any{k.Interface(), rv.MapIndex(k).Interface()}
			} else {
				out[i] = k.Interface()
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot loop over %T", v)
}

// unpack splits one loop item into n values: a list of n elements, or a
// {key, value} map (as dict2items gives) for two names.
func unpack(item any, n int) ([]any, error) {
	if m, ok := item.(map[string]any); ok && n == 2 {
		k, hasK := m["key"]
		v, hasV := m["value"]
		if hasK && hasV {
			return []any{k, v}, nil
		}
	}
	rv := reflect.ValueOf(item)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		if rv.Len() != n {
			return nil, fmt.Errorf("cannot unpack %d values into %d names", rv.Len(), n)
		}
		out := make([]any, n)
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot unpack %T into %d names", item, n)
}

// PyString writes v as Jinja (Python's str) does: strings as they are,
// True/False, None, floats with a ".0", lists and maps in Python's repr.
func PyString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	}
	return pyRepr(v)
}

func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return pyQuote(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return pyFloat(x)
	case float32:
		return pyFloat(float64(x))
	case []byte:
		return pyQuote(string(x))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10)
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = pyRepr(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i].Interface()) < fmt.Sprint(keys[j].Interface()) })
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k.Interface()) + ": " + pyRepr(rv.MapIndex(k).Interface())
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// pyQuote is Python's repr of a string.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyFloat is Python's repr of a float: shortest round-trip digits, fixed
// notation for exponents from -4 to 15, always with a decimal point.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

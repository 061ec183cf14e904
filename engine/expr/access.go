package expr

import (
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/expr-lang/expr/vm/runtime"
)

// lazyHostvars is hostvars as seen from an expression: a host's map is only
// looked at when the expression reaches into it.
type lazyHostvars struct{ all any }

// lazyHost is one host's variables; its values are rendered with that
// host's own variables when read.
type lazyHost struct{ vars map[string]any }

func (h *lazyHostvars) host(name string) (*lazyHost, bool) {
	switch m := h.all.(type) {
	case map[string]map[string]any:
		v, ok := m[name]
		return &lazyHost{v}, ok
	case map[string]any:
		v, ok := m[name]
		if !ok {
			return nil, false
		}
		if hv, isMap := v.(map[string]any); isMap {
			return &lazyHost{hv}, true
		}
		if raw, isRaw := v.(Raw); isRaw {
			if hv, isMap := raw.Value.(map[string]any); isMap {
				return &lazyHost{hv}, true
			}
		}
		return nil, false
	}
	return nil, false
}

func (h *lazyHostvars) names() []string {
	var out []string
	switch m := h.all.(type) {
	case map[string]map[string]any:
		for k := range m {
			out = append(out, k)
		}
	case map[string]any:
		for k := range m {
			out = append(out, k)
		}
	}
	return out
}

// get renders one variable of the host; a value that fails to render is
// returned as it is written.
func (h *lazyHost) get(name string) (any, bool) {
	v, ok := h.vars[name]
	if !ok {
		return nil, false
	}
	if raw, isRaw := v.(Raw); isRaw {
		return raw.Value, true
	}
	if name == HostvarsName || !needsRender(v) {
		return v, true
	}
	out, ok2, err := newResolver(MapScope(h.vars)).lookup(name)
	if err != nil || !ok2 {
		return v, true
	}
	return out, true
}

// materialize turns lazy hostvars into plain maps.
func materialize(v any) any {
	switch x := v.(type) {
	case *lazyHostvars:
		out := map[string]any{}
		for _, n := range x.names() {
			if h, ok := x.host(n); ok {
				out[n] = materialize(h)
			}
		}
		return out
	case *lazyHost:
		out := make(map[string]any, len(x.vars))
		for k := range x.vars {
			if k == HostvarsName {
				continue
			}
			out[k], _ = x.get(k)
		}
		return out
	case *undefined:
		return nil
	}
	return v
}

type accessMode int

const (
	strict   accessMode = iota // missing is an error
	soft                       // missing is undefined (inside default())
	optional                   // missing is nil (?. chains)
)

func (r *resolver) variable(name string, mode accessMode, lazy bool) (any, error) {
	v, ok, err := r.lookup(name)
	if err != nil {
		var ue *UndefinedError
		if mode != strict && errors.As(err, &ue) {
			return &undefined{name: name}, nil
		}
		return nil, err
	}
	if !ok {
		if mode == strict {
			return nil, &UndefinedError{Name: name}
		}
		return &undefined{name: name}, nil
	}
	if !lazy {
		return materialize(v), nil
	}
	return v, nil
}

func missing(mode accessMode, path string, key any) (any, error) {
	switch mode {
	case soft:
		return &undefined{name: path}, nil
	case optional:
		return nil, nil
	}
	return nil, &UndefinedError{Name: path, Key: fmt.Sprint(key)}
}

func member(base, key any, path string, mode accessMode, lazy bool) (any, error) {
	switch b := base.(type) {
	case *undefined:
		if mode == strict {
			return nil, &UndefinedError{Name: b.name}
		}
		if mode == optional {
			return nil, nil
		}
		return b, nil
	case nil:
		if mode == strict {
			return nil, &EvalError{Msg: fmt.Sprintf("cannot read key %s of a nil value (%s)", quoteKey(key), path)}
		}
		return missing(mode, path, key)
	case Raw:
		return member(b.Value, key, path, mode, lazy)
	case *lazyHostvars:
		name, _ := key.(string)
		h, ok := b.host(name)
		if !ok {
			if mode == strict {
				return nil, &UndefinedError{Name: path, Key: fmt.Sprint(key)}
			}
			return missing(mode, path, key)
		}
		if lazy {
			return h, nil
		}
		return materialize(h), nil
	case *lazyHost:
		name, _ := key.(string)
		v, ok := b.get(name)
		if !ok {
			return missing(mode, path, key)
		}
		if name == HostvarsName {
			return &lazyHostvars{all: v}, nil
		}
		return v, nil
	case map[string]any:
		k, ok := key.(string)
		if !ok {
			k = ToString(key)
		}
		v, ok := b[k]
		if !ok {
			return missing(mode, path, key)
		}
		if raw, isRaw := v.(Raw); isRaw {
			return raw.Value, nil
		}
		return v, nil
	case string:
		i, ok := asIndex(key)
		if !ok {
			return nil, &EvalError{Msg: fmt.Sprintf("a string index must be an integer, not %s (%s)", quoteKey(key), path)}
		}
		r := []rune(b)
		if i < 0 {
			i += len(r)
		}
		if i < 0 || i >= len(r) {
			if mode == strict {
				return nil, &EvalError{Msg: fmt.Sprintf("index %v out of range for a string of %d characters (%s)", key, len(r), path)}
			}
			return missing(mode, path, key)
		}
		return string(r[i]), nil
	case []any:
		i, ok := asIndex(key)
		if !ok {
			return nil, &EvalError{Msg: fmt.Sprintf("a list index must be an integer, not %s (%s)", quoteKey(key), path)}
		}
		if i < 0 {
			i += len(b)
		}
		if i < 0 || i >= len(b) {
			if mode == strict {
				return nil, &EvalError{Msg: fmt.Sprintf("index %v out of range for a list of %d (%s)", key, len(b), path)}
			}
			return missing(mode, path, key)
		}
		return b[i], nil
	}
	rv := reflect.ValueOf(base)
	if rv.Kind() == reflect.Map {
		kv := reflect.ValueOf(key)
		if !kv.IsValid() || !kv.Type().AssignableTo(rv.Type().Key()) {
			if kv.IsValid() && kv.Type().ConvertibleTo(rv.Type().Key()) && kv.Kind() == rv.Type().Key().Kind() {
				kv = kv.Convert(rv.Type().Key())
			} else {
				return missing(mode, path, key)
			}
		}
		v := rv.MapIndex(kv)
		if !v.IsValid() {
			return missing(mode, path, key)
		}
		return v.Interface(), nil
	}
	return fetch(base, key, path, mode)
}

func fetch(base, key any, path string, mode accessMode) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			if mode == strict {
				out, err = nil, &EvalError{Msg: fmt.Sprintf("cannot read %s of %s (%s): %v", quoteKey(key), TypeName(base), path, r)}
			} else {
				out, err = missing(mode, path, key)
			}
		}
	}()
	return runtime.Fetch(base, key), nil
}

func quoteKey(k any) string {
	if s, ok := k.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(k)
}

func asIndex(k any) (int, bool) {
	switch x := k.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case uint64:
		return int(x), true
	case float64:
		if x == float64(int(x)) {
			return int(x), true
		}
	}
	rv := reflect.ValueOf(k)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(rv.Uint()), true
	}
	return 0, false
}

// internalFuncs are the calls the compiler rewrites variable access into.
func internalFuncs() []funcDef {
	res := func(a any) *resolver { return a.(*resolver) }
	varFn := func(mode accessMode, lazy bool) func(...any) (any, error) {
		return func(a ...any) (any, error) { return res(a[0]).variable(a[1].(string), mode, lazy) }
	}
	memberFn := func(mode accessMode, lazy bool) func(...any) (any, error) {
		return func(a ...any) (any, error) { return member(a[0], a[1], a[2].(string), mode, lazy) }
	}
	return []funcDef{
		{name: "__v", fn: varFn(strict, false)},
		{name: "__b", fn: varFn(strict, true)},
		{name: "__s", fn: varFn(soft, true)},
		{name: "__g", fn: memberFn(strict, false)},
		{name: "__gl", fn: memberFn(strict, true)},
		{name: "__sg", fn: memberFn(soft, false)},
		{name: "__sgl", fn: memberFn(soft, true)},
		{name: "__og", fn: memberFn(optional, false)},
		{name: "__ogl", fn: memberFn(optional, true)},
		{name: "__opt", fn: func(a ...any) (any, error) { return materialize(a[0]), nil }},
		{name: "__pow", fn: func(a ...any) (any, error) {
			x, okx := toFloat(a[0])
			y, oky := toFloat(a[1])
			if !okx || !oky || !isNumber(a[0]) || !isNumber(a[1]) {
				return nil, &EvalError{Msg: fmt.Sprintf("** needs numbers, got %s and %s", TypeName(a[0]), TypeName(a[1]))}
			}
			r := math.Pow(x, y)
			_, fx := a[0].(float64)
			_, fy := a[1].(float64)
			if !fx && !fy && y >= 0 && r < 1<<53 {
				return int(r), nil
			}
			return r, nil
		}},
		{name: "__floordiv", fn: floorDivide},
		{name: "__div", fn: divide},
		{name: "__mod", fn: modulo},
		{name: "__add", fn: add},
		{name: "__strformat", fn: strFormat},
		{name: "__truthy", fn: func(a ...any) (any, error) { return Truthy(a[0]), nil }},
		{name: "__not", fn: func(a ...any) (any, error) { return !Truthy(a[0]), nil }},
		{name: "__concat", fn: func(a ...any) (any, error) {
			l, r := ToString(a[0]), ToString(a[1])
			if err := checkSize(len(l) + len(r)); err != nil {
				return nil, err
			}
			return l + r, nil
		}},
	}
}

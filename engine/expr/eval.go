package expr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Scope supplies variables by name. A value of type Raw is used as it is;
// any other value is rendered first (a string holding {{ }} is evaluated,
// recursively through lists and maps).
type Scope interface {
	Lookup(name string) (any, bool)
}

// MapScope is a Scope over a flat map of variables.
type MapScope map[string]any

// Lookup implements Scope.
func (m MapScope) Lookup(name string) (any, bool) {
	v, ok := m[name]
	return v, ok
}

// Raw marks a value that must not be rendered again: command output, a
// registered result, a loop item that is already a final value.
type Raw struct{ Value any }

// HostvarsName is the variable whose inner values are rendered with each
// host's own variables, lazily.
const HostvarsName = "hostvars"

// Eval evaluates one expression with vars.
func Eval(code string, vars map[string]any) (any, error) {
	return EvalIn(code, MapScope(vars))
}

// EvalIn evaluates one expression with the variables of s.
func EvalIn(code string, s Scope) (any, error) {
	r := newResolver(s)
	v, err := r.eval(code)
	if err != nil {
		return nil, err
	}
	return materialize(v), nil
}

// EvalBool evaluates a condition: Condition(Eval(code, vars)).
func EvalBool(code string, vars map[string]any) (bool, error) {
	v, err := Eval(code, vars)
	if err != nil {
		return false, err
	}
	return Condition(v)
}

// Truthy is the one truth of a value, Jinja's (Python's): nil, false,
// zero, "" and empty lists and maps are false; everything else is true,
// the string "no" and "false" included (write x | bool to read them as
// Ansible's booleans). {% if %}, ternary, the truthy test, select and
// default(x, d, true) use it; conditions use Condition.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int:
		return x != 0
	case float64:
		return x != 0
	case *undefined:
		return false
	case Raw:
		return Truthy(x.Value)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array, reflect.String:
		return rv.Len() > 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint() != 0
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}

// AllowBrokenConditionalsEnv, set to a true value, lets a condition
// whose result is not a boolean pass through Truthy, as Ansible's
// ALLOW_BROKEN_CONDITIONALS does: a migration aid.
const AllowBrokenConditionalsEnv = "TPAGO_ALLOW_BROKEN_CONDITIONALS"

// ConditionError is a condition (when, assert's that, until, changed_when,
// failed_when) whose result is not true or false.
type ConditionError struct {
	Value any
}

func (e *ConditionError) Error() string {
	shown := ToString(e.Value)
	if len(shown) > 40 {
		shown = shown[:37] + "..."
	}
	switch e.Value.(type) {
	case nil:
		shown = "None"
	case string:
		shown = fmt.Sprintf("%q", shown)
	}
	return fmt.Sprintf("conditional result was %s of type %s, which is %t; a condition must be true or false (write x | bool, x | length > 0, x is truthy, x is defined; or set %s=1 while migrating)",
		shown, TypeName(e.Value), Truthy(e.Value), AllowBrokenConditionalsEnv)
}

// Condition is the result of a condition, as ansible-core 2.19 decides
// it: true or false, and an error for any other value (a string, even
// "yes" or "no", a number, a list, None).
func Condition(v any) (bool, error) {
	if r, ok := v.(Raw); ok {
		v = r.Value
	}
	if b, ok := v.(bool); ok {
		return b, nil
	}
	if allowBroken() {
		return Truthy(v), nil
	}
	return false, &ConditionError{Value: v}
}

func allowBroken() bool {
	b, err := strconv.ParseBool(os.Getenv(AllowBrokenConditionalsEnv))
	return err == nil && b
}

// HasTemplate reports whether s contains {{ or {%.
func HasTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// undefined stands for a variable or key that has no value, inside the
// first argument of default() and friends.
type undefined struct{ name string }

// resolver looks variables up and renders their values, once each per
// evaluation, detecting cycles.
type resolver struct {
	scope Scope
	memo  map[string]any
	stack []string
	env   map[string]any
	ctx   context.Context
}

func newResolver(s Scope) *resolver {
	r := &resolver{scope: s, ctx: ScopeContext(s)}
	r.env = map[string]any{resolverVar: r}
	return r
}

// lookup returns the rendered value of name; ok is false when undefined.
func (r *resolver) lookup(name string) (any, bool, error) {
	if v, ok := r.memo[name]; ok {
		return v, true, nil
	}
	v, ok := r.scope.Lookup(name)
	if !ok {
		return nil, false, nil
	}
	if raw, isRaw := v.(Raw); isRaw {
		return raw.Value, true, nil
	}
	if name == HostvarsName {
		return &lazyHostvars{all: v}, true, nil
	}
	if !needsRender(v) {
		return v, true, nil
	}
	for i, s := range r.stack {
		if s == name {
			chain := append(append([]string(nil), r.stack[i:]...), name)
			return nil, false, &CycleError{Chain: chain}
		}
	}
	r.stack = append(r.stack, name)
	out, err := r.renderDeep(v)
	r.stack = r.stack[:len(r.stack)-1]
	if err != nil {
		var ce *CycleError
		if errors.As(err, &ce) {
			return nil, false, ce
		}
		return nil, false, &VarError{Name: name, Err: err}
	}
	if r.memo == nil {
		r.memo = map[string]any{}
	}
	r.memo[name] = out
	return out, true, nil
}

// needsRender reports whether v holds a template anywhere, cheaply for
// the common scalar cases.
func needsRender(v any) bool {
	switch x := v.(type) {
	case string:
		return HasTemplate(x)
	case nil, bool, int, int64, uint64, float64:
		return false
	case []any:
		for _, e := range x {
			if needsRender(e) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range x {
			if needsRender(e) {
				return true
			}
		}
		return false
	case []string:
		for _, e := range x {
			if HasTemplate(e) {
				return true
			}
		}
		return false
	case map[string]string:
		for _, e := range x {
			if HasTemplate(e) {
				return true
			}
		}
		return false
	case map[any]any:
		for _, e := range x {
			if needsRender(e) {
				return true
			}
		}
		return false
	}
	return false
}

var vmPool = sync.Pool{New: func() any { return &vm.VM{} }}

func (r *resolver) eval(code string) (any, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, &EvalError{Expr: code, Msg: "stopped: " + err.Error(), Err: err}
	}
	p, err := compile(code)
	if err != nil {
		return nil, err
	}
	m := vmPool.Get().(*vm.VM)
	out, err := m.Run(p.prog, r.env)
	vmPool.Put(m)
	if err != nil {
		return nil, runtimeErr(code, err)
	}
	return out, nil
}

func runtimeErr(code string, err error) error {
	inner := err
	var fe *file.Error
	if errors.As(err, &fe) && fe.Prev != nil {
		inner = fe.Prev
	}
	switch x := inner.(type) {
	case *UndefinedError:
		if x.Expr == "" {
			c := *x
			c.Expr = code
			return &c
		}
		return x
	case *EvalError:
		if x.Expr == "" {
			c := *x
			c.Expr = code
			return &c
		}
		return x
	case *CycleError, *SyntaxError, *VarError:
		return x
	}
	if inner != err {
		return &EvalError{Expr: code, Msg: ansibleWords(inner.Error()), Err: inner}
	}
	msg := err.Error()
	if fe != nil {
		msg = fe.Message
	}
	return &EvalError{Expr: code, Msg: ansibleWords(msg), Err: err}
}

// Render renders a string that may hold {{ expr }} parts. When the whole
// string is one {{ expr }} (whitespace around it allowed) the result keeps
// the expression's native type; otherwise the parts are concatenated as
// strings (lists and maps as JSON, nil as "").
func Render(s string, vars map[string]any) (any, error) {
	return RenderIn(s, MapScope(vars))
}

// RenderIn is Render with the variables of sc.
func RenderIn(s string, sc Scope) (any, error) {
	if !HasTemplate(s) {
		return s, nil
	}
	r := newResolver(sc)
	v, err := r.render(s)
	if err != nil {
		return nil, err
	}
	return materialize(v), nil
}

// RenderDeep renders every string inside v (nested lists and maps) and
// returns a new value; v is not modified.
func RenderDeep(v any, vars map[string]any) (any, error) {
	return RenderDeepIn(v, MapScope(vars))
}

// RenderDeepIn is RenderDeep with the variables of sc.
func RenderDeepIn(v any, sc Scope) (any, error) {
	if !needsRender(v) {
		return v, nil
	}
	r := newResolver(sc)
	out, err := r.renderDeep(v)
	if err != nil {
		return nil, err
	}
	return materialize(out), nil
}

func (r *resolver) renderDeep(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if !HasTemplate(x) {
			return x, nil
		}
		return r.render(x)
	case []any:
		return renderSlice(r, x)
	case []string:
		return renderSlice(r, x)
	case map[string]any:
		return renderMap(r, x)
	case map[string]string:
		return renderMap(r, x)
	case map[any]any:
		return renderMap(r, x)
	case Raw:
		return x.Value, nil
	}
	return v, nil
}

// renderSlice renders every element of a list that holds templates.
func renderSlice[E any](r *resolver, x []E) (any, error) {
	if !needsRender(x) {
		return x, nil
	}
	out := make([]any, len(x))
	for i, e := range x {
		o, err := r.renderDeep(e)
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}

// renderMap renders every value of a map that holds templates.
func renderMap[K comparable, E any](r *resolver, x map[K]E) (any, error) {
	if !needsRender(x) {
		return x, nil
	}
	out := make(map[K]any, len(x))
	for k, e := range x {
		o, err := r.renderDeep(e)
		if err != nil {
			return nil, err
		}
		out[k] = o
	}
	return out, nil
}

// segment is a piece of a templated string: literal text or an expression.
type segment struct {
	text   string
	code   string
	isCode bool
}

type parsedString struct {
	blocks   bool // holds {% %} tags: rendered by the block engine
	blockCol int
	segs     []segment
	single   bool // exactly one expression and only spaces around it (a newline makes it text)
	err      error
}

var (
	stringCache     sync.Map // string -> *parsedString
	stringCacheSize atomic.Int64
)

func parseString(s string) *parsedString {
	if p, ok := stringCache.Load(s); ok {
		return p.(*parsedString)
	}
	p := parseStringUncached(s)
	if stringCacheSize.Add(1) > maxCached {
		stringCache.Clear()
		stringCacheSize.Store(0)
	}
	stringCache.Store(s, p)
	return p
}

func parseStringUncached(s string) *parsedString {
	p := &parsedString{}
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if j := strings.Index(rest, "{%"); j >= 0 && (i < 0 || j < i) {
			p.blocks = true
			p.blockCol = len([]rune(s[:len(s)-len(rest)+j])) + 1
			return p
		}
		if i < 0 {
			if rest != "" {
				p.segs = append(p.segs, segment{text: rest})
			}
			break
		}
		if i > 0 {
			p.segs = append(p.segs, segment{text: rest[:i]})
		}
		end := FindClose(rest[i+2:], "}}")
		if end < 0 {
			p.err = &SyntaxError{Expr: s, Msg: "unclosed {{", Col: len([]rune(s[:len(s)-len(rest)+i])) + 1}
			return p
		}
		code := rest[i+2 : i+2+end]
		if strings.HasPrefix(code, "-") {
			code = code[1:]
			if n := len(p.segs); n > 0 && !p.segs[n-1].isCode {
				p.segs[n-1].text = strings.TrimRight(p.segs[n-1].text, " \t\r\n")
			}
		}
		trimAfter := false
		if strings.HasSuffix(code, "-") {
			code = code[:len(code)-1]
			trimAfter = true
		}
		p.segs = append(p.segs, segment{code: strings.TrimSpace(code), isCode: true})
		rest = rest[i+2+end+2:]
		if trimAfter {
			rest = strings.TrimLeft(rest, " \t\r\n")
		}
	}
	codes := 0
	others := false
	for _, sg := range p.segs {
		if sg.isCode {
			codes++
		} else if strings.Trim(sg.text, " \t") != "" {
			others = true
		}
	}
	p.single = codes == 1 && !others
	return p
}

// FindClose returns the index in s of the closing delimiter (such as "}}"),
// skipping quoted strings and balanced { } (a dict literal's "}}" does not
// close {{ }}, as in Jinja), or -1.
func FindClose(s, delim string) int {
	var quote byte
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		if depth == 0 && strings.HasPrefix(s[i:], delim) {
			return i
		}
		switch c {
		case '"', '\'', '`':
			quote = c
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return -1
}

// CheckTemplate compiles every {{ }} expression in s without evaluating.
func CheckTemplate(s string) error {
	p := parseString(s)
	if p.err != nil {
		return p.err
	}
	if p.blocks {
		be := currentBlockEngine()
		if be == nil {
			return noBlockEngine(s, p)
		}
		return be.Check(s)
	}
	for _, sg := range p.segs {
		if sg.isCode {
			if err := Check(sg.code); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *resolver) render(s string) (any, error) {
	p := parseString(s)
	if p.err != nil {
		return nil, p.err
	}
	if p.blocks {
		return r.renderBlocks(s, p)
	}
	if p.single {
		for _, sg := range p.segs {
			if sg.isCode {
				return r.eval(sg.code)
			}
		}
	}
	var b strings.Builder
	for _, sg := range p.segs {
		if !sg.isCode {
			b.WriteString(sg.text)
			continue
		}
		v, err := r.eval(sg.code)
		if err != nil {
			return nil, err
		}
		b.WriteString(ToString(materialize(v)))
		if err := CheckSize("value", b.Len()); err != nil {
			return nil, &EvalError{Expr: s, Msg: err.Error(), Err: err}
		}
	}
	return b.String(), nil
}

// ToString is how a value is written into a string: strings as they are,
// nil as "", lists and maps as JSON, numbers without exponent where
// possible.
func ToString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array, reflect.Struct:
		b, err := json.Marshal(jsonable(v))
		if err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// jsonable converts map[any]any (which encoding/json refuses) recursively.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	}
	return v
}

// sortedKeys returns a map's keys in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

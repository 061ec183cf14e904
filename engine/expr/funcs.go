package expr

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// FuncDoc describes one function of the expression language.
type FuncDoc struct {
	Name      string
	Signature string
	Doc       string
}

type funcDef struct {
	name string
	sig  string
	doc  string
	fn   func(args ...any) (any, error)
}

var funcIndex = map[string]funcDef{}

var funcList []funcDef

func init() {
	for _, f := range allFuncs() {
		funcIndex[f.name] = f
	}
	// expr builtins that are kept as they are; listed for the docs and so
	// the compiler knows them.
	for _, b := range builtinDocs {
		funcIndex[b.Name] = funcDef{name: b.Name}
	}
}

// builtinDocs documents expr's own builtins that keep their meaning.
var builtinDocs = []FuncDoc{
	{"len", "len(v)", "length of a string, list or map (same as length)"},
	{"abs", "abs(n)", "absolute value"},
	{"ceil", "ceil(n)", "smallest integer not less than n, as a float"},
	{"floor", "floor(n)", "largest integer not greater than n, as a float"},
	{"reverse", "reverse(list)", "the list in reverse order"},
	{"all", "all(list, predicate)", "whether the predicate holds for every element (# is the element)"},
	{"any", "any(list, predicate)", "whether the predicate holds for some element"},
	{"filter", "filter(list, predicate)", "the elements for which the predicate holds, e.g. filter(users, .admin)"},
	{"map", "map(list, expr)", "each element mapped, e.g. map(users, .name)"},
	{"count", "count(list, predicate)", "how many elements satisfy the predicate"},
	{"sum", "sum(list)", "sum of the numbers in the list"},
	{"find", "find(list, predicate)", "the first element for which the predicate holds, or nil"},
	{"groupBy", "groupBy(list, expr)", "map from each key to the elements with that key"},
	{"sortBy", "sortBy(list, expr, [\"desc\"])", "the list sorted by a key"},
	{"trimPrefix", "trimPrefix(s, prefix)", "s without the prefix"},
	{"trimSuffix", "trimSuffix(s, suffix)", "s without the suffix"},
	{"indexOf", "indexOf(s, sub)", "index of sub in s, or -1"},
	{"concat", "concat(list, ...)", "the lists joined into one"},
	{"now", "now()", "the current time"},
	{"type", "type(v)", "the name of v's type"},
}

// Functions lists every function of the expression language, sorted by
// name, with its signature and a one-line description.
func Functions() []FuncDoc {
	var out []FuncDoc
	for _, f := range allFuncs() {
		if f.doc == "" {
			continue
		}
		out = append(out, FuncDoc{Name: f.name, Signature: f.sig, Doc: f.doc})
	}
	out = append(out, builtinDocs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var allFuncsOnce sync.Once

func allFuncs() []funcDef {
	allFuncsOnce.Do(func() {
		funcList = append(internalFuncs(), userFuncs()...)
		funcList = append(funcList, selectFuncs()...)
	})
	return funcList
}

func argErr(name string, format string, a ...any) error {
	return &EvalError{Msg: name + ": " + fmt.Sprintf(format, a...)}
}

func nargs(name string, args []any, min, max int) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		switch {
		case min == max:
			return argErr(name, "takes %d argument(s), got %d", min, len(args))
		case max < 0:
			return argErr(name, "takes at least %d argument(s), got %d", min, len(args))
		}
		return argErr(name, "takes %d to %d arguments, got %d", min, max, len(args))
	}
	return nil
}

// toList converts any slice to []any.
func toList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, true
	case nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = rv.Index(i).Interface()
		}
		return out, true
	}
	return nil, false
}

// toMap converts any map with string-like keys to map[string]any.
func toMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case *lazyHost, *lazyHostvars:
		return toMap(materialize(x))
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	it := rv.MapRange()
	for it.Next() {
		out[ToString(it.Key().Interface())] = it.Value().Interface()
	}
	return out, true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case string:
		s := strings.TrimSpace(x)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int(i), true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return int(f), true
		}
		return 0, false
	}
	if i, ok := asIndex(v); ok {
		return i, true
	}
	if f, ok := toFloat(v); ok {
		return int(f), true
	}
	return 0, false
}

func isNumber(v any) bool {
	switch v.(type) {
	case bool, string, nil:
		return false
	}
	_, ok := toFloat(v)
	return ok
}

// equal compares values the way an author expects: numbers by value,
// everything else deeply.
func equal(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		x, _ := toFloat(a)
		y, _ := toFloat(b)
		return x == y
	}
	return reflect.DeepEqual(a, b)
}

// compare orders numbers numerically and everything else as strings.
func compare(a, b any) int {
	if isNumber(a) && isNumber(b) {
		x, _ := toFloat(a)
		y, _ := toFloat(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(ToString(a), ToString(b))
}

// setKey gives equal values the same key for set operations.
func setKey(v any) string {
	if isNumber(v) {
		f, _ := toFloat(v)
		return "n:" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	if s, ok := v.(string); ok {
		return "s:" + s
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return fmt.Sprintf("%T:%v", v, v)
	}
	return "j:" + string(b)
}

func isUndefined(v any) bool {
	_, ok := v.(*undefined)
	return ok
}

func isMapValue(v any) bool {
	return v != nil && reflect.ValueOf(v).Kind() == reflect.Map
}

// registry collects the functions of the language; each theme (the
// funcs_*.go files) adds its own.
type registry struct{ fs []funcDef }

func (r *registry) add(name, sig, doc string, fn func(...any) (any, error)) {
	r.fs = append(r.fs, funcDef{name: name, sig: sig, doc: doc, fn: fn})
}

// addN adds a function that takes min to max arguments.
func (r *registry) addN(name, sig, doc string, min, max int, fn func(...any) (any, error)) {
	r.add(name, sig, doc, func(a ...any) (any, error) {
		if err := nargs(name, a, min, max); err != nil {
			return nil, err
		}
		return fn(a...)
	})
}

func userFuncs() []funcDef {
	r := &registry{}
	for _, theme := range []func(*registry){
		coreFuncs, testFuncs, stringFuncs, encodingFuncs, pathFuncs, listFuncs,
		dictFuncs, convertFuncs, hashFuncs, mathFuncs, lookupFuncs,
	} {
		theme(r)
	}
	return r.fs
}

// str is how a function reads an argument as text.
func str(v any) string { return ToString(materialize(v)) }

// list reads a function's argument as a list.
func list(name string, v any) ([]any, error) {
	v = materialize(v)
	if l, ok := toList(v); ok {
		return l, nil
	}
	if v == nil {
		return nil, argErr(name, "expects a list, got None")
	}
	return nil, argErr(name, "expects a list, got %s", TypeName(v))
}

// mapArg reads a function's argument as a map.
func mapArg(name string, v any) (map[string]any, error) {
	if m, ok := toMap(materialize(v)); ok {
		return m, nil
	}
	return nil, argErr(name, "expects a dict, got %s", TypeName(v))
}

// str1 makes a function of one string.
func str1(name string, f func(string) any) func(...any) (any, error) {
	return func(a ...any) (any, error) {
		if err := nargs(name, a, 1, 1); err != nil {
			return nil, err
		}
		return f(str(a[0])), nil
	}
}

// resultFlag makes a test of a registered result's flag.
func resultFlag(name, key string, want bool) func(...any) (any, error) {
	return func(a ...any) (any, error) {
		if err := nargs(name, a, 1, 1); err != nil {
			return nil, err
		}
		m, ok := toMap(a[0])
		if !ok {
			return nil, argErr(name, "expects a registered result (a dict), got %s", TypeName(a[0]))
		}
		return Truthy(m[key]) == want, nil
	}
}

// typeTest makes a test of one value.
func typeTest(name string, f func(any) bool) func(...any) (any, error) {
	return func(a ...any) (any, error) {
		if err := nargs(name, a, 1, 1); err != nil {
			return nil, err
		}
		return f(materialize(a[0])), nil
	}
}

// funcIndexFn finds an already added function by name (for aliases).
func funcIndexFn(name string, fs *[]funcDef) func(...any) (any, error) {
	for _, f := range *fs {
		if f.name == name {
			return f.fn
		}
	}
	panic("no function " + name)
}

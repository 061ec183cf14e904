package expr

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
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
	{"repeat", "repeat(s, n)", "s repeated n times"},
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

var truthStrings = map[string]bool{"yes": true, "on": true, "1": true, "true": true, "y": true, "t": true}

var regexCache sync.Map

func compileRegex(name, pat string, ignoreCase bool) (*regexp.Regexp, error) {
	if ignoreCase {
		pat = "(?i)" + pat
	}
	if re, ok := regexCache.Load(pat); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, argErr(name, "bad regular expression %q: %v", pat, err)
	}
	regexCache.Store(pat, re)
	return re, nil
}

var pyBackref = regexp.MustCompile(`\\(\d+)|\\g<(\w+)>|\$`)

// goReplacement turns a Python replacement (\1, \g<name>) into Go's (${1}).
func goReplacement(repl string) string {
	return pyBackref.ReplaceAllStringFunc(repl, func(m string) string {
		if m == "$" {
			return "$$"
		}
		if strings.HasPrefix(m, `\g<`) {
			return "${" + m[3:len(m)-1] + "}"
		}
		return "${" + m[1:] + "}"
	})
}

var shellSafe = regexp.MustCompile(`^[\w@%+=:,./-]+$`)

// Quote quotes s for a POSIX shell the way Python's shlex.quote does.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func hashString(name, s, alg string) (any, error) {
	var h hash.Hash
	switch strings.ToLower(alg) {
	case "md5":
		h = md5.New()
	case "sha1":
		h = sha1.New()
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return nil, argErr(name, "unknown hash %q (md5, sha1, sha256, sha512)", alg)
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pyJSON writes v as Python's json.dumps does: ", " and ": " separators
// (compact false), or indented with sorted keys.
func pyJSON(buf *bytes.Buffer, v any, indent string, depth int) error {
	v = materialize(v)
	nl := func(d int) {
		if indent != "" {
			buf.WriteByte('\n')
			buf.WriteString(strings.Repeat(indent, d))
		}
	}
	itemSep := ", "
	if indent != "" {
		itemSep = ","
	}
	if m, ok := v.(map[string]any); ok || isMapValue(v) {
		if !ok {
			m, _ = toMap(v)
		}
		if len(m) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteByte('{')
		for i, k := range sortedKeys(m) {
			if i > 0 {
				buf.WriteString(itemSep)
			}
			nl(depth + 1)
			kb, _ := jsonMarshal(k)
			buf.Write(kb)
			buf.WriteString(": ")
			if err := pyJSON(buf, m[k], indent, depth+1); err != nil {
				return err
			}
		}
		nl(depth)
		buf.WriteByte('}')
		return nil
	}
	if _, isStr := v.(string); !isStr {
		if l, ok := toList(v); ok && v != nil {
			if _, isBytes := v.([]byte); !isBytes {
				if len(l) == 0 {
					buf.WriteString("[]")
					return nil
				}
				buf.WriteByte('[')
				for i, e := range l {
					if i > 0 {
						buf.WriteString(itemSep)
					}
					nl(depth + 1)
					if err := pyJSON(buf, e, indent, depth+1); err != nil {
						return err
					}
				}
				nl(depth)
				buf.WriteByte(']')
				return nil
			}
		}
	}
	b, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

func isMapValue(v any) bool {
	return v != nil && reflect.ValueOf(v).Kind() == reflect.Map
}

func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonable(v)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// versionCompare compares dotted versions numerically part by part.
func versionCompare(a, b string) int {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' || r == '_' || r == '+' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y string
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		xi, ex := strconv.Atoi(x)
		yi, ey := strconv.Atoi(y)
		if x == "" {
			xi, ex = 0, nil
		}
		if y == "" {
			yi, ey = 0, nil
		}
		if ex == nil && ey == nil {
			if xi != yi {
				if xi < yi {
					return -1
				}
				return 1
			}
			continue
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func versionTest(name string, a, b any, op string) (any, error) {
	c := versionCompare(ToString(a), ToString(b))
	switch op {
	case "<", "lt":
		return c < 0, nil
	case "<=", "le":
		return c <= 0, nil
	case ">", "gt":
		return c > 0, nil
	case ">=", "ge":
		return c >= 0, nil
	case "==", "=", "eq":
		return c == 0, nil
	case "!=", "<>", "ne":
		return c != 0, nil
	}
	return nil, argErr(name, "unknown comparison %q", op)
}

func flatten(l []any, levels int) []any {
	var out []any
	for _, e := range l {
		if sub, ok := toList(e); ok && levels != 0 {
			if _, isStr := e.(string); !isStr {
				out = append(out, flatten(sub, levels-1)...)
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

func combine(a, b map[string]any, recursive bool) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if recursive {
			if am, ok := toMap(out[k]); ok {
				if bm, ok := toMap(v); ok {
					out[k] = combine(am, bm, true)
					continue
				}
			}
		}
		out[k] = v
	}
	return out
}

// pyFormat is Python's printf-style "%" formatting for the common verbs.
func pyFormat(format string, args []any) (string, error) {
	var b strings.Builder
	n := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0123456789.", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			return "", argErr("format", "incomplete format %q", format)
		}
		verb := format[j]
		spec := format[i+1 : j]
		i = j
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if n >= len(args) {
			return "", argErr("format", "not enough arguments for %q", format)
		}
		a := materialize(args[n])
		n++
		switch verb {
		case 's', 'r':
			fmt.Fprintf(&b, "%"+spec+"s", ToString(a))
		case 'd', 'i':
			v, ok := toInt(a)
			if !ok {
				return "", argErr("format", "%%d needs a number, got %q", ToString(a))
			}
			fmt.Fprintf(&b, "%"+spec+"d", v)
		case 'f', 'F', 'e', 'E', 'g', 'G':
			v, ok := toFloat(a)
			if !ok {
				return "", argErr("format", "%%%c needs a number, got %q", verb, ToString(a))
			}
			if verb == 'F' {
				verb = 'f'
			}
			if (verb == 'f' || verb == 'e' || verb == 'E') && !strings.Contains(spec, ".") {
				spec += ".6"
			}
			fmt.Fprintf(&b, "%"+spec+string(verb), v)
		case 'x', 'X', 'o':
			v, ok := toInt(a)
			if !ok {
				return "", argErr("format", "%%%c needs a number", verb)
			}
			fmt.Fprintf(&b, "%"+spec+string(verb), v)
		default:
			return "", argErr("format", "unsupported conversion %%%c", verb)
		}
	}
	if n < len(args) {
		return "", argErr("format", "too many arguments for %q", format)
	}
	return b.String(), nil
}

func userFuncs() []funcDef {
	str := func(v any) string { return ToString(materialize(v)) }
	list := func(name string, v any) ([]any, error) {
		v = materialize(v)
		if l, ok := toList(v); ok {
			return l, nil
		}
		if v == nil {
			return nil, argErr(name, "expects a list, got nil")
		}
		return nil, argErr(name, "expects a list, got %s", TypeName(v))
	}
	mapArg := func(name string, v any) (map[string]any, error) {
		if m, ok := toMap(materialize(v)); ok {
			return m, nil
		}
		return nil, argErr(name, "expects a map, got %s", TypeName(v))
	}
	str1 := func(name string, f func(string) any) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, 1); err != nil {
				return nil, err
			}
			return f(str(a[0])), nil
		}
	}
	resultFlag := func(name, key string, want bool) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, 1); err != nil {
				return nil, err
			}
			m, ok := toMap(a[0])
			if !ok {
				return nil, argErr(name, "expects a registered result (a map), got %s", TypeName(a[0]))
			}
			return Truthy(m[key]) == want, nil
		}
	}
	typeTest := func(name string, f func(any) bool) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, 1); err != nil {
				return nil, err
			}
			return f(materialize(a[0])), nil
		}
	}
	var fs []funcDef
	add := func(name, sig, doc string, fn func(...any) (any, error)) {
		fs = append(fs, funcDef{name: name, sig: sig, doc: doc, fn: fn})
	}
	// addN adds a function that takes min to max arguments.
	addN := func(name, sig, doc string, min, max int, fn func(...any) (any, error)) {
		add(name, sig, doc, func(a ...any) (any, error) {
			if err := nargs(name, a, min, max); err != nil {
				return nil, err
			}
			return fn(a...)
		})
	}
	defaultFn := func(a ...any) (any, error) {
		if err := nargs("default", a, 1, 3); err != nil {
			return nil, err
		}
		v := materialize(a[0])
		fallback := any("")
		if len(a) > 1 && (a[1] != nil || len(a) < 3) {
			fallback = a[1]
		}
		if isUndefined(a[0]) || v == nil || (len(a) > 2 && Truthy(a[2]) && !Truthy(v)) {
			return materialize(fallback), nil
		}
		return v, nil
	}
	add("default", "default(v, fallback, [falsy])", "v, or fallback when v is undefined or nil (or, with falsy true, any false value); v may be undefined", defaultFn)
	add("d", "d(v, fallback, [falsy])", "alias of default", defaultFn)
	definedFn := func(a ...any) (any, error) {
		if err := nargs("defined", a, 1, 1); err != nil {
			return nil, err
		}
		return !isUndefined(a[0]), nil
	}
	undefinedFn := func(a ...any) (any, error) {
		if err := nargs("undefined", a, 1, 1); err != nil {
			return nil, err
		}
		return isUndefined(a[0]), nil
	}
	add("defined", "defined(v)", "whether v is defined (x is defined)", definedFn)
	add("undefined", "undefined(v)", "whether v is undefined (x is undefined)", undefinedFn)
	add("is_defined", "", "", definedFn)
	add("is_undefined", "", "", undefinedFn)
	addN("mandatory", "mandatory(v, [msg])", "v, or an error (msg if given) when v is undefined", 1, 2, func(a ...any) (any, error) {
		if u, ok := a[0].(*undefined); ok {
			if len(a) > 1 {
				return nil, &EvalError{Msg: str(a[1])}
			}
			return nil, &UndefinedError{Name: u.name}
		}
		return materialize(a[0]), nil
	})
	add("is_none", "", "", typeTest("none", func(v any) bool { return v == nil }))
	add("is_failed", "", "", resultFlag("failed", "failed", true))
	add("is_success", "", "", resultFlag("succeeded", "failed", false))
	add("is_changed", "", "", resultFlag("changed", "changed", true))
	add("is_skipped", "", "", resultFlag("skipped", "skipped", true))
	add("is_string", "", "", typeTest("string", func(v any) bool { _, ok := v.(string); return ok }))
	add("is_number", "", "", typeTest("number", isNumber))
	add("is_integer", "", "", typeTest("integer", func(v any) bool {
		_, isF := v.(float64)
		return isNumber(v) && !isF
	}))
	add("is_float", "", "", typeTest("float", func(v any) bool { _, ok := v.(float64); return ok }))
	add("is_boolean", "", "", typeTest("boolean", func(v any) bool { _, ok := v.(bool); return ok }))
	add("is_mapping", "", "", typeTest("mapping", isMapValue))
	seqTest := func(v any) bool {
		if _, ok := v.(string); ok {
			return true
		}
		_, ok := toList(v)
		return ok
	}
	add("is_sequence", "", "", typeTest("sequence", seqTest))
	add("is_iterable", "", "", typeTest("iterable", func(v any) bool { return seqTest(v) || isMapValue(v) }))
	add("is_true", "", "", typeTest("true", func(v any) bool { return v == true }))
	add("is_false", "", "", typeTest("false", func(v any) bool { return v == false }))
	add("is_truthy", "", "", typeTest("truthy", Truthy))
	add("is_falsy", "", "", typeTest("falsy", func(v any) bool { return !Truthy(v) }))
	add("is_even", "", "", typeTest("even", func(v any) bool { i, ok := toInt(v); return ok && i%2 == 0 }))
	add("is_odd", "", "", typeTest("odd", func(v any) bool { i, ok := toInt(v); return ok && i%2 != 0 }))
	add("is_divisibleby", "", "", func(a ...any) (any, error) {
		if err := nargs("divisibleby", a, 2, 2); err != nil {
			return nil, err
		}
		x, okx := toInt(materialize(a[0]))
		y, oky := toInt(materialize(a[1]))
		if !okx || !oky {
			return nil, argErr("divisibleby", "needs integers, got %s and %s", TypeName(a[0]), TypeName(a[1]))
		}
		if y == 0 {
			return nil, argErr("divisibleby", "division by zero")
		}
		return x%y == 0, nil
	})
	add("is_eq", "", "", func(a ...any) (any, error) {
		if err := nargs("eq", a, 2, 2); err != nil {
			return nil, err
		}
		return equal(materialize(a[0]), materialize(a[1])), nil
	})
	add("is_equalto", "", "", funcIndexFn("is_eq", &fs))
	regexTest := func(name string, anchored bool) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 2, 3); err != nil {
				return nil, err
			}
			pat := str(a[1])
			if anchored {
				pat = `\A(?:` + pat + `)`
			}
			re, err := compileRegex(name, pat, len(a) > 2 && Truthy(a[2]))
			if err != nil {
				return nil, err
			}
			return re.MatchString(str(a[0])), nil
		}
	}
	add("is_match", "", "", regexTest("match", true))
	add("is_search", "", "", regexTest("search", false))
	add("is_in", "", "", func(a ...any) (any, error) {
		if err := nargs("in", a, 2, 2); err != nil {
			return nil, err
		}
		return containsFn(a[1], a[0])
	})
	add("is_contains", "", "", func(a ...any) (any, error) {
		if err := nargs("contains", a, 2, 2); err != nil {
			return nil, err
		}
		return containsFn(a[0], a[1])
	})
	versionFn := func(a ...any) (any, error) {
		if err := nargs("version", a, 2, 3); err != nil {
			return nil, err
		}
		op := "=="
		if len(a) > 2 {
			op = str(a[2])
		}
		return versionTest("version", a[0], a[1], op)
	}
	add("is_version", "", "", versionFn)
	add("version", "version(a, b, [op])", "compares dotted versions numerically: version('15.2', '15', '>=') (op one of < <= > >= == != lt le gt ge eq ne; default ==)", versionFn)
	add("is_subset", "", "", func(a ...any) (any, error) {
		if err := nargs("subset", a, 2, 2); err != nil {
			return nil, err
		}
		return isSubset(a[0], a[1])
	})
	add("is_superset", "", "", func(a ...any) (any, error) {
		if err := nargs("superset", a, 2, 2); err != nil {
			return nil, err
		}
		return isSubset(a[1], a[0])
	})

	addN("join", "join(list, [sep])", "the elements as strings joined with sep (default \"\")", 1, 2, func(a ...any) (any, error) {
		l, err := list("join", a[0])
		if err != nil {
			return nil, err
		}
		sep := ""
		if len(a) > 1 {
			sep = str(a[1])
		}
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = str(e)
		}
		return strings.Join(parts, sep), nil
	})
	addN("split", "split(s, [sep], [max])", "s split at sep (default: runs of whitespace), at most max splits", 1, 3, func(a ...any) (any, error) {
		s := str(a[0])
		var parts []string
		switch {
		case len(a) == 1 || a[1] == nil:
			parts = strings.Fields(s)
		case len(a) == 3:
			n, _ := toInt(a[2])
			parts = strings.SplitN(s, str(a[1]), n+1)
		default:
			if str(a[1]) == "" {
				return nil, argErr("split", "empty separator")
			}
			parts = strings.Split(s, str(a[1]))
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	})
	add("splitlines", "splitlines(s)", "the lines of s, without line ends", str1("splitlines", func(s string) any {
		s = strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
		out := []any{}
		if s == "" {
			return out
		}
		for _, l := range strings.Split(s, "\n") {
			out = append(out, l)
		}
		return out
	}))
	add("upper", "upper(s)", "s in upper case", str1("upper", func(s string) any { return strings.ToUpper(s) }))
	add("lower", "lower(s)", "s in lower case", str1("lower", func(s string) any { return strings.ToLower(s) }))
	add("capitalize", "capitalize(s)", "s with its first letter upper case and the rest lower case", str1("capitalize", func(s string) any {
		if s == "" {
			return s
		}
		r := []rune(strings.ToLower(s))
		return strings.ToUpper(string(r[0])) + string(r[1:])
	}))
	addN("trim", "trim(s, [chars])", "s without leading and trailing whitespace (or chars)", 1, 2, func(a ...any) (any, error) {
		if len(a) == 2 {
			return strings.Trim(str(a[0]), str(a[1])), nil
		}
		return strings.TrimSpace(str(a[0])), nil
	})
	addN("lstrip", "lstrip(s, [chars])", "s without leading whitespace (or chars)", 1, 2, func(a ...any) (any, error) {
		if len(a) == 2 {
			return strings.TrimLeft(str(a[0]), str(a[1])), nil
		}
		return strings.TrimLeft(str(a[0]), " \t\r\n\v\f"), nil
	})
	addN("rstrip", "rstrip(s, [chars])", "s without trailing whitespace (or chars)", 1, 2, func(a ...any) (any, error) {
		if len(a) == 2 {
			return strings.TrimRight(str(a[0]), str(a[1])), nil
		}
		return strings.TrimRight(str(a[0]), " \t\r\n\v\f"), nil
	})
	addN("replace", "replace(s, old, new)", "s with every old replaced by new", 3, 3, func(a ...any) (any, error) {
		return strings.ReplaceAll(str(a[0]), str(a[1]), str(a[2])), nil
	})
	addN("indent", "indent(s, [width], [first])", "s with every line but the first (all with first true) indented by width spaces (default 4)", 1, 3, func(a ...any) (any, error) {
		w := 4
		if len(a) > 1 && a[1] != nil {
			w, _ = toInt(a[1])
		}
		pad := strings.Repeat(" ", w)
		lines := strings.Split(str(a[0]), "\n")
		for i, l := range lines {
			if (i > 0 || (len(a) > 2 && Truthy(a[2]))) && l != "" {
				lines[i] = pad + l
			}
		}
		return strings.Join(lines, "\n"), nil
	})
	addN("regex_replace", "regex_replace(s, pattern, repl, [ignorecase])", "s with every match of pattern replaced; repl may use \\1 or \\g<name>", 2, 4, func(a ...any) (any, error) {
		re, err := compileRegex("regex_replace", str(a[1]), len(a) > 3 && Truthy(a[3]))
		if err != nil {
			return nil, err
		}
		repl := ""
		if len(a) > 2 {
			repl = str(a[2])
		}
		return re.ReplaceAllString(str(a[0]), goReplacement(repl)), nil
	})
	add("regex_search", "regex_search(s, pattern, ['\\\\1', ...])", "the first match of pattern in s, or nil; with group references, the list of those groups", func(a ...any) (any, error) {
		if err := nargs("regex_search", a, 2, -1); err != nil {
			return nil, err
		}
		re, err := compileRegex("regex_search", str(a[1]), false)
		if err != nil {
			return nil, err
		}
		m := re.FindStringSubmatch(str(a[0]))
		if m == nil {
			return nil, nil
		}
		if len(a) == 2 {
			return m[0], nil
		}
		var out []any
		for _, g := range a[2:] {
			ref := strings.TrimPrefix(str(g), `\`)
			if strings.HasPrefix(ref, "g<") {
				ref = strings.TrimSuffix(ref[2:], ">")
			}
			i, err := strconv.Atoi(ref)
			if err != nil {
				i = re.SubexpIndex(ref)
			}
			if i < 0 || i >= len(m) {
				return nil, argErr("regex_search", "no group %s in %q", str(g), str(a[1]))
			}
			out = append(out, m[i])
		}
		return out, nil
	})
	addN("regex_findall", "regex_findall(s, pattern)", "every match of pattern in s (the group when the pattern has one, a list of groups when it has several)", 2, 3, func(a ...any) (any, error) {
		re, err := compileRegex("regex_findall", str(a[1]), len(a) > 2 && Truthy(a[2]))
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, m := range re.FindAllStringSubmatch(str(a[0]), -1) {
			switch len(m) {
			case 1:
				out = append(out, m[0])
			case 2:
				out = append(out, m[1])
			default:
				g := make([]any, len(m)-1)
				for i := range g {
					g[i] = m[i+1]
				}
				out = append(out, g)
			}
		}
		return out, nil
	})
	add("regex_escape", "regex_escape(s)", "s with regular expression metacharacters escaped", str1("regex_escape", func(s string) any { return regexp.QuoteMeta(s) }))
	addN("to_json", "to_json(v)", "v as JSON on one line", 1, 1, func(a ...any) (any, error) {
		var b bytes.Buffer
		if err := pyJSON(&b, a[0], "", 0); err != nil {
			return nil, argErr("to_json", "%v", err)
		}
		return b.String(), nil
	})
	addN("to_nice_json", "to_nice_json(v, [indent])", "v as indented JSON with sorted keys (indent 4)", 1, 2, func(a ...any) (any, error) {
		n := 4
		if len(a) > 1 {
			n, _ = toInt(a[1])
		}
		var b bytes.Buffer
		if err := pyJSON(&b, a[0], strings.Repeat(" ", n), 0); err != nil {
			return nil, argErr("to_nice_json", "%v", err)
		}
		return b.String(), nil
	})
	addN("from_json", "from_json(s)", "the value the JSON text s holds", 1, 1, func(a ...any) (any, error) {
		var v any
		dec := json.NewDecoder(strings.NewReader(str(a[0])))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, argErr("from_json", "%v", err)
		}
		return fromJSONNumbers(v), nil
	})
	toYAML := func(name string, opts ...yaml.EncodeOption) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, 1); err != nil {
				return nil, err
			}
			b, err := yaml.MarshalWithOptions(jsonable(materialize(a[0])), opts...)
			if err != nil {
				return nil, argErr(name, "%v", err)
			}
			return string(b), nil
		}
	}
	add("to_yaml", "to_yaml(v)", "v as YAML", toYAML("to_yaml", yaml.Indent(2)))
	add("to_nice_yaml", "to_nice_yaml(v)", "v as block-style YAML indented by 4", toYAML("to_nice_yaml", yaml.Indent(4), yaml.IndentSequence(true)))
	addN("from_yaml", "from_yaml(s)", "the value the YAML text s holds", 1, 1, func(a ...any) (any, error) {
		var v any
		if err := yaml.Unmarshal([]byte(str(a[0])), &v); err != nil {
			return nil, argErr("from_yaml", "%v", err)
		}
		return v, nil
	})
	add("b64encode", "b64encode(s)", "s in base64", str1("b64encode", func(s string) any { return base64.StdEncoding.EncodeToString([]byte(s)) }))
	addN("b64decode", "b64decode(s)", "the text that base64 s encodes", 1, 1, func(a ...any) (any, error) {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(str(a[0])))
		if err != nil {
			return nil, argErr("b64decode", "%v", err)
		}
		return string(b), nil
	})
	add("basename", "basename(path)", "the last element of path (\"\" when it ends with /)", str1("basename", func(s string) any { return s[strings.LastIndex(s, "/")+1:] }))
	add("dirname", "dirname(path)", "path without its last element", str1("dirname", func(s string) any {
		head := s[:strings.LastIndex(s, "/")+1]
		if head != "" && strings.Trim(head, "/") != "" {
			head = strings.TrimRight(head, "/")
		}
		return head
	}))
	add("path_join", "path_join(list)", "the path elements joined with /", func(a ...any) (any, error) {
		l, err := list("path_join", a[0])
		if err != nil {
			return nil, err
		}
		out := ""
		for _, e := range l {
			s := str(e)
			switch {
			case strings.HasPrefix(s, "/") || out == "":
				out = s
			case strings.HasSuffix(out, "/"):
				out += s
			default:
				out += "/" + s
			}
		}
		return out, nil
	})
	add("unique", "unique(list)", "the list without repeated elements, first occurrence kept", func(a ...any) (any, error) {
		l, err := list("unique", first(a))
		if err != nil {
			return nil, err
		}
		return setOp(l, nil, func(inA, inB bool) bool { return inA }), nil
	})
	add("union", "union(a, b)", "elements of a then those of b not in a, without repeats", setFn("union", list, func(inA, inB bool) bool { return true }))
	add("intersect", "intersect(a, b)", "elements of a that are also in b", setFn("intersect", list, func(inA, inB bool) bool { return inA && inB }))
	add("difference", "difference(a, b)", "elements of a that are not in b", setFn("difference", list, func(inA, inB bool) bool { return inA && !inB }))
	add("symmetric_difference", "symmetric_difference(a, b)", "elements in exactly one of a and b", setFn("symmetric_difference", list, func(inA, inB bool) bool { return inA != inB }))
	addN("flatten", "flatten(list, [levels])", "nested lists flattened (all levels, or only levels deep)", 1, 2, func(a ...any) (any, error) {
		l, err := list("flatten", a[0])
		if err != nil {
			return nil, err
		}
		levels := -1
		if len(a) > 1 {
			levels, _ = toInt(a[1])
		}
		out := flatten(l, levels)
		if out == nil {
			out = []any{}
		}
		return out, nil
	})
	addN("length", "length(v)", "the number of characters of a string, elements of a list, keys of a map", 1, 1, func(a ...any) (any, error) {
		v := materialize(a[0])
		if s, ok := v.(string); ok {
			return len([]rune(s)), nil
		}
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			return rv.Len(), nil
		}
		return nil, argErr("length", "has no length: %s", TypeName(v))
	})
	add("combine", "combine(m1, m2, ..., [recursive])", "the maps merged left to right, later keys winning; with a last argument true, nested maps are merged too", func(a ...any) (any, error) {
		recursive := false
		if len(a) > 1 {
			if b, ok := a[len(a)-1].(bool); ok {
				recursive = b
				a = a[:len(a)-1]
			}
		}
		out := map[string]any{}
		for _, e := range a {
			e = materialize(e)
			if l, ok := toList(e); ok {
				for _, x := range l {
					m, err := mapArg("combine", x)
					if err != nil {
						return nil, err
					}
					out = combine(out, m, recursive)
				}
				continue
			}
			m, err := mapArg("combine", e)
			if err != nil {
				return nil, err
			}
			out = combine(out, m, recursive)
		}
		return out, nil
	})
	addN("dict2items", "dict2items(m, [key_name], [value_name])", "the map as a list of {key, value} maps, sorted by key", 1, 3, func(a ...any) (any, error) {
		m, err := mapArg("dict2items", a[0])
		if err != nil {
			return nil, err
		}
		kn, vn := "key", "value"
		if len(a) > 1 {
			kn = str(a[1])
		}
		if len(a) > 2 {
			vn = str(a[2])
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, map[string]any{kn: k, vn: m[k]})
		}
		return out, nil
	})
	addN("items2dict", "items2dict(list, [key_name], [value_name])", "a list of {key, value} maps as one map", 1, 3, func(a ...any) (any, error) {
		l, err := list("items2dict", a[0])
		if err != nil {
			return nil, err
		}
		kn, vn := "key", "value"
		if len(a) > 1 {
			kn = str(a[1])
		}
		if len(a) > 2 {
			vn = str(a[2])
		}
		out := map[string]any{}
		for _, e := range l {
			m, err := mapArg("items2dict", e)
			if err != nil {
				return nil, err
			}
			k, ok := m[kn]
			if !ok {
				return nil, argErr("items2dict", "element has no %q key", kn)
			}
			out[str(k)] = m[vn]
		}
		return out, nil
	})
	addN("items", "items(m)", "the map as a list of [key, value] pairs, sorted by key (m.items() works too)", 1, 1, func(a ...any) (any, error) {
		m, err := mapArg("items", a[0])
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, []any{k, m[k]})
		}
		return out, nil
	})
	add("get_", "get_(m, key, [fallback])", "m[key], or fallback (nil) when missing; written m.get(key, fallback)", func(a ...any) (any, error) {
		if err := nargs("get", a, 2, 3); err != nil {
			return nil, err
		}
		v, err := member(materialize(a[0]), a[1], "get", optional, false)
		if err != nil {
			return nil, err
		}
		if v == nil && len(a) > 2 {
			return a[2], nil
		}
		return v, nil
	})
	addN("keys", "keys(m)", "the keys of the map, sorted", 1, 1, func(a ...any) (any, error) {
		m, err := mapArg("keys", a[0])
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, k)
		}
		return out, nil
	})
	addN("values", "values(m)", "the values of the map, in key order", 1, 1, func(a ...any) (any, error) {
		m, err := mapArg("values", a[0])
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(m))
		for _, k := range sortedKeys(m) {
			out = append(out, m[k])
		}
		return out, nil
	})
	addN("int", "int(v, [fallback])", "v as an integer (\"12\" and 12.7 give 12); fallback (0) when it is not a number", 1, 2, func(a ...any) (any, error) {
		if i, ok := toInt(materialize(a[0])); ok {
			return i, nil
		}
		if len(a) > 1 {
			return a[1], nil
		}
		return 0, nil
	})
	addN("float", "float(v, [fallback])", "v as a float; fallback (0.0) when it is not a number", 1, 2, func(a ...any) (any, error) {
		if f, ok := toFloat(materialize(a[0])); ok {
			return f, nil
		}
		if len(a) > 1 {
			return a[1], nil
		}
		return 0.0, nil
	})
	addN("string", "string(v)", "v as a string (lists and maps as JSON, nil as \"\")", 1, 1, func(a ...any) (any, error) {
		return str(a[0]), nil
	})
	addN("bool", "bool(v)", "v as a boolean: true, yes, on, 1, y, t (any case) and non-zero numbers are true", 1, 1, func(a ...any) (any, error) {
		switch v := materialize(a[0]).(type) {
		case bool:
			return v, nil
		case string:
			return truthStrings[strings.ToLower(strings.TrimSpace(v))], nil
		case nil:
			return false, nil
		default:
			f, ok := toFloat(v)
			return ok && f != 0, nil
		}
	})
	addN("list", "list(v)", "v as a list: a list as is, a map's keys, a string's characters", 1, 1, func(a ...any) (any, error) {
		v := materialize(a[0])
		if s, ok := v.(string); ok {
			out := []any{}
			for _, r := range s {
				out = append(out, string(r))
			}
			return out, nil
		}
		if m, ok := toMap(v); ok {
			out := []any{}
			for _, k := range sortedKeys(m) {
				out = append(out, k)
			}
			return out, nil
		}
		return list("list", v)
	})
	add("quote", "quote(s)", "s quoted for a POSIX shell (as Python's shlex.quote)", str1("quote", func(s string) any { return Quote(s) }))
	addN("ternary", "ternary(cond, a, b, [if_nil])", "a when cond is true, else b (if_nil when cond is nil)", 3, 4, func(a ...any) (any, error) {
		c := materialize(a[0])
		if c == nil && len(a) > 3 {
			return a[3], nil
		}
		if Truthy(c) {
			return a[1], nil
		}
		return a[2], nil
	})
	add("sha256", "sha256(s)", "hex SHA-256 of s", str1("sha256", func(s string) any { v, _ := hashString("sha256", s, "sha256"); return v }))
	add("sha1", "sha1(s)", "hex SHA-1 of s", str1("sha1", func(s string) any { v, _ := hashString("sha1", s, "sha1"); return v }))
	add("md5", "md5(s)", "hex MD5 of s", str1("md5", func(s string) any { v, _ := hashString("md5", s, "md5"); return v }))
	addN("hash", "hash(s, [alg])", "hex digest of s with md5, sha1 (default), sha256 or sha512", 1, 2, func(a ...any) (any, error) {
		alg := "sha1"
		if len(a) > 1 {
			alg = str(a[1])
		}
		return hashString("hash", str(a[0]), alg)
	})
	addN("password_scram", "password_scram(password, salt_seed)", "a Postgres SCRAM-SHA-256 verifier for password, with a salt derived from salt_seed so that it is the same on every run", 2, 2, func(a ...any) (any, error) {
		return ScramSHA256(str(a[0]), str(a[1])), nil
	})
	addN("round", "round(n, [precision], [method])", "n rounded to precision decimals (0), half to even as Python; method 'ceil' or 'floor' rounds up or down", 1, 3, func(a ...any) (any, error) {
		x, ok := toFloat(materialize(a[0]))
		if !ok {
			return nil, argErr("round", "expects a number, got %s", TypeName(a[0]))
		}
		prec := 0
		if len(a) > 1 && a[1] != nil {
			prec, _ = toInt(a[1])
		}
		method := "common"
		if len(a) > 2 {
			method = str(a[2])
		}
		p := math.Pow(10, float64(prec))
		switch method {
		case "common":
			return math.RoundToEven(x*p) / p, nil
		case "ceil":
			return math.Ceil(x*p) / p, nil
		case "floor":
			return math.Floor(x*p) / p, nil
		}
		return nil, argErr("round", "unknown method %q (common, ceil, floor)", method)
	})
	addN("range", "range([start], end, [step])", "the integers from start (0) up to but not including end", 1, 3, func(a ...any) (any, error) {
		nums := make([]int, len(a))
		for i, x := range a {
			n, ok := toInt(materialize(x))
			if !ok {
				return nil, argErr("range", "expects integers, got %q", str(x))
			}
			nums[i] = n
		}
		start, end, step := 0, nums[0], 1
		if len(nums) > 1 {
			start, end = nums[0], nums[1]
		}
		if len(nums) > 2 {
			step = nums[2]
		}
		if step == 0 {
			return nil, argErr("range", "step must not be 0")
		}
		if n := (end - start) / step; n > 0 {
			if err := CheckIterations(n); err != nil {
				return nil, &EvalError{Msg: "range: " + err.Error(), Err: err}
			}
		}
		out := []any{}
		for i := start; (step > 0 && i < end) || (step < 0 && i > end); i += step {
			out = append(out, i)
			if len(out) > 10_000_000 {
				return nil, argErr("range", "too many elements")
			}
		}
		return out, nil
	})
	add("zip", "zip(a, b, ...)", "lists of the n-th elements of each list, as long as the shortest", func(a ...any) (any, error) {
		if err := nargs("zip", a, 1, -1); err != nil {
			return nil, err
		}
		var ls [][]any
		n := math.MaxInt
		for _, x := range a {
			l, err := list("zip", x)
			if err != nil {
				return nil, err
			}
			ls = append(ls, l)
			n = min(n, len(l))
		}
		out := make([]any, n)
		for i := range n {
			t := make([]any, len(ls))
			for j := range ls {
				t[j] = ls[j][i]
			}
			out[i] = t
		}
		return out, nil
	})
	minmax := func(name string, want int) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, -1); err != nil {
				return nil, err
			}
			l := a
			if len(a) == 1 {
				var err error
				if l, err = list(name, a[0]); err != nil {
					return nil, err
				}
			}
			if len(l) == 0 {
				return nil, argErr(name, "of an empty list")
			}
			best := l[0]
			for _, e := range l[1:] {
				if compare(e, best) == want {
					best = e
				}
			}
			return best, nil
		}
	}
	add("min", "min(list) or min(a, b, ...)", "the smallest element", minmax("min", -1))
	add("max", "max(list) or max(a, b, ...)", "the largest element", minmax("max", 1))
	addN("sort", "sort(list, [reverse], [attribute])", "the list sorted (numbers numerically, others as strings); reverse may be true or \"desc\"; attribute sorts maps by that key", 1, 3, func(a ...any) (any, error) {
		l, err := list("sort", a[0])
		if err != nil {
			return nil, err
		}
		reverse := false
		if len(a) > 1 {
			if s, ok := a[1].(string); ok {
				reverse = s == "desc"
			} else {
				reverse = Truthy(a[1])
			}
		}
		attr := ""
		if len(a) > 2 {
			attr = str(a[2])
		}
		out := append([]any(nil), l...)
		key := func(v any) any {
			if attr == "" {
				return v
			}
			m, _ := toMap(v)
			return m[attr]
		}
		sort.SliceStable(out, func(i, j int) bool {
			c := compare(key(out[i]), key(out[j]))
			if reverse {
				return c > 0
			}
			return c < 0
		})
		if out == nil {
			out = []any{}
		}
		return out, nil
	})
	firstLast := func(name string, last bool) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, 1); err != nil {
				return nil, err
			}
			v := materialize(a[0])
			if s, ok := v.(string); ok {
				r := []rune(s)
				if len(r) == 0 {
					return nil, nil
				}
				if last {
					return string(r[len(r)-1]), nil
				}
				return string(r[0]), nil
			}
			l, err := list(name, v)
			if err != nil {
				return nil, err
			}
			if len(l) == 0 {
				return nil, nil
			}
			if last {
				return l[len(l)-1], nil
			}
			return l[0], nil
		}
	}
	add("first", "first(list)", "the first element (nil when empty)", firstLast("first", false))
	add("last", "last(list)", "the last element (nil when empty)", firstLast("last", true))
	add("contains_", "contains(container, item)", "whether a list holds item, a string holds the substring, or a map has the key", func(a ...any) (any, error) {
		if err := nargs("contains", a, 2, 2); err != nil {
			return nil, err
		}
		return containsFn(a[0], a[1])
	})
	addN("startswith", "startswith(s, prefix)", "whether s begins with prefix", 2, 2, func(a ...any) (any, error) {
		return strings.HasPrefix(str(a[0]), str(a[1])), nil
	})
	addN("endswith", "endswith(s, suffix)", "whether s ends with suffix", 2, 2, func(a ...any) (any, error) {
		return strings.HasSuffix(str(a[0]), str(a[1])), nil
	})
	add("format", "format(fmt, args...)", "printf-style formatting as Python's %: %s, %d, %05.2f, %x, %%", func(a ...any) (any, error) {
		if err := nargs("format", a, 1, -1); err != nil {
			return nil, err
		}
		return pyFormat(str(a[0]), a[1:])
	})
	// The compiler makes lookup(name, ...) a call of __lookup with the
	// role's and the playbook's folders and the resolver (lookups.go).
	lookupDoc := "a lookup on the control machine: env, file, first_found, template, varnames, pipe, password, dict; " +
		"several values are joined with \",\" (wantlist=True for a list, errors='ignore' for None on failure); " +
		"a relative path is looked for in the role's files/ (templates/ for template) and folder, then the playbook's"
	add("lookup", "lookup(name, terms..., [wantlist=, errors=, ...])", lookupDoc, func(a ...any) (any, error) {
		return callLookup(append([]any{false, nil, nil, nil}, a...)...)
	})
	queryFn := func(a ...any) (any, error) { return callLookup(append([]any{true, nil, nil, nil}, a...)...) }
	add("query", "query(name, terms..., [errors=, ...])", "lookup(name, ...) as a list, always", queryFn)
	add("q", "q(name, terms...)", "alias of query", queryFn)
	add("__lookup", "", "", callLookup)
	add("__kwargs", "", "", func(a ...any) (any, error) {
		m, _ := toMap(materialize(a[0]))
		return kwargs(m), nil
	})
	return fs
}

func first(a []any) any {
	if len(a) == 0 {
		return nil
	}
	return a[0]
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

func setFn(name string, list func(string, any) ([]any, error), keep func(inA, inB bool) bool) func(...any) (any, error) {
	return func(a ...any) (any, error) {
		if err := nargs(name, a, 2, 2); err != nil {
			return nil, err
		}
		x, err := list(name, a[0])
		if err != nil {
			return nil, err
		}
		y, err := list(name, a[1])
		if err != nil {
			return nil, err
		}
		return setOp(x, y, keep), nil
	}
}

func setOp(a, b []any, keep func(inA, inB bool) bool) []any {
	inA := map[string]bool{}
	inB := map[string]bool{}
	for _, e := range a {
		inA[setKey(e)] = true
	}
	for _, e := range b {
		inB[setKey(e)] = true
	}
	seen := map[string]bool{}
	out := []any{}
	for _, e := range append(append([]any(nil), a...), b...) {
		k := setKey(e)
		if seen[k] {
			continue
		}
		seen[k] = true
		if keep(inA[k], inB[k]) {
			out = append(out, e)
		}
	}
	return out
}

func isSubset(a, b any) (any, error) {
	x, ok1 := toList(materialize(a))
	y, ok2 := toList(materialize(b))
	if !ok1 || !ok2 {
		return nil, argErr("subset", "expects two lists")
	}
	in := map[string]bool{}
	for _, e := range y {
		in[setKey(e)] = true
	}
	for _, e := range x {
		if !in[setKey(e)] {
			return false, nil
		}
	}
	return true, nil
}

func containsFn(container, item any) (any, error) {
	container = materialize(container)
	item = materialize(item)
	if s, ok := container.(string); ok {
		return strings.Contains(s, ToString(item)), nil
	}
	if l, ok := toList(container); ok {
		for _, e := range l {
			if equal(e, item) {
				return true, nil
			}
		}
		return false, nil
	}
	if m, ok := toMap(container); ok {
		_, has := m[ToString(item)]
		return has, nil
	}
	if container == nil {
		return false, nil
	}
	return nil, argErr("contains", "cannot look inside %s", TypeName(container))
}

func fromJSONNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i, e := range x {
			x[i] = fromJSONNumbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSONNumbers(e)
		}
	}
	return v
}

package module

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Type is the declared type of an argument.
type Type int

// Argument types. Values are coerced the way Ansible does: "yes" is a bool,
// "8" an int, "a,b" a list.
const (
	Any    Type = iota // taken as given
	String             // a scalar, rendered as a string
	Int
	Bool
	List // a list; a comma-separated string is split
	Dict
	Mode // file mode: octal string ("0644"), symbolic ("u+rwx") or an int
	// Expr is an expression, not a template: it is not rendered before the
	// module runs (assert's `that`, debug's `var`). A list of them is allowed.
	Expr
)

func (t Type) String() string {
	return [...]string{"any", "string", "int", "bool", "list", "dict", "mode", "expression"}[t]
}

// Arg declares one argument.
type Arg struct {
	Name     string
	Type     Type
	Required bool
	Default  any
	Choices  []string
	Aliases  []string
	Doc      string
	// NoLog marks an argument whose value is a secret (never printed).
	NoLog bool
}

// Spec declares a module.
type Spec struct {
	Name    string
	Aliases []string
	Doc     string
	Args    []Arg
	// FreeForm names the argument that takes the free-form text of
	// `command: ls -l chdir=/tmp` ("" when the module takes none).
	FreeForm string
	// FreeArgs modules take any argument name (set_fact): names not
	// declared in Args are passed through as given.
	FreeArgs bool
	// OneOf lists groups of arguments of which at least one must be given.
	OneOf [][]string
	// Exclusive lists groups of arguments of which at most one may be given.
	Exclusive [][]string
	// Refused names arguments Ansible's module of the same name takes and
	// this one does not, each with what to do instead: a task that gives
	// one is refused when the playbook is loaded, with that advice, rather
	// than told the argument is unknown.
	Refused map[string]string
	// Local modules run on the control machine only (set_fact, debug…):
	// no connection is needed for them.
	Local bool
	// Check says what the module does in check mode. The zero value,
	// CheckUnsupported, is the safe one: the executor does not run the
	// module in check mode at all.
	Check CheckSupport
}

// CheckSupport is what a module does in check mode (--check).
type CheckSupport int

const (
	// CheckUnsupported modules are not run in check mode: the executor
	// reports the task skipped, as Ansible does ("remote module (NAME)
	// does not support check mode").
	CheckUnsupported CheckSupport = iota
	// CheckReadOnly modules change nothing, ever: they run as usual in
	// check mode (stat, slurp, debug…).
	CheckReadOnly
	// CheckPredicts modules honour Runtime.Check: in check mode they read
	// the state, report the change they would make (Changed, Diff) and
	// change nothing.
	CheckPredicts
)

func (c CheckSupport) String() string {
	switch c {
	case CheckReadOnly:
		return "read-only"
	case CheckPredicts:
		return "predicts"
	}
	return "unsupported"
}

func (s Spec) check() error {
	seen := map[string]bool{}
	for _, a := range s.Args {
		for _, n := range append([]string{a.Name}, a.Aliases...) {
			if seen[n] {
				return fmt.Errorf("argument %s declared twice", n)
			}
			seen[n] = true
		}
	}
	for n, why := range s.Refused {
		if seen[n] {
			return fmt.Errorf("argument %s both declared and refused", n)
		}
		if why == "" {
			return fmt.Errorf("refused argument %s says nothing about what to do instead", n)
		}
	}
	return nil
}

// Arg returns the declaration of name (or of the argument it is an alias of).
func (s Spec) Arg(name string) (Arg, bool) {
	for _, a := range s.Args {
		if a.Name == name {
			return a, true
		}
		for _, al := range a.Aliases {
			if al == name {
				return a, true
			}
		}
	}
	return Arg{}, false
}

// ArgError is a problem with one argument; Key is the key as the user wrote
// it ("" when the problem is with the arguments as a whole).
type ArgError struct {
	Key string
	Msg string
}

func (e *ArgError) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return fmt.Sprintf("argument %s: %s", e.Key, e.Msg)
}

// IsTemplated reports whether v is a string that holds a template, whose
// value is only known at run time.
func IsTemplated(v any) bool {
	s, ok := v.(string)
	return ok && (strings.Contains(s, "{{") || strings.Contains(s, "{%"))
}

// CheckStatic checks arguments as written, before templating: unknown and
// missing arguments, and the types and choices of the values that hold no
// template. It returns every problem found.
func (s Spec) CheckStatic(raw map[string]any) []*ArgError {
	var errs []*ArgError
	given := map[string]bool{}
	keys := sortedKeys(raw)
	for _, k := range keys {
		a, ok := s.Arg(k)
		if !ok && s.FreeArgs {
			continue
		}
		if why, refused := s.Refused[k]; !ok && refused {
			errs = append(errs, &ArgError{Key: k, Msg: refusedMsg(s.Name, why)})
			continue
		}
		if !ok {
			errs = append(errs, s.unknown(k))
			continue
		}
		if given[a.Name] {
			errs = append(errs, &ArgError{Key: k, Msg: "given twice (under another name)"})
		}
		given[a.Name] = true
		v := raw[k]
		if a.Type == Expr || IsTemplated(v) || hasTemplate(v) {
			continue
		}
		if _, err := coerce(a, v); err != nil {
			errs = append(errs, &ArgError{Key: k, Msg: err.Error()})
		}
	}
	errs = append(errs, s.checkPresence(given)...)
	return errs
}

func refusedMsg(module, why string) string {
	return fmt.Sprintf("not supported by tpago's %s: %s", module, why)
}

func hasTemplate(v any) bool {
	switch v := v.(type) {
	case string:
		return IsTemplated(v)
	case []any:
		for _, x := range v {
			if hasTemplate(x) {
				return true
			}
		}
	case map[string]any:
		for _, x := range v {
			if hasTemplate(x) {
				return true
			}
		}
	}
	return false
}

func (s Spec) checkPresence(given map[string]bool) []*ArgError {
	var errs []*ArgError
	for _, a := range s.Args {
		if a.Required && !given[a.Name] {
			errs = append(errs, &ArgError{Msg: fmt.Sprintf("missing required argument %s", a.Name)})
		}
	}
	for _, g := range s.OneOf {
		n := 0
		for _, k := range g {
			if given[k] {
				n++
			}
		}
		if n == 0 {
			errs = append(errs, &ArgError{Msg: "one of these arguments is required: " + strings.Join(g, ", ")})
		}
	}
	for _, g := range s.Exclusive {
		var set []string
		for _, k := range g {
			if given[k] {
				set = append(set, k)
			}
		}
		if len(set) > 1 {
			errs = append(errs, &ArgError{Msg: "these arguments are mutually exclusive: " + strings.Join(set, ", ")})
		}
	}
	return errs
}

// unknown is the error for an argument the Spec does not declare.
func (s Spec) unknown(k string) *ArgError {
	if why, ok := s.Refused[k]; ok {
		return &ArgError{Key: k, Msg: refusedMsg(s.Name, why)}
	}
	return &ArgError{Key: k, Msg: "unknown argument" + s.suggest(k)}
}

func (s Spec) suggest(k string) string {
	best, bestD := "", 3
	for _, a := range s.Args {
		for _, n := range append([]string{a.Name}, a.Aliases...) {
			if d := Distance(k, n); d < bestD {
				best, bestD = n, d
			}
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	names := make([]string, 0, len(s.Args))
	for _, a := range s.Args {
		names = append(names, a.Name)
	}
	if len(names) == 0 {
		return "; " + s.Name + " takes no arguments"
	}
	return "; " + s.Name + " takes: " + strings.Join(names, ", ")
}

// Normalize checks templated arguments and returns them keyed by canonical
// name, coerced to their types, with defaults filled in.
func (s Spec) Normalize(raw map[string]any) (Args, error) {
	out := Args{}
	given := map[string]bool{}
	for _, k := range sortedKeys(raw) {
		a, ok := s.Arg(k)
		if !ok && s.FreeArgs {
			out[k] = raw[k]
			continue
		}
		if why, refused := s.Refused[k]; !ok && refused {
			return nil, &ArgError{Key: k, Msg: refusedMsg(s.Name, why)}
		}
		if !ok {
			return nil, s.unknown(k)
		}
		v := raw[k]
		if v == nil {
			continue
		}
		cv, err := coerce(a, v)
		if err != nil {
			return nil, &ArgError{Key: k, Msg: err.Error()}
		}
		out[a.Name] = cv
		given[a.Name] = true
	}
	if errs := s.checkPresence(given); len(errs) > 0 {
		return nil, errs[0]
	}
	for _, a := range s.Args {
		if _, ok := out[a.Name]; !ok && a.Default != nil {
			out[a.Name] = a.Default
		}
	}
	return out, nil
}

func coerce(a Arg, v any) (any, error) {
	var out any
	switch a.Type {
	case Any, Expr:
		return v, nil
	case String:
		switch x := v.(type) {
		case string:
			out = x
		case int, int64, uint64, float64, bool:
			out = fmt.Sprint(x)
		default:
			return nil, fmt.Errorf("must be a string, not %s", typeName(v))
		}
	case Int:
		switch x := v.(type) {
		case int:
			out = x
		case int64:
			out = int(x)
		case uint64:
			out = int(x)
		case float64:
			if x != float64(int(x)) {
				return nil, fmt.Errorf("must be a whole number, not %v", x)
			}
			out = int(x)
		case string:
			n, err := strconv.Atoi(strings.TrimSpace(x))
			if err != nil {
				return nil, fmt.Errorf("must be a number, not %q", x)
			}
			out = n
		default:
			return nil, fmt.Errorf("must be a number, not %s", typeName(v))
		}
	case Bool:
		b, err := ParseBool(v)
		if err != nil {
			return nil, err
		}
		out = b
	case List:
		switch x := v.(type) {
		case []any:
			out = x
		case []string:
			l := make([]any, len(x))
			for i, s := range x {
				l[i] = s
			}
			out = l
		case string:
			var l []any
			for _, p := range strings.Split(x, ",") {
				if p = strings.TrimSpace(p); p != "" {
					l = append(l, p)
				}
			}
			out = l
		case int, int64, float64, bool:
			out = []any{x}
		default:
			return nil, fmt.Errorf("must be a list, not %s", typeName(v))
		}
	case Dict:
		switch x := v.(type) {
		case map[string]any:
			out = x
		default:
			return nil, fmt.Errorf("must be a mapping, not %s", typeName(v))
		}
	case Mode:
		switch x := v.(type) {
		case string:
			if _, err := strconv.ParseUint(x, 8, 32); err != nil && !isSymbolicMode(x) {
				return nil, fmt.Errorf("must be an octal mode such as \"0644\" or a symbolic one such as \"u=rw,g=r\", not %q", x)
			}
			out = x
		case int:
			out = fmt.Sprintf("%04o", x)
		case int64:
			out = fmt.Sprintf("%04o", x)
		case uint64:
			out = fmt.Sprintf("%04o", x)
		default:
			return nil, fmt.Errorf("must be a file mode, not %s", typeName(v))
		}
	}
	if len(a.Choices) > 0 {
		s := fmt.Sprint(out)
		for _, c := range a.Choices {
			if c == s {
				return out, nil
			}
		}
		hint := ""
		best, bestD := "", 3
		for _, c := range a.Choices {
			if d := Distance(s, c); d < bestD {
				best, bestD = c, d
			}
		}
		if best != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", best)
		}
		return nil, fmt.Errorf("value %q is not one of: %s%s", s, strings.Join(a.Choices, ", "), hint)
	}
	return out, nil
}

func isSymbolicMode(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ",") {
		i := strings.IndexAny(part, "=+-")
		if i < 0 {
			return false
		}
		if strings.Trim(part[:i], "ugoa") != "" || strings.Trim(part[i+1:], "rwxXstugo=+-") != "" {
			return false
		}
	}
	return true
}

// ParseBool takes the truth values Ansible takes.
func ParseBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case int64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case uint64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "yes", "true", "on", "1", "y", "t":
			return true, nil
		case "no", "false", "off", "0", "n", "f", "":
			return false, nil
		}
	}
	return false, fmt.Errorf("must be a boolean (true/false, yes/no), not %#v", v)
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case int, int64, uint64:
		return "a number"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Distance is the edit distance between a and b, for "did you mean" hints.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Args are a task's arguments after Normalize.
type Args map[string]any

// Has reports whether the argument is set (given or defaulted).
func (a Args) Has(k string) bool { _, ok := a[k]; return ok }

// String returns a string argument ("" when unset).
func (a Args) String(k string) string {
	v, ok := a[k]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Int returns an int argument (0 when unset).
func (a Args) Int(k string) int {
	n, _ := a[k].(int)
	return n
}

// Bool returns a bool argument (false when unset).
func (a Args) Bool(k string) bool {
	b, _ := a[k].(bool)
	return b
}

// List returns a list argument.
func (a Args) List(k string) []any {
	l, _ := a[k].([]any)
	return l
}

// Strings returns a list argument as strings.
func (a Args) Strings(k string) []string {
	l := a.List(k)
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = fmt.Sprint(v)
	}
	return out
}

// Map returns a dict argument.
func (a Args) Map(k string) map[string]any {
	m, _ := a[k].(map[string]any)
	return m
}

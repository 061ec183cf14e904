package expr

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/vm/runtime"
)

// This file holds the arithmetic operators whose meaning differs between
// expr and Python: division and modulo by zero are errors (expr gives
// +Inf), % takes the divisor's sign as in Python, and a string on the left
// of % is printf-style formatting ('%d' % n).

// TypeName names v's type in the words of Ansible and Jinja: string, int,
// float, bool, list, dict, None.
func TypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case *undefined:
		return "undefined"
	case string:
		return "string"
	case bool:
		return "bool"
	case float32, float64:
		return "float"
	case Raw:
		return TypeName(x.Value)
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "dict"
	case reflect.Func:
		return "function"
	}
	return fmt.Sprintf("%T", v)
}

// numbers returns both operands as floats, and whether both are ints.
func numbers(op string, a, b any) (x, y float64, ints bool, err error) {
	a, b = materialize(a), materialize(b)
	x, okx := toFloat(a)
	y, oky := toFloat(b)
	if !okx || !oky || !isNumber(a) || !isNumber(b) {
		return 0, 0, false, &EvalError{Msg: fmt.Sprintf("unsupported operand types for %s: %s and %s", op, TypeName(a), TypeName(b))}
	}
	_, fx := a.(float64)
	_, fy := b.(float64)
	return x, y, !fx && !fy, nil
}

var errDivZero = &EvalError{Msg: "division by zero"}

func divide(a ...any) (any, error) {
	x, y, _, err := numbers("/", a[0], a[1])
	if err != nil {
		return nil, err
	}
	if y == 0 {
		return nil, errDivZero
	}
	return x / y, nil
}

func floorDivide(a ...any) (any, error) {
	x, y, ints, err := numbers("//", a[0], a[1])
	if err != nil {
		return nil, err
	}
	if y == 0 {
		return nil, errDivZero
	}
	r := math.Floor(x / y)
	if ints {
		return int(r), nil
	}
	return r, nil
}

func modulo(a ...any) (any, error) {
	if f, ok := materialize(a[0]).(string); ok {
		return formatPercent(f, materialize(a[1]))
	}
	x, y, ints, err := numbers("%", a[0], a[1])
	if err != nil {
		return nil, err
	}
	if y == 0 {
		return nil, &EvalError{Msg: "modulo by zero"}
	}
	if ints {
		xi, yi := int(x), int(y)
		if ia, ok := toInt(materialize(a[0])); ok {
			xi = ia
		}
		if ib, ok := toInt(materialize(a[1])); ok {
			yi = ib
		}
		r := xi % yi
		if r != 0 && (r < 0) != (yi < 0) {
			r += yi
		}
		return r, nil
	}
	r := math.Mod(x, y)
	if r != 0 && (r < 0) != (y < 0) {
		r += y
	}
	return r, nil
}

// formatPercent is Python's format % args: a list (Python's tuple) gives
// one argument per conversion, anything else is the one argument.
func formatPercent(format string, arg any) (any, error) {
	args := []any{arg}
	if l, ok := toList(arg); ok {
		if n := conversions(format); n >= 2 && len(l) == n {
			args = l
		}
	}
	return pyFormat(format, args)
}

// conversions counts the % conversions in a printf-style format.
func conversions(format string) int {
	n := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			i++
			continue
		}
		n++
	}
	return n
}

func add(a ...any) (any, error) {
	if l, ok := toList(a[0]); ok {
		if _, isStr := a[0].(string); !isStr {
			r, ok2 := toList(a[1])
			if !ok2 {
				return nil, &EvalError{Msg: fmt.Sprintf("can only concatenate list (not %s) to list", TypeName(a[1]))}
			}
			out := make([]any, 0, len(l)+len(r))
			return append(append(out, l...), r...), nil
		}
	}
	_, sa := a[0].(string)
	_, sb := a[1].(string)
	if sa != sb && (isNumber(a[0]) || isNumber(a[1])) {
		return nil, &EvalError{Msg: fmt.Sprintf("unsupported operand types for +: %s and %s", TypeName(a[0]), TypeName(a[1]))}
	}
	if sa && sb {
		s := a[0].(string) + a[1].(string)
		return s, checkSize(len(s))
	}
	return runtime.Add(a[0], a[1]), nil
}

var (
	goConversion = regexp.MustCompile(`interface conversion: interface \{\} is ([^,]+), not (\S+)`)
	goInvalidOp  = regexp.MustCompile(`invalid operation: (\S+) (\S+) (\S+)`)
	goTypeWords  = strings.NewReplacer(
		"map[string]interface {}", "dict", "map[interface {}]interface {}", "dict", "[]interface {}", "list",
		"interface {}", "value", "float64", "float", "int64", "int", "<nil>", "None", "[]string", "list", "map[string]string", "dict",
		"string", "string", "bool", "bool",
	)
	testCall = regexp.MustCompile(`\bis_(\w+)\(\)`)
)

// ansibleWords rewrites expr's and Go's words in an error message into
// those of Ansible: list, dict, float, None, the test's name.
func ansibleWords(msg string) string {
	msg = goConversion.ReplaceAllStringFunc(msg, func(m string) string {
		p := goConversion.FindStringSubmatch(m)
		return fmt.Sprintf("a %s where a %s is needed", goTypeWords.Replace(p[1]), goTypeWords.Replace(p[2]))
	})
	msg = goTypeWords.Replace(msg)
	msg = goInvalidOp.ReplaceAllString(msg, "unsupported operand types for $2: $1 and $3")
	return testCall.ReplaceAllString(msg, "test $1")
}

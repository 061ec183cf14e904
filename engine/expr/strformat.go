package expr

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// pyStr is Python's str() of a value, as "{}".format(v) writes it.
func pyStr(v any) string {
	switch x := materialize(v).(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		if x == float64(int64(x)) && x < 1e16 && x > -1e16 {
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return ToString(x)
	}
}

// formatSpec is Python's [[fill]align][sign][0][width][,][.precision][type].
var formatSpec = regexp.MustCompile(`^(?:(.)?([<>^=]))?([+ -])?(0)?(\d+)?(,)?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$`)

// strFormat is Python's str.format with positional fields: "{}", "{0}",
// "{1:>5}", "{:.2f}", and "{{" "}}" for braces.
func strFormat(a ...any) (any, error) {
	if len(a) == 0 {
		return nil, argErr("format", "needs a format string")
	}
	format, ok := materialize(a[0]).(string)
	if !ok {
		return nil, argErr("format", "format() is a method of strings, not of %s", TypeName(a[0]))
	}
	args := a[1:]
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '{' && i+1 < len(format) && format[i+1] == '{', c == '}' && i+1 < len(format) && format[i+1] == '}':
			b.WriteByte(c)
			i++
			continue
		case c == '}':
			return nil, argErr("format", "single '}' in %q", format)
		case c != '{':
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(format[i:], '}')
		if end < 0 {
			return nil, argErr("format", "single '{' in %q", format)
		}
		field := format[i+1 : i+end]
		i += end
		name, spec, _ := strings.Cut(field, ":")
		name, conv, _ := strings.Cut(name, "!")
		idx := next
		if name == "" {
			next++
		} else {
			n, err := strconv.Atoi(name)
			if err != nil {
				return nil, argErr("format", "named field {%s}: only positional fields are supported", name)
			}
			idx = n
		}
		if idx >= len(args) {
			return nil, argErr("format", "field {%d} but only %d argument(s)", idx, len(args))
		}
		v := materialize(args[idx])
		if conv == "r" {
			if s, ok := v.(string); ok {
				v = "'" + s + "'"
			}
		}
		s, err := formatField(v, spec)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func formatField(v any, spec string) (string, error) {
	if spec == "" {
		return pyStr(v), nil
	}
	m := formatSpec.FindStringSubmatch(spec)
	if m == nil {
		return "", argErr("format", "unsupported format spec %q", spec)
	}
	fill, align, sign, zero, width, comma, prec, typ := m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	var s string
	switch typ {
	case "d", "n":
		n, ok := toInt(v)
		if !ok {
			return "", argErr("format", "{:%s} needs an integer, got %s", spec, TypeName(v))
		}
		s = strconv.Itoa(n)
	case "x", "X", "o", "b":
		n, ok := toInt(v)
		if !ok {
			return "", argErr("format", "{:%s} needs an integer, got %s", spec, TypeName(v))
		}
		s = fmt.Sprintf("%"+typ, n)
	case "e", "E", "f", "F", "g", "G", "%":
		f, ok := toFloat(v)
		if !ok {
			return "", argErr("format", "{:%s} needs a number, got %s", spec, TypeName(v))
		}
		p := 6
		if prec != "" {
			p, _ = strconv.Atoi(prec)
			if err := fits("format", p); err != nil {
				return "", err
			}
		}
		switch typ {
		case "%":
			s = strconv.FormatFloat(f*100, 'f', p, 64) + "%"
		case "F":
			s = strconv.FormatFloat(f, 'f', p, 64)
		default:
			s = strconv.FormatFloat(f, typ[0], p, 64)
		}
	default:
		if f, ok := v.(float64); ok && prec != "" {
			p, _ := strconv.Atoi(prec)
			s = strconv.FormatFloat(f, 'f', p, 64)
		} else {
			s = pyStr(v)
			if prec != "" {
				p, _ := strconv.Atoi(prec)
				if r := []rune(s); len(r) > p {
					s = string(r[:p])
				}
			}
		}
	}
	if comma != "" {
		s = thousands(s)
	}
	if sign == "+" && isNumber(v) && !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	w, _ := strconv.Atoi(width)
	if err := fits("format", w); err != nil {
		return "", err
	}
	pad := w - len([]rune(s))
	if pad <= 0 {
		return s, nil
	}
	if zero != "" && align == "" {
		fill, align = "0", "="
	}
	if fill == "" {
		fill = " "
	}
	if align == "" {
		align = "<"
		if isNumber(v) {
			align = ">"
		}
	}
	p := strings.Repeat(fill, pad)
	switch align {
	case ">":
		return p + s, nil
	case "^":
		return strings.Repeat(fill, pad/2) + s + strings.Repeat(fill, pad-pad/2), nil
	case "=":
		if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			return s[:1] + p + s[1:], nil
		}
		return p + s, nil
	}
	return s + p, nil
}

// thousands puts commas between groups of three digits of the integer part.
func thousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, rest, _ := strings.Cut(s, ".")
	if rest != "" {
		rest = "." + rest
	}
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String() + rest
}

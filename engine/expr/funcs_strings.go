package expr

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// stringFuncs registers text: joining, splitting, case, trimming, regular expressions, formatting.
func stringFuncs(r *registry) {
	add, addN := r.add, r.addN
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
		size := len(sep) * max(len(l)-1, 0)
		for i, e := range l {
			parts[i] = str(e)
			size += len(parts[i])
			if err := fits("join", size); err != nil {
				return nil, err
			}
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
	pad := func(name string, where func(s string, n, w int, fill string) string) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			s := str(a[0])
			w, ok := toInt(a[1])
			if !ok {
				return nil, argErr(name, "the width must be a whole number, not %v", a[1])
			}
			fill := " "
			if len(a) > 2 {
				fill = str(a[2])
				if utf8.RuneCountInString(fill) != 1 {
					return nil, argErr(name, "the fill character must be one character, not %q", fill)
				}
			}
			n := w - utf8.RuneCountInString(s)
			if n <= 0 {
				return s, nil
			}
			if err := fits(name, len(s)+n*len(fill)); err != nil {
				return nil, err
			}
			return where(s, n, w, fill), nil
		}
	}
	addN("ljust", "ljust(s, width, [fill])", "s padded on the right with spaces (or fill) to width characters (Python's s.ljust)", 2, 3,
		pad("ljust", func(s string, n, _ int, fill string) string { return s + strings.Repeat(fill, n) }))
	addN("rjust", "rjust(s, width, [fill])", "s padded on the left with spaces (or fill) to width characters (Python's s.rjust)", 2, 3,
		pad("rjust", func(s string, n, _ int, fill string) string { return strings.Repeat(fill, n) + s }))
	addN("center", "center(s, width, [fill])", "s centred in width characters, padded with spaces (or fill) on both sides", 2, 3,
		pad("center", func(s string, n, w int, fill string) string {
			left := n/2 + n&w&1 // as Python places the odd space
			return strings.Repeat(fill, left) + s + strings.Repeat(fill, n-left)
		}))
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
		s, old, repl := str(a[0]), str(a[1]), str(a[2])
		if n := strings.Count(s, old); n > 0 && len(repl) > len(old) {
			if err := fits("replace", len(s)+n*(len(repl)-len(old))); err != nil {
				return nil, err
			}
		}
		return strings.ReplaceAll(s, old, repl), nil
	})
	addN("indent", "indent(s, [width], [first])", "s with every line but the first (all with first true) indented by width spaces (default 4)", 1, 3, func(a ...any) (any, error) {
		w := 4
		if len(a) > 1 && a[1] != nil {
			w, _ = toInt(a[1])
		}
		text := str(a[0])
		if err := fits("indent", len(text)+w*(strings.Count(text, "\n")+1)); err != nil {
			return nil, err
		}
		pad := strings.Repeat(" ", w)
		lines := strings.Split(text, "\n")
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
		text, tmpl := str(a[0]), goReplacement(repl)
		if len(repl) > 0 && (len(text)+1)*len(repl) > MaxValueSize() {
			// measure the result before building it
			size := len(text)
			var buf []byte
			for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
				buf = re.ExpandString(buf[:0], tmpl, text, m)
				size += len(buf) - (m[1] - m[0])
				if err := fits("regex_replace", size); err != nil {
					return nil, err
				}
			}
		}
		return re.ReplaceAllString(text, tmpl), nil
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
	addN("comment", "comment(text, [style], [decoration=, prefix=, prefix_count=, postfix=, postfix_count=, beginning=, end=])", "text as a comment block: style plain (#), erlang (%), c (//), cblock (/* */) or xml (<!-- -->)", 1, 10, commentFn)
	addN("repeat", "repeat(s, n)", "s repeated n times", 2, 2, func(a ...any) (any, error) {
		s := str(a[0])
		n, ok := toInt(materialize(a[1]))
		if !ok || n < 0 {
			return nil, argErr("repeat", "needs a count of 0 or more, got %s", TypeName(a[1]))
		}
		if err := fits("repeat", len(s)*n); err != nil || (len(s) > 0 && n > MaxValueSize()) {
			return nil, fits("repeat", MaxValueSize()+1)
		}
		return strings.Repeat(s, n), nil
	})
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
		if err := fits("format", specWidth(spec)+b.Len()); err != nil {
			return "", err
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

var regexCache sync.Map

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

// commentStyles are the comment filter's styles: what begins and ends the
// block, and what starts each line.
var commentStyles = map[string][3]string{
	"plain":  {"", "# ", ""},
	"erlang": {"", "% ", ""},
	"c":      {"", "// ", ""},
	"cblock": {"/*", " * ", " */"},
	"xml":    {"<!--", " - ", "-->"},
}

// commentFn(text, style, decoration, beginning, prefix, prefix_count,
// postfix, postfix_count, end, newline), the keyword arguments as nil when
// not given.
func commentFn(a ...any) (any, error) {
	arg := func(i int) (string, bool) {
		if i < len(a) && a[i] != nil {
			return str(a[i]), true
		}
		return "", false
	}
	text := str(a[0])
	style := "plain"
	if s, ok := arg(1); ok {
		style = s
	}
	st, ok := commentStyles[style]
	if !ok {
		return nil, argErr("comment", "unknown style %q (plain, erlang, c, cblock, xml)", style)
	}
	beginning, decoration, end := st[0], st[1], st[2]
	if d, ok := arg(2); ok {
		decoration = d
	}
	prefix, postfix := strings.TrimRight(decoration, " \t"), strings.TrimRight(decoration, " \t")
	if s, ok := arg(3); ok {
		beginning = s
	}
	if s, ok := arg(4); ok {
		prefix = s
	}
	// count reads the whole-number argument i (1 when not given).
	count := func(i int, name string) (int, error) {
		s, ok := arg(i)
		if !ok {
			return 1, nil
		}
		n, isInt := toInt(s)
		if !isInt {
			return 0, argErr("comment", "%s must be a number, got %q", name, s)
		}
		return n, nil
	}
	prefixCount, err := count(5, "prefix_count")
	if err != nil {
		return nil, err
	}
	if s, ok := arg(6); ok {
		postfix = s
	}
	postfixCount, err := count(7, "postfix_count")
	if err != nil {
		return nil, err
	}
	if s, ok := arg(8); ok {
		end = s
	}
	nl := "\n"
	if s, ok := arg(9); ok {
		nl = s
	}
	var b strings.Builder
	if beginning != "" {
		b.WriteString(beginning + nl)
	}
	if prefix != "" {
		for i := 0; i < prefixCount; i++ {
			if prefix != nl {
				b.WriteString(prefix)
			}
			b.WriteString(nl)
		}
	}
	body := decoration + strings.ReplaceAll(text, nl, nl+decoration)
	body = strings.ReplaceAll(body, decoration+nl, strings.TrimRight(decoration, " \t")+nl)
	b.WriteString(body)
	for i := 0; i < postfixCount; i++ {
		b.WriteString(nl + postfix)
	}
	if end != "" {
		b.WriteString(nl + end)
	}
	return b.String(), nil
}

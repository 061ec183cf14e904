package validate

import (
	"regexp"
	"strings"

	"github.com/tpago/tpago/yamlx"
)

func indentOf(s string) int {
	return len(s) - len(strings.TrimLeft(s, " "))
}

func blank(s string) bool {
	t := strings.TrimSpace(s)
	return t == "" || strings.HasPrefix(t, "#")
}

// keyPos finds where key is written among the keys of the mapping that
// starts at pos (a task); pos itself when not found.
func keyPos(pos yamlx.Pos, key string) yamlx.Pos {
	if pos.Line == 0 || pos.Col == 0 {
		return pos
	}
	c := pos.Col - 1
	for l := pos.Line; l < pos.Line+500; l++ {
		text, ok := pos.LineText(l)
		if !ok {
			break
		}
		if l > pos.Line && !blank(text) && indentOf(text) < c {
			break
		}
		if len(text) > c && strings.HasPrefix(text[c:], key+":") {
			prefix := strings.TrimSpace(strings.ReplaceAll(text[:c], "-", " "))
			if prefix == "" {
				return pos.At(l, pos.Col)
			}
		}
	}
	return pos
}

func identRE(name string) *regexp.Regexp {
	return regexp.MustCompile(`(^|[^A-Za-z0-9_.])` + regexp.QuoteMeta(name) + `($|[^A-Za-z0-9_])`)
}

// refineCol moves pos to where name is written in the value at pos: on the
// same line from pos's column on, or on the lines of a block scalar below.
func refineCol(pos yamlx.Pos, name string) yamlx.Pos {
	first, ok := pos.LineText(pos.Line)
	if !ok || pos.Col == 0 {
		return pos
	}
	re := identRE(name)
	from := pos.Col - 1
	if from > len(first) {
		from = len(first)
	}
	if m := re.FindStringSubmatchIndex(first[from:]); m != nil {
		return pos.At(pos.Line, from+m[3]+1)
	}
	base := indentOf(first)
	for l := pos.Line + 1; l < pos.Line+200; l++ {
		text, ok := pos.LineText(l)
		if !ok {
			break
		}
		if !blank(text) && indentOf(text) <= base {
			break
		}
		if m := re.FindStringSubmatchIndex(text); m != nil {
			return pos.At(l, m[3]+1)
		}
	}
	return pos
}

// findIdent finds the first use of name inside {{ }} or {% %} in a
// template's text: its line and column (1, 1 when not found).
func findIdent(text, name string) (int, int) {
	re := identRE(name)
	for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
		o := m[3]
		before := text[:o]
		opens := strings.Count(before, "{{") + strings.Count(before, "{%")
		closes := strings.Count(before, "}}") + strings.Count(before, "%}")
		if opens > closes {
			line := strings.Count(before, "\n") + 1
			col := o - (strings.LastIndex(before, "\n") + 1) + 1
			return line, col
		}
	}
	return 1, 1
}

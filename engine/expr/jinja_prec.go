package expr

import (
	"strconv"
	"strings"
)

// This file rewrites, before the rest of the Jinja translation, the
// constructs whose meaning expr's grammar would change:
//
//	'a\.b' "x\n"       Python string escapes (unknown ones keep their backslash)
//	('a', 'b') (1,)    tuples, as lists
//	x is sameas true   a test's one argument without parentheses
//	not a == b         not (a == b): Jinja's not binds looser than comparisons,
//	                   in, is and filters, tighter than and, or, if

// jinjaPrepass applies the rewrites; changed reports any.
func jinjaPrepass(toks []token) ([]token, bool) {
	changed := false
	for k, t := range toks {
		if t.kind == tkString && t.text[0] != '`' && strings.ContainsAny(t.text, "\\\n\r") {
			toks[k].text = strconv.Quote(pyUnescape(t.text[1 : len(t.text)-1]))
			changed = true
		}
	}
	if out, ok := tuples(toks); ok {
		toks, changed = out, true
	}
	if out, ok := bareTestArgs(toks); ok {
		toks, changed = out, true
	}
	if out, ok := notPrecedence(toks); ok {
		toks, changed = out, true
	}
	return toks, changed
}

// pyUnescape decodes the escapes of a Python string literal's body as
// Jinja does: \\ \' \" \n \t \r \a \b \f \v \0oo \xhh \uhhhh \Uhhhhhhhh,
// a backslash before a newline joins the lines, any other backslash stays.
func pyUnescape(s string) string {
	if !strings.Contains(s, "\\") {
		return strings.ReplaceAll(s, "\r\n", "\n")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		n := s[i+1]
		simple := map[byte]string{'\\': "\\", '\'': "'", '"': "\"", 'n': "\n", 't': "\t", 'r': "\r", 'a': "\a", 'b': "\b", 'f': "\f", 'v': "\v", '\n': ""}
		if r, ok := simple[n]; ok {
			b.WriteString(r)
			i++
			continue
		}
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[n]
		if n >= '0' && n <= '7' {
			j := i + 1
			for j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i+1:j], 8, 32)
			b.WriteRune(rune(v))
			i = j - 1
			continue
		}
		if width > 0 && i+2+width <= len(s) {
			if v, err := strconv.ParseUint(s[i+2:i+2+width], 16, 32); err == nil {
				b.WriteRune(rune(v))
				i += 1 + width
				continue
			}
		}
		b.WriteByte(c) // unknown escape: the backslash stays
	}
	return b.String()
}

// closeOf returns the index of the bracket that closes toks[open], or -1.
func closeOf(toks []token, open int) int {
	depth := 0
	for j := open; j < len(toks); j++ {
		switch toks[j].kind {
		case tkOpen:
			depth++
		case tkClose:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// tuples turns ( a, b ) that is not a call into [ a, b ].
func tuples(toks []token) ([]token, bool) {
	changed := false
	for k, t := range toks {
		if t.kind != tkOpen || t.text != "(" || (k > 0 && toks[k-1].operandEnd()) {
			continue
		}
		end := closeOf(toks, k)
		if end < 0 {
			continue
		}
		comma := end == k+1 // () is the empty tuple
		depth := 0
		for j := k + 1; j < end && !comma; j++ {
			switch {
			case toks[j].kind == tkOpen:
				depth++
			case toks[j].kind == tkClose:
				depth--
			case depth == 0 && toks[j].kind == tkOp && toks[j].text == ",":
				comma = true
			}
		}
		if comma {
			toks[k].text, toks[end].text = "[", "]"
			changed = true
		}
	}
	return toks, changed
}

// primaryEnd returns the index after the primary expression that starts
// at toks[i] (a name, literal or bracket group with its .attr, [index] and
// (call) suffixes), or -1 when none starts there.
func primaryEnd(toks []token, i int) int {
	if i >= len(toks) {
		return -1
	}
	t := toks[i]
	switch {
	case t.kind == tkIdent && !jinjaKeyword(t.text), t.kind == tkString, t.kind == tkNumber:
		i++
	case t.kind == tkOpen:
		e := closeOf(toks, i)
		if e < 0 {
			return -1
		}
		i = e + 1
	default:
		return -1
	}
	for i < len(toks) {
		switch {
		case toks[i].kind == tkOpen && toks[i].text != "{":
			e := closeOf(toks, i)
			if e < 0 {
				return -1
			}
			i = e + 1
		case toks[i].kind == tkOp && (toks[i].text == "." || toks[i].text == "?.") && i+1 < len(toks) && toks[i+1].kind != tkOp:
			i += 2
		default:
			return i
		}
	}
	return i
}

func jinjaKeyword(s string) bool {
	switch s {
	case "and", "or", "not", "in", "is", "if", "else", "let":
		return true
	}
	return false
}

// bareTestArgs turns x is name arg into x is name(arg).
func bareTestArgs(toks []token) ([]token, bool) {
	changed := false
	for k := 0; k+2 < len(toks); k++ {
		if toks[k].kind != tkIdent || toks[k].text != "is" || k == 0 || !toks[k-1].operandEnd() {
			continue
		}
		j := k + 1
		if toks[j].kind == tkIdent && toks[j].text == "not" {
			j++
		}
		if j+1 >= len(toks) || (toks[j].kind != tkIdent && toks[j].kind != tkString) {
			continue
		}
		if toks[j+1].kind == tkOpen && toks[j+1].text == "(" {
			continue
		}
		end := primaryEnd(toks, j+1)
		if end < 0 {
			continue
		}
		out := append([]token(nil), toks[:j+1]...)
		out = append(out, token{tkOpen, "(", -1})
		out = append(out, toks[j+1:end]...)
		out = append(out, token{tkClose, ")", -1})
		toks = append(out, toks[end:]...)
		changed = true
	}
	return toks, changed
}

// notPrecedence puts what a unary not applies to in brackets: up to the
// next and, or, if, else, comma, colon or closing bracket.
func notPrecedence(toks []token) ([]token, bool) {
	has := false
	for k, t := range toks {
		if isUnaryNot(toks, k) && t.kind == tkIdent {
			has = true
			break
		}
	}
	if !has {
		return toks, false
	}
	return wrapNots(toks), true
}

func isUnaryNot(toks []token, k int) bool {
	if toks[k].kind != tkIdent || toks[k].text != "not" {
		return false
	}
	if k > 0 && (toks[k-1].operandEnd() || (toks[k-1].kind == tkIdent && toks[k-1].text == "is")) {
		return false
	}
	return k+1 < len(toks) && !(toks[k+1].kind == tkIdent && toks[k+1].text == "in")
}

func wrapNots(toks []token) []token {
	var out []token
	for k := 0; k < len(toks); k++ {
		if !isUnaryNot(toks, k) {
			out = append(out, toks[k])
			continue
		}
		end := k + 1
		depth := 0
	scan:
		for ; end < len(toks); end++ {
			t := toks[end]
			switch {
			case t.kind == tkOpen:
				depth++
			case t.kind == tkClose:
				if depth == 0 {
					break scan
				}
				depth--
			case depth > 0:
			case t.kind == tkIdent && (t.text == "and" || t.text == "or" || (t.text == "if" && toks[end-1].operandEnd()) || t.text == "else"):
				break scan
			case t.kind == tkOp && (t.text == "," || t.text == ":" || t.text == "?" || t.text == "&&" || t.text == "||" || t.text == ";"):
				break scan
			}
		}
		out = append(out, toks[k], token{tkOpen, "(", -1})
		out = append(out, wrapNots(toks[k+1:end])...)
		out = append(out, token{tkClose, ")", -1})
		k = end - 1
	}
	return out
}

package expr

import (
	"strings"
)

// This file turns the Jinja spellings Ansible authors write into plain expr:
//
//	x | f(a)          -> f(x, a)        (a filter binds to its operand only)
//	x | f             -> f(x)
//	x is defined      -> is_defined(x)
//	x is not none     -> !is_none(x)
//	a ~ b             -> a .. b, turned into a string concatenation later
//	A if C else B     -> (C) ? (A) : (B)
//	True False None   -> true false nil
//	contains(a, b)    -> contains_(a, b) (contains is an expr operator)

type tokKind int

const (
	tkIdent tokKind = iota
	tkNumber
	tkString
	tkPointer
	tkOp
	tkOpen
	tkClose
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the original code; -1 for synthesised tokens
}

func (t token) operandEnd() bool {
	switch t.kind {
	case tkIdent:
		switch t.text {
		case "not", "and", "or", "in", "if", "else", "let", "is":
			return false
		}
		return true
	case tkNumber, tkString, tkPointer, tkClose:
		return true
	}
	return false
}

var multiOps = []string{"?.", "??", "..", "**", "//", "==", "!=", "<=", ">=", "&&", "||"}

// lex splits code into tokens; ok is false for input it does not understand
// (expr will then report the error on the original code).
func lex(code string) ([]token, bool) {
	var toks []token
	i := 0
	for i < len(code) {
		c := code[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(code) && code[j] != c {
				if code[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(code) {
				return nil, false
			}
			toks = append(toks, token{tkString, code[i : j+1], i})
			i = j + 1
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(code) && (isIdentChar(code[j]) || (code[j] == '.' && j+1 < len(code) && code[j+1] >= '0' && code[j+1] <= '9') ||
				((code[j] == '+' || code[j] == '-') && (code[j-1] == 'e' || code[j-1] == 'E') && !strings.HasPrefix(code[i:], "0x"))) {
				j++
			}
			toks = append(toks, token{tkNumber, code[i:j], i})
			i = j
		case isIdentStart(c):
			j := i + 1
			for j < len(code) && isIdentChar(code[j]) {
				j++
			}
			toks = append(toks, token{tkIdent, code[i:j], i})
			i = j
		case c == '#':
			j := i + 1
			for j < len(code) && isIdentChar(code[j]) {
				j++
			}
			toks = append(toks, token{tkPointer, code[i:j], i})
			i = j
		case c == '(' || c == '[' || c == '{':
			toks = append(toks, token{tkOpen, code[i : i+1], i})
			i++
		case c == ')' || c == ']' || c == '}':
			toks = append(toks, token{tkClose, code[i : i+1], i})
			i++
		default:
			op := ""
			for _, m := range multiOps {
				if strings.HasPrefix(code[i:], m) {
					op = m
					break
				}
			}
			if op == "?." && i+2 < len(code) && code[i+2] >= '0' && code[i+2] <= '9' {
				op = ""
			}
			if op == "" {
				if !strings.ContainsRune("+-*/%^<>!=?:|~.,;", rune(c)) {
					return nil, false
				}
				op = code[i : i+1]
			}
			toks = append(toks, token{tkOp, op, i})
			i += len(op)
		}
	}
	return toks, true
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// operandStart returns the index in out where the postfix expression that
// ends out begins, or -1 when out does not end with an operand.
func operandStart(out []token) int {
	i := len(out) - 1
	for i >= 0 {
		t := out[i]
		switch {
		case t.kind == tkClose:
			depth := 0
			j := i
			for ; j >= 0; j-- {
				if out[j].kind == tkClose {
					depth++
				} else if out[j].kind == tkOpen {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if j < 0 {
				return -1
			}
			if (t.text == ")" || t.text == "]") && j > 0 && out[j-1].operandEnd() {
				i = j - 1 // a call or an index: keep going left
				continue
			}
			if j > 0 && out[j-1].kind == tkOp && (out[j-1].text == "." || out[j-1].text == "?.") {
				i = j - 2
				continue
			}
			return j
		case t.operandEnd():
			if i > 0 && out[i-1].kind == tkOp && (out[i-1].text == "." || out[i-1].text == "?.") {
				i -= 2
				continue
			}
			return i
		default:
			return -1
		}
	}
	return -1
}

// concatMark is the position marker of a ".." operator that came from "~".
type rewritten struct {
	code     string
	changed  bool
	concat   map[int]bool // rune offsets of ".." operators that were "~"
	floorDiv map[int]bool // rune offsets of "/" operators that were "//"
	origPos  []int        // for each rune offset in code, the byte offset in the original (-1 unknown)
	err      error        // a Jinja construct that cannot be translated
}

func rewriteJinja(code string) rewritten {
	toks, ok := lex(code)
	if !ok {
		return rewritten{code: code}
	}
	toks, changed := jinjaPrepass(toks)
	out := make([]token, 0, len(toks)+4)
	syn := func(s string) token { return token{tkOp, s, -1} }
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		prevOperand := len(out) > 0 && out[len(out)-1].operandEnd()
		afterDot := len(out) > 0 && out[len(out)-1].kind == tkOp && (out[len(out)-1].text == "." || out[len(out)-1].text == "?.")
		nextIs := func(s string) bool { return i+1 < len(toks) && toks[i+1].text == s }
		switch {
		case t.kind == tkIdent && !afterDot && (t.text == "True" || t.text == "true"):
			if t.text == "True" {
				changed = true
			}
			out = append(out, token{tkIdent, "true", t.pos})
		case t.kind == tkIdent && !afterDot && (t.text == "False" || t.text == "false"):
			if t.text == "False" {
				changed = true
			}
			out = append(out, token{tkIdent, "false", t.pos})
		case t.kind == tkIdent && !afterDot && (t.text == "None" || (t.text == "none" && !nextIs("("))):
			changed = true
			out = append(out, token{tkIdent, "nil", t.pos})
		case t.kind == tkIdent && t.text == "contains" && !prevOperand && nextIs("("):
			changed = true
			out = append(out, token{tkIdent, "contains_", t.pos})
		case t.kind == tkOp && t.text == "." && prevOperand && i+1 < len(toks) && toks[i+1].kind == tkNumber && allDigits(toks[i+1].text):
			// Jinja's list.0 is list[0]
			changed = true
			out = append(out, token{tkOpen, "[", t.pos}, toks[i+1], token{tkClose, "]", -1})
			i++
		case t.kind == tkOp && t.text == "~":
			changed = true
			out = append(out, token{tkOp, "..", t.pos})
		case t.kind == tkOp && t.text == "//":
			changed = true
			out = append(out, token{tkOp, "/", t.pos})
		case t.kind == tkOp && t.text == "|" && i+1 < len(toks) && toks[i+1].kind == tkIdent:
			start := operandStart(out)
			// a unary sign belongs to the operand: -5 | abs is abs(-5)
			if start > 0 && (out[start-1].text == "-" || out[start-1].text == "+") && out[start-1].kind == tkOp &&
				(start == 1 || !out[start-2].operandEnd()) {
				start--
			}
			if start < 0 {
				out = append(out, t)
				continue
			}
			changed = true
			operand := append([]token(nil), out[start:]...)
			out = out[:start]
			name := toks[i+1]
			if name.text == "contains" {
				name.text = "contains_"
			}
			// Jinja's map with a filter name: x | map('upper')
			if name.text == "map" && i+3 < len(toks) && toks[i+2].text == "(" && toks[i+3].kind == tkString {
				name.text = "map_filter"
			}
			out = append(out, token{tkIdent, name.text, name.pos}, token{tkOpen, "(", -1})
			out = append(out, operand...)
			i++
			if nextIs("(") {
				i++
				if nextIs(")") {
					// f() : close right away
					i++
					out = append(out, token{tkClose, ")", toks[i].pos})
				} else {
					out = append(out, syn(","))
				}
			} else {
				out = append(out, token{tkClose, ")", -1})
			}
		case t.kind == tkIdent && t.text == "is" && prevOperand && i+1 < len(toks):
			start := operandStart(out)
			j := i + 1
			negate := false
			if toks[j].kind == tkIdent && toks[j].text == "not" && j+1 < len(toks) {
				negate = true
				j++
			}
			if start < 0 || (toks[j].kind != tkIdent && toks[j].kind != tkString) {
				out = append(out, t)
				continue
			}
			changed = true
			operand := append([]token(nil), out[start:]...)
			out = out[:start]
			if negate {
				out = append(out, syn("!"))
			}
			name := strings.ToLower(toks[j].text)
			switch name {
			case "nil":
				name = "none"
			default:
				if alias, ok := testAliases[name]; ok {
					name = alias
				}
			}
			out = append(out, token{tkIdent, "is_" + name, toks[j].pos}, token{tkOpen, "(", -1})
			out = append(out, operand...)
			i = j
			if nextIs("(") {
				i++
				if nextIs(")") {
					i++
					out = append(out, token{tkClose, ")", toks[i].pos})
				} else {
					out = append(out, syn(","))
				}
			} else {
				out = append(out, token{tkClose, ")", -1})
			}
		default:
			out = append(out, t)
		}
	}
	if fixed, ok := rewriteInlineIf(out); ok {
		out = fixed
		changed = true
	}
	fixed, ok, err := rewriteKeywords(out)
	if err != nil {
		return rewritten{code: code, err: err}
	}
	if ok {
		out = fixed
		changed = true
	}
	if !changed {
		return rewritten{code: code}
	}
	var b strings.Builder
	r := rewritten{changed: true, concat: map[int]bool{}, floorDiv: map[int]bool{}}
	runes := 0
	for k, t := range out {
		if k > 0 {
			b.WriteByte(' ')
			r.origPos = append(r.origPos, t.pos)
			runes++
		}
		if t.kind == tkOp && t.text == ".." && t.pos >= 0 && code[t.pos] == '~' {
			r.concat[runes] = true
		}
		if t.kind == tkOp && t.text == "/" && t.pos >= 0 && strings.HasPrefix(code[t.pos:], "//") {
			r.floorDiv[runes] = true
		}
		for range t.text {
			r.origPos = append(r.origPos, t.pos)
			runes++
		}
		b.WriteString(t.text)
	}
	r.code = b.String()
	return r
}

// rewriteInlineIf turns Jinja's "A if C else B" into "(C) ? (A) : (B)" in
// every bracket group. ok is false when there was nothing to change.
func rewriteInlineIf(toks []token) ([]token, bool) {
	has := false
	for k, t := range toks {
		if t.kind == tkIdent && t.text == "if" && k > 0 && toks[k-1].operandEnd() {
			has = true
			break
		}
	}
	if !has {
		return toks, false
	}
	out, _ := inlineIfGroup(toks, 0)
	return out, true
}

// inlineIfGroup rewrites toks[start:] up to the close of the current group,
// returning the rewritten tokens and the index after the group's end
// (pointing at the closing token, which is not included).
func inlineIfGroup(toks []token, start int) ([]token, int) {
	var out []token
	var seg []token
	flush := func() {
		out = append(out, inlineIfSegment(seg)...)
		seg = nil
	}
	i := start
	for i < len(toks) {
		t := toks[i]
		switch {
		case t.kind == tkOpen:
			inner, end := inlineIfGroup(toks, i+1)
			seg = append(seg, t)
			seg = append(seg, inner...)
			if end < len(toks) {
				seg = append(seg, toks[end])
			}
			i = end + 1
			continue
		case t.kind == tkClose:
			flush()
			return out, i
		case t.kind == tkOp && (t.text == "," || t.text == ":" || t.text == ";"):
			flush()
			out = append(out, t)
		default:
			seg = append(seg, t)
		}
		i++
	}
	flush()
	return out, i
}

// inlineIfSegment handles one comma-free segment at one bracket depth.
func inlineIfSegment(seg []token) []token {
	depth := 0
	ifAt, elseAt := -1, -1
	for k, t := range seg {
		switch {
		case t.kind == tkOpen:
			depth++
		case t.kind == tkClose:
			depth--
		case depth == 0 && t.kind == tkIdent && t.text == "if" && ifAt < 0 && k > 0 && seg[k-1].operandEnd():
			ifAt = k
		case depth == 0 && t.kind == tkIdent && t.text == "else" && ifAt >= 0 && elseAt < 0:
			elseAt = k
		}
	}
	if ifAt < 0 {
		return seg
	}
	a := seg[:ifAt]
	var c, b []token
	if elseAt < 0 {
		c = seg[ifAt+1:]
		b = []token{{tkIdent, "nil", -1}}
	} else {
		c = seg[ifAt+1 : elseAt]
		b = inlineIfSegment(seg[elseAt+1:])
	}
	open := token{tkOpen, "(", -1}
	cl := token{tkClose, ")", -1}
	var out []token
	out = append(out, open)
	out = append(out, c...)
	out = append(out, cl, token{tkOp, "?", seg[ifAt].pos}, open)
	out = append(out, a...)
	out = append(out, cl, token{tkOp, ":", -1}, open)
	out = append(out, b...)
	out = append(out, cl)
	return out
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

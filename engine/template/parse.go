package template

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/yamlx"
)

type tokKind int

const (
	tokText tokKind = iota
	tokExpr
	tokTag
)

type token struct {
	kind tokKind
	text string // literal text, expression, or tag content
	pos  int    // byte offset in the source of text (or of the tag)
	code int    // byte offset of the content inside a tag
}

type parser struct {
	name string
	src  string
	toks []token
	i    int
}

func (p *parser) lineCol(off int) (int, int) {
	if off > len(p.src) {
		off = len(p.src)
	}
	line := 1 + strings.Count(p.src[:off], "\n")
	start := strings.LastIndexByte(p.src[:off], '\n') + 1
	return line, utf8.RuneCountInString(p.src[start:off]) + 1
}

func (p *parser) errAt(off int, msg string) error {
	line, col := p.lineCol(off)
	return &Error{Name: p.name, Line: line, Col: col, Msg: msg, Snippet: yamlx.SnippetOf(p.src, line, col)}
}

// lex splits the source into text, {{ }} and {% %} tokens, applying the
// whitespace rules: "-" strips all whitespace on its side, and the first
// newline after a block tag or comment is dropped (trim_blocks).
func (p *parser) lex() ([]token, error) {
	src := p.src
	var toks []token
	i := 0
	stripNext := false // strip leading whitespace of the next text
	trimNL := false    // drop one newline at the start of the next text
	addText := func(start, end int) {
		text := src[start:end]
		off := start
		if stripNext {
			t := strings.TrimLeft(text, " \t\r\n\v\f")
			off += len(text) - len(t)
			text = t
		} else if trimNL {
			if strings.HasPrefix(text, "\r\n") {
				text, off = text[2:], off+2
			} else if strings.HasPrefix(text, "\n") {
				text, off = text[1:], off+1
			}
		}
		stripNext, trimNL = false, false
		toks = append(toks, token{kind: tokText, text: text, pos: off})
	}
	stripPrev := func() {
		if n := len(toks); n > 0 && toks[n-1].kind == tokText {
			toks[n-1].text = strings.TrimRight(toks[n-1].text, " \t\r\n\v\f")
		}
	}
	for {
		j := nextOpen(src, i)
		if j < 0 {
			addText(i, len(src))
			break
		}
		addText(i, j)
		kind := src[j+1]
		inner := j + 2
		if inner < len(src) && src[inner] == '-' {
			stripPrev()
			inner++
		} else if inner < len(src) && src[inner] == '+' && kind != '{' {
			inner++
		}
		var closer string
		switch kind {
		case '{':
			closer = "}}"
		case '%':
			closer = "%}"
		default:
			closer = "#}"
		}
		var end int
		if kind == '#' {
			end = strings.Index(src[inner:], closer)
		} else {
			end = expr.FindClose(src[inner:], closer)
		}
		if end < 0 {
			return nil, p.errAt(j, fmt.Sprintf("%s is not closed with %s", src[j:j+2], closer))
		}
		contentEnd := inner + end
		after := contentEnd + 2
		content := src[inner:contentEnd]
		keepNL := false
		if strings.HasSuffix(content, "-") {
			content = content[:len(content)-1]
			stripNext = true
		} else if strings.HasSuffix(content, "+") && kind != '{' {
			content = content[:len(content)-1]
			keepNL = true
		}
		if kind != '{' && !stripNext && !keepNL {
			trimNL = true
		}
		switch kind {
		case '{':
			toks = append(toks, token{kind: tokExpr, text: content, pos: j, code: inner})
		case '%':
			if strings.TrimSpace(content) == "raw" {
				// everything up to {% endraw %} is text
				loc := rawEnd.FindStringSubmatchIndex(src[after:])
				if loc == nil {
					return nil, p.errAt(j, "{% raw %} is not closed with {% endraw %}")
				}
				start := after
				text := src[start : after+loc[0]]
				if stripNext { // {% raw -%}; a plain %} keeps the newline
					t := strings.TrimLeft(text, " \t\r\n\v\f")
					start += len(text) - len(t)
					text = t
				}
				if loc[2] >= 0 { // {%- endraw
					text = strings.TrimRight(text, " \t\r\n\v\f")
				}
				stripNext, trimNL = false, false
				toks = append(toks, token{kind: tokText, text: text, pos: start})
				closing := src[after+loc[0] : after+loc[1]]
				switch {
				case strings.HasSuffix(closing, "-%}"):
					stripNext = true
				case strings.HasSuffix(closing, "+%}"):
				default:
					trimNL = true
				}
				after += loc[1]
				break
			}
			toks = append(toks, token{kind: tokTag, text: content, pos: j, code: inner})
		}
		i = after
	}
	return toks, nil
}

var rawEnd = regexp.MustCompile(`\{%(-)?\s*endraw\s*[-+]?%\}`)

// nextOpen finds the next {{, {% or {#.
func nextOpen(s string, from int) int {
	for k := from; k+1 < len(s); k++ {
		if s[k] == '{' && (s[k+1] == '{' || s[k+1] == '%' || s[k+1] == '#') {
			return k
		}
	}
	return -1
}

type node interface{}

type textNode struct {
	text string
	pos  int
}

type exprNode struct {
	code string
	pos  int // offset of the code in the source
}

type ifNode struct {
	conds  []exprNode
	bodies [][]node
	els    []node
}

type forNode struct {
	names  []string
	list   exprNode
	filter *exprNode // {% for x in list if cond %}
	body   []node
	els    []node
	pos    int
}

type setNode struct {
	name  string
	value exprNode
}

// setBlockNode is {% set name %}body{% endset %}: name holds the rendered
// body, a string.
type setBlockNode struct {
	name string
	body []node
	pos  int
}

// endTag is the tag that closed a body: "endif", "else", "elif", "endfor",
// "endset".
type endTag struct {
	word string
	rest string
	pos  int
	code int
}

var (
	forRe      = regexp.MustCompile(`(?s)^for\s+\(?\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*,?\s*\)?\s+in\s+(.+)$`)
	setRe      = regexp.MustCompile(`(?s)^set\s+([A-Za-z_]\w*)\s*=\s*(.+)$`)
	setBlockRe = regexp.MustCompile(`(?s)^set\s+([A-Za-z_]\w*)\s*$`)
)

// expression checks code at offset off and returns its node.
func (p *parser) expression(code string, off int) (exprNode, error) {
	trimmed := strings.TrimLeft(code, " \t\r\n")
	off += len(code) - len(trimmed)
	trimmed = strings.TrimRight(trimmed, " \t\r\n")
	if err := expr.Check(trimmed); err != nil {
		var se *expr.SyntaxError
		if errors.As(err, &se) {
			at := off
			if se.Col > 0 {
				r := []rune(trimmed)
				if se.Col-1 <= len(r) {
					at += len(string(r[:se.Col-1]))
				}
			}
			line, col := p.lineCol(at)
			return exprNode{}, &Error{Name: p.name, Line: line, Col: col, Msg: "bad expression " + quoteExpr(trimmed) + ": " + se.Msg, Err: err, Snippet: yamlx.SnippetOf(p.src, line, col)}
		}
		return exprNode{}, p.errAt(off, err.Error())
	}
	return exprNode{code: trimmed, pos: off}, nil
}

func quoteExpr(s string) string { return fmt.Sprintf("%q", s) }

// parseBody parses nodes until a tag it does not own (returned as end) or
// the end of input (end nil).
func (p *parser) parseBody(stop map[string]bool) ([]node, *endTag, error) {
	var out []node
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		p.i++
		switch t.kind {
		case tokText:
			if t.text != "" {
				out = append(out, textNode{text: t.text, pos: t.pos})
			}
		case tokExpr:
			e, err := p.expression(t.text, t.code)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, e)
		case tokTag:
			content := strings.TrimSpace(t.text)
			word := content
			rest := ""
			if k := strings.IndexAny(content, " \t\r\n"); k >= 0 {
				word, rest = content[:k], strings.TrimSpace(content[k:])
			}
			codeOff := t.code + strings.Index(t.text, content) + len(word)
			if rest != "" {
				codeOff = t.code + strings.Index(t.text, content) + strings.Index(content, rest)
			}
			switch word {
			case "if":
				n, err := p.parseIf(rest, codeOff, t.pos)
				if err != nil {
					return nil, nil, err
				}
				out = append(out, n)
			case "for":
				n, err := p.parseFor(content, t)
				if err != nil {
					return nil, nil, err
				}
				out = append(out, n)
			case "set":
				if b := setBlockRe.FindStringSubmatch(content); b != nil {
					body, end, err := p.parseBody(map[string]bool{"endset": true})
					if err != nil {
						return nil, nil, err
					}
					if end == nil {
						return nil, nil, p.errAt(t.pos, "{% set "+b[1]+" %} is not closed with {% endset %}")
					}
					out = append(out, &setBlockNode{name: b[1], body: body, pos: t.pos})
					continue
				}
				m := setRe.FindStringSubmatch(content)
				if m == nil {
					return nil, nil, p.errAt(t.pos, "bad set: want {% set name = expression %} or {% set name %}...{% endset %}")
				}
				e, err := p.expression(m[2], t.code+strings.Index(t.text, content)+strings.LastIndex(content, m[2]))
				if err != nil {
					return nil, nil, err
				}
				out = append(out, setNode{name: m[1], value: e})
			case "elif", "else", "endif", "endfor", "endset":
				if !stop[word] {
					return nil, nil, p.errAt(t.pos, fmt.Sprintf("unexpected {%% %s %%}", word))
				}
				return out, &endTag{word: word, rest: rest, pos: t.pos, code: codeOff}, nil
			case "":
				return nil, nil, p.errAt(t.pos, "empty {% %} tag")
			default:
				return nil, nil, p.errAt(t.pos, fmt.Sprintf("unknown tag %q (supported: if, elif, else, endif, for, endfor, set, endset, raw)", word))
			}
		}
	}
	return out, nil, nil
}

func (p *parser) parseIf(cond string, off, tagPos int) (node, error) {
	n := &ifNode{}
	stop := map[string]bool{"elif": true, "else": true, "endif": true}
	if cond == "" {
		return nil, p.errAt(tagPos, "{% if %} needs a condition")
	}
	for {
		c, err := p.expression(cond, off)
		if err != nil {
			return nil, err
		}
		body, end, err := p.parseBody(stop)
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, c)
		n.bodies = append(n.bodies, body)
		if end == nil {
			return nil, p.errAt(tagPos, "{% if %} is not closed with {% endif %}")
		}
		switch end.word {
		case "elif":
			if end.rest == "" {
				return nil, p.errAt(end.pos, "{% elif %} needs a condition")
			}
			cond, off = end.rest, end.code
			continue
		case "else":
			els, end2, err := p.parseBody(map[string]bool{"endif": true})
			if err != nil {
				return nil, err
			}
			if end2 == nil {
				return nil, p.errAt(tagPos, "{% if %} is not closed with {% endif %}")
			}
			n.els = els
		}
		return n, nil
	}
}

func (p *parser) parseFor(content string, t token) (node, error) {
	m := forRe.FindStringSubmatch(content)
	if m == nil {
		return nil, p.errAt(t.pos, "bad for: want {% for name in expression %} or {% for a, b in expression %}")
	}
	var names []string
	for _, n := range strings.Split(m[1], ",") {
		names = append(names, strings.TrimSpace(n))
	}
	listOff := t.code + strings.Index(t.text, content) + strings.LastIndex(content, m[2])
	listCode, filter, filterAt := splitLoopFilter(m[2])
	e, err := p.expression(listCode, listOff)
	if err != nil {
		return nil, err
	}
	n := &forNode{names: names, list: e, pos: t.pos}
	if filterAt >= 0 {
		f, err := p.expression(filter, listOff+filterAt)
		if err != nil {
			return nil, err
		}
		n.filter = &f
	}
	body, end, err := p.parseBody(map[string]bool{"else": true, "endfor": true})
	if err != nil {
		return nil, err
	}
	if end == nil {
		return nil, p.errAt(t.pos, "{% for %} is not closed with {% endfor %}")
	}
	n.body = body
	if end.word == "else" {
		els, end2, err := p.parseBody(map[string]bool{"endfor": true})
		if err != nil {
			return nil, err
		}
		if end2 == nil {
			return nil, p.errAt(t.pos, "{% for %} is not closed with {% endfor %}")
		}
		n.els = els
	}
	return n, nil
}

// splitLoopFilter splits "list if cond" (Jinja's loop filter: an if at the
// top level with no else after it) into its parts; at is the byte offset
// of cond, or -1 when there is no filter.
func splitLoopFilter(s string) (list, cond string, at int) {
	depth := 0
	var quote byte
	ifAt := -1
	word := func(i int, w string) bool {
		if !strings.HasPrefix(s[i:], w) {
			return false
		}
		before := i == 0 || !isWordChar(s[i-1])
		after := i+len(w) >= len(s) || !isWordChar(s[i+len(w)])
		return before && after
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch {
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case depth == 0 && word(i, "if"):
			ifAt = i
		case depth == 0 && ifAt >= 0 && word(i, "else"):
			ifAt = -1
		}
	}
	if ifAt < 0 {
		return s, "", -1
	}
	return s[:ifAt], s[ifAt+2:], ifAt + 2
}

func isWordChar(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

package yamlx

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tpago/tpago/exitcode"
)

// Error is the one error about a place in a file that tpago reads (a
// playbook, a role, an inventory, a config.yml, a template): printed as
// "file:line:col: message", the line with a caret under the column, a hint,
// and the chain of includes that led there. The snippet is taken when the
// error is made, from the text the file was parsed from: printing an Error
// never reads a file. It is bad input: exit status 2.
type Error struct {
	Pos  Pos
	Msg  string
	Hint string
	// Chain says how the file was reached ("in role x, included from
	// site.yml:12").
	Chain []string
	// Snippet is the line (and the one before) with a caret under the
	// column; "" when the text is unknown.
	Snippet string
}

// Errorf makes an Error at n's position.
func Errorf(n *Node, format string, args ...any) *Error {
	var p Pos
	if n != nil {
		p = n.Pos
	}
	return At(p, format, args...)
}

// At makes an Error at pos, with the snippet of pos's text.
func At(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Snippet: Snippet(pos)}
}

// InText makes an Error at line:col of text, the content of file (for
// errors about text that was not parsed into nodes: a template, say).
func InText(file string, text []byte, line, col int, format string, args ...any) *Error {
	return At(PosIn(file, text, line, col), format, args...)
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Pos.File != "" || e.Pos.Line != 0 {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Snippet != "" {
		b.WriteString("\n")
		b.WriteString(e.Snippet)
	}
	if e.Hint != "" {
		b.WriteString("\n  hint: ")
		b.WriteString(e.Hint)
	}
	for _, c := range e.Chain {
		b.WriteString("\n  ")
		b.WriteString(c)
	}
	return b.String()
}

// ExitCode says that a positioned error is bad input (package exitcode).
func (e *Error) ExitCode() int { return exitcode.BadInput }

// WithChain returns err with a line of context added ("in role x,
// included from y:12") when it is an *Error; other errors are wrapped.
func WithChain(err error, ctx string) error {
	var ye *Error
	if errors.As(err, &ye) {
		cp := *ye
		cp.Chain = append(append([]string(nil), ye.Chain...), ctx)
		return &cp
	}
	return fmt.Errorf("%w\n  %s", err, ctx)
}

// source is the text of a parsed file, split in lines, shared by the
// positions of its nodes.
type source struct {
	lines []string
}

func newSource(data []byte) *source {
	return &source{lines: strings.Split(string(data), "\n")}
}

// PosIn is line:col of text, the content of file: an error made there
// shows the line.
func PosIn(file string, text []byte, line, col int) Pos {
	return Pos{File: file, Line: line, Col: col, src: newSource(text)}
}

// At is another place in the same file (and text) as p.
func (p Pos) At(line, col int) Pos {
	p.Line, p.Col = line, col
	return p
}

// LineText returns line n (1-based) of p's file, when p knows its text.
func (p Pos) LineText(n int) (string, bool) {
	if p.src == nil || n < 1 || n > len(p.src.lines) {
		return "", false
	}
	return strings.TrimRight(p.src.lines[n-1], "\r"), true
}

// Snippet returns the line at pos with the line before it and a caret under
// the column, or "" when pos does not know its file's text.
func Snippet(pos Pos) string {
	if pos.src == nil {
		return ""
	}
	return snippet(pos.src.lines, pos.Line, pos.Col)
}

// SnippetOf is Snippet for line:col of text.
func SnippetOf(text string, line, col int) string {
	return snippet(strings.Split(text, "\n"), line, col)
}

// snippet shows the line before and the line itself, marked with ">", and
// a caret under the column (tabs kept, so that the caret lines up).
func snippet(lines []string, line, col int) string {
	if line < 1 || line > len(lines) {
		return ""
	}
	width := len(strconv.Itoa(line))
	var b strings.Builder
	if line > 1 {
		fmt.Fprintf(&b, "  %*d | %s\n", width, line-1, strings.TrimRight(lines[line-2], "\r"))
	}
	text := strings.TrimRight(lines[line-1], "\r")
	fmt.Fprintf(&b, "> %*d | %s", width, line, text)
	if col < 1 {
		return b.String()
	}
	pad := make([]rune, 0, col)
	for i, r := range []rune(text) {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			pad = append(pad, '\t')
		} else {
			pad = append(pad, ' ')
		}
	}
	for len(pad) < col-1 {
		pad = append(pad, ' ')
	}
	fmt.Fprintf(&b, "\n  %*s | %s^", width, "", string(pad))
	return b.String()
}

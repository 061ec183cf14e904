// Package validate checks playbooks, task files and roles without
// contacting any host: everything the loader checks (YAML, modules and
// their arguments, expressions, includes, roles, handlers), and more —
// variables that nothing could define, templates that do not parse or
// cannot be found. Each problem is a Finding at file:line:col.
package validate

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/template"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/yamlx"
)

// Finding is one problem, at a place in a file.
type Finding struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
	// Reason is one line saying what is wrong.
	Reason string `json:"reason"`
	// Hint says how to fix it, when there is something useful to say.
	Hint string `json:"hint,omitempty"`
	// Snippet is the line (and the one before) with a caret under Col.
	Snippet string `json:"snippet,omitempty"`
	// Chain is how the file was reached ("in role x, used at site.yml:4:7").
	Chain []string `json:"chain,omitempty"`
	// Warning marks a finding that does not stop a run (a setting that
	// does nothing, say); validate --strict counts it as a problem.
	Warning bool `json:"warning,omitempty"`

	// pos is where the finding is, with the text of its file.
	pos yamlx.Pos
}

// Pos is where the finding is, as file:line:col.
func (f Finding) Pos() string {
	return yamlx.Pos{File: f.File, Line: f.Line, Col: f.Col}.String()
}

// String is the finding as printed for people: file:line:col: reason, the
// snippet, the hint and the chain.
func (f Finding) String() string {
	e := yamlx.Error{Msg: f.Reason, Hint: f.Hint, Chain: f.Chain, Snippet: f.Snippet}
	if f.Warning {
		e.Msg = "warning: " + e.Msg
	}
	if f.File != "" {
		e.Pos = yamlx.Pos{File: f.File, Line: f.Line, Col: f.Col}
	}
	return e.Error()
}

// at makes a finding at pos with its snippet.
func at(pos yamlx.Pos, hint, format string, args ...any) Finding {
	return Finding{File: pos.File, Line: pos.Line, Col: pos.Col, Reason: fmt.Sprintf(format, args...),
		Hint: hint, Snippet: yamlx.Snippet(pos), pos: pos}
}

var posPrefix = regexp.MustCompile(`^(\S+?):(\d+):(\d+): (.*)$`)

// FromError turns an error of the playbook loader, of the inventory or of
// config.yml into findings: one per problem, keeping its place. A finding
// about an Ansible construct tpago lacks says what to write instead.
func FromError(err error) []Finding {
	fs := fromError(err)
	for i := range fs {
		fs[i] = explainAnsible(fs[i])
	}
	return fs
}

// positioned is an error that knows its place in a file, as config.yml's
// errors do (the engine does not import the cluster package).
type positioned interface {
	Position() (file string, line, col int, reason, snippet string)
}

func fromError(err error) []Finding {
	if err == nil {
		return nil
	}
	if c, ok := err.(exitcode.Coded); ok {
		if u := errors.Unwrap(c); u != nil {
			return fromError(u) // the status says nothing about where
		}
	}
	var ye *yamlx.Error
	if errors.As(err, &ye) && ye == err {
		return []Finding{{File: ye.Pos.File, Line: ye.Pos.Line, Col: ye.Pos.Col, Reason: ye.Msg, Hint: ye.Hint,
			Snippet: ye.Snippet, Chain: ye.Chain, pos: ye.Pos}}
	}
	if ce, ok := err.(positioned); ok {
		file, line, col, reason, snippet := ce.Position()
		return []Finding{{File: file, Line: line, Col: col, Reason: reason, Snippet: snippet}}
	}
	if te, ok := err.(*template.Error); ok {
		msg := te.Msg
		if msg == "" && te.Err != nil {
			msg = te.Err.Error()
		}
		return []Finding{{File: te.Name, Line: te.Line, Col: te.Col, Reason: msg, Snippet: te.Snippet}}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []Finding
		for _, e := range j.Unwrap() {
			out = append(out, fromError(e)...)
		}
		return out
	}
	if errors.As(err, &ye) {
		return fromError(ye)
	}
	// A plain error: keep a leading file:line:col when it has one.
	first, rest, _ := strings.Cut(err.Error(), "\n")
	f := Finding{Reason: first}
	if m := posPrefix.FindStringSubmatch(first); m != nil {
		line, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		f = Finding{File: m[1], Line: line, Col: col, Reason: m[4]}
	}
	for _, l := range strings.Split(rest, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			f.Chain = append(f.Chain, l)
		}
	}
	return []Finding{f}
}

// Sorted returns the findings in file, line, column order, each once.
func Sorted(fs []Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	seen := map[string]bool{}
	for _, f := range fs {
		k := fmt.Sprintf("%s\x00%d\x00%d\x00%s", f.File, f.Line, f.Col, f.Reason)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return out
}

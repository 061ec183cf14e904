package modules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&LineInFile{})
	module.Register(&BlockInFile{})
}

// LineInFile makes sure one line is (or is not) in a file.
type LineInFile struct{}

// Spec implements module.Module.
func (*LineInFile) Spec() module.Spec {
	return module.Spec{
		Name:  "lineinfile",
		Check: module.CheckPredicts,
		Doc:   "Ensure a line is present in a file (replacing the last line a regexp matches) or absent",
		Args: append([]module.Arg{
			{Name: "path", Type: module.String, Required: true, Aliases: []string{"dest", "destfile", "name"}, Doc: "file to edit on the host"},
			{Name: "line", Type: module.String, Aliases: []string{"value"}, Doc: "the line to have in the file (required with state=present)"},
			{Name: "regexp", Type: module.String, Aliases: []string{"regex"}, Doc: "regular expression: the last line it matches is replaced (or, with state=absent, every line it matches is removed)"},
			{Name: "search_string", Type: module.String, Doc: "literal text to look for instead of a regexp"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "whether the line should be there"},
			{Name: "insertafter", Type: module.String, Doc: "without a match, insert after the last line matching this regexp, or EOF (the default)"},
			{Name: "insertbefore", Type: module.String, Doc: "without a match, insert before the last line matching this regexp, or BOF"},
			{Name: "firstmatch", Type: module.Bool, Default: false, Doc: "insertafter/insertbefore use the first matching line instead of the last"},
			{Name: "backrefs", Type: module.Bool, Default: false, Doc: "line holds \\1 or \\g<name> back-references to regexp; without a match nothing changes"},
			{Name: "create", Type: module.Bool, Default: false, Doc: "create the file when it does not exist"},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "keep a timestamped copy of the file being changed"},
			validateArg,
		}, attrArgs()...),
		Exclusive: [][]string{{"insertafter", "insertbefore"}, {"regexp", "search_string"}, {"backrefs", "search_string"}},
	}
}

// lineEdit is lineinfile's decision, without any I/O.
type lineEdit struct {
	line, search               string
	re, insRe                  *regexp.Regexp
	insertAfter, insertBefore  string
	present, backrefs, firstOK bool
}

func newLineEdit(args module.Args) (*lineEdit, error) {
	e := &lineEdit{line: args.String("line"), search: args.String("search_string"),
		insertAfter: args.String("insertafter"), insertBefore: args.String("insertbefore"),
		present: args.String("state") == "present", backrefs: args.Bool("backrefs"), firstOK: args.Bool("firstmatch")}
	var err error
	if r := args.String("regexp"); r != "" {
		if e.re, err = regexp.Compile(r); err != nil {
			return nil, fmt.Errorf("regexp: %w", err)
		}
	}
	if e.present && !args.Has("line") {
		return nil, fmt.Errorf("line is required with state=present")
	}
	if !e.present && e.re == nil && !args.Has("search_string") && !args.Has("line") {
		return nil, fmt.Errorf("one of line, regexp or search_string is required with state=absent")
	}
	if e.backrefs && e.re == nil {
		return nil, fmt.Errorf("regexp is required with backrefs")
	}
	ins := e.insertAfter
	if ins == "" || ins == "EOF" {
		ins = e.insertBefore
	}
	if ins != "" && ins != "EOF" && ins != "BOF" {
		if e.insRe, err = regexp.Compile(ins); err != nil {
			return nil, fmt.Errorf("insertafter/insertbefore: %w", err)
		}
	}
	return e, nil
}

// match tells whether a line (without its end) is the one looked for, and
// the regexp's submatches.
func (e *lineEdit) match(l string) ([]int, bool) {
	switch {
	case e.re != nil:
		m := e.re.FindStringSubmatchIndex(l)
		return m, m != nil
	case e.search != "":
		return nil, strings.Contains(l, e.search)
	default:
		return nil, l == e.line
	}
}

// apply edits content; it returns the new lines and a message.
func (e *lineEdit) apply(old []string) ([]string, string) {
	if !e.present {
		var out []string
		n := 0
		for _, l := range old {
			if _, ok := e.match(trimEOL(l)); ok {
				n++
				continue
			}
			out = append(out, l)
		}
		if n == 0 {
			return old, ""
		}
		return out, fmt.Sprintf("%d line(s) removed", n)
	}
	found, ins := -1, -1
	var sub []int
	for i, l := range old {
		t := trimEOL(l)
		if m, ok := e.match(t); ok {
			found, sub = i, m
		} else if e.insRe != nil && e.insRe.MatchString(t) {
			if ins >= 0 && e.firstOK {
				continue
			}
			if e.insertAfter != "" && e.insertAfter != "EOF" {
				ins = i + 1
			} else {
				ins = i
			}
		}
	}
	lines := append([]string(nil), old...)
	switch {
	case found >= 0:
		nl := e.line
		if e.backrefs {
			nl = expandBackrefs(e.re, nl, trimEOL(old[found]), sub)
		}
		nl += "\n"
		if lines[found] == nl {
			return old, ""
		}
		lines[found] = nl
		return lines, "line replaced"
	case e.backrefs:
		return old, ""
	case e.insertBefore == "BOF" || e.insertAfter == "BOF":
		return append([]string{e.line + "\n"}, lines...), "line added"
	case e.insRe == nil || ins < 0:
		if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
			lines[n-1] += "\n"
		}
		return append(lines, e.line+"\n"), "line added"
	case e.insertAfter != "" && ins == len(lines):
		if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
			lines[n-1] += "\n"
		}
		return append(lines, e.line+"\n"), "line added"
	default:
		if e.insertAfter != "" && trimEOL(lines[ins]) == e.line {
			return old, ""
		}
		out := append(append(append([]string(nil), lines[:ins]...), e.line+"\n"), lines[ins:]...)
		return out, "line added"
	}
}

// expandBackrefs replaces \1…\99 and \g<name> in tmpl with the groups of
// the match m of re in s (Python's Match.expand).
func expandBackrefs(re *regexp.Regexp, tmpl, s string, m []int) string {
	group := func(i int) string {
		if i < 0 || 2*i+1 >= len(m) || m[2*i] < 0 {
			return ""
		}
		return s[m[2*i]:m[2*i+1]]
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c != '\\' || i+1 >= len(tmpl) {
			b.WriteByte(c)
			continue
		}
		n := tmpl[i+1]
		switch {
		case n >= '0' && n <= '9':
			j := i + 2
			if j < len(tmpl) && tmpl[j] >= '0' && tmpl[j] <= '9' {
				j++
			}
			k, _ := strconv.Atoi(tmpl[i+1 : j])
			b.WriteString(group(k))
			i = j - 1
		case n == 'g' && i+2 < len(tmpl) && tmpl[i+2] == '<':
			end := strings.IndexByte(tmpl[i+3:], '>')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			name := tmpl[i+3 : i+3+end]
			if k, err := strconv.Atoi(name); err == nil {
				b.WriteString(group(k))
			} else {
				b.WriteString(group(re.SubexpIndex(name)))
			}
			i += 3 + end
		case n == '\\':
			b.WriteByte('\\')
			i++
		case n == 'n':
			b.WriteByte('\n')
			i++
		case n == 't':
			b.WriteByte('\t')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Run implements module.Module.
func (*LineInFile) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	e, err := newLineEdit(args)
	if err != nil {
		return nil, err
	}
	path := args.String("path")
	return editFile(ctx, rt, args, path, args.Bool("create"), func(f *remoteFile) ([]byte, string, error) {
		if !f.exists {
			if !e.present {
				return nil, "file not present", nil
			}
			if e.backrefs {
				return nil, "", nil
			}
			if !args.Bool("create") {
				return nil, "", fmt.Errorf("Destination %s does not exist !", path)
			}
		}
		lines, msg := e.apply(splitLines(f.content))
		return []byte(strings.Join(lines, "")), msg, nil
	})
}

// BlockInFile keeps a block of lines between marker lines in a file.
type BlockInFile struct{}

// Spec implements module.Module.
func (*BlockInFile) Spec() module.Spec {
	return module.Spec{
		Name:  "blockinfile",
		Check: module.CheckPredicts,
		Doc:   "Insert, update or remove a block of lines surrounded by marker lines",
		Args: append([]module.Arg{
			{Name: "path", Type: module.String, Required: true, Aliases: []string{"dest", "destfile", "name"}, Doc: "file to edit on the host"},
			{Name: "block", Type: module.String, Default: "", Aliases: []string{"content"}, Doc: "the text between the markers (empty removes the block)"},
			{Name: "marker", Type: module.String, Default: "# {mark} ANSIBLE MANAGED BLOCK", Doc: "marker line template; {mark} becomes marker_begin or marker_end"},
			{Name: "marker_begin", Type: module.String, Default: "BEGIN", Doc: "replaces {mark} in the opening marker"},
			{Name: "marker_end", Type: module.String, Default: "END", Doc: "replaces {mark} in the closing marker"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "whether the block should be there"},
			{Name: "insertafter", Type: module.String, Doc: "a new block goes after the last line matching this regexp, or at EOF (default)"},
			{Name: "insertbefore", Type: module.String, Doc: "a new block goes before the last line matching this regexp, or at BOF"},
			{Name: "create", Type: module.Bool, Default: false, Doc: "create the file when it does not exist"},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "keep a timestamped copy of the file being changed"},
			validateArg,
		}, attrArgs()...),
		Exclusive: [][]string{{"insertafter", "insertbefore"}},
	}
}

// blockEdit applies blockinfile's rules to lines.
func blockEdit(args module.Args, old []string) ([]string, string, error) {
	marker := args.String("marker")
	m0 := strings.ReplaceAll(marker, "{mark}", args.String("marker_begin"))
	m1 := strings.ReplaceAll(marker, "{mark}", args.String("marker_end"))
	var block []string
	if args.String("state") == "present" && args.String("block") != "" {
		block = append(block, m0+"\n")
		for _, l := range strings.Split(strings.TrimSuffix(args.String("block"), "\n"), "\n") {
			block = append(block, l+"\n")
		}
		block = append(block, m1+"\n")
	}
	lines := append([]string(nil), old...)
	n0, n1 := -1, -1
	for i, l := range lines {
		switch trimEOL(l) {
		case m0:
			n0 = i
		case m1:
			n1 = i
		}
	}
	if n0 < 0 || n1 < 0 {
		after, before := args.String("insertafter"), args.String("insertbefore")
		switch {
		case before == "BOF":
			n0 = 0
		case before != "" || (after != "" && after != "EOF"):
			pat, isAfter := before, false
			if pat == "" {
				pat, isAfter = after, true
			}
			re, err := regexp.Compile(pat)
			if err != nil {
				return nil, "", fmt.Errorf("insertafter/insertbefore: %w", err)
			}
			n0 = len(lines)
			for i, l := range lines {
				if re.MatchString(trimEOL(l)) {
					n0 = i
					if isAfter {
						n0++
					}
				}
			}
		default:
			n0 = len(lines)
		}
	} else {
		if n1 < n0 {
			n0, n1 = n1, n0
		}
		lines = append(lines[:n0], lines[n1+1:]...)
	}
	if n0 > 0 && len(block) > 0 && !strings.HasSuffix(lines[n0-1], "\n") {
		lines[n0-1] += "\n"
	}
	out := append(append(append([]string(nil), lines[:n0]...), block...), lines[n0:]...)
	if strings.Join(out, "") == strings.Join(old, "") {
		return old, "", nil
	}
	if len(block) == 0 {
		return out, "Block removed", nil
	}
	return out, "Block inserted", nil
}

// Run implements module.Module.
func (*BlockInFile) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	path := args.String("path")
	return editFile(ctx, rt, args, path, args.Bool("create"), func(f *remoteFile) ([]byte, string, error) {
		if !f.exists {
			if args.String("state") == "absent" || args.String("block") == "" {
				return nil, "file not present", nil
			}
			if !args.Bool("create") {
				return nil, "", fmt.Errorf("Path %s does not exist !", path)
			}
		}
		lines, msg, err := blockEdit(args, splitLines(f.content))
		if err != nil {
			return nil, "", err
		}
		return []byte(strings.Join(lines, "")), msg, nil
	})
}

var (
	_ module.Module = (*LineInFile)(nil)
	_ module.Module = (*BlockInFile)(nil)
)

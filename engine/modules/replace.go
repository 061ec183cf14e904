package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&Replace{}) }

// Replace replaces every match of a regexp in a file.
type Replace struct{}

// Spec implements module.Module.
func (*Replace) Spec() module.Spec {
	return module.Spec{
		Name:  "replace",
		Check: module.CheckPredicts,
		Doc:   "Replace every match of a regular expression in a file (multi-line mode, back-references allowed)",
		Args: append([]module.Arg{
			{Name: "path", Type: module.String, Required: true, Aliases: []string{"dest", "destfile", "name"}, Doc: "file to edit on the host"},
			{Name: "regexp", Type: module.String, Required: true, Doc: "regular expression (^ and $ match at each line)"},
			{Name: "replace", Type: module.String, Default: "", Doc: "replacement; \\1 or \\g<name> insert groups (empty removes the matches)"},
			{Name: "after", Type: module.String, Doc: "only replace after the first match of this regexp"},
			{Name: "before", Type: module.String, Doc: "only replace before the first match of this regexp"},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "keep a timestamped copy of the file being changed"},
			validateArg,
		}, attrArgs()...),
	}
}

// replaceAll replaces the matches of re in s[lo:hi] with tmpl; it returns
// the new text and the number of replacements.
func replaceAll(re *regexp.Regexp, s, tmpl string) (string, int) {
	var b strings.Builder
	last, n := 0, 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		b.WriteString(expandBackrefs(re, tmpl, s, m))
		last = m[1]
		n++
	}
	b.WriteString(s[last:])
	return b.String(), n
}

// replaceEdit applies the replace module's rules to content.
func replaceEdit(args module.Args, content string) (string, int, error) {
	re, err := regexp.Compile("(?m)" + args.String("regexp"))
	if err != nil {
		return "", 0, fmt.Errorf("regexp: %w", err)
	}
	lo, hi := 0, len(content)
	if a := args.String("after"); a != "" {
		are, err := regexp.Compile("(?m)" + a)
		if err != nil {
			return "", 0, fmt.Errorf("after: %w", err)
		}
		if m := are.FindStringIndex(content); m != nil {
			lo = m[1]
		} else {
			return content, 0, nil
		}
	}
	if bf := args.String("before"); bf != "" {
		bre, err := regexp.Compile("(?m)" + bf)
		if err != nil {
			return "", 0, fmt.Errorf("before: %w", err)
		}
		if m := bre.FindStringIndex(content[lo:]); m != nil {
			hi = lo + m[0]
		} else {
			return content, 0, nil
		}
	}
	mid, n := replaceAll(re, content[lo:hi], args.String("replace"))
	return content[:lo] + mid + content[hi:], n, nil
}

// Run implements module.Module.
func (*Replace) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	path := args.String("path")
	if _, _, err := replaceEdit(args, ""); err != nil {
		return nil, err
	}
	return editFile(ctx, rt, args, path, false, func(f *remoteFile) ([]byte, string, error) {
		if !f.exists {
			return nil, "", fmt.Errorf("Path %s does not exist !", path)
		}
		out, n, err := replaceEdit(args, string(f.content))
		if err != nil {
			return nil, "", err
		}
		return []byte(out), fmt.Sprintf("%d replacements made", n), nil
	})
}

var _ module.Module = (*Replace)(nil)

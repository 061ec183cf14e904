package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

// remoteFile is a file read from the host by fetchRemote.
type remoteFile struct {
	path    string // symlinks resolved
	exists  bool
	content []byte
	// mode, owner, uid, group, gid of an existing file.
	mode, owner, uid, group, gid string
}

// fetchRemote fetches a file's content and attributes in one round trip.
func fetchRemote(ctx context.Context, rt *module.Runtime, path string) (*remoteFile, error) {
	s := newScript(rt).set("p", path)
	s.line(`[ -L "$p" ] && p=$(readlink -f "$p")
say path "$p"
[ -d "$p" ] && die "$p is a directory"
if [ -e "$p" ]; then
  [ -r "$p" ] || die "cannot read $p"
  say exists 1
  say st "$(stat -c '%04a %U %u %G %g' "$p")"
  say64 content "$p"
fi`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	f := &remoteFile{path: r.get("path"), exists: r.flag("exists")}
	if f.exists {
		if f.content, err = r.bytes("content"); err != nil {
			return nil, fmt.Errorf("reading %s: bad encoding from host: %w", path, err)
		}
		st := strings.Fields(r.get("st"))
		if len(st) == 5 {
			f.mode, f.owner, f.uid, f.group, f.gid = st[0], st[1], st[2], st[3], st[4]
		}
	}
	return f, nil
}

// attrsMatch reports whether the file already has the mode/owner/group
// args ask for (false when it cannot tell, e.g. for a symbolic mode).
func (f *remoteFile) attrsMatch(args module.Args) bool {
	if o := args.String("owner"); o != "" && o != f.owner && o != f.uid {
		return false
	}
	if g := args.String("group"); g != "" && g != f.group && g != f.gid {
		return false
	}
	if m := args.String("mode"); m != "" && normMode(m) != f.mode {
		return false
	}
	return true
}

// editFile is the read–edit–write cycle of lineinfile and friends: one
// round trip to read, and a second one only when something changes.
// edit returns the new content and a message; ok=false leaves the file
// alone (and absent).
func editFile(ctx context.Context, rt *module.Runtime, args module.Args, path string, create bool,
	edit func(f *remoteFile) (content []byte, msg string, err error)) (*module.Result, error) {
	validate, err := checkValidate(args)
	if err != nil {
		return nil, err
	}
	f, err := fetchRemote(ctx, rt, path)
	if err != nil {
		return nil, err
	}
	newContent, msg, err := edit(f)
	if err != nil {
		return nil, err
	}
	if newContent == nil {
		return &module.Result{Msg: msg, Data: map[string]any{"path": f.path}}, nil
	}
	if !f.exists && !create {
		return nil, fmt.Errorf("Destination %s does not exist !", path)
	}
	if f.exists && string(newContent) == string(f.content) && f.attrsMatch(args) {
		return &module.Result{Msg: msg, Data: map[string]any{"path": f.path}}, nil
	}
	p := &putFile{dest: f.path, content: newContent, attrs: args, backup: args.Bool("backup"), mkdir: create, validate: validate}
	r, _, err := run(ctx, rt, p.script(noDiff(rt)))
	if err != nil {
		return nil, err
	}
	res := p.result(noDiff(rt), r)
	res.Data["path"] = f.path
	if res.Changed && msg != "" {
		res.Msg = msg
	}
	if rt.Diff {
		if r.flag("content_changed") {
			res.Diff = append(res.Diff, module.Diff{BeforeHeader: f.path + " (content)", AfterHeader: f.path + " (content)",
				Before: string(f.content), After: string(newContent)})
		}
		if d, ok := attrDiff(r, f.path); ok && f.exists {
			res.Diff = append(res.Diff, d)
		}
	}
	return res, nil
}

// noDiff is rt without the diff flag: editFile already holds the old content.
func noDiff(rt *module.Runtime) *module.Runtime {
	c := *rt
	c.Diff = false
	return &c
}

// splitLines splits content into lines, each keeping its "\n".
func splitLines(b []byte) []string {
	s := string(b)
	var out []string
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

func trimEOL(s string) string { return strings.TrimRight(s, "\r\n") }

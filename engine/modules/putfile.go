package modules

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

// maxDiffSize is the largest old file a script sends back for --diff.
const maxDiffSize = 1 << 20

// putFile describes a whole-file write: the heart of copy, template,
// lineinfile, blockinfile, authorized_key and sysctl.
type putFile struct {
	dest string
	// content is the wanted content; when remoteSrc is set instead, the
	// content is that file on the host.
	content   []byte
	remoteSrc string
	// srcBase, when set, is appended to dest if dest is a directory.
	srcBase string
	// attrs holds mode/owner/group (may be nil).
	attrs  module.Args
	backup bool
	// keep: do not replace an existing file (copy force=no).
	keep bool
	// mkdir creates dest's directory when missing (else it is an error).
	mkdir bool
	// afterHeader names the new content in diffs (default: dest).
	afterHeader string
	// pre is shell text run before the write (after the variables are set).
	pre string
	// validate is a command checking the new file before it replaces dest;
	// %s stands for the new file's path.
	validate string
}

// script returns the shell text that checks and writes the file. It reports
// dest, exists, content_changed, old (base64, for diffs), backup_file and
// the attrs reports.
func (p *putFile) script(rt *module.Runtime) *script {
	s := newScript(rt)
	p.body(s)
	return s
}

// body appends the write's shell text to s (whose prelude is in place).
func (p *putFile) body(s *script) {
	s.set("dest", p.dest).set("SRCBASE", p.srcBase).setb("BACKUP", p.backup).setb("KEEP", p.keep).setb("MKDIR", p.mkdir)
	if p.remoteSrc != "" {
		s.set("src", p.remoteSrc)
		s.line(`[ -f "$src" ] || die "Source $src not found or not a regular file"`)
		s.line(`want=$(sha1sum < "$src" | cut -d' ' -f1)`)
	} else {
		sum := sha1.Sum(p.content)
		s.set("want", hex.EncodeToString(sum[:]))
	}
	if p.pre != "" {
		s.line(p.pre)
	}
	s.line(`if [ -d "$dest" ] && [ -n "$SRCBASE" ]; then dest="${dest%/}/$SRCBASE"; fi
[ -d "$dest" ] && die "Destination $dest is a directory"
[ -L "$dest" ] && dest=$(readlink -f "$dest")
say dest "$dest"
dir=$(dirname "$dest")
if [ ! -d "$dir" ]; then
  [ "$MKDIR" = 1 ] || die "Destination directory $dir does not exist"
  [ "$CHECK" = 1 ] || mkdir -p "$dir" || die "cannot create directory $dir"
fi
cur=
if [ -e "$dest" ]; then
  say exists 1
  cur=$(sha1sum < "$dest" | cut -d' ' -f1) || die "cannot read $dest"
fi
wrote=0
if [ "$cur" != "$want" ] && ! { [ -n "$cur" ] && [ "$KEEP" = 1 ]; }; then
  say content_changed 1
  if [ "$DIFF" = 1 ] && [ -n "$cur" ] && [ "$(stat -c %s "$dest")" -le ` + fmt.Sprint(maxDiffSize) + ` ]; then say64 old "$dest"; fi
  if [ "$CHECK" = 0 ]; then
    tmp=$(mktemp "$dir/.tpago.XXXXXX") || die "cannot create a temporary file in $dir"
    trap 'rm -f "$tmp"' EXIT
    if [ -n "$cur" ]; then
      chmod --reference="$dest" "$tmp"; chown --reference="$dest" "$tmp" 2>/dev/null
      if [ "$BACKUP" = 1 ]; then
        bk="$dest.$$.$(date +%Y-%m-%d@%H:%M:%S)~"
        cp -p "$dest" "$bk" || die "cannot back up $dest"
        say backup_file "$bk"
      fi
    else
      chmod 0644 "$tmp"
    fi
    ` + attrsCall(`"$tmp"`, p.attrs) + `
    fm=; [ -w "$tmp" ] || { fm=$(stat -c %a "$tmp"); chmod u+w "$tmp"; }`)
	// The temporary file has its final mode and owner before any content
	// goes in: a 0600 file is never readable by others, not even while
	// it is being written.
	if p.remoteSrc != "" {
		s.line(`    cp "$src" "$tmp" || die "cannot copy $src"`)
	} else {
		s.data(p.content, `"$tmp" || die "cannot write $tmp"`)
	}
	s.line(`    [ -z "$fm" ] || chmod "$fm" "$tmp"
    ` + p.validateLine() + `
    mv -f "$tmp" "$dest" || die "cannot replace $dest"
    trap - EXIT
    wrote=1
  fi
fi
if [ "$wrote" = 0 ] && [ -e "$dest" ] && ! { [ "$KEEP" = 1 ] && [ "$cur" != "$want" ]; }; then
  ` + attrsCall(`"$dest"`, p.attrs) + `
fi
say checksum "$want"`)
}

// validateLine is the shell line that runs the validate command on "$tmp".
func (p *putFile) validateLine() string {
	if p.validate == "" {
		return ":"
	}
	cmd := strings.ReplaceAll(p.validate, "%s", `"$tmp"`)
	return `vout=$( ` + cmd + ` 2>&1 ) || die "failed to validate: $(printf '%s' "$vout" | tail -n 5)"`
}

// validateArg declares the validate argument of file-writing modules.
var validateArg = module.Arg{Name: "validate", Type: module.String,
	Doc: "command that checks the new file before it is put in place; %s is the file's path (e.g. visudo -cf %s)"}

// checkValidate checks a validate argument.
func checkValidate(args module.Args) (string, error) {
	v := args.String("validate")
	if v != "" && !strings.Contains(v, "%s") {
		return "", fmt.Errorf("validate must contain %%s: %q", v)
	}
	return v, nil
}

// run runs the write and turns its report into a result.
func (p *putFile) run(ctx context.Context, rt *module.Runtime) (*module.Result, error) {
	r, _, err := run(ctx, rt, p.script(rt))
	if err != nil {
		return nil, err
	}
	return p.result(rt, r), nil
}

func (p *putFile) result(rt *module.Runtime, r kv) *module.Result {
	dest := r.get("dest")
	res := &module.Result{Data: map[string]any{"dest": dest, "checksum": r.get("checksum")}}
	if p.content != nil {
		res.Data["size"] = len(p.content)
	}
	if r.has("backup_file") {
		res.Data["backup_file"] = r.get("backup_file")
	}
	if r.flag("content_changed") {
		res.Changed = true
		if rt.Diff {
			res.Diff = append(res.Diff, p.contentDiff(r, dest))
		}
	}
	if d, ok := attrDiff(r, dest); ok {
		res.Changed = true
		if rt.Diff && r.flag("exists") {
			res.Diff = append(res.Diff, d)
		}
	}
	return res
}

func (p *putFile) contentDiff(r kv, dest string) module.Diff {
	after := p.afterHeader
	if after == "" {
		after = dest
	}
	d := module.Diff{BeforeHeader: dest, AfterHeader: after}
	if r.flag("exists") {
		if !r.has("old") {
			d.Before = "(file too large to show)\n"
		} else if old, err := r.bytes("old"); err != nil || isBinary(old) {
			d.Before = "(binary file)\n"
		} else {
			d.Before = string(old)
		}
	}
	switch {
	case p.remoteSrc != "":
		d.After = "(content of " + p.remoteSrc + " on the host)\n"
	case isBinary(p.content):
		d.After = "(binary file)\n"
	default:
		d.After = string(p.content)
	}
	return d
}

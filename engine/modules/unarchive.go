package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&Unarchive{}) }

// Unarchive unpacks a tar or zip archive into a directory of the host.
type Unarchive struct{}

// Spec implements module.Module.
func (*Unarchive) Spec() module.Spec {
	return module.Spec{
		Name:  "unarchive",
		Check: module.CheckPredicts,
		Doc:   "Unpack a tar (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz) or zip archive, from the control machine, the host or a URL, into a directory of the host; unchanged when the files are already there",
		Args: append([]module.Arg{
			{Name: "src", Type: module.String, Required: true, Doc: "the archive: a file on the control machine (looked up in the role's files/), on the host with remote_src, or a URL the host downloads"},
			{Name: "dest", Type: module.String, Required: true, Doc: "existing directory on the host to unpack into"},
			{Name: "remote_src", Type: module.Bool, Default: false, Doc: "src is on the host (or a URL), not on the control machine"},
			{Name: "creates", Type: module.String, Doc: "do nothing when this path exists on the host"},
			{Name: "extra_opts", Type: module.List, Default: []any{}, Doc: "more options for tar (e.g. --strip-components=1) or unzip, one word per item"},
			{Name: "include", Type: module.List, Default: []any{}, Doc: "only these members of the archive"},
			{Name: "exclude", Type: module.List, Default: []any{}, Doc: "leave out members matching these patterns"},
			{Name: "list_files", Type: module.Bool, Default: false, Doc: "return the archive's members as files"},
			{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "with a URL src, verify the server's TLS certificate"},
		}, attrArgs()...),
		Exclusive: [][]string{{"include", "exclude"}},
		Refused: map[string]string{
			"keep_newer":     "not supported: files in dest are replaced by the archive's",
			"copy":           "use remote_src (copy: false is remote_src: true)",
			"decrypt":        "vault is not supported",
			"io_buffer_size": "not needed: tar and unzip read the archive",
		},
	}
}

// pyZip compares a zip archive with dest, lists it and, without unzip on
// the host, extracts it. Arguments: the archive, then settings as JSON.
const pyZip = `import fnmatch, json, os, sys, zipfile
arc, C = sys.argv[1], json.loads(sys.argv[2])
def say(k, v):
    sys.stdout.write('@T %s=%s\n' % (k, str(v).replace('\n', ' ')))
try:
    z = zipfile.ZipFile(arc)
except zipfile.BadZipFile as e:
    say('fail', 'bad zip archive %s: %s' % (C['src'], e))
    sys.exit(1)
def wanted(n):
    if C['include'] and not any(n == p or n.rstrip('/') == p.rstrip('/') or fnmatch.fnmatch(n, p) for p in C['include']):
        return False
    return not any(fnmatch.fnmatch(n, p) or fnmatch.fnmatch(n.rstrip('/'), p) for p in C['exclude'])
members = [i for i in z.infolist() if wanted(i.filename)]
for i in members:
    n = os.path.normpath(i.filename)
    if n.startswith('..') or os.path.isabs(i.filename):
        say('fail', 'unsafe member %s in %s' % (i.filename, C['src']))
        sys.exit(1)
    say('member', i.filename.rstrip('/'))
    p = os.path.join(C['dest'], n)
    if i.is_dir():
        if not os.path.isdir(p):
            say('differs', p)
    elif not os.path.isfile(p) or os.path.getsize(p) != i.file_size:
        say('differs', p)
if C['extract']:
    z.extractall(C['dest'], members)
`

// Run implements module.Module.
func (*Unarchive) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	src, dest := args.String("src"), args.String("dest")
	s := newScript(rt).set("dest", dest).set("src", src).set("creates", args.String("creates"))
	s.line(`if [ -n "$creates" ] && [ -e "$creates" ]; then say skipped "skipped, since $creates exists"; exit 0; fi
[ -d "$dest" ] || die "dest '$dest' must be an existing dir"`)
	handler := ""
	switch {
	case strings.Contains(src, "://"):
		cfg := map[string]any{"url": src, "validate_certs": args.Bool("validate_certs"), "timeout": 30, "follow_redirects": "all"}
		call, err := pyCall(`
r, st, why = request(C['url'])
if r is None or st >= 400:
    die('Failure downloading %s, %s %s' % (C['url'], st, why))
tmp, _, _, n = save(r, tempfile.gettempdir(), None, True)
say('arc', tmp)
`, cfg, "")
		if err != nil {
			return nil, err
		}
		s.line(call)
		s.line(`arc=$(pv arc); trap 'rm -f "$arc"' EXIT`)
	case args.Bool("remote_src"):
		s.line(`arc=$src; [ -f "$arc" ] || die "Source '$src' does not exist"`)
	default:
		local, err := find(rt, "files", src)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(local)
		if err != nil {
			return nil, fmt.Errorf("src %s: %w", src, err)
		}
		s.line(`arc=$(mktemp) || die "cannot create a temporary file"; trap 'rm -f "$arc"' EXIT`)
		s.data(data, `"$arc" || die "cannot write $arc"`)
	}
	opts := quoteAll(args.Strings("extra_opts"))
	incl := quoteAll(args.Strings("include"))
	var excl []string
	for _, e := range args.Strings("exclude") {
		excl = append(excl, "--exclude="+e)
	}
	zcfg, err := json.Marshal(map[string]any{"src": src, "dest": dest, "include": args.Strings("include"), "exclude": args.Strings("exclude"), "extract": false})
	if err != nil {
		return nil, err
	}
	zx, _ := json.Marshal(map[string]any{"src": src, "dest": dest, "include": args.Strings("include"), "exclude": args.Strings("exclude"), "extract": true})
	s.set("zcfg", string(zcfg)).set("zx", string(zx)).setb("LIST", args.Bool("list_files") || args.Has("mode") || args.Has("owner") || args.Has("group"))
	s.line(`magic=$(head -c 4 "$arc" | od -An -tx1 | tr -d ' \n')
case $magic in
504b0304|504b0506)
  say handler ZipArchive
  command -v python3 >/dev/null 2>&1 || die "unpacking a zip archive needs python3 on the host (apt: python3)"
  out=$(python3 - "$arc" "$zcfg" <<'__TPAGO_PY__'
` + pyZip + `__TPAGO_PY__
) || { printf '%s\n' "$out"; exit 1; }
  printf '%s\n' "$out"
  case $out in *"@T differs="*) changed=1 ;; *) changed=0 ;; esac
  if [ "$changed" = 1 ] && [ "$CHECK" = 0 ]; then
    if command -v unzip >/dev/null 2>&1; then
      set -- -o -q ` + opts + ` "$arc" ` + incl + `
      for x in ` + quoteAll(args.Strings("exclude")) + `; do set -- "$@" -x "$x"; done
      e=$(unzip "$@" -d "$dest" 2>&1) || die "unzip failed: $e"
    else
      e=$(python3 - "$arc" "$zx" 2>&1 <<'__TPAGO_PY__'
` + pyZip + `__TPAGO_PY__
) || die "extracting $src failed: $e"
    fi
  fi
  members=$(printf '%s\n' "$out" | sed -n 's/^@T member=//p') ;;
*)
  say handler TgzArchive
  command -v tar >/dev/null 2>&1 || die "tar is not installed on the host"
  d=$(tar --diff -f "$arc" -C "$dest" ` + opts + ` ` + quoteAll(excl) + ` ` + incl + ` 2>&1); rc=$?
  real=$(printf '%s\n' "$d" | grep -v -e 'Mode differs' -e 'Uid differs' -e 'Gid differs' -e '/: Mod time differs' -e '^tar: : ' -e 'Removing leading' | grep -e 'differ' -e 'Cannot stat' -e 'Not found' -e 'No such file' -e 'not exist')
  if [ "$rc" -gt 1 ] && [ -z "$real" ]; then die "cannot read $src as a tar archive: $(printf '%s' "$d" | tail -n 3)"; fi
  if [ -n "$real" ]; then changed=1; else changed=0; fi
  if [ "$changed" = 1 ] && [ "$CHECK" = 0 ]; then
    e=$(tar -x -f "$arc" -C "$dest" ` + opts + ` ` + quoteAll(excl) + ` ` + incl + ` 2>&1) || die "tar failed to unpack $src: $e"
  fi
  if [ "$LIST" = 1 ]; then members=$(tar -t -f "$arc" --show-transformed-names ` + opts + ` ` + quoteAll(excl) + ` ` + incl + ` 2>/dev/null | sed 's#/$##'); fi ;;
esac
say changed "$changed"
if [ "$LIST" = 1 ]; then
  IFS=$nl
  for m in $members; do
    unset IFS
    [ -n "$m" ] || continue
    say file "$m"
    if [ -e "$dest/$m" ] || [ -L "$dest/$m" ]; then ` + attrsCall(`"$dest/$m"`, args) + `; fi
    IFS=$nl
  done
  unset IFS
fi`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	res := &module.Result{Data: map[string]any{"dest": dest, "src": src}}
	if r.has("skipped") {
		res.Msg = r.get("skipped")
		return res, nil
	}
	handler = r.get("handler")
	res.Data["handler"] = handler
	res.Changed = r.flag("changed") || r.flag("attrs_changed")
	if args.Bool("list_files") {
		res.Data["files"] = strs(r["file"])
	}
	if res.Changed && rt.Diff {
		changed := r["differs"]
		after := "unpacked from " + src
		if len(changed) > 0 {
			after += ": " + strings.Join(changed, ", ")
		}
		if r.flag("changed") {
			res.Diff = append(res.Diff, stateDiff(dest, "(files differ from the archive's)", after))
		}
		if d, ok := attrDiff(r, dest); ok {
			res.Diff = append(res.Diff, d)
		}
	}
	return res, nil
}

var _ module.Module = (*Unarchive)(nil)

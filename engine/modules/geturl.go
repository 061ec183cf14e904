package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&GetURL{}) }

// GetURL downloads a file over HTTP(S), FTP or file:// on the host.
type GetURL struct{}

// Spec implements module.Module.
func (*GetURL) Spec() module.Spec {
	args := append(httpArgs(10),
		module.Arg{Name: "dest", Type: module.String, Required: true, Doc: "file to write on the host; in a directory, the file takes the server's name for it (Content-Disposition) or the URL's last part"},
		module.Arg{Name: "checksum", Type: module.String, Default: "", Doc: "ALGORITHM:HEX (sha256:9f86…) or ALGORITHM:URL of a checksum file; the download must match it, and an existing dest that matches is kept"},
		module.Arg{Name: "force", Type: module.Bool, Default: false, Aliases: []string{"thirsty"}, Doc: "download every time and replace dest when the content differs; without it an existing dest is kept"},
	)
	refused := httpRefused()
	refused["backup"] = "keep a copy with copy: remote_src: true before the download"
	refused["tmp_dest"] = "the download is written beside dest and renamed into place"
	refused["decompress"] = "not supported: the file is saved as the server sends it"
	refused["sha256sum"] = "use checksum: sha256:HEX"
	return module.Spec{
		Name:    "get_url",
		Check:   module.CheckPredicts,
		Doc:     "Download a file from a URL on the host (with python3's urllib), verify its checksum and put it in place atomically",
		Args:    append(args, attrArgs()...),
		Refused: refused,
	}
}

var checksumRE = regexp.MustCompile(`^(md5|sha1|sha224|sha256|sha384|sha512):(.+)$`)

// parseChecksum splits get_url's checksum argument into its algorithm and
// either the expected digest or the URL of a checksum file.
func parseChecksum(s string) (algo, sum, url string, err error) {
	if s == "" {
		return "", "", "", nil
	}
	m := checksumRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", "", "", fmt.Errorf("checksum: %q is not ALGORITHM:HEX or ALGORITHM:URL (algorithms: md5, sha1, sha224, sha256, sha384, sha512)", s)
	}
	if strings.Contains(m[2], "://") {
		return m[1], "", m[2], nil
	}
	sum = strings.ToLower(m[2])
	if strings.Trim(sum, "0123456789abcdef") != "" {
		return "", "", "", fmt.Errorf("checksum: %q is not a hexadecimal digest", m[2])
	}
	return m[1], sum, "", nil
}

// pyGetURL decides and downloads; it leaves the file in a temporary file
// beside dest (tmp=…) for the shell to give its attributes and rename.
const pyGetURL = `
url, dest, force, check = C['url'], os.path.expanduser(C['dest']), C['force'], C['check']
algo, want = C['algo'], C['sum']
if C['sum_url']:
    r, st, why = request(C['sum_url'])
    if r is None or st >= 400:
        die('cannot read the checksum file %s: %s %s' % (C['sum_url'], st, why))
    name = os.path.basename(urllib.parse.urlsplit(url).path)
    found = []
    for line in r.read().decode('utf-8', 'replace').splitlines():
        f = line.split()
        if len(f) == 1:
            found.append(f[0])
        elif len(f) >= 2 and os.path.basename(f[1].lstrip('*')) == name:
            found.append(f[0])
    if len(found) != 1:
        die('cannot find a checksum for %s in %s' % (name, C['sum_url']))
    want = found[0].lower()
is_dir = os.path.isdir(dest)
say('dest', dest)
exists = not is_dir and os.path.exists(dest)
if exists:
    say('checksum_dest', digest(dest, 'sha1'))
    mismatch = bool(want) and digest(dest, algo) != want
    if not force and not mismatch:
        say('msg', 'file already exists')
        say('kept', 1)
        sys.exit(0)
    if mismatch:
        force = True
elif not is_dir and not os.path.isdir(os.path.dirname(dest) or '.'):
    die('Destination dir %s does not exist' % (os.path.dirname(dest),))
if check and not is_dir and (not exists or want):
    # A new file, or one that does not match the checksum: the download
    # would change dest (or fail), no need to make it to know.
    say('changed', 1)
    say('msg', 'would download %s' % url)
    sys.exit(0)
t0 = time.time()
r, st, why = request(url)
say('status_code', st)
if r is None or st >= 400:
    say('response', why)
    die('Request failed: %s %s (%s)' % (st, why, url) if st > 0 else why)
if is_dir:
    name = ''
    cd = r.headers.get('Content-Disposition') or ''
    m = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', cd)
    if m:
        name = os.path.basename(urllib.parse.unquote(m.group(1)).strip())
    if not name:
        name = os.path.basename(urllib.parse.urlsplit(r.geturl() or url).path) or 'index.html'
    dest = os.path.join(dest, name)
    say('dest', dest)
    if os.path.exists(dest):
        exists = True
        say('checksum_dest', digest(dest, 'sha1'))
tmp, sha1, got, size = save(r, os.path.dirname(dest) or '.', algo, not check)
say('elapsed', int(time.time() - t0))
say('checksum_src', sha1)
say('size', size)
say('msg', 'OK (%d bytes)' % size)
if want and got != want:
    if tmp:
        os.unlink(tmp)
    die('The checksum for %s did not match %s; it was %s.' % (dest, want, got))
if exists and digest(dest, 'sha1') == sha1:
    if tmp:
        os.unlink(tmp)
    sys.exit(0)
say('changed', 1)
if tmp:
    say('tmp', tmp)
`

// Run implements module.Module.
func (*GetURL) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	algo, sum, sumURL, err := parseChecksum(args.String("checksum"))
	if err != nil {
		return nil, err
	}
	if algo == "" {
		algo = "sha1"
	}
	cfg := httpSettings(args)
	cfg["dest"], cfg["force"], cfg["check"] = args.String("dest"), args.Bool("force"), rt.Check
	cfg["algo"], cfg["sum"], cfg["sum_url"] = algo, sum, sumURL
	cfg["follow_redirects"] = "all"
	call, err := pyCall(pyGetURL, cfg, args.String("url_password"))
	if err != nil {
		return nil, err
	}
	s := newScript(rt)
	s.line(call)
	s.line(`dest=$(pv dest) tmp=$(pv tmp)
if [ -n "$tmp" ]; then
  trap 'rm -f "$tmp"' EXIT
  if [ -e "$dest" ]; then chmod --reference="$dest" "$tmp"; chown --reference="$dest" "$tmp" 2>/dev/null
  else chmod 0644 "$tmp"; fi
  ` + attrsCall(`"$tmp"`, args) + `
  mv -f "$tmp" "$dest" || die "cannot replace $dest"
  trap - EXIT
elif [ -e "$dest" ] && ! [ -d "$dest" ]; then
  ` + attrsCall(`"$dest"`, args) + `
fi
true`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	dest := r.get("dest")
	res := &module.Result{Changed: r.flag("changed"), Msg: r.get("msg"), Data: map[string]any{
		"url": args.String("url"), "dest": dest, "msg": r.get("msg")}}
	for _, k := range []string{"checksum_dest", "checksum_src"} {
		if r.has(k) {
			res.Data[k] = r.get(k)
		}
	}
	for _, k := range []string{"status_code", "size", "elapsed"} {
		if r.has(k) {
			res.Data[k] = r.int(k)
		}
	}
	if res.Changed && rt.Diff {
		before := "absent"
		if r.has("checksum_dest") {
			before = "sha1 " + r.get("checksum_dest")
		}
		after := "downloaded from " + args.String("url")
		if r.has("checksum_src") {
			after = "sha1 " + r.get("checksum_src") + " from " + args.String("url")
		}
		res.Diff = append(res.Diff, stateDiff(dest, before, after))
	}
	if d, ok := attrDiff(r, dest); ok {
		res.Changed = true
		if rt.Diff && r.has("checksum_dest") {
			res.Diff = append(res.Diff, d)
		}
	}
	return res, nil
}

var _ module.Module = (*GetURL)(nil)

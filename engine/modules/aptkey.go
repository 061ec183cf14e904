package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&AptKey{}) }

// AptKey adds and removes the OpenPGP keys apt trusts.
type AptKey struct{}

// Spec implements module.Module.
func (*AptKey) Spec() module.Spec {
	return module.Spec{
		Name:  "apt_key",
		Check: module.CheckPredicts,
		Doc: "Add or remove an OpenPGP key apt trusts, without apt-key (gone in Debian 13): a new key goes to " +
			"/etc/apt/trusted.gpg.d/KEYID.gpg, or into keyring; known by its id, so a present key is not fetched again (needs gpg on the host)",
		Args: []module.Arg{
			{Name: "id", Type: module.String,
				Doc: "the key's id or fingerprint (the full 40 digits avoid collisions); with it a present key is not fetched, and a fetched key must match it; required with state=absent"},
			{Name: "url", Type: module.String, Doc: "URL the host fetches the key from (with curl or wget)"},
			{Name: "data", Type: module.String, Doc: "the key itself, armored or binary"},
			{Name: "file", Type: module.String, Doc: "path of a key file on the host"},
			{Name: "keyring", Type: module.String,
				Doc: "the keyring file to add to or remove from, e.g. /etc/apt/trusted.gpg.d/pgdg.gpg (.asc: written armored); default: every keyring apt reads, and a new file per key"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "whether apt should trust the key"},
			{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "check the TLS certificate of url"},
		},
		Exclusive: [][]string{{"url", "data", "file"}},
		Refused: map[string]string{
			"keyserver": "keyservers are not used (hosts often cannot reach them, and apt-key adv is gone in Debian 13): " +
				"give the key with url:, data: or file: and its fingerprint with id:",
		},
	}
}

var aptKeyID = regexp.MustCompile(`^[0-9A-F]{8,40}$`)

// aptKeyStart makes the work folder (with a GNUPGHOME of its own: gpg
// writes nothing of root's); the key given as data is then written to
// "$work/key".
const aptKeyStart = `
command -v gpg >/dev/null || die "apt_key needs gpg on the host: install the gnupg package first (apt: name=gnupg)"
work=$(mktemp -d) || die "cannot create a temporary folder"
trap 'rm -rf "$work"' EXIT
export GNUPGHOME="$work/home"
mkdir -m 0700 "$GNUPGHOME"
`

const aptKeyScript = `
# fprs FILE prints, for every key and subkey in FILE, the fingerprint of
# its primary key and its own.
fprs() { gpg --batch --show-keys --with-colons "$1" 2>/dev/null | awk -F: '$1 == "pub" { p = 1 } $1 == "sub" { p = 0 } $1 == "fpr" { if (p) pub = $10; print pub, $10 }'; }
# match ID reads fprs lines and prints the primary fingerprints whose key
# or subkey ends in ID.
match() { awk -v id="$1" 'substr($2, length($2) - length(id) + 1) == id { print $1 }' | sort -u; }
if [ -n "$keyring" ]; then krs=$keyring; else krs="/etc/apt/trusted.gpg /etc/apt/trusted.gpg.d/*.gpg /etc/apt/trusted.gpg.d/*.asc"; fi
# where ID lists the keyrings holding the key.
where() {
  set +f; _l=$(echo $krs); set -f
  for kr in $_l; do [ -f "$kr" ] || continue; [ -n "$(fprs "$kr" | match "$1")" ] && echo "$kr"; done; true
}
if [ "$state" = absent ]; then
  for kr in $(where "$id"); do
    say changed 1; say keyring "$kr"
    [ "$CHECK" = 1 ] && continue
    all=$(fprs "$kr")
    fp=$(printf '%s\n' "$all" | match "$id" | head -n1)
    if [ -z "$(printf '%s\n' "$all" | awk -v fp="$fp" '$1 != fp')" ]; then
      rm -f "$kr" || die "cannot remove $kr"
      continue
    fi
    case $kr in *.asc) die "$kr holds other keys too and is armored: apt_key cannot take one key out of it" ;; esac
    cp "$kr" "$work/kr"
    out=$(gpg --batch --yes --no-default-keyring --keyring "gnupg-ring:$work/kr" --delete-keys "$fp" 2>&1) || die "cannot remove $fp from $kr: $out"
    tmp=$(mktemp "$kr.XXXXXX") && cat "$work/kr" > "$tmp" && chmod --reference="$kr" "$tmp" && mv -f "$tmp" "$kr" || die "cannot write $kr"
  done
  exit 0
fi
if [ -n "$id" ]; then
  kr=$(where "$id" | head -n1)
  if [ -n "$kr" ]; then say fp "$(fprs "$kr" | match "$id" | head -n1)"; exit 0; fi
fi
case $src in
data) ;;
file) [ -r "$file" ] || die "cannot read the key file $file"; cp "$file" "$work/key" ;;
url)
  if command -v curl >/dev/null; then
    K=; [ "$VALIDATE" = 1 ] || K=-k
    out=$(curl -fsSL $K -o "$work/key" "$url" 2>&1) || die "Failed to download key at $url: $out"
  elif command -v wget >/dev/null; then
    K=; [ "$VALIDATE" = 1 ] || K=--no-check-certificate
    out=$(wget -q $K -O "$work/key" "$url" 2>&1) || die "Failed to download key at $url: $out"
  else die "fetching $url needs curl or wget on the host"; fi ;;
*) die "the key is not present: give url, data or file to add it" ;;
esac
if grep -q -- '-----BEGIN PGP' "$work/key"; then
  gpg --batch --dearmor < "$work/key" > "$work/key.gpg" 2>/dev/null || die "the key data is not a valid armored OpenPGP key"
else cp "$work/key" "$work/key.gpg"; fi
got=$(fprs "$work/key.gpg")
[ -n "$got" ] || die "the key data holds no OpenPGP public key"
main=$(printf '%s\n' "$got" | head -n1 | cut -d' ' -f1)
if [ -n "$id" ]; then
  main=$(printf '%s\n' "$got" | match "$id" | head -n1)
  [ -n "$main" ] || die "the key fetched does not match id $id: it is $(printf '%s\n' "$got" | cut -d' ' -f2 | tr '\n' ' ')"
fi
say fp "$main"
missing=0
for fp in $(printf '%s\n' "$got" | cut -d' ' -f1 | sort -u); do [ -n "$(where "$fp")" ] || missing=1; done
[ "$missing" = 1 ] || exit 0
say changed 1
[ "$CHECK" = 1 ] && exit 0
dest=$keyring
[ -n "$dest" ] || dest=/etc/apt/trusted.gpg.d/$(printf '%s' "$main" | tail -c 16).gpg
say keyring "$dest"
mkdir -p "$(dirname "$dest")" || die "cannot create $(dirname "$dest")"
case $dest in
*.asc)
  if [ -s "$dest" ]; then
    [ -n "$(fprs "$dest")" ] && die "$dest already holds other keys and is armored: apt_key cannot add to it; use a .gpg keyring"
  fi
  gpg --batch --quiet --import "$work/key.gpg" 2>/dev/null && gpg --batch --armor --export > "$work/new" || die "cannot armor the key" ;;
*)
  if [ -s "$dest" ]; then cat "$dest" "$work/key.gpg" > "$work/new"; else cp "$work/key.gpg" "$work/new"; fi ;;
esac
tmp=$(mktemp "$dest.XXXXXX") || die "cannot write in $(dirname "$dest")"
if [ -e "$dest" ]; then chmod --reference="$dest" "$tmp"; else chmod 0644 "$tmp"; fi
cat "$work/new" > "$tmp" && mv -f "$tmp" "$dest" || { rm -f "$tmp"; die "cannot write $dest"; }
`

// Run implements module.Module.
func (*AptKey) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	id := strings.ToUpper(strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(args.String("id")), "0x"), "0X"), " ", ""))
	if id != "" && !aptKeyID.MatchString(id) {
		return nil, fmt.Errorf("id: %q is not a key id (8 to 40 hexadecimal digits)", args.String("id"))
	}
	state := args.String("state")
	if state == "absent" && id == "" {
		return nil, fmt.Errorf("id is required with state=absent")
	}
	keyring := args.String("keyring")
	if strings.ContainsAny(keyring, " \t\n*?[") {
		return nil, fmt.Errorf("keyring: %q: a keyring path may not hold spaces or wildcards", keyring)
	}
	if keyring != "" && !strings.HasPrefix(keyring, "/") {
		return nil, fmt.Errorf("keyring: %q must be an absolute path", keyring)
	}
	src := ""
	for _, k := range []string{"url", "data", "file"} {
		if args.String(k) != "" {
			src = k
		}
	}
	if state == "present" && src == "" && id == "" {
		return nil, fmt.Errorf("state=present needs the key: url, data or file (and preferably id)")
	}
	s := newScript(rt).set("id", id).set("keyring", keyring).set("state", state).set("src", src).
		set("url", args.String("url")).set("file", args.String("file")).setb("VALIDATE", args.Bool("validate_certs"))
	s.line(aptKeyStart)
	if src == "data" {
		s.data([]byte(args.String("data")), `"$work/key"`)
	}
	s.line(aptKeyScript)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	res := &module.Result{Changed: r.flag("changed"), Data: map[string]any{"id": id}}
	if fp := r.get("fp"); fp != "" {
		res.Data["fp"] = fp
		res.Data["key_id"] = fp[max(0, len(fp)-16):]
		res.Data["short_id"] = fp[max(0, len(fp)-8):]
	}
	if r.has("keyring") {
		res.Data["keyrings"] = strs(r["keyring"])
	}
	if res.Changed && rt.Diff {
		before, after := "absent", "present"
		if state == "absent" {
			before, after = after, before
		}
		name := id
		if name == "" {
			name = r.get("fp")
		}
		res.Diff = []module.Diff{stateDiff("apt key "+name, before, after)}
	}
	return res, nil
}

var _ module.Module = (*AptKey)(nil)

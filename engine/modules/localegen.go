package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&LocaleGen{}) }

// LocaleGen makes locales available (or not) on Debian.
type LocaleGen struct{}

// Spec implements module.Module.
func (*LocaleGen) Spec() module.Spec {
	return module.Spec{
		Name:  "locale_gen",
		Check: module.CheckPredicts,
		Doc:   "Generate or remove locales on Debian: enable or disable their line in /etc/locale.gen and run locale-gen (needs the locales package)",
		Args: []module.Arg{
			{Name: "name", Type: module.List, Required: true,
				Doc: "locales such as en_US.UTF-8 (en_US.utf8, as locale -a spells it, is the same locale)"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "whether the locales should be available"},
		},
	}
}

const localeGenScript = `
[ -f /etc/locale.gen ] && command -v locale-gen >/dev/null ||
  die "locale_gen needs the locales package (/etc/locale.gen and locale-gen): install it first with apt: name=locales"
# Names are compared lower-case and without dashes: en_US.UTF-8 is
# en_US.utf8 in locale -a.
have=$(locale -a 2>/dev/null | tr 'A-Z' 'a-z' | tr -d '-')
todo=
for n in $names; do
  k=$(printf '%s' "$n" | tr 'A-Z' 'a-z' | tr -d '-')
  if printf '%s\n' "$have" | grep -qxF "$k"; then is=1; else is=0; fi
  if [ "$state" = present ]; then
    [ "$is" = 1 ] && continue
    cs=$(awk -v n="$n" '$1 == n { print $2; exit }' /usr/share/i18n/SUPPORTED 2>/dev/null)
    [ -n "$cs" ] || die "The locale you've entered is not available on your system: $n is not in /usr/share/i18n/SUPPORTED"
  else
    case $k in c|c.*|posix) die "$n is built into the C library: it cannot be removed" ;; esac
    [ "$is" = 0 ] && continue
    cs=
  fi
  say changed "$n"
  todo="$todo $n=$cs"
done
[ -n "$todo" ] && [ "$CHECK" = 0 ] || exit 0
tmp=$(mktemp) || die "cannot create a temporary file"
trap 'rm -f "$tmp"' EXIT
cp /etc/locale.gen "$tmp"
for t in $todo; do
  n=${t%%=*} cs=${t#*=}
  # The locale's line: enabled (present) or commented out (absent); a
  # locale missing from the file is added from SUPPORTED.
  awk -v n="$n" -v cs="$cs" -v st="$state" '
    { l = $0; sub(/^#[ \t]*/, "", l); split(l, f, /[ \t]+/) }
    f[1] == n && f[2] != "" {
      seen = 1
      if (st == "present") { print l } else if ($0 ~ /^#/) { print } else { print "# " $0 }
      next
    }
    { print }
    END { if (!seen && st == "present") print n " " cs }' "$tmp" > "$tmp.new" && mv "$tmp.new" "$tmp" || die "cannot edit /etc/locale.gen"
done
cat "$tmp" > /etc/locale.gen || die "cannot write /etc/locale.gen"
out=$(locale-gen 2>&1) || die "locale-gen failed: $(printf '%s' "$out" | tail -n 3)"
true
`

// Run implements module.Module.
func (*LocaleGen) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	names := args.Strings("name")
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, " \t\n=/'\"$`\\;|&<>*?") {
			return nil, fmt.Errorf("name: %q is not a locale name (such as en_US.UTF-8)", n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("name: no locale given")
	}
	s := newScript(rt).set("names", strings.Join(names, " ")).set("state", args.String("state"))
	s.line(localeGenScript)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	res := &module.Result{Changed: r.has("changed"), Data: map[string]any{"name": strs(names), "state": args.String("state"), "mechanism": "glibc"}}
	if res.Changed && rt.Diff {
		before, after := "absent", "present"
		if args.String("state") == "absent" {
			before, after = after, before
		}
		for _, n := range r["changed"] {
			res.Diff = append(res.Diff, stateDiff("locale "+n, before, after))
		}
	}
	return res, nil
}

var _ module.Module = (*LocaleGen)(nil)

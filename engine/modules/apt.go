package modules

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&Apt{}) }

// Apt installs, upgrades and removes Debian packages.
type Apt struct{}

// Spec implements module.Module.
func (*Apt) Spec() module.Spec {
	return module.Spec{
		Name:  "apt",
		Check: module.CheckPredicts,
		Doc:   "Install, upgrade or remove Debian packages with apt-get (non-interactive, keeping changed config files)",
		Args: []module.Arg{
			{Name: "name", Type: module.List, Aliases: []string{"pkg", "package"}, Doc: "packages (name or name=version)"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "installed", "latest", "absent", "removed"},
				Doc: "present/installed: installed; latest: at the newest version; absent/removed: not installed"},
			{Name: "update_cache", Type: module.Bool, Default: false, Aliases: []string{"update-cache"}, Doc: "run apt-get update first"},
			{Name: "cache_valid_time", Type: module.Int, Default: 0, Doc: "skip the update when the cache is younger than this many seconds"},
			{Name: "install_recommends", Type: module.Bool, Aliases: []string{"install-recommends"}, Doc: "install recommended packages (default: apt's setting)"},
			{Name: "purge", Type: module.Bool, Default: false, Doc: "with state=absent, remove configuration files too"},
			{Name: "autoremove", Type: module.Bool, Default: false, Doc: "remove packages that are no longer needed"},
			{Name: "lock_timeout", Type: module.Int, Default: 120, Doc: "seconds to wait for the dpkg lock held by another process"},
		},
		OneOf: [][]string{{"name", "update_cache", "autoremove"}},
	}
}

// aptCommon defines the apt helpers (aptget, aptfail) and runs
// apt-get update when $UPDATE is 1 and the cache is older than $valid
// seconds (always when $valid is 0), except in check mode. apt and
// apt_repository share it; $front names the module in errors.
const aptCommon = `
export DEBIAN_FRONTEND=noninteractive
command -v apt-get >/dev/null || die "apt-get not found: the $front module needs a Debian-like host"
log=$(mktemp) || die "cannot create a temporary file"
trap 'rm -f "$log"' EXIT
status() { dpkg-query -W -f='${db:Status-Abbrev}|${Version}\n' "$1" 2>/dev/null | head -n1; }
installed() {
  _n=${1%%=*}; _v=; case $1 in *=*) _v=${1#*=} ;; esac
  _s=$(status "$_n")
  case $_s in ii*|hi*) ;; *) return 1 ;; esac
  [ -z "$_v" ] || [ "${_s#*|}" = "$_v" ]
}
aptfail() {
  _m=$(sed -n 's/^E: Unable to locate package \(.*\)$/\1/p' "$log" | head -n1)
  [ -n "$_m" ] && die "No package matching '$_m' is available"
  _m=$(sed -n 's/^E: Version .\(.*\). for .\(.*\). was not found$/\2=\1/p' "$log" | head -n1)
  [ -n "$_m" ] && die "No package matching '$_m' is available (version not found)"
  die "$1: $(grep -E '^(E|W): ' "$log" | tail -n 3 | tr '\n' ' ')$(tail -n 3 "$log" | tr '\n' ' ')"
}
aptget() { apt-get -q -o DPkg::Lock::Timeout="$locktimeout" -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >"$log" 2>&1; }
if [ "$UPDATE" = 1 ]; then
  stamp=/var/lib/apt/periodic/update-success-stamp
  fresh=0
  if [ "$valid" -gt 0 ] && [ -e "$stamp" ]; then
    [ $(($(date +%s) - $(stat -c %Y "$stamp"))) -lt "$valid" ] && fresh=1
  fi
  if [ "$fresh" = 0 ] && [ "$CHECK" = 0 ]; then
    aptget update || aptfail "apt-get update failed"
    mkdir -p /var/lib/apt/periodic && touch "$stamp"
    say cache_updated 1
  fi
fi
`

const aptScript = `
todo=
case $state in
present|installed)
  for p in $pkgs; do installed "$p" || { todo="$todo $p"; say installed "$p"; }; done
  if [ -n "$todo" ]; then
    if [ "$CHECK" = 1 ]; then aptget -s install $recommends $todo || aptfail "apt-get install failed"
    else aptget -y install $recommends $todo || aptfail "apt-get install failed"; fi
  fi ;;
latest)
  aptget -s install $recommends $pkgs || aptfail "apt-get install failed"
  for p in $pkgs; do
    n=${p%%=*}
    if grep -q "^Inst $n[ :]" "$log"; then
      if installed "$p"; then say upgraded "$p"; else say installed "$p"; fi
      todo="$todo $p"
    fi
  done
  if [ -n "$todo" ] && [ "$CHECK" = 0 ]; then aptget -y install $recommends $pkgs || aptfail "apt-get install failed"; fi ;;
absent|removed)
  for p in $pkgs; do
    n=${p%%=*}
    case $(status "$n") in
    ii*|iU*|iF*|iH*|hi*) todo="$todo $n"; say removed "$n" ;;
    rc*) [ "$PURGE" = 1 ] && { todo="$todo $n"; say purged "$n"; } ;;
    esac
  done
  if [ -n "$todo" ] && [ "$CHECK" = 0 ]; then
    if [ "$PURGE" = 1 ]; then aptget -y purge $todo || aptfail "apt-get purge failed"
    else aptget -y remove $todo || aptfail "apt-get remove failed"; fi
  fi ;;
esac
if [ "$AUTOREMOVE" = 1 ]; then
  aptget -s autoremove || aptfail "apt-get autoremove failed"
  for n in $(sed -n 's/^Remv \([^ ]*\) .*/\1/p' "$log"); do say autoremoved "$n"; done
  if grep -q '^Remv ' "$log" && [ "$CHECK" = 0 ]; then aptget -y autoremove || aptfail "apt-get autoremove failed"; fi
fi
true
`

// Run implements module.Module.
func (*Apt) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	return runApt(ctx, rt, args, "apt")
}

// runApt runs apt for the module named front (apt, or package in front
// of it).
func runApt(ctx context.Context, rt *module.Runtime, args module.Args, front string) (*module.Result, error) {
	var pkgs []string
	for _, p := range args.Strings("name") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.ContainsAny(p, " \t\n'\"$`\\;|&<>*?") {
			return nil, fmt.Errorf("name: %q is not a valid package name", p)
		}
		pkgs = append(pkgs, p)
	}
	state := args.String("state")
	recommends := ""
	if args.Has("install_recommends") {
		if args.Bool("install_recommends") {
			recommends = "--install-recommends"
		} else {
			recommends = "--no-install-recommends"
		}
	}
	s := newScript(rt).set("front", front).set("pkgs", strings.Join(pkgs, " ")).set("state", state).setb("UPDATE", args.Bool("update_cache")).
		set("valid", fmt.Sprint(args.Int("cache_valid_time"))).set("recommends", recommends).setb("PURGE", args.Bool("purge")).
		setb("AUTOREMOVE", args.Bool("autoremove")).set("locktimeout", fmt.Sprint(args.Int("lock_timeout")))
	s.line(aptCommon).line(aptScript)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	res := &module.Result{Data: map[string]any{"cache_updated": r.flag("cache_updated")}}
	var before, after []string
	add := func(key, from, to string) {
		l := r[key]
		sort.Strings(l)
		res.Data[key] = strs(l)
		for _, p := range l {
			res.Changed = true
			before = append(before, p+": "+from)
			after = append(after, p+": "+to)
		}
	}
	add("installed", "absent", "installed")
	add("upgraded", "installed", "latest")
	add("removed", "installed", "absent")
	add("purged", "config-files", "purged")
	add("autoremoved", "installed", "absent (autoremoved)")
	if res.Changed && rt.Diff {
		res.Diff = []module.Diff{{BeforeHeader: "packages", AfterHeader: "packages",
			Before: strings.Join(before, "\n") + "\n", After: strings.Join(after, "\n") + "\n"}}
	}
	return res, nil
}

var _ module.Module = (*Apt)(nil)

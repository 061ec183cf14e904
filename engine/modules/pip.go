package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&Pip{}) }

// Pip installs Python packages with pip, in a virtualenv or not.
type Pip struct{}

// Spec implements module.Module.
func (*Pip) Spec() module.Spec {
	return module.Spec{
		Name:  "pip",
		Check: module.CheckPredicts,
		Doc: "Install, upgrade or remove Python packages with pip, into a virtualenv (made when missing) or the system's Python. " +
			"Debian's Python refuses pip (PEP 668): use a virtualenv, Debian's python3-… package with apt:, or --break-system-packages",
		Args: []module.Arg{
			{Name: "name", Type: module.List, Doc: "packages, each a name with an optional version specifier (flask>=2,<3), a path or a URL"},
			{Name: "version", Type: module.String, Doc: "the version to install of the one package in name (name==version)"},
			{Name: "requirements", Type: module.String, Doc: "a requirements file on the host (relative to chdir)"},
			{Name: "virtualenv", Type: module.String, Doc: "the virtualenv to install into; made with virtualenv_command when missing"},
			{Name: "virtualenv_command", Type: module.String, Default: "virtualenv", Doc: "command that makes the virtualenv, e.g. python3 -m venv"},
			{Name: "virtualenv_python", Type: module.String, Doc: "Python the virtualenv is made for (virtualenv -p); not with the venv module"},
			{Name: "virtualenv_site_packages", Type: module.Bool, Default: false, Doc: "let the virtualenv see the system's packages"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent", "latest", "forcereinstall"},
				Doc: "present: installed (at a version the specifier allows); latest: upgraded; forcereinstall: reinstalled now (always a change); absent: uninstalled"},
			{Name: "executable", Type: module.String, Doc: "the pip to run, e.g. pip3 or /opt/x/bin/pip (default: python3 -m pip)"},
			{Name: "extra_args", Type: module.String, Doc: "more arguments for pip, e.g. --no-index --find-links /srv/wheels"},
			{Name: "break_system_packages", Type: module.Bool, Default: false, Doc: "let pip change Debian's Python (pip's --break-system-packages)"},
			{Name: "chdir", Type: module.String, Doc: "folder pip runs in"},
		},
		OneOf:     [][]string{{"name", "requirements"}},
		Exclusive: [][]string{{"name", "requirements"}, {"virtualenv", "executable"}},
		Refused: map[string]string{
			"editable": "editable installs are for development checkouts: install the package, or use command: pip install -e",
			"umask":    "pip runs with the host's umask: set it in the command with command: if needed",
		},
	}
}

var pipSpecifier = regexp.MustCompile(`[<>=!~;\[ ]`)

// pipName is the package name of a requirement (flask>=2 → flask), or ""
// for a path or URL.
func pipName(req string) string {
	if strings.ContainsAny(req, "/:") {
		return ""
	}
	if i := pipSpecifier.FindStringIndex(req); i != nil {
		req = req[:i[0]]
	}
	return strings.TrimSpace(req)
}

const pipScript = `
[ -z "$chdir" ] || cd "$chdir" || die "cannot go to chdir $chdir"
if [ -n "$venv" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    say venv_created 1
    if [ "$CHECK" = 1 ]; then
      # Everything asked for would be installed in the new virtualenv.
      [ "$state" = absent ] || say changed 1
      exit 0
    fi
    set -- $vcmd
    command -v "$1" >/dev/null || die "$1 not found: install python3-virtualenv, or set virtualenv_command: python3 -m venv (package python3-venv)"
    out=$($vcmd $vopts "$venv" 2>&1) || die "cannot make the virtualenv $venv with $vcmd: $(printf '%s' "$out" | tail -n 3)"
    say changed 1
  fi
  pip="$venv/bin/python -m pip"
elif [ -n "$exe" ]; then
  pip=$exe
else
  command -v python3 >/dev/null || die "python3 not found on the host: install it first (apt: name=python3)"
  if [ "$BREAK" = 0 ] && [ "$(python3 -c 'import os, sys, sysconfig; print(int(sys.prefix == sys.base_prefix and os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))' 2>/dev/null)" = 1 ]; then
    die "$externally"
  fi
  python3 -m pip --version >/dev/null 2>&1 || die "pip is not installed for python3: install python3-pip (apt: name=python3-pip), or use a virtualenv"
  pip="python3 -m pip"
fi
err=$(mktemp) || die "cannot create a temporary file"
trap 'rm -f "$err"' EXIT
pipfail() {
  grep -q externally-managed-environment "$err" && die "$externally"
  die "$1: $(tail -n 5 "$err" | tr '\n' ' ')"
}
freeze() { $pip list --format=freeze --disable-pip-version-check 2>/dev/null | sort; }
norm() { tr 'A-Z' 'a-z' | sed 's/[_.]/-/g'; }
case $state in
absent)
  have=$(freeze | cut -d= -f1 | norm)
  todo=
  for n in $names; do
    k=$(printf '%s' "$n" | norm)
    printf '%s\n' "$have" | grep -qxF "$k" && { todo="$todo $n"; say changed 1; }
  done
  say cmd "$pip uninstall -y $extra$todo"
  if [ -n "$todo" ] && [ "$CHECK" = 0 ]; then
    out=$($pip uninstall -y --disable-pip-version-check $extra $todo 2>"$err") || pipfail "pip uninstall failed"
    say stdout "$out"
  fi ;;
*)
  set -- install --disable-pip-version-check $extra
  [ "$state" = latest ] && set -- "$@" -U
  [ "$state" = forcereinstall ] && set -- "$@" -U --force-reinstall
  [ "$BREAK" = 1 ] && set -- "$@" --break-system-packages
  [ -n "$reqs" ] && set -- "$@" -r "$reqs"
  say cmd "$pip $* $pkgs"
  if [ "$CHECK" = 1 ]; then
    [ "$state" = forcereinstall ] && { say changed 1; exit 0; }
    if out=$($pip "$@" --dry-run $pkgs 2>"$err"); then
      would=$(printf '%s\n' "$out" | sed -n 's/^Would install //p')
      [ -n "$would" ] && { say changed 1; say stdout "$out"; }
    elif grep -q -e 'no such option: --dry-run' "$err"; then
      say changed 1
    else
      pipfail "pip install failed"
    fi
    exit 0
  fi
  before=$(freeze)
  out=$($pip "$@" $pkgs 2>"$err") || pipfail "pip install failed"
  say stdout "$out"
  [ "$state" = forcereinstall ] && say changed 1
  [ "$before" = "$(freeze)" ] || say changed 1
esac
true
`

const pipExternallyManaged = "error: externally-managed-environment: Debian's Python is managed by apt (PEP 668) and pip may not install into it. " +
	"Install into a virtualenv (virtualenv: /opt/NAME/venv, virtualenv_command: python3 -m venv), or install Debian's package " +
	"(apt: name=python3-NAME); to override at your own risk, set break_system_packages: true"

// Run implements module.Module.
func (*Pip) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	names := args.Strings("name")
	state := args.String("state")
	if v := args.String("version"); v != "" {
		if len(names) != 1 {
			return nil, fmt.Errorf("version is for one package in name, not %d", len(names))
		}
		if pipName(names[0]) != names[0] {
			return nil, fmt.Errorf("version: name %q already holds a version specifier", names[0])
		}
		names[0] += "==" + v
	}
	var bare []string
	for i, n := range names {
		// pip reads "flask >= 2" as "flask>=2".
		n = strings.Join(strings.Fields(n), "")
		names[i] = n
		if n == "" || strings.ContainsAny(n, "'\"`$\\") {
			return nil, fmt.Errorf("name: %q is not a package requirement", n)
		}
		b := pipName(n)
		if state == "absent" && b == "" {
			return nil, fmt.Errorf("name: %q: state=absent takes package names, not paths or URLs", n)
		}
		bare = append(bare, b)
	}
	if state == "absent" && args.String("requirements") != "" {
		return nil, fmt.Errorf("state=absent takes name, not requirements")
	}
	vcmd := strings.TrimSpace(args.String("virtualenv_command"))
	var vopts []string
	if py := args.String("virtualenv_python"); py != "" {
		if strings.Contains(vcmd, "venv") && !strings.Contains(vcmd, "virtualenv") {
			return nil, fmt.Errorf("virtualenv_python cannot be used with the venv module (%s): run that Python's venv instead, e.g. virtualenv_command: %s -m venv", vcmd, py)
		}
		vopts = append(vopts, "-p", py)
	}
	if args.Bool("virtualenv_site_packages") {
		vopts = append(vopts, "--system-site-packages")
	}
	extra := args.String("extra_args")
	brk := args.Bool("break_system_packages") || strings.Contains(" "+extra+" ", " --break-system-packages ")
	extra = strings.TrimSpace(strings.ReplaceAll(" "+extra+" ", " --break-system-packages ", " "))
	s := newScript(rt).set("state", state).set("venv", args.String("virtualenv")).set("vcmd", vcmd).set("vopts", strings.Join(vopts, " ")).
		set("exe", args.String("executable")).set("chdir", args.String("chdir")).set("reqs", args.String("requirements")).
		set("extra", extra).setb("BREAK", brk).set("pkgs", strings.Join(names, " ")).set("names", strings.Join(bare, " ")).
		set("externally", pipExternallyManaged)
	// pkgs and vopts are split into words where the script uses them
	// (globbing is off): names hold no spaces.
	s.line(pipScript)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	res := &module.Result{Changed: r.flag("changed"), Stdout: r.get("stdout"), Data: map[string]any{
		"cmd": r.get("cmd"), "name": strs(names), "requirements": args.String("requirements"), "version": args.String("version"),
		"virtualenv": args.String("virtualenv"), "state": state}}
	if res.Changed && rt.Diff {
		before, after := "absent", "present"
		switch state {
		case "absent":
			before, after = "present", "absent"
		case "latest":
			before, after = "installed", "latest"
		case "forcereinstall":
			before, after = "installed", "reinstalled"
		}
		var b, a strings.Builder
		for _, n := range names {
			fmt.Fprintf(&b, "%s: %s\n", n, before)
			fmt.Fprintf(&a, "%s: %s\n", n, after)
		}
		if len(names) == 0 {
			fmt.Fprintf(&b, "%s: %s\n", args.String("requirements"), before)
			fmt.Fprintf(&a, "%s: %s\n", args.String("requirements"), after)
		}
		res.Diff = []module.Diff{{BeforeHeader: "python packages", AfterHeader: "python packages", Before: b.String(), After: a.String()}}
	}
	return res, nil
}

var _ module.Module = (*Pip)(nil)

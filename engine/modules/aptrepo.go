package modules

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&AptRepository{}) }

// aptSourcesRoot is the folder holding sources.list and sources.list.d
// (tests point it at a temporary folder).
var aptSourcesRoot = "/etc/apt"

// AptRepository adds and removes one-line APT sources.
type AptRepository struct{}

// Spec implements module.Module.
func (*AptRepository) Spec() module.Spec {
	return module.Spec{
		Name:  "apt_repository",
		Check: module.CheckPredicts,
		Doc: "Add or remove an APT source line (deb/deb-src) in /etc/apt/sources.list.d/FILENAME.list, " +
			"then run apt-get update when something changed",
		Args: []module.Arg{
			{Name: "repo", Type: module.String, Required: true,
				Doc: "the source line: 'deb [options] URI suite components…' (PPAs are Ubuntu's: not on Debian)"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"},
				Doc: "present: the line is in some source file (a commented-out copy is enabled again); absent: removed from every file"},
			{Name: "filename", Type: module.String,
				Doc: "name of the file in sources.list.d, without .list (default: from the URI, as Ansible: apt.postgresql.org/pub/repos/apt → apt_postgresql_org_pub_repos_apt)"},
			{Name: "mode", Type: module.Mode, Doc: "mode of the source file (default 0644 for a new file)"},
			{Name: "update_cache", Type: module.Bool, Default: true, Aliases: []string{"update-cache"},
				Doc: "run apt-get update when a source changed (the change is undone if the update fails)"},
			{Name: "codename", Type: module.String, Doc: "accepted for compatibility: Ansible uses it for PPAs only, which Debian has none of"},
			{Name: "install_python_apt", Type: module.Bool, Default: true, Doc: "accepted for compatibility: tpago needs no Python on the host"},
			{Name: "validate_certs", Type: module.Bool, Default: true, Doc: "accepted for compatibility: Ansible uses it to fetch PPA keys only"},
		},
		Refused: map[string]string{
			"update_cache_retries":         "apt-get update runs once; retry the task with retries:/until: instead",
			"update_cache_retry_max_delay": "apt-get update runs once; retry the task with retries:/until: instead",
		},
	}
}

// aptSource is one parsed source line.
type aptSource struct {
	typ, opts, uri, suite string
	comps                 []string
}

// String is the line in its normal form (single spaces, options
// bracketed without inner padding).
func (s aptSource) String() string {
	parts := []string{s.typ}
	if s.opts != "" {
		parts = append(parts, "["+s.opts+"]")
	}
	parts = append(parts, s.uri, s.suite)
	parts = append(parts, s.comps...)
	return strings.Join(parts, " ")
}

// parseAptSource parses a one-line source; err says what is wrong.
func parseAptSource(line string) (aptSource, error) {
	var s aptSource
	rest := strings.TrimSpace(line)
	typ, rest, _ := strings.Cut(rest, " ")
	if typ != "deb" && typ != "deb-src" {
		return s, fmt.Errorf("a source line starts with deb or deb-src, not %q", typ)
	}
	s.typ = typ
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return s, fmt.Errorf("the options' [ has no closing ]")
		}
		s.opts = strings.Join(strings.Fields(rest[1:end]), " ")
		rest = rest[end+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 2 {
		return s, fmt.Errorf("a source line needs a URI and a suite: deb [options] URI suite components…")
	}
	s.uri, s.suite, s.comps = f[0], f[1], f[2:]
	if len(s.comps) == 0 && !strings.HasSuffix(s.suite, "/") {
		return s, fmt.Errorf("a suite that does not end in / needs components (e.g. main)")
	}
	return s, nil
}

// sourceLine parses a line of a source file: the source it names (normal
// form), and whether it is enabled. ok is false for other lines.
func sourceLine(line string) (src string, enabled, ok bool) {
	t := strings.TrimSpace(line)
	enabled = true
	if strings.HasPrefix(t, "#") {
		enabled = false
		t = strings.TrimSpace(strings.TrimLeft(t, "#"))
	}
	if i := strings.Index(t, "#"); i >= 0 && enabled {
		t = strings.TrimSpace(t[:i])
	}
	s, err := parseAptSource(t)
	if err != nil {
		return "", false, false
	}
	return s.String(), enabled, true
}

var (
	aptURIScheme  = regexp.MustCompile(`^[a-z0-9+]+://`)
	aptNonAlnum   = regexp.MustCompile(`[^a-zA-Z0-9]+`)
	aptListSuffix = ".list"
)

// aptSourceFilename is Ansible's default file name for a source: the URI
// without scheme and credentials, every run of other characters than
// letters and digits made one _.
func aptSourceFilename(s aptSource) string {
	u := aptURIScheme.ReplaceAllString(s.uri, "")
	if i := strings.Index(u, "@"); i >= 0 {
		u = u[i+1:]
	}
	return strings.Trim(aptNonAlnum.ReplaceAllString(u, "_"), "_")
}

// aptSourcesEdit computes the new content of the source files (path →
// content) for one source: present in target, or absent everywhere.
// Files missing from the result are unchanged; deleted lists files left
// empty by a removal.
func aptSourcesEdit(files map[string]string, order []string, want string, present bool, target string) (changed map[string]string, deleted []string) {
	changed = map[string]string{}
	if present {
		for _, p := range order {
			for _, l := range strings.Split(files[p], "\n") {
				if src, en, ok := sourceLine(l); ok && en && src == want {
					return changed, nil
				}
			}
		}
		// A commented-out copy is enabled again where it is.
		for _, p := range order {
			ls := strings.Split(files[p], "\n")
			for i, l := range ls {
				if src, _, ok := sourceLine(l); ok && src == want {
					ls[i] = want
					changed[p] = strings.Join(ls, "\n")
					return changed, nil
				}
			}
		}
		old := files[target]
		if old != "" && !strings.HasSuffix(old, "\n") {
			old += "\n"
		}
		changed[target] = old + want + "\n"
		return changed, nil
	}
	for _, p := range order {
		ls := splitLines([]byte(files[p]))
		var keep []string
		for _, l := range ls {
			if src, _, ok := sourceLine(l); ok && src == want {
				continue
			}
			keep = append(keep, l)
		}
		if len(keep) == len(ls) {
			continue
		}
		content := strings.Join(keep, "")
		if strings.TrimSpace(content) == "" && p != aptSourcesRoot+"/sources.list" {
			deleted = append(deleted, p)
			continue
		}
		changed[p] = content
	}
	return changed, deleted
}

// Run implements module.Module.
func (*AptRepository) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	repo := strings.TrimSpace(args.String("repo"))
	if strings.HasPrefix(repo, "ppa:") {
		return nil, fmt.Errorf("repo: %s: PPAs are Ubuntu's, Debian has none; give the repository's deb line instead", repo)
	}
	src, err := parseAptSource(repo)
	if err != nil {
		return nil, fmt.Errorf("repo: %q: %v", repo, err)
	}
	want := src.String()
	name := strings.TrimSuffix(args.String("filename"), aptListSuffix)
	if name == "" {
		name = aptSourceFilename(src)
	}
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return nil, fmt.Errorf("filename: %q is not a file name", name)
	}
	target := aptSourcesRoot + "/sources.list.d/" + name + aptListSuffix
	present := args.String("state") == "present"

	s := newScript(rt).set("root", aptSourcesRoot)
	s.line(`set +f
for f in "$root/sources.list" "$root"/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  say file "$f"
  say64 content "$f"
done`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	var order []string
	for i, p := range r["file"] {
		b, err := base64.StdEncoding.DecodeString(r["content"][i])
		if err != nil {
			return nil, fmt.Errorf("reading %s: bad encoding from host: %w", p, err)
		}
		files[p] = string(b)
		order = append(order, p)
	}
	changed, deleted := aptSourcesEdit(files, order, want, present, target)
	res := &module.Result{Data: map[string]any{"repo": repo, "state": args.String("state"),
		"sources_added": []any{}, "sources_removed": []any{}}}
	if len(changed) == 0 && len(deleted) == 0 {
		return res, nil
	}
	res.Changed = true
	var paths []string
	for p := range changed {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	if present {
		res.Data["sources_added"] = strs(paths)
	} else {
		res.Data["sources_removed"] = strs(append(append([]string{}, paths...), deleted...))
	}
	if rt.Diff {
		for _, p := range paths {
			res.Diff = append(res.Diff, module.Diff{BeforeHeader: p, AfterHeader: p, Before: files[p], After: changed[p]})
		}
		for _, p := range deleted {
			res.Diff = append(res.Diff, module.Diff{BeforeHeader: p, AfterHeader: p + " (deleted)", Before: files[p]})
		}
	}
	if rt.Check {
		return res, nil
	}
	ws := newScript(rt).set("front", "apt_repository").set("locktimeout", "120").setb("UPDATE", false).set("valid", "0")
	ws.line(`saved=$(mktemp -d) || die "cannot create a temporary folder"
n=0
# revert puts back every file as it was: apt must not be left with a
# source that breaks apt-get update.
revert() {
  for k in $(seq 1 "$n"); do
    eval "p=\$path_$k"
    if [ -e "$saved/$k" ]; then cp -p "$saved/$k" "$p"; else rm -f "$p"; fi
  done
  rm -rf "$saved"
}
save() {
  n=$((n + 1)); eval "path_$n=\$1"
  if [ -e "$1" ]; then cp -p "$1" "$saved/$n" || { revert; die "cannot save $1"; }; fi
}`)
	for _, p := range paths {
		ws.set("dest", p).set("mode", normMode(args.String("mode")))
		ws.line(`save "$dest"
mkdir -p "$(dirname "$dest")" || { revert; die "cannot create $(dirname "$dest")"; }
tmp=$(mktemp "$(dirname "$dest")/.tpago.XXXXXX") || { revert; die "cannot write in $(dirname "$dest")"; }
if [ -e "$dest" ]; then chmod --reference="$dest" "$tmp"; else chmod 0644 "$tmp"; fi
[ -z "$mode" ] || chmod "$mode" "$tmp" || { rm -f "$tmp"; revert; die "cannot set mode $mode"; }`)
		ws.data([]byte(changed[p]), `"$tmp" || { rm -f "$tmp"; revert; die "cannot write $dest"; }`)
		ws.line(`mv -f "$tmp" "$dest" || { rm -f "$tmp"; revert; die "cannot replace $dest"; }`)
	}
	for _, p := range deleted {
		ws.set("dest", p).line(`save "$dest"; rm -f "$dest" || { revert; die "cannot remove $dest"; }`)
	}
	ws.line(aptCommon)
	if args.Bool("update_cache") {
		ws.line(`if aptget update; then say cache_updated 1; else revert; aptfail "apt-get update failed, the sources are as they were"; fi`)
	}
	ws.line(`rm -rf "$saved"`)
	if _, _, err := run(ctx, rt, ws); err != nil {
		return nil, err
	}
	return res, nil
}

var _ module.Module = (*AptRepository)(nil)

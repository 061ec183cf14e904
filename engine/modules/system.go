package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&AuthorizedKey{})
	module.Register(&Hostname{})
	module.Register(&Sysctl{})
}

// AuthorizedKey manages a user's ~/.ssh/authorized_keys.
type AuthorizedKey struct{}

// Spec implements module.Module.
func (*AuthorizedKey) Spec() module.Spec {
	return module.Spec{
		Name:  "authorized_key",
		Check: module.CheckPredicts,
		Doc:   "Add or remove SSH public keys in a user's authorized_keys file",
		Args: []module.Arg{
			{Name: "user", Type: module.String, Required: true, Doc: "the user whose file is managed"},
			{Name: "key", Type: module.String, Required: true, Doc: "one or more public keys, one per line"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "whether the keys should be there"},
			{Name: "exclusive", Type: module.Bool, Default: false, Doc: "remove every other key from the file"},
			{Name: "path", Type: module.String, Doc: "file to manage (default ~user/.ssh/authorized_keys)"},
			{Name: "manage_dir", Type: module.Bool, Default: true, Doc: "create the file's directory, owned by the user, mode 0700"},
			{Name: "key_options", Type: module.String, Doc: "options to put in front of each key (e.g. from=\"10.0.0.0/8\")"},
			{Name: "comment", Type: module.String, Doc: "replace the keys' comments"},
		},
	}
}

// sshKey is one authorized_keys line.
type sshKey struct {
	options, typ, blob, comment string
}

func isKeyType(s string) bool {
	return strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "ecdsa-sha2-") || strings.HasPrefix(s, "sk-")
}

// parseKey parses an authorized_keys line; ok is false for blanks, comments
// and lines that are not keys.
func parseKey(line string) (sshKey, bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return sshKey{}, false
	}
	// Options come first and may hold quoted spaces: find the key type.
	var opts string
	rest := line
	if f := strings.Fields(line); !isKeyType(f[0]) {
		inQ := false
		for i, c := range line {
			if c == '"' {
				inQ = !inQ
			}
			if !inQ && (c == ' ' || c == '\t') {
				opts, rest = line[:i], strings.TrimSpace(line[i:])
				break
			}
		}
	}
	f := strings.SplitN(rest, " ", 3)
	if len(f) < 2 || !isKeyType(f[0]) {
		return sshKey{}, false
	}
	k := sshKey{options: opts, typ: f[0], blob: f[1]}
	if len(f) == 3 {
		k.comment = strings.TrimSpace(f[2])
	}
	return k, true
}

func (k sshKey) String() string {
	s := k.typ + " " + k.blob
	if k.options != "" {
		s = k.options + " " + s
	}
	if k.comment != "" {
		s += " " + k.comment
	}
	return s
}

// authorizedKeys computes the new file content.
func authorizedKeys(old string, want []sshKey, present, exclusive bool) string {
	id := func(k sshKey) string { return k.typ + " " + k.blob }
	wanted := map[string]sshKey{}
	for _, k := range want {
		wanted[id(k)] = k
	}
	var out []string
	done := map[string]bool{}
	for _, l := range strings.Split(strings.TrimRight(old, "\n"), "\n") {
		k, ok := parseKey(l)
		if !ok {
			if !exclusive && l != "" {
				out = append(out, l)
			}
			continue
		}
		w, isWanted := wanted[id(k)]
		switch {
		case !present && isWanted:
		case present && isWanted && !done[id(k)]:
			out = append(out, w.String())
			done[id(k)] = true
		case present && isWanted:
		case exclusive:
		default:
			out = append(out, l)
		}
	}
	if present {
		for _, k := range want {
			if !done[id(k)] {
				out = append(out, k.String())
				done[id(k)] = true
			}
		}
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// Run implements module.Module.
func (*AuthorizedKey) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	user := args.String("user")
	var want []sshKey
	for i, l := range strings.Split(args.String("key"), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		k, ok := parseKey(l)
		if !ok {
			return nil, fmt.Errorf("key: line %d is not an SSH public key: %q", i+1, strings.TrimSpace(l))
		}
		if args.Has("key_options") {
			k.options = args.String("key_options")
		}
		if args.Has("comment") {
			k.comment = args.String("comment")
		}
		want = append(want, k)
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("key: no public key given")
	}
	s := newScript(rt).set("user", user).set("path", args.String("path"))
	s.line(`ent=$(getent passwd "$user") || die "user $user does not exist"
home=$(echo "$ent" | cut -d: -f6)
say home "$home"; say gid "$(echo "$ent" | cut -d: -f4)"
[ -n "$path" ] || path=$home/.ssh/authorized_keys
say path "$path"
if [ -e "$path" ]; then say exists 1; say64 content "$path"; fi`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	path := r.get("path")
	var old []byte
	if r.flag("exists") {
		if old, err = r.bytes("content"); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
	}
	present := args.String("state") == "present"
	content := authorizedKeys(string(old), want, present, args.Bool("exclusive"))
	res := &module.Result{Data: map[string]any{"user": user, "path": path, "key": args.String("key"),
		"state": args.String("state"), "exclusive": args.Bool("exclusive")}}
	if content == string(old) && (r.flag("exists") || !present) {
		return res, nil
	}
	attrs := module.Args{"owner": user, "group": r.get("gid"), "mode": "0600"}
	p := &putFile{dest: path, content: []byte(content), attrs: attrs}
	if args.Bool("manage_dir") {
		p.pre = `kd=$(dirname "$dest")
if [ ! -d "$kd" ]; then
  say dir_created 1
  if [ "$CHECK" = 0 ]; then mkdir -p "$kd" && chmod 0700 "$kd" && chown ` + conn.Quote(user) + `: "$kd" || die "cannot create $kd"; fi
fi`
		p.mkdir = true
	}
	wr, _, err := run(ctx, rt, p.script(noDiff(rt)))
	if err != nil {
		return nil, err
	}
	res.Changed = wr.flag("content_changed") || wr.flag("attrs_changed") || wr.flag("dir_created")
	if res.Changed && rt.Diff {
		res.Diff = []module.Diff{{BeforeHeader: path, AfterHeader: path, Before: string(old), After: content}}
	}
	return res, nil
}

// Hostname sets the host's name.
type Hostname struct{}

// Spec implements module.Module.
func (*Hostname) Spec() module.Spec {
	return module.Spec{
		Name:  "hostname",
		Check: module.CheckPredicts,
		Doc:   "Set the host's name in /etc/hostname and in the running system",
		Args: []module.Arg{
			{Name: "name", Type: module.String, Required: true, Doc: "the host name"},
			{Name: "use", Type: module.String, Choices: []string{"debian", "systemd", "generic"}, Doc: "accepted for compatibility; /etc/hostname and hostname(1) are used"},
		},
	}
}

// Run implements module.Module.
func (*Hostname) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	name := args.String("name")
	if name == "" || strings.ContainsAny(name, " \t\n/") {
		return nil, fmt.Errorf("name: %q is not a valid host name", name)
	}
	s := newScript(rt).set("name", name)
	s.line(`cur=$(cat /etc/hostname 2>/dev/null | head -n1)
run=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)
say file_before "$cur"; say running_before "$run"
if [ "$cur" != "$name" ]; then
  say changed 1
  if [ "$CHECK" = 0 ]; then
    tmp=$(mktemp /etc/.hostname.XXXXXX) || die "cannot write in /etc"
    printf '%s\n' "$name" > "$tmp" && chmod 0644 "$tmp"
    # /etc/hostname may be a mount point (containers): then write in place.
    mv -f "$tmp" /etc/hostname 2>/dev/null || { cat "$tmp" > /etc/hostname; r=$?; rm -f "$tmp"; [ "$r" = 0 ] || die "cannot write /etc/hostname"; }
  fi
fi
if [ "$run" != "$name" ]; then
  if [ -w /proc/sys/kernel/hostname ]; then
    if [ "$CHECK" = 1 ]; then say changed 1
    elif e=$(hostname "$name" 2>&1); then say changed 1
    else say warn "/etc/hostname is set but the running host name could not be changed: $e"; fi
  else
    say warn "/etc/hostname is set but the running host name cannot be changed here (read-only, as in a container)"
  fi
fi`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	res := &module.Result{Changed: r.flag("changed"), Data: map[string]any{
		"ansible_facts": map[string]any{"ansible_hostname": strings.SplitN(name, ".", 2)[0], "ansible_nodename": name}}}
	if w := r.get("warn"); w != "" {
		res.Msg = "warning: " + w
		res.Data["warnings"] = []any{w}
	}
	if res.Changed && rt.Diff {
		res.Diff = []module.Diff{stateDiff("hostname", "hostname = "+r.get("file_before"), "hostname = "+name)}
	}
	return res, nil
}

// Sysctl sets kernel parameters in a sysctl file and in the running kernel.
type Sysctl struct{}

// Spec implements module.Module.
func (*Sysctl) Spec() module.Spec {
	return module.Spec{
		Name:  "sysctl",
		Check: module.CheckPredicts,
		Doc:   "Set a kernel parameter in a sysctl file and, optionally, in the running kernel",
		Args: []module.Arg{
			{Name: "name", Type: module.String, Required: true, Aliases: []string{"key"}, Doc: "parameter, e.g. vm.swappiness"},
			{Name: "value", Type: module.String, Aliases: []string{"val"}, Doc: "the value (required with state=present)"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "whether the setting should be in the file"},
			{Name: "sysctl_file", Type: module.String, Default: "/etc/sysctl.conf", Doc: "file holding the setting"},
			{Name: "reload", Type: module.Bool, Default: true, Doc: "load the file with sysctl -p when it changed"},
			{Name: "sysctl_set", Type: module.Bool, Default: false, Doc: "also check and set the value in the running kernel with sysctl -w"},
			{Name: "ignoreerrors", Type: module.Bool, Default: false, Doc: "warn instead of failing when the kernel refuses the value (e.g. read-only in containers)"},
		},
	}
}

func normValue(v string) string { return strings.Join(strings.Fields(v), " ") }

// sysctlEdit rewrites a sysctl file's lines for name.
func sysctlEdit(old, name, value string, present bool) string {
	var out []string
	done := false
	for _, l := range strings.Split(strings.TrimSuffix(old, "\n"), "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") && !strings.HasPrefix(t, ";") {
			if k, _, ok := strings.Cut(t, "="); ok && strings.TrimSpace(k) == name {
				if present && !done {
					out = append(out, name+"="+value)
					done = true
				}
				continue
			}
		}
		if l != "" || len(out) > 0 {
			out = append(out, l)
		}
	}
	if present && !done {
		out = append(out, name+"="+value)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// fileValue is the value name has in a sysctl file ("" when absent).
func fileValue(content, name string) (string, bool) {
	v, found := "", false
	for _, l := range strings.Split(content, "\n") {
		t := strings.TrimSpace(l)
		if k, val, ok := strings.Cut(t, "="); ok && !strings.HasPrefix(t, "#") && strings.TrimSpace(k) == name {
			v, found = normValue(val), true
		}
	}
	return v, found
}

// Run implements module.Module.
func (*Sysctl) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	name, value := args.String("name"), normValue(args.String("value"))
	present := args.String("state") == "present"
	if present && value == "" {
		return nil, fmt.Errorf("value is required with state=present")
	}
	if strings.ContainsAny(name, " \t\n=") {
		return nil, fmt.Errorf("name: %q is not a valid sysctl name", name)
	}
	file := args.String("sysctl_file")
	s := newScript(rt).set("f", file).set("name", name)
	s.line(`[ -e "$f" ] && { say exists 1; say64 content "$f"; }
v=$(sysctl -n "$name" 2>/dev/null) && say running "$v"
[ -w "/proc/sys/$(echo "$name" | tr . /)" ] && say writable 1
true`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	var old []byte
	if r.flag("exists") {
		if old, err = r.bytes("content"); err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
	}
	content := sysctlEdit(string(old), name, value, present)
	fileChanged := content != string(old) && (r.flag("exists") || present)
	running := normValue(r.get("running"))
	setRunning := present && args.Bool("sysctl_set") && running != value
	res := &module.Result{Data: map[string]any{"name": name, "value": value, "sysctl_file": file}}
	if setRunning && !r.flag("writable") && args.Bool("ignoreerrors") {
		setRunning = false
		w := fmt.Sprintf("%s cannot be set in the running kernel here (read-only, as in a container); it is %q", name, running)
		res.Msg = "warning: " + w
		res.Data["warnings"] = []any{w}
	}
	if r.has("running") {
		res.Data["running_value"] = running
	}
	if !fileChanged && !setRunning {
		return res, nil
	}
	res.Changed = true
	if rt.Diff {
		res.Diff = []module.Diff{{BeforeHeader: file, AfterHeader: file, Before: string(old), After: content}}
		if setRunning {
			res.Diff = append(res.Diff, stateDiff(name+" (running)", running, value))
		}
	}
	if rt.Check {
		return res, nil
	}
	var ws *script
	if fileChanged {
		p := &putFile{dest: file, content: []byte(content), mkdir: true}
		ws = p.script(noDiff(rt))
	} else {
		ws = newScript(rt)
	}
	ws.set("name", name).set("value", value).set("f", file).setb("IGN", args.Bool("ignoreerrors"))
	if fileChanged && args.Bool("reload") && present {
		ws.line(`if [ "$IGN" = 1 ]; then e=$(sysctl -e -p "$f" 2>&1) || say warn "sysctl -p $f: $e"
else e=$(sysctl -p "$f" 2>&1) || die "Failed to reload sysctl: $e"; fi`)
	}
	if setRunning {
		ws.line(`if [ "$IGN" = 1 ]; then e=$(sysctl -w "$name=$value" 2>&1) || say warn "sysctl -w $name: $e"
else e=$(sysctl -w "$name=$value" 2>&1) || die "setting $name=$value failed: $e"; fi`)
	}
	wr, _, err := run(ctx, rt, ws)
	if err != nil {
		return nil, err
	}
	if w := wr.get("warn"); w != "" {
		res.Msg = "warning: " + strings.TrimSpace(w)
		res.Data["warnings"] = []any{w}
	}
	return res, nil
}

var (
	_ module.Module = (*AuthorizedKey)(nil)
	_ module.Module = (*Hostname)(nil)
	_ module.Module = (*Sysctl)(nil)
)

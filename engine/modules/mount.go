package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&Mount{}) }

// Mount manages /etc/fstab entries and the mounts themselves.
type Mount struct{}

// Spec implements module.Module.
func (*Mount) Spec() module.Spec {
	return module.Spec{
		Name:  "mount",
		Check: module.CheckPredicts,
		Doc: "Manage a mount point: its line in /etc/fstab (other lines kept byte for byte) and whether it is mounted " +
			"(ansible.posix.mount)",
		Args: []module.Arg{
			{Name: "path", Type: module.String, Required: true, Aliases: []string{"name"}, Doc: "the mount point, e.g. /mnt/data"},
			{Name: "src", Type: module.String, Doc: "device, UUID=…, LABEL=… or remote filesystem to mount (required for present and mounted)"},
			{Name: "fstype", Type: module.String, Doc: "filesystem type, e.g. ext4, xfs, tmpfs, nfs (required for present and mounted)"},
			{Name: "opts", Type: module.String, Default: "defaults", Doc: "mount options, comma-separated"},
			{Name: "dump", Type: module.String, Default: "0", Doc: "fstab's dump field"},
			{Name: "passno", Type: module.String, Default: "0", Doc: "fstab's pass field (fsck order)"},
			{Name: "state", Type: module.String, Required: true, Choices: []string{"mounted", "unmounted", "present", "absent", "remounted"},
				Doc: "present: in fstab only; mounted: in fstab and mounted (the folder made, remounted when the entry changed); " +
					"unmounted: not mounted, fstab untouched; absent: unmounted, out of fstab and the empty folder removed; remounted: remounted now (always a change)"},
			{Name: "fstab", Type: module.String, Default: "/etc/fstab", Doc: "the fstab file to edit (mount reads it with -T when it is not /etc/fstab)"},
			{Name: "boot", Type: module.Bool, Default: true, Doc: "mount at boot; false adds noauto to the options"},
			{Name: "backup", Type: module.Bool, Default: false, Doc: "keep a timestamped copy of fstab before changing it"},
			{Name: "keep_mountpoint", Type: module.Bool, Default: false, Doc: "with state=absent, leave the mount point's folder"},
		},
	}
}

// fstabEscape escapes a field as fstab(5) wants (spaces as \040).
func fstabEscape(s string) string {
	r := strings.NewReplacer(" ", `\040`, "\t", `\011`, "\n", `\012`, `\`, `\134`)
	return r.Replace(s)
}

// fstabEdit puts the entry for path in fstab content (present) or takes
// every entry for path out (not present). Lines of other mount points are
// kept byte for byte.
func fstabEdit(old string, fields []string, present bool) string {
	path := fields[1]
	entry := strings.Join(fields, " ") + "\n"
	var out strings.Builder
	found := false
	for _, l := range splitLines([]byte(old)) {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || f[1] != path {
			out.WriteString(l)
			continue
		}
		if !present {
			continue
		}
		found = true
		// An entry that says the same (the fields missing from it are
		// fstab's defaults, 0) stays as it is written.
		same := len(f) >= 4 && len(f) <= 6
		for i := 0; same && i < 6; i++ {
			v := "0"
			if i < len(f) {
				v = f[i]
			}
			same = v == fields[i]
		}
		if same {
			out.WriteString(l)
			if !strings.HasSuffix(l, "\n") {
				out.WriteString("\n")
			}
			continue
		}
		out.WriteString(entry)
	}
	if present && !found {
		s := out.String()
		if s != "" && !strings.HasSuffix(s, "\n") {
			out.WriteString("\n")
		}
		out.WriteString(entry)
	}
	return out.String()
}

// Run implements module.Module.
func (*Mount) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	path := strings.TrimRight(args.String("path"), "/")
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path: %q must be an absolute path", args.String("path"))
	}
	state := args.String("state")
	inFstab := state == "present" || state == "mounted"
	if inFstab && (args.String("src") == "" || args.String("fstype") == "") {
		return nil, fmt.Errorf("state=%s needs src and fstype", state)
	}
	opts := args.String("opts")
	if opts == "" {
		opts = "defaults"
	}
	if !args.Bool("boot") && !strings.Contains(","+opts+",", ",noauto,") {
		opts += ",noauto"
	}
	fields := []string{fstabEscape(args.String("src")), fstabEscape(path), args.String("fstype"), fstabEscape(opts),
		args.String("dump"), args.String("passno")}
	for _, v := range []string{"fstype", "dump", "passno"} {
		if strings.ContainsAny(args.String(v), " \t\n") {
			return nil, fmt.Errorf("%s: %q holds a space", v, args.String(v))
		}
	}
	fstab := args.String("fstab")
	s := newScript(rt).set("f", fstab).set("p", path)
	s.line(`if [ -e "$f" ]; then say exists 1; say64 content "$f"; fi
if mountpoint -q "$p" 2>/dev/null; then say mounted 1; fi
if [ -d "$p" ]; then say dir 1; [ -z "$(ls -A "$p" 2>/dev/null)" ] && say empty 1; fi
true`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	var old []byte
	if r.flag("exists") {
		if old, err = r.bytes("content"); err != nil {
			return nil, fmt.Errorf("reading %s: bad encoding from host: %w", fstab, err)
		}
	}
	content := string(old)
	if state == "present" || state == "mounted" || state == "absent" {
		content = fstabEdit(string(old), fields, inFstab)
	}
	fstabChanged := content != string(old)
	mounted := r.flag("mounted")
	res := &module.Result{Data: map[string]any{"name": path, "src": args.String("src"), "fstype": args.String("fstype"),
		"opts": opts, "dump": args.String("dump"), "passno": args.String("passno"), "fstab": fstab}}
	// What to do to the mount itself: mount, umount, remount or nothing.
	action := ""
	switch state {
	case "mounted":
		if !mounted {
			action = "mount"
		} else if fstabChanged {
			action = "remount"
		}
	case "unmounted", "absent":
		if mounted {
			action = "umount"
		}
	case "remounted":
		action = "remount"
	}
	// As Ansible, absent removes the mount point's folder: when it is
	// empty (or will be, once unmounted).
	rmdir := state == "absent" && !args.Bool("keep_mountpoint") && r.flag("dir") && (r.flag("empty") || mounted)
	if !fstabChanged && action == "" && !rmdir {
		return res, nil
	}
	res.Changed = true
	if rt.Diff && fstabChanged {
		res.Diff = append(res.Diff, module.Diff{BeforeHeader: fstab, AfterHeader: fstab, Before: string(old), After: content})
	}
	if rt.Diff && (action == "mount" || action == "umount") {
		was, will := "unmounted", "mounted"
		if action == "umount" {
			was, will = will, was
		}
		res.Diff = append(res.Diff, stateDiff(path, was, will))
	}
	if rt.Check {
		return res, nil
	}
	var ws *script
	if fstabChanged {
		p := &putFile{dest: fstab, content: []byte(content), backup: args.Bool("backup")}
		ws = p.script(noDiff(rt))
	} else {
		ws = newScript(rt)
	}
	ws.set("p", path).set("f", fstab).set("action", action).setb("RMDIR", rmdir)
	ws.line(`set --; [ "$f" = /etc/fstab ] || set -- -T "$f"
case $action in
mount)
  if [ ! -d "$p" ]; then mkdir -p "$p" || die "cannot create the mount point $p"; fi
  out=$(mount "$@" "$p" 2>&1) || die "Error mounting $p: $out" ;;
remount)
  out=$(mount "$@" -o remount "$p" 2>&1) || die "Error remounting $p: $out" ;;
umount)
  out=$(umount "$p" 2>&1) || die "Error unmounting $p: $out" ;;
esac
if [ "$RMDIR" = 1 ]; then rmdir "$p" 2>/dev/null && say removed_dir 1; fi
true`)
	wr, _, err := run(ctx, rt, ws)
	if err != nil {
		return nil, err
	}
	if wr.has("backup_file") {
		res.Data["backup_file"] = wr.get("backup_file")
	}
	return res, nil
}

var _ module.Module = (*Mount)(nil)

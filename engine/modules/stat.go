package modules

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&Stat{})
	module.Register(&Slurp{})
	module.Register(&Fetch{})
	module.Register(&Ping{})
}

// Stat reports facts about a path.
type Stat struct{}

var checksumTools = map[string]string{"md5": "md5sum", "sha1": "sha1sum", "sha224": "sha224sum", "sha256": "sha256sum", "sha384": "sha384sum", "sha512": "sha512sum"}

// Spec implements module.Module.
func (*Stat) Spec() module.Spec {
	return module.Spec{
		Name: "stat",
		Doc:  "Report whether a path exists and its kind, mode, owner, size, mtime and checksum",
		Args: []module.Arg{
			{Name: "path", Type: module.String, Required: true, Aliases: []string{"dest", "name"}, Doc: "path to look at on the host"},
			{Name: "follow", Type: module.Bool, Default: false, Doc: "follow a symlink and report on its target"},
			{Name: "get_checksum", Type: module.Bool, Default: true, Doc: "compute the checksum of a regular file"},
			{Name: "checksum_algorithm", Type: module.String, Default: "sha1", Aliases: []string{"checksum", "checksum_algo"},
				Choices: []string{"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}, Doc: "checksum algorithm"},
		},
		Check: module.CheckReadOnly,
	}
}

// Run implements module.Module.
func (*Stat) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	s := newScript(rt).set("p", args.String("path")).setb("FOLLOW", args.Bool("follow")).setb("SUM", args.Bool("get_checksum")).
		set("sumtool", checksumTools[args.String("checksum_algorithm")])
	s.line(`if [ "$FOLLOW" = 1 ] && [ -L "$p" ]; then p=$(readlink -f "$p"); fi
if [ -e "$p" ] || [ -L "$p" ]; then
  say exists 1
  say st "$(stat -c '%f|%04a|%u|%g|%U|%G|%s|%Y|%X|%Z|%i|%h|%d' "$p")"
  if [ -L "$p" ]; then say lnk_target "$(readlink "$p")"; say lnk_source "$(readlink -f "$p")"; fi
  if [ "$SUM" = 1 ] && [ -f "$p" ] && [ ! -L "$p" ] && [ -r "$p" ]; then say checksum "$($sumtool < "$p" | cut -d' ' -f1)"; fi
  [ -r "$p" ] && say readable 1; [ -w "$p" ] && say writeable 1; [ -x "$p" ] && say executable 1
fi
true`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	st := map[string]any{"exists": r.flag("exists")}
	if r.flag("exists") {
		f := strings.Split(r.get("st"), "|")
		if len(f) != 13 {
			return nil, fmt.Errorf("unexpected stat output %q", r.get("st"))
		}
		raw, _ := strconv.ParseUint(f[0], 16, 32)
		kind := raw & 0o170000
		num := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
		st["path"] = args.String("path")
		st["mode"] = f[1]
		st["isdir"] = kind == 0o040000
		st["isreg"] = kind == 0o100000
		st["islnk"] = kind == 0o120000
		st["isfifo"] = kind == 0o010000
		st["issock"] = kind == 0o140000
		st["ischr"] = kind == 0o020000
		st["isblk"] = kind == 0o060000
		st["uid"], st["gid"] = num(f[2]), num(f[3])
		st["pw_name"], st["gr_name"] = f[4], f[5]
		st["size"] = num(f[6])
		st["mtime"], st["atime"], st["ctime"] = num(f[7]), num(f[8]), num(f[9])
		st["inode"], st["nlink"], st["dev"] = num(f[10]), num(f[11]), num(f[12])
		st["readable"], st["writeable"], st["executable"] = r.flag("readable"), r.flag("writeable"), r.flag("executable")
		if r.has("checksum") {
			st["checksum"] = r.get("checksum")
		}
		if r.has("lnk_source") {
			st["lnk_source"] = r.get("lnk_source")
			st["lnk_target"] = r.get("lnk_target")
		}
	}
	return &module.Result{Data: map[string]any{"stat": st}}, nil
}

// Slurp returns a file's content, base64-encoded.
type Slurp struct{}

// Spec implements module.Module.
func (*Slurp) Spec() module.Spec {
	return module.Spec{
		Name: "slurp",
		Doc:  "Read a file from the host; its content is returned base64-encoded (content, encoding)",
		Args: []module.Arg{
			{Name: "src", Type: module.String, Required: true, Aliases: []string{"path"}, Doc: "file to read on the host"},
		},
		Check: module.CheckReadOnly,
	}
}

// Run implements module.Module.
func (*Slurp) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	src := args.String("src")
	s := newScript(rt).set("p", src)
	s.line(`[ -e "$p" ] || die "file not found: $p"
[ -d "$p" ] && die "source is a directory and must be a file: $p"
[ -r "$p" ] || die "file is not readable: $p"
say64 content "$p"`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	return &module.Result{Data: map[string]any{"content": r.get("content"), "encoding": "base64", "source": src}}, nil
}

// Fetch copies a file from the host to the control machine.
type Fetch struct{}

// Spec implements module.Module.
func (*Fetch) Spec() module.Spec {
	return module.Spec{
		Name:  "fetch",
		Check: module.CheckPredicts,
		Doc:   "Copy a file from the host to the control machine, under dest/<host>/<path> unless flat",
		Args: []module.Arg{
			{Name: "src", Type: module.String, Required: true, Doc: "file to fetch on the host"},
			{Name: "dest", Type: module.String, Required: true, Doc: "directory (or, with flat, file) on the control machine"},
			{Name: "flat", Type: module.Bool, Default: false, Doc: "write to dest itself (or dest/basename when dest ends in /), without host and path"},
			{Name: "fail_on_missing", Type: module.Bool, Default: true, Doc: "fail when src does not exist on the host"},
			{Name: "validate_checksum", Type: module.Bool, Default: true, Doc: "verify the fetched file's checksum"},
		},
	}
}

// Run implements module.Module.
func (*Fetch) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	src, dest := args.String("src"), args.String("dest")
	var local string
	switch {
	case args.Bool("flat") && strings.HasSuffix(dest, "/"):
		local = filepath.Join(dest, path.Base(src))
	case args.Bool("flat"):
		local = dest
	default:
		// The host's name is one folder under dest: a name that is not a
		// plain file name (../x, a/b) would write elsewhere.
		if rt.Host == "" || rt.Host == "." || rt.Host == ".." || strings.ContainsAny(rt.Host, "/\\\x00") {
			return nil, fmt.Errorf("fetch: host name %q cannot name a folder under %s; use flat: true with a dest of your own", rt.Host, dest)
		}
		local = filepath.Join(dest, rt.Host, filepath.FromSlash(path.Clean("/"+src)))
		if rel, err := filepath.Rel(filepath.Clean(dest), local); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("fetch: %s is outside %s", local, dest)
		}
	}
	have := ""
	if data, err := os.ReadFile(local); err == nil {
		sum := sha1.Sum(data)
		have = hex.EncodeToString(sum[:])
	}
	s := newScript(rt).set("p", src).set("have", have)
	s.line(`if [ ! -e "$p" ]; then say missing 1; exit 0; fi
[ -d "$p" ] && die "remote file is a directory, fetch cannot work on directories: $p"
[ -r "$p" ] || die "file is not readable: $p"
sum=$(sha1sum < "$p" | cut -d' ' -f1)
say checksum "$sum"
[ "$sum" = "$have" ] || say64 content "$p"`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	res := &module.Result{Data: map[string]any{"dest": local, "file": src}}
	if r.flag("missing") {
		if args.Bool("fail_on_missing") {
			return nil, fmt.Errorf("the remote file does not exist: %s", src)
		}
		res.Msg = "the remote file does not exist, not transferring, ignored"
		return res, nil
	}
	sum := r.get("checksum")
	res.Data["checksum"] = sum
	res.Data["remote_checksum"] = sum
	if !r.has("content") {
		return res, nil
	}
	data, err := r.bytes("content")
	if err != nil {
		return nil, fmt.Errorf("fetch %s: bad encoding from host: %w", src, err)
	}
	got := sha1.Sum(data)
	if args.Bool("validate_checksum") && hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("fetch %s: checksum mismatch (file changed while being read?)", src)
	}
	res.Changed = true
	if rt.Check {
		return res, nil
	}
	if err := writeLocal(local, data); err != nil {
		return nil, err
	}
	return res, nil
}

// writeLocal writes a file on the control machine atomically.
func writeLocal(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tpago-fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

// Ping checks that the host runs scripts.
type Ping struct{}

// Spec implements module.Module.
func (*Ping) Spec() module.Spec {
	return module.Spec{
		Name: "ping",
		Doc:  "Check that the host can be reached and runs commands; returns ping: pong",
		Args: []module.Arg{
			{Name: "data", Type: module.String, Default: "pong", Doc: "what to return under ping; \"crash\" makes the module fail"},
		},
		Check: module.CheckReadOnly,
	}
}

// Run implements module.Module.
func (*Ping) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	data := args.String("data")
	if data == "crash" {
		return nil, fmt.Errorf("boom")
	}
	r, _, err := run(ctx, rt, newScript(rt).set("d", data).line(`say ping "$d"`))
	if err != nil {
		return nil, err
	}
	return &module.Result{Data: map[string]any{"ping": r.get("ping")}}, nil
}

var (
	_ module.Module = (*Stat)(nil)
	_ module.Module = (*Slurp)(nil)
	_ module.Module = (*Fetch)(nil)
	_ module.Module = (*Ping)(nil)
)

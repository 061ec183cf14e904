package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&Find{}) }

// Find lists the files on the host that match criteria.
type Find struct{}

// Spec implements module.Module.
func (*Find) Spec() module.Spec {
	return module.Spec{
		Name:  "find",
		Check: module.CheckReadOnly,
		Doc:   "List the files under paths on the host that match name patterns, content, type, age and size (runs python3 on the host)",
		Args: []module.Arg{
			{Name: "paths", Type: module.List, Required: true, Aliases: []string{"name", "path"}, Doc: "directories to search"},
			{Name: "patterns", Type: module.List, Default: []any{}, Aliases: []string{"pattern"}, Doc: "shell globs (or Python regexes with use_regex) that a base name must match, one of them; none: every name"},
			{Name: "excludes", Type: module.List, Default: []any{}, Aliases: []string{"exclude"}, Doc: "globs (or regexes) of base names to leave out"},
			{Name: "use_regex", Type: module.Bool, Default: false, Doc: "patterns and excludes are Python regexes (matched at the name's start) instead of globs"},
			{Name: "contains", Type: module.String, Doc: "regex a line of a regular file must match (at its start; anywhere with read_whole_file)"},
			{Name: "read_whole_file", Type: module.Bool, Default: false, Doc: "search contains anywhere in the whole file instead of line by line"},
			{Name: "file_type", Type: module.String, Default: "file", Choices: []string{"file", "directory", "link", "any"}, Doc: "kind of entry to return"},
			{Name: "recurse", Type: module.Bool, Default: false, Doc: "descend into subdirectories"},
			{Name: "depth", Type: module.Int, Doc: "with recurse, how many levels to go down (1: the paths' own entries)"},
			{Name: "hidden", Type: module.Bool, Default: false, Doc: "include names that start with a dot"},
			{Name: "follow", Type: module.Bool, Default: false, Doc: "follow symbolic links (to directories when recursing, and report on targets)"},
			{Name: "age", Type: module.String, Doc: "at least this old (e.g. 2d, 4w; s, m, h, d, w), or at most with a minus sign (-1h)"},
			{Name: "age_stamp", Type: module.String, Default: "mtime", Choices: []string{"atime", "ctime", "mtime"}, Doc: "which time age looks at"},
			{Name: "size", Type: module.String, Doc: "at least this size (e.g. 10m; b, k, m, g, t), or at most with a minus sign; regular files only"},
			{Name: "get_checksum", Type: module.Bool, Default: false, Doc: "add each regular file's sha1 checksum"},
		},
		Refused: map[string]string{
			"mode":       "filter the result: files | selectattr('mode', '==', '0644')",
			"exact_mode": "filter the result on mode instead",
			"encoding":   "contains reads files as UTF-8 (undecodable bytes ignored)",
			"limit":      "slice the result: files[:N]",
		},
	}
}

var (
	ageRE  = regexp.MustCompile(`^(-?\d+)([smhdw]?)$`)
	sizeRE = regexp.MustCompile(`^(-?\d+)([bkmgt]?)b?$`)
)

// parseAge turns find's age into seconds (negative: at most that old).
func parseAge(s string) (int64, error) {
	m := ageRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("age: %q is not a number of seconds, or a number followed by s, m, h, d or w", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	mul := map[string]int64{"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m[2]]
	return n * mul, nil
}

// parseSize turns find's size into bytes (negative: at most that size).
func parseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("size: %q is not a number of bytes, or a number followed by b, k, m, g or t", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	mul := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m[2]]
	return n * mul, nil
}

const pyFind = `import fnmatch, grp, hashlib, json, os, pwd, re, stat, sys, time
C = json.loads(sys.argv[1])
def say(k, v):
    sys.stdout.write('@T %s=%s\n' % (k, v))
def match(name, pats, regex):
    for p in pats:
        if (re.match(p, name) if regex else fnmatch.fnmatch(name, p)):
            return True
    return False
try:
    cre = re.compile(C['contains']) if C['contains'] is not None else None
    for p in C['patterns'] + C['excludes']:
        if C['use_regex']:
            re.compile(p)
except re.error as e:
    say('fail', 'bad regular expression: %s' % e)
    sys.exit(1)
def contains(path):
    try:
        with open(path, encoding='utf-8', errors='ignore') as f:
            if C['read_whole_file']:
                return cre.search(f.read()) is not None
            for line in f:
                if cre.match(line):
                    return True
    except OSError:
        pass
    return False
def info(path, st):
    m = st.st_mode
    d = {'path': path, 'mode': '%04o' % stat.S_IMODE(m), 'isdir': stat.S_ISDIR(m), 'ischr': stat.S_ISCHR(m),
         'isblk': stat.S_ISBLK(m), 'isreg': stat.S_ISREG(m), 'isfifo': stat.S_ISFIFO(m), 'islnk': stat.S_ISLNK(m),
         'issock': stat.S_ISSOCK(m), 'uid': st.st_uid, 'gid': st.st_gid, 'size': st.st_size, 'inode': st.st_ino,
         'dev': st.st_dev, 'nlink': st.st_nlink, 'atime': st.st_atime, 'mtime': st.st_mtime, 'ctime': st.st_ctime,
         'wusr': bool(m & stat.S_IWUSR), 'rusr': bool(m & stat.S_IRUSR), 'xusr': bool(m & stat.S_IXUSR),
         'wgrp': bool(m & stat.S_IWGRP), 'rgrp': bool(m & stat.S_IRGRP), 'xgrp': bool(m & stat.S_IXGRP),
         'woth': bool(m & stat.S_IWOTH), 'roth': bool(m & stat.S_IROTH), 'xoth': bool(m & stat.S_IXOTH),
         'isuid': bool(m & stat.S_ISUID), 'isgid': bool(m & stat.S_ISGID)}
    try:
        d['pw_name'] = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        d['pw_name'] = ''
    try:
        d['gr_name'] = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        d['gr_name'] = ''
    if C['get_checksum'] and stat.S_ISREG(m):
        try:
            h = hashlib.sha1()
            with open(path, 'rb') as f:
                for b in iter(lambda: f.read(1 << 16), b''):
                    h.update(b)
            d['checksum'] = h.hexdigest()
        except OSError:
            pass
    return d
now = time.time()
files, examined, skipped = [], 0, {}
for top in C['paths']:
    top = os.path.expanduser(top)
    if not os.path.isdir(top):
        skipped[top] = '%s was skipped as it does not seem to be a valid directory or it cannot be accessed' % top
        continue
    base = top.rstrip(os.sep) + os.sep
    for root, dirs, names in os.walk(top, followlinks=C['follow']):
        examined += len(dirs) + len(names)
        for name in names + dirs:
            path = os.path.normpath(os.path.join(root, name))
            if C['depth']:
                if path.count(os.sep) - base.count(os.sep) + 1 > C['depth']:
                    del dirs[:]
                    continue
            if name.startswith('.') and not C['hidden']:
                continue
            if C['patterns'] and not match(name, C['patterns'], C['use_regex']):
                continue
            if match(name, C['excludes'], C['use_regex']):
                continue
            try:
                st = os.stat(path) if C['follow'] else os.lstat(path)
            except OSError:
                st = None
            if st is None:
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
            if C['age'] is not None:
                t = getattr(st, 'st_' + C['age_stamp'])
                a = C['age']
                if not ((a >= 0 and now - t >= a) or (a < 0 and now - t <= -a)):
                    continue
            m, ft = st.st_mode, C['file_type']
            if stat.S_ISDIR(m):
                ok = ft in ('directory', 'any')
            elif stat.S_ISLNK(m):
                ok = ft in ('link', 'any')
            elif stat.S_ISREG(m):
                ok = ft in ('file', 'any')
                if ok and C['size'] is not None:
                    s = C['size']
                    ok = (s >= 0 and st.st_size >= s) or (s < 0 and st.st_size <= -s)
                if ok and cre is not None:
                    ok = contains(path)
            else:
                ok = ft == 'any'
            if ok and cre is not None and not stat.S_ISREG(m):
                ok = False
            if ok:
                files.append(info(path, st))
        if not C['recurse']:
            break
say('json', json.dumps({'files': files, 'examined': examined, 'skipped_paths': skipped}))
`

// Run implements module.Module.
func (*Find) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	cfg := map[string]any{
		"paths": args.Strings("paths"), "patterns": args.Strings("patterns"), "excludes": args.Strings("excludes"),
		"use_regex": args.Bool("use_regex"), "read_whole_file": args.Bool("read_whole_file"),
		"file_type": args.String("file_type"), "recurse": args.Bool("recurse"), "depth": args.Int("depth"),
		"hidden": args.Bool("hidden"), "follow": args.Bool("follow"), "age_stamp": args.String("age_stamp"),
		"get_checksum": args.Bool("get_checksum"), "contains": nil, "age": nil, "size": nil,
	}
	if !args.Bool("recurse") {
		cfg["depth"] = 0
	}
	if args.Has("contains") {
		cfg["contains"] = args.String("contains")
	}
	if args.Has("age") {
		a, err := parseAge(args.String("age"))
		if err != nil {
			return nil, err
		}
		cfg["age"] = a
	}
	if args.Has("size") {
		n, err := parseSize(args.String("size"))
		if err != nil {
			return nil, err
		}
		cfg["size"] = n
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	s := newScript(rt)
	s.line(`command -v python3 >/dev/null 2>&1 || die "find needs python3 on the host (apt: python3)"`)
	s.linef("python3 - %s <<'__TPAGO_PY__'\n%s__TPAGO_PY__", conn.Quote(string(js)), pyFind)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	var v any
	if err := decodeJSON([]byte(r.get("json")), &v); err != nil {
		return nil, fmt.Errorf("find: bad report from the host: %w", err)
	}
	rep, _ := v.(map[string]any)
	files, _ := rep["files"].([]any)
	if files == nil {
		files = []any{}
	}
	skipped, _ := rep["skipped_paths"].(map[string]any)
	res := &module.Result{Data: map[string]any{"files": files, "matched": len(files), "examined": rep["examined"],
		"skipped_paths": skipped, "msg": "All paths examined"}}
	if len(skipped) > 0 {
		res.Data["msg"] = "Not all paths examined, check warnings for details"
	}
	return res, nil
}

var _ module.Module = (*Find)(nil)

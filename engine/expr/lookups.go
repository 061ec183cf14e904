package expr

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Lookups run on the control machine, as in Ansible:
//
//	lookup(name, terms..., kw=v)   one value (several are joined with ",")
//	query(name, terms..., kw=v)    a list (also q(); lookup with wantlist=True)
//
// errors='ignore' (or 'warn') gives None (query: []) instead of failing.
// A lookup name that is not one of these is an error when the expression
// is compiled, before any host is contacted.
var lookups = map[string]func(lc lookupCall, terms []any) ([]any, error){}

func init() {
	lookups["env"] = envLookup
	lookups["file"] = fileLookup
	lookups["first_found"] = firstFoundLookup
	lookups["template"] = templateLookup
	lookups["varnames"] = varnamesLookup
	lookups["pipe"] = pipeLookup
	lookups["password"] = passwordLookup
	lookups["dict"] = dictLookup
}

// LookupNames lists the lookups, sorted.
func LookupNames() []string {
	out := make([]string, 0, len(lookups))
	for k := range lookups {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lookupName(s string) string { return strings.TrimPrefix(s, "ansible.builtin.") }

// kwargs are the keyword arguments of a lookup or query call.
type kwargs map[string]any

// lookupCall is what a lookup needs besides its terms.
type lookupCall struct {
	r    *resolver
	dirs []any // role_path, playbook_dir (may be undefined)
	kw   kwargs
}

func (lc lookupCall) str(name, dflt string) string {
	if v, ok := lc.kw[name]; ok && v != nil {
		return ToString(materialize(v))
	}
	return dflt
}

// callLookup is __lookup(query, role_path, playbook_dir, resolver, name, terms..., [kwargs]).
func callLookup(a ...any) (any, error) {
	query, _ := a[0].(bool)
	lc := lookupCall{dirs: a[1:3], kw: kwargs{}}
	lc.r, _ = a[3].(*resolver)
	a = a[4:]
	if len(a) == 0 {
		return nil, argErr("lookup", "needs the lookup's name")
	}
	name := lookupName(ToString(materialize(a[0])))
	terms := a[1:]
	if n := len(terms); n > 0 {
		if k, ok := terms[n-1].(kwargs); ok {
			lc.kw, terms = k, terms[:n-1]
		}
	}
	fn, ok := lookups[name]
	if !ok {
		return nil, argErr("lookup", "unknown lookup %q (%s)", name, strings.Join(LookupNames(), ", "))
	}
	want := query || Truthy(lc.kw["wantlist"])
	mode := lc.str("errors", "strict")
	delete(lc.kw, "wantlist")
	delete(lc.kw, "errors")
	var flat []any
	for _, t := range terms {
		t = materialize(t)
		if l, isList := toList(t); isList && name != "first_found" {
			if _, isStr := t.(string); !isStr {
				flat = append(flat, l...)
				continue
			}
		}
		flat = append(flat, t)
	}
	res, err := fn(lc, flat)
	if err != nil {
		if mode == "ignore" || mode == "warn" {
			if want {
				return []any{}, nil
			}
			return nil, nil
		}
		var ee *EvalError
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, argErr("lookup('"+name+"')", "%v", err)
	}
	if want {
		if res == nil {
			res = []any{}
		}
		return res, nil
	}
	switch len(res) {
	case 0:
		return nil, nil
	case 1:
		return res[0], nil
	}
	parts := make([]string, len(res))
	for i, v := range res {
		s, isStr := v.(string)
		if !isStr {
			return res, nil
		}
		parts[i] = s
	}
	return strings.Join(parts, ","), nil
}

func envLookup(lc lookupCall, terms []any) ([]any, error) {
	out := make([]any, 0, len(terms))
	for _, t := range terms {
		v, ok := os.LookupEnv(ToString(t))
		if !ok {
			if d, has := lc.kw["default"]; has {
				out = append(out, materialize(d))
				continue
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func fileLookup(lc lookupCall, terms []any) ([]any, error) {
	out := make([]any, 0, len(terms))
	for _, t := range terms {
		b, err := os.ReadFile(searchPath(ToString(t), "files", lc.dirs))
		if err != nil {
			return nil, pathErr(err)
		}
		out = append(out, strings.TrimRight(string(b), "\n"))
	}
	return out, nil
}

// pathErr drops Go's "open " prefix: "x.txt: no such file or directory".
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// searchPath finds a relative path in the folders Ansible searches: the
// role's subdir/ and the role, then the playbook's subdir/ and folder;
// otherwise it is left relative to the working directory.
func searchPath(p, subdir string, dirs []any) string {
	if found, ok := findPath(p, subdir, dirs); ok {
		return found
	}
	return p
}

func findPath(p, subdir string, dirs []any) (string, bool) {
	if filepath.IsAbs(p) {
		_, err := os.Stat(p)
		return p, err == nil
	}
	for _, d := range dirs {
		dir, ok := materialize(d).(string)
		if !ok || dir == "" {
			continue
		}
		for _, c := range []string{filepath.Join(dir, subdir, p), filepath.Join(dir, p)} {
			if _, err := os.Stat(c); err == nil {
				return c, true
			}
		}
	}
	_, err := os.Stat(p)
	return p, err == nil
}

// firstFoundLookup: terms are file names, or maps with files and paths.
func firstFoundLookup(lc lookupCall, terms []any) ([]any, error) {
	var files, paths []string
	addAll := func(dst *[]string, v any) {
		v = materialize(v)
		if l, ok := toList(v); ok {
			if _, isStr := v.(string); !isStr {
				for _, e := range l {
					*dst = append(*dst, ToString(e))
				}
				return
			}
		}
		if v != nil {
			*dst = append(*dst, strings.FieldsFunc(ToString(v), func(r rune) bool { return r == ',' || r == ';' })...)
		}
	}
	for _, t := range terms {
		if l, ok := toList(t); ok {
			if _, isStr := t.(string); !isStr {
				for _, e := range l {
					if m, isMap := toMap(e); isMap {
						addAll(&files, m["files"])
						addAll(&paths, m["paths"])
					} else {
						files = append(files, ToString(e))
					}
				}
				continue
			}
		}
		if m, ok := toMap(t); ok {
			addAll(&files, m["files"])
			addAll(&paths, m["paths"])
			continue
		}
		files = append(files, ToString(t))
	}
	addAll(&files, lc.kw["files"])
	addAll(&paths, lc.kw["paths"])
	for _, f := range files {
		candidates := []string{f}
		if len(paths) > 0 && !filepath.IsAbs(f) {
			candidates = nil
			for _, p := range paths {
				candidates = append(candidates, filepath.Join(p, f))
			}
		}
		for _, c := range candidates {
			if found, ok := findPath(c, "files", lc.dirs); ok {
				if abs, err := filepath.Abs(found); err == nil {
					found = abs
				}
				return []any{found}, nil
			}
		}
	}
	if Truthy(lc.kw["skip"]) {
		return nil, nil
	}
	return nil, fmt.Errorf("no file was found among %s", strings.Join(files, ", "))
}

// templateLookup renders template files with the variables of the
// expression that asks.
func templateLookup(lc lookupCall, terms []any) ([]any, error) {
	if lc.r == nil {
		return nil, errors.New("no variables to render with")
	}
	out := make([]any, 0, len(terms))
	for _, t := range terms {
		b, err := os.ReadFile(searchPath(ToString(t), "templates", lc.dirs))
		if err != nil {
			return nil, pathErr(err)
		}
		text := string(b)
		if be := currentBlockEngine(); be != nil {
			s, err := be.Render(text, &resolverScope{r: lc.r})
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			continue
		}
		v, err := lc.r.render(text)
		if err != nil {
			return nil, err
		}
		out = append(out, ToString(materialize(v)))
	}
	return out, nil
}

// NamedScope is a Scope that can list its variables (for the varnames
// lookup).
type NamedScope interface {
	Scope
	Names() []string
}

// Names implements NamedScope.
func (m MapScope) Names() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func varnamesLookup(lc lookupCall, terms []any) ([]any, error) {
	if lc.r == nil {
		return nil, errors.New("no variables to list")
	}
	ns, ok := lc.r.scope.(NamedScope)
	if !ok {
		return nil, errors.New("the variables cannot be listed here")
	}
	names := ns.Names()
	sort.Strings(names)
	var out []any
	for _, t := range terms {
		re, err := regexp.Compile(ToString(t))
		if err != nil {
			return nil, fmt.Errorf("bad regular expression %q: %v", ToString(t), err)
		}
		var found []string
		for i, n := range names {
			if re.MatchString(n) && (i == 0 || names[i-1] != n) {
				found = append(found, n)
			}
		}
		out = append(out, strings.Join(found, ","))
	}
	return out, nil
}

// pipeLookup runs each term with sh on the control machine; the output,
// without trailing white space, is the value. A command that fails is an
// error.
func pipeLookup(lc lookupCall, terms []any) ([]any, error) {
	ctx := ScopeContext(nil)
	if lc.r != nil {
		ctx = lc.r.ctx
	}
	out := make([]any, 0, len(terms))
	for _, t := range terms {
		cmd := exec.CommandContext(ctx, "sh", "-c", ToString(t))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%q: %v: %s", ToString(t), err, strings.TrimSpace(stderr.String()))
		}
		if err := CheckSize("value", stdout.Len()); err != nil {
			return nil, err
		}
		out = append(out, strings.TrimRight(stdout.String(), " \t\r\n"))
	}
	return out, nil
}

// Password character sets, by Ansible's names.
var passwordChars = map[string]string{
	"ascii_letters":   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"ascii_lowercase": "abcdefghijklmnopqrstuvwxyz",
	"ascii_uppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"digits":          "0123456789",
	"hexdigits":       "0123456789abcdefABCDEF",
	"octdigits":       "01234567",
	"punctuation":     "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
}

// passwordLookup is Ansible's password lookup: "path [length=N]
// [chars=set,...]": the password stored in the file at path, made and
// written (mode 0600) on first use; /dev/null makes a new one each time.
func passwordLookup(lc lookupCall, terms []any) ([]any, error) {
	out := make([]any, 0, len(terms))
	for _, t := range terms {
		fields := strings.Fields(ToString(t))
		if len(fields) == 0 {
			return nil, errors.New("password needs a file path")
		}
		path := fields[0]
		opts := map[string]string{}
		for k, v := range lc.kw {
			opts[k] = ToString(materialize(v))
		}
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, fmt.Errorf("password: bad option %q (want name=value)", f)
			}
			opts[k] = v
		}
		length := 20
		if s, ok := opts["length"]; ok {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("password: bad length %q", s)
			}
			length = n
		}
		chars := passwordChars["ascii_letters"] + passwordChars["digits"] + ".,:-_"
		if s, ok := opts["chars"]; ok {
			chars = ""
			for _, name := range strings.Split(s, ",") {
				if set, known := passwordChars[name]; known {
					chars += set
				} else {
					chars += name
				}
			}
		}
		if path == "/dev/null" {
			pw, err := randomString(length, chars)
			if err != nil {
				return nil, err
			}
			out = append(out, pw)
			continue
		}
		if !filepath.IsAbs(path) {
			if dir, ok := materialize(lc.dirs[1]).(string); ok && dir != "" {
				path = filepath.Join(dir, path)
			}
		}
		pw, err := storedPassword(path, length, chars)
		if err != nil {
			return nil, err
		}
		out = append(out, pw)
	}
	return out, nil
}

// storedPassword reads the password in path, or makes one and writes it
// there with mode 0600. The file appears whole (written aside, then
// linked into place), so hosts asking at once all get the same one.
func storedPassword(path string, length int, chars string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		pw, _, _ := strings.Cut(line, " salt=")
		return pw, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", pathErr(err)
	}
	pw, err := randomString(length, chars)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".password-*")
	if err != nil {
		return "", pathErr(err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(pw + "\n"); err != nil {
		f.Close()
		return "", pathErr(err)
	}
	if err := f.Close(); err != nil {
		return "", pathErr(err)
	}
	if err := os.Link(f.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return storedPassword(path, length, chars)
		}
		return "", pathErr(err)
	}
	return pw, nil
}

func randomString(n int, chars string) (string, error) {
	set := []rune(chars)
	if len(set) == 0 {
		return "", errors.New("password: no characters to choose from")
	}
	out := make([]rune, n)
	for i := range out {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return "", err
		}
		out[i] = set[k.Int64()]
	}
	return string(out), nil
}

// dictLookup gives a map's items as {key, value} maps, sorted by key.
func dictLookup(_ lookupCall, terms []any) ([]any, error) {
	var out []any
	for _, t := range terms {
		m, ok := toMap(t)
		if !ok {
			return nil, fmt.Errorf("dict needs a dict, got %s", TypeName(t))
		}
		for _, k := range sortedKeys(m) {
			out = append(out, map[string]any{"key": k, "value": m[k]})
		}
	}
	return out, nil
}

// Loading: the Loader, where files are read from, and how problems are
// collected. Plays and playbooks are in playbook.go, roles in roles.go,
// tasks in tasks.go, their keywords in keywords.go, module arguments in
// args.go, includes and the include-loop guard in includes.go.

package playbook

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/yamlx"
)

// Loader loads playbooks, task files and roles.
type Loader struct {
	// RolePaths are folders searched for roles after the playbook's own
	// roles/ folder, in order.
	RolePaths []string
	// BuiltinRoles holds the roles embedded in the binary, one folder per
	// role at its root; searched last.
	BuiltinRoles fs.FS
	// PlaybookFS holds embedded playbooks: an import_playbook whose file is
	// not on disk beside the importing playbook is read from here.
	PlaybookFS fs.FS

	errs      []error
	dropped   int // problems past MaxErrors
	pbDir     string
	files     map[string]*yamlx.Node
	roleInsts map[string]*Role
	playRoles []*Role
	// loading is the chain of files and roles being loaded, outermost
	// first: meeting one of them again is an include loop.
	loading []loading
}

// MaxErrors is how many problems a load reports at most; past it, a last
// error says how many more there are.
const MaxErrors = 1000

type loc struct {
	fsys   fs.FS
	dir    string // folder in fsys ("." for root)
	ondisk string // the real folder for fsys's root, "" when embedded
	role   *Role
}

func diskLoc(dir string) loc {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return loc{fsys: os.DirFS("/"), dir: strings.TrimPrefix(abs, "/"), ondisk: "/"}
}

// display is the name of a file for messages: its real path when on disk.
func (l loc) display(p string) string {
	if l.ondisk != "" {
		return filepath.Join(l.ondisk, p)
	}
	if l.role != nil {
		return "(built-in) roles/" + strings.TrimPrefix(p, "./")
	}
	return p
}

func (ld *Loader) fail(err error) {
	if err == nil {
		return
	}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			ld.fail(e)
		}
		return
	}
	if len(ld.errs) < MaxErrors {
		ld.errs = append(ld.errs, err)
	} else {
		ld.dropped++
	}
}

// splitErrors is each of the problems err holds (it may join several).
func splitErrors(err error) []error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var out []error
		for _, e := range joined.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return []error{err}
}

func (ld *Loader) result() error {
	if len(ld.errs) == 0 {
		return nil
	}
	errs := ld.errs
	if ld.dropped > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("%d more problems not shown (tpago reports at most %d at once)", ld.dropped, MaxErrors))
	}
	return exitcode.Bad(errors.Join(errs...))
}

func (ld *Loader) read(l loc, p string) (*yamlx.Node, error) {
	full := path.Join(l.dir, p)
	disp := l.display(full)
	if ld.files == nil {
		ld.files = map[string]*yamlx.Node{}
	}
	if n, ok := ld.files[disp]; ok {
		return n, nil
	}
	if st, err := fs.Stat(l.fsys, full); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", disp)
	}
	data, err := fs.ReadFile(l.fsys, full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: file not found", disp)
		}
		return nil, err
	}
	n, err := yamlx.ParseOne(disp, data)
	if err != nil {
		return nil, err
	}
	ld.files[disp] = n
	return n, nil
}

// Closest returns the candidate nearest to name by edit distance, if one
// is nearer than limit; ties go to the first by name, so that the
// suggestion is the same on every run.
func Closest(name string, candidates []string, limit int) string {
	best, bd := "", limit
	for _, c := range candidates {
		if d := module.Distance(name, c); d < bd || d == bd && best != "" && c < best {
			best, bd = c, d
		}
	}
	return best
}

func unknownKey(k *yamlx.Node, what string, known []string) error {
	key := k.String()
	best := Closest(key, known, 3)
	e := yamlx.Errorf(k, "unknown %s keyword %q", what, key)
	if best != "" {
		e.Hint = fmt.Sprintf("did you mean %s?", best)
	}
	return e
}

func canonical(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v;", k, m[k])
	}
	return b.String()
}

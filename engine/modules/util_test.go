package modules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
)

// localRT is a runtime on this machine, with files looked up in dir.
func localRT(t *testing.T, dir string) *module.Runtime {
	t.Helper()
	return &module.Runtime{
		Host:   "local",
		Remote: &conn.Shell{Conn: conn.Local{}},
		Find: func(kind, name string) (string, error) {
			if filepath.IsAbs(name) {
				return name, nil
			}
			return filepath.Join(dir, kind, name), nil
		},
		Render: func(name, text string) (string, error) {
			return strings.ReplaceAll(text, "{{ who }}", "world"), nil
		},
		Vars: map[string]any{},
		Logf: t.Logf,
	}
}

// runMod runs a module by name the way the executor does: normalize, then
// run.
func runMod(t *testing.T, rt *module.Runtime, name string, raw map[string]any) (*module.Result, error) {
	t.Helper()
	m, spec, ok := module.Lookup(name)
	require.True(t, ok, "module %s not registered", name)
	args, err := spec.Normalize(raw)
	require.NoError(t, err, "normalize %s %v", name, raw)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return m.Run(ctx, rt, args)
}

// mustRun runs a module that must succeed.
func mustRun(t *testing.T, rt *module.Runtime, name string, raw map[string]any) *module.Result {
	t.Helper()
	res, err := runMod(t, rt, name, raw)
	require.NoError(t, err, "%s %v", name, raw)
	require.NotNil(t, res)
	require.False(t, res.Failed, "%s failed: %s", name, res.Msg)
	return res
}

// with returns rt in check and/or diff mode.
func with(rt *module.Runtime, check, diff bool) *module.Runtime {
	c := *rt
	c.Check, c.Diff = check, diff
	return &c
}

// idempotent runs a mutating module the way users do: check mode predicts a
// change without making it (verify checks the state on disk), the real run
// changes, a second run does not, and a second check run agrees.
func idempotent(t *testing.T, rt *module.Runtime, name string, raw map[string]any, verify func(applied bool)) *module.Result {
	t.Helper()
	if verify != nil {
		verify(false)
	}
	res := mustRun(t, with(rt, true, true), name, raw)
	require.True(t, res.Changed, "check mode should predict a change")
	if verify != nil {
		verify(false)
	}
	first := mustRun(t, with(rt, false, true), name, raw)
	require.True(t, first.Changed, "first run should change")
	if verify != nil {
		verify(true)
	}
	res = mustRun(t, rt, name, raw)
	require.False(t, res.Changed, "second run should change nothing")
	res = mustRun(t, with(rt, true, true), name, raw)
	require.False(t, res.Changed, "check after apply should change nothing")
	return first
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func modeOf(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	require.NoError(t, err)
	return fi.Mode().Perm()
}

func lookup(name string) (module.Module, module.Spec, bool) { return module.Lookup(name) }

package modules

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
)

// countingRunner counts the scripts sent to the host.
type countingRunner struct {
	conn.Runner
	n int
}

func (c *countingRunner) Run(ctx context.Context, script string) (conn.Output, error) {
	c.n++
	return c.Runner.Run(ctx, script)
}

// Each task costs one round trip to the host; lineinfile and blockinfile
// pay a second one only when they change the file.
func TestOneRoundTripPerTask(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	f := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(f, []byte("a\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "files", "conf", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "conf", "one"), []byte("1\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "conf", "sub", "two"), []byte("2\n"), 0o644))
	for _, tc := range []struct {
		module string
		args   map[string]any
		trips  int
	}{
		{"copy", map[string]any{"content": "x\n", "dest": filepath.Join(dir, "c"), "mode": "0600"}, 1},
		{"copy", map[string]any{"content": "x\n", "dest": filepath.Join(dir, "c"), "mode": "0600"}, 1},
		{"file", map[string]any{"path": filepath.Join(dir, "d"), "state": "directory"}, 1},
		{"command", map[string]any{"cmd": "true"}, 1},
		{"stat", map[string]any{"path": f}, 1},
		{"lineinfile", map[string]any{"path": f, "line": "b"}, 2},
		{"lineinfile", map[string]any{"path": f, "line": "b"}, 1},
		{"lineinfile", map[string]any{"path": f, "line": "b", "mode": "0644"}, 1},
		{"blockinfile", map[string]any{"path": f, "block": "z"}, 2},
		{"blockinfile", map[string]any{"path": f, "block": "z"}, 1},
		{"copy", map[string]any{"src": "conf", "dest": filepath.Join(dir, "out") + "/"}, 1},
	} {
		cr := &countingRunner{Runner: rt.Remote}
		c := *rt
		c.Remote = cr
		mustRun(t, &c, tc.module, tc.args)
		assert.Equal(t, tc.trips, cr.n, "%s %v", tc.module, tc.args)
	}
}

// timeTask reports the mean wall time of an unchanged task.
func timeTask(t *testing.T, rt *module.Runtime, name string, args map[string]any) time.Duration {
	t.Helper()
	mustRun(t, rt, name, args)
	const n = 10
	start := time.Now()
	for range n {
		res := mustRun(t, rt, name, args)
		require.False(t, res.Changed)
	}
	return time.Since(start) / n
}

func TestRoundTripTiming(t *testing.T) {
	dir := t.TempDir()
	for _, h := range []struct {
		name string
		rt   func() *module.Runtime
		dir  string
	}{
		{"local", func() *module.Runtime { return localRT(t, dir) }, dir},
		{"ssh", func() *module.Runtime { return remoteRT(t) }, "/tmp"},
	} {
		rt := h.rt()
		for _, tc := range []struct {
			module string
			args   map[string]any
		}{
			{"file", map[string]any{"path": filepath.Join(h.dir, "timing-d"), "state": "directory"}},
			{"copy", map[string]any{"content": "x\n", "dest": filepath.Join(h.dir, "timing-c")}},
			{"lineinfile", map[string]any{"path": filepath.Join(h.dir, "timing-c"), "line": "x"}},
		} {
			t.Logf("%s: unchanged %s task: %v per task", h.name, tc.module, timeTask(t, rt, tc.module, tc.args))
		}
	}
}

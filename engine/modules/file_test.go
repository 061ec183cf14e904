package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	d := filepath.Join(dir, "a", "b")

	first := idempotent(t, rt, "file", map[string]any{"path": d, "state": "directory", "mode": "0750"}, func(applied bool) {
		assert.Equal(t, applied, exists(d))
	})
	assert.Equal(t, os.FileMode(0o750), modeOf(t, d))
	require.NotEmpty(t, first.Diff)
	assert.Equal(t, "path: "+d+"\nstate: absent\n", first.Diff[0].Before)
	assert.Equal(t, "path: "+d+"\nstate: directory\n", first.Diff[0].After)

	// Mode change on an existing directory: diff of the mode.
	first = idempotent(t, rt, "file", map[string]any{"path": d, "state": "directory", "mode": "0700"}, nil)
	require.Len(t, first.Diff, 1)
	assert.Equal(t, "mode: 0750\n", first.Diff[0].Before)
	assert.Equal(t, "mode: 0700\n", first.Diff[0].After)

	// Recursive modes.
	f := filepath.Join(d, "f")
	require.NoError(t, os.WriteFile(f, []byte("x"), 0o600))
	idempotent(t, rt, "file", map[string]any{"path": d, "recurse": true, "mode": "0755"}, func(applied bool) {
		want := os.FileMode(0o600)
		if applied {
			want = 0o755
		}
		assert.Equal(t, want, modeOf(t, f))
	})

	// Symlink, then absent.
	l := filepath.Join(dir, "link")
	idempotent(t, rt, "file", map[string]any{"path": l, "src": d, "state": "link"}, func(applied bool) {
		assert.Equal(t, applied, exists(l))
	})
	target, err := os.Readlink(l)
	require.NoError(t, err)
	assert.Equal(t, d, target)
	// Re-pointing a link.
	idempotent(t, rt, "file", map[string]any{"path": l, "src": f, "state": "link"}, nil)
	target, _ = os.Readlink(l)
	assert.Equal(t, f, target)
	// Without state, an existing link's target gets the attributes.
	res := mustRun(t, rt, "file", map[string]any{"path": l, "mode": "0640"})
	assert.True(t, res.Changed)
	assert.Equal(t, os.FileMode(0o640), modeOf(t, f))
	res = mustRun(t, rt, "file", map[string]any{"path": l, "mode": "0640"})
	assert.False(t, res.Changed)
	// A file is not replaced by a link without force.
	_, err = runMod(t, rt, "file", map[string]any{"path": f, "src": d, "state": "link"})
	require.ErrorContains(t, err, "refusing to convert")

	// Hard link.
	h := filepath.Join(dir, "hard")
	idempotent(t, rt, "file", map[string]any{"path": h, "src": f, "state": "hard"}, func(applied bool) {
		assert.Equal(t, applied, exists(h))
	})

	idempotent(t, rt, "file", map[string]any{"path": filepath.Join(dir, "a"), "state": "absent"}, func(applied bool) {
		assert.Equal(t, !applied, exists(d))
	})

	// touch creates, and always reports a change; state=file needs the file.
	tf := filepath.Join(dir, "t")
	res = mustRun(t, rt, "file", map[string]any{"path": tf, "state": "touch", "mode": "0600"})
	assert.True(t, res.Changed)
	assert.Equal(t, os.FileMode(0o600), modeOf(t, tf))
	res = mustRun(t, rt, "file", map[string]any{"path": tf, "mode": "0600"})
	assert.False(t, res.Changed)
	_, err = runMod(t, rt, "file", map[string]any{"path": filepath.Join(dir, "missing"), "state": "file"})
	require.ErrorContains(t, err, "is absent, cannot continue")
}

package modules

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// file: state=directory gives mode and owner to every folder it makes, as
// Ansible does (checked with ansible-core: a/b/c made with mode 0700 and
// owner nobody are all 0700 and nobody's); folders that were there keep
// theirs.
func TestFileDirectoryParentsGetModeAndOwner(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	rt := localRT(t, dir)
	p := filepath.Join(dir, "a", "b", "c")
	args := map[string]any{"path": p, "state": "directory", "mode": "0700"}
	owner := os.Geteuid() == 0
	if owner {
		args["owner"] = "nobody"
	}
	idempotent(t, rt, "file", args, func(applied bool) {
		assert.Equal(t, applied, exists(p))
	})
	for _, d := range []string{filepath.Join(dir, "a"), filepath.Join(dir, "a", "b"), p} {
		assert.Equal(t, os.FileMode(0o700), modeOf(t, d), d)
		if owner {
			fi, err := os.Stat(d)
			require.NoError(t, err)
			assert.Equal(t, uint32(65534), fi.Sys().(*syscall.Stat_t).Uid, "%s belongs to nobody", d)
		}
	}
	assert.Equal(t, os.FileMode(0o755), modeOf(t, dir), "a folder that was there keeps its mode")

	// A relative path, and one whose parents all exist.
	mustRun(t, rt, "file", map[string]any{"path": filepath.Join(dir, "a", "b", "d"), "state": "directory", "mode": "0750"})
	assert.Equal(t, os.FileMode(0o700), modeOf(t, filepath.Join(dir, "a", "b")))
	assert.Equal(t, os.FileMode(0o750), modeOf(t, filepath.Join(dir, "a", "b", "d")))
}

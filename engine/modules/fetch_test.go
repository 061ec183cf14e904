package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fetch writes under dest/<host>/ only: an inventory host name that would
// climb out of dest is refused, and nothing is written outside.
func TestFetchStaysUnderDest(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.WriteFile(src, []byte("data\n"), 0o644))
	dest := filepath.Join(dir, "fetched")
	for _, host := range []string{"../escape", "..", "a/../../escape", `..\escape`, "."} {
		t.Run(host, func(t *testing.T) {
			rt := localRT(t, dir)
			rt.Host = host
			_, err := runMod(t, rt, "fetch", map[string]any{"src": src, "dest": dest})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "cannot name a folder")
			assert.NoDirExists(t, filepath.Join(dir, "escape"))
			assert.NoFileExists(t, filepath.Join(dir, filepath.Base(src), "src"))
		})
	}
	rt := localRT(t, dir)
	rt.Host = "node-1.example"
	mustRun(t, rt, "fetch", map[string]any{"src": src, "dest": dest})
	assert.FileExists(t, filepath.Join(dest, "node-1.example", src))
}

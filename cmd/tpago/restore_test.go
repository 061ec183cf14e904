package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restore-test on a platform that cannot make a scratch host is bad input
// (exit 2, nothing touched), not a failed restore (it exited 1).
func TestRestoreTestOnBareIsRefused(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "..", "architectures", "m1", "testdata", "bare-repmgr-n3.golden"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "known_hosts"), nil, 0o600))

	out, code, err := runCLI(t, "restore-test", dir)
	require.Error(t, err, out)
	assert.Equal(t, 2, code, "%s%v", out, err)
	assert.Contains(t, err.Error(), "restore-test makes a scratch host to restore on: the bare platform cannot (coyote is on it)")
}

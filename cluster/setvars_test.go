package cluster

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const setVarsConfig = `# my cluster
architecture: M1
cluster_name: c
cluster_vars:
  failover_manager: repmgr   # chosen at configure
  postgres_version: "15"
  postgres_package_version: 15.18-0+deb12u1
instances:
  - Name: one
    node: 1
    platform: bare
    role: [primary]
`

func TestSetClusterVarsEditsInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yml")
	require.NoError(t, os.WriteFile(path, []byte(setVarsConfig), 0o640))
	require.NoError(t, SetClusterVars(path, map[string]string{
		"postgres_package_version": "15.20-0+deb12u1",
		"repmgr_package_version":   "5.3.3-2",
	}))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, `# my cluster
architecture: M1
cluster_name: c
cluster_vars:
  repmgr_package_version: "5.3.3-2"
  failover_manager: repmgr   # chosen at configure
  postgres_version: "15"
  postgres_package_version: "15.20-0+deb12u1"
instances:
  - Name: one
    node: 1
    platform: bare
    role: [primary]
`, string(data), "the user's comments and order stay")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
}

func TestSetClusterVarsRefusesWhatItCannotEdit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yml")
	flow := "architecture: M1\ncluster_name: c\ncluster_vars: {}\ninstances:\n  - Name: one\n    node: 1\n    platform: bare\n    role: [primary]\n"
	require.NoError(t, os.WriteFile(path, []byte(flow), 0o644))
	err := SetClusterVars(path, map[string]string{"postgres_package_version": "15.20"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "by hand")
	data, _ := os.ReadFile(path)
	assert.Equal(t, flow, string(data), "left unchanged")
}

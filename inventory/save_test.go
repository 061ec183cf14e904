package inventory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleInventory() *Inventory {
	inv := New()
	inv.Groups["all"].Vars["cluster_name"] = "s"
	inv.AddHost("b", "web", "db")
	inv.AddHost("a", "db")
	inv.AddHost("lonely")
	inv.Groups["ungrouped"].Hosts = []string{"lonely"}
	inv.Hosts["b"].Vars = map[string]any{"z": 1, "a": map[string]any{"y": "2", "x": []any{"p", "q"}}}
	inv.Groups["db"].Vars["port"] = 5432
	inv.AddGroup("servers").Children = []string{"web", "db"}
	return inv
}

func TestSaveIsDeterministicAndAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inventory.yml")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))

	require.NoError(t, Save(sampleInventory(), path))
	first, err := os.ReadFile(path)
	require.NoError(t, err)
	for range 20 {
		require.NoError(t, Save(sampleInventory(), path))
		again, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, string(first), string(again), "map order never shows")
	}
	assert.Equal(t, `all:
  vars:
    cluster_name: s
  hosts:
    b:
      a:
        x:
          - p
          - q
        "y": "2"
      z: 1
    a: {}
    lonely: {}
  children:
    ungrouped:
      hosts:
        lonely: {}
    web:
      hosts:
        b: {}
    db:
      hosts:
        b: {}
        a: {}
      vars:
        port: 5432
    servers:
      children:
        web: {}
        db: {}
`, string(first))

	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")
}

func TestSaveFailsCleanly(t *testing.T) {
	err := Save(sampleInventory(), filepath.Join(t.TempDir(), "missing", "inventory.yml"))
	require.Error(t, err)
}

package roles

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every role folder on disk must be embedded, and every embedded file must
// be the same as on disk.
func TestEveryRoleIsEmbedded(t *testing.T) {
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		_, err := fs.Stat(FS, e.Name())
		assert.NoError(t, err, "role folder %s is not in the //go:embed line of embed.go", e.Name())
	}
	require.Greater(t, n, 0)
	require.NoError(t, fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		assert.False(t, strings.HasSuffix(path, ".go"), "%s: Go files do not belong in the roles", path)
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		got, err := fs.ReadFile(FS, path)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), path)
		return nil
	}))
}

// Every YAML file of the roles parses, and task files are lists.
func TestRoleYAMLParses(t *testing.T) {
	tests := []struct {
		dir  string
		list bool
	}{
		{"tasks", true},
		{"handlers", true},
		{"defaults", false},
		{"vars", false},
		{"meta", false},
	}
	seen := 0
	require.NoError(t, fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() || !strings.HasSuffix(path, ".yml") {
			return nil
		}
		data, err := fs.ReadFile(FS, path)
		require.NoError(t, err)
		for _, tt := range tests {
			if !strings.Contains(path, "/"+tt.dir+"/") {
				continue
			}
			seen++
			if tt.list {
				var v []map[string]any
				assert.NoError(t, yaml.Unmarshal(data, &v), path)
				assert.NotEmpty(t, v, path)
			} else {
				var v map[string]any
				assert.NoError(t, yaml.Unmarshal(data, &v), path)
			}
		}
		return nil
	}))
	assert.Greater(t, seen, 5)
}

// The roles stay inside the language both engines read: short module
// names, loop instead of with_*, no lookups (secrets are read with cat,
// which the masking knows), no Jinja-only filters. The one tpago filter
// they use is password_scram (a SCRAM verifier, so that no password
// reaches Postgres's logs); selectattr and map(attribute=) both engines
// read alike.
func TestRolesAvoidAnsibleOnlyConstructs(t *testing.T) {
	banned := []string{"with_items", "with_dict", "lookup(", "ansible.builtin.", "ansible_facts", " ~ ", "| ternary", "|ternary"}
	require.NoError(t, fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(FS, path)
		require.NoError(t, err)
		for _, b := range banned {
			assert.NotContains(t, string(data), b, "%s uses %q", path, b)
		}
		return nil
	}))
}

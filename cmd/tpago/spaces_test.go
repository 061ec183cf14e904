package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/internal/clitest"
	"github.com/tpago/tpago/roles"
)

// TestSecretsInADirectoryWithSpaces runs the init role's own tasks that
// make and read the cluster's passwords, on localhost, for a cluster
// directory whose path has spaces (and a quote): each password is read
// whole. With an unquoted `cat`, the path split into words and deploy
// failed with its reason hidden by no_log.
func TestSecretsInADirectoryWithSpaces(t *testing.T) {
	data, err := roles.FS.ReadFile("init/tasks/main.yml")
	require.NoError(t, err)
	var tasks []map[string]any
	require.NoError(t, yaml.Unmarshal(data, &tasks))
	var picked []any
	for _, task := range tasks {
		name, _ := task["name"].(string)
		if strings.HasPrefix(name, "Generate the cluster's passwords") || (strings.HasPrefix(name, "Read the ") && strings.HasSuffix(name, " password")) {
			picked = append(picked, task)
		}
	}
	require.Len(t, picked, 6, "the init role's tasks that make and read the passwords")
	picked = append(picked, map[string]any{"assert": map[string]any{"that": []any{
		"postgres_secret.stdout | length == 48", "repmgr_secret.stdout | length == 48",
		"barman_secret.stdout | length == 48", "streaming_barman_secret.stdout | length == 48",
	}}})

	dir := filepath.Join(t.TempDir(), "my clusters", "it's m1")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	play := []any{map[string]any{"hosts": "localhost", "gather_facts": false,
		"vars": map[string]any{"cluster_secrets_dir": dir + "/secrets"}, "tasks": picked}}
	pb, err := yaml.Marshal(play)
	require.NoError(t, err)
	site := filepath.Join(dir, "site.yml")
	require.NoError(t, os.WriteFile(site, pb, 0o644))
	inv := filepath.Join(dir, "inventory.yml")
	require.NoError(t, os.WriteFile(inv, []byte("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"), 0o644))

	out, code := clitest.Run(t, "play", site, "-i", inv)
	require.Equal(t, 0, code, out)
	for _, f := range []string{"postgres", "repmgr", "barman", "streaming_barman"} {
		st, err := os.Stat(filepath.Join(dir, "secrets", f))
		require.NoError(t, err, f)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
}

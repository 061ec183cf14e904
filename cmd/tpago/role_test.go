package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tpago runs the command line in-process and returns its output and exit
// status.
func authorCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := run(args, &out, &out)
	return out.String(), code
}

// recap returns the changed and failed counts of a --json run's recap.
func roleRecap(t *testing.T, out string) (changed, failed int) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		var ev struct {
			Event string
			Stats []struct{ Changed, Failed int }
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "recap" {
			require.Len(t, ev.Stats, 1, out)
			return ev.Stats[0].Changed, ev.Stats[0].Failed
		}
	}
	t.Fatalf("no recap in the output:\n%s", out)
	return 0, 0
}

func TestRoleInitRunsAndIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	roleDir := filepath.Join(dir, "roles", "pg-audit")
	out, code := authorCLI(t, "role", "init", roleDir)
	require.Equal(t, 0, code, out)
	for _, f := range []string{"tasks/main.yml", "handlers/main.yml", "defaults/main.yml", "templates/pg-audit.conf.j2", "meta/main.yml", "README.md"} {
		assert.FileExists(t, filepath.Join(roleDir, f))
	}

	out, code = authorCLI(t, "validate", roleDir)
	require.Equal(t, 0, code, out)

	site := filepath.Join(dir, "site.yml")
	require.NoError(t, os.WriteFile(site, []byte("- hosts: localhost\n  gather_facts: false\n  roles:\n    - pg-audit\n"), 0o644))
	inv := filepath.Join(dir, "inventory.yml")
	require.NoError(t, os.WriteFile(inv, []byte("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"), 0o644))
	target := filepath.Join(dir, "out")

	out, code = authorCLI(t, "validate", site, "-i", inv)
	require.Equal(t, 0, code, out)

	out, code = authorCLI(t, "play", site, "-i", inv, "-e", "pg_audit_dir="+target, "--json")
	require.Equal(t, 0, code, out)
	changed, failed := roleRecap(t, out)
	assert.Equal(t, 2, changed, "first run makes the folder and writes the file")
	assert.Equal(t, 0, failed)
	assert.Contains(t, out, "pg-audit configuration changed", "the handler ran")
	conf, err := os.ReadFile(filepath.Join(target, "pg-audit.conf"))
	require.NoError(t, err)
	assert.Contains(t, string(conf), "level = info")

	out, code = authorCLI(t, "play", site, "-i", inv, "-e", "pg_audit_dir="+target, "--json")
	require.Equal(t, 0, code, out)
	changed, _ = roleRecap(t, out)
	assert.Equal(t, 0, changed, "second run changes nothing")
}

func TestRoleInitRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "mine")
	require.NoError(t, os.Mkdir(existing, 0o755))
	tests := []struct {
		name, arg, want string
	}{
		{"existing folder", existing, "already exists"},
		{"bad name", filepath.Join(dir, "9lives"), "role name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := authorCLI(t, "role", "init", tc.arg)
			assert.Equal(t, 2, code)
			assert.Contains(t, out, tc.want)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing written")
	inside, err := os.ReadDir(existing)
	require.NoError(t, err)
	assert.Empty(t, inside, "nothing written into the existing folder")
}

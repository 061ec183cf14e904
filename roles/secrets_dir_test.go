package roles

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
	_ "github.com/tpago/tpago/engine/modules"
	"github.com/tpago/tpago/engine/output"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/inventory"
)

// A cluster's secrets folder made earlier with mode 0755 is made private
// by deploy's init role, before any password goes in.
func TestInitTightensSecretsFolder(t *testing.T) {
	data, err := fs.ReadFile(FS, "init/tasks/main.yml")
	require.NoError(t, err)
	var tasks []map[string]any
	require.NoError(t, yaml.Unmarshal(data, &tasks))
	var keep []map[string]any
	for _, tk := range tasks {
		name, _ := tk["name"].(string)
		if strings.Contains(name, "secrets folder") || strings.Contains(name, "Generate the cluster's passwords") {
			delete(tk, "delegate_to")
			keep = append(keep, tk)
		}
	}
	require.Len(t, keep, 2, "init's secrets-folder and password tasks")

	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	require.NoError(t, os.Mkdir(secrets, 0o755))
	require.NoError(t, os.Chmod(secrets, 0o755))
	pb, err := yaml.Marshal([]map[string]any{{"hosts": "all", "gather_facts": false, "tasks": keep,
		"vars": map[string]any{"cluster_secrets_dir": secrets}}})
	require.NoError(t, err)
	file := filepath.Join(dir, "site.yml")
	require.NoError(t, os.WriteFile(file, pb, 0o644))
	inv := filepath.Join(dir, "inventory.yml")
	require.NoError(t, os.WriteFile(inv, []byte("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"), 0o644))

	ld := &playbook.Loader{}
	p, err := ld.LoadPlaybook(file)
	require.NoError(t, err)
	in, err := inventory.Load(inv)
	require.NoError(t, err)
	var buf bytes.Buffer
	res, err := executor.New(executor.Options{Inventory: in, Loader: ld, Output: &output.Writer{W: &buf}}).Run(context.Background(), p)
	require.NoError(t, err, buf.String())
	require.Zero(t, res.Stats[0].Failed, buf.String())
	st, err := os.Stat(secrets)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), st.Mode().Perm(), buf.String())
	st, err = os.Stat(filepath.Join(secrets, "postgres"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

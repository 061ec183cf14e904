// Package examples holds runnable example playbooks, a custom role and a
// cluster directory; its tests run them.
package examples

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
	_ "github.com/tpago/tpago/engine/modules" // the built-in modules
	"github.com/tpago/tpago/engine/output"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/validate"
	"github.com/tpago/tpago/inventory"
)

// play runs site.yml on localhost into dir and returns the host's stats.
func play(t *testing.T, dir string, check bool) *executor.Stats {
	t.Helper()
	inv, err := inventory.Load("inventory.yml")
	require.NoError(t, err)
	ld := &playbook.Loader{}
	pb, err := ld.LoadPlaybook("site.yml")
	require.NoError(t, err)
	var out bytes.Buffer
	ex := executor.New(executor.Options{Inventory: inv, Loader: ld, Check: check,
		ExtraVars: map[string]any{"motd_dir": dir}, Output: &output.JSON{W: &out}})
	res, err := ex.Run(context.Background(), pb)
	require.NoError(t, err, out.String())
	require.Equal(t, 0, res.ExitCode(), out.String())
	require.Len(t, res.Stats, 1)
	return res.Stats[0]
}

func TestSiteValidates(t *testing.T) {
	inv, err := inventory.Load("inventory.yml")
	require.NoError(t, err)
	res := validate.Playbook(&playbook.Loader{}, "site.yml", nil, validate.Options{Inventory: inv})
	assert.Empty(t, res.Findings)
}

// Check mode changes nothing, the run does what it predicted, and then
// neither check mode nor a second run find anything to change.
func TestSiteRunsOnLocalhost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "motd")

	st := play(t, dir, true)
	assert.Equal(t, 1, st.Changed, "check mode predicts the folder")
	assert.Equal(t, 1, st.Skipped, "the file cannot be predicted in a folder that is only predicted")
	assert.NoDirExists(t, dir, "check mode changes nothing")

	st = play(t, dir, false)
	assert.Equal(t, 3, st.Changed)
	motd, err := os.ReadFile(filepath.Join(dir, "motd"))
	require.NoError(t, err)
	assert.Contains(t, string(motd), "WELCOME TO LOCALHOST\n====================\n")
	assert.Contains(t, string(motd), "  * Managed by tpago")
	assert.FileExists(t, filepath.Join(dir, "motd.changed"), "the handler ran")

	st = play(t, dir, true)
	assert.Equal(t, 0, st.Changed, "check mode after the run predicts nothing")

	st = play(t, dir, false)
	assert.Equal(t, 0, st.Changed, "the second run changes nothing")
	assert.Equal(t, 0, st.Failed)
}

package executor_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/playbook"
)

// An environment: name is a shell variable name or the task is refused: a
// name written as it is fails the load with its position, a templated one
// fails the task, and no name ever reaches the export line as shell syntax.
func TestEnvironmentNamesAreShellNames(t *testing.T) {
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")

	ld := &playbook.Loader{}
	_, err := ld.LoadPlaybookData("pb.yml", []byte("- hosts: all\n  tasks:\n    - command: 'true'\n      environment:\n        OK_1: a\n        \"X=1; touch "+pwned+"; Y\": v\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pb.yml:6:9")
	assert.Contains(t, err.Error(), "not a valid variable name")
	_, err = ld.LoadPlaybookData("pb.yml", []byte("- hosts: all\n  environment: {\"1X\": v}\n  tasks: []\n"))
	require.Error(t, err, "a play's environment is checked too")

	pb := writeFile(t, dir, "site.yml", `- hosts: h1
  tasks:
    - command: "true"
      environment:
        "{{ name }}": v
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pb, executor.Options{
		ExtraVars: map[string]any{"name": "X=1; touch " + pwned + "; Y"}})
	assert.Equal(t, 1, stat(r, "h1").Failed, r.out)
	assert.Contains(t, r.out, "not a valid variable name")
	assert.NoFileExists(t, pwned)

	sh := &conn.Shell{Conn: conn.Local{}, Env: map[string]string{"X=1; touch " + pwned + "; Y": "v"}}
	_, err = sh.Run(context.Background(), "true")
	require.Error(t, err)
	_, statErr := os.Stat(pwned)
	assert.True(t, os.IsNotExist(statErr), "the name ran as shell")

	sh.Env = map[string]string{"GOOD_1": "it's $HOME"}
	out, err := sh.Run(context.Background(), `printf %s "$GOOD_1"`)
	require.NoError(t, err)
	assert.Equal(t, "it's $HOME", string(out.Stdout))
}

package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"echo hello", []string{"echo", "hello"}},
		{"  a   b  ", []string{"a", "b"}},
		{`echo 'a b' "c d"`, []string{"echo", "a b", "c d"}},
		{`echo "it's" 'say "hi"'`, []string{"echo", "it's", `say "hi"`}},
		{`echo a\ b "x\"y" $HOME`, []string{"echo", "a b", `x"y`, "$HOME"}},
		{`echo ''`, []string{"echo", ""}},
		{`echo a'b'c`, []string{"echo", "abc"}},
	} {
		got, err := splitWords(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	_, err := splitWords(`echo 'oops`)
	require.ErrorContains(t, err, "unterminated single quote")
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)

	res := mustRun(t, rt, "command", map[string]any{"_raw_params": `echo 'a  b' $HOME ;`})
	assert.True(t, res.Changed)
	assert.True(t, res.HasRC)
	assert.Equal(t, 0, res.RC)
	assert.Equal(t, "a  b $HOME ;", res.Stdout, "no shell interpretation")
	assert.Contains(t, res.Data, "delta")

	res, err := runMod(t, rt, "command", map[string]any{"argv": []any{"sh", "-c", "echo out; echo err >&2; exit 3"}})
	require.NoError(t, err)
	assert.True(t, res.Failed)
	assert.Equal(t, 3, res.RC)
	assert.Equal(t, "out", res.Stdout)
	assert.Equal(t, "err", res.Stderr)

	// chdir and stdin.
	res = mustRun(t, rt, "command", map[string]any{"cmd": "cat", "stdin": "hi there", "chdir": dir})
	assert.Equal(t, "hi there", res.Stdout)
	res = mustRun(t, rt, "command", map[string]any{"cmd": "pwd", "chdir": dir})
	assert.Equal(t, dir, res.Stdout)

	// creates / removes decide, also in check mode.
	marker := filepath.Join(dir, "done")
	args := map[string]any{"cmd": "touch " + marker, "creates": marker}
	res = mustRun(t, with(rt, true, false), "command", args)
	assert.True(t, res.Skipped)
	assert.Equal(t, "skipped in check mode", res.Msg)
	assert.False(t, exists(marker))
	res = mustRun(t, rt, "command", args)
	assert.True(t, res.Changed)
	assert.True(t, exists(marker))
	res = mustRun(t, rt, "command", args)
	assert.False(t, res.Changed)
	assert.Contains(t, res.Msg, "exists")
	res = mustRun(t, with(rt, true, false), "command", args)
	assert.False(t, res.Changed)
	assert.False(t, res.Skipped)

	// creates may be a glob pattern.
	res = mustRun(t, rt, "command", map[string]any{"cmd": "false", "creates": filepath.Join(dir, "do*")})
	assert.False(t, res.Changed)
	res, err = runMod(t, rt, "command", map[string]any{"cmd": "false", "creates": filepath.Join(dir, "x*")})
	require.NoError(t, err)
	assert.True(t, res.Failed, "nothing matches x*: the command runs")

	res = mustRun(t, rt, "command", map[string]any{"cmd": "rm " + marker, "removes": marker})
	assert.True(t, res.Changed)
	res = mustRun(t, rt, "command", map[string]any{"cmd": "rm " + marker, "removes": marker})
	assert.False(t, res.Changed)
}

func TestShell(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	out := filepath.Join(dir, "out")
	res := mustRun(t, rt, "shell", map[string]any{"cmd": "echo one | tr a-z A-Z > " + out + "; cat " + out})
	assert.Equal(t, "ONE", res.Stdout)
	assert.True(t, res.Changed)

	res = mustRun(t, rt, "shell", map[string]any{"cmd": "echo ${BASH_VERSION:+bash}", "executable": "/bin/bash"})
	assert.Equal(t, "bash", res.Stdout)

	res, err := runMod(t, rt, "shell", map[string]any{"cmd": "exit 2"})
	require.NoError(t, err)
	assert.True(t, res.Failed)
	assert.Equal(t, 2, res.RC)

	res = mustRun(t, with(rt, true, false), "shell", map[string]any{"cmd": "touch " + out + "2"})
	assert.True(t, res.Skipped)
	_, err = os.Stat(out + "2")
	assert.True(t, os.IsNotExist(err))
}

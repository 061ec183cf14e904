package output_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/output"
	"github.com/tpago/tpago/engine/playbook"
)

func results() []*executor.TaskResult {
	t := &playbook.Task{Name: "write", Module: "copy"}
	return []*executor.TaskResult{
		{Host: "a", Task: t, Status: executor.Changed, Result: map[string]any{"changed": true},
			Diffs: []module.Diff{{BeforeHeader: "/etc/x", AfterHeader: "/etc/x", Before: "one\nsecret-pw\n", After: "two\n"}}},
		{Host: "b", Task: t, Status: executor.Failed, Msg: "boom secret-pw", Result: map[string]any{"msg": "boom secret-pw", "rc": 1}},
		{Host: "c", Task: t, Status: executor.Unreachable, Msg: "no route"},
		{Host: "d", Task: t, Status: executor.Failed, NoLog: true, Result: map[string]any{"msg": "secret-pw"}},
	}
}

func TestWriterShapeAndMasking(t *testing.T) {
	var b bytes.Buffer
	// Writers mask nothing themselves: the executor's gate does, once.
	w := executor.Masked(&output.Writer{W: &b, Diff: true}, func() []string { return []string{"secret-pw"} })
	w.PlayStart(&playbook.Play{}, "deploy", []string{"a", "b"})
	w.TaskStart(&playbook.Task{}, "write", false)
	for _, r := range results() {
		w.HostResult(r)
	}
	w.Recap([]*executor.Stats{{Host: "a", OK: 1, Changed: 1}, {Host: "b", Failed: 1}})
	out := b.String()
	assert.Contains(t, out, "PLAY [deploy] ****")
	assert.Contains(t, out, "TASK [write] ****")
	assert.Contains(t, out, "--- before: /etc/x\n+++ after: /etc/x\n")
	assert.Contains(t, out, "-one\n")
	assert.Contains(t, out, "+two\n")
	assert.Contains(t, out, "changed: [a]\n")
	assert.Contains(t, out, "fatal: [b]: FAILED! => ")
	assert.Contains(t, out, "fatal: [c]: UNREACHABLE! => ")
	assert.Contains(t, out, "the output has been hidden")
	assert.NotContains(t, out, "secret-pw")
	assert.Regexp(t, `a +: ok=1 +changed=1 +unreachable=0 +failed=0`, out)
}

func TestJSONEvents(t *testing.T) {
	var b bytes.Buffer
	j := executor.Masked(&output.JSON{W: &b}, func() []string { return []string{"secret-pw"} })
	j.TaskStart(&playbook.Task{}, "write", false)
	for _, r := range results() {
		j.HostResult(r)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 5)
	for _, l := range lines {
		var ev map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &ev), l)
		assert.NotContains(t, l, "secret-pw")
	}
	assert.Contains(t, lines[2], `"status":"failed"`)
}

// --profile: after the recap, the tasks slowest first, each timed to the
// next task's start, and the total.
func TestProfile(t *testing.T) {
	var buf bytes.Buffer
	w := &output.Writer{W: &buf, Profile: true}
	w.TaskStart(&playbook.Task{}, "quick", false)
	w.TaskStart(&playbook.Task{}, "postgres : slow", false)
	time.Sleep(30 * time.Millisecond)
	w.Recap([]*executor.Stats{{Host: "a", OK: 2}})
	out := buf.String()
	i := strings.Index(out, "TASKS PROFILE")
	require.Greater(t, i, strings.Index(out, "PLAY RECAP"), out)
	prof := out[i:]
	assert.Less(t, strings.Index(prof, "postgres : slow ---"), strings.Index(prof, "quick ---"), prof)
	assert.Regexp(t, `postgres : slow -+ +0\.0[3-9]s`, prof)
	assert.Contains(t, prof, "2 tasks, ")

	buf.Reset()
	w = &output.Writer{W: &buf}
	w.TaskStart(&playbook.Task{}, "quick", false)
	w.Recap(nil)
	assert.NotContains(t, buf.String(), "PROFILE", "only with --profile")
}

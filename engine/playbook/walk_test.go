package playbook_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/playbook"
)

// Walk meets every task once, in the order they run, with the tasks that
// enclose it; it stops when asked.
func TestWalkMeetsEveryTaskInOrder(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"site.yml": play +
			"    - name: b\n      block:\n        - {name: b1, debug: msg=x}\n      rescue:\n        - {name: r1, debug: msg=x}\n      always:\n        - {name: a1, debug: msg=x}\n" +
			"    - {name: inc, include_tasks: t.yml}\n" +
			"    - {name: role, include_role: {name: r}}\n" +
			"    - {name: last, debug: msg=x}\n",
		"t.yml":                  "- {name: t1, debug: msg=x}\n",
		"roles/r/tasks/main.yml": "- {name: r1, debug: msg=x}\n",
	})
	pb, err := (&playbook.Loader{}).LoadPlaybook(filepath.Join(dir, "site.yml"))
	require.NoError(t, err)
	var got []string
	for task, parents := range playbook.Walk(pb.Plays[0].Tasks) {
		label := task.Label()
		for _, p := range parents {
			label = p.Label() + "/" + label
		}
		got = append(got, label)
	}
	assert.Equal(t, []string{"b", "b/b1", "b/r1", "b/a1", "inc", "inc/t1", "role", "role/r1", "last"}, got)

	n := 0
	for range playbook.Walk(pb.Plays[0].Tasks) {
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
}

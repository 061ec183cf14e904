package executor_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
)

// Each with_* loop runs with the items Ansible gives it.
func TestWithLoopsRunAsInAnsible(t *testing.T) {
	tests := []struct {
		name, loop, line, want string
	}{
		{"with_items flattens one level", "with_items: [[a, b], c, \"{{ more }}\"]", "{{ item }}", "a\nb\nc\nd\ne\n"},
		{"with_list keeps lists", "with_list: [[a, b], c]", "{{ len(item) }}", "2\n1\n"},
		{"with_dict", "with_dict: {b: 2, a: 1}", "{{ item.key }}={{ item.value }}", "a=1\nb=2\n"},
		{"with_indexed_items", "with_indexed_items: [x, y]", "{{ item[0] }}:{{ item[1] }}", "0:x\n1:y\n"},
		{"with_together", "with_together: [[1, 2], [a]]", "{{ item[0] }}-{{ item[1] }}", "1-a\n2-\n"},
		{"with_nested", "with_nested: [[1, 2], [a, b]]", "{{ item[0] }}{{ item[1] }}", "1a\n1b\n2a\n2b\n"},
		{"with_sequence", "with_sequence: start=2 end={{ 3 * 2 }} stride=2 format=n%02d", "{{ item }}", "n02\nn04\nn06\n"},
		{"with_sequence count", "with_sequence: count=2", "{{ item }}", "1\n2\n"},
		{"with_subelements", "with_subelements: [\"{{ users }}\", keys]", "{{ item[0].name }}:{{ item[1] }}", "ann:k1\nann:k2\nbob:k3\n"},
		{"with_first_found", "with_first_found: [nothere.txt, \"{{ out }}/../found.txt\", found.txt]", "{{ basename(item) }}", "found.txt\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			require.NoError(t, os.MkdirAll(out, 0o755))
			writeFile(t, dir, "files/found.txt", "x\n")
			pbFile := writeFile(t, dir, "site.yml", `
- hosts: h1
  gather_facts: false
  vars:
    more: [d, e]
    users: [{name: ann, keys: [k1, k2]}, {name: bob, keys: [k3]}]
  tasks:
    - shell: echo '`+tt.line+`' >> {{ out }}/items
      `+tt.loop+`
`)
			r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile,
				executor.Options{ExtraVars: map[string]any{"out": out}})
			require.Equal(t, 0, r.res.ExitCode(), r.out)
			assert.Equal(t, tt.want, read(t, filepath.Join(out, "items")))
		})
	}
}

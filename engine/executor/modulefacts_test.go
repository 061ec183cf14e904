package executor_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
)

// Facts a module returns (getent's getent_passwd) are variables of their
// own and keys of ansible_facts, as in Ansible, next to gathered facts.
func TestModuleFactsAreVariablesAndAnsibleFacts(t *testing.T) {
	dir := t.TempDir()
	pb := writeFile(t, dir, "site.yml", `- hosts: h1
  gather_facts: true
  tasks:
    - ansible.builtin.getent:
        database: passwd
        key: root
    - copy:
        dest: "{{ out }}/facts"
        content: "{{ getent_passwd.root[4] }} {{ ansible_facts.getent_passwd.root[0] }} {{ ansible_facts.hostname == ansible_hostname }}\n"
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pb, executor.Options{ExtraVars: map[string]any{"out": dir}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.Equal(t, "/root x true\n", read(t, filepath.Join(dir, "facts")))
}

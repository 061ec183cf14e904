package executor_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
)

// Every variable MagicVariables names (docs/ansible-equivalents.md lists
// them as supported) is defined where Ansible defines it.
func TestMagicVariablesAreDefined(t *testing.T) {
	inRole := []string{"role_name", "role_path"}
	inLoop := []string{"item", "ansible_loop", "ansible_loop_var"}
	inRescue := []string{"ansible_failed_task", "ansible_failed_result"}
	that := func(names []string) string {
		var b strings.Builder
		for _, n := range names {
			fmt.Fprintf(&b, "        - %s is defined\n", n)
		}
		return b.String()
	}
	var plain []string
	for _, n := range executor.MagicVariables {
		if !slices.Contains(inRole, n) && !slices.Contains(inLoop, n) && !slices.Contains(inRescue, n) {
			plain = append(plain, n)
		}
	}
	dir := t.TempDir()
	writeFile(t, dir, "roles/r/tasks/main.yml", "- assert:\n    that:\n"+strings.ReplaceAll(that(inRole), "        -", "      -"))
	pb := writeFile(t, dir, "site.yml", `- hosts: all
  roles: [r]
  tasks:
    - assert:
        that:
`+that(plain)+`    - assert:
        that:
`+that(inLoop)+`      loop: [1]
    - block:
        - command: "false"
      rescue:
        - assert:
            that:
`+strings.ReplaceAll(that(inRescue), "        -", "            -"))
	inv := writeFile(t, dir, "inventory.yml", "all:\n  hosts:\n    h1:\n      ansible_connection: local\n")
	r := runPlaybook(t, loadInventory(t, inv), pb, executor.Options{})
	require.Equal(t, 0, stat(r, "h1").Failed, "%s\n%s", r.out, explain(t, dir, plain))
	assert.Equal(t, 1, stat(r, "h1").Rescued, r.out)
}

// explain names the variables of names that are not defined on h1.
func explain(t *testing.T, dir string, names []string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString("    - assert:\n        that: " + n + " is defined\n        fail_msg: " + n + " is not defined\n")
	}
	pb := writeFile(t, dir, "each.yml", "- hosts: all\n  tasks:\n"+b.String())
	return runPlaybook(t, loadInventory(t, filepath.Join(dir, "inventory.yml")), pb, executor.Options{}).out
}

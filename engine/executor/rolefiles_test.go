package executor_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/validate"
)

// Inside a role, src may name the sub-folder, as Ansible accepts:
// templates/x.j2 and files/x are found in the role.
func TestRoleSrcMayNameItsSubfolder(t *testing.T) {
	dir := t.TempDir()
	write := func(p, content string) { writeFile(t, dir, p, content) }
	write("inventory.yml", "all:\n  hosts:\n    h1:\n      ansible_connection: local\n")
	write("roles/r/templates/conf.j2", "host {{ inventory_hostname }}\n")
	write("roles/r/files/static.txt", "static\n")
	write("roles/r/tasks/main.yml", `- template:
    src: templates/conf.j2
    dest: "{{ out }}/conf"
- copy:
    src: files/static.txt
    dest: "{{ out }}/static"
- template:
    src: conf.j2
    dest: "{{ out }}/conf2"
`)
	write("site.yml", "- hosts: all\n  gather_facts: false\n  roles: [r]\n")
	inv := loadInventory(t, filepath.Join(dir, "inventory.yml"))
	site := filepath.Join(dir, "site.yml")
	data, err := os.ReadFile(site)
	require.NoError(t, err)
	out := t.TempDir()
	v := validate.Playbook(&playbook.Loader{}, site, data, validate.Options{Inventory: inv, ExtraVars: map[string]any{"out": out}})
	for _, f := range v.Findings {
		t.Errorf("validate: %s:%d: %s", f.File, f.Line, f.Reason)
	}
	r := runPlaybook(t, loadInventory(t, filepath.Join(dir, "inventory.yml")), filepath.Join(dir, "site.yml"),
		executor.Options{ExtraVars: map[string]any{"out": out}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.Equal(t, "host h1\n", read(t, filepath.Join(out, "conf")))
	assert.Equal(t, "static\n", read(t, filepath.Join(out, "static")))
	assert.Equal(t, "host h1\n", read(t, filepath.Join(out, "conf2")))
}

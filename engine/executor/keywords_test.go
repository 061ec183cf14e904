package executor_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/output"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/exitcode"
)

// Keywords Ansible lets one template are decided per host at run time;
// keywords set on a play, a block or a role entry reach the tasks inside.
func TestTemplatedAndInheritedKeywords(t *testing.T) {
	dir := t.TempDir()
	out := t.TempDir()
	writeFile(t, dir, "roles/r/tasks/main.yml", "- command: 'false'\n")
	pbFile := writeFile(t, dir, "site.yml", `
- hosts: h1
  gather_facts: false
  vars:
    secret_flag: true
    tries: 2
    pause: 0
    env: {GREETING: hello}
  roles:
    - role: r
      ignore_errors: "{{ true }}"
  tasks:
    - debug: msg=the-secret-value
      no_log: "{{ secret_flag }}"
    - shell: echo "$GREETING" > {{ out }}/env
      environment: "{{ env }}"
    - shell: echo x >> {{ out }}/tries
      register: r
      until: false
      retries: "{{ tries }}"
      delay: "{{ pause }}"
      ignore_errors: true
    - command: whoami
      become: "{{ false }}"
    - block:
        - command: 'false'
      ignore_errors: true
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile,
		executor.Options{ExtraVars: map[string]any{"out": out}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.NotContains(t, r.out, "the-secret-value")
	assert.Equal(t, "hello\n", read(t, filepath.Join(out, "env")))
	assert.Equal(t, "x\nx\nx\n", read(t, filepath.Join(out, "tries")), "retries: 2 runs it three times")
	assert.Equal(t, 3, stat(r, "h1").Ignored, "the role's, the until task's and the block's failures are ignored")
}

// A templated count that turns out negative fails the task, saying so.
func TestTemplatedRetriesMustBeACount(t *testing.T) {
	dir := t.TempDir()
	pbFile := writeFile(t, dir, "site.yml", `
- hosts: h1
  gather_facts: false
  tasks:
    - command: 'true'
      until: true
      retries: "{{ -5 }}"
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile, executor.Options{})
	assert.Equal(t, 2, r.res.ExitCode(), r.out)
	assert.Contains(t, r.out, "retries: takes a whole number of 0 or more, not -5")
}

// A templated serial: is rendered with the play's variables; one that
// gives no hosts is refused.
func TestTemplatedSerial(t *testing.T) {
	dir := t.TempDir()
	pbFile := writeFile(t, dir, "site.yml", `
- hosts: all
  gather_facts: false
  vars: {size: 1}
  serial: "{{ size }}"
  tasks:
    - name: one at a time
      command: 'true'
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile, executor.Options{})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.Equal(t, 2, strings.Count(r.out, "TASK [one at a time]"), "serial: 1 runs the task once per batch")

	ld := &playbook.Loader{}
	pb, err := ld.LoadPlaybook(pbFile)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = executor.New(executor.Options{Inventory: loadInventory(t, "testdata/basic/inventory.yml"), Loader: ld,
		ExtraVars: map[string]any{"size": 0}, Output: &output.Writer{W: &buf}}).Run(context.Background(), pb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `serial: "{{ size }}" gives 0`)
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
}

// check_mode: and diff: on a play reach its tasks (they were ignored).
func TestPlayCheckModeReachesItsTasks(t *testing.T) {
	dir := t.TempDir()
	pbFile := writeFile(t, dir, "site.yml", `
- hosts: h1
  gather_facts: false
  check_mode: true
  tasks:
    - copy: {content: "x\n", dest: "{{ out }}/made"}
    - copy: {content: "y\n", dest: "{{ out }}/forced"}
      check_mode: false
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile, executor.Options{ExtraVars: map[string]any{"out": dir}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.NoFileExists(t, filepath.Join(dir, "made"))
	assert.FileExists(t, filepath.Join(dir, "forced"))
}

// ansible_play_hosts lists the hosts still in the play at each task: one
// that failed leaves it, and comes back after meta: clear_host_errors.
func TestPlayHostsFollowFailures(t *testing.T) {
	dir := t.TempDir()
	out := t.TempDir()
	pbFile := writeFile(t, dir, "site.yml", `
- hosts: web
  gather_facts: false
  tasks:
    - shell: echo "{{ ansible_play_hosts | join(',') }}/{{ ansible_play_hosts_all | join(',') }}" > {{ out }}/1-{{ inventory_hostname }}
    - command: 'false'
      when: inventory_hostname == 'h2'
    - shell: echo "{{ play_hosts | join(',') }}/{{ ansible_play_batch | join(',') }}" > {{ out }}/2-{{ inventory_hostname }}
    - meta: clear_host_errors
    - shell: echo "{{ ansible_play_hosts | join(',') }}" > {{ out }}/3-{{ inventory_hostname }}
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile,
		executor.Options{ExtraVars: map[string]any{"out": out}})
	assert.Equal(t, 2, r.res.ExitCode(), r.out)
	assert.Equal(t, "h1,h2/h1,h2\n", read(t, filepath.Join(out, "1-h1")))
	assert.Equal(t, "h1,h2/h1,h2\n", read(t, filepath.Join(out, "1-h2")))
	assert.Equal(t, "h1/h1\n", read(t, filepath.Join(out, "2-h1")))
	assert.Equal(t, "h1,h2\n", read(t, filepath.Join(out, "3-h1")))
}

// ansible_managed is defined for public roles' templates, which start
// with {{ ansible_managed | comment }}; a play's variable wins over it.
func TestAnsibleManaged(t *testing.T) {
	dir := t.TempDir()
	out := t.TempDir()
	writeFile(t, dir, "roles/r/templates/conf.j2", "{{ ansible_managed | comment }}\nkey = 1\n")
	writeFile(t, dir, "roles/r/tasks/main.yml", "- template: src=conf.j2 dest={{ out }}/{{ file_name }}\n")
	pbFile := writeFile(t, dir, "site.yml", `
- hosts: h1
  gather_facts: false
  roles:
    - {role: r, file_name: default.conf}
- hosts: h1
  gather_facts: false
  vars:
    ansible_managed: Managed by the platform team
  roles:
    - {role: r, file_name: own.conf}
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile,
		executor.Options{ExtraVars: map[string]any{"out": out}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.Equal(t, "#\n# "+executor.AnsibleManaged+"\n#\nkey = 1\n", read(t, filepath.Join(out, "default.conf")))
	assert.Equal(t, "#\n# Managed by the platform team\n#\nkey = 1\n", read(t, filepath.Join(out, "own.conf")))
}

package executor_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
	_ "github.com/tpago/tpago/engine/modules"
	"github.com/tpago/tpago/engine/output"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/inventory"
)

type run struct {
	res *executor.Result
	out string
}

// runPlaybook runs a playbook file over inv and returns its result and
// what it printed.
func runPlaybook(t *testing.T, inv *inventory.Inventory, file string, opts executor.Options) run {
	t.Helper()
	ld := &playbook.Loader{}
	pb, err := ld.LoadPlaybook(file)
	require.NoError(t, err)
	var buf bytes.Buffer
	opts.Inventory = inv
	opts.Loader = ld
	opts.Output = &output.Writer{W: &buf, Diff: opts.Diff}
	res, err := executor.New(opts).Run(context.Background(), pb)
	require.NoError(t, err, buf.String())
	return run{res: res, out: buf.String()}
}

func loadInventory(t *testing.T, file string) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(file)
	require.NoError(t, err)
	return inv
}

// writeFile writes content to dir/name, making the folders it needs, and
// returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// runBasic runs testdata/basic/site.yml on local hosts, writing under dir.
func runBasic(t *testing.T, dir string, opts executor.Options) run {
	t.Helper()
	opts.ExtraVars = map[string]any{"out": dir}
	return runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), "testdata/basic/site.yml", opts)
}

func stat(r run, host string) *executor.Stats {
	for _, s := range r.res.Stats {
		if s.Host == host {
			return s
		}
	}
	return nil
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

func TestBasicPlaybook(t *testing.T) {
	dir := t.TempDir()
	r := runBasic(t, dir, executor.Options{})
	t.Log(r.out)
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	for _, h := range []string{"h1", "h2"} {
		d := filepath.Join(dir, h)
		assert.Equal(t, "hi "+h+"\n- a\n- b\n- c (last)\n", read(t, filepath.Join(d, "greet")))
		assert.Equal(t, "greeted "+h+"\n", read(t, filepath.Join(d, "greeted")))
		assert.Equal(t, "b\n", read(t, filepath.Join(d, "b.txt")))
		assert.Equal(t, "handled\n", read(t, filepath.Join(d, "handled")))
		assert.Equal(t, "always\n", read(t, filepath.Join(d, "always")))
		assert.Equal(t, "hello-inc\n", read(t, filepath.Join(d, "included")))
		assert.FileExists(t, filepath.Join(d, "tagged"))
		s := stat(r, h)
		assert.Equal(t, 0, s.Failed)
		assert.Equal(t, 1, s.Rescued)
	}
	assert.Contains(t, read(t, filepath.Join(dir, "h1", "state")), "said=hello from h1\nrescued=true\nreached=false\nothers=hello\ngroups=h1,h2\n")
	assert.Contains(t, read(t, filepath.Join(dir, "h2", "state")), "said=nothing\n")

	// The second run changes nothing (the failing command aside, which is
	// rescued each time).
	r2 := runBasic(t, dir, executor.Options{})
	for _, h := range []string{"h1", "h2"} {
		assert.Equal(t, 0, stat(r2, h).Changed, r2.out)
	}
}

func TestCheckModeChangesNothing(t *testing.T) {
	dir := t.TempDir()
	r := runBasic(t, dir, executor.Options{Check: true, Diff: true})
	t.Log(r.out)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, ents, "check mode must not create anything")
	assert.Greater(t, stat(r, "h1").Changed, 0)
}

func TestTags(t *testing.T) {
	dir := t.TempDir()
	r := runBasic(t, dir, executor.Options{SkipTags: []string{"special"}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.NoFileExists(t, filepath.Join(dir, "h1", "tagged"))
	assert.FileExists(t, filepath.Join(dir, "h1", "state"))
}

func TestFreeStrategyAndSerial(t *testing.T) {
	dir := t.TempDir()
	pbFile := writeFile(t, dir, "free.yml", `
- hosts: all
  gather_facts: false
  strategy: free
  tasks:
    - name: slow on h1 only
      command: sleep {{ '1' if inventory_hostname == 'h1' else '0' }}
    - name: stamp
      copy:
        content: "{{ inventory_hostname }}\n"
        dest: "{{ out }}/{{ inventory_hostname }}"
- hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - name: one at a time
      shell: echo {{ inventory_hostname }} >> {{ out }}/order
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile, executor.Options{ExtraVars: map[string]any{"out": dir}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	// With free, h2 stamps before h1 has finished sleeping.
	out := r.out
	assert.Less(t, strings.Index(out, "changed: [h2]"), strings.LastIndex(out, "changed: [h1]"), out)
	assert.Equal(t, "h1\nh2\n", read(t, filepath.Join(dir, "order")))
	assert.Equal(t, 2, strings.Count(out, "TASK [one at a time]"), "serial: 1 runs the task once per batch")
}

func TestTaskTimeout(t *testing.T) {
	dir := t.TempDir()
	pbFile := writeFile(t, dir, "t.yml", "- hosts: h1\n  gather_facts: false\n  tasks:\n    - command: sleep 30\n      timeout: 1\n")
	start := time.Now()
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile, executor.Options{})
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Equal(t, 2, r.res.ExitCode())
	assert.Contains(t, r.out, "timed out after 1s")
}

func TestBlockConditionSkipsTheLoop(t *testing.T) {
	dir := t.TempDir()
	pbFile := writeFile(t, dir, "b.yml", `
- hosts: h1
  gather_facts: false
  tasks:
    - when: false
      block:
        - debug: msg={{ item }}
          loop: "{{ only_when_true }}"
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile, executor.Options{})
	assert.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.Contains(t, r.out, "skipping: [h1]")
}

// lookup('file', relative) finds the file in the role's files/, then in
// the playbook's files/, as Ansible does, whatever the working directory.
func TestLookupFileSearchesRoleAndPlaybook(t *testing.T) {
	dir := t.TempDir()
	write := func(p, content string) { writeFile(t, dir, p, content) }
	write("inventory.yml", "all:\n  hosts:\n    h1:\n      ansible_connection: local\n")
	write("files/top.txt", "from the playbook\n")
	write("roles/r/files/role.txt", "from the role\n")
	write("roles/r/tasks/main.yml", `- copy:
    content: "{{ lookup('file', 'role.txt') }}|{{ lookup('file', 'top.txt') }}"
    dest: "{{ out }}/role"
`)
	write("site.yml", `- hosts: all
  gather_facts: false
  tasks:
    - copy:
        content: "{{ lookup('file', 'top.txt') }}"
        dest: "{{ out }}/play"
    - include_role:
        name: r
`)
	out := t.TempDir()
	r := runPlaybook(t, loadInventory(t, filepath.Join(dir, "inventory.yml")), filepath.Join(dir, "site.yml"),
		executor.Options{ExtraVars: map[string]any{"out": out}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.Equal(t, "from the playbook", read(t, filepath.Join(out, "play")))
	assert.Equal(t, "from the role|from the playbook", read(t, filepath.Join(out, "role")))
}

// A task file that includes itself through a templated name stops at
// MaxIncludeDepth with a failure that says so (it used to run forever).
func TestDynamicIncludeRecursionStops(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "self.yml", "- include_tasks: \"{{ 'self.yml' }}\"\n")
	pbFile := writeFile(t, dir, "site.yml", `
- hosts: h1
  gather_facts: false
  tasks:
    - include_tasks: "{{ 'self.yml' }}"
`)
	done := make(chan run, 1)
	go func() {
		done <- runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile, executor.Options{})
	}()
	select {
	case r := <-done:
		assert.Equal(t, 2, r.res.ExitCode(), r.out)
		assert.Contains(t, r.out, "includes nested 100 deep")
	case <-time.After(60 * time.Second):
		t.Fatal("a self-including task file ran for a minute")
	}
}

// A handler that notifies itself through a file included at run time
// fails the host, naming the handler, instead of stopping silently.
func TestHandlerCycleAtRunTimeFails(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "again.yml", "- command: 'true'\n  changed_when: true\n  notify: a\n")
	pbFile := writeFile(t, dir, "site.yml", `
- hosts: h1
  gather_facts: false
  tasks:
    - command: 'true'
      notify: a
  handlers:
    - name: a
      include_tasks: "{{ 'again.yml' }}"
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile, executor.Options{})
	assert.Equal(t, 2, r.res.ExitCode(), r.out)
	assert.Contains(t, r.out, "handlers notify one another in a cycle: a still notified after 10 rounds")
}

// Two playbooks in different folders that include a file of the same name
// each run their own file.
func TestIncludesOfTheSameNameInOtherFolders(t *testing.T) {
	for _, word := range []string{"first", "second"} {
		dir := t.TempDir()
		writeFile(t, dir, "t.yml", "- shell: echo "+word+" > {{ out }}/said\n")
		pbFile := writeFile(t, dir, "site.yml", `
- hosts: h1
  gather_facts: false
  tasks:
    - include_tasks: "{{ 't.yml' }}"
`)
		r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pbFile, executor.Options{ExtraVars: map[string]any{"out": dir}})
		require.Equal(t, 0, r.res.ExitCode(), r.out)
		assert.Equal(t, word+"\n", read(t, filepath.Join(dir, "said")))
	}
}

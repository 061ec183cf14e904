package playbook_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/exitcode"
)

// writeFiles writes name → content under a new folder and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// loadWithin loads a playbook, failing the test when loading does not end
// quickly (an include loop used to overflow the stack).
func loadWithin(t *testing.T, ld *playbook.Loader, file string) (*playbook.Playbook, error) {
	t.Helper()
	type res struct {
		pb  *playbook.Playbook
		err error
	}
	done := make(chan res, 1)
	go func() {
		pb, err := ld.LoadPlaybook(file)
		done <- res{pb, err}
	}()
	select {
	case r := <-done:
		return r.pb, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("loading %s did not end", file)
		return nil, nil
	}
}

const play = "- hosts: all\n  tasks:\n"

// Includes that come back to a file being loaded are refused with the
// whole loop, where the loop closes, and the chain of includes.
func TestIncludeLoopsAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"playbook imports itself",
			map[string]string{"site.yml": "- import_playbook: site.yml\n"},
			[]string{"site.yml:1:20: import_playbook loop: ", "site.yml → ", "site.yml"}},
		{"two playbooks import each other",
			map[string]string{"site.yml": "- import_playbook: b.yml\n", "b.yml": "- import_playbook: site.yml\n"},
			[]string{"b.yml:1:20: import_playbook loop: ", "site.yml → ", "b.yml → ", "imported from "}},
		{"task file imports itself",
			map[string]string{"site.yml": play + "    - import_tasks: t.yml\n", "t.yml": "- import_tasks: t.yml\n"},
			[]string{"t.yml:1:17: import_tasks loop: ", "t.yml → ", "imported from "}},
		{"task file includes itself by a static name",
			map[string]string{"site.yml": play + "    - include_tasks: t.yml\n", "t.yml": "- include_tasks: t.yml\n"},
			[]string{"t.yml:1:18: include_tasks loop: ", "included from "}},
		{"two task files include each other",
			map[string]string{"site.yml": play + "    - import_tasks: a.yml\n", "a.yml": "- include_tasks: b.yml\n", "b.yml": "- import_tasks: a.yml\n"},
			[]string{"b.yml:1:17: import_tasks loop: ", "a.yml → ", "b.yml → "}},
		{"role task file imports itself",
			map[string]string{"site.yml": "- hosts: all\n  roles: [r]\n", "roles/r/tasks/main.yml": "- import_tasks: main.yml\n"},
			[]string{"import_tasks loop: ", "main.yml → ", "in role r"}},
		{"roles depend on each other",
			map[string]string{"site.yml": "- hosts: all\n  roles: [a]\n", "roles/a/meta/main.yml": "dependencies: [b]\n",
				"roles/b/meta/main.yml": "dependencies: [a]\n", "roles/a/tasks/main.yml": "[]\n", "roles/b/tasks/main.yml": "[]\n"},
			[]string{"role dependency cycle: ", "roles/a → ", "roles/b → "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, err := loadWithin(t, &playbook.Loader{}, filepath.Join(dir, "site.yml"))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// The same file imported twice, one after the other, is no loop.
func TestSiblingImportsAreNoLoop(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"site.yml": "- import_playbook: b.yml\n- import_playbook: b.yml\n",
		"b.yml":    play + "    - import_tasks: t.yml\n    - import_tasks: t.yml\n",
		"t.yml":    "- debug: msg=hi\n",
	})
	pb, err := loadWithin(t, &playbook.Loader{}, filepath.Join(dir, "site.yml"))
	require.NoError(t, err)
	assert.Len(t, pb.Plays, 2)
}

// A hook (a task file run by a playbook) that imports itself.
func TestTaskFileLoopIsRefused(t *testing.T) {
	dir := writeFiles(t, map[string]string{"hook.yml": "- import_tasks: hook.yml\n"})
	_, err := (&playbook.Loader{}).LoadTasks(filepath.Join(dir, "hook.yml"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hook.yml:1:17: import_tasks loop: ")
}

// Handlers that notify one another in a cycle would run for ever: refused,
// naming the cycle.
func TestHandlerCyclesAreRefused(t *testing.T) {
	tests := []struct {
		name, handlers, want string
	}{
		{"itself", "    - name: a\n      command: 'true'\n      notify: a\n", "handlers notify one another in a cycle: a → a"},
		{"two", "    - name: a\n      command: 'true'\n      notify: b\n    - name: b\n      command: 'true'\n      notify: a\n",
			"handlers notify one another in a cycle: a → b → a"},
		{"through a topic", "    - name: a\n      command: 'true'\n      notify: restart\n    - name: b\n      listen: restart\n      command: 'true'\n      notify: a\n",
			"pb.yml:9:7: handlers notify one another in a cycle: a → b → a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yml := play + "    - command: 'true'\n      notify: a\n  handlers:\n" + tt.handlers
			_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	// A chain without a cycle is fine.
	yml := play + "    - command: 'true'\n      notify: a\n  handlers:\n    - name: a\n      command: 'true'\n      notify: b\n    - name: b\n      command: 'true'\n"
	_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
	require.NoError(t, err)
}

// A playbook that does not load is bad input: exit status 2.
func TestLoadErrorsAreBadInput(t *testing.T) {
	for _, yml := range []string{"- import_playbook: pb.yml\n", "- hosts: all\n  tasks: [\n", "{}\n", play + "    - fil: x\n"} {
		_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
		require.Error(t, err)
		assert.Equal(t, exitcode.BadInput, exitcode.Of(err), yml)
	}
}

// Every problem of an imported playbook is reported, each with the import.
func TestImportedPlaybookReportsEveryProblem(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"site.yml": "- import_playbook: b.yml\n",
		"b.yml":    play + "    - fil: x\n    - coppy: x\n",
	})
	_, err := (&playbook.Loader{}).LoadPlaybook(filepath.Join(dir, "site.yml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"fil"`)
	assert.Contains(t, err.Error(), `"coppy"`)
	assert.Equal(t, 2, strings.Count(err.Error(), "imported from "))
}

// A role a play lists, or depends on, twice with the same parameters runs
// once, as in Ansible (public roles list a dependency they also name in
// meta/main.yml); other parameters, keywords of the entry's own, or
// allow_duplicates: true run it again.
func TestPlayRolesRunOnce(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"site.yml":                    "- hosts: all\n  roles:\n    - db\n    - pooler\n    - db\n    - {role: db, port: 5433}\n    - {role: db, tags: [again]}\n    - dup\n    - dup\n",
		"roles/db/tasks/main.yml":     "- debug: msg=db\n",
		"roles/pooler/meta/main.yml":  "galaxy_info: {author: me}\ndependencies:\n  - role: db\n",
		"roles/pooler/tasks/main.yml": "- debug: msg=pooler\n",
		"roles/dup/meta/main.yml":     "allow_duplicates: true\n",
		"roles/dup/tasks/main.yml":    "- debug: msg=dup\n",
	})
	pb, err := loadWithin(t, &playbook.Loader{}, filepath.Join(dir, "site.yml"))
	require.NoError(t, err)
	var names []string
	for _, b := range pb.Plays[0].Tasks {
		names = append(names, fmt.Sprintf("%s%v", b.Role.Name, b.Role.Params))
	}
	assert.Equal(t, []string{"db" + "map[]", "pooler" + "map[]", "db" + "map[port:5433]", "db" + "map[]", "dup" + "map[]", "dup" + "map[]"}, names)
}

package playbook_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/playbook"
)

// Values that cannot mean anything are refused where they are written.
func TestNonsenseValuesAreRefused(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"serial 0", "- hosts: all\n  serial: 0\n  tasks: []\n", "pb.yml:2:11: serial: takes a number of hosts above 0"},
		{"serial 0 in a list", "- hosts: all\n  serial: [1, 0]\n  tasks: []\n", "pb.yml:2:15: serial: takes a number of hosts above 0"},
		{"serial negative", "- hosts: all\n  serial: -2\n  tasks: []\n", "serial: takes a number of hosts above 0"},
		{"serial 0%", "- hosts: all\n  serial: 0%\n  tasks: []\n", "serial: takes a number of hosts above 0"},
		{"serial words", "- hosts: all\n  serial: many\n  tasks: []\n", "serial: takes a number of hosts above 0"},
		{"retries negative", play + "    - command: 'true'\n      retries: -5\n      until: true\n", "pb.yml:4:16: retries: takes a whole number of 0 or more, not -5"},
		{"timeout negative", play + "    - command: 'true'\n      timeout: -1\n", "pb.yml:4:16: timeout: takes a whole number of 0 or more, not -1"},
		{"delay negative", play + "    - command: 'true'\n      delay: -1\n", "delay: takes a whole number of 0 or more"},
		{"register not a name", play + "    - command: 'true'\n      register: my-result\n", `pb.yml:4:17: register: "my-result" is not a variable name`},
		{"register empty", play + "    - command: 'true'\n      register: ''\n", `register: "" is not a variable name`},
		{"set_fact not a name", play + "    - set_fact:\n        ok_name: 1\n        2bad: 2\n", `pb.yml:5:9: set_fact: "2bad" is not a variable name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(tt.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSensibleValuesAreAccepted(t *testing.T) {
	for _, yml := range []string{
		"- hosts: all\n  serial: [1, '30%', 2.0, \"{{ n }}\"]\n  tasks: []\n",
		play + "    - command: 'true'\n      retries: 0\n      delay: 0\n      timeout: 0\n      register: r_1\n",
		play + "    - set_fact:\n        _x: 1\n        \"{{ name }}\": 2\n        cacheable: true\n",
	} {
		_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
		assert.NoError(t, err, yml)
	}
}

// A folder that holds no role (no tasks/, handlers/, defaults/, vars/ or
// meta/ entry) is not taken for an empty role.
func TestFolderThatIsNoRoleIsRefused(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"site.yml":                  "- hosts: all\n  roles: [empty]\n",
		"roles/empty/README":        "nothing\n",
		"up.yml":                    "- hosts: all\n  roles: [../../../../../../../../etc]\n",
		"only_defaults.yml":         "- hosts: all\n  roles: [d]\n",
		"roles/d/defaults/main.yml": "x: 1\n",
	})
	_, err := (&playbook.Loader{}).LoadPlaybook(filepath.Join(dir, "site.yml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "site.yml:2:11: ")
	assert.Contains(t, err.Error(), "roles/empty is not a role")

	_, err = (&playbook.Loader{}).LoadPlaybook(filepath.Join(dir, "up.yml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/etc is not a role")

	_, err = (&playbook.Loader{}).LoadPlaybook(filepath.Join(dir, "only_defaults.yml"))
	assert.NoError(t, err, "a role with defaults only is a role")
}

// Keywords Ansible lets one template are accepted (decided at run time).
func TestTemplatedKeywordsAreAccepted(t *testing.T) {
	yml := "- hosts: all\n  no_log: \"{{ quiet }}\"\n  become: \"{{ b }}\"\n  environment: \"{{ env }}\"\n  tasks:\n" +
		"    - command: 'true'\n      no_log: \"{{ q }}\"\n      become: \"{{ b }}\"\n      retries: \"{{ n }}\"\n      delay: \"{{ d }}\"\n      until: true\n      environment: \"{{ env }}\"\n      ignore_errors: \"{{ i }}\"\n"
	_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
	assert.NoError(t, err)
	_, err = (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(play+"    - command: 'true'\n      no_log: \"{{ q = }}\"\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pb.yml:4:15: no_log: ")
}

// Role names Ansible resolves: a path-like name under every roles folder,
// and a collection-qualified name by the role's own name.
func TestRoleNamesResolveAsInAnsible(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"pb/site.yml":                           "- hosts: all\n  roles: [postgres/config, acme.pg.tune]\n",
		"shared/postgres/config/tasks/main.yml": "- debug: msg=config\n",
		"shared/tune/tasks/main.yml":            "- debug: msg=tune\n",
	})
	ld := &playbook.Loader{RolePaths: []string{filepath.Join(dir, "shared")}}
	pb, err := ld.LoadPlaybook(filepath.Join(dir, "pb", "site.yml"))
	require.NoError(t, err)
	var names []string
	for _, r := range pb.Plays[0].AllRoles {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"config", "tune"}, names)
}

// A suggestion among equally near names is the same on every run.
func TestDidYouMeanIsDeterministic(t *testing.T) {
	yml := play + "    - command: 'true'\n      notify: restart c\n  handlers:\n" +
		"    - name: restart b\n      command: 'true'\n    - name: restart a\n      command: 'true'\n"
	for range 30 {
		_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
		require.Error(t, err)
		require.Contains(t, err.Error(), `did you mean "restart a"?`)
	}
}

// Forms Ansible accepts that tpago refused or misread.
func TestAnsibleFormsAreAccepted(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"site.yml": play +
			"    - action: copy src=a.txt dest=/tmp/a\n" +
			"    - action: {module: ansible.builtin.debug, msg: hi}\n" +
			"    - include_role: name=r tasks_from=other\n" +
			"    - import_role: name=r\n" +
			"    - include_tasks: file=t.yml\n" +
			"    - ansible.builtin.include_tasks: t.yml\n" +
			"    - ansible.posix.sysctl: {name: vm.swappiness, value: '1'}\n" +
			"    - include_role: {name: acme.tools.r}\n" +
			"    - community.postgresql.postgresql_user: {name: app}\n",
		"t.yml":                   "- debug: msg=t\n",
		"roles/r/tasks/main.yml":  "- debug: msg=main\n",
		"roles/r/tasks/other.yml": "- debug: msg=other\n",
	})
	pb, err := (&playbook.Loader{}).LoadPlaybook(filepath.Join(dir, "site.yml"))
	require.NoError(t, err)
	ts := pb.Plays[0].Tasks
	require.Len(t, ts, 9)
	assert.Equal(t, "copy", ts[0].Module)
	assert.Equal(t, map[string]any{"src": "a.txt", "dest": "/tmp/a"}, ts[0].Args)
	assert.Equal(t, "debug", ts[1].Module)
	assert.Equal(t, "hi", ts[1].Args["msg"])
	require.NotNil(t, ts[2].Include)
	assert.Equal(t, "other", ts[2].Include.TasksFrom)
	assert.Equal(t, "other", ts[2].Include.LoadedRole.Tasks[0].Args["msg"])
	assert.True(t, ts[3].Static)
	require.NotNil(t, ts[4].Include)
	assert.Equal(t, "t.yml", ts[4].Include.File)
	assert.Len(t, ts[4].Include.Loaded, 1)
	assert.Len(t, ts[5].Include.Loaded, 1)
	assert.Equal(t, "sysctl", ts[6].Module)
	assert.Equal(t, "r", ts[7].Include.LoadedRole.Name)
	assert.Equal(t, "postgresql_user", ts[8].Module)
}

// Every problem is reported in one pass: past the first twenty, and the
// rest of a task whose keyword is wrong.
func TestEveryProblemIsReported(t *testing.T) {
	yml := play
	for range 30 {
		yml += "    - fil: {path: /x}\n"
	}
	_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
	require.Error(t, err)
	assert.Equal(t, 30, strings.Count(err.Error(), `unknown module or keyword "fil"`))

	yml = play + "    - file: {path: /x, stat: directory}\n      local_action: true\n      when: x ==\n"
	_, err = (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
	require.Error(t, err)
	for _, w := range []string{"pb.yml:3:24: file: argument stat: unknown argument", "pb.yml:4:7: local_action is not supported", "pb.yml:5:13: condition"} {
		assert.Contains(t, err.Error(), w)
	}
}

// A device or a pipe named as a playbook, task file or vars file would be
// read for ever: refused.
func TestSpecialFilesAreRefused(t *testing.T) {
	for _, yml := range []string{
		"- import_playbook: /dev/zero\n",
		"- hosts: all\n  vars_files: [/dev/zero]\n  tasks: []\n",
		play + "    - import_tasks: /dev/zero\n",
		play + "    - include_tasks: /dev/zero\n",
	} {
		done := make(chan error, 1)
		go func() {
			_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
			done <- err
		}()
		select {
		case err := <-done:
			require.Error(t, err, yml)
			assert.Contains(t, err.Error(), "not a regular file", yml)
		case <-time.After(10 * time.Second):
			t.Fatalf("loading %q did not end", yml)
		}
	}
}

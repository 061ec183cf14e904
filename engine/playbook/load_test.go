package playbook_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/module"
	_ "github.com/tpago/tpago/engine/modules"
	"github.com/tpago/tpago/engine/playbook"
)

func TestSplitArgsKeepsTemplatesWhole(t *testing.T) {
	_, spec, ok := module.Lookup("debug")
	require.True(t, ok)
	kv, rest, err := playbook.SplitArgs(`msg={{ x | upper }} verbosity=1`, spec)
	require.NoError(t, err)
	assert.Equal(t, "{{ x | upper }}", kv["msg"])
	assert.Equal(t, "1", kv["verbosity"])
	assert.Empty(t, rest)

	_, cmd, _ := module.Lookup("command")
	kv, rest, err = playbook.SplitArgs(`echo "a b" {{ item }} creates=/tmp/x`, cmd)
	require.NoError(t, err)
	assert.Equal(t, "/tmp/x", kv["creates"])
	assert.Equal(t, `echo "a b" {{ item }}`, rest)
}

func TestLoadErrorsPoint(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown module", "- hosts: all\n  tasks:\n    - fil: {path: /x}\n", "pb.yml:3:7: unknown module or keyword \"fil\""},
		{"unknown argument", "- hosts: all\n  tasks:\n    - file: {path: /x, stat: directory}\n", "pb.yml:3:24: file: argument stat: unknown argument (did you mean state?)"},
		{"bad choice", "- hosts: all\n  tasks:\n    - file: {path: /x, state: dir}\n", "value \"dir\" is not one of"},
		{"with_fileglob", "- hosts: all\n  tasks:\n    - debug: msg=x\n      with_fileglob: '*'\n", "pb.yml:4:7: with_fileglob is not supported"},
		{"two loops", "- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: [1]\n      with_items: [1]\n", "pb.yml:5:7: a task has one loop: with_items is the second"},
		{"local_action", "- hosts: all\n  tasks:\n    - local_action: command true\n", "pb.yml:3:7: local_action is not supported"},
		{"missing handler", "- hosts: all\n  tasks:\n    - command: 'true'\n      notify: restrat\n  handlers:\n    - name: restart\n      command: 'true'\n", "notify: no handler named or listening to \"restrat\""},
		{"bad expression", "- hosts: all\n  tasks:\n    - command: 'true'\n      when: x ==\n", "pb.yml:4:13: condition"},
		{"yaml syntax", "- hosts: all\n  tasks: [\n", "pb.yml:"},
		{"no hosts", "- tasks: []\n", "a play needs hosts:"},
		{"two modules", "- hosts: all\n  tasks:\n    - command: 'true'\n      shell: 'true'\n", "a task runs one module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ld := &playbook.Loader{}
			_, err := ld.LoadPlaybookData("pb.yml", []byte(tt.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSplitArgsKeepsMultilineScripts(t *testing.T) {
	_, spec, _ := module.Lookup("shell")
	script := "if [ -e /x ]; then\n  echo yes\nfi\n"
	kv, rest, err := playbook.SplitArgs(script+"creates=/tmp/y", spec)
	require.NoError(t, err)
	assert.Equal(t, "/tmp/y", kv["creates"])
	assert.Equal(t, strings.TrimSpace(script), rest)
}

package validate_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/template"
	"github.com/tpago/tpago/engine/validate"
)

// What an Ansible author sees for each construct tpago does not have: the
// reason and the hint, as docs/migrating-from-ansible.md lists them.
func TestAnsibleConstructs(t *testing.T) {
	tests := []struct {
		name   string
		task   string // one task, indented under tasks:
		line   int
		col    int
		reason string
		hint   string
	}{
		{"with_fileglob", "debug: msg=hi\n      with_fileglob: '*.conf'", 5, 7, "with_fileglob is not supported", "list the files"},
		{"local_action", "local_action: command echo hi", 4, 7, "local_action is not supported", "delegate_to: localhost"},
		{"async poll 0 on copy", "copy: content=x dest=/tmp/x\n      async: 10\n      poll: 0", 6, 7, "poll: 0 (start in the background) is supported for command and shell only, not copy", "drop poll: 0"},
		{"become_method su", "debug: msg=hi\n      become_method: su", 5, 22, `become_method "su" is not supported: tpago escalates with sudo`, ""},
		{"collection git", "ansible.builtin.git: repo=x dest=/y", 4, 7, `unknown module or keyword "ansible.builtin.git"`, "creates:"},
		{"filter title", "debug:\n        msg: \"{{ x | title }}\"", 5, 9, `unknown function "title"`, "capitalize(s)"},
		{"filter random", "debug:\n        msg: \"{{ [1, 2] | random }}\"", 5, 9, `unknown function "random"`, "runs are repeatable"},
		{"query", "debug:\n        msg: \"{{ query('inventory_hostnames', 'all') }}\"", 5, 9, `unknown lookup "inventory_hostnames"`, ""},
		{"version_compare", "debug: msg=hi\n      when: x is version_compare('1', '>=')", 5, 13, `version_compare`, "version(a, b, '>=')"},
		{"test regex", "debug: msg=hi\n      when: x is regex('a')", 5, 13, `unknown test "regex"`, "x is search(pattern)"},
		{"string repeat", "debug:\n        msg: \"{{ '=' * 3 }}\"", 5, 9, "invalid operation: *", "repeat('s', n)"},
		{"unknown filter", "debug:\n        msg: \"{{ x | no_such_filter }}\"", 5, 9, `unknown function "no_such_filter"`, "docs/functions.md"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "site.yml")
			text := "- hosts: all\n  vars: {x: a}\n  tasks:\n    - " + tc.task + "\n"
			require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
			fs := validate.Playbook(&playbook.Loader{}, file, nil, validate.Options{}).Findings
			require.Len(t, fs, 1, "%v", fs)
			f := fs[0]
			assert.Equal(t, file, f.File)
			assert.Equal(t, []int{tc.line, tc.col}, []int{f.Line, f.Col}, f.String())
			assert.Contains(t, f.Reason, tc.reason)
			assert.Contains(t, f.Hint, tc.hint)
		})
	}
}

func TestAnsiblePlayKeywords(t *testing.T) {
	tests := []struct {
		name, play, reason string
	}{
		{"vars_prompt", "- hosts: all\n  vars_prompt:\n    - name: pw\n  tasks: []\n", "vars_prompt is not supported: pass the values with -e name=value"},
		{"strategy", "- hosts: all\n  strategy: mitogen_linear\n  tasks: []\n", `unknown strategy "mitogen_linear": use linear or free`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "site.yml")
			require.NoError(t, os.WriteFile(file, []byte(tc.play), 0o644))
			fs := validate.Playbook(&playbook.Loader{}, file, nil, validate.Options{}).Findings
			require.Len(t, fs, 1, "%v", fs)
			assert.Equal(t, tc.reason, fs[0].Reason)
			assert.Equal(t, 2, fs[0].Line)
		})
	}
}

func TestAnsibleTemplateTags(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "templates"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "templates", "a.j2"), []byte("x\n{% include 'b.j2' %}\n"), 0o644))
	file := filepath.Join(dir, "site.yml")
	require.NoError(t, os.WriteFile(file, []byte("- hosts: all\n  tasks:\n    - template: src=a.j2 dest=/tmp/a\n"), 0o644))
	fs := validate.Playbook(&playbook.Loader{}, file, nil, validate.Options{}).Findings
	require.Len(t, fs, 1, "%v", fs)
	assert.Equal(t, filepath.Join(dir, "templates", "a.j2"), fs[0].File)
	assert.Equal(t, 2, fs[0].Line)
	assert.Contains(t, fs[0].Reason, `unknown tag "include"`)
	assert.Contains(t, fs[0].Hint, "its own template: task")
}

// The tables of equivalents name only what tpago lacks: when a module,
// function or tag is added, its entry must go.
func TestEquivalentsNameOnlyMissingThings(t *testing.T) {
	for name := range validate.AnsibleModules {
		_, _, ok := module.Lookup(name)
		assert.False(t, ok, "module %s exists now: remove it from AnsibleModules", name)
	}
	for name := range validate.AnsibleFilters {
		assert.Error(t, expr.Check("x | "+name), "function %s exists now: remove it from AnsibleFilters", name)
	}
	for name := range validate.AnsibleTags {
		_, err := template.Parse("t", "{% "+name+" %}")
		assert.Error(t, err, "tag %s exists now: remove it from AnsibleTags", name)
	}
}

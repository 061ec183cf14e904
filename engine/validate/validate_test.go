package validate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/tpago/tpago/engine/modules" // the modules the playbooks use
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/validate"
	"github.com/tpago/tpago/inventory"
)

func check(t *testing.T, file string, inv *inventory.Inventory) []validate.Finding {
	t.Helper()
	ld := &playbook.Loader{}
	return validate.Playbook(ld, filepath.Join("testdata", file), nil, validate.Options{Inventory: inv}).Findings
}

// Each playbook under testdata holds one problem; the finding must name
// the file, the line and column, the reason and, where one helps, a hint.
func TestOneProblemEach(t *testing.T) {
	tests := []struct {
		playbook string
		file     string // where the finding is, relative to testdata
		line     int
		col      int
		reason   string
		hint     string
	}{
		{"unknown_module.yml", "unknown_module.yml", 4, 7, `unknown module or keyword "copyy"`, "did you mean copy?"},
		{"bad_choice.yml", "bad_choice.yml", 6, 9, `value "directry" is not one of`, ""},
		{"missing_required.yml", "missing_required.yml", 4, 7, "missing required argument src", ""},
		{"unknown_arg.yml", "unknown_arg.yml", 7, 9, "argument mdoe: unknown argument (did you mean mode?)", ""},
		{"bad_type.yml", "bad_type.yml", 5, 9, `argument port: must be a number, not "eighty"`, ""},
		{"expr_syntax.yml", "expr_syntax.yml", 6, 13, `syntax error in expression "x =="`, ""},
		{"unknown_keyword.yml", "unknown_keyword.yml", 6, 7, `unknown task keyword "whn"`, "did you mean when?"},
		{"yaml_syntax.yml", "yaml_syntax.yml", 5, 14, "YAML syntax", ""},
		{"include_missing.yml", "include_missing.yml", 4, 22, "nothere.yml: file not found", ""},
		{"role_missing.yml", "role_missing.yml", 3, 7, `role "nosuchrole" not found`, ""},
		{"role_cycle/site.yml", "role_cycle/roles/b/meta/main.yml", 2, 5, "role dependency cycle", ""},
		{"notify_missing.yml", "notify_missing.yml", 7, 7, `no handler named or listening to "restart sshd"`, `did you mean "restart ssh"?`},
		{"undefined_when.yml", "undefined_when.yml", 8, 13, `undefined variable "pg_prot" in when`, "did you mean pg_port?"},
		{"undefined_arg.yml", "undefined_arg.yml", 5, 23, `undefined variable "port_number" in debug msg`, "default(port_number, VALUE)"},
		{"undefined_loop.yml", "undefined_loop.yml", 6, 17, `undefined variable "users" in loop`, ""},
		{"item_without_loop.yml", "item_without_loop.yml", 5, 18, `undefined variable "item"`, "only defined in a task with loop:"},
		{"role_undefined/site.yml", "role_undefined/roles/web/tasks/main.yml", 3, 29, `undefined variable "web_root"`, "did you mean web_port?"},
		{"copy_missing.yml", "copy_missing.yml", 5, 9, "copy: app.service not found", "files/"},
		{"template_missing.yml", "template_missing.yml", 5, 9, "template nothere.j2 not found", "templates/"},
		{"template_syntax/site.yml", "template_syntax/templates/motd.j2", 3, 7, "{{ is not closed with }}", ""},
		{"template_undefined/site.yml", "template_undefined/templates/motd.j2", 3, 13, `undefined variable "cluster" in template`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.playbook, func(t *testing.T) {
			fs := check(t, tc.playbook, nil)
			require.Len(t, fs, 1, "%v", fs)
			f := fs[0]
			assert.True(t, strings.HasSuffix(f.File, filepath.Join("testdata", tc.file)), "file %s", f.File)
			assert.Equal(t, tc.line, f.Line, "line")
			assert.Equal(t, tc.col, f.Col, "col")
			assert.Contains(t, f.Reason, tc.reason)
			if tc.hint != "" {
				assert.Contains(t, f.Hint+" "+f.Reason, tc.hint)
			}
			if !strings.HasPrefix(f.Reason, "YAML") {
				assert.Contains(t, f.Snippet, "^", "a snippet with a caret")
			}
			assert.True(t, strings.HasPrefix(f.String(), f.Pos()+": "), f.String())
		})
	}
}

func TestCleanPlaybook(t *testing.T) {
	inv, err := inventory.Load(filepath.Join("testdata", "clean", "inventory.yml"))
	require.NoError(t, err)
	fs := check(t, "clean/site.yml", inv)
	assert.Empty(t, fs)

	// Without the inventory, the variable it defines is missing.
	fs = check(t, "clean/site.yml", nil)
	require.Len(t, fs, 1)
	assert.Contains(t, fs[0].Reason, `"site_name"`)
	assert.Equal(t, 12, fs[0].Line)
}

func TestTasksWithKnownNamesAndHandlers(t *testing.T) {
	ld := &playbook.Loader{}
	file := filepath.Join("testdata", "hook", "post-deploy.yml")
	res := validate.Tasks(ld, file, validate.Options{Known: []string{"cluster_name"}, Handlers: []string{"restart postgres"}})
	require.Len(t, res.Findings, 2, "%v", res.Findings)
	assert.Contains(t, res.Findings[0].Reason, `undefined variable "postgres_prot"`)
	assert.Equal(t, 3, res.Findings[0].Line)
	assert.Contains(t, res.Findings[1].Reason, `no handler named or listening to "restart postgress"`)
	assert.Equal(t, `did you mean "restart postgres"?`, res.Findings[1].Hint)
	assert.Equal(t, 4, res.Findings[1].Line)
}

// validate reports every finding, not the first twenty.
func TestEveryFindingIsReported(t *testing.T) {
	text := "- hosts: all\n  tasks:\n" + strings.Repeat("    - copyy: {src: a, dest: b}\n", 30)
	fs := validate.Playbook(&playbook.Loader{}, "many.yml", []byte(text), validate.Options{}).Findings
	assert.Len(t, fs, 30)
}

// A hook that imports itself is a finding at the import, not a crash.
func TestHookThatImportsItself(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "post-deploy.yml")
	require.NoError(t, os.WriteFile(file, []byte("- debug: msg=hi\n- import_tasks: post-deploy.yml\n"), 0o644))
	res := validate.Tasks(&playbook.Loader{}, file, validate.Options{})
	require.Len(t, res.Findings, 1, "%v", res.Findings)
	f := res.Findings[0]
	assert.Equal(t, file, f.File)
	assert.Equal(t, []int{2, 17}, []int{f.Line, f.Col})
	assert.Contains(t, f.Reason, "import_tasks loop: "+file+" → "+file)
}

// getent sets getent_DATABASE (and ansible_facts) for the tasks after it;
// another database's fact stays undefined.
func TestGetentDefinesItsFact(t *testing.T) {
	fs := check(t, "getent_facts/site.yml", nil)
	require.Len(t, fs, 1, "%v", fs)
	assert.Contains(t, fs[0].Reason, `undefined variable "getent_group"`)
}

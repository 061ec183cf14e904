package docs

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/validate"
)

// Every Ansible name of docs/ansible_builtin.yml is either something tpago
// has or explained in the code (what to write instead): a name that is
// neither is a gap nobody has looked at.
func TestAnsibleEquivalentsExplainEveryName(t *testing.T) {
	sections, err := AnsibleSections()
	require.NoError(t, err)
	valid := []string{Supported, Partly, Refused, NotApplicable}
	for _, s := range sections {
		seen := map[string]bool{}
		for _, r := range s.Rows {
			assert.False(t, seen[r.Name], "%s: %s is listed twice", s.Title, r.Name)
			seen[r.Name] = true
			if r.Status == Unexplained {
				t.Errorf("%s: tpago neither has %s nor says what to write instead: implement it, or explain it "+
					"(validate.AnsibleModules, AnsibleFilters, AnsibleTests, AnsibleLookups, AnsibleVariables, playbook.UnsupportedKeywords)", s.Title, r.Name)
				continue
			}
			assert.Contains(t, valid, r.Status, "%s: %s", s.Title, r.Name)
			if r.Status != Supported {
				assert.NotEmpty(t, r.Note, "%s: %s is %s and says nothing about it", s.Title, r.Name, r.Status)
			}
		}
	}
}

// A module of the registry is not also explained as missing: when a module
// is added, its line in validate.AnsibleModules goes.
func TestAnsibleModulesAreMissing(t *testing.T) {
	for name := range validate.AnsibleModules {
		if _, _, ok := module.Lookup(name); ok {
			t.Errorf("%s is a module of tpago's registry: remove its line from validate.AnsibleModules", name)
		}
	}
	for name := range playbook.UnsupportedKeywords {
		_, key, _ := strings.Cut(name, ":")
		if key == "" {
			key = name
		}
		if !strings.HasPrefix(name, "play:") {
			assert.NotContains(t, playbook.TaskKeywords(), key, "%s is a task keyword and refused", name)
		}
	}
}

func TestAnsibleEquivalentsPage(t *testing.T) {
	p := AnsibleEquivalents()
	for _, want := range []string{"| `copy` | supported |", "| `yum` | not applicable |", "| `git` | refused |",
		"| `when:` | supported |", "| `vars_prompt:` | refused |", "| `default` | supported |", "| `title` | refused |",
		"| `defined` | supported |", "| `env` | supported |", "| `hostvars` | supported |", "| `ansible_hostname` | supported |",
		"| `--check`, `-C` | supported |", "| `{% macro %}` | refused |"} {
		assert.Contains(t, p, want)
	}
	n, err := LoadAnsibleNames()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(n.Modules["ansible.builtin"]), 70)
	assert.True(t, slices.IsSorted(n.Modules["ansible.builtin"]), "keep the modules sorted")
}

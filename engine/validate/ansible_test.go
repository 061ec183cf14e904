package validate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The hints of the tables docs/ansible-equivalents.md is generated from
// reach the user: a test, a lookup and a magic variable tpago lacks.
func TestAnsibleHintsForTestsLookupsAndVariables(t *testing.T) {
	for reason, hint := range map[string]string{
		`syntax error in expression "x is exists" at column 6: unknown test "exists"`:           AnsibleTests["exists"],
		`syntax error in expression "x is abs" at column 6: unknown test "abs"`:                 AnsibleTests["abs"],
		`syntax error in expression "lookup('ini', 'x')" at column 8: unknown lookup "ini" (…)`: AnsibleLookups["ini"],
	} {
		assert.Equal(t, hint, explainAnsible(Finding{Reason: reason}).Hint, reason)
	}
	a := &analyzer{}
	assert.Contains(t, a.hintFor("ansible_version", nil), AnsibleVariables["ansible_version"])
}

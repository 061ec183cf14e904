package expr

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Error messages speak Ansible's words for types, never Go's.
func TestErrorsSpeakAnsible(t *testing.T) {
	vars := map[string]any{"l": []any{1}, "m": map[string]any{"a": 1}, "s": "x", "n": 1, "f": 1.5}
	for _, code := range []string{
		"l + 1", "m + 1", "s - 1", "n - s", "f + s", "l[s]", "m.a.b", "l | round", "n | join(',')",
		"length(n)", "s is version", "n is version('1', '>=', 'x', 'y')", "l > 1", "m < 2", "-s", "l is divisibleby 2",
	} {
		_, err := Eval(code, vars)
		require.Error(t, err, code)
		for _, goWord := range []string{"interface {}", "[]interface", "map[string]", "float64", "is_", "<nil>"} {
			assert.NotContains(t, err.Error(), goWord, code)
		}
	}
	_, err := Eval("l + 1", vars)
	assert.ErrorContains(t, err, "can only concatenate list (not int) to list")
	_, err = Eval("n + s", vars)
	assert.ErrorContains(t, err, "unsupported operand types for +: int and string")
	_, err = Eval("l > 1", vars)
	assert.ErrorContains(t, err, "unsupported operand types for >: list and int")
}

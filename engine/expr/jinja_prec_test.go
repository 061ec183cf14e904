package expr

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Valid Jinja that public Ansible roles write, read as Jinja reads it
// (engine/template's TestExpressionsAgainstJinja compares the text with
// real Jinja2; these check the native values).
func TestJinjaSpellings(t *testing.T) {
	vars := map[string]any{"a": 1, "b": 2, "l": []any{"x", "y"}, "s": "1.2.3", "empty": []any{}, "nothing": nil, "flag": "yes", "n": 7,
		"lines": "a\nb", "m": map[string]any{"k": map[string]any{"o": 1}}}
	tests := []struct {
		code string
		want any
	}{
		{"not a == b", true},
		{"not a == 1", false},
		{"not 'x' in l", false},
		{"not l | length > 1", false},
		{"not a == b and not b == 3", true},
		{"not a == b if a else 'no'", true},
		{"a if not a == b else b", 1},
		{"flag in ('yes', 'no')", true},
		{"n not in (257, 0)", true},
		{"('a',)", []any{"a"}},
		{"()", []any{}},
		{"'x' is in l", true},
		{"'z' is not in l", true},
		{"true is sameas true", true},
		{"n is divisibleby 7", true},
		{"s is version('1.2', '>=')", true},
		{"s is version '1.3'", false},
		{"nothing or []", []any{}},
		{"empty or l", []any{"x", "y"}},
		{"l or []", []any{"x", "y"}},
		{"l and l[0]", "x"},
		{"empty and empty[0]", []any{}},
		{"nothing and nothing.x", nil},
		{"a or b", 1},
		{"a == 1 or b", true},
		{`lines.split('\n')`, []any{"a", "b"}},
		{"lines.split('\n')", []any{"a", "b"}},
		{`'a\.b'`, `a\.b`},
		{`"\*"`, `\*`},
		{`'\\1'`, `\1`},
		{`'\",\"'`, `","`},
		{`'\x41\u00e9\101'`, "Aé" + "A"},
		{"'%d' % n", "7"},
		{"'%s:%d' % ('h', n)", "h:7"},
		{"'{}-{}'.format(a, l[0])", "1-x"},
		{"'{0:>4}|{1:.2f}|{2:,}'.format(a, 2, 1234567)", "   1|2.00|1,234,567"},
		{"m | combine({'k': {'n': 1}}, recursive=True)", map[string]any{"k": map[string]any{"o": 1, "n": 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, err := Eval(tt.code, vars)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	got, err := Render("{{ m | combine({'k': {'n': 1}}) }}", vars)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"k": map[string]any{"n": 1}}, got)
	got, err = Render("x{{ {'a': {'b': 1}}.a.b }}y", vars)
	require.NoError(t, err)
	assert.Equal(t, "x1y", got)
}

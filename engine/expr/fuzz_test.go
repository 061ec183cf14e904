package expr

import (
	"errors"
	"testing"
)

// FuzzCheck: compiling any text either works or gives a *SyntaxError; the
// Jinja rewriting never panics.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"a | default(1)", "x is not defined", "a ~ b if c else d", "m.get('k', 1)", "hosts | map(attribute='name') | join(', ')",
		"(a | int) > 3 and not b", "{'a': [1, 2]}[\"a\"][0]", "let x = 1; x ?? 2", "filter(l, # > 1)", "'%s' | format(1)", "-x | abs",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		err := Check(code)
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("Check(%q) gave %T: %v", code, err, err)
		}
	})
}

package expr

import (
	"errors"
	"testing"
)

// The seed corpus is in testdata/fuzz; go test runs it as ordinary tests,
// go test -fuzz=FuzzCheck (or FuzzEval) explores further.

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

// FuzzEval: evaluating any expression that compiles, with small limits,
// gives a value or one of the package's errors; it never panics, and a
// string result stays within the value size limit.
func FuzzEval(f *testing.F) {
	for _, s := range []string{
		"c + 1", "ports | join(',')", "1 / 0", "'%d' % c", "m.y.z | upper", "range(5) | map('string') | list", "name ~ name",
		"not c == 3", "no_str or []", "hosts | selectattr('primary') | list", "'a,b' | split(',')", "db_host * 2",
	} {
		f.Add(s)
	}
	defer SetLimits(1<<16, 1000)()
	vars := testVars()
	f.Fuzz(func(t *testing.T, code string) {
		if Check(code) != nil {
			return
		}
		v, err := Eval(code, vars)
		if err != nil {
			var (
				se *SyntaxError
				ue *UndefinedError
				ee *EvalError
				ce *CycleError
				ve *VarError
			)
			if !errors.As(err, &se) && !errors.As(err, &ue) && !errors.As(err, &ee) && !errors.As(err, &ce) && !errors.As(err, &ve) {
				t.Fatalf("Eval(%q) gave %T: %v", code, err, err)
			}
			return
		}
		if s, ok := v.(string); ok && len(s) > MaxValueSize() {
			t.Fatalf("Eval(%q) gave %d bytes", code, len(s))
		}
	})
}

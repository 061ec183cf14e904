package expr

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookups(t *testing.T) {
	role := t.TempDir()
	play := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(role, "files"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(role, "templates"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(role, "files", "b.conf"), []byte("B\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(role, "templates", "t.txt"), []byte("{{ name }} on {{ port + 1 }}\n"), 0o644))
	t.Setenv("TPAGO_TEST_LOOKUP", "val")
	vars := map[string]any{"role_path": role, "playbook_dir": play, "name": "db", "name2": "x", "port": 5432, "m": map[string]any{"b": 2, "a": 1}}
	tests := []struct {
		code string
		want any
	}{
		{"lookup('env', 'TPAGO_TEST_LOOKUP')", "val"},
		{"lookup('ansible.builtin.env', 'TPAGO_TEST_LOOKUP')", "val"},
		{"lookup('env', 'TPAGO_TEST_LOOKUP', 'TPAGO_TEST_LOOKUP')", "val,val"},
		{"query('env', 'TPAGO_TEST_LOOKUP')", []any{"val"}},
		{"q('env', 'TPAGO_TEST_LOOKUP')", []any{"val"}},
		{"lookup('env', 'TPAGO_TEST_LOOKUP', wantlist=True)", []any{"val"}},
		{"lookup('env', 'TPAGO_NOT_SET_ANYWHERE', default='d')", "d"},
		{"lookup('file', 'b.conf')", "B"},
		{"lookup('file', 'nope.conf', errors='ignore')", nil},
		{"query('file', 'nope.conf', errors='ignore')", []any{}},
		{"lookup('first_found', ['a.conf', 'b.conf'])", filepath.Join(role, "files", "b.conf")},
		{"lookup('first_found', {'files': ['a.conf', 'b.conf'], 'paths': [role_path ~ '/files']})", filepath.Join(role, "files", "b.conf")},
		{"lookup('first_found', ['a.conf'], skip=True)", nil},
		{"lookup('template', 't.txt')", "db on 5433\n"},
		{"lookup('varnames', '^name')", "name,name2"},
		{"lookup('pipe', 'echo hi; echo')", "hi"},
		{"query('dict', m)", []any{map[string]any{"key": "a", "value": 1}, map[string]any{"key": "b", "value": 2}}},
		{"dict(a=1, b=name)", map[string]any{"a": 1, "b": "db"}},
		{"lookup('first_found', ['nope'], errors='ignore')", nil},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, err := Eval(tt.code, vars)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for code, msg := range map[string]string{
		"lookup('first_found', ['a.conf'])":       "no file was found among a.conf",
		"lookup('pipe', 'echo oops >&2; exit 3')": "oops",
		"lookup('file', 'nope.conf')":             "nope.conf: no such file or directory",
	} {
		_, err := Eval(code, vars)
		assert.ErrorContains(t, err, msg, code)
	}
}

// An unknown lookup is found when the expression is compiled, before any
// host is contacted.
func TestUnknownLookupAtCompileTime(t *testing.T) {
	for _, code := range []string{"lookup('nope', 'x')", "query('vars_nope', 'x', errors='ignore')", "q('x')"} {
		err := Check(code)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, code)
		assert.Contains(t, err.Error(), "unknown lookup", code)
	}
	err := Check("'x'.nomethod()")
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), `unknown method "nomethod"`)
	require.NoError(t, Check("lookup('env', 'HOME', errors='ignore') ~ query('file', 'x', wantlist=True) | join"))
}

func TestPasswordLookup(t *testing.T) {
	play := t.TempDir()
	vars := map[string]any{"playbook_dir": play}
	code := "lookup('password', 'credentials/pw length=12 chars=digits')"
	first, err := Eval(code, vars)
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9]{12}$`, first)
	st, err := os.Stat(filepath.Join(play, "credentials", "pw"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	again, err := Eval(code, vars)
	require.NoError(t, err)
	assert.Equal(t, first, again, "the stored password is used again")
	other, err := Eval("lookup('password', '/dev/null', length=30)", vars)
	require.NoError(t, err)
	assert.Len(t, other, 30)
	_, err = os.Stat(filepath.Join(play, "/dev/null"))
	assert.True(t, os.IsNotExist(err))
}

// Hosts asking for the same password at once all get the one stored.
func TestPasswordLookupConcurrent(t *testing.T) {
	vars := map[string]any{"playbook_dir": t.TempDir()}
	const n = 16
	got := make(chan any, n)
	for i := 0; i < n; i++ {
		go func() {
			v, err := Eval("lookup('password', 'pw')", vars)
			if err != nil {
				got <- err
				return
			}
			got <- v
		}()
	}
	first := <-got
	require.IsType(t, "", first)
	for i := 1; i < n; i++ {
		assert.Equal(t, first, <-got)
	}
}

func TestIsFilterAndIsTest(t *testing.T) {
	for _, f := range []string{"default", "d", "map", "selectattr", "to_json", "contains", "regex_replace"} {
		assert.True(t, IsFilter(f), f)
		assert.NoError(t, Check("x | "+f+"(1)"), f)
	}
	for _, f := range []string{"title", "random", "is_defined", "__strformat"} {
		assert.False(t, IsFilter(f), f)
	}
	for _, x := range []string{"defined", "equalto", "succeeded", "version", "in", "==", "none"} {
		assert.True(t, IsTest(x), x)
	}
	for _, x := range []string{"regex", "callable", "exists"} {
		assert.False(t, IsTest(x), x)
		assert.Error(t, Check("x is "+x), x)
	}
}

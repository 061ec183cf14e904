package expr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testVars() map[string]any {
	return map[string]any{
		"a":            "{{ b }}",
		"b":            "{{ c }}",
		"c":            3,
		"name":         "db",
		"cluster_name": "m1",
		"db_host":      "{{ cluster_name }}-db",
		"ports":        []any{5432, 6432},
		"tags":         []any{"a", "b", "a"},
		"templated":    []any{"{{ cluster_name }}", map[string]any{"n": "{{ c }}"}},
		"m":            map[string]any{"x": 1, "y": map[string]any{"z": "deep"}},
		"nothing":      nil,
		"flag":         true,
		"no_str":       "no",
		"reg":          Raw{map[string]any{"rc": 0, "changed": true, "failed": false, "stdout": "{{ not a template }}"}},
		"skipped_reg":  map[string]any{"skipped": true, "changed": false},
		"cyc1":         "{{ cyc2 }}",
		"bad_ref":      "{{ bad_ref2 }}",
		"bad_ref2":     "{{ nope + 1 }}",
		"bad_syntax":   "{{ 1 + }}",
		"cyc2":         "x{{ cyc1 }}",
		"raw":          Raw{"{{ untouched }}"},
		"h":            "node1",
		"hosts": []any{
			map[string]any{"name": "n1", "role": "primary", "primary": true, "port": 5432},
			map[string]any{"name": "n2", "role": "replica", "primary": false},
			map[string]any{"name": "n3", "role": "replica"},
		},
		"hostvars": map[string]any{
			"node1": map[string]any{"inventory_hostname": "node1", "role": "primary", "fqdn": "{{ inventory_hostname }}.example", "bad": "{{ missing }}"},
			"node2": map[string]any{"inventory_hostname": "node2", "role": "replica", "fqdn": "{{ inventory_hostname }}.example"},
		},
	}
}

func TestEval(t *testing.T) {
	vars := testVars()
	tests := []struct {
		code string
		want any
	}{
		{"c + 1", 4},
		{"a", 3},
		{"a + 1", 4},
		{"db_host", "m1-db"},
		{"templated", []any{"m1", map[string]any{"n": 3}}},
		{"ports[0]", 5432},
		{"ports[-1]", 6432},
		{"m.y.z", "deep"},
		{"m['y']['z']", "deep"},
		{"default(nope, 5)", 5},
		{"nope | default(5)", 5},
		{"nope | default('a') | upper", "A"},
		{"default(m.y.nokey.deeper, 1)", 1},
		{"default(nope.bar.baz, 1)", 1},
		{"default(nothing, 2)", 2},
		{"default('', 2)", ""},
		{"default('', 2, true)", 2},
		{"d(nope, 3)", 3},
		{"nope ?? 7", 7},
		{"m.nokey ?? 8", 8},
		{"defined(c)", true},
		{"defined(m.nokey)", false},
		{"nope is defined", false},
		{"nope is not defined", true},
		{"nope is undefined", true},
		{"m.x is defined and m.nokey is not defined", true},
		{"nope is defined and nope > 1", false},
		{"nothing is none", true},
		{"c is not none", true},
		{"reg is changed", true},
		{"reg is failed", false},
		{"reg is succeeded", true},
		{"reg is success", true},
		{"skipped_reg is skipped", true},
		{"True", true},
		{"False or None == nil", true},
		{"'a' ~ c ~ 'b'", "a3b"},
		{"name ~ '-' ~ c + 1", "db-4"},
		{"'yes' if c > 2 else 'no'", "yes"},
		{"'yes' if c > 5 else 'no'", "no"},
		{"[1 if flag else 2, 3]", []any{1, 3}},
		{"ports | join(',')", "5432,6432"},
		{"ports | length", 2},
		{"-5 | abs", 5},
		{"ports.0", 5432},
		{"m.y.z.0", "d"},
		{"', '.join(['a', 'b'])", "a, b"},
		{"' x '.rstrip() ~ '|'", " x|"},
		{"'xxa'.lstrip('x')", "a"},
		{"hosts | map(attribute='name')", []any{"n1", "n2", "n3"}},
		{"hosts | map(attribute='port', default=0)", []any{5432, 0, 0}},
		{"hosts | selectattr('role', 'equalto', 'replica') | map(attribute='name') | join(',')", "n2,n3"},
		{"hosts | selectattr('port', 'defined') | length", 1},
		{"hosts | rejectattr('role', '==', 'replica') | map(attribute='name')", []any{"n1"}},
		{"hosts | selectattr('primary') | map(attribute='name')", []any{"n1"}},
		{"hosts | sort(attribute='name', reverse=true) | map(attribute='name')", []any{"n3", "n2", "n1"}},
		{"hosts | sort(attribute='role') | first | string | length > 0", true},
		{"['a', 'bb'] | map('upper')", []any{"A", "BB"}},
		{"['pg1', 'x', 'pg2'] | select('match', 'pg')", []any{"pg1", "pg2"}},
		{"[0, 1, '', 'a'] | select", []any{1, "a"}},
		{"[0, 1, '', 'a'] | reject", []any{0, ""}},
		{"[1, 5, 10] | select('>', 4)", []any{5, 10}},
		{"nope | default(boolean=true, default_value='x')", "x"},
		{`'a\nb' | indent(first=true)`, "    a\n    b"},
		{"combine({'a': {'x': 1}}, {'a': {'y': 2}}, recursive=true)", map[string]any{"a": map[string]any{"x": 1, "y": 2}}},
		{"2 ** 10", 1024},
		{"7 // 2", 3},
		{"-7 // 2", -4},
		{"7.0 // 2", 3.0},
		{"c // 2 + 1", 2},
		{"default(nothing.x, 1)", 1},
		{"2 ** -1", 0.5},
		{"1.5 ** 2", 2.25},
		{"2 - 5 | abs", -3},
		{"ports | length > 1", true},
		{"c == '3' | int", true},
		{"'12' | int + 1", 13},
		{"'abc' | int", 0},
		{"'3.5' | float", 3.5},
		{"name | upper", "DB"},
		{"name.upper()", "DB"},
		{"'a,b'.split(',')", []any{"a", "b"}},
		{"' x '.strip()", "x"},
		{"m.get('x')", 1},
		{"m.get('q', 9)", 9},
		{"not flag", false},
		{"5432 in ports", true},
		{"'ab' in 'cabd'", true},
		{"'x' in m", true},
		{"7 not in ports", true},
		{"contains(ports, 6432)", true},
		{"ports | contains(1)", false},
		{"tags | unique", []any{"a", "b"}},
		{"union([1, 2], [2, 3])", []any{1, 2, 3}},
		{"intersect([1, 2], [2, 3])", []any{2}},
		{"difference([1, 2], [2, 3])", []any{1}},
		{"flatten([1, [2, [3]]])", []any{1, 2, 3}},
		{"flatten([1, [2, [3]]], 1)", []any{1, 2, []any{3}}},
		{"combine({'a': 1, 'b': 1}, {'b': 2})", map[string]any{"a": 1, "b": 2}},
		{"combine({'a': {'x': 1}}, {'a': {'y': 2}}, true)", map[string]any{"a": map[string]any{"x": 1, "y": 2}}},
		{"dict2items({'b': 2, 'a': 1})", []any{map[string]any{"key": "a", "value": 1}, map[string]any{"key": "b", "value": 2}}},
		{"items2dict([{'key': 'a', 'value': 1}])", map[string]any{"a": 1}},
		{"keys({'b': 1, 'a': 2})", []any{"a", "b"}},
		{"values({'b': 1, 'a': 2})", []any{2, 1}},
		{"range(3)", []any{0, 1, 2}},
		{"range(1, 7, 2)", []any{1, 3, 5}},
		{"zip([1, 2], ['a', 'b'])", []any{[]any{1, "a"}, []any{2, "b"}}},
		{"min([3, 1, 2])", 1},
		{"max(ports)", 6432},
		{"sort(['b', 'c', 'a'])", []any{"a", "b", "c"}},
		{"sort([3, 1, 2], true)", []any{3, 2, 1}},
		{"first(ports)", 5432},
		{"last(ports)", 6432},
		{"startswith(name, 'd')", true},
		{"endswith(name, 'x')", false},
		{"'%s-%04d' | format(name, 7)", "db-0007"},
		{"format('%.2f%%', 12.345)", "12.35%"},
		{"regex_replace('host-12', '^(\\\\w+)-(\\\\d+)$', '\\\\2:\\\\1')", "12:host"},
		{"regex_search('version 15.4', '[0-9.]+')", "15.4"},
		{"regex_search('abc', 'z')", nil},
		{"regex_findall('a1b22c333', '[0-9]+')", []any{"1", "22", "333"}},
		{"{'b': [1, 2], 'a': 'x'} | to_json", `{"a": "x", "b": [1, 2]}`},
		{"{'a': [1]} | to_nice_json", "{\n    \"a\": [\n        1\n    ]\n}"},
		{"'{\"a\": [1, 2.5]}' | from_json", map[string]any{"a": []any{1, 2.5}}},
		{"'a: [1, x]' | from_yaml", map[string]any{"a": []any{1, "x"}}},
		{"{'a': 1} | to_yaml", "a: 1\n"},
		{"'hi' | b64encode", "aGk="},
		{"'aGk=' | b64decode", "hi"},
		{"basename('/etc/pg/pg.conf')", "pg.conf"},
		{"dirname('/etc/pg/pg.conf')", "/etc/pg"},
		{"'yes' | bool", true},
		{"'off' | bool", false},
		{"1 | bool", true},
		{"c | string", "3"},
		{"quote(\"it's\")", `'it'"'"'s'`},
		{"quote('plain-word')", "plain-word"},
		{"quote('')", "''"},
		{"ternary(flag, 'a', 'b')", "a"},
		{"'abc' | sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"'abc' | md5", "900150983cd24fb0d6963f7d28e17f72"},
		{"hash('abc', 'sha1')", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"length('héllo')", 5},
		{"length({'a': 1})", 1},
		{"len(ports)", 2},
		{"map(ports, # + 1)", []any{5433, 6433}},
		{"filter(ports, # > 6000)", []any{6432}},
		{"let x = 2; x * c", 6},
		{"reg.stdout", "{{ not a template }}"},
		{"raw", "{{ untouched }}"},
		{"hostvars[h].role", "primary"},
		{"hostvars['node2'].fqdn", "node2.example"},
		{"hostvars.node1.fqdn", "node1.example"},
		{"hostvars[h].bad", "{{ missing }}"},
		{"default(hostvars.node3.role, 'none')", "none"},
		{"keys(hostvars)", []any{"node1", "node2"}},
		{"version('15.10', '15.9', '>')", true},
		{"'15.2' is version('16', '<')", true},
		{"'db1' is match('db[0-9]')", true},
		{"'xdb1' is match('db')", false},
		{"'xdb1' is search('db')", true},
		{"mandatory(c)", 3},
		{"'a'.upper() ~ name", "Adb"},
		{"lower('ABC')", "abc"},
		{"trim('  x ')", "x"},
		{"replace('a.b', '.', '_')", "a_b"},
		{"split('a b  c')", []any{"a", "b", "c"}},
		{"items({'b': 1, 'a': 2})", []any{[]any{"a", 2}, []any{"b", 1}}},
		{"'5' is number", false},
		{"5 is number", true},
		{"m is mapping", true},
		{"ports is sequence", true},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, err := Eval(tt.code, vars)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEvalErrors(t *testing.T) {
	vars := testVars()
	tests := []struct {
		code     string
		undef    string // the UndefinedError's Name, if one is expected
		contains string
	}{
		{code: "nope", undef: "nope", contains: `undefined variable "nope" in expression "nope"`},
		{code: "nope + 1", undef: "nope"},
		{code: "c + nope", undef: "nope"},
		{code: "m.nokey", undef: "m.nokey", contains: `undefined key "nokey" in m.nokey`},
		{code: "nope.bar", undef: "nope"},
		{code: "hostvars.node3.role", undef: "hostvars.node3"},
		{code: "nope is defined or nope", undef: "nope"},
		{code: "mandatory(nope)", undef: "nope"},
		{code: "mandatory(nope, 'set nope please')", contains: "set nope please"},
		{code: "ports[5]", contains: "index 5 out of range for a list of 2"},
		{code: "nothing.x", contains: `cannot read key "x" of a nil value (nothing.x)`},
		{code: "cyc1", contains: "variable cycle: cyc1 -> cyc2 -> cyc1"},
		{code: "join(5, ',')", contains: `join: expects a list, got int in expression "join(5, ',')"`},
		{code: "bad_ref ~ 'x'", undef: "nope", contains: `variable "bad_ref": variable "bad_ref2": undefined variable "nope" in expression "nope + 1"`},
		{code: "bad_syntax", contains: `variable "bad_syntax": syntax error in expression "1 +" at column 3`},
		{code: "upper()", contains: `upper: takes 1 argument(s), got 0 in expression "upper()"`},
		{code: "c + name", contains: `unsupported operand types for +: int and string in expression "c + name"`},
		{code: "lookup('nope', 'x')", contains: `unknown lookup "nope"`},
		{code: "'x' | regex_search('(')", contains: "bad regular expression"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			_, err := Eval(tt.code, vars)
			require.Error(t, err)
			if tt.undef != "" {
				var ue *UndefinedError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, tt.undef, ue.Name)
				if !strings.HasPrefix(tt.code, "bad_") {
					assert.Equal(t, tt.code, ue.Expr)
				}
			}
			if tt.contains != "" {
				assert.Contains(t, err.Error(), tt.contains)
			}
			if tt.code == "cyc1" {
				var ce *CycleError
				require.ErrorAs(t, err, &ce)
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		code string
		col  int
		msg  string
	}{
		{"1 +", 3, "unexpected token EOF"},
		{"a b", 3, "unexpected token"},
		{"foo(1)", 1, `unknown function "foo"`},
		{"x is bogus", 6, `unknown test "bogus"`},
		{"x | nofilter", 5, `unknown function "nofilter"`},
		{"x | upper(foo=1)", 0, "upper() takes no keyword arguments (foo=)"},
		{"x | sort(bogus=1)", 0, "sort() has no argument bogus"},
		{"", 0, "empty expression"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := Check(tt.code)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.code, se.Expr)
			assert.Equal(t, tt.col, se.Col, se.Error())
			assert.Contains(t, se.Msg, tt.msg)
			_, err = Eval(tt.code, nil)
			require.ErrorAs(t, err, &se)
		})
	}
	require.NoError(t, Check("a.b | default(1) > 3"))
	require.NoError(t, CheckTemplate("x {{ a }} y {{ b | upper }}"))
	var se *SyntaxError
	require.ErrorAs(t, CheckTemplate("x {{ a + }}"), &se)
	require.ErrorAs(t, CheckTemplate("x {{ a"), &se)
	assert.Equal(t, 3, se.Col)
}

func TestIdentifiers(t *testing.T) {
	tests := []struct {
		code string
		want []string
	}{
		{"a + b.c", []string{"a", "b"}},
		{"upper(name) ~ x | join(sep)", []string{"name", "sep", "x"}},
		{"map(items, # + n)", []string{"items", "n"}},
		{"let y = 1; y + z", []string{"z"}},
		{"default(opt, 1) + hostvars[h].x", []string{"h", "hostvars", "opt"}},
		{"filter(users, .admin)", []string{"users"}},
		{"1 + 2", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, err := Identifiers(tt.code)
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.want, got)
		})
	}
	refs, err := Refs("default(a, 1) + b + (c ?? 2) + default(b, 3)")
	require.NoError(t, err)
	assert.Equal(t, []Ref{{"a", true}, {"b", false}, {"c", true}}, refs)
}

func TestRender(t *testing.T) {
	vars := testVars()
	tests := []struct {
		in   string
		want any
	}{
		{"plain", "plain"},
		{"{{ ports }}", []any{5432, 6432}},
		{"  {{ c }} ", 3},
		{"{{ c }}\n", "3\n"}, // a newline (YAML block scalar) keeps it text
		{"{{ flag }}", true},
		{"{{ m }}", map[string]any{"x": 1, "y": map[string]any{"z": "deep"}}},
		{"{{ a }}", 3},
		{"port={{ ports[0] }} host={{ db_host }}", "port=5432 host=m1-db"},
		{"{{ ports }}/{{ m.y }}", `[5432,6432]/{"z":"deep"}`},
		{"x{{ nothing }}y", "xy"},
		{"{{ flag }}!", "true!"},
		{"{{ 1.5 }} {{ 10.0 }}", "1.5 10"},
		{"a {{- ' b ' -}} c", "a b c"},
		{"{{ '}}' }}", "}}"},
		{"{{ name }}{{ c }}", "db3"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Render(tt.in, vars)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := Render("x {{ nope }}", vars)
	var ue *UndefinedError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "nope", ue.Name)
	_, err = Render("{% if x %}y{% endif %}", vars)
	require.ErrorContains(t, err, "{% %} tags need the template engine") // tested with it in engine/template
}

func TestRenderDeep(t *testing.T) {
	vars := testVars()
	in := map[string]any{
		"name":  "{{ db_host }}",
		"list":  []any{"{{ c }}", "lit", map[string]any{"k": "{{ ports }}"}},
		"plain": 5,
	}
	got, err := RenderDeep(in, vars)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"name":  "m1-db",
		"list":  []any{3, "lit", map[string]any{"k": []any{5432, 6432}}},
		"plain": 5,
	}, got)
	assert.Equal(t, "{{ db_host }}", in["name"], "input must not change")
	assert.Equal(t, "{{ c }}", in["list"].([]any)[0])
}

func TestMixedIntegerTypes(t *testing.T) {
	vars := map[string]any{"u": uint64(1), "i": int64(2), "f": 2.0}
	for code, want := range map[string]any{
		"u + 1":             2,
		"u + i == 3":        true,
		"i == f":            true,
		"u in [1, 2]":       true,
		"[u, i] | max":      int64(2),
		"range(i) | length": 2,
	} {
		got, err := Eval(code, vars)
		require.NoError(t, err, code)
		assert.EqualValues(t, want, got, code)
	}
}

// TestTruthy: one truth, Jinja's, everywhere a value is read as true or
// false; conditions must be booleans, as in ansible-core 2.19.
func TestTruthy(t *testing.T) {
	for _, v := range []any{nil, false, 0, 0.0, "", []any{}, map[string]any{}, int64(0), uint8(0), Raw{""}} {
		assert.False(t, Truthy(v), "%#v", v)
	}
	for _, v := range []any{true, 1, -1, 0.5, "x", "yes", "no", "false", "OFF", "0", []any{nil}, map[string]any{"a": 1}, int64(3)} {
		assert.True(t, Truthy(v), "%#v", v)
	}
	ok, err := EvalBool("nope is defined or c > 2", testVars())
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = EvalBool("no_str | bool", testVars())
	require.NoError(t, err)
	assert.False(t, ok)

	for code, want := range map[string]any{
		"no_str":     `conditional result was "no" of type string, which is true; a condition must be true or false`,
		"ports":      "conditional result was [5432,6432] of type list, which is true",
		"nothing":    "conditional result was None of type None, which is false",
		"c":          "conditional result was 3 of type int, which is true",
		"m":          "of type dict, which is true",
		"name ~ 'x'": `conditional result was "dbx" of type string`,
	} {
		_, err := EvalBool(code, testVars())
		var ce *ConditionError
		require.ErrorAs(t, err, &ce, code)
		assert.Contains(t, err.Error(), want, code)
	}
	t.Setenv(AllowBrokenConditionalsEnv, "true")
	ok, err = EvalBool("no_str", testVars())
	require.NoError(t, err)
	assert.True(t, ok, "with broken conditionals allowed, Jinja's truth")

	// the filters and tests that read truth agree with {% if %}
	for code, want := range map[string]any{
		"no_str | ternary('t', 'f')":      "t",
		"no_str is truthy":                true,
		"no_str is falsy":                 false,
		"'' | default('d', true)":         "d",
		"no_str | default('d', true)":     "no",
		"['no', '', 'x'] | select | list": []any{"no", "x"},
		"no_str | bool":                   false,
		"'yes' | bool":                    true,
	} {
		got, err := Eval(code, testVars())
		require.NoError(t, err, code)
		assert.Equal(t, want, got, code)
	}
}

func TestHasTemplate(t *testing.T) {
	assert.True(t, HasTemplate("a {{ b }}"))
	assert.True(t, HasTemplate("{% if %}"))
	assert.False(t, HasTemplate("a { b }"))
}

func TestLookup(t *testing.T) {
	t.Setenv("TPAGO_TEST_LOOKUP", "val")
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	require.NoError(t, os.WriteFile(p, []byte("content\n\n"), 0o600))
	got, err := Eval("lookup('env', 'TPAGO_TEST_LOOKUP') ~ '/' ~ lookup('file', path)", map[string]any{"path": p})
	require.NoError(t, err)
	assert.Equal(t, "val/content", got)
	_, err = Eval("lookup('file', path)", map[string]any{"path": filepath.Join(dir, "none")})
	require.ErrorContains(t, err, "no such file")
}

func TestFunctionsDocumented(t *testing.T) {
	docs := Functions()
	names := map[string]bool{}
	for _, d := range docs {
		assert.NotEmpty(t, d.Signature, d.Name)
		assert.NotEmpty(t, d.Doc, d.Name)
		assert.False(t, strings.HasPrefix(d.Name, "__"), d.Name)
		names[d.Name] = true
	}
	for _, want := range []string{"default", "mandatory", "join", "split", "regex_replace", "to_nice_yaml", "password_scram", "combine", "lookup", "quote", "format"} {
		assert.True(t, names[want], want)
	}
}

func TestConcurrentEval(t *testing.T) {
	vars := testVars()
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			for j := 0; j < 200; j++ {
				v, err := Eval("db_host ~ '-' ~ a", vars)
				if err == nil && v != "m1-db-3" {
					err = errors.New("wrong value")
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for i := 0; i < 8; i++ {
		require.NoError(t, <-done)
	}
}

func TestScramDeterministic(t *testing.T) {
	a := ScramSHA256("secret", "cluster-seed")
	assert.Equal(t, a, ScramSHA256("secret", "cluster-seed"))
	assert.NotEqual(t, a, ScramSHA256("secret", "other-seed"))
	assert.NotEqual(t, a, ScramSHA256("other", "cluster-seed"))
	assert.True(t, strings.HasPrefix(a, "SCRAM-SHA-256$4096:"))
}

func BenchmarkEval(b *testing.B) {
	vars := testVars()
	for b.Loop() {
		if _, err := Eval("c > 2 and name == 'db' and default(nope, 1) == 1", vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	vars := testVars()
	for b.Loop() {
		if _, err := Render("host={{ db_host }} port={{ ports[0] }} n={{ a }}", vars); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTestsDocumented(t *testing.T) {
	for _, d := range Tests() {
		_, ok := funcIndex["is_"+d.Name]
		if !ok {
			_, ok = testAliases[d.Name]
		}
		assert.True(t, ok, "test %q is documented but does not exist", d.Name)
	}
}

// BenchmarkCompile is the cost the program cache saves on every repeat.
func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		if _, err := compileUncached("hosts | selectattr('role', 'eq', 'primary') | map(attribute='name') | join(',') ~ default(x, '')"); err != nil {
			b.Fatal(err)
		}
	}
}

// from_yaml reads through yamlx: an alias bomb is refused, not expanded.
func TestFromYAMLRefusesAliasBombs(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	_, err := Eval("s | from_yaml", map[string]any{"s": b.String()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "alias")
}

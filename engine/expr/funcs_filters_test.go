package expr

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMoreFilters(t *testing.T) {
	vars := map[string]any{
		"m":     map[string]any{"b": 1, "A": 2, "a": 3},
		"hosts": []any{map[string]any{"name": "n1", "state": "up", "port": 5432}, map[string]any{"name": "n2", "state": "down", "port": 5433}},
		"text":  "a\nb",
	}
	tests := []struct {
		code string
		want any
	}{
		{"m | dictsort", []any{[]any{"A", 2}, []any{"a", 3}, []any{"b", 1}}},
		{"m | dictsort(true)", []any{[]any{"A", 2}, []any{"a", 3}, []any{"b", 1}}},
		{"m | dictsort(by='value')", []any{[]any{"b", 1}, []any{"A", 2}, []any{"a", 3}}},
		{"m | dictsort(reverse=true) | map('first') | list", []any{"b", "a", "A"}},
		{"'/etc/postgresql/15/main' | relpath('/etc')", "postgresql/15/main"},
		{"'a/b/c' | relpath('a')", "b/c"},
		{"text | comment", "#\n# a\n# b\n#"},
		{"'local'.ljust(7) ~ '|'", "local  |"},
		{"{'pg': ['x', '101', '/bin/bash'], 'me': ['x', '1000', '/bin/sh']} | dict2items | selectattr('value.2', 'equalto', '/bin/bash') | map(attribute='key') | list", []any{"pg"}},
		{"[{'a': ['p', 'q']}] | map(attribute='a.1') | list", []any{"q"}},
		{"[{'a': {'1': 'one'}}] | map(attribute='a.1') | list", []any{"one"}},
		{"'host'.rjust(6, '0')", "00host"},
		{"'toolong'.ljust(3)", "toolong"},
		{"'ab' | center(5)", "  ab "},
		{"'abc' | center(6)", " abc  "},
		{"'a'.center(4, '*')", "*a**"},
		{"'é'.ljust(3, '.')", "é.."},
		{"text | comment('c')", "//\n// a\n// b\n//"},
		{"text | comment('cblock')", "/*\n *\n * a\n * b\n *\n */"},
		{"'a\n\nb' | comment('xml')", "<!--\n -\n - a\n -\n - b\n -\n-->"},
		{"'x' | comment(decoration='; ')", ";\n; x\n;"},
		{"'x' | comment('erlang', prefix_count=2, postfix_count=2)", "%\n%\n% x\n%\n%"},
		{"hosts | json_query('[?state==`up`].name')", []any{"n1"}},
		{"hosts | json_query('[].port')", []any{5432, 5433}},
		{"hosts | json_query('[0]')", map[string]any{"name": "n1", "state": "up", "port": 5432}},
		{"'abcb' | regex_replace('(b)', '<\\\\1>')", "a<b>c<b>"},
		{"'abcb' | regex_replace('(?P<x>b)', '[\\\\g<x>\\\\g<1>]')", "a[bb]c[bb]"},
		{"'15.4' is version('15', '>=')", true},
		{"['A', 'b'] | map('extract', m) | list", []any{2, 1}},
		{"[1, 0] | map('extract', hosts, 'name') | list", []any{"n2", "n1"}},
		{"0 | extract(hosts, ['name'])", "n1"},
		{"'15.4' is version('15.10', 'lt')", true},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, err := Eval(tt.code, vars)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := Eval("hosts | json_query('[?')", vars)
	assert.ErrorContains(t, err, "json_query")
	_, err = Eval("'zz' | extract(m)", vars)
	assert.ErrorContains(t, err, "zz")
	_, err = Eval("'x'.ljust('wide')", vars)
	assert.ErrorContains(t, err, "ljust: the width must be a whole number")
	_, err = Eval("'x'.rjust(4, '--')", vars)
	assert.ErrorContains(t, err, "the fill character must be one character")
}

package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/expr"
)

// loadVars reads the golden tests' variables, keeping integers integers.
func loadVars(t testing.TB) map[string]any {
	b, err := os.ReadFile("testdata/golden/vars.json")
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	require.NoError(t, dec.Decode(&v))
	return fixNumbers(v).(map[string]any)
}

func fixNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil && !strings.ContainsAny(x.String(), ".eE") {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = fixNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fixNumbers(x[k])
		}
	}
	return v
}

// TestGolden compares byte for byte with what Jinja2 (trim_blocks,
// keep_trailing_newline, as Ansible's template module) rendered; the
// expected outputs were made by testdata/gen_golden.py.
func TestGolden(t *testing.T) {
	vars := loadVars(t)
	inputs, err := filepath.Glob("testdata/golden/*.j2")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			require.NoError(t, err)
			want, err := os.ReadFile(strings.TrimSuffix(in, ".j2") + ".out")
			require.NoError(t, err)
			got, err := RenderString(filepath.Base(in), string(src), vars)
			require.NoError(t, err)
			assert.Equal(t, string(want), got)
		})
	}
}

func TestRender(t *testing.T) {
	vars := map[string]any{
		"name":  "db",
		"host":  "{{ name }}-1", // inventory values are templates themselves
		"list":  []any{"a", "b"},
		"m":     map[string]any{"b": 2, "a": 1},
		"items": []any{map[string]any{"key": "k1", "value": "v1"}},
		"flag":  true,
	}
	tests := []struct {
		name, in, want string
	}{
		{"lazy var", "{{ host }}", "db-1"},
		{"bool", "{{ flag }} {{ not flag }}", "True False"},
		{"none", "{{ None }}", "None"},
		{"map repr", "{{ m }}", "{'a': 1, 'b': 2}"},
		{"dict loop", "{% for k in m %}{{ k }}{% endfor %}", "ab"},
		{"dict two names", "{% for k, v in m %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;"},
		{"dict2items unpack", "{% for k, v in items %}{{ k }}={{ v }}{% endfor %}", "k1=v1"},
		{"dict2items fn", "{% for k, v in dict2items(m) %}{{ k }}{{ v }}{% endfor %}", "a1b2"},
		{"loop var shadows", "{% for name in list %}{{ name }}{% endfor %}{{ name }}", "abdb"},
		{"set scoping", "{% set x = 1 %}{% for i in list %}{% set x = 2 %}{% endfor %}{{ x }}", "1"},
		{"set in if leaks", "{% if flag %}{% set x = 5 %}{% endif %}{{ x }}", "5"},
		{"block set", "{% set x %}\n{{ name }}:{% for i in list %}{{ i }}{% endfor %}\n\n{% endset %}[{{ x | upper }}]", "[DB:AB\n]"},
		{"block set in loop is local", "{% set x = 1 %}{% for i in list %}{% set x %}{{ i }}{% endset %}{% endfor %}{{ x }}", "1"},
		{"revindex", "{% for i in list %}{{ loop.revindex }}{{ loop.revindex0 }}{% endfor %}", "2110"},
		{"plus keeps newline", "{% if flag +%}\nx{% endif %}", "\nx"},
		{"crlf trim", "{% if flag %}\r\nx{% endif %}", "x"},
		{"expr string with delimiters", "{{ '%}' ~ \"}}\" }}", "%}}}"},
		{"ansible tests", "{{ missing is defined }} {{ (m.c ?? 3) }}", "False 3"},
		{"float", "{{ 1e20 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1.5e15 }}", "1e+20 0.0001 1e-05 1500000000000000.0"},
		{"string repr in list", `{{ ["it's", 'a"b', "x\ny"] }}`, `["it's", 'a"b', 'x\ny']`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderString("t", tt.in, vars)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"a\n{{ x +}}", "t:2:6: bad expression \"x +\""},
		{"a\n  {% if %}", "t:2:3: {% if %} needs a condition"},
		{"{% if x %}\nabc", "t:1:1: {% if %} is not closed with {% endif %}"},
		{"x\n{% endif %}", "t:2:1: unexpected {% endif %}"},
		{"{% for x in y %}", "t:1:1: {% for %} is not closed with {% endfor %}"},
		{"{% for in y %}{% endfor %}", "t:1:1: bad for"},
		{"{% include 'x' %}", "t:1:1: unknown tag \"include\""},
		{"ab {{ x", "t:1:4: {{ is not closed with }}"},
		{"{# open", "t:1:1: {# is not closed with #}"},
		{"{% raw %}x", "t:1:1: {% raw %} is not closed"},
		{"{% set x %}", "t:1:1: {% set x %} is not closed with {% endset %}"},
		{"{% set x y %}", "t:1:1: bad set"},
		{"x{% endset %}", "t:1:2: unexpected {% endset %}"},
		{"{% %}", "t:1:1: empty {% %} tag"},
		{"{% if a %}{% else %}{% elif b %}{% endif %}", "t:1:21: unexpected {% elif %}"},
		{"\n\n{{ foo(1) }}", "t:3:4: bad expression \"foo(1)\": unknown function \"foo\""},
		{"{% if x is bogus %}{% endif %}", "t:1:12: bad expression"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse("t", tt.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			var te *Error
			require.ErrorAs(t, err, &te)
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tmpl, err := Parse("conf.j2", "ok\n{% for h in hosts %}\n{{ h.nokey }}\n{% endfor %}\n{{ missing }}\n")
	require.NoError(t, err)
	_, err = tmpl.Render(map[string]any{"hosts": []any{map[string]any{"a": 1}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `conf.j2:3: undefined key "nokey" in h.nokey`)
	var ue *expr.UndefinedError
	require.True(t, errors.As(err, &ue))

	_, err = tmpl.Render(map[string]any{"hosts": []any{}})
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "missing", ue.Name)
	assert.Contains(t, err.Error(), "conf.j2:5:")

	_, err = tmpl.Render(map[string]any{"hosts": 5})
	assert.ErrorContains(t, err, "conf.j2:2: for h in hosts: cannot loop over int")
	_, err = RenderString("t", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", nil)
	assert.ErrorContains(t, err, "t:1: for a, b in [[1, 2, 3]]: cannot unpack 3 values into 2 names")
}

func TestConcurrentRender(t *testing.T) {
	tmpl, err := Parse("t", "{% for i in range(n) %}{{ i }}{% endfor %}")
	require.NoError(t, err)
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for n := 0; n < 50; n++ {
				out, err := tmpl.Render(map[string]any{"n": 3})
				if err == nil && out != "012" {
					err = errors.New("bad output " + out)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		require.NoError(t, <-errs)
	}
}

func FuzzParse(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/golden/*.j2")
	for _, in := range inputs {
		b, _ := os.ReadFile(in)
		f.Add(string(b))
	}
	for _, s := range []string{"{{", "{%", "{#", "{{-", "-}}", "{% raw %}{% endraw %}", "{{ a | b(c) is d ~ e if f else g }}", "{% for a, b in c %}{% else %}{% endfor %}", "{{ '\\'' }}", "{% set x = %}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := Parse("fuzz", s)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error is not a *template.Error: %v", err)
			}
			return
		}
		_ = tmpl
	})
}

func BenchmarkTemplateRender(b *testing.B) {
	vars := loadVars(b)
	src, err := os.ReadFile("testdata/golden/09_postgresql_conf.j2")
	require.NoError(b, err)
	tmpl, err := Parse("pg.conf", string(src))
	require.NoError(b, err)
	for b.Loop() {
		if _, err := tmpl.Render(vars); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRefs(t *testing.T) {
	tmpl, err := Parse("t", `{% set x = base %}{% for h in hosts %}{{ h.name }} {{ loop.index }} {{ x }} {{ port }}{% endfor %}{{ opt | default(1) }}{% if flag %}{{ h2 }}{% endif %}{% set y %}{{ inner }}{% endset %}{{ y }}`)
	require.NoError(t, err)
	assert.Equal(t, []expr.Ref{
		{Name: "base"}, {Name: "flag"}, {Name: "h2"}, {Name: "hosts"}, {Name: "inner"}, {Name: "opt", Optional: true}, {Name: "port"},
	}, tmpl.Refs())
}

type countingScope struct {
	vars   map[string]any
	looked map[string]int
}

func (c *countingScope) Lookup(name string) (any, bool) {
	c.looked[name]++
	v, ok := c.vars[name]
	return v, ok
}

func TestRenderInIsLazy(t *testing.T) {
	sc := &countingScope{vars: map[string]any{"a": "{{ b }}!", "b": 1, "unused": "{{ broken"}, looked: map[string]int{}}
	out, err := RenderStringIn("t", "{{ a }}", sc)
	require.NoError(t, err)
	assert.Equal(t, "1!", out)
	assert.Zero(t, sc.looked["unused"], "variables the template does not use are not read")
}

// TestWhitespaceAgainstJinja replays random mixes of tags, text and
// whitespace controls whose output real Jinja2 produced (see
// testdata/gen_whitespace.py).
func TestWhitespaceAgainstJinja(t *testing.T) {
	b, err := os.ReadFile("testdata/whitespace.json")
	require.NoError(t, err)
	var cases []struct{ Src, Out string }
	require.NoError(t, json.Unmarshal(b, &cases))
	require.NotEmpty(t, cases)
	vars := map[string]any{"v": "V", "t": true, "f": false, "l": []any{1, 2}, "n": nil, "b": 1.0}
	for _, c := range cases {
		got, err := RenderString("case", c.Src, vars)
		if assert.NoError(t, err, "%q", c.Src) {
			assert.Equal(t, c.Out, got, "%q", c.Src)
		}
	}
}

// TestExpressionsAgainstJinja renders expressions written alike in both
// languages and compares with real Jinja2's output (testdata/gen_expressions.py).
func TestExpressionsAgainstJinja(t *testing.T) {
	b, err := os.ReadFile("testdata/expressions.json")
	require.NoError(t, err)
	var cases []struct{ Expr, Out string }
	require.NoError(t, json.Unmarshal(b, &cases))
	// Deliberate differences: string() writes values as task arguments do
	// (lowercase booleans, nil as ""), and default() also replaces nil.
	deliberate := map[string]string{
		"true | string":             "true",
		"nothing | string":          "",
		"nothing | default('dflt')": "dflt",
	}
	vars := loadVars(t)
	for _, c := range cases {
		if want, ok := deliberate[c.Expr]; ok {
			c.Out = want
		}
		got, err := RenderString("expr", "{{ "+c.Expr+" }}", vars)
		if assert.NoError(t, err, c.Expr) {
			assert.Equal(t, c.Out, got, c.Expr)
		}
	}
}

func TestInlineBlocksInExprRender(t *testing.T) {
	vars := map[string]any{
		"hosts":  []any{"a", "b"},
		"conf":   "{% for h in hosts %}{{ h }}:{{ port }}\n{% endfor %}",
		"port":   "{{ base + 1 }}",
		"base":   5432,
		"loopy":  "{% if loopy2 %}x{% endif %}",
		"loopy2": "{{ loopy }}",
	}
	got, err := expr.Render("{{ conf }}", vars)
	require.NoError(t, err)
	assert.Equal(t, "a:5433\nb:5433\n", got)
	got, err = expr.Render("{% if base > 1 %}big{% else %}small{% endif %}", vars)
	require.NoError(t, err)
	assert.Equal(t, "big", got)
	require.NoError(t, expr.CheckTemplate("{% for x in y %}{{ x }}{% endfor %}"))
	assert.ErrorContains(t, expr.CheckTemplate("{% for x in y %}"), "inline template:1:1: {% for %} is not closed")
	_, err = expr.Render("{{ loopy }}", vars)
	var ce *expr.CycleError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, []string{"loopy", "loopy2", "loopy"}, ce.Chain)
}

func TestTemplateRefs(t *testing.T) {
	refs, err := expr.TemplateRefs("{{ a }}-{{ b | default(1) }}-{{ a ~ c }}")
	require.NoError(t, err)
	assert.Equal(t, []expr.Ref{{Name: "a"}, {Name: "b", Optional: true}, {Name: "c"}}, refs)
	refs, err = expr.TemplateRefs("{% for h in hosts %}{{ h }}{{ sep }}{% endfor %}")
	require.NoError(t, err)
	assert.Equal(t, []expr.Ref{{Name: "hosts"}, {Name: "sep"}}, refs)
}

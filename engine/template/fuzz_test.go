package template

import (
	"errors"
	"testing"
	"time"

	"github.com/tpago/tpago/engine/expr"
)

// FuzzTemplate: parsing any text gives a template or an *Error naming a
// line; rendering a parsed one with small limits gives text or an error,
// never a panic nor more output than the limit. The seed corpus is in
// testdata/fuzz/FuzzTemplate.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"plain", "{{ x }}", "{% if x %}a{% else %}b{% endif %}", "{% for i in l %}{{ loop.index }}{% endfor %}",
		"{%- for k, v in m.items() -%}\n{{ k }}={{ v }}\n{%- endfor %}", "{% set y = x ~ x %}{{ y }}", "{# c #}{% raw %}{{ x }}{% endraw %}",
		"{{ {'a': {'b': 1}} }}", "{% for i in range(10) if i is odd %}{{ i }}{% else %}none{% endfor %}", "{{ x", "{% if %}", "{% for %}",
	} {
		f.Add(s)
	}
	defer expr.SetLimits(1<<16, 10000)()
	vars := map[string]any{"x": "X", "l": []any{1, 2, 3}, "m": map[string]any{"a": 1, "b": "two"}}
	f.Fuzz(func(t *testing.T, text string) {
		tpl, err := Parse("f.j2", text)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("Parse(%q) gave %T: %v", text, err, err)
			}
			return
		}
		start := time.Now()
		out, err := tpl.Render(vars)
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("Render(%q) took %v", text, took)
		}
		if err == nil && len(out) > expr.MaxValueSize() {
			t.Fatalf("Render(%q) gave %d bytes", text, len(out))
		}
	})
}

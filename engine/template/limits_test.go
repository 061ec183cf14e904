package template

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/expr"
)

const nestedLoops = "a\n{% for i in range(100000) %}\n{% for j in range(100000) %}{{ j }}{% endfor %}\n{% endfor %}\n"

func TestRenderLimits(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		size, iter int
		want       string
	}{
		{"nested loops, output", nestedLoops, 1 << 20, 0, "t.j2:3: rendered output larger than the limit of 1048576 bytes (set TPAGO_MAX_VALUE_SIZE to raise it)"},
		{"nested loops, iterations", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", 0, 100000, "t.j2:1: loop iterations larger than the limit of 100000 (set TPAGO_MAX_LOOP_ITERATIONS to raise it)"},
		{"filtered loop", "{% for i in range(100000) if i > 5 %}{% endfor %}", 0, 1000, "t.j2:1: range: loop iterations larger than the limit of 1000"},
		{"text", "{% for i in range(1000) %}\n" + strings.Repeat("x", 100) + "\n{% endfor %}", 1000, 0, "t.j2:2: rendered output larger than the limit of 1000 bytes"},
		{"one value", "{% set x = 1 %}\n{{ v39 }}", 1000, 0, "t.j2:2: variable \"v39\": variable \"v38\": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer expr.SetLimits(tt.size, tt.iter)()
			start := time.Now()
			_, err := RenderString("t.j2", tt.text, doubling())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			var le *expr.LimitError
			assert.ErrorAs(t, err, &le)
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
}

func TestRenderStopsWhenCancelled(t *testing.T) {
	defer expr.SetLimits(0, 1<<40)()
	tpl, err := Parse("t.j2", "{% for i in range(100000) %}\n{% for j in range(100000) %}{% endfor %}{% endfor %}")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = tpl.RenderIn(expr.WithContext(ctx, expr.MapScope(nil)))
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Regexp(t, `^t.j2:[12]: stopped: context canceled`, err.Error())
	assert.Less(t, time.Since(start), 2*time.Second)

	// {% %} inside a templated value stops too
	_, err = expr.RenderIn("{% for i in range(10) %}{{ i }}{% endfor %}", expr.WithContext(ctx, expr.MapScope(nil)))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestRenderDefaultLimitsAreFast(t *testing.T) {
	if testing.Short() {
		t.Skip("renders ten million loop iterations")
	}
	start := time.Now()
	_, err := RenderString("t.j2", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "loop iterations larger than the limit of 1000000")
	t.Logf("stopped after %v", time.Since(start))
}

// doubling gives v0 = "xxxxxxxx" and each vN twice v(N-1).
func doubling() map[string]any {
	vars := map[string]any{"v0": "xxxxxxxx"}
	for i := 1; i <= 39; i++ {
		vars[fmt.Sprintf("v%d", i)] = fmt.Sprintf("{{ v%d ~ v%d }}", i-1, i-1)
	}
	return vars
}

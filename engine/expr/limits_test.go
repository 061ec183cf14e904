package expr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setLimits lowers the evaluation limits for one test.
func setLimits(t *testing.T, size, iterations int) {
	t.Helper()
	t.Cleanup(SetLimits(size, iterations))
}

func TestDivisionByZero(t *testing.T) {
	tests := []struct {
		code string
		want any    // when no error
		err  string // when an error is expected
	}{
		{code: "1 / 0", err: "division by zero"},
		{code: "1.5 / 0", err: "division by zero"},
		{code: "(1 / 0) > 1", err: "division by zero"},
		{code: "1 // 0", err: "division by zero"},
		{code: "1 % 0", err: "modulo by zero"},
		{code: "c / 0.0", err: "division by zero"},
		{code: "7 / 2", want: 3.5},
		{code: "6 / 3", want: 2.0},
		{code: "7 // 2", want: 3},
		{code: "-7 // 2", want: -4},
		{code: "7 % 3", want: 1},
		{code: "-7 % 3", want: 2},
		{code: "7 % -3", want: -2},
		{code: "7.5 % 2", want: 1.5},
		{code: "'%d items' % 3", want: "3 items"},
		{code: "'%s-%s' % ['a', 'b']", want: "a-b"},
		{code: "'%s' % name", want: "db"},
		{code: "'x' / 2", err: "unsupported operand types for /: string and int"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			v, err := Eval(tt.code, testVars())
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, v)
		})
	}
}

func TestValueSizeLimit(t *testing.T) {
	setLimits(t, 1<<20, DefaultMaxLoopIterations)
	tests := []struct {
		name string
		vars map[string]any
		code string
	}{
		{"doubling ~", doubling("{{ v%d ~ v%d }}"), "v39"},
		{"doubling +", doubling("{{ v%d + v%d }}"), "v39"},
		{"doubling text", doubling("{{ v%d }}{{ v%d }}"), "v39"},
		{"join", map[string]any{"l": []any{"x"}}, "range(100000) | map('string') | join(repeat('y', 100))"},
		{"replace", map[string]any{"s": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "s | replace('a', s) | replace('a', s) | replace('a', s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Eval(tt.code, tt.vars)
			require.Error(t, err)
			var le *LimitError
			require.ErrorAs(t, err, &le)
			assert.Contains(t, err.Error(), "larger than the limit of 1048576 bytes (set TPAGO_MAX_VALUE_SIZE to raise it)")
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

// doubling gives v0 = "xxxxxxxx" and each vN twice v(N-1), templated with
// format.
func doubling(format string) map[string]any {
	vars := map[string]any{"v0": "xxxxxxxx"}
	for i := 1; i <= 39; i++ {
		vars[fmt.Sprintf("v%d", i)] = fmt.Sprintf(format, i-1, i-1)
	}
	return vars
}

func TestRangeLimit(t *testing.T) {
	setLimits(t, DefaultMaxValueSize, 1000)
	_, err := Eval("range(1001)", nil)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Contains(t, err.Error(), "TPAGO_MAX_LOOP_ITERATIONS")
	_, err = Eval("range(10, 1000000000, 1000000)", nil)
	require.NoError(t, err)
}

func TestEvalStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sc := WithContext(ctx, MapScope(testVars()))
	for _, code := range []string{"c + 1", "db_host"} {
		_, err := EvalIn(code, sc)
		require.Error(t, err, code)
		assert.True(t, errors.Is(err, context.Canceled), "%s: %v", code, err)
	}
	_, err := RenderIn("x{{ c }}", sc)
	assert.ErrorIs(t, err, context.Canceled)
	v, err := EvalIn("c + 1", WithContext(context.Background(), MapScope(testVars())))
	require.NoError(t, err)
	assert.Equal(t, 4, v)
}

// Functions that could build a huge value from small input check the
// size before building it.
func TestAmplificationLimits(t *testing.T) {
	setLimits(t, 1<<20, DefaultMaxLoopIterations)
	vars := map[string]any{"s": strings.Repeat("a", 1<<19)}
	for _, code := range []string{
		"s | replace('a', s)", "'x' | indent(999999999999)", "'%0999999999999d' % 1", "'%-999999999999s' | format('x')",
		"'{:>999999999999}'.format(1)", "'{:.999999999999f}'.format(1.5)", "s | to_nice_json(999999999999)", "repeat(s, 100000)",
		"range(100000) | join(s)", "[s, s, s] | join", "s | regex_replace('a', s)", "s | regex_replace('(a+)', '\\\\1\\\\1\\\\1')",
	} {
		start := time.Now()
		_, err := Eval(code, vars)
		require.Error(t, err, code)
		assert.Contains(t, err.Error(), "limit", code)
		assert.Less(t, time.Since(start), 2*time.Second, code)
	}
}

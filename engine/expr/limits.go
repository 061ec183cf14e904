package expr

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Evaluation is bounded: a value (a string, the output of a template)
// may not grow beyond MaxValueSize bytes, a template's loops may not run
// more than MaxLoopIterations times in all, and the run's context stops
// evaluation and rendering when it is cancelled (the first Ctrl-C or
// SIGTERM). expr-lang's own budgets apply inside one expression: at most
// 10,000 syntax nodes, and a memory budget of a million elements built by
// ranges, lists and maps.
const (
	// DefaultMaxValueSize is the largest string or rendered template, in
	// bytes, unless the environment variable MaxValueSizeEnv says otherwise.
	DefaultMaxValueSize = 64 << 20
	// MaxValueSizeEnv overrides DefaultMaxValueSize (a number of bytes).
	MaxValueSizeEnv = "TPAGO_MAX_VALUE_SIZE"
	// DefaultMaxLoopIterations bounds the iterations of all the
	// {% for %} loops of one rendering, and the length of range().
	DefaultMaxLoopIterations = 1_000_000
	// MaxLoopIterationsEnv overrides DefaultMaxLoopIterations.
	MaxLoopIterationsEnv = "TPAGO_MAX_LOOP_ITERATIONS"
)

var (
	limitsOnce        sync.Once
	maxValueSize      = DefaultMaxValueSize
	maxLoopIterations = DefaultMaxLoopIterations
)

func loadLimits() {
	limitsOnce.Do(func() {
		if n, err := strconv.Atoi(os.Getenv(MaxValueSizeEnv)); err == nil && n > 0 {
			maxValueSize = n
		}
		if n, err := strconv.Atoi(os.Getenv(MaxLoopIterationsEnv)); err == nil && n > 0 {
			maxLoopIterations = n
		}
	})
}

// SetLimits changes MaxValueSize and MaxLoopIterations (0 keeps one as it
// is) for programs that embed the engine and for tests; restore puts the
// previous limits back.
func SetLimits(valueSize, loopIterations int) (restore func()) {
	loadLimits()
	oldSize, oldIter := maxValueSize, maxLoopIterations
	if valueSize > 0 {
		maxValueSize = valueSize
	}
	if loopIterations > 0 {
		maxLoopIterations = loopIterations
	}
	return func() { maxValueSize, maxLoopIterations = oldSize, oldIter }
}

// MaxValueSize is the largest string or rendered template, in bytes.
func MaxValueSize() int { loadLimits(); return maxValueSize }

// MaxLoopIterations is how many loop iterations one rendering may run.
func MaxLoopIterations() int { loadLimits(); return maxLoopIterations }

// LimitError reports a value or a loop that grew past its limit.
type LimitError struct {
	What  string // "value", "loop iterations"
	Limit int
	Env   string // the environment variable that raises the limit
}

func (e *LimitError) Error() string {
	unit := " bytes"
	if e.What == "loop iterations" {
		unit = ""
	}
	return fmt.Sprintf("%s larger than the limit of %d%s (set %s to raise it)", e.What, e.Limit, unit, e.Env)
}

// CheckSize returns a *LimitError when what (a value, the rendered
// output) of n bytes is larger than MaxValueSize.
func CheckSize(what string, n int) error {
	if n > MaxValueSize() {
		return &LimitError{What: what, Limit: MaxValueSize(), Env: MaxValueSizeEnv}
	}
	return nil
}

func checkSize(n int) error {
	if err := CheckSize("value", n); err != nil {
		return &EvalError{Msg: err.Error(), Err: err}
	}
	return nil
}

// CheckIterations returns a *LimitError when n loop iterations are more
// than MaxLoopIterations.
func CheckIterations(n int) error {
	if n > MaxLoopIterations() {
		return &LimitError{What: "loop iterations", Limit: MaxLoopIterations(), Env: MaxLoopIterationsEnv}
	}
	return nil
}

// ContextScope is a Scope that carries the run's context: evaluation and
// rendering with it stop with the context's error once it is done.
type ContextScope interface {
	Scope
	Context() context.Context
}

type ctxScope struct {
	Scope
	ctx context.Context
}

func (s ctxScope) Context() context.Context { return s.ctx }

// WithContext returns sc carrying ctx.
func WithContext(ctx context.Context, sc Scope) Scope {
	return ctxScope{Scope: sc, ctx: ctx}
}

// ScopeContext returns the context sc carries, or context.Background().
func ScopeContext(sc Scope) context.Context {
	if cs, ok := sc.(ContextScope); ok {
		if ctx := cs.Context(); ctx != nil {
			return ctx
		}
	}
	return context.Background()
}

// limited wraps a function so a string it returns cannot be larger than
// MaxValueSize.
func limited(fn func(...any) (any, error)) func(...any) (any, error) {
	return func(a ...any) (any, error) {
		v, err := fn(a...)
		if s, ok := v.(string); ok && err == nil {
			if err := checkSize(len(s)); err != nil {
				return nil, err
			}
		}
		return v, err
	}
}

// fits returns an error when a result of n bytes (or elements) is about
// to be built beyond MaxValueSize, before it is built.
func fits(name string, n int) error {
	if n < 0 || n > MaxValueSize() {
		err := &LimitError{What: "value", Limit: MaxValueSize(), Env: MaxValueSizeEnv}
		return &EvalError{Msg: name + ": " + err.Error(), Err: err}
	}
	return nil
}

// specWidth reads the width of a printf or format spec ("-08.2" is 8).
func specWidth(spec string) int {
	w := 0
	digits := strings.TrimLeft(spec, "-+ #0<>^=")
	for _, c := range digits {
		if c < '0' || c > '9' {
			break
		}
		w = w*10 + int(c-'0')
		if w > 1<<40 {
			break
		}
	}
	return w
}

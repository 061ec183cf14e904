package modules

import (
	"context"
	"fmt"
	"time"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&SetFact{})
	module.Register(&Debug{})
	module.Register(&Assert{})
	module.Register(&Fail{})
	module.Register(&Pause{})
}

// SetFact sets host variables from its arguments.
type SetFact struct{}

// Spec implements module.Module. set_fact takes any key: each one (except
// cacheable) becomes a fact; the executor passes them through unchecked.
func (*SetFact) Spec() module.Spec {
	return module.Spec{
		Name: "set_fact",
		Doc:  "Set host variables (facts) from the task's key: value pairs",
		Args: []module.Arg{
			{Name: "cacheable", Type: module.Bool, Default: false, Doc: "accepted for compatibility; facts live for the run"},
		},
		Local: true, Check: module.CheckReadOnly, FreeArgs: true,
	}
}

// Run implements module.Module.
func (*SetFact) Run(_ context.Context, _ *module.Runtime, args module.Args) (*module.Result, error) {
	facts := map[string]any{}
	for k, v := range args {
		if k != "cacheable" {
			facts[k] = v
		}
	}
	if len(facts) == 0 {
		return nil, fmt.Errorf("set_fact needs at least one key: value pair")
	}
	return &module.Result{Facts: facts, Data: map[string]any{"ansible_facts": facts}}, nil
}

// Debug prints a message or a variable.
type Debug struct{}

// Spec implements module.Module.
func (*Debug) Spec() module.Spec {
	return module.Spec{
		Name: "debug",
		Doc:  "Print a message (msg) or the value of an expression (var)",
		Args: []module.Arg{
			{Name: "msg", Type: module.Any, Doc: "message to print (default \"Hello world!\")"},
			{Name: "var", Type: module.Expr, Doc: "expression whose value is printed"},
			{Name: "verbosity", Type: module.Int, Default: 0, Doc: "print only at this -v level or higher"},
		},
		Exclusive: [][]string{{"msg", "var"}},
		Local:     true, Check: module.CheckReadOnly,
	}
}

// Run implements module.Module.
func (*Debug) Run(_ context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	res := &module.Result{Data: map[string]any{}}
	if args.Has("var") {
		expr := fmt.Sprint(args["var"])
		if rt.Eval == nil {
			return nil, fmt.Errorf("var: no expression evaluator")
		}
		v, err := rt.Eval(expr)
		if err != nil {
			return nil, fmt.Errorf("var: %w", err)
		}
		res.Data[expr] = v
		return res, nil
	}
	msg := any("Hello world!")
	if args.Has("msg") {
		msg = args["msg"]
	}
	res.Data["msg"] = msg
	if s, ok := msg.(string); ok {
		res.Msg = s
	} else {
		res.Msg = fmt.Sprint(msg)
	}
	return res, nil
}

// Assert fails when an expression is not true.
type Assert struct{}

// Spec implements module.Module.
func (*Assert) Spec() module.Spec {
	return module.Spec{
		Name: "assert",
		Doc:  "Fail unless every expression in that is true",
		Args: []module.Arg{
			{Name: "that", Type: module.Expr, Required: true, Doc: "an expression, or a list of them, that must all be true"},
			{Name: "fail_msg", Type: module.Any, Aliases: []string{"msg"}, Doc: "message when an assertion fails"},
			{Name: "success_msg", Type: module.Any, Doc: "message when all assertions pass"},
			{Name: "quiet", Type: module.Bool, Default: false, Doc: "print less on success"},
		},
		Local: true, Check: module.CheckReadOnly,
	}
}

// Run implements module.Module.
func (*Assert) Run(_ context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	var that []string
	switch v := args["that"].(type) {
	case []any:
		for _, x := range v {
			that = append(that, fmt.Sprint(x))
		}
	case []string:
		that = v
	case bool:
		that = []string{fmt.Sprint(v)}
	default:
		that = []string{fmt.Sprint(v)}
	}
	if rt.Eval == nil {
		return nil, fmt.Errorf("that: no expression evaluator")
	}
	for _, e := range that {
		v, err := rt.Eval(e)
		if err != nil {
			return nil, fmt.Errorf("that: %s: %w", e, err)
		}
		ok, err := expr.Condition(v)
		if err != nil {
			return nil, fmt.Errorf("that: %s: %w", e, err)
		}
		if !ok {
			msg := "Assertion failed"
			if args.Has("fail_msg") {
				msg = fmt.Sprint(args["fail_msg"])
			}
			return &module.Result{Failed: true, Msg: msg, Data: map[string]any{"assertion": e, "evaluated_to": v}}, nil
		}
	}
	msg := "All assertions passed"
	if args.Has("success_msg") {
		msg = fmt.Sprint(args["success_msg"])
	}
	return &module.Result{Msg: msg}, nil
}

// Truthy is the truth of a value: expr.Truthy, the one definition.
func Truthy(v any) bool { return expr.Truthy(v) }

// Fail fails the task with a message.
type Fail struct{}

// Spec implements module.Module.
func (*Fail) Spec() module.Spec {
	return module.Spec{
		Name: "fail",
		Doc:  "Fail the task with a message",
		Args: []module.Arg{
			{Name: "msg", Type: module.Any, Default: "Failed as requested from task", Doc: "the failure message"},
		},
		Local: true, Check: module.CheckReadOnly,
	}
}

// Run implements module.Module.
func (*Fail) Run(_ context.Context, _ *module.Runtime, args module.Args) (*module.Result, error) {
	return &module.Result{Failed: true, Msg: fmt.Sprint(args["msg"])}, nil
}

// Pause waits for a while.
type Pause struct{}

// Spec implements module.Module.
func (*Pause) Spec() module.Spec {
	return module.Spec{
		Name: "pause",
		Doc:  "Wait for a number of seconds or minutes (prompts are not supported: runs are non-interactive)",
		Args: []module.Arg{
			{Name: "seconds", Type: module.Int, Doc: "seconds to wait"},
			{Name: "minutes", Type: module.Int, Doc: "minutes to wait"},
			{Name: "prompt", Type: module.String, Doc: "shown while waiting; waiting for a key press is not supported"},
			{Name: "echo", Type: module.Bool, Default: true, Doc: "accepted for compatibility"},
		},
		Exclusive: [][]string{{"seconds", "minutes"}},
		Local:     true, Check: module.CheckReadOnly,
	}
}

// Run implements module.Module.
func (*Pause) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	var d time.Duration
	switch {
	case args.Has("seconds"):
		d = time.Duration(args.Int("seconds")) * time.Second
	case args.Has("minutes"):
		d = time.Duration(args.Int("minutes")) * time.Minute
	default:
		return nil, fmt.Errorf("pause needs seconds or minutes: waiting for a key press (prompt alone) is not supported in non-interactive runs")
	}
	if p := args.String("prompt"); p != "" {
		logf(rt, "%s", p)
	}
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
	}
	return &module.Result{Data: map[string]any{"delta": int(time.Since(start).Seconds()), "echo": args.Bool("echo"),
		"start": start.Format("2006-01-02 15:04:05.000000"), "stop": time.Now().Format("2006-01-02 15:04:05.000000")}}, nil
}

var (
	_ module.Module = (*SetFact)(nil)
	_ module.Module = (*Debug)(nil)
	_ module.Module = (*Assert)(nil)
	_ module.Module = (*Fail)(nil)
	_ module.Module = (*Pause)(nil)
)

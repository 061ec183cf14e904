package executor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/template"
)

// Omit is the value of the variable omit: an argument rendered to it is
// dropped, as in Ansible.
const Omit = "__omit_place_holder__tpago"

// hostScope builds the variables of task t on host h.
func (pr *playRun) hostScope(h string, t *playbook.Task, sc *scope) *hostScope {
	e := pr.e
	layers := make([]map[string]any, 0, 16)
	if len(e.opts.ExtraVars) > 0 {
		layers = append(layers, e.opts.ExtraVars)
	}
	if f := e.factsOf(h); len(f) > 0 {
		layers = append(layers, f)
	}
	sc.each(func(s *scope) bool {
		if hp := s.hostParams[h]; len(hp) > 0 {
			layers = append(layers, hp)
		}
		if len(s.params) > 0 {
			layers = append(layers, s.params)
		}
		return true
	})
	if iv := e.includedVarsOf(h); len(iv) > 0 {
		layers = append(layers, iv)
	}
	if len(t.Vars) > 0 && t.Include == nil {
		layers = append(layers, t.Vars)
	}
	sc.each(func(s *scope) bool {
		if s.block != nil && len(s.block.Vars) > 0 && s.block.Include == nil {
			layers = append(layers, s.block.Vars)
		}
		return true
	})
	role := sc.role
	if t.Role != nil {
		role = t.Role
	}
	if role != nil {
		if len(role.Params) > 0 {
			layers = append(layers, role.Params)
		}
		if len(role.Vars) > 0 {
			layers = append(layers, role.Vars)
		}
	}
	layers = append(layers, pr.roleVars, pr.playVars, e.invVars[h])
	if role != nil && len(role.Defaults) > 0 {
		layers = append(layers, role.Defaults)
	}
	layers = append(layers, pr.roleDefaults, builtinDefaults)
	// The play's hosts are listed when a task's expression first asks, once
	// for the task on this host.
	playHosts := memo(pr.playHosts)
	magic := map[string]any{
		"inventory_hostname":       h,
		"inventory_hostname_short": shortName(h),
		"group_names":              groupNames(e.opts.Inventory, h),
		"groups":                   e.groups,
		"hostvars":                 lazyValue(func() any { return pr.hostvars() }),
		"ansible_play_hosts":       playHosts,
		"play_hosts":               playHosts,
		"ansible_play_batch":       playHosts,
		"ansible_play_hosts_all":   pr.allHosts(),
		"ansible_check_mode":       e.opts.Check,
		"ansible_diff_mode":        e.opts.Diff,
		"ansible_verbosity":        e.opts.Verbosity,
		"playbook_dir":             pr.pb.Dir,
		"inventory_dir":            e.opts.Inventory.Dir,
		"omit":                     Omit,
		"ansible_run_tags":         toAny(e.opts.Tags),
		"ansible_skip_tags":        toAny(e.opts.SkipTags),
	}
	if role != nil {
		magic["role_name"] = role.Name
		magic["role_path"] = role.Path
	}
	return &hostScope{magic: magic, layers: layers}
}

func toAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// runOnHost runs t on host h: conditions, loop, module, register, notify.
func (pr *playRun) runOnHost(ctx context.Context, t *playbook.Task, h string, sc *scope) *TaskResult {
	hsc := pr.hostScope(h, t, sc)
	hsc.ctx = ctx
	cs := conds(t, sc)
	noLog := pr.noLog(t, sc, hsc)
	var r *TaskResult
	if t.HasLoop {
		// The conditions a task inherits (from its blocks and role) hold
		// for every item: when they are false, the loop is not even
		// evaluated (it may refer to what only exists when they hold).
		inherited := cs[:len(cs)-len(t.When)]
		if ok, err := when(inherited, hsc); err == nil && !ok {
			r = &TaskResult{Host: h, Task: t, Status: Skipped, Msg: "Conditional result was False",
				Result: map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}}
			r.NoLog = noLog
			return r
		}
	}
	if !t.HasLoop {
		ok, err := when(cs, hsc)
		switch {
		case err != nil:
			r = &TaskResult{Host: h, Task: t, Status: Failed, Msg: err.Error()}
		case !ok:
			r = &TaskResult{Host: h, Task: t, Status: Skipped, Msg: "Conditional result was False",
				Result: map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}}
		default:
			r = pr.execute(ctx, t, h, sc, hsc)
		}
	} else {
		r = pr.runLoop(ctx, t, h, sc, hsc, cs)
	}
	r.NoLog = noLog
	if noLog {
		pr.e.addResultSecrets(r)
	}
	if t.Register != "" && r.Result != nil && r.Status != Unreachable {
		pr.e.setFacts(h, map[string]any{t.Register: expr.Raw{Value: r.Result}})
	}
	return r
}

func (pr *playRun) runLoop(ctx context.Context, t *playbook.Task, h string, sc *scope, hsc *hostScope, cs []playbook.Cond) *TaskResult {
	items, err := pr.loopItems(t, sc, hsc)
	if err != nil {
		return &TaskResult{Host: h, Task: t, Status: Failed, Msg: err.Error()}
	}
	loopVar := t.LoopVar
	if loopVar == "" {
		loopVar = "item"
	}
	agg := &TaskResult{Host: h, Task: t, Status: Skipped}
	var results []any
	changed, failed, anyRan := false, false, false
	for i, it := range items {
		if ctx.Err() != nil {
			break
		}
		lv := map[string]any{
			loopVar:            expr.Raw{Value: it},
			"ansible_loop_var": loopVar,
			"ansible_loop": map[string]any{"index": i + 1, "index0": i, "first": i == 0, "last": i == len(items)-1,
				"length": len(items), "revindex": len(items) - i, "revindex0": len(items) - i - 1},
		}
		if t.IndexVar != "" {
			lv[t.IndexVar] = i
		}
		isc := hsc.with(lv)
		label := it
		if t.LoopLabel != "" {
			if v, err := expr.RenderIn(t.LoopLabel, isc); err == nil {
				label = v
			}
		}
		var ir *TaskResult
		ok, err := when(cs, isc)
		switch {
		case err != nil:
			ir = &TaskResult{Host: h, Task: t, Status: Failed, Msg: err.Error(), Result: map[string]any{"failed": true, "msg": err.Error()}}
		case !ok:
			ir = &TaskResult{Host: h, Task: t, Status: Skipped, Result: map[string]any{"changed": false, "skipped": true, "skip_reason": "Conditional result was False"}}
		default:
			ir = pr.execute(ctx, t, h, sc, isc)
			anyRan = true
		}
		ir.Item = it
		ir.Label = expr.ToString(label)
		if ir.Result == nil {
			ir.Result = map[string]any{}
		}
		ir.Result[loopVar] = it
		ir.Result["item"] = it
		ir.Result["ansible_loop_var"] = loopVar
		agg.Items = append(agg.Items, ir)
		agg.Diffs = append(agg.Diffs, ir.Diffs...)
		results = append(results, ir.Result)
		switch ir.Status {
		case Changed:
			changed = true
		case Failed:
			if !ir.Ignored {
				failed = true
			}
		case Unreachable:
			agg.Status = Unreachable
			agg.Msg = ir.Msg
			agg.Result = map[string]any{"unreachable": true, "msg": ir.Msg, "results": results}
			return agg
		}
	}
	agg.Result = map[string]any{"results": results, "changed": changed, "failed": failed, "skipped": !anyRan, "msg": "All items completed"}
	switch {
	case failed:
		agg.Status = Failed
		agg.Msg = "One or more items failed"
		agg.Result["msg"] = agg.Msg
		if pr.ignoreErrors(t, sc, hsc) {
			agg.Ignored = true
		}
	case changed:
		agg.Status = Changed
	case anyRan || len(items) > 0 && anyRan:
		agg.Status = OK
	default:
		agg.Status = Skipped
		if len(items) == 0 {
			agg.Msg = "No items in the list"
		}
	}
	return agg
}

// execute runs t's module on host h: it prepares the arguments and the
// connection, runs each attempt (until until: holds), and decides what
// the result means.
func (pr *playRun) execute(ctx context.Context, t *playbook.Task, h string, sc *scope, hsc *hostScope) *TaskResult {
	res := &TaskResult{Host: h, Task: t}
	mod, spec, ok := module.Lookup(t.Module)
	if !ok {
		return pr.fail(res, t, sc, hsc, fmt.Sprintf("%s: unknown module %s", t.Pos, t.Module))
	}
	target := h
	if t.DelegateTo != "" {
		v, err := expr.RenderIn(t.DelegateTo, hsc)
		if err != nil {
			return pr.fail(res, t, sc, hsc, fmt.Sprintf("%s: delegate_to: %v", t.Pos, err))
		}
		target = expr.ToString(v)
		res.Delegate = target
	}
	nargs, err := pr.moduleArgs(t, spec, hsc)
	if err != nil {
		return pr.fail(res, t, sc, hsc, err.Error())
	}
	check := pr.checkMode(t, sc)
	if check && spec.Check == module.CheckUnsupported {
		// As Ansible: a module that cannot predict is not run at all.
		msg := fmt.Sprintf("remote module (%s) does not support check mode", t.Module)
		res.Status = Skipped
		res.Msg = msg
		res.Result = map[string]any{"changed": false, "skipped": true, "msg": msg}
		return res
	}
	rt, unreachable, err := pr.runtime(ctx, t, h, target, spec, check, sc, hsc)
	switch {
	case unreachable != nil:
		return pr.unreachable(res, unreachable)
	case err != nil:
		return pr.fail(res, t, sc, hsc, fmt.Sprintf("%s: %v", t.Pos, err))
	}
	if background(t) {
		res = &TaskResult{Host: h, Task: t, Delegate: res.Delegate, Attempts: 1}
		mr := pr.startJob(ctx, t, mod, rt, nargs, res)
		if _, done := pr.judge(ctx, t, hsc, sc, res, mr, 1, 1, 0); done != nil {
			return done
		}
		return pr.finish(t, h, check, sc, hsc, res)
	}
	attempts, delay, err := tries(t, hsc)
	if err != nil {
		return pr.fail(res, t, sc, hsc, fmt.Sprintf("%s: %v", t.Pos, err))
	}
	for attempt := 1; attempt <= attempts; attempt++ {
		res = &TaskResult{Host: h, Task: t, Delegate: res.Delegate, Attempts: attempt}
		mr, done := pr.runModule(ctx, t, mod, rt, nargs, target, sc, hsc, res)
		if done != nil {
			return done
		}
		again, done := pr.judge(ctx, t, hsc, sc, res, mr, attempt, attempts, delay)
		if done != nil {
			return done
		}
		if !again {
			break
		}
	}
	return pr.finish(t, h, check, sc, hsc, res)
}

// fail makes res a failure with msg (ignored when ignore_errors says so).
func (pr *playRun) fail(res *TaskResult, t *playbook.Task, sc *scope, hsc *hostScope, msg string) *TaskResult {
	res.Status = Failed
	res.Msg = msg
	res.Result = map[string]any{"failed": true, "changed": false, "msg": msg}
	if pr.ignoreErrors(t, sc, hsc) {
		res.Ignored = true
	}
	return res
}

// unreachable makes res say that its host could not be reached.
func (pr *playRun) unreachable(res *TaskResult, err error) *TaskResult {
	res.Status = Unreachable
	res.Msg = err.Error()
	res.Result = map[string]any{"unreachable": true, "msg": err.Error(), "changed": false}
	return res
}

// moduleArgs renders t's arguments for the host (an argument that renders
// to omit is left out), checks them against the module's spec, and keeps
// the values of no_log arguments as secrets to mask.
func (pr *playRun) moduleArgs(t *playbook.Task, spec module.Spec, hsc *hostScope) (module.Args, error) {
	raw := t.Args
	var args map[string]any
	if len(raw) > 0 {
		rendered := make(map[string]any, len(raw))
		for k, v := range raw {
			if a, ok := spec.Arg(k); ok && a.Type == module.Expr {
				rendered[k] = v
				continue
			}
			rv, err := expr.RenderDeepIn(v, hsc)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: argument %s: %v", argPos(t, k), t.Module, k, err)
			}
			if s, ok := rv.(string); ok && s == Omit {
				continue
			}
			rendered[k] = rv
		}
		args = rendered
	}
	nargs, err := spec.Normalize(args)
	if err != nil {
		var ae *module.ArgError
		p := t.Pos.String()
		if errors.As(err, &ae) && ae.Key != "" {
			p = argPos(t, ae.Key)
		}
		return nil, fmt.Errorf("%s: %s: %v", p, t.Module, err)
	}
	for _, a := range spec.Args {
		if a.NoLog {
			if s, ok := nargs[a.Name].(string); ok && s != "" {
				pr.e.addSecret(s)
			}
		}
	}
	return nargs, nil
}

// runtime is what the module runs with on host h: check and diff mode,
// expressions and templates in the host's scope, and a shell on target
// (with become and environment), or on this machine for local modules. A
// target that cannot be reached is returned as unreachable.
func (pr *playRun) runtime(ctx context.Context, t *playbook.Task, h, target string, spec module.Spec, check bool, sc *scope, hsc *hostScope) (rt *module.Runtime, unreachable, err error) {
	diff := pr.diffMode(t, sc)
	become, becomeUser, err := pr.become(t, sc, hsc)
	if err != nil {
		return nil, nil, err
	}
	env, err := pr.environment(t, sc, hsc)
	if err != nil {
		return nil, nil, err
	}
	rt = &module.Runtime{
		Host:  h,
		Check: check,
		Diff:  diff,
		Eval:  func(code string) (any, error) { return expr.EvalIn(code, hsc) },
		Render: func(name, text string) (string, error) {
			return template.RenderStringIn(name, text, expr.WithContext(ctx, expr.MapScope(hsc.flat())))
		},
		Find: pr.finder(t, sc),
		Logf: func(format string, a ...any) {},
	}
	if spec.Local {
		rt.Vars = hsc.flat()
		rt.Remote = &conn.Shell{Conn: conn.Local{}}
		return rt, nil, nil
	}
	c, login, err := pr.e.connect(ctx, target, pr.connScope(target, h, hsc))
	if err != nil {
		return nil, err, nil
	}
	sh := &conn.Shell{Conn: c, LoginUser: login, Become: become, BecomeUser: becomeUser, Env: env}
	if pr.e.opts.Verbosity >= 3 {
		if pr.noLog(t, sc, hsc) {
			// The script carries the task's arguments, file content
			// and environment: nothing of it is shown.
			sh.Trace = func(cmd, _ string) { pr.e.out.Trace(target, cmd, "(script hidden: no_log task)") }
		} else {
			sh.Trace = func(cmd, script string) { pr.e.out.Trace(target, cmd, script) }
		}
	}
	rt.Remote = sh
	return rt, nil, nil
}

// tries is how many times t may run (retries + 1 with until:, else 1) and
// the seconds to wait between two runs.
func tries(t *playbook.Task, hsc *hostScope) (attempts, delay int, err error) {
	if len(t.Until) == 0 {
		return 1, 0, nil
	}
	retries, err := count(t.Retries, hsc, "retries")
	if err != nil {
		return 0, 0, err
	}
	if delay, err = count(t.Delay, hsc, "delay"); err != nil {
		return 0, 0, err
	}
	return retries + 1, delay, nil
}

// runModule runs the module once, within the task's time limit. It returns
// the module's result, or the task's final result when it ends here
// (timed out, unreachable, interrupted).
func (pr *playRun) runModule(ctx context.Context, t *playbook.Task, mod module.Module, rt *module.Runtime, nargs module.Args, target string, sc *scope, hsc *hostScope, res *TaskResult) (*module.Result, *TaskResult) {
	limit := pr.e.opts.TaskTimeout
	if t.Timeout > 0 {
		limit = time.Duration(t.Timeout) * time.Second
	}
	if t.Async > 0 && (limit == 0 || time.Duration(t.Async)*time.Second < limit) {
		limit = time.Duration(t.Async) * time.Second
	}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if limit > 0 {
		rctx, cancel = context.WithTimeout(ctx, limit)
	}
	mr, err := mod.Run(rctx, rt, nargs)
	timedOut := rctx.Err() != nil && ctx.Err() == nil
	cancel()
	if timedOut {
		if t.Async > 0 && limit == time.Duration(t.Async)*time.Second {
			// Ansible's words, which roles may test for.
			return nil, pr.fail(res, t, sc, hsc, fmt.Sprintf("async task did not complete within the requested time - %ds", t.Async))
		}
		return nil, pr.fail(res, t, sc, hsc, fmt.Sprintf("%s: the task timed out after %s", t.Pos, limit))
	}
	if err != nil {
		if errors.Is(err, conn.ErrUnreachable) {
			pr.e.dropConn(target)
			return nil, pr.unreachable(res, err)
		}
		if ctx.Err() != nil {
			return nil, pr.fail(res, t, sc, hsc, "interrupted")
		}
		mr = &module.Result{Failed: true, Msg: err.Error()}
	}
	return mr, nil
}

// judge fills res from the module's result mr and decides, with
// changed_when, failed_when and until, whether the task changed or failed,
// or is to run again (after waiting delay seconds). It returns the task's
// final result when it ends here.
func (pr *playRun) judge(ctx context.Context, t *playbook.Task, hsc *hostScope, sc *scope, res *TaskResult, mr *module.Result, attempt, attempts, delay int) (again bool, done *TaskResult) {
	res.Result = resultMap(mr)
	res.Msg = mr.Msg
	res.Diffs = mr.Diff
	changed, failed := mr.Changed, mr.Failed
	if len(mr.Facts) > 0 && !failed {
		res.Result["ansible_facts"] = mr.Facts
	}
	res.hostFacts, res.includedVars = mr.HostFacts, mr.IncludedVars
	if t.HasChanged || t.HasFailed || len(t.Until) > 0 {
		regName := t.Register
		if regName == "" {
			regName = "result"
		}
		rsc := hsc.with(map[string]any{regName: expr.Raw{Value: res.Result}})
		if t.HasChanged {
			v, err := when(t.ChangedWhen, rsc)
			if err != nil {
				return false, pr.fail(res, t, sc, hsc, fmt.Sprintf("changed_when: %v", err))
			}
			changed = v
			res.Result["changed"] = v
		}
		if t.HasFailed {
			v, err := when(t.FailedWhen, rsc)
			if err != nil {
				return false, pr.fail(res, t, sc, hsc, fmt.Sprintf("failed_when: %v", err))
			}
			failed = v
			res.Result["failed"] = v
			if !v {
				delete(res.Result, "msg")
			}
		}
		if len(t.Until) > 0 {
			ok, err := when(t.Until, rsc)
			if err != nil {
				return false, pr.fail(res, t, sc, hsc, fmt.Sprintf("until: %v", err))
			}
			res.Result["attempts"] = attempt
			if !ok {
				if attempt < attempts {
					pr.e.out.Retry(res.Host, t, attempt, attempts-1)
					select {
					case <-time.After(time.Duration(delay) * time.Second):
					case <-ctx.Done():
						return false, pr.fail(res, t, sc, hsc, "interrupted")
					}
					return true, nil
				}
				failed = true
				res.Result["failed"] = true
				if res.Msg == "" {
					res.Msg = fmt.Sprintf("gave up after %d attempts", attempt)
				}
			}
		}
	}
	switch {
	case failed:
		res.Status = Failed
	case mr.Skipped:
		res.Status = Skipped
	case changed:
		res.Status = Changed
	default:
		res.Status = OK
	}
	return false, nil
}

// finish settles a result: a failure in check mode that follows a change
// only predicted is no failure, ignore_errors ignores one, and set_fact
// and the modules that return facts (getent, hostname) set them.
func (pr *playRun) finish(t *playbook.Task, h string, check bool, sc *scope, hsc *hostScope, res *TaskResult) *TaskResult {
	if res.Status == Failed {
		if check && pr.e.hasPredicted(h) {
			res.Status = Skipped
			res.Predicted = true
			res.Msg = "cannot be predicted in check mode: it depends on a change that was only predicted (" + oneLine(res.Msg) + ")"
		} else if pr.ignoreErrors(t, sc, hsc) {
			res.Ignored = true
		}
	}
	// Facts a module returns become variables (set_fact's above all
	// others); include_vars's and the gathering modules' are kept by
	// keepVars at their own precedence.
	if res.Status != Failed && len(mr(res)) > 0 {
		if t.Module == "set_fact" {
			pr.e.setFacts(h, rawAll(mr(res)))
		} else if res.includedVars == nil && res.hostFacts == nil {
			pr.e.addHostFacts(h, mr(res))
		}
	}
	pr.e.keepVars(h, res)
	return res
}

// keepVars records what a module that did not fail gathered (setup,
// package_facts) or read (include_vars) for host h.
func (e *Executor) keepVars(h string, res *TaskResult) {
	if res.Status == Failed || res.Status == Skipped {
		return
	}
	e.addHostFacts(h, res.hostFacts)
	if len(res.includedVars) > 0 {
		// Not raw: a vars file's values are templates, rendered where they
		// are used, as vars_files' and role vars' are.
		e.setIncludedVars(h, res.includedVars)
	}
}

func mr(r *TaskResult) map[string]any {
	f, _ := r.Result["ansible_facts"].(map[string]any)
	return f
}

func rawAll(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = expr.Raw{Value: v}
	}
	return out
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s
}

func (e *Executor) hasPredicted(h string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.predicted[h]
}

func argPos(t *playbook.Task, k string) string {
	if p, ok := t.ArgPos[k]; ok {
		return p.String()
	}
	return t.Pos.String()
}

// resultMap turns a module result into what register stores.
func resultMap(r *module.Result) map[string]any {
	m := map[string]any{"changed": r.Changed, "failed": r.Failed}
	if r.Skipped {
		m["skipped"] = true
	}
	if r.Msg != "" {
		m["msg"] = r.Msg
	}
	if r.HasRC {
		m["rc"] = r.RC
		m["stdout"] = r.Stdout
		m["stderr"] = r.Stderr
		m["stdout_lines"] = lines(r.Stdout)
		m["stderr_lines"] = lines(r.Stderr)
	}
	for k, v := range r.Data {
		m[k] = v
	}
	if len(r.Diff) > 0 {
		var ds []any
		for _, d := range r.Diff {
			ds = append(ds, map[string]any{"before": d.Before, "after": d.After, "before_header": d.BeforeHeader, "after_header": d.AfterHeader})
		}
		m["diff"] = ds
	}
	return m
}

func lines(s string) []any {
	if s == "" {
		return []any{}
	}
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}

// finder finds control-machine files for copy/template: in the role's
// folder of that kind, then beside the playbook.
func (pr *playRun) finder(t *playbook.Task, sc *scope) func(kind, name string) (string, error) {
	return func(kind, name string) (string, error) {
		if filepath.IsAbs(name) {
			if _, err := os.Stat(name); err != nil {
				return "", fmt.Errorf("%s: %w", name, err)
			}
			return name, nil
		}
		role := t.Role
		if role == nil {
			role = sc.role
		}
		var tried []string
		if role != nil {
			// In the role's folder of that kind, then from the role's top,
			// as Ansible does: src: templates/x.j2 names the same file as
			// src: x.j2.
			for _, p := range []string{path.Join(kind, name), path.Clean(name)} {
				if strings.HasPrefix(p, "../") || p == ".." {
					continue
				}
				if role.OnDisk {
					full := filepath.Join(role.Path, p)
					tried = append(tried, full)
					if _, err := os.Stat(full); err == nil {
						return full, nil
					}
				} else if data, err := fs.ReadFile(role.FS, path.Join(role.Path, p)); err == nil {
					return pr.e.materialize(role.Name, p, data)
				} else {
					tried = append(tried, "(built-in) roles/"+role.Name+"/"+p)
				}
			}
		}
		for _, p := range []string{filepath.Join(pr.pb.Dir, kind, name), filepath.Join(pr.pb.Dir, name)} {
			tried = append(tried, p)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		return "", fmt.Errorf("could not find %s in %s", name, strings.Join(tried, ", "))
	}
}

// materialize writes an embedded file to a private temporary file, removed
// at the end of the run, so that modules can read it by path.
func (e *Executor) materialize(role, p string, data []byte) (string, error) {
	dir, err := os.MkdirTemp("", "tpago-role-")
	if err != nil {
		return "", err
	}
	full := filepath.Join(dir, filepath.Base(p))
	if err := os.WriteFile(full, data, 0o600); err != nil {
		return "", err
	}
	e.mu.Lock()
	e.tmpFiles = append(e.tmpFiles, dir)
	e.mu.Unlock()
	return full, nil
}

func removeFiles(paths []string) {
	for _, p := range paths {
		os.RemoveAll(p)
	}
}

func (e *Executor) addSecret(s string) {
	if len(s) < 4 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, x := range e.secrets {
		if x == s {
			return
		}
	}
	e.secrets = append(e.secrets, s)
}

// Secrets returns the values that must never be printed.
func (e *Executor) Secrets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.secrets...)
}

// addResultSecrets remembers what a no_log task printed (a password read
// with cat, a key) as secrets, so that it is masked wherever it shows up
// later: in another task's diff, result or error.
func (e *Executor) addResultSecrets(r *TaskResult) {
	for _, it := range r.Items {
		e.addResultSecrets(it)
	}
	s, _ := r.Result["stdout"].(string)
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); looksSecret(l) {
			e.addSecret(l)
		}
	}
}

// looksSecret tells a password or key line from ordinary output (a word,
// a number, an address, a sentence), which masking must leave readable.
func looksSecret(s string) bool {
	if len(s) < 12 || strings.ContainsAny(s, " \t") || strings.HasPrefix(s, "-----") {
		return false
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return false
	}
	return true
}

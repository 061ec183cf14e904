package executor

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/playbook"
)

func (pr *playRun) runList(ctx context.Context, tasks []*playbook.Task, hosts []string, sc *scope) {
	for _, t := range tasks {
		if ctx.Err() != nil {
			return
		}
		hs := pr.active(hosts)
		if len(hs) == 0 {
			return
		}
		switch {
		case t.Block != nil:
			pr.runBlock(ctx, t, hs, sc)
		case t.Include != nil:
			pr.runInclude(ctx, t, hs, sc)
		case t.Module == "meta":
			pr.runMeta(ctx, t, hs, sc)
		default:
			pr.runTask(ctx, t, hs, sc, false)
		}
	}
}

func (pr *playRun) runBlock(ctx context.Context, t *playbook.Task, hosts []string, sc *scope) {
	child := sc.child(t)
	if len(t.Rescue) == 0 && len(t.Always) == 0 {
		pr.runList(ctx, t.Block, hosts, child)
		return
	}
	pr.runList(ctx, t.Block, hosts, child)
	failed := pr.filter(hosts, func(s *hostState) bool { return s.failed && !s.unreachable })
	if len(t.Rescue) > 0 && len(failed) > 0 {
		pr.mu.Lock()
		for _, h := range failed {
			pr.state[h].failed = false
		}
		pr.mu.Unlock()
		rescue := &scope{parent: child, role: child.role, hostParams: map[string]map[string]any{}}
		pr.mu.Lock()
		for _, h := range failed {
			if lf := pr.state[h].lastFailure; lf != nil {
				rescue.hostParams[h] = map[string]any{
					"ansible_failed_task":   map[string]any{"name": lf.Task.Label(), "action": lf.Task.Module},
					"ansible_failed_result": expr.Raw{Value: lf.Result},
				}
			}
		}
		pr.mu.Unlock()
		for _, h := range failed {
			pr.e.stat(h, func(s *Stats) { s.Failed--; s.Rescued++ })
		}
		pr.runList(ctx, t.Rescue, failed, rescue)
		// A host whose rescue failed again counts as failed once.
		for _, h := range pr.filter(failed, func(s *hostState) bool { return s.failed }) {
			pr.e.stat(h, func(s *Stats) { s.Rescued-- })
		}
	}
	if len(t.Always) > 0 {
		still := pr.filter(hosts, func(s *hostState) bool { return s.failed && !s.unreachable })
		pr.mu.Lock()
		for _, h := range still {
			pr.state[h].failed = false
		}
		pr.mu.Unlock()
		pr.runList(ctx, t.Always, pr.filter(hosts, func(s *hostState) bool { return !s.unreachable }), child)
		pr.mu.Lock()
		for _, h := range still {
			pr.state[h].failed = true
		}
		pr.mu.Unlock()
	}
}

func (pr *playRun) filter(hosts []string, f func(*hostState) bool) []string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	var out []string
	for _, h := range hosts {
		if s := pr.state[h]; s != nil && f(s) {
			out = append(out, h)
		}
	}
	return out
}

// conds returns the conditions that apply to t: its blocks' (outermost
// first) and its own.
func conds(t *playbook.Task, sc *scope) []playbook.Cond {
	var chain []*playbook.Task
	sc.each(func(s *scope) bool {
		if s.block != nil && s.block.Include == nil {
			chain = append(chain, s.block)
		}
		return true
	})
	var out []playbook.Cond
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, chain[i].When...)
	}
	return append(out, t.When...)
}

// when evaluates t's conditions for one host.
func when(cs []playbook.Cond, hsc expr.Scope) (bool, error) {
	for _, c := range cs {
		v, err := expr.EvalIn(c.Expr, hsc)
		if err != nil {
			return false, fmt.Errorf("%s: when: %v", c.Pos, err)
		}
		ok, err := expr.Condition(v)
		if err != nil {
			return false, fmt.Errorf("%s: when: %v", c.Pos, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// tagged reports whether t runs under --tags/--skip-tags.
func (pr *playRun) tagged(t *playbook.Task, sc *scope) bool {
	tags := map[string]bool{}
	for _, x := range t.Tags {
		tags[x] = true
	}
	sc.each(func(s *scope) bool {
		if s.block != nil {
			for _, x := range s.block.Tags {
				tags[x] = true
			}
		}
		return true
	})
	for _, x := range pr.play.Tags {
		tags[x] = true
	}
	return pr.selected(tags)
}

func (pr *playRun) skipByTags(tags []string) bool {
	m := map[string]bool{}
	for _, t := range tags {
		m[t] = true
	}
	return !pr.selected(m)
}

func (pr *playRun) selected(tags map[string]bool) bool {
	return TagsSelected(tags, pr.e.opts.Tags, pr.e.opts.SkipTags)
}

// TagsSelected tells whether a task with tags runs under --tags only and
// --skip-tags skip, with Ansible's special tags: always, never, tagged,
// untagged and all.
func TagsSelected(tags map[string]bool, only, skip []string) bool {
	for _, s := range skip {
		if tags[s] || (s == "tagged" && len(tags) > 0) || (s == "untagged" && len(tags) == 0) || s == "all" {
			return false
		}
	}
	if len(only) == 0 {
		return !tags["never"]
	}
	if tags["always"] {
		return true
	}
	for _, w := range only {
		switch {
		case w == "all":
			if !tags["never"] {
				return true
			}
		case w == "tagged":
			if len(tags) > 0 && !tags["never"] {
				return true
			}
		case w == "untagged":
			if len(tags) == 0 {
				return true
			}
		case tags[w]:
			return true
		}
	}
	return false
}

// displayName is the task's name as shown: "role : name", rendered.
func (pr *playRun) displayName(t *playbook.Task, sc *scope, host string) string {
	name := t.Name
	if name == "" {
		name = t.Label()
	}
	if expr.HasTemplate(name) && host != "" {
		if v, err := expr.RenderIn(name, pr.hostScope(host, t, sc)); err == nil {
			name = expr.ToString(v)
		}
	}
	if t.Role != nil {
		name = t.Role.Name + " : " + name
	}
	return name
}

func (pr *playRun) runTask(ctx context.Context, t *playbook.Task, hosts []string, sc *scope, handler bool) {
	if !handler && !pr.tagged(t, sc) {
		return
	}
	run := hosts
	if t.RunOnce && len(hosts) > 0 {
		run = hosts[:1]
	}
	pr.e.out.TaskStart(t, pr.displayName(t, sc, run[0]), handler)
	results := make([]*TaskResult, len(run))
	var g errgroup.Group
	g.SetLimit(pr.e.opts.Forks)
	for i, h := range run {
		g.Go(func() error {
			r := pr.runOnHost(ctx, t, h, sc)
			results[i] = r
			pr.record(t, r, sc)
			return nil
		})
	}
	g.Wait()
	if t.RunOnce && len(hosts) > 1 && results[0] != nil {
		r0 := results[0]
		for _, h := range hosts[1:] {
			if t.Register != "" && r0.Result != nil {
				pr.e.setFacts(h, map[string]any{t.Register: expr.Raw{Value: r0.Result}})
			}
			if t.Module == "set_fact" && r0.Status != Failed && r0.Status != Skipped {
				if f, ok := r0.Result["ansible_facts"].(map[string]any); ok {
					pr.e.setFacts(h, f)
				}
			}
			if r0.Status == Changed {
				pr.notify(h, t)
			}
		}
	}
	if pr.anyErrorsFatal(t, sc) {
		for _, r := range results {
			if r != nil && r.Status == Failed && !r.Ignored {
				pr.mu.Lock()
				pr.fatal = true
				for _, s := range pr.state {
					s.ended = true
				}
				pr.mu.Unlock()
				pr.e.out.Warn("any_errors_fatal: a host failed, the play stops for every host")
				break
			}
		}
	}
}

func (pr *playRun) anyErrorsFatal(t *playbook.Task, sc *scope) bool {
	if t.AnyErrorsFatal != nil {
		return *t.AnyErrorsFatal
	}
	v := pr.play.AnyErrorsFatal
	sc.each(func(s *scope) bool {
		if s.block != nil && s.block.AnyErrorsFatal != nil {
			v = *s.block.AnyErrorsFatal
			return false
		}
		return true
	})
	return v
}

// record counts a result, updates the host's state and reports it.
func (pr *playRun) record(t *playbook.Task, r *TaskResult, sc *scope) {
	h := r.Host
	pr.e.stat(h, func(s *Stats) {
		switch {
		case r.Status == Unreachable:
			s.Unreachable++
		case r.Status == Failed && r.Ignored:
			s.Ignored++
		case r.Status == Failed:
			s.Failed++
		case r.Status == Skipped:
			s.Skipped++
		case r.Status == Changed:
			s.Changed++
			s.OK++
		default:
			s.OK++
		}
	})
	pr.mu.Lock()
	st := pr.state[h]
	if st != nil {
		switch {
		case r.Status == Unreachable && !t.IgnoreUnreach && !pr.play.IgnoreUnreach:
			st.unreachable = true
		case r.Status == Failed && !r.Ignored:
			st.failed = true
			st.lastFailure = r
		}
	}
	pr.mu.Unlock()
	if r.Status == Changed && pr.e.checkMode(t, sc) {
		pr.e.mu.Lock()
		pr.e.predicted[h] = true
		pr.e.mu.Unlock()
	}
	if r.Status == Changed {
		pr.notify(h, t)
	}
	pr.e.out.HostResult(r)
}

func (pr *playRun) notify(h string, t *playbook.Task) {
	if len(t.Notify) == 0 {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	st := pr.state[h]
	if st == nil {
		return
	}
	for _, n := range t.Notify {
		for _, hd := range pr.play.Handlers {
			if handlerMatches(hd, n) {
				st.notified[hd] = true
			}
		}
	}
}

func handlerMatches(hd *playbook.Task, name string) bool {
	if hd.Name == name || (hd.Role != nil && hd.Role.Name+" : "+hd.Name == name) {
		return true
	}
	for _, l := range hd.Listen {
		if l == name {
			return true
		}
	}
	return false
}

func (pr *playRun) flushHandlers(ctx context.Context) {
	for round := 0; round < 10; round++ {
		ran := false
		for _, hd := range pr.play.Handlers {
			var hs []string
			pr.mu.Lock()
			for _, h := range pr.hosts {
				st := pr.state[h]
				if st.notified[hd] && !st.failed && !st.unreachable && !st.ended {
					hs = append(hs, h)
					delete(st.notified, hd)
				}
			}
			pr.mu.Unlock()
			if len(hs) == 0 || ctx.Err() != nil {
				continue
			}
			ran = true
			sc := &scope{}
			if hd.Role != nil {
				sc = &scope{role: hd.Role, params: hd.Role.Params}
			}
			if hd.Block != nil {
				pr.runBlock(ctx, hd, hs, sc)
			} else {
				pr.runTask(ctx, hd, hs, sc, true)
			}
		}
		if !ran {
			return
		}
	}
}

func (pr *playRun) runMeta(ctx context.Context, t *playbook.Task, hosts []string, sc *scope) {
	action, _ := t.Args["_raw_params"].(string)
	cs := conds(t, sc)
	var hs []string
	for _, h := range hosts {
		ok, err := when(cs, pr.hostScope(h, t, sc))
		if err != nil {
			pr.record(t, &TaskResult{Host: h, Task: t, Status: Failed, Msg: err.Error()}, sc)
			continue
		}
		if ok {
			hs = append(hs, h)
		}
	}
	switch action {
	case "flush_handlers":
		pr.flushHandlers(ctx)
	case "end_play":
		if len(hs) > 0 {
			pr.mu.Lock()
			for _, s := range pr.state {
				s.ended = true
			}
			pr.mu.Unlock()
		}
	case "end_host":
		pr.mu.Lock()
		for _, h := range hs {
			pr.state[h].ended = true
		}
		pr.mu.Unlock()
	case "end_batch":
		pr.mu.Lock()
		for _, h := range pr.hosts {
			pr.state[h].ended = true
		}
		pr.mu.Unlock()
	case "clear_host_errors":
		pr.mu.Lock()
		for _, h := range pr.hosts {
			pr.state[h].failed = false
		}
		pr.mu.Unlock()
	case "clear_facts":
		for _, h := range hs {
			pr.e.mu.Lock()
			delete(pr.e.facts, h)
			pr.e.factGen++
			pr.e.mu.Unlock()
		}
	}
}

// runInclude runs a dynamic include (include_tasks, include_role).
func (pr *playRun) runInclude(ctx context.Context, t *playbook.Task, hosts []string, sc *scope) {
	cs := conds(t, sc)
	type entry struct {
		file string
		vars map[string]any
	}
	perHost := map[string][]entry{}
	maxItems := 0
	for _, h := range hosts {
		hsc := pr.hostScope(h, t, sc)
		var items []any
		loopVar := t.LoopVar
		if loopVar == "" {
			loopVar = "item"
		}
		if t.HasLoop {
			var err error
			items, err = loopItems(t, hsc)
			if err != nil {
				pr.record(t, &TaskResult{Host: h, Task: t, Status: Failed, Msg: err.Error()}, sc)
				continue
			}
		} else {
			items = []any{nil}
		}
		for i, it := range items {
			isc := hsc
			vars := map[string]any{}
			if t.HasLoop {
				vars[loopVar] = expr.Raw{Value: it}
				vars["ansible_loop_var"] = loopVar
				if t.IndexVar != "" {
					vars[t.IndexVar] = i
				}
				isc = hsc.with(vars)
			}
			ok, err := when(cs, isc)
			if err != nil {
				pr.record(t, &TaskResult{Host: h, Task: t, Status: Failed, Msg: err.Error()}, sc)
				break
			}
			if !ok {
				continue
			}
			file := ""
			if t.Include.Kind == "tasks" {
				v, err := expr.RenderIn(t.Include.File, isc)
				if err != nil {
					pr.record(t, &TaskResult{Host: h, Task: t, Status: Failed, Msg: fmt.Sprintf("%s: include_tasks: %v", t.Pos, err)}, sc)
					break
				}
				file = expr.ToString(v)
			}
			perHost[h] = append(perHost[h], entry{file: file, vars: vars})
			if len(perHost[h]) > maxItems {
				maxItems = len(perHost[h])
			}
		}
	}
	for i := 0; i < maxItems; i++ {
		groups := map[string][]string{}
		var order []string
		hostVars := map[string]map[string]any{}
		for _, h := range pr.active(hosts) {
			es := perHost[h]
			if i >= len(es) {
				continue
			}
			if _, ok := groups[es[i].file]; !ok {
				order = append(order, es[i].file)
			}
			groups[es[i].file] = append(groups[es[i].file], h)
			hostVars[h] = es[i].vars
		}
		for _, file := range order {
			hs := groups[file]
			child := &scope{parent: sc, block: t, role: sc.role, params: t.Include.Params, hostParams: hostVars}
			if t.Include.Kind == "role" {
				ro := t.Include.LoadedRole
				child.role = ro
				params := map[string]any{}
				for k, v := range ro.Params {
					params[k] = v
				}
				for k, v := range t.Include.Params {
					params[k] = v
				}
				child.params = params
				for _, d := range ro.Deps {
					pr.runList(ctx, []*playbook.Task{{Pos: t.Pos, Block: d.Tasks, Static: true, Role: d}}, hs, child)
				}
				pr.runList(ctx, ro.Tasks, hs, child)
				continue
			}
			tasks := t.Include.Loaded
			if tasks == nil || expr.HasTemplate(t.Include.File) {
				loaded, err := pr.loadInclude(file, t)
				if err != nil {
					for _, h := range hs {
						pr.record(t, &TaskResult{Host: h, Task: t, Status: Failed, Msg: err.Error()}, sc)
					}
					continue
				}
				tasks = loaded
			}
			pr.runList(ctx, tasks, hs, child)
		}
	}
}

var includeCache sync.Map

func (pr *playRun) loadInclude(file string, from *playbook.Task) ([]*playbook.Task, error) {
	key := file
	if from.Role != nil {
		key = from.Role.Path + "|" + path.Join(from.Dir, file)
	}
	if v, ok := includeCache.Load(key); ok {
		return v.([]*playbook.Task), nil
	}
	ld := pr.e.opts.Loader
	if ld == nil {
		ld = &playbook.Loader{}
	}
	ts, err := ld.LoadTasks(file, from)
	if err != nil {
		return nil, fmt.Errorf("%s: include_tasks %s: %w", from.Pos, file, err)
	}
	includeCache.Store(key, ts)
	return ts, nil
}

func loopItems(t *playbook.Task, hsc expr.Scope) ([]any, error) {
	v, err := expr.RenderDeepIn(t.Loop, hsc)
	if err != nil {
		return nil, fmt.Errorf("%s: loop: %v", t.Pos, err)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%s: loop: needs a list, got %T", t.Pos, v)
}

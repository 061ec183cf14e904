package executor

import (
	"context"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
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
			if r0.Status != Failed && r0.Status != Skipped {
				if f, ok := r0.Result["ansible_facts"].(map[string]any); ok && t.Module == "set_fact" {
					pr.e.setFacts(h, f)
				} else if ok && r0.includedVars == nil && r0.hostFacts == nil {
					pr.e.addHostFacts(h, f)
				}
			}
			if len(r0.Items) == 0 {
				pr.e.keepVars(h, r0)
			}
			for _, it := range r0.Items {
				pr.e.keepVars(h, it)
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
		case r.Status == Unreachable && !pr.ignoreUnreachable(t, sc):
			st.unreachable = true
		case r.Status == Failed && !r.Ignored:
			st.failed = true
			st.lastFailure = r
		}
	}
	pr.mu.Unlock()
	if r.Status == Changed && pr.checkMode(t, sc) {
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
			if playbook.HandlerMatches(hd, n) {
				st.notified[hd] = true
			}
		}
	}
}

// maxHandlerRounds bounds how often handlers notified by handlers run again
// in one flush. The loader refuses handlers that notify one another in a
// cycle; a templated notify can still make one, which fails the hosts.
const maxHandlerRounds = 10

func (pr *playRun) flushHandlers(ctx context.Context) {
	for round := 0; ; round++ {
		if round == maxHandlerRounds {
			pr.failHandlerCycle()
			return
		}
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
			switch {
			case hd.Block != nil:
				pr.runBlock(ctx, hd, hs, sc)
			case hd.Include != nil:
				pr.runInclude(ctx, hd, hs, sc)
			default:
				pr.runTask(ctx, hd, hs, sc, true)
			}
		}
		if !ran {
			return
		}
	}
}

// failHandlerCycle fails the hosts whose handlers were still notified after
// maxHandlerRounds rounds, naming those handlers.
func (pr *playRun) failHandlerCycle() {
	type pending struct {
		host string
		hds  []*playbook.Task
	}
	var ps []pending
	pr.mu.Lock()
	for _, h := range pr.hosts {
		st := pr.state[h]
		var hds []*playbook.Task
		for _, hd := range pr.play.Handlers {
			if st.notified[hd] {
				hds = append(hds, hd)
				delete(st.notified, hd)
			}
		}
		if len(hds) > 0 {
			ps = append(ps, pending{h, hds})
		}
	}
	pr.mu.Unlock()
	for _, p := range ps {
		var names []string
		for _, hd := range p.hds {
			names = append(names, hd.Label())
		}
		pr.record(p.hds[0], &TaskResult{Host: p.host, Task: p.hds[0], Status: Failed, Msg: fmt.Sprintf(
			"handlers notify one another in a cycle: %s still notified after %d rounds", strings.Join(names, ", "), maxHandlerRounds)}, &scope{})
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

// MaxIncludeDepth is how deep dynamic includes (include_tasks,
// include_role) may nest in one another. A task file that includes itself
// through a templated name never ends otherwise; Ansible stops such a run
// with a recursion error, tpago fails the include at this depth.
const MaxIncludeDepth = 100

// includeDepth counts the dynamic includes that sc runs inside.
func includeDepth(sc *scope) int {
	n := 0
	sc.each(func(s *scope) bool {
		if s.block != nil && s.block.Include != nil {
			n++
		}
		return true
	})
	return n
}

// runInclude runs a dynamic include (include_tasks, include_role).
func (pr *playRun) runInclude(ctx context.Context, t *playbook.Task, hosts []string, sc *scope) {
	if d := includeDepth(sc); d >= MaxIncludeDepth {
		for _, h := range hosts {
			pr.record(t, &TaskResult{Host: h, Task: t, Status: Failed, Msg: fmt.Sprintf(
				"%s: includes nested %d deep, the most tpago allows: does a task file include itself without end?", t.Pos, d)}, sc)
		}
		return
	}
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
			items, err = pr.loopItems(t, sc, hsc)
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

// loadMu serializes run-time loads: the Loader keeps state while it loads
// (the problems found, the files being loaded), and with strategy: free
// hosts reach their includes at the same time.
var loadMu sync.Mutex

func (pr *playRun) loadInclude(file string, from *playbook.Task) ([]*playbook.Task, error) {
	// The same name from another folder (another playbook, another role)
	// is another file.
	key := "|" + path.Join(from.Dir, file)
	if from.Role != nil {
		key = from.Role.Path + key
	}
	if v, ok := includeCache.Load(key); ok {
		return v.([]*playbook.Task), nil
	}
	ld := pr.e.opts.Loader
	if ld == nil {
		ld = &playbook.Loader{}
	}
	loadMu.Lock()
	ts, err := ld.LoadTasks(file, from)
	loadMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: include_tasks %s: %w", from.Pos, file, err)
	}
	includeCache.Store(key, ts)
	return ts, nil
}

// loopItems renders t's loop for one host and turns it into its items:
// loop: as it is, a with_* loop with Ansible's meaning for it.
func (pr *playRun) loopItems(t *playbook.Task, sc *scope, hsc expr.Scope) ([]any, error) {
	v, err := expr.RenderDeepIn(t.Loop, hsc)
	if err != nil {
		return nil, fmt.Errorf("%s: loop: %v", t.Pos, err)
	}
	if t.LoopWith != "" {
		find := pr.finder(t, sc)
		items, err := withItems(t.LoopWith, v, func(_, name string) (string, error) { return find(lookupSubdir(t.Module), name) })
		if err != nil {
			return nil, fmt.Errorf("%s: with_%s: %v", t.Pos, t.LoopWith, err)
		}
		return items, nil
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case []string:
		return toAny(x), nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%s: loop: needs a list, got %T", t.Pos, v)
}

// lookupSubdir is the folder of a role in which a lookup (first_found)
// looks for files, chosen by the task's module as Ansible does: templates/
// for template, vars/ for include_vars, files/ for the others.
func lookupSubdir(mod string) string {
	for _, k := range []string{"template", "var"} {
		if strings.Contains(mod, k) {
			return k + "s"
		}
	}
	return "files"
}

// asList is v as a list: a list as it is, nothing for nil, else a list of v.
func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []string:
		return toAny(x)
	}
	return []any{v}
}

// flatten1 flattens one level of nested lists, as with_items does.
func flatten1(l []any) []any {
	var out []any
	for _, it := range l {
		switch x := it.(type) {
		case []any, []string:
			out = append(out, asList(x)...)
		default:
			out = append(out, it)
		}
	}
	return out
}

// withItems turns the rendered value of a with_KIND loop into its items,
// as Ansible's lookup of that name does. find finds a file of the role or
// playbook (for first_found).
func withItems(kind string, v any, find func(kind, name string) (string, error)) ([]any, error) {
	switch kind {
	case "list":
		return asList(v), nil
	case "items":
		return flatten1(asList(v)), nil
	case "indexed_items":
		var out []any
		for i, it := range flatten1(asList(v)) {
			out = append(out, []any{i, it})
		}
		return out, nil
	case "dict":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("needs a mapping, got %T", v)
		}
		var out []any
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out = append(out, map[string]any{"key": k, "value": m[k]})
		}
		return out, nil
	case "together", "nested":
		var lists [][]any
		for _, l := range asList(v) {
			lists = append(lists, asList(l))
		}
		if kind == "together" {
			return together(lists), nil
		}
		return nested(lists), nil
	case "sequence":
		return sequence(v)
	case "subelements":
		return subelements(v)
	case "first_found":
		return firstFound(v, find)
	}
	return nil, fmt.Errorf("unknown loop kind")
}

// together zips lists, padding the shorter ones with nil.
func together(lists [][]any) []any {
	n := 0
	for _, l := range lists {
		n = max(n, len(l))
	}
	var out []any
	for i := range n {
		row := make([]any, len(lists))
		for j, l := range lists {
			if i < len(l) {
				row[j] = l[i]
			}
		}
		out = append(out, row)
	}
	return out
}

// nested is every combination of one element of each list, in order.
func nested(lists [][]any) []any {
	if len(lists) == 0 {
		return nil
	}
	out := []any{[]any{}}
	for _, l := range lists {
		var next []any
		for _, prefix := range out {
			for _, it := range l {
				next = append(next, append(slices.Clone(prefix.([]any)), it))
			}
		}
		out = next
	}
	return out
}

// sequence reads "start=1 end=5 stride=2 format=host%02d" or "count=3"
// (or the short form "1-5/2") and gives the formatted numbers as strings.
func sequence(v any) ([]any, error) {
	spec, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("takes text such as start=1 end=5, not %T", v)
	}
	start, end, stride, count, format := 1, 0, 1, -1, "%d"
	hasEnd := false
	num := func(s string) (int, error) { return strconv.Atoi(strings.TrimSpace(s)) }
	for _, w := range strings.Fields(spec) {
		k, val, ok := strings.Cut(w, "=")
		var err error
		switch {
		case !ok:
			// short form START-END/STRIDE
			se, st, hasStride := strings.Cut(w, "/")
			a, b, hasDash := strings.Cut(se, "-")
			if start, err = num(a); err == nil && hasDash {
				end, err = num(b)
				hasEnd = true
			}
			if err == nil && hasStride {
				stride, err = num(st)
			}
		case k == "start":
			start, err = num(val)
		case k == "end":
			end, err = num(val)
			hasEnd = true
		case k == "stride":
			stride, err = num(val)
		case k == "count":
			count, err = num(val)
		case k == "format":
			format = val
		default:
			return nil, fmt.Errorf("unknown argument %q (start, end, stride, count, format)", k)
		}
		if err != nil {
			return nil, fmt.Errorf("%q: not a whole number", w)
		}
	}
	if count >= 0 {
		if hasEnd {
			return nil, fmt.Errorf("count and end cannot both be given")
		}
		end, hasEnd = start+(count-1)*stride, true
		if count == 0 {
			return nil, nil
		}
	}
	if !hasEnd {
		return nil, fmt.Errorf("needs end= or count=")
	}
	if stride == 0 || (end-start)/stride < 0 {
		return nil, fmt.Errorf("stride %d never goes from %d to %d", stride, start, end)
	}
	if (end-start)/stride > 100000 {
		return nil, fmt.Errorf("more than 100000 items")
	}
	var out []any
	for i := start; stride > 0 && i <= end || stride < 0 && i >= end; i += stride {
		out = append(out, fmt.Sprintf(format, i))
	}
	return out, nil
}

// subelements takes [list, "key"] (and optionally {skip_missing: true})
// and gives [element, sub] for each sub in each element's key.
func subelements(v any) ([]any, error) {
	args := asList(v)
	if len(args) < 2 || len(args) > 3 {
		return nil, fmt.Errorf("takes [list, key] or [list, key, {skip_missing: true}]")
	}
	key, ok := args[1].(string)
	if !ok {
		return nil, fmt.Errorf("the key must be text, not %T", args[1])
	}
	skip := false
	if len(args) == 3 {
		if m, ok := args[2].(map[string]any); ok {
			skip, _ = module.ParseBool(m["skip_missing"])
		}
	}
	var out []any
	for _, el := range asList(args[0]) {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the list holds %T, not mappings", el)
		}
		subs, found := m[key]
		if !found {
			if skip {
				continue
			}
			return nil, fmt.Errorf("an element has no key %q (add {skip_missing: true} to skip it)", key)
		}
		for _, sub := range asList(subs) {
			out = append(out, []any{el, sub})
		}
	}
	return out, nil
}

// firstFound gives the first of the files that exists (relative names are
// looked for in the role's folder for the task's module, see lookupSubdir,
// and beside the playbook), as one item.
func firstFound(v any, find func(kind, name string) (string, error)) ([]any, error) {
	var files, paths []string
	skip := false
	for _, it := range asList(v) {
		switch x := it.(type) {
		case string:
			files = append(files, x)
		case map[string]any:
			for _, f := range asList(x["files"]) {
				files = append(files, fmt.Sprint(f))
			}
			for _, p := range asList(x["paths"]) {
				paths = append(paths, fmt.Sprint(p))
			}
			skip, _ = module.ParseBool(x["skip"])
		}
	}
	var candidates []string
	for _, f := range files {
		if len(paths) == 0 || filepath.IsAbs(f) {
			candidates = append(candidates, f)
			continue
		}
		for _, p := range paths {
			candidates = append(candidates, filepath.Join(p, f))
		}
	}
	for _, c := range candidates {
		if p, err := find("files", c); err == nil {
			return []any{p}, nil
		}
	}
	if skip {
		return nil, nil
	}
	return nil, fmt.Errorf("none of %s was found", strings.Join(candidates, ", "))
}

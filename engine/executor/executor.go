// Package executor runs loaded playbooks over an inventory: plays in
// order, each task on all of its hosts at once (bounded by forks), with
// handlers, blocks, loops, includes, check mode and diffs.
package executor

import (
	"context"
	"fmt"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/inventory"
)

// Options configure a run.
type Options struct {
	Inventory *inventory.Inventory
	// Limit further restricts every play's hosts (a host pattern).
	Limit     string
	Tags      []string
	SkipTags  []string
	ExtraVars map[string]any
	Check     bool
	Diff      bool
	// Forks bounds how many hosts run a task at once (default 50).
	Forks     int
	Verbosity int
	Output    Callback
	// Loader loads include_tasks files named by templates at run time.
	Loader *playbook.Loader
	// ConnectTimeout bounds each SSH connection attempt (default 10 s).
	ConnectTimeout time.Duration
	// TaskTimeout bounds each run of a module on a host, for tasks that
	// set no timeout: of their own (0: none).
	TaskTimeout time.Duration
	// AcceptNewHostKeys records unknown host keys (never changed ones).
	AcceptNewHostKeys bool
	// Dial opens a connection for a host from its connection variables;
	// nil uses SSH, or the local connection for ansible_connection: local.
	Dial func(ctx context.Context, host string, cv ConnVars) (conn.Conn, error)
}

// Executor runs playbooks. Use one per run: it holds the run's
// connections, facts and statistics.
type Executor struct {
	opts Options
	out  Callback

	mu        sync.Mutex
	conns     map[string]*hostConn
	facts     map[string]map[string]any // set_fact and registered results, per host
	incVars   map[string]map[string]any // include_vars, per host
	factGen   int
	hvCache   map[string]any
	hvGen     int
	stats     map[string]*Stats
	order     []string
	invVars   map[string]map[string]any
	groups    map[string]any
	secrets   []string
	predicted map[string]bool // hosts with a change predicted in check mode

	tmpFiles []string
}

// New makes an executor.
func New(opts Options) *Executor {
	if opts.Forks <= 0 {
		opts.Forks = 50
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.Inventory == nil {
		opts.Inventory = inventory.New()
	}
	e := &Executor{
		opts:      opts,
		out:       opts.Output,
		conns:     map[string]*hostConn{},
		facts:     map[string]map[string]any{},
		incVars:   map[string]map[string]any{},
		stats:     map[string]*Stats{},
		invVars:   map[string]map[string]any{},
		predicted: map[string]bool{},
	}
	if e.out == nil {
		e.out = nopCallback{}
	}
	e.out = Masked(e.out, e.Secrets)
	gm := opts.Inventory.GroupMap()
	e.groups = make(map[string]any, len(gm))
	for g, hs := range gm {
		l := make([]any, len(hs))
		for i, h := range hs {
			l[i] = h
		}
		e.groups[g] = l
	}
	for _, h := range opts.Inventory.Order {
		e.invVars[h] = opts.Inventory.HostVars(h)
	}
	return e
}

// Result is the outcome of a run.
type Result struct {
	Stats []*Stats
	// Failed and Unreachable count hosts.
	Failed      int
	Unreachable int
}

// ExitCode is ansible-playbook's: 0, 2 when a host failed, 4 when a host
// was unreachable.
func (r *Result) ExitCode() int {
	switch {
	case r.Failed > 0:
		return 2
	case r.Unreachable > 0:
		return 4
	}
	return 0
}

// Run runs the playbook's plays in order.
func (e *Executor) Run(ctx context.Context, pb *playbook.Playbook) (*Result, error) {
	defer e.cleanup()
	for _, p := range pb.Plays {
		if err := e.runPlay(ctx, pb, p); err != nil {
			return e.result(), err
		}
		if ctx.Err() != nil {
			break
		}
	}
	res := e.result()
	e.out.Recap(res.Stats)
	return res, ctx.Err()
}

func (e *Executor) result() *Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &Result{}
	for _, h := range e.order {
		s := e.stats[h]
		r.Stats = append(r.Stats, s)
		if s.Failed > 0 {
			r.Failed++
		}
		if s.Unreachable > 0 {
			r.Unreachable++
		}
	}
	return r
}

func (e *Executor) cleanup() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.conns {
		if c.c != nil {
			c.c.Close()
		}
	}
	e.conns = map[string]*hostConn{}
	removeFiles(e.tmpFiles)
	e.tmpFiles = nil
}

// hostState is a host's state within a play.
type hostState struct {
	failed      bool
	unreachable bool
	ended       bool
	notified    map[*playbook.Task]bool
	// lastFailure is the last task that failed on the host, for rescue's
	// ansible_failed_task and ansible_failed_result.
	lastFailure *TaskResult
}

// playRun is one play's run over one batch of hosts.
type playRun struct {
	e            *Executor
	pb           *playbook.Playbook
	play         *playbook.Play
	hosts        []string // the batch
	all          []string // every host of the play
	mu           sync.Mutex
	state        map[string]*hostState
	playVars     map[string]any
	roleDefaults map[string]any
	roleVars     map[string]any
	fatal        bool
	// playHostsList and allHostsList are the values of the play-hosts
	// magic variables, shared by every host's scope (read-only, as groups
	// is): building them per host and task costs time in the square of
	// the hosts.
	playHostsList []any
	allHostsOnce  sync.Once
	allHostsList  []any
}

func (e *Executor) runPlay(ctx context.Context, pb *playbook.Playbook, p *playbook.Play) error {
	hosts, err := e.opts.Inventory.Match(p.Hosts)
	if err != nil {
		return fmt.Errorf("play %q (%s): %w", p.Name, p.Pos, err)
	}
	if um := e.opts.Inventory.Unmatched(p.Hosts); len(um) > 0 && e.opts.Verbosity > 0 {
		e.out.Warn(fmt.Sprintf("play %q: no host or group named %s in the inventory", p.Name, strings.Join(um, ", ")))
	}
	if e.opts.Limit != "" {
		lim, err := e.opts.Inventory.Match(e.opts.Limit)
		if err != nil {
			return fmt.Errorf("--limit: %w", err)
		}
		in := map[string]bool{}
		for _, h := range lim {
			in[h] = true
		}
		var keep []string
		for _, h := range hosts {
			if in[h] {
				keep = append(keep, h)
			}
		}
		hosts = keep
	}
	// Hosts that failed or were unreachable in an earlier play stay out.
	var live []string
	e.mu.Lock()
	for _, h := range hosts {
		if s, ok := e.stats[h]; ok && (s.Failed > 0 || s.Unreachable > 0) {
			continue
		}
		if _, ok := e.stats[h]; !ok {
			e.stats[h] = &Stats{Host: h}
			e.order = append(e.order, h)
		}
		live = append(live, h)
	}
	e.mu.Unlock()
	name := p.Name
	if name == "" {
		name = p.Hosts
	}
	e.out.PlayStart(p, name, live)
	if len(live) == 0 {
		e.out.Warn(fmt.Sprintf("play %q: no hosts matched, skipping", name))
		return nil
	}
	pv := map[string]any{}
	for k, v := range p.Vars {
		pv[k] = v
	}
	for _, vf := range p.VarsFiles {
		for k, v := range vf {
			pv[k] = v
		}
	}
	rd, rv := map[string]any{}, map[string]any{}
	for _, r := range p.AllRoles {
		for k, v := range r.Defaults {
			rd[k] = v
		}
		for k, v := range r.Vars {
			rv[k] = v
		}
	}
	serial, err := serialSizes(p.Serial, &hostScope{layers: []map[string]any{e.opts.ExtraVars, pv, rv, rd}})
	if err != nil {
		return exitcode.Bad(fmt.Errorf("play %q (%s): %w", name, p.Pos, err))
	}
	for _, batch := range batches(live, serial) {
		pr := &playRun{e: e, pb: pb, play: p, hosts: batch, all: live, state: map[string]*hostState{},
			playVars: pv, roleDefaults: rd, roleVars: rv}
		for _, h := range batch {
			pr.state[h] = &hostState{notified: map[*playbook.Task]bool{}}
		}
		pr.run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if pr.fatal {
			break
		}
	}
	return nil
}

// serialSizes renders the templated batch sizes of serial: (with the
// extra vars and the play's variables) and checks them: each is a number of
// hosts above 0 or a percentage above 0.
func serialSizes(serial []any, sc *hostScope) ([]any, error) {
	out := make([]any, 0, len(serial))
	for _, s := range serial {
		str, ok := s.(string)
		if !ok || !expr.HasTemplate(str) {
			out = append(out, s)
			continue
		}
		v, err := expr.RenderIn(str, sc)
		if err != nil {
			return nil, fmt.Errorf("serial: %v", err)
		}
		n := 0.0
		switch x := v.(type) {
		case int:
			n = float64(x)
		case float64:
			n = x
		case string:
			f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(x), "%"), 64)
			if err == nil {
				n = f
			}
		}
		if n <= 0 {
			return nil, fmt.Errorf("serial: %q gives %v: takes a number of hosts above 0 or a percentage such as 30%%", str, v)
		}
		out = append(out, v)
	}
	return out, nil
}

func batches(hosts []string, serial []any) [][]string {
	if len(serial) == 0 {
		return [][]string{hosts}
	}
	var out [][]string
	i, si := 0, 0
	for i < len(hosts) {
		n := len(hosts)
		s := serial[min(si, len(serial)-1)]
		switch x := s.(type) {
		case int:
			n = x
		case float64:
			n = int(x)
		case string:
			if strings.HasSuffix(x, "%") {
				var pct float64
				fmt.Sscanf(strings.TrimSuffix(x, "%"), "%g", &pct)
				n = int(math.Ceil(float64(len(hosts)) * pct / 100))
			} else {
				fmt.Sscanf(x, "%d", &n)
			}
		}
		if n <= 0 {
			n = len(hosts)
		}
		end := min(i+n, len(hosts))
		out = append(out, hosts[i:end])
		i = end
		si++
	}
	return out
}

func (pr *playRun) run(ctx context.Context) {
	top := &scope{}
	if pr.play.GatherFacts && !pr.skipByTags([]string{"always"}) {
		pr.gatherFacts(ctx)
	}
	if pr.play.Strategy == "free" {
		// Each host goes through the tasks at its own pace.
		var g errgroup.Group
		g.SetLimit(pr.e.opts.Forks)
		for _, h := range pr.hosts {
			g.Go(func() error {
				one := []string{h}
				pr.runList(ctx, pr.play.PreTasks, one, top)
				pr.runList(ctx, pr.play.Tasks, one, top)
				pr.runList(ctx, pr.play.PostTasks, one, top)
				return nil
			})
		}
		g.Wait()
		pr.flushHandlers(ctx)
		return
	}
	pr.runList(ctx, pr.play.PreTasks, pr.hosts, top)
	pr.flushHandlers(ctx)
	pr.runList(ctx, pr.play.Tasks, pr.hosts, top)
	pr.flushHandlers(ctx)
	pr.runList(ctx, pr.play.PostTasks, pr.hosts, top)
	pr.flushHandlers(ctx)
}

// playHosts returns the hosts of the batch still running, as the list of
// ansible_play_hosts: the same list as last time while no host left or
// came back.
func (pr *playRun) playHosts() []any {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	cached := pr.playHostsList
	same := cached != nil
	n := 0
	for _, h := range pr.hosts {
		s := pr.state[h]
		if s == nil || s.failed || s.unreachable || s.ended {
			continue
		}
		if same && (n >= len(cached) || cached[n].(string) != h) {
			same = false
		}
		n++
	}
	if same && n == len(cached) {
		return cached
	}
	pr.playHostsList = toAny(pr.activeLocked(pr.hosts))
	return pr.playHostsList
}

// allHosts returns every host of the play, as the list of
// ansible_play_hosts_all.
func (pr *playRun) allHosts() []any {
	pr.allHostsOnce.Do(func() { pr.allHostsList = toAny(pr.all) })
	return pr.allHostsList
}

// active returns the hosts of hs still running.
func (pr *playRun) active(hs []string) []string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.activeLocked(hs)
}

func (pr *playRun) activeLocked(hs []string) []string {
	var out []string
	for _, h := range hs {
		s := pr.state[h]
		if s != nil && !s.failed && !s.unreachable && !s.ended {
			out = append(out, h)
		}
	}
	return out
}

func (e *Executor) stat(h string, f func(*Stats)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.stats[h]
	if !ok {
		s = &Stats{Host: h}
		e.stats[h] = s
		e.order = append(e.order, h)
	}
	f(s)
}

// setFacts records facts for host h (set_fact, register).
func (e *Executor) setFacts(h string, vals map[string]any) { e.mergeVars(e.facts, h, vals) }

// setIncludedVars records variables of include_vars for host h.
func (e *Executor) setIncludedVars(h string, vals map[string]any) { e.mergeVars(e.incVars, h, vals) }

// mergeVars replaces host h's map in layer with a copy that has vals
// too (readers keep the map they had), and marks the facts changed.
func (e *Executor) mergeVars(layer map[string]map[string]any, h string, vals map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := layer[h]
	nm := make(map[string]any, len(old)+len(vals))
	maps.Copy(nm, old)
	maps.Copy(nm, vals)
	layer[h] = nm
	e.factGen++
}

func (e *Executor) includedVarsOf(h string) map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.incVars[h]
}

func (e *Executor) factsOf(h string) map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.facts[h]
}

// hostvars returns every host's variables (inventory, play and facts), for
// the magic variable hostvars; rebuilt only when facts have changed.
func (pr *playRun) hostvars() any {
	e := pr.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hvCache != nil && e.hvGen == e.factGen {
		return e.hvCache
	}
	out := make(map[string]any, len(e.invVars))
	for h, iv := range e.invVars {
		m := make(map[string]any, len(iv)+len(e.facts[h])+8)
		for k, v := range pr.roleDefaults {
			m[k] = v
		}
		for k, v := range iv {
			m[k] = v
		}
		for k, v := range pr.playVars {
			m[k] = v
		}
		for k, v := range e.incVars[h] {
			m[k] = v
		}
		for k, v := range e.facts[h] {
			m[k] = unraw(v)
		}
		for k, v := range e.opts.ExtraVars {
			m[k] = v
		}
		m["inventory_hostname"] = h
		m["inventory_hostname_short"] = shortName(h)
		m["group_names"] = groupNames(e.opts.Inventory, h)
		m["groups"] = e.groups
		out[h] = m
	}
	e.hvCache = out
	e.hvGen = e.factGen
	return out
}

func unraw(v any) any {
	if r, ok := v.(expr.Raw); ok {
		return r.Value
	}
	return v
}

func shortName(h string) string {
	s, _, _ := strings.Cut(h, ".")
	return s
}

func groupNames(inv *inventory.Inventory, h string) []any {
	var out []any
	for _, g := range inv.GroupsOf(h) {
		if g != "all" && g != "ungrouped" {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].(string) < out[j].(string) })
	return out
}

type nopCallback struct{}

func (nopCallback) PlayStart(*playbook.Play, string, []string) {}
func (nopCallback) TaskStart(*playbook.Task, string, bool)     {}
func (nopCallback) HostResult(*TaskResult)                     {}
func (nopCallback) Retry(string, *playbook.Task, int, int)     {}
func (nopCallback) Warn(string)                                {}
func (nopCallback) Recap([]*Stats)                             {}
func (nopCallback) Trace(string, string, string)               {}

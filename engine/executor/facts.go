package executor

import (
	"context"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/facts"
	"github.com/tpago/tpago/engine/playbook"
)

// gatherFacts runs the facts script on every host of the batch, setting
// ansible_facts and the ansible_* variables.
func (pr *playRun) gatherFacts(ctx context.Context) {
	t := &playbook.Task{Name: "Gathering Facts", Module: "setup"}
	pr.e.out.TaskStart(t, "Gathering Facts", false)
	var g errgroup.Group
	g.SetLimit(pr.e.opts.Forks)
	for _, h := range pr.active(pr.hosts) {
		g.Go(func() error {
			hsc := pr.hostScope(h, t, &scope{})
			c, login, err := pr.e.connect(ctx, h, hsc)
			if err != nil {
				pr.record(t, &TaskResult{Host: h, Task: t, Status: Unreachable, Msg: err.Error()}, &scope{})
				return nil
			}
			sh := &conn.Shell{Conn: c, LoginUser: login}
			out, err := sh.Run(ctx, facts.Script)
			if err != nil {
				pr.record(t, &TaskResult{Host: h, Task: t, Status: Unreachable, Msg: err.Error()}, &scope{})
				return nil
			}
			f := facts.Prefixed(facts.Parse(out.Stdout))
			pr.e.addHostFacts(h, f)
			pr.record(t, &TaskResult{Host: h, Task: t, Status: OK, Result: map[string]any{"ansible_facts": f}}, &scope{})
			return nil
		})
	}
	g.Wait()
}

// addHostFacts records facts gathered on host h (gather_facts, setup,
// package_facts), named as Ansible's modules return them: each is a
// variable of its own, and goes without its ansible_ prefix into
// ansible_facts, which keeps what earlier gathering put there.
func (e *Executor) addHostFacts(h string, hf map[string]any) {
	if len(hf) == 0 {
		return
	}
	af := map[string]any{}
	if m, ok := unraw(e.factsOf(h)["ansible_facts"]).(map[string]any); ok {
		for k, v := range m {
			af[k] = v
		}
	}
	vals := make(map[string]any, len(hf)+1)
	for k, v := range hf {
		af[strings.TrimPrefix(k, "ansible_")] = v
		vals[k] = expr.Raw{Value: v}
	}
	vals["ansible_facts"] = expr.Raw{Value: af}
	e.setFacts(h, vals)
}

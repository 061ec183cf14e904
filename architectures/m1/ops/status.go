package ops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tpago/tpago/architectures/m1"
	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/inventory"
	"github.com/tpago/tpago/roles"
)

// RunOptions say how the operations' playbooks reach the hosts.
type RunOptions struct {
	// Forks is how many hosts are asked at once.
	Forks int
	// ConnectTimeout bounds each SSH connection.
	ConnectTimeout time.Duration
	// AcceptNewHostKeys records the keys of hosts known_hosts lacks.
	AcceptNewHostKeys bool
	// Check runs the playbook in check mode (upgrade --check).
	Check bool
}

// StatusOptions are Status's.
type StatusOptions struct {
	RunOptions
	// JSON prints the topology as JSON instead of text.
	JSON bool
}

// Status asks every host of the cluster for its state and prints the
// topology. Problems make it fail with exit status 1, silently (they are
// printed); a playbook that cannot run, with status 2.
func Status(ctx context.Context, c *Cluster, o StatusOptions) error {
	topo, err := Topology(ctx, c, o.RunOptions)
	if err != nil {
		return err
	}
	out := c.out()
	if o.JSON {
		if err := topo.JSON(out); err != nil {
			return err
		}
	} else {
		topo.Text(out)
	}
	if len(topo.Problems) > 0 {
		return exitcode.With(exitcode.Failed, nil)
	}
	return nil
}

// Topology runs the M1 status playbook over the cluster and reads its
// results; errors carry exit status 2.
func Topology(ctx context.Context, c *Cluster, o RunOptions) (*m1.Topology, error) {
	outs, err := collect(ctx, c.Inventory, "status.yml", m1.StatusPlaybook, o, "", nil)
	if err != nil {
		return nil, exitcode.Bad(err)
	}
	return m1.BuildTopology(c.Inventory, outs), nil
}

// SwitchoverOptions are Switchover's.
type SwitchoverOptions struct {
	RunOptions
	// Wait bounds the wait for the new topology.
	Wait time.Duration
}

// Switchover makes node the primary with the cluster's failover manager,
// waits until every other Postgres node streams, and prints the new
// topology. It refuses, changing nothing, when node is not a healthy
// streaming replica.
func Switchover(ctx context.Context, c *Cluster, node string, o SwitchoverOptions) error {
	out := c.out()
	topo, err := Topology(ctx, c, o.RunOptions)
	if err != nil {
		return err
	}
	if err := topo.CheckSwitchover(node); err != nil {
		return fmt.Errorf("cannot switch over to %s: %w", node, err)
	}
	old := topo.Primary
	fmt.Fprintf(out, "Switching over from %s to %s with %s…\n", old, node, topo.FailoverManager)
	start := time.Now()

	outs, err := collect(ctx, c.Inventory, "switchover.yml", m1.SwitchoverPlaybook, o.RunOptions, node, map[string]any{"candidate": node})
	if err != nil {
		return exitcode.Bad(err)
	}
	h := outs[node]
	if h.Unreachable != "" {
		return exitcode.With(exitcode.Unreachable, fmt.Errorf("cannot reach %s: %s", node, h.Unreachable))
	}
	for _, task := range []string{"repmgr-dry-run", "repmgr", "patroni"} {
		r, ok := h.Tasks[task]
		if !ok {
			continue
		}
		if r.RC != 0 {
			what, hint := task, ""
			text := strings.TrimSpace(r.Stdout + "\n" + r.Stderr)
			if task == "repmgr-dry-run" {
				what = "repmgr's dry run (nothing was changed)"
				if strings.Contains(strings.ToLower(text), "ssh") {
					hint = "\nrepmgr switches over through SSH between the postgres users of the nodes " +
						"(passwordless, host keys known); give the postgres users each other's keys, then try again"
				}
			}
			return fmt.Errorf("switchover to %s failed: %s exited %d:\n%s%s", node, what, r.RC, text, hint)
		}
	}

	deadline := time.Now().Add(o.Wait)
	for {
		topo, err = Topology(ctx, c, o.RunOptions)
		if err != nil {
			return err
		}
		done, why := topo.SwitchedOver(node)
		if done {
			fmt.Fprintf(out, "%s is the primary; every other Postgres node streams (%.1f s).\n\n", node, time.Since(start).Seconds())
			topo.Text(out)
			return nil
		}
		if time.Now().After(deadline) {
			topo.Text(out)
			return fmt.Errorf("after %s, the switchover to %s is not complete: %s", o.Wait, node, why)
		}
		select {
		case <-ctx.Done():
			return exitcode.With(130, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// collect runs a playbook quietly (limited to limit when not empty, with
// extra variables) and returns every task's result on every host, by host
// and task name (registered results only: stdout, stderr, rc; skipped
// tasks are left out).
func collect(ctx context.Context, inv *inventory.Inventory, name string, data []byte, o RunOptions, limit string, extra map[string]any) (map[string]m1.HostOutputs, error) {
	ld := &playbook.Loader{BuiltinRoles: roles.FS}
	pb, err := ld.LoadPlaybookData(filepath.Join(os.TempDir(), name), data)
	if err != nil {
		return nil, err
	}
	cb := &collector{outs: map[string]m1.HostOutputs{}}
	ex := executor.New(executor.Options{Inventory: inv, Forks: o.Forks, Output: cb, Limit: limit, ExtraVars: extra,
		ConnectTimeout: o.ConnectTimeout, AcceptNewHostKeys: o.AcceptNewHostKeys, Loader: ld, Check: o.Check})
	if _, err := ex.Run(ctx, pb); err != nil {
		return nil, err
	}
	return cb.outs, nil
}

// collector is an executor callback that keeps results instead of
// printing them.
type collector struct {
	mu   sync.Mutex
	outs map[string]m1.HostOutputs
}

func (c *collector) PlayStart(*playbook.Play, string, []string) {}
func (c *collector) TaskStart(*playbook.Task, string, bool)     {}
func (c *collector) Retry(string, *playbook.Task, int, int)     {}
func (c *collector) Warn(string)                                {}
func (c *collector) Recap([]*executor.Stats)                    {}
func (c *collector) Trace(string, string, string)               {}
func (c *collector) HostResult(r *executor.TaskResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.outs[r.Host]
	switch r.Status {
	case executor.Unreachable:
		o.Unreachable = r.Msg
	case executor.Skipped:
	default:
		if o.Tasks == nil {
			o.Tasks = map[string]m1.Output{}
		}
		out := m1.Output{RC: -1}
		if rc, ok := r.Result["rc"].(int); ok {
			out.RC = rc
		}
		out.Stdout, _ = r.Result["stdout"].(string)
		out.Stderr, _ = r.Result["stderr"].(string)
		if r.Status == executor.Failed {
			out.Failed = true
			if out.Stderr == "" {
				out.Stderr = r.Msg
			}
		}
		o.Tasks[r.Task.Name] = out
	}
	c.outs[r.Host] = o
}

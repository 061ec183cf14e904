package main

import (
	"context"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/architectures/m1"
	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/inventory"
)

func init() { commands = append(commands, newStatusCmd) }

func newStatusCmd() *cobra.Command {
	var asJSON bool
	var f runFlags
	c := &cobra.Command{
		Use:   "status CLUSTER_DIR",
		Short: "Show the cluster's topology: who follows whom, lag, the failover manager's view, backups",
		Long: `Status asks every host of the cluster for its state (Postgres, the failover
manager, Barman, etcd, HAProxy) and shows the replication tree from the primary,
each node's role, state and lag, and the connection string that follows the
primary across failover. Exit status: 0 when all is well, 1 when something is
wrong (listed under Problems), 2 on bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := loadProvisioned(args[0])
			if err != nil {
				return err
			}
			topo, err := gatherTopology(cmd.Context(), cl.inv, f)
			if err != nil {
				return exitWith(2, err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := topo.JSON(out); err != nil {
					return err
				}
			} else {
				topo.Text(out)
			}
			if len(topo.Problems) > 0 {
				return exitWith(1, nil)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the topology as JSON")
	c.Flags().DurationVarP(&f.connTimeout, "timeout", "T", 10e9, "SSH connection timeout")
	c.Flags().IntVarP(&f.forks, "forks", "f", 50, "how many hosts are asked at once")
	return c
}

// gatherTopology runs the M1 status playbook over inv and reads its
// results.
func gatherTopology(ctx context.Context, inv *inventory.Inventory, f runFlags) (*m1.Topology, error) {
	outs, err := runCollect(ctx, inv, "status.yml", m1.StatusPlaybook, f)
	if err != nil {
		return nil, err
	}
	return m1.BuildTopology(inv, outs), nil
}

// runCollect runs a playbook quietly and returns every task's result on
// every host, by host and task name (registered results only: stdout,
// stderr, rc; skipped tasks are left out).
func runCollect(ctx context.Context, inv *inventory.Inventory, name string, data []byte, f runFlags) (map[string]m1.HostOutputs, error) {
	return runCollectWith(ctx, inv, name, data, f, nil)
}

// runCollectWith is runCollect with extra variables (and f.limit).
func runCollectWith(ctx context.Context, inv *inventory.Inventory, name string, data []byte, f runFlags, extra map[string]any) (map[string]m1.HostOutputs, error) {
	ld := newLoader(nil)
	pb, err := ld.LoadPlaybookData(filepath.Join(os.TempDir(), name), data)
	if err != nil {
		return nil, err
	}
	cb := &collector{outs: map[string]m1.HostOutputs{}}
	ex := executor.New(executor.Options{Inventory: inv, Forks: f.forks, Output: cb, Limit: f.limit, ExtraVars: extra,
		ConnectTimeout: f.connTimeout, AcceptNewHostKeys: f.acceptNew, Loader: ld})
	ctx, stop := interruptible(ctx)
	defer stop()
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
		if out.Stderr == "" && r.Status == executor.Failed {
			out.Stderr = r.Msg
		}
		o.Tasks[r.Task.Name] = out
	}
	c.outs[r.Host] = o
}

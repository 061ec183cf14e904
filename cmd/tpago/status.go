package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/architectures/m1/ops"
)

func init() { commands = append(commands, newStatusCmd) }

func newStatusCmd() *cobra.Command {
	var o ops.StatusOptions
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
			return runOp(cmd, args[0], func(ctx context.Context, cl *ops.Cluster) error { return ops.Status(ctx, cl, o) })
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print the topology as JSON")
	c.Flags().DurationVarP(&o.ConnectTimeout, "timeout", "T", 10e9, "SSH connection timeout")
	c.Flags().IntVarP(&o.Forks, "forks", "f", 50, "how many hosts are asked at once")
	return c
}

// runOp loads the provisioned cluster in dir and runs a day-two operation
// on it, stopped by Ctrl-C; the operation's error keeps its exit status.
func runOp(cmd *cobra.Command, dir string, op func(context.Context, *ops.Cluster) error) error {
	cl, err := loadProvisioned(dir)
	if err != nil {
		return err
	}
	ctx, stop := interruptible(cmd.Context())
	defer stop()
	return op(ctx, opsCluster(cmd, cl))
}

// opsCluster is the loaded cluster as the operations take it.
func opsCluster(cmd *cobra.Command, cl *clusterDir) *ops.Cluster {
	return &ops.Cluster{Dir: cl.dir, Config: cl.cfg, Inventory: cl.inv, Out: cmd.OutOrStdout()}
}

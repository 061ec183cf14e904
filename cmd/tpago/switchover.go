package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/architectures/m1/ops"
)

func init() { commands = append(commands, newSwitchoverCmd) }

func newSwitchoverCmd() *cobra.Command {
	var o ops.SwitchoverOptions
	c := &cobra.Command{
		Use:   "switchover CLUSTER_DIR NODE",
		Short: "Make a healthy replica the primary (planned switchover with the cluster's failover manager)",
		Long: `Switchover makes NODE the primary with the cluster's failover manager
(patronictl switchover with Patroni; repmgr standby switchover --siblings-follow
with repmgr, after a dry run), then waits until NODE is the primary and every
other Postgres node streams, and shows the new topology. It refuses, changing
nothing, when NODE is not a healthy streaming replica.`,
		Example: `  tpago switchover ~/clusters/m1 hornet`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOp(cmd, args[0], func(ctx context.Context, cl *ops.Cluster) error { return ops.Switchover(ctx, cl, args[1], o) })
		},
	}
	c.Flags().DurationVar(&o.Wait, "wait", 2*time.Minute, "how long to wait for the new topology")
	c.Flags().DurationVarP(&o.ConnectTimeout, "timeout", "T", 10*time.Second, "SSH connection timeout")
	c.Flags().IntVarP(&o.Forks, "forks", "f", 50, "how many hosts are asked at once")
	return c
}

package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/architectures/m1/ops"
)

func init() {
	commands = append(commands, newRestoreTestCmd)
}

func newRestoreTestCmd() *cobra.Command {
	var o ops.RestoreTestOptions
	c := &cobra.Command{
		Use:   "restore-test CLUSTER_DIR",
		Short: "Restore the latest Barman backup on a scratch host and compare it with the primary",
		Long: `Restore-test proves the backups can be restored. It marks a restore point on
the primary and records the row count and a checksum of every user table, has
Barman recover its latest backup plus the archived WAL up to that point, starts
the copy on a scratch container (the cluster's image, on the cluster's
network), compares the tables, and removes the scratch container. It needs a
platform that can make scratch hosts (docker); on others it exits 2.

Run it while the cluster is quiet: rows committed on the primary between the
checksums and the restore point show as differences.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOp(cmd, args[0], func(ctx context.Context, cl *ops.Cluster) error { return ops.RestoreTest(ctx, cl, o) })
		},
	}
	c.Flags().StringVar(&o.Server, "server", "", "test only this Postgres instance's backups (a name from config.yml)")
	c.Flags().BoolVar(&o.Keep, "keep", false, "keep the scratch container (named CLUSTER-restore-test) for a look")
	return c
}

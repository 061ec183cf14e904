package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/architectures/m1/ops"
)

func init() {
	commands = append(commands, newBackupCmd)
}

func newBackupCmd() *cobra.Command {
	var server string
	c := &cobra.Command{
		Use:   "backup CLUSTER_DIR",
		Short: "Take a Barman backup of the cluster now and wait for it to finish",
		Long: `Backup runs "barman backup SERVER --wait" on the cluster's Barman host for each
Postgres server it backs up (instances with backup: BARMAN_HOST in config.yml),
then lists the server's backups.`,
		Example: `  tpago backup ~/clusters/m1
  tpago backup ~/clusters/m1 --server teal`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOp(cmd, args[0], func(ctx context.Context, cl *ops.Cluster) error { return ops.Backup(ctx, cl, server) })
		},
	}
	c.Flags().StringVar(&server, "server", "", "back up only this Postgres instance (a name from config.yml)")
	return c
}

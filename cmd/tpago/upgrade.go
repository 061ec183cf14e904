package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/architectures/m1/ops"
)

func init() { commands = append(commands, newUpgradeCmd) }

func newUpgradeCmd() *cobra.Command {
	var o ops.UpgradeOptions
	var diff bool
	versions := map[string]*string{}
	c := &cobra.Command{
		Use:   "upgrade CLUSTER_DIR",
		Short: "Rolling minor upgrade: move the pinned package versions one node at a time",
		Long: `Upgrade moves the cluster's pinned packages (postgres_package_version and
the other *_package_version of config.yml, or the versions given here, which
are written to config.yml first) one node at a time, with the least write
downtime: the cascaded replicas and the replicas first, each restarted and
streaming again before the next; then Barman, the witness and the other
hosts; then a switchover to an upgraded replica, and the old primary last,
which rejoins as a standby (--switch-back makes it the primary again).

It stops at the first node that does not come back healthy, leaving the
cluster working, and says where it stopped; run it again to go on. With
--check it only says which packages would change on which node, in which
order. A major version (pg_upgrade) is refused: see docs/upgrades.md.`,
		Example: `  tpago upgrade ~/clusters/m1 --postgres-package-version 15.20-0+deb12u1 --check
  tpago upgrade ~/clusters/m1 --postgres-package-version 15.20-0+deb12u1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Versions = map[string]string{}
			for k, v := range versions {
				if cmd.Flags().Changed(pinFlag(k)) {
					o.Versions[k] = *v
				}
			}
			_ = diff // the plan printed is the diff: packages, versions, nodes, order
			return runOp(cmd, args[0], func(ctx context.Context, cl *ops.Cluster) error { return ops.Upgrade(ctx, cl, o) })
		},
	}
	for _, k := range ops.PinVars {
		versions[k] = c.Flags().String(pinFlag(k), "", "new "+strings.TrimSuffix(k, "_package_version")+" package version, as apt writes it (sets "+k+" in config.yml)")
	}
	c.Flags().BoolVarP(&o.Check, "check", "C", false, "say what would change, in which order, and change nothing")
	c.Flags().BoolVarP(&diff, "diff", "D", false, "with --check: the packages and versions that would change (always shown)")
	c.Flags().BoolVar(&o.SwitchBack, "switch-back", false, "make the first primary the primary again at the end")
	c.Flags().DurationVar(&o.Wait, "wait", 3*time.Minute, "how long to wait for each node to come back healthy, and for each switchover")
	c.Flags().DurationVarP(&o.ConnectTimeout, "timeout", "T", 10*time.Second, "SSH connection timeout")
	c.Flags().IntVarP(&o.Forks, "forks", "f", 50, "how many hosts are asked at once")
	return c
}

// pinFlag is the flag of a pin variable: postgres_package_version is
// --postgres-package-version.
func pinFlag(k string) string { return strings.ReplaceAll(k, "_", "-") }

package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/architectures/m1"
)

func init() { commands = append(commands, newSwitchoverCmd) }

func newSwitchoverCmd() *cobra.Command {
	var f runFlags
	var wait time.Duration
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
			cl, err := loadProvisioned(args[0])
			if err != nil {
				return err
			}
			return switchover(cmd.Context(), cmd, cl, args[1], wait, f)
		},
	}
	c.Flags().DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for the new topology")
	c.Flags().DurationVarP(&f.connTimeout, "timeout", "T", 10*time.Second, "SSH connection timeout")
	c.Flags().IntVarP(&f.forks, "forks", "f", 50, "how many hosts are asked at once")
	return c
}

func switchover(ctx context.Context, cmd *cobra.Command, cl *clusterDir, node string, wait time.Duration, f runFlags) error {
	out := cmd.OutOrStdout()
	topo, err := gatherTopology(ctx, cl.inv, f)
	if err != nil {
		return exitWith(2, err)
	}
	if err := topo.CheckSwitchover(node); err != nil {
		return exitWith(1, fmt.Errorf("cannot switch over to %s: %w", node, err))
	}
	old := topo.Primary
	fmt.Fprintf(out, "Switching over from %s to %s with %s…\n", old, node, topo.FailoverManager)
	start := time.Now()

	rf := f
	rf.limit = node
	outs, err := runCollectWith(ctx, cl.inv, "switchover.yml", m1.SwitchoverPlaybook, rf, map[string]any{"candidate": node})
	if err != nil {
		return exitWith(2, err)
	}
	o := outs[node]
	if o.Unreachable != "" {
		return exitWith(4, fmt.Errorf("cannot reach %s: %s", node, o.Unreachable))
	}
	for _, task := range []string{"repmgr-dry-run", "repmgr", "patroni"} {
		r, ok := o.Tasks[task]
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
			return exitWith(1, fmt.Errorf("switchover to %s failed: %s exited %d:\n%s%s", node, what, r.RC, text, hint))
		}
	}

	deadline := time.Now().Add(wait)
	for {
		topo, err = gatherTopology(ctx, cl.inv, f)
		if err != nil {
			return exitWith(2, err)
		}
		done, why := topo.SwitchedOver(node)
		if done {
			fmt.Fprintf(out, "%s is the primary; every other Postgres node streams (%.1f s).\n\n", node, time.Since(start).Seconds())
			topo.Text(out)
			return nil
		}
		if time.Now().After(deadline) {
			topo.Text(out)
			return exitWith(1, fmt.Errorf("after %s, the switchover to %s is not complete: %s", wait, node, why))
		}
		select {
		case <-ctx.Done():
			return exitWith(130, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/platforms"
	_ "github.com/tpago/tpago/platforms/aws"
	_ "github.com/tpago/tpago/platforms/bare"
	_ "github.com/tpago/tpago/platforms/docker"
	"golang.org/x/sys/unix"
)

func init() {
	commands = append(commands, newProvisionCmd, newDeprovisionCmd, newPingCmd)
}

func newProvisionCmd() *cobra.Command {
	var opts platforms.Options
	cmd := &cobra.Command{
		Use:   "provision CLUSTER_DIR",
		Short: "Make the cluster's hosts (docker) or check them (bare), and write its inventory",
		Long: `Provision reads CLUSTER_DIR/config.yml and makes sure every instance has a
host that answers SSH with the cluster's key (CLUSTER_DIR/id_<cluster>):

  docker  one network and one systemd container per instance, with a fixed
          address; host keys are read through Docker into known_hosts
  bare    creates nothing; checks that every ip_address answers SSH

then writes CLUSTER_DIR/inventory.yml. Running it again changes nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Out = cmd.OutOrStdout()
			_, err := platforms.Provision(cmd.Context(), args[0], opts)
			return err
		},
	}
	cmd.Flags().BoolVar(&opts.AcceptNewHostKeys, "accept-new-host-keys", false, "record the SSH keys of hosts not yet in known_hosts (bare)")
	cmd.Flags().DurationVar(&opts.SSHWait, "ssh-wait", 2*time.Minute, "how long to wait for every host to answer SSH")
	return cmd
}

func newDeprovisionCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "deprovision CLUSTER_DIR",
		Short: "Remove the cluster's hosts (docker: its containers and network, nothing else)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := platforms.LoadCluster(args[0])
			if err != nil {
				return err
			}
			if !yes {
				if !isTerminal(os.Stdin) {
					return exitcode.Bad(errors.New("deprovision removes the cluster's hosts: give --yes to confirm (stdin is not a terminal)"))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Remove every host of cluster %s (%s platform)? [y/N] ", c.Name, c.Platform())
				line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return exitcode.With(1, errors.New("deprovision: not confirmed, nothing removed"))
				}
			}
			_, err = platforms.Deprovision(cmd.Context(), args[0], cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func newPingCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ping CLUSTER_DIR",
		Short: "Check that every host of the cluster answers SSH, with the round-trip time",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := platforms.Ping(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			failed := 0
			for _, r := range res {
				if r.Err != nil {
					failed++
					fmt.Fprintf(w, "%-20s %-16s UNREACHABLE  %v\n", r.Name, r.Address, r.Err)
					continue
				}
				fmt.Fprintf(w, "%-20s %-16s ok  %s\n", r.Name, r.Address, r.Latency.Round(100*time.Microsecond))
			}
			if failed > 0 {
				return exitcode.With(4, fmt.Errorf("%d of %d hosts unreachable", failed, len(res)))
			}
			return nil
		},
	}
}

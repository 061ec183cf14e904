package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/engine/conn"
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
			return forEachBackupTarget(cmd, args[0], server, func(ctx context.Context, cl *clusterDir, bt backupTarget) error {
				if err := takeBackup(ctx, cmd.OutOrStdout(), cl, bt); err != nil {
					return exitWith(1, err)
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&server, "server", "", "back up only this Postgres instance (a name from config.yml)")
	return c
}

// forEachBackupTarget loads a provisioned cluster and calls fn for each
// Postgres server its Barman backs up (only the one named by server, when
// given).
func forEachBackupTarget(cmd *cobra.Command, dir, server string, fn func(context.Context, *clusterDir, backupTarget) error) error {
	cl, err := loadProvisioned(dir)
	if err != nil {
		return err
	}
	targets, err := backupTargets(cl.cfg, server)
	if err != nil {
		return exitWith(2, err)
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	for _, bt := range targets {
		if err := fn(ctx, cl, bt); err != nil {
			return err
		}
	}
	return nil
}

// backupTarget is a Postgres server and the Barman host that backs it up.
type backupTarget struct {
	Server, Barman string
}

// backupTargets lists the servers config.yml gives a Barman host (backup:).
func backupTargets(cfg *cluster.Config, only string) ([]backupTarget, error) {
	var out []backupTarget
	names := map[string]bool{}
	for _, in := range cfg.Instances {
		names[in.Name] = true
	}
	for _, in := range cfg.Instances {
		if in.Backup == "" || (only != "" && in.Name != only) {
			continue
		}
		if !names[in.Backup] {
			return nil, fmt.Errorf("config.yml: instance %s has backup: %s, which is not an instance of the cluster", in.Name, in.Backup)
		}
		out = append(out, backupTarget{Server: in.Name, Barman: in.Backup})
	}
	if len(out) == 0 {
		if only != "" {
			return nil, fmt.Errorf("config.yml: no instance %q with a backup: host (Barman)", only)
		}
		return nil, fmt.Errorf("config.yml: no instance has a backup: host, so nothing is backed up by Barman")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Server < out[j].Server })
	return out, nil
}

func takeBackup(ctx context.Context, out io.Writer, cl *clusterDir, bt backupTarget) error {
	h, err := dialHost(ctx, cl, bt.Barman)
	if err != nil {
		return err
	}
	defer h.Close()
	fmt.Fprintf(out, "%s: barman backup %s --wait\n", bt.Barman, bt.Server)
	start := time.Now()
	res, err := h.run(ctx, "barman", "barman backup "+conn.Quote(bt.Server)+" --wait")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(strings.TrimRight(res.Stdout+res.Stderr, "\n"), "\n") {
		fmt.Fprintf(out, "  %s\n", l)
	}
	if res.RC != 0 {
		return fmt.Errorf("barman backup %s on %s failed (exit %d); see barman check %s there", bt.Server, bt.Barman, res.RC, bt.Server)
	}
	list, err := h.run(ctx, "barman", "barman list-backup "+conn.Quote(bt.Server))
	if err == nil && list.RC == 0 {
		fmt.Fprintf(out, "%s: backups of %s:\n", bt.Barman, bt.Server)
		for _, l := range strings.Split(strings.TrimRight(list.Stdout, "\n"), "\n") {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	fmt.Fprintf(out, "backup of %s on %s done in %.1fs\n", bt.Server, bt.Barman, time.Since(start).Seconds())
	return nil
}

// remoteHost is an SSH connection to one of the cluster's hosts.
type remoteHost struct {
	name  string
	login string
	c     *conn.SSH
}

// remoteResult is what a remote command printed and its exit status.
type remoteResult struct {
	Stdout, Stderr string
	RC             int
}

// dialHost connects to a cluster host as the inventory says (address,
// login, key, known_hosts: a changed host key is refused).
func dialHost(ctx context.Context, cl *clusterDir, name string) (*remoteHost, error) {
	h, ok := cl.inv.Hosts[name]
	if !ok {
		return nil, fmt.Errorf("no host %s in the cluster's inventory", name)
	}
	str := func(k string) string {
		if v, ok := h.Vars[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	cfg := conn.SSHConfig{Host: str("ansible_host"), User: str("ansible_user"), KnownHostsFile: str("ansible_ssh_known_hosts_file"),
		ConnectTimeout: 10 * time.Second}
	if cfg.Host == "" {
		cfg.Host = name
	}
	if cfg.User == "" {
		cfg.User = "root"
	}
	if p := str("ansible_port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("host %s: ansible_port %q is not a number", name, p)
		}
		cfg.Port = n
	}
	if k := str("ansible_ssh_private_key_file"); k != "" {
		cfg.KeyFiles = []string{k}
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := conn.DialSSH(dctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s (%s): %w", name, cfg.Host, err)
	}
	return &remoteHost{name: name, login: cfg.User, c: c}, nil
}

func (h *remoteHost) Close() error { return h.c.Close() }

// run runs a shell script on the host as user ("" or root: as root, with
// sudo when the login is not root). The script goes over stdin, so nothing
// in it shows in the host's process list.
func (h *remoteHost) run(ctx context.Context, user, script string) (remoteResult, error) {
	var cmd string
	switch {
	case (user == "" || user == "root") && h.login == "root":
		cmd = "/bin/sh -s"
	case user == "" || user == "root":
		cmd = "sudo -n /bin/sh -s"
	default:
		cmd = "cd / && sudo -n -H -u " + conn.Quote(user) + " /bin/sh -s"
	}
	var o, e bytes.Buffer
	rc, err := h.c.Exec(ctx, cmd, strings.NewReader(script), &o, &e)
	if err != nil {
		return remoteResult{}, fmt.Errorf("%s: %w", h.name, err)
	}
	return remoteResult{Stdout: o.String(), Stderr: e.String(), RC: rc}, nil
}

// must runs a script and fails unless it exits 0.
func (h *remoteHost) must(ctx context.Context, user, what, script string) (string, error) {
	r, err := h.run(ctx, user, script)
	if err != nil {
		return "", err
	}
	if r.RC != 0 {
		return r.Stdout, fmt.Errorf("%s on %s: exit %d: %s", what, h.name, r.RC, strings.TrimSpace(r.Stderr+" "+r.Stdout))
	}
	return r.Stdout, nil
}

var errNoPrimary = errors.New("no Postgres instance of the cluster answers as a primary")

package ops

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/exitcode"
)

// BackupTarget is a Postgres server and the Barman host that backs it up.
type BackupTarget struct {
	Server, Barman string
}

// BackupTargets lists the servers config.yml gives a Barman host (backup:),
// only the one named only when it is not empty. Its errors carry exit
// status 2.
func BackupTargets(cfg *cluster.Config, only string) ([]BackupTarget, error) {
	var out []BackupTarget
	names := map[string]bool{}
	for _, in := range cfg.Instances {
		names[in.Name] = true
	}
	for _, in := range cfg.Instances {
		if in.Backup == "" || (only != "" && in.Name != only) {
			continue
		}
		if !names[in.Backup] {
			return nil, exitcode.Bad(fmt.Errorf("config.yml: instance %s has backup: %s, which is not an instance of the cluster", in.Name, in.Backup))
		}
		out = append(out, BackupTarget{Server: in.Name, Barman: in.Backup})
	}
	if len(out) == 0 {
		if only != "" {
			return nil, exitcode.Bad(fmt.Errorf("config.yml: no instance %q with a backup: host (Barman)", only))
		}
		return nil, exitcode.Bad(fmt.Errorf("config.yml: no instance has a backup: host, so nothing is backed up by Barman"))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Server < out[j].Server })
	return out, nil
}

// Backup runs "barman backup SERVER --wait" on the Barman host of each
// server it backs up (only server, when not empty), then lists the
// server's backups.
func Backup(ctx context.Context, c *Cluster, server string) error {
	targets, err := BackupTargets(c.Config, server)
	if err != nil {
		return err
	}
	r, done := c.runner()
	defer done()
	for _, bt := range targets {
		if err := takeBackup(ctx, c.out(), r, bt); err != nil {
			return err
		}
	}
	return nil
}

func takeBackup(ctx context.Context, out io.Writer, r Runner, bt BackupTarget) error {
	fmt.Fprintf(out, "%s: barman backup %s --wait\n", bt.Barman, bt.Server)
	start := time.Now()
	res, err := r.Run(ctx, bt.Barman, "barman", "barman backup "+conn.Quote(bt.Server)+" --wait")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(strings.TrimRight(res.Stdout+res.Stderr, "\n"), "\n") {
		fmt.Fprintf(out, "  %s\n", l)
	}
	if res.RC != 0 {
		return fmt.Errorf("barman backup %s on %s failed (exit %d); see barman check %s there", bt.Server, bt.Barman, res.RC, bt.Server)
	}
	list, err := r.Run(ctx, bt.Barman, "barman", "barman list-backup "+conn.Quote(bt.Server))
	if err == nil && list.RC == 0 {
		fmt.Fprintf(out, "%s: backups of %s:\n", bt.Barman, bt.Server)
		for _, l := range strings.Split(strings.TrimRight(list.Stdout, "\n"), "\n") {
			fmt.Fprintf(out, "  %s\n", l)
		}
	}
	fmt.Fprintf(out, "backup of %s on %s done in %.1fs\n", bt.Server, bt.Barman, time.Since(start).Seconds())
	return nil
}

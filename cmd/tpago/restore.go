package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/platforms/docker"
)

func init() {
	commands = append(commands, newRestoreTestCmd)
}

func newRestoreTestCmd() *cobra.Command {
	var server string
	var keep bool
	c := &cobra.Command{
		Use:   "restore-test CLUSTER_DIR",
		Short: "Restore the latest Barman backup on a scratch host and compare it with the primary",
		Long: `Restore-test proves the backups can be restored. It marks a restore point on
the primary and records the row count and a checksum of every user table, has
Barman recover its latest backup plus the archived WAL up to that point, starts
the copy on a scratch container (the cluster's image, on the cluster's
network), compares the tables, and removes the scratch container.

Run it while the cluster is quiet: rows committed on the primary between the
checksums and the restore point show as differences.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ok := true
			err := forEachBackupTarget(cmd, args[0], server, func(ctx context.Context, cl *clusterDir, bt backupTarget) error {
				same, err := restoreTest(ctx, cmd.OutOrStdout(), cl, bt, keep)
				if err != nil {
					return exitWith(1, fmt.Errorf("restore-test of %s: %w", bt.Server, err))
				}
				ok = ok && same
				return nil
			})
			if err != nil {
				return err
			}
			if !ok {
				return exitWith(1, fmt.Errorf("the restored data differs from the primary's (see above)"))
			}
			return nil
		},
	}
	c.Flags().StringVar(&server, "server", "", "test only this Postgres instance's backups (a name from config.yml)")
	c.Flags().BoolVar(&keep, "keep", false, "keep the scratch container (named CLUSTER-restore-test) for a look")
	return c
}

// tableSums lists, per user table of every database, "db table rows checksum".
const tableSums = `
psql -XAt $PGOPTS -d postgres -c "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'repmgr' ORDER BY 1" |
while IFS= read -r db; do
  psql -XAt $PGOPTS -d "$db" -c "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1" |
  while IFS= read -r t; do
    s=$(psql -XAt $PGOPTS -d "$db" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '-') FROM $t x") || exit 1
    printf '%s\t%s\t%s\n' "$db" "$t" "$s"
  done
done
`

// parseSums reads tableSums' output: "db<TAB>table" → "rows checksum".
func parseSums(s string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Split(l, "\t")
		if len(f) == 3 {
			out[f[0]+"\t"+f[1]] = f[2]
		}
	}
	return out
}

// currentPrimary finds the Postgres instance that is not in recovery.
func currentPrimary(ctx context.Context, cl *clusterDir) (*remoteHost, error) {
	for _, in := range cl.cfg.Instances {
		if !hasRole(in.Role, "primary") && !hasRole(in.Role, "replica") {
			continue
		}
		h, err := dialHost(ctx, cl, in.Name)
		if err != nil {
			continue
		}
		r, err := h.run(ctx, "postgres", "psql -XAt -c 'SELECT pg_is_in_recovery()'")
		if err == nil && r.RC == 0 && strings.TrimSpace(r.Stdout) == "f" {
			return h, nil
		}
		h.Close()
	}
	return nil, errNoPrimary
}

func hasRole(roles []string, r string) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

func restoreTest(ctx context.Context, out io.Writer, cl *clusterDir, bt backupTarget, keep bool) (bool, error) {
	start := time.Now()
	say := func(format string, a ...any) {
		fmt.Fprintf(out, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
	var barmanIn *cluster.Instance
	for i := range cl.cfg.Instances {
		if cl.cfg.Instances[i].Name == bt.Barman {
			barmanIn = &cl.cfg.Instances[i]
		}
	}
	if barmanIn == nil || cl.cfg.PlatformOf(barmanIn) != "docker" || len(cl.cfg.DockerNetworks) == 0 {
		return false, fmt.Errorf("restore-test makes its scratch host as a Docker container: it works for clusters on the docker platform only")
	}
	cli, err := docker.NewClient(ctx)
	if err != nil {
		return false, err
	}
	defer cli.Close()

	b, err := dialHost(ctx, cl, bt.Barman)
	if err != nil {
		return false, err
	}
	defer b.Close()
	backups, err := b.must(ctx, "barman", "barman list-backup", "barman list-backup --minimal "+conn.Quote(bt.Server))
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(backups) == "" {
		return false, fmt.Errorf("Barman on %s has no backup of %s yet: run `tpago backup %s`", bt.Barman, bt.Server, cl.dir)
	}
	latest := strings.Fields(backups)[0]
	say("latest backup of %s on %s: %s", bt.Server, bt.Barman, latest)

	// The scratch container installs Postgres while Barman recovers.
	scratchName := cl.cfg.ClusterName + "-restore-test"
	type scratchResult struct {
		id  string
		err error
	}
	scratchCh := make(chan scratchResult, 1)
	go func() {
		id, err := makeScratch(ctx, cli, cl, barmanIn, scratchName)
		scratchCh <- scratchResult{id, err}
	}()
	var scratchID string
	defer func() {
		if scratchID == "" {
			r := <-scratchCh
			scratchID = r.id
		}
		if scratchID != "" && !keep {
			rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := cli.ContainerRemove(rctx, scratchID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err == nil {
				say("scratch container %s removed", scratchName)
			}
		}
	}()

	p, err := currentPrimary(ctx, cl)
	if err != nil {
		return false, err
	}
	defer p.Close()
	sums, err := p.must(ctx, "postgres", "table checksums", tableSums)
	if err != nil {
		return false, err
	}
	want := parseSums(sums)
	point := fmt.Sprintf("tpago_restore_test_%d", time.Now().Unix())
	wal, err := p.must(ctx, "postgres", "restore point",
		fmt.Sprintf("psql -XAtq -v ON_ERROR_STOP=1 -c \"SELECT pg_walfile_name(pg_create_restore_point('%s'))\" && psql -XAtq -c 'SELECT pg_switch_wal()' >/dev/null", point))
	if err != nil {
		return false, err
	}
	wal = strings.TrimSpace(wal)
	say("primary %s: %d tables summed, restore point %s in WAL %s", p.name, len(want), point, wal)

	// Barman archives that WAL file (barman cron moves it from streaming/).
	dir := "/var/lib/barman/tpago-restore-test/" + bt.Server
	waitWAL := fmt.Sprintf(`w=$(barman show-server %[1]s | sed -n 's/^[[:space:]]*wals_directory: *//p')
[ -n "$w" ] || { echo "no wals_directory in barman show-server %[1]s" >&2; exit 1; }
i=0
while [ $i -lt 120 ]; do
  barman cron >/dev/null 2>&1
  if ls "$w"/*/%[2]s* >/dev/null 2>&1; then exit 0; fi
  sleep 1; i=$((i+1))
done
echo "WAL file %[2]s did not reach Barman's archive in 120 s (barman check %[1]s)" >&2
exit 1`, conn.Quote(bt.Server), wal)
	if _, err := b.must(ctx, "barman", "wait for the WAL", waitWAL); err != nil {
		return false, err
	}
	say("barman %s: WAL %s archived", bt.Barman, wal)
	defer b.run(context.Background(), "barman", "rm -rf "+conn.Quote(dir))
	if _, err := b.must(ctx, "barman", "barman recover", fmt.Sprintf("rm -rf %[1]s && mkdir -p %[1]s && barman recover --target-name %[2]s --target-action promote %[3]s latest %[1]s",
		conn.Quote(dir), conn.Quote(point), conn.Quote(bt.Server))); err != nil {
		return false, err
	}
	say("barman %s: backup %s recovered into %s (to restore point %s)", bt.Barman, latest, dir, point)

	r := <-scratchCh
	scratchID = r.id
	if r.err != nil {
		return false, fmt.Errorf("scratch container: %w", r.err)
	}
	say("scratch container %s ready with PostgreSQL", scratchName)

	// Barman's copy goes to the same path in the scratch container, where
	// its restore_command expects the WAL files.
	tr, _, err := cli.CopyFromContainer(ctx, cl.cfg.ClusterName+"-"+bt.Barman, dir)
	if err != nil {
		return false, fmt.Errorf("copy the recovered data out of %s: %w", bt.Barman, err)
	}
	parent := "/var/lib/barman/tpago-restore-test"
	if _, err := scratchExec(ctx, cli, scratchID, "mkdir -p "+parent); err != nil {
		tr.Close()
		return false, err
	}
	err = cli.CopyToContainer(ctx, scratchID, parent, tr, container.CopyToContainerOptions{})
	tr.Close()
	if err != nil {
		return false, fmt.Errorf("copy the recovered data into %s: %w", scratchName, err)
	}
	startPG := fmt.Sprintf(`set -e
d=%[1]s
chown -R postgres:postgres /var/lib/barman/tpago-restore-test
chmod 700 "$d"
cat > "$d/postgresql.conf" <<'EOF2'
listen_addresses = ''
unix_socket_directories = '/tmp'
hot_standby = off
EOF2
printf 'local all all trust\n' > "$d/pg_hba.conf"
: > "$d/pg_ident.conf"
chown postgres:postgres "$d/postgresql.conf" "$d/pg_hba.conf" "$d/pg_ident.conf"
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$d" -l /tmp/restore-test.log -w -t 600 start >/dev/null || { tail -n 20 /tmp/restore-test.log >&2; exit 1; }
i=0
until [ "$(runuser -u postgres -- psql -h /tmp -XAt -d postgres -c 'SELECT pg_is_in_recovery()')" = f ]; do
  i=$((i+1)); [ $i -lt 300 ] || { echo "still in recovery after 300 s" >&2; tail -n 20 /tmp/restore-test.log >&2; exit 1; }
  sleep 1
done`, conn.Quote(dir))
	if _, err := scratchExec(ctx, cli, scratchID, startPG); err != nil {
		return false, fmt.Errorf("start the restored copy: %w", err)
	}
	say("restored copy started and promoted at the restore point")
	got, err := scratchExec(ctx, cli, scratchID, "cd /tmp && PGOPTS='-h /tmp' runuser -u postgres -- sh -c "+conn.Quote("PGOPTS='-h /tmp'; "+tableSums))
	if err != nil {
		return false, fmt.Errorf("sum the restored tables: %w", err)
	}
	have := parseSums(got)
	return compareSums(out, want, have), nil
}

// compareSums prints one line per table and says whether all match.
func compareSums(out io.Writer, want, have map[string]string) bool {
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range have {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	same := true
	fmt.Fprintf(out, "%-40s %-12s %-12s %s\n", "TABLE", "PRIMARY", "RESTORED", "CHECKSUM")
	for _, k := range names {
		w, h := want[k], have[k]
		wRows, wSum, _ := strings.Cut(w, " ")
		hRows, hSum, _ := strings.Cut(h, " ")
		verdict := "same"
		switch {
		case w == "":
			verdict, wRows = "only in the restored copy", "-"
		case h == "":
			verdict, hRows = "missing from the restored copy", "-"
		case wSum != hSum:
			verdict = "DIFFERENT"
		}
		if verdict != "same" {
			same = false
		}
		fmt.Fprintf(out, "%-40s %-12s %-12s %s\n", strings.Replace(k, "\t", ".", 1), wRows, hRows, verdict)
	}
	if same {
		fmt.Fprintf(out, "restore-test: %d tables, row counts and checksums match\n", len(names))
	}
	return same
}

// makeScratch starts a container of the cluster's image on its network
// and installs PostgreSQL (without a cluster) in it.
func makeScratch(ctx context.Context, cli *client.Client, cl *clusterDir, like *cluster.Instance, name string) (string, error) {
	image := like.Image
	if image == "" {
		image = cl.cfg.InstanceDefaults.Image
	}
	if image == "" {
		image = docker.DefaultImage
	}
	netName := cl.cfg.DockerNetworks[0].Name
	nw, err := cli.NetworkInspect(ctx, netName, network.InspectOptions{})
	if err != nil {
		return "", fmt.Errorf("network %s: %w", netName, err)
	}
	if len(nw.IPAM.Config) == 0 {
		return "", fmt.Errorf("network %s has no subnet", netName)
	}
	subnet, err := netip.ParsePrefix(nw.IPAM.Config[0].Subnet)
	if err != nil {
		return "", fmt.Errorf("network %s: subnet %q: %w", netName, nw.IPAM.Config[0].Subnet, err)
	}
	used := map[netip.Addr]bool{}
	for _, in := range cl.cfg.Instances {
		if a, err := netip.ParseAddr(in.IPAddress); err == nil {
			used[a] = true
		}
	}
	for _, e := range nw.Containers {
		if p, err := netip.ParsePrefix(e.IPv4Address); err == nil {
			used[p.Addr()] = true
		}
	}
	// The highest free address below the broadcast address.
	var addr netip.Addr
	a4 := subnet.Masked().Addr().As4()
	for last := 254; last > 1; last-- {
		a4[3] = byte(last)
		if a := netip.AddrFrom4(a4); subnet.Contains(a) && !used[a] {
			addr = a
			break
		}
	}
	if !addr.IsValid() {
		return "", fmt.Errorf("no free address in %s for the scratch container", subnet)
	}
	_ = cli.ContainerRemove(ctx, name, container.RemoveOptions{Force: true})
	resp, err := cli.ContainerCreate(ctx,
		&container.Config{Hostname: "restore-test", Image: image, Cmd: []string{"/sbin/init"}, StopSignal: "SIGRTMIN+3",
			Labels: map[string]string{docker.LabelCluster: cl.cfg.ClusterName, docker.LabelClusterDir: cl.dir, docker.LabelInstance: "restore-test"}},
		&container.HostConfig{Tmpfs: map[string]string{"/run": "", "/run/lock": ""}, Binds: []string{"/sys/fs/cgroup:/sys/fs/cgroup:ro"}},
		&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			netName: {NetworkID: nw.ID, IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: addr.String()}},
		}}, nil, name)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", name, err)
	}
	if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return resp.ID, fmt.Errorf("start %s: %w", name, err)
	}
	install := `set -e
mkdir -p /etc/postgresql-common/createcluster.d
printf 'create_main_cluster = false\n' > /etc/postgresql-common/createcluster.d/00-tpago-restore-test.conf
export DEBIAN_FRONTEND=noninteractive
# Right after the container starts apt cannot verify signatures yet.
i=0
until apt-get -q update >/tmp/apt-update.log 2>&1 && ! grep -q '^[WE]:' /tmp/apt-update.log; do
  i=$((i+1)); [ $i -lt 30 ] || { tail -n 5 /tmp/apt-update.log >&2; exit 1; }
  sleep 2
done
apt-get -q -y -o DPkg::Lock::Timeout=120 install postgresql-15 >/dev/null`
	if _, err := scratchExec(ctx, cli, resp.ID, install); err != nil {
		return resp.ID, fmt.Errorf("install PostgreSQL 15 in %s: %w", name, err)
	}
	return resp.ID, nil
}

func scratchExec(ctx context.Context, cli *client.Client, id, script string) (string, error) {
	out, errOut, rc, err := docker.Exec(ctx, cli, id, []string{"/bin/sh", "-c", script})
	if err != nil {
		return "", err
	}
	if rc != 0 {
		return out, fmt.Errorf("exit %d: %s", rc, strings.TrimSpace(errOut))
	}
	return out, nil
}

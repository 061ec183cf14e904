package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/platforms"
)

// RestoreTestOptions are RestoreTest's.
type RestoreTestOptions struct {
	// Server tests only this Postgres instance's backups ("": all).
	Server string
	// Keep keeps the scratch host for a look.
	Keep bool
}

// ErrRestoredDiffers is returned when a restored copy's tables differ from
// the primary's.
var ErrRestoredDiffers = errors.New("the restored data differs from the primary's (see above)")

// ErrNoPrimary: no Postgres instance of the cluster answers as a primary.
var ErrNoPrimary = errors.New("no Postgres instance of the cluster answers as a primary")

// RestoreTest proves the backups can be restored: for each server Barman
// backs up, it marks a restore point on the primary and sums every user
// table, has Barman recover its latest backup plus the archived WAL up to
// that point, starts the copy on a scratch host made by the platform (a
// platforms.ScratchHoster), and compares the tables. A platform that
// cannot make scratch hosts is refused with exit status 2 before any host
// is asked.
func RestoreTest(ctx context.Context, c *Cluster, o RestoreTestOptions) error {
	targets, err := BackupTargets(c.Config, o.Server)
	if err != nil {
		return err
	}
	r, done := c.runner()
	defer done()
	same := true
	for _, bt := range targets {
		ok, err := restoreTest(ctx, c, r, bt, o.Keep)
		if err != nil {
			return fmt.Errorf("restore-test of %s: %w", bt.Server, err)
		}
		same = same && ok
	}
	if !same {
		return ErrRestoredDiffers
	}
	return nil
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
func currentPrimary(ctx context.Context, c *Cluster, r Runner) (string, error) {
	for _, in := range c.Config.Instances {
		if !in.HasRole("primary") && !in.HasRole("replica") {
			continue
		}
		res, err := r.Run(ctx, in.Name, "postgres", "psql -XAt -c 'SELECT pg_is_in_recovery()'")
		if err == nil && res.RC == 0 && strings.TrimSpace(res.Stdout) == "f" {
			return in.Name, nil
		}
	}
	return "", ErrNoPrimary
}

func restoreTest(ctx context.Context, c *Cluster, r Runner, bt BackupTarget, keep bool) (bool, error) {
	out := c.out()
	start := time.Now()
	say := func(format string, a ...any) {
		fmt.Fprintf(out, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
	hoster, err := capability[platforms.ScratchHoster](c, bt.Barman, "restore-test makes a scratch host to restore on")
	if err != nil {
		return false, err
	}
	pc, err := c.platformCluster()
	if err != nil {
		return false, err
	}
	version := PostgresVersion(c.Config)

	backups, err := must(ctx, r, bt.Barman, "barman", "barman list-backup", "barman list-backup --minimal "+conn.Quote(bt.Server))
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(backups) == "" {
		return false, fmt.Errorf("Barman on %s has no backup of %s yet: run `tpago backup %s`", bt.Barman, bt.Server, c.Dir)
	}
	latest := strings.Fields(backups)[0]
	say("latest backup of %s on %s: %s", bt.Server, bt.Barman, latest)

	// The scratch host installs Postgres while Barman recovers.
	type scratchResult struct {
		h   platforms.ScratchHost
		err error
	}
	scratchCh := make(chan scratchResult, 1)
	go func() {
		h, err := hoster.NewScratchHost(ctx, pc, bt.Barman, "restore-test")
		if err == nil {
			err = installPostgres(ctx, h, version)
		}
		scratchCh <- scratchResult{h, err}
	}()
	var scratch platforms.ScratchHost
	received := false
	defer func() {
		if !received {
			scratch = (<-scratchCh).h
		}
		if scratch != nil && !keep {
			rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := scratch.Remove(rctx); err == nil {
				say("scratch container %s removed", scratch.Name())
			}
		}
	}()

	primary, err := currentPrimary(ctx, c, r)
	if err != nil {
		return false, err
	}
	sums, err := must(ctx, r, primary, "postgres", "table checksums", tableSums)
	if err != nil {
		return false, err
	}
	want := parseSums(sums)
	point := fmt.Sprintf("tpago_restore_test_%d", time.Now().Unix())
	wal, err := must(ctx, r, primary, "postgres", "restore point",
		fmt.Sprintf("psql -XAtq -v ON_ERROR_STOP=1 -c \"SELECT pg_walfile_name(pg_create_restore_point('%s'))\" && psql -XAtq -c 'SELECT pg_switch_wal()' >/dev/null", point))
	if err != nil {
		return false, err
	}
	wal = strings.TrimSpace(wal)
	say("primary %s: %d tables summed, restore point %s in WAL %s", primary, len(want), point, wal)

	// Barman archives that WAL file (barman cron moves it from streaming/).
	parent := "/var/lib/barman/tpago-restore-test"
	dir := parent + "/" + bt.Server
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
	if _, err := must(ctx, r, bt.Barman, "barman", "wait for the WAL", waitWAL); err != nil {
		return false, err
	}
	say("barman %s: WAL %s archived", bt.Barman, wal)
	defer r.Run(context.Background(), bt.Barman, "barman", "rm -rf "+conn.Quote(dir))
	if _, err := must(ctx, r, bt.Barman, "barman", "barman recover", fmt.Sprintf("rm -rf %[1]s && mkdir -p %[1]s && barman recover --target-name %[2]s --target-action promote %[3]s latest %[1]s",
		conn.Quote(dir), conn.Quote(point), conn.Quote(bt.Server))); err != nil {
		return false, err
	}
	say("barman %s: backup %s recovered into %s (to restore point %s)", bt.Barman, latest, dir, point)

	res := <-scratchCh
	received = true
	scratch = res.h
	if res.err != nil {
		return false, fmt.Errorf("scratch container: %w", res.err)
	}
	say("scratch container %s ready with PostgreSQL", scratch.Name())

	// Barman's copy goes to the same path on the scratch host, where its
	// restore_command expects the WAL files.
	if err := scratch.CopyFrom(ctx, bt.Barman, dir, parent); err != nil {
		return false, fmt.Errorf("copy the recovered data from %s to %s: %w", bt.Barman, scratch.Name(), err)
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
runuser -u postgres -- /usr/lib/postgresql/%[2]s/bin/pg_ctl -D "$d" -l /tmp/restore-test.log -w -t 600 start >/dev/null || { tail -n 20 /tmp/restore-test.log >&2; exit 1; }
i=0
until [ "$(runuser -u postgres -- psql -h /tmp -XAt -d postgres -c 'SELECT pg_is_in_recovery()')" = f ]; do
  i=$((i+1)); [ $i -lt 300 ] || { echo "still in recovery after 300 s" >&2; tail -n 20 /tmp/restore-test.log >&2; exit 1; }
  sleep 1
done`, conn.Quote(dir), version)
	if _, err := scratch.Run(ctx, startPG); err != nil {
		return false, fmt.Errorf("start the restored copy: %w", err)
	}
	say("restored copy started and promoted at the restore point")
	got, err := scratch.Run(ctx, "cd /tmp && PGOPTS='-h /tmp' runuser -u postgres -- sh -c "+conn.Quote("PGOPTS='-h /tmp'; "+tableSums))
	if err != nil {
		return false, fmt.Errorf("sum the restored tables: %w", err)
	}
	return compareSums(out, want, parseSums(got)), nil
}

// installPostgres installs PostgreSQL (without a cluster) on a fresh
// scratch host.
func installPostgres(ctx context.Context, h platforms.ScratchHost, version string) error {
	install := fmt.Sprintf(`set -e
mkdir -p /etc/postgresql-common/createcluster.d
printf 'create_main_cluster = false\n' > /etc/postgresql-common/createcluster.d/00-tpago-restore-test.conf
export DEBIAN_FRONTEND=noninteractive
# Right after the host starts apt cannot verify signatures yet.
i=0
until apt-get -q update >/tmp/apt-update.log 2>&1 && ! grep -q '^[WE]:' /tmp/apt-update.log; do
  i=$((i+1)); [ $i -lt 30 ] || { tail -n 5 /tmp/apt-update.log >&2; exit 1; }
  sleep 2
done
apt-get -q -y -o DPkg::Lock::Timeout=120 install postgresql-%s >/dev/null`, version)
	if _, err := h.Run(ctx, install); err != nil {
		return fmt.Errorf("install PostgreSQL %s in %s: %w", version, h.Name(), err)
	}
	return nil
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

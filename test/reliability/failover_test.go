package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// How long the old primary is watched after its container starts again.
const fenceWatch = 60 * time.Second

// gateway is the cluster network's gateway: the address the test process
// has on the cluster's network.
func (c *cluster) gateway(t *testing.T) string {
	t.Helper()
	n, err := dockerCli.NetworkInspect(context.Background(), c.Net, network.InspectOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, n.IPAM.Config, "network %s has no IPAM config", c.Net)
	return n.IPAM.Config[0].Gateway
}

// admitTestClient adds the test process's address to pg_hba.conf on every
// Postgres node (deploy admits only the cluster's hosts).
func admitTestClient(t *testing.T, c *cluster) {
	t.Helper()
	gw := c.gateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range c.pgNodes() {
		_, err := c.sh(ctx, n, fmt.Sprintf(`f=/etc/postgresql/15/main/pg_hba.conf
grep -q 'reliability suite' $f || echo 'host all postgres %s/32 scram-sha-256 # reliability suite client' >> $f
runuser -u postgres -- psql -XAtq -c 'SELECT pg_reload_conf()' >/dev/null`, gw))
		require.NoError(t, err)
	}
}

// installFence runs the fence role over the cluster, as deploy will once
// architectures/m1/deploy.yml includes it.
func installFence(t *testing.T, c *cluster) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "roles", "fence"), os.DirFS(filepath.Join(moduleRoot, "roles", "fence"))))
	pb := filepath.Join(dir, "fence.yml")
	require.NoError(t, os.WriteFile(pb, []byte(`---
- name: Guard against a returning old primary
  hosts: postgres
  gather_facts: false
  become: true
  roles:
    - fence
`), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := tpago(ctx, "play", pb, "-i", filepath.Join(c.Dir, "inventory.yml"))
	require.NoError(t, err, "tpago play fence.yml: %s", tail(out, 30))
}

// primaryNow returns the node that accepts writes, asked through docker exec.
func (c *cluster) primaryNow(ctx context.Context, except string) (node, bool) {
	for _, n := range c.pgNodes() {
		if n.Name == except {
			continue
		}
		out, err := c.psql(ctx, n, "postgres", "SELECT pg_is_in_recovery()")
		if err == nil && out == "f" {
			return n, true
		}
	}
	return node{}, false
}

// roundFigures is what one kill-the-primary round measured.
type roundFigures struct {
	OldPrimary, NewPrimary string
	Acked                  int           // acknowledged inserts in all
	AckedBeforeKill        int           // acknowledged on the old primary
	Lost                   int           // acknowledged but absent on the new primary
	ToPromoted             time.Duration // kill → a standby left recovery
	ToWritable             time.Duration // kill → first acknowledged insert on the new primary
	FollowAfter            time.Duration // kill → every other standby streams from the new primary
	Samples, DoubleSamples int64
	FenceSamples           int64 // samples taken while the old primary was back
	FenceWritable          int64 // of which the old primary accepted writes
	FenceLog               string
	Rejoin                 time.Duration
	RejoinedRows           bool
}

func (f roundFigures) String() string {
	return fmt.Sprintf("old primary %s, new %s: promoted %.1fs and writable %.1fs after the kill, other standbys following at %.1fs; "+
		"acknowledged %d (%d before the kill), lost %d; samples %d, with two writable nodes %d; "+
		"old primary back: %d samples, writable in %d; rejoin %.1fs, all rows back %v",
		f.OldPrimary, f.NewPrimary, f.ToPromoted.Seconds(), f.ToWritable.Seconds(), f.FollowAfter.Seconds(),
		f.Acked, f.AckedBeforeKill, f.Lost, f.Samples, f.DoubleSamples, f.FenceSamples, f.FenceWritable, f.Rejoin.Seconds(), f.RejoinedRows)
}

// killPrimaryRound kills the primary under a writer, waits for the new
// primary, starts the old primary's container again, watches it, rejoins
// it (repmgr: with the command the fence prints; Patroni: by itself) and
// checks nothing acknowledged is missing.
func killPrimaryRound(t *testing.T, c *cluster, syncCommit string, base int64) roundFigures {
	t.Helper()
	var f roundFigures
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	old, ok := c.primaryNow(ctx, "")
	require.True(t, ok, "no primary before the round")
	f.OldPrimary = old.Name
	pw := c.password(t, "postgres")

	s := newSampler(c, pw)
	stopSampler := background(ctx, s.run)
	defer stopSampler()

	w := newWriter(c, pw, syncCommit, base)
	stopWriter := background(ctx, w.run)
	defer stopWriter()

	require.True(t, w.waitAcks(ctx, base+50), "the writer got no 50 acknowledgements from %s in 30 s", old.Name)

	c.kill(t, old)
	killed := time.Now()
	f.AckedBeforeKill = len(w.acked())

	newPrimary, ok := s.waitPromoted(ctx, old.Name, 90*time.Second)
	require.True(t, ok, "no standby became primary within 90 s of killing %s", old.Name)
	f.ToPromoted = time.Since(killed)
	f.NewPrimary = newPrimary.Name
	require.True(t, waitFor(ctx, 60*time.Second, 50*time.Millisecond, func(context.Context) bool {
		a, ok := w.lastAck()
		return ok && a.Node == newPrimary.Name
	}), "no write acknowledged by the new primary %s within 60 s", newPrimary.Name)
	for _, a := range w.acked() {
		if a.Node == newPrimary.Name {
			f.ToWritable = a.At.Sub(killed)
			break
		}
	}

	// Every other standby streams from the new primary (or, on Patroni,
	// from the live member its replicatefrom tag names).
	require.True(t, waitFor(ctx, 60*time.Second, 100*time.Millisecond, func(ctx context.Context) bool {
		for _, n := range c.pgNodes() {
			if n.Name == old.Name || n.Name == newPrimary.Name {
				continue
			}
			if !c.streamsFrom(ctx, n, c.upstreamAfter(n, newPrimary, old)) {
				return false
			}
		}
		return true
	}), "the other standbys did not follow %s within 60 s", newPrimary.Name)
	f.FollowAfter = time.Since(killed)
	time.Sleep(2 * time.Second) // more writes on the new timeline
	stopWriter()

	// What the new primary has of what was acknowledged.
	acks := w.acked()
	f.Acked = len(acks)
	have := idsOn(t, c, newPrimary, pw)
	for _, a := range acks {
		if !have[a.ID] {
			f.Lost++
		}
	}

	// The old primary's container starts again: it must not accept writes.
	c.start(t, old)
	started := time.Now()
	before := s.samples.Load()
	beforeW := int64(0)
	fenceEnd := time.Now().Add(fenceWatch)
	var streaming time.Duration // Patroni: start → streaming from the new primary
	upstream := c.upstreamAfter(old, newPrimary, node{})
	lastAsk := time.Time{}
	for time.Now().Before(fenceEnd) {
		if s.writable(old.Name) {
			beforeW++
		}
		if c.Manager == "patroni" && streaming == 0 && time.Since(lastAsk) > 500*time.Millisecond {
			lastAsk = time.Now()
			if c.streamsFrom(ctx, old, upstream) {
				streaming = time.Since(started)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.FenceSamples = s.samples.Load() - before
	f.FenceWritable = beforeW

	if c.Manager == "patroni" {
		// Patroni found the leader in etcd, rewound the old primary and
		// started it as a standby; nothing to run.
		f.FenceLog, _ = c.sh(ctx, old, "journalctl -q -u patroni --no-pager -o cat | grep -Ei 'rewind|demot|recovery|replica' | tail -n 3")
		f.FenceLog = strings.TrimSpace(f.FenceLog)
		if streaming == 0 && waitFor(ctx, 2*time.Minute, 500*time.Millisecond, func(ctx context.Context) bool { return c.streamsFrom(ctx, old, upstream) }) {
			streaming = time.Since(started)
		}
		f.Rejoin = streaming
		require.NotZero(t, streaming, "%s does not stream from %s 3 minutes after its start: %s", old.Name, upstream.Name, f.FenceLog)
	} else {
		f.FenceLog, _ = c.sh(ctx, old, "journalctl -q -t tpago-fence --no-pager -o cat | tail -n 3")
		f.FenceLog = strings.TrimSpace(f.FenceLog)
		// The documented commands make it a standby of the new primary: a
		// checkpoint on the new primary (pg_rewind reads its timeline from the
		// control file), then repmgr node rejoin.
		t0 := time.Now()
		out, err := c.asPostgres(ctx, old, rejoinCommand(newPrimary.IP))
		if err == nil {
			// repmgrd gave up when the fenced Postgres did not start.
			_, err = c.sh(ctx, old, "systemctl restart repmgrd")
		}
		f.Rejoin = time.Since(t0)
		require.NoError(t, err, "repmgr node rejoin on %s: %s", old.Name, out)
	}
	wantMax := maxID(t, c, newPrimary, pw)
	f.RejoinedRows = waitFor(ctx, 60*time.Second, 200*time.Millisecond, func(ctx context.Context) bool {
		got, err := c.psql(ctx, old, "postgres", "SELECT pg_is_in_recovery()::text || ' ' || coalesce(max(id), 0) FROM rel_writes")
		return err == nil && got == fmt.Sprintf("true %d", wantMax)
	})
	stopSampler()
	f.Samples = s.samples.Load()
	f.DoubleSamples = s.double.Load()
	if f.DoubleSamples > 0 {
		t.Logf("split brain samples: %v", s.log)
	}
	return f
}

// upstreamAfter is the node a standby n streams from once primary leads
// and dead is down. A Patroni member with a replicatefrom tag (the
// cascaded replica: config.yml's upstream is a replica) streams from that
// member while it runs, whichever node leads; every other standby streams
// from the primary. Patroni may
// have promoted the cascaded replica earlier, so its tag can name a node
// that is now a standby itself.
func (c *cluster) upstreamAfter(n, primary, dead node) node {
	if c.Manager != "patroni" || n.Upstream == "" || n.Upstream == dead.Name {
		return primary
	}
	for _, u := range c.Nodes {
		// Only a replica's upstream is a replicatefrom tag (the role
		// template): a replica of config.yml's primary has none.
		if u.Name == n.Upstream && u.is("replica") {
			return u
		}
	}
	return primary
}

// streamsFrom tells whether n is a standby streaming from upstream.
func (c *cluster) streamsFrom(ctx context.Context, n, upstream node) bool {
	out, err := c.psql(ctx, n, "postgres", "SELECT sender_host FROM pg_stat_wal_receiver WHERE status = 'streaming'")
	return err == nil && out == upstream.IP
}

// rejoinCommand is what the fence tells the user to run on an old primary.
func rejoinCommand(newPrimaryIP string) string {
	conninfo := "host=" + newPrimaryIP + " user=repmgr dbname=repmgr connect_timeout=2"
	return "psql -XAtq -d '" + conninfo + "' -c CHECKPOINT && repmgr -f /etc/repmgr.conf node rejoin -d '" + conninfo + "' --force-rewind 2>&1"
}

func idsOn(t *testing.T, c *cluster, n node, pw string) map[int64]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn(n.IP, pw, "postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT id FROM rel_writes")
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	have := make(map[int64]bool, len(ids))
	for _, id := range ids {
		have[id] = true
	}
	return have
}

func maxID(t *testing.T, c *cluster, n node, pw string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.psql(ctx, n, "postgres", "SELECT coalesce(max(id), 0) FROM rel_writes")
	require.NoError(t, err)
	var id int64
	_, err = fmt.Sscan(out, &id)
	require.NoError(t, err, "max(id) on %s: %q", n.Name, out)
	return id
}

// setSyncStandbys makes any one standby confirm commits, on every node
// (a conf.d file, so that it holds on whichever node is promoted).
func setSyncStandbys(t *testing.T, c *cluster) {
	t.Helper()
	var names []string
	for _, n := range c.pgNodes() {
		names = append(names, n.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range c.pgNodes() {
		_, err := c.sh(ctx, n, fmt.Sprintf(`printf "synchronous_standby_names = 'ANY 1 (%s)'\n" > /etc/postgresql/15/main/conf.d/9999-reliability.conf
runuser -u postgres -- psql -XAtq -c 'SELECT pg_reload_conf()' >/dev/null`, strings.Join(names, ", ")))
		require.NoError(t, err)
	}
}

// testFailoverCommand runs tpago test --failover: the cluster's checks,
// then a kill-the-primary round whose figures it prints.
func testFailoverCommand(t *testing.T, c *cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := tpago(ctx, "test", c.Dir, "--failover")
	require.NoError(t, err, "tpago test --failover: %s", tail(out, 40))
	i := strings.Index(out, "failover: old primary")
	require.GreaterOrEqual(t, i, 0, "tpago test --failover prints its figures: %s", tail(out, 20))
	t.Logf("FIGURES tpago test --failover (%.0fs in all):\n%s", time.Since(start).Seconds(), out[i:])
	assert.Contains(t, out[i:], "writes acknowledged / lost:")
	if c.Manager == "patroni" {
		assert.Regexp(t, `old primary started again:\s+standby`, out[i:])
		assert.Contains(t, out[i:], "rejoin (Patroni, pg_rewind):")
	} else {
		assert.Regexp(t, `old primary started again:\s+fenced`, out[i:])
	}
	assert.Regexp(t, `has the new rows: true`, out[i:])
}

// TestRepmgrFailover kills the primary of an M1 cluster (primary, replica,
// Barman, cascaded replica) twice under a writer: once with asynchronous
// commits, once with a synchronous standby; each time it starts the old
// primary again behind the fence role and rejoins it.
func TestRepmgrFailover(t *testing.T) {
	c := newCluster(t, "relf", clusterOpts{cascaded: 1, verbose: true})
	t.Run("security", func(t *testing.T) { securityChecks(t, c) })
	// Any one of the other Postgres nodes confirms a commit; sessions that
	// ask for synchronous_commit = local do not wait. Set after the deploy:
	// in postgres_conf_settings it makes the deploy itself wait forever
	// (the primary's first commits wait for standbys not cloned yet).
	setSyncStandbys(t, c)
	t.Run("backup and restore", func(t *testing.T) { backupRestore(t, c) })
	t.Run("tpago test --failover", func(t *testing.T) { testFailoverCommand(t, c) })
	installFence(t, c)
	admitTestClient(t, c)
	c.createWritesTable(t)

	for i, tc := range []struct {
		name, sync string
	}{
		{"asynchronous commit", "local"},
		{"synchronous standby", "on"},
	} {
		ok := t.Run(tc.name, func(t *testing.T) {
			f := killPrimaryRound(t, c, tc.sync, int64(i)*1_000_000)
			t.Logf("FIGURES %s: %s", tc.name, f)
			if f.FenceLog != "" {
				t.Logf("fence said on %s: %s", f.OldPrimary, f.FenceLog)
			}
			assert.Zero(t, f.DoubleSamples, "two nodes accepted writes at once")
			assert.Zero(t, f.FenceWritable, "the old primary %s accepted writes after its container started again", f.OldPrimary)
			assert.Contains(t, f.FenceLog, "repmgr node rejoin", "the fence logs what to run")
			assert.True(t, f.RejoinedRows, "the rejoined %s has the new primary's rows", f.OldPrimary)
			if tc.sync == "on" {
				assert.Zero(t, f.Lost, "acknowledged writes lost with a synchronous standby")
			}
		})
		if !ok {
			break
		}
	}
}

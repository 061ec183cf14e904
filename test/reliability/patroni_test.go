package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPatroniFailover deploys M1 with Patroni (primary, replica, cascaded
// replica, Barman, three etcd nodes) and proves the same things as the
// repmgr rounds: tpago test --failover, then the primary killed under a
// writer with asynchronous commits, then again with Patroni's
// synchronous_mode turned on by a re-deploy (no acknowledged write may be
// lost), then the primary cut off the network while it keeps running.
// Patroni needs no fence: an old primary that comes back finds the leader
// in etcd, is rewound and starts as a standby by itself.
func TestPatroniFailover(t *testing.T) {
	c := newCluster(t, "relpt", clusterOpts{manager: "patroni", cascaded: 1, admitTest: true})
	if !t.Run("tpago test --failover", func(t *testing.T) { testFailoverCommand(t, c) }) {
		return
	}
	c.createWritesTable(t)

	round := func(name, sync string, base int64) bool {
		return t.Run(name, func(t *testing.T) {
			f := killPrimaryRound(t, c, sync, base)
			t.Logf("FIGURES patroni %s: %s", name, f)
			t.Logf("patroni said on %s: %s", f.OldPrimary, f.FenceLog)
			assert.Zero(t, f.DoubleSamples, "two nodes accepted writes at once")
			assert.Zero(t, f.FenceWritable, "the old primary %s accepted writes after its container started again", f.OldPrimary)
			assert.True(t, f.RejoinedRows, "the rejoined %s has the new primary's rows", f.OldPrimary)
			if sync == "on" {
				assert.Zero(t, f.Lost, "acknowledged writes lost in synchronous_mode")
			}
		})
	}
	if !round("asynchronous commit", "local", 0) {
		return
	}
	if !t.Run("synchronous_mode by deploy", func(t *testing.T) { enableSynchronousMode(t, c) }) {
		return
	}
	if !round("synchronous_mode", "on", 1_000_000) {
		return
	}
	t.Run("partition", func(t *testing.T) { patroniPartition(t, c, 2_000_000) })
}

// enableSynchronousMode sets patroni_dcs_settings.synchronous_mode in
// config.yml and deploys (after the failovers: deploy finds the leader
// itself), then waits for Patroni to name a synchronous standby.
func enableSynchronousMode(t *testing.T, c *cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cfgPath := filepath.Join(c.Dir, "config.yml")
	b, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	edited := strings.Replace(string(b), "\ncluster_vars:\n", "\ncluster_vars:\n  patroni_dcs_settings:\n    synchronous_mode: true\n", 1)
	require.NotEqual(t, string(b), edited, "config.yml has no cluster_vars")
	require.NoError(t, os.WriteFile(cfgPath, []byte(edited), 0o644))
	t0 := time.Now()
	out, err := tpago(ctx, "deploy", c.Dir)
	require.NoError(t, err, "deploy: %s", tail(out, 40))
	took := time.Since(t0)
	assert.Contains(t, out, "Apply Patroni's cluster-wide settings (patronictl edit-config)", "deploy applies the setting")
	var list string
	ok := waitFor(ctx, time.Minute, time.Second, func(ctx context.Context) bool {
		list, _ = c.asPostgres(ctx, c.pgNodes()[0], "patronictl -c /etc/patroni/patroni.yml list")
		return strings.Contains(list, "Sync Standby")
	})
	t.Logf("FIGURES deploy with synchronous_mode after two failovers: %.1fs\n%s", took.Seconds(), list)
	require.True(t, ok, "no Sync Standby a minute after the deploy:\n%s", list)
}

// patroniPartition cuts the leader off the network while it keeps running,
// with a client inside its partition writing to it through the local
// socket (synchronous_commit on), and heals the partition after a standby
// has been promoted.
func patroniPartition(t *testing.T, c *cluster, base int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	pw := c.password(t, "postgres")
	old, ok := c.primaryNow(ctx, "")
	require.True(t, ok, "no primary before the partition")

	s := newSampler(c, pw)
	stopSampler := background(ctx, s.run)
	defer stopSampler()
	w := newWriter(c, pw, "on", base)
	stopWriter := background(ctx, w.run)
	defer stopWriter()
	require.True(t, w.waitAcks(ctx, base+50), "no write acknowledged before the partition")

	// The sampler cannot reach the isolated node: it is asked through
	// docker exec, and each of its answers is compared with what the
	// sampler sees of the others at that moment.
	var oldWritableUntil atomic.Int64 // unix ms of the last "writable" answer
	var doubleExec atomic.Int64
	pctx, stopProbe := context.WithCancel(ctx)
	var probes sync.WaitGroup
	probes.Add(1)
	go func() {
		defer probes.Done()
		for pctx.Err() == nil {
			qctx, cancel := context.WithTimeout(pctx, 2*time.Second)
			out, err := c.psql(qctx, old, "postgres", "SELECT pg_is_in_recovery()")
			cancel()
			if err == nil && out == "f" {
				oldWritableUntil.Store(time.Now().UnixMilli())
				for _, n := range c.pgNodes() {
					if n.Name != old.Name && s.writable(n.Name) {
						doubleExec.Add(1)
					}
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	defer func() { stopProbe(); probes.Wait() }()

	// Cut the leader off; it keeps running. A client in its partition
	// keeps writing to it.
	require.NoError(t, dockerCli.NetworkDisconnect(ctx, c.Net, old.Container, true))
	cut := time.Now()
	var localOut string
	var localErr error
	probes.Add(1)
	go func() {
		defer probes.Done()
		localOut, localErr = c.asPostgres(ctx, old, fmt.Sprintf(`i=0; end=$(( $(date +%%s) + 60 ))
while [ $(date +%%s) -lt $end ]; do
  i=$((i+1))
  if timeout 2 psql -XAtq -d postgres -c "INSERT INTO rel_writes (id) VALUES (-%d - $i)" >/dev/null 2>&1; then echo "ack $i"; fi
  sleep 0.2
done`, base))
	}()

	promoted, ok := s.waitPromoted(ctx, old.Name, 2*time.Minute)
	require.True(t, ok, "no standby was promoted within 2 minutes of cutting %s off", old.Name)
	toPromoted := time.Since(cut)
	lastWritable := time.UnixMilli(oldWritableUntil.Load())
	demotedAfter := lastWritable.Sub(cut)
	// Give the isolated client its last tries, then heal.
	time.Sleep(5 * time.Second)
	require.NoError(t, dockerCli.NetworkConnect(ctx, c.Net, old.Container, &network.EndpointSettings{
		IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: old.IP}}))
	healed := time.Now()
	stopWriter()
	// Rejoined: streaming from the new leader with all of its rows (a
	// first connection may stream before Patroni finds it must rewind).
	want := maxID(t, c, promoted, pw)
	upstream := c.upstreamAfter(old, promoted, node{})
	rejoined := waitFor(ctx, 3*time.Minute, 500*time.Millisecond, func(ctx context.Context) bool {
		if !c.streamsFrom(ctx, old, upstream) {
			return false
		}
		got, err := c.psql(ctx, old, "postgres", "SELECT coalesce(max(id), 0) FROM rel_writes")
		return err == nil && got == fmt.Sprint(want)
	})
	toRejoin := time.Since(healed)
	stopProbe()
	probes.Wait()
	stopSampler()
	require.NoError(t, localErr, "the client inside the partition: %s", localOut)

	// What was acknowledged and what the new leader has.
	have := idsOn(t, c, promoted, pw)
	lost := 0
	for _, a := range w.acked() {
		if !have[a.ID] {
			lost++
		}
	}
	localAcked, localLost := 0, 0
	for _, l := range strings.Split(localOut, "\n") {
		var i int64
		if _, err := fmt.Sscanf(l, "ack %d", &i); err == nil {
			localAcked++
			if !have[-base-i] {
				localLost++
			}
		}
	}
	show, _ := c.asPostgres(ctx, promoted, "patronictl -c /etc/patroni/patroni.yml list")
	log, _ := c.sh(ctx, old, "journalctl -q -u patroni --no-pager -o cat | grep -Ei 'demot|dcs|rewind' | tail -n 4")
	t.Logf("FIGURES patroni partition: %s demoted itself %.1fs after the cut (last writable answer); %s promoted %.1fs after the cut; "+
		"samples with two writable nodes %d (network) + %d (isolated node, via docker exec); "+
		"client outside: acknowledged %d, lost %d; client inside the partition (synchronous_commit on): acknowledged %d, lost %d; "+
		"after healing, %s streams from %s in %.1fs (%v)",
		old.Name, demotedAfter.Seconds(), promoted.Name, toPromoted.Seconds(), s.double.Load(), doubleExec.Load(),
		len(w.acked()), lost, localAcked, localLost, old.Name, promoted.Name, toRejoin.Seconds(), rejoined)
	t.Logf("patronictl list after healing:\n%s", show)
	t.Logf("patroni said on %s:\n%s", old.Name, strings.TrimSpace(log))
	assert.Zero(t, s.double.Load()+doubleExec.Load(), "two nodes accepted writes at once")
	assert.True(t, lastWritable.Before(cut.Add(toPromoted)), "the isolated leader demoted itself before a standby was promoted")
	assert.Zero(t, lost, "acknowledged writes lost (synchronous_mode)")
	assert.Zero(t, localLost, "writes acknowledged inside the partition and lost")
	assert.True(t, rejoined, "%s streams from %s after the partition heals", old.Name, promoted.Name)
}

package reliability

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRepmgrWitnessCluster deploys a two-node M1 (primary, replica, Barman
// as repmgr witness), re-deploys it through faults, then cuts the primary
// off the network while it keeps running, and heals the partition.
func TestRepmgrWitnessCluster(t *testing.T) {
	c := newCluster(t, "relp", clusterOpts{cascaded: 0})
	if !t.Run("deploy faults", func(t *testing.T) { deployFaults(t, c) }) {
		return
	}
	t.Run("partition", func(t *testing.T) { partition(t, c) })
}

// partition cuts the primary off the network while it keeps running, then
// heals the partition.
func partition(t *testing.T, c *cluster) {
	installFence(t, c)
	admitTestClient(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	old := c.byRole("primary")[0]
	c.createWritesTable(t)
	pw := c.password(t, "postgres")

	s := newSampler(c, pw)
	stopSampler := background(ctx, s.run)
	defer stopSampler()
	w := newWriter(c, pw, "local", 0)
	stopWriter := background(ctx, w.run)
	defer stopWriter()
	require.True(t, w.waitAcks(ctx, 50), "no write acknowledged before the partition")

	// Cut the primary off; it keeps running.
	require.NoError(t, dockerCli.NetworkDisconnect(ctx, c.Net, old.Container, true))
	cut := time.Now()
	var replica node
	for _, n := range c.pgNodes() {
		if n.Name != old.Name {
			replica = n
		}
	}
	promoted := waitFor(ctx, 90*time.Second, 50*time.Millisecond, func(context.Context) bool { return s.writable(replica.Name) })
	if !promoted {
		// What repmgr saw, for the failure message.
		for _, n := range c.Nodes {
			if n.Name == old.Name {
				continue
			}
			show, _ := c.asPostgres(ctx, n, "repmgr -f /etc/repmgr.conf cluster show 2>&1; systemctl is-active repmgrd; tail -n 25 /var/log/repmgr/repmgrd.log")
			t.Logf("on %s:\n%s", n.Name, show)
		}
	}
	require.True(t, promoted, "%s was not promoted within 90 s of cutting %s off", replica.Name, old.Name)
	toPromoted := time.Since(cut)

	// Inside its partition, the old primary still takes writes.
	isolated, err := c.psql(ctx, old, "postgres", "INSERT INTO rel_writes (id) VALUES (-1) RETURNING NOT pg_is_in_recovery()")
	isolatedWritable := err == nil && isolated == "t"
	time.Sleep(5 * time.Second)

	// Heal the partition.
	require.NoError(t, dockerCli.NetworkConnect(ctx, c.Net, old.Container, &network.EndpointSettings{
		IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: old.IP}}))
	healed := time.Now()
	doubleBefore := s.double.Load()
	sawOld := false
	fenced := waitFor(ctx, 60*time.Second, 100*time.Millisecond, func(context.Context) bool {
		if s.writable(old.Name) {
			sawOld = true
		}
		return sawOld && !s.writable(old.Name) || !sawOld && time.Since(healed) > 20*time.Second
	})
	toFenced := time.Since(healed)
	doubleAfterHeal := s.double.Load() - doubleBefore
	// Watch another 15 s: the old primary stays down.
	time.Sleep(15 * time.Second)
	stillWritable := s.writable(old.Name)
	show, _ := c.asPostgres(ctx, replica, "repmgr -f /etc/repmgr.conf cluster show 2>&1")
	fenceLog, _ := c.sh(ctx, old, "journalctl -q -t tpago-fence --no-pager -o cat | tail -n 1")
	stopWriter()

	// What the user does: rejoin the old primary.
	t0 := time.Now()
	out, err := c.asPostgres(ctx, old, rejoinCommand(replica.IP))
	require.NoError(t, err, "rejoin: %s", out)
	_, err = c.sh(ctx, old, "systemctl restart repmgrd")
	require.NoError(t, err)
	rejoin := time.Since(t0)
	lost := 0
	have := idsOn(t, c, replica, pw)
	for _, a := range w.acked() {
		if !have[a.ID] {
			lost++
		}
	}
	_, isolatedRowKept := have[-1]
	require.True(t, waitFor(ctx, 30*time.Second, 500*time.Millisecond, func(ctx context.Context) bool {
		got, err := c.psql(ctx, old, "postgres", "SELECT pg_is_in_recovery()")
		return err == nil && got == "t"
	}), "%s is not a standby after the rejoin", old.Name)
	stopSampler()

	t.Logf("FIGURES partition: %s promoted %.1fs after %s was cut off; the isolated %s still accepted a local write: %v; "+
		"after healing, both writable in %d samples, %s stopped by the fence %.1fs after healing (fenced %v, writable 15 s later %v); "+
		"acknowledged %d, lost %d (the isolated write kept: %v); rejoin %.1fs",
		replica.Name, toPromoted.Seconds(), old.Name, old.Name, isolatedWritable, doubleAfterHeal, old.Name, toFenced.Seconds(), fenced, stillWritable,
		len(w.acked()), lost, isolatedRowKept, rejoin.Seconds())
	t.Logf("repmgr cluster show after healing:\n%s", show)
	t.Logf("fence said: %s", strings.TrimSpace(fenceLog))
	assert.True(t, fenced, "the old primary was still writable 60 s after the partition healed")
	assert.False(t, stillWritable, "the old primary accepts writes after the partition healed")
	assert.LessOrEqual(t, toFenced, 30*time.Second, "the fence stops the old primary within a few timer runs")
}

// Package e2e configures, provisions, deploys and checks real M1 clusters
// on local Docker with the tpago binary, as a user would.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/internal/clitest"
	"github.com/tpago/tpago/internal/testenv/need"
	"github.com/tpago/tpago/platforms/docker"
)

// newCluster configures a docker M1 cluster with its own name and subnet
// (10.209.x.0/24) and n cascaded replicas (n < 0: the option is left out),
// and removes it when the test ends.
func newCluster(t *testing.T, tag string, n int, args ...string) string {
	t.Helper()
	need.Require(t, need.Docker)
	name := fmt.Sprintf("e2e%s%d", tag, os.Getpid()%100000)
	dir := filepath.Join(t.TempDir(), name)
	subnet := fmt.Sprintf("10.209.%d.0/24", (os.Getpid()+n*7)%250)
	base := []string{"configure", dir, "-a", "M1", "--platform", "docker",
		"--failover-manager", "repmgr", "--subnet", subnet}
	if !slices.Contains(args, "--postgresql") {
		base = append(base, "--postgresql", "15")
	}
	if n >= 0 {
		base = append(base, "--num-cascaded-replicas", fmt.Sprint(n))
	}
	clitest.Must(t, append(base, args...)...)
	t.Cleanup(func() {
		if out, code := clitest.Run(t, "deprovision", dir, "--yes"); code != 0 {
			t.Errorf("deprovision: exit %d\n%s", code, out)
		}
		cli, err := docker.NewClient(context.Background())
		require.NoError(t, err)
		left, err := cli.ContainerList(context.Background(), container.ListOptions{All: true,
			Filters: filters.NewArgs(filters.Arg("label", docker.LabelCluster+"="+name))})
		require.NoError(t, err)
		assert.Empty(t, left, "deprovision leaves no container behind")
	})
	return dir
}

// recap returns the PLAY RECAP part of a run's output.
func recap(t *testing.T, out string) string {
	t.Helper()
	i := strings.LastIndex(out, "PLAY RECAP")
	require.GreaterOrEqual(t, i, 0, "no PLAY RECAP in:\n%s", out)
	return out[i:]
}

// TestM1Repmgr is the seed's cluster, really running: configure, provision
// on Docker, deploy, test with the real clients, redeploy (no change), a
// settings change previewed with --check --diff then applied, the ad-hoc
// and password commands, and deprovision.
func TestM1Repmgr(t *testing.T) {
	dir := newCluster(t, "r", 1, "--enable-pgbouncer")
	addUserObjects(t, dir)
	clitest.Must(t, "provision", dir)
	first := clitest.Must(t, "deploy", dir)
	assert.Regexp(t, `changed=[1-9]`, recap(t, first))
	test := clitest.Must(t, "test", dir)
	assert.NotContains(t, test, "fatal:")
	checkUserObjects(t, dir)

	second := clitest.Must(t, "deploy", dir)
	assert.Equal(t, 5, strings.Count(recap(t, second), "changed=0 "), "a second deploy changes nothing:\n%s", recap(t, second))

	// Nothing secret is ever printed.
	for _, user := range []string{"postgres", "repmgr", "barman", "app", "report", "pgbouncer"} {
		pw := strings.TrimSpace(clitest.Must(t, "show-password", dir, user))
		require.Len(t, pw, 48)
		assert.NotContains(t, first+second+test, pw, "the %s password was printed", user)
	}

	show := clitest.Must(t, "cmd", dir, "primary", "--become-user", "postgres", "repmgr -f /etc/repmgr.conf cluster show")
	assert.Regexp(t, regexp.MustCompile(`primary \| \* running`), show)
	assert.Equal(t, 2, strings.Count(show, "standby |   running"), show)

	// A settings change: previewed, not made; then made.
	cfgPath := filepath.Join(dir, "config.yml")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	changed := strings.Replace(string(cfg), "postgres_conf_settings: {}", "postgres_conf_settings:\n    work_mem: 8MB", 1)
	require.NotEqual(t, string(cfg), changed)
	require.NoError(t, os.WriteFile(cfgPath, []byte(changed), 0o644))
	workMem := func() string {
		out := clitest.Must(t, "cmd", dir, "primary", "--become-user", "postgres", "psql -Atc 'show work_mem'")
		return strings.TrimSpace(out[strings.Index(out, ">>")+2:])
	}
	before := workMem()
	preview := clitest.Must(t, "deploy", dir, "--check", "--diff")
	assert.Contains(t, preview, "+work_mem = '8MB'")
	assert.Equal(t, before, workMem(), "check mode changed nothing")
	clitest.Must(t, "deploy", dir)
	assert.Equal(t, "8MB", workMem())

	switchover(t, dir)
	failover(t, dir)
}

// switchover makes node 2 the primary with repmgr standby switchover
// --siblings-follow (it reaches the other nodes over SSH as postgres, which
// deploy sets up), then node 1 again; afterwards tpago test passes.
func switchover(t *testing.T, dir string) {
	_, byNode := nodeNames(t, dir)
	for _, to := range []string{byNode[2], byNode[1]} {
		start := time.Now()
		out := clitest.Must(t, "switchover", dir, to)
		t.Logf("switchover to %s: %.1f s", to, time.Since(start).Seconds())
		assert.Contains(t, out, to+" is the primary")
		show := clitest.Must(t, "cmd", dir, to, "--become-user", "postgres", "repmgr -f /etc/repmgr.conf cluster show")
		assert.Regexp(t, `(?m)^ *\d+ *\| *`+to+` *\| primary \| \* running`, show)
	}
	// PgBouncer follows the primary there and back.
	throughPgBouncer(t, dir, "app", "appdb", byNode[1])

	// Barman's cron restarts its WAL streaming from node 1 within a minute
	// or so; then tpago status finds nothing wrong and tpago test passes.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, code := clitest.Run(t, "status", dir)
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tpago status still finds problems 3 minutes after switching back:\n%s", out)
		}
		time.Sleep(10 * time.Second)
	}
	clitest.Must(t, "test", dir)
}

// psql runs a query as postgres on one host and returns its output.
func psql(t *testing.T, dir, host, query string) (string, int) {
	t.Helper()
	out, code := clitest.Run(t, "cmd", dir, host, "--become-user", "postgres", "psql -XAtc "+shellQuote(query))
	if i := strings.Index(out, ">>"); i >= 0 {
		out = out[i+2:]
	}
	return strings.TrimSpace(out), code
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// failover kills the primary's container: node 2 must become primary within
// repmgr's timeouts, the cascaded replica must follow it, and a deploy
// (without the dead host) must point Barman at the new primary and leave a
// cluster that tpago test passes.
func failover(t *testing.T, dir string) {
	cfg, byNode := nodeNames(t, dir)
	primary, replica, cascaded := byNode[1], byNode[2], byNode[4]
	cli, err := docker.NewClient(context.Background())
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, cli.ContainerKill(context.Background(), cfg.ClusterName+"-"+primary, "KILL"))
	promoted := false
	for time.Since(start) < 90*time.Second {
		if out, code := psql(t, dir, replica, "select pg_is_in_recovery()"); code == 0 && out == "f" {
			promoted = true
			break
		}
		time.Sleep(time.Second)
	}
	require.True(t, promoted, "node 2 (%s) was not promoted within 90 s", replica)
	t.Logf("failover: %s is primary %.1fs after %s was killed", replica, time.Since(start).Seconds(), primary)

	_, code := psql(t, dir, replica, "create table if not exists e2e_failover (id int); insert into e2e_failover values (42)")
	require.Equal(t, 0, code)
	seen := false
	for i := 0; i < 30 && !seen; i++ {
		out, _ := psql(t, dir, cascaded, "select count(*) from e2e_failover where id = 42")
		seen = out == "1"
		if !seen {
			time.Sleep(time.Second)
		}
	}
	assert.True(t, seen, "the cascaded replica %s follows the new primary", cascaded)
	throughPgBouncer(t, dir, "app", "appdb", replica)

	out := clitest.Must(t, "deploy", dir, "--limit", "all:!"+primary)
	assert.NotContains(t, out, "fatal:")
	barman := clitest.Must(t, "cmd", dir, "barman", "--become-user", "barman", "barman check all")
	assert.NotContains(t, barman, "FAILED")
	conninfo := clitest.Must(t, "cmd", dir, "barman", "cat /etc/barman.d/*.conf")
	assert.Contains(t, conninfo, cfgAddress(cfg, replica), "Barman backs up the new primary")
	clitest.Must(t, "test", dir, "--limit", "all:!"+primary)
}

// nodeNames loads a cluster's config.yml and names its hosts by node number.
func nodeNames(t *testing.T, dir string) (*cluster.Config, map[int]string) {
	t.Helper()
	cfg, err := cluster.LoadConfig(filepath.Join(dir, "config.yml"))
	require.NoError(t, err)
	byNode := map[int]string{}
	for _, in := range cfg.Instances {
		byNode[in.Node] = in.Name
	}
	return cfg, byNode
}

func cfgAddress(cfg *cluster.Config, name string) string {
	for _, in := range cfg.Instances {
		if in.Name == name {
			return in.IPAddress
		}
	}
	return ""
}

// TestM1RepmgrDebian13 is the seed's cluster on Debian 13 (trixie) with
// the release's own PostgreSQL 17, repmgr, Barman and PgBouncer: deploy,
// the user's objects, test with the real clients, deploy again with no
// change, and a failover after the primary's container is killed (the
// switchover is TestM1Repmgr's, on Debian 12).
func TestM1RepmgrDebian13(t *testing.T) {
	dir := newCluster(t, "t", 1, "--os-version", "13", "--postgresql", "17", "--enable-pgbouncer")
	addUserObjects(t, dir)
	clitest.Must(t, "provision", dir)
	start := time.Now()
	first := clitest.Must(t, "deploy", dir)
	t.Logf("deploy on Debian 13: %.1f s", time.Since(start).Seconds())
	assert.Regexp(t, `changed=[1-9]`, recap(t, first))
	assert.NotContains(t, clitest.Must(t, "test", dir), "fatal:")
	checkUserObjects(t, dir)
	_, byNode := nodeNames(t, dir)
	v, code := psql(t, dir, byNode[1], "show server_version_num")
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(v, "17"), "PostgreSQL 17 runs on Debian 13, not %s", v)
	osr := clitest.Must(t, "cmd", dir, byNode[1], "cat /etc/debian_version")
	assert.Regexp(t, `>>\s*13\.`, osr)

	second := clitest.Must(t, "deploy", dir)
	assert.Equal(t, 5, strings.Count(recap(t, second), "changed=0 "), "a second deploy changes nothing:\n%s", recap(t, second))
	failover(t, dir)
}

// TestM1RepmgrWitness is M1 with no cascaded replica: two Postgres nodes,
// so the Barman node is also repmgr's witness.
func TestM1RepmgrWitness(t *testing.T) {
	dir := newCluster(t, "w", 0)
	clitest.Must(t, "provision", dir)
	clitest.Must(t, "deploy", dir)
	clitest.Must(t, "test", dir)
	show := clitest.Must(t, "cmd", dir, "primary", "--become-user", "postgres", "repmgr -f /etc/repmgr.conf cluster show")
	assert.Regexp(t, `witness +\| \* running`, show)
	second := clitest.Must(t, "deploy", dir)
	assert.Equal(t, 3, strings.Count(recap(t, second), "changed=0 "), recap(t, second))
}

// TestM1DataNodesPerLocation is M1 as current TPA lays it out: one
// location with three data nodes (a primary and two replicas of it) and
// a Barman node that is also the cluster's log server. Deployed, tested,
// deployed again with no change; a line logged on a replica reaches the
// log server's file for that host.
func TestM1DataNodesPerLocation(t *testing.T) {
	dir := newCluster(t, "d", -1, "--data-nodes-per-location", "3")
	cfg, byNode := nodeNames(t, dir)
	require.Len(t, cfg.Instances, 4)
	for _, in := range cfg.Instances {
		if in.Node == 4 {
			assert.Equal(t, []string{"barman", "log-server"}, in.Role)
		}
	}
	clitest.Must(t, "provision", dir)
	clitest.Must(t, "deploy", dir)
	clitest.Must(t, "test", dir)
	show := clitest.Must(t, "cmd", dir, "primary", "--become-user", "postgres", "repmgr -f /etc/repmgr.conf cluster show")
	assert.Equal(t, 2, strings.Count(show, "standby |   running"), show)
	second := clitest.Must(t, "deploy", dir)
	assert.Equal(t, 4, strings.Count(recap(t, second), "changed=0 "), recap(t, second))

	replica := byNode[3]
	mark := fmt.Sprintf("tpago-e2e-%d", time.Now().UnixNano())
	clitest.Must(t, "cmd", dir, replica, "logger -t tpago-e2e "+mark)
	var out string
	for i := 0; i < 30; i++ {
		out, _ = clitest.Run(t, "cmd", dir, "barman", "grep -h "+mark+" /var/log/tpago/"+replica+".log")
		if strings.Contains(out, "tpago-e2e") {
			break
		}
		time.Sleep(time.Second)
	}
	assert.Contains(t, out, "tpago-e2e: "+mark, "the log server has %s's line", replica)
}

// TestPatroniDebian13 is M1 with Patroni 4 and etcd 3.5 on Debian 13 with
// PostgreSQL 17: deploy, test, deploy again with no change, a switchover
// to node 2, then that leader's container is killed and another member
// takes over.
func TestPatroniDebian13(t *testing.T) {
	dir := newCluster(t, "p", 1, "--os-version", "13", "--postgresql", "17", "--failover-manager", "patroni")
	clitest.Must(t, "provision", dir)
	start := time.Now()
	clitest.Must(t, "deploy", dir)
	t.Logf("deploy on Debian 13 with Patroni: %.1f s", time.Since(start).Seconds())
	assert.NotContains(t, clitest.Must(t, "test", dir), "fatal:")
	cfg, byNode := nodeNames(t, dir)
	v, code := psql(t, dir, byNode[1], "show server_version_num")
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(v, "17"), "PostgreSQL 17 runs on Debian 13, not %s", v)
	list := clitest.Must(t, "cmd", dir, byNode[1], "patronictl version")
	assert.Regexp(t, `patronictl version 4\.`, list)

	second := clitest.Must(t, "deploy", dir)
	assert.Equal(t, len(cfg.Instances), strings.Count(recap(t, second), "changed=0 "), "a second deploy changes nothing:\n%s", recap(t, second))

	out := clitest.Must(t, "switchover", dir, byNode[2])
	assert.Contains(t, out, byNode[2]+" is the primary")

	cli, err := docker.NewClient(context.Background())
	require.NoError(t, err)
	start = time.Now()
	require.NoError(t, cli.ContainerKill(context.Background(), cfg.ClusterName+"-"+byNode[2], "KILL"))
	var leader string
	for time.Since(start) < 90*time.Second && leader == "" {
		for _, n := range []int{1, 4} {
			if out, code := psql(t, dir, byNode[n], "select pg_is_in_recovery()"); code == 0 && out == "f" {
				leader = byNode[n]
			}
		}
		time.Sleep(time.Second)
	}
	require.NotEmpty(t, leader, "no replica took over within 90 s of the leader's death")
	t.Logf("failover: %s leads %.1f s after %s was killed", leader, time.Since(start).Seconds(), byNode[2])
	_, code = psql(t, dir, leader, "create table e2e_failover (id int); insert into e2e_failover values (1)")
	assert.Equal(t, 0, code, "the new leader accepts writes")
}

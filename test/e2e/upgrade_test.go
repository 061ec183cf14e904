package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/internal/clitest"
)

// Debian 12 has PostgreSQL 15 in two versions: the release's and a newer
// one from bookworm-security. A cluster pinned to the older is upgraded to
// the newer while a client writes all the time.
const (
	oldPostgres = "15.18-0+deb12u1"
	newPostgres = "15.20-0+deb12u1"
)

// TestUpgradeRepmgr and TestUpgradePatroni: deploy pinned to the older
// PostgreSQL 15, check that the version is installed and held, preview the
// upgrade (--check changes nothing), then upgrade under a writer with a
// synchronous standby; every node ends on the new version, config.yml pins
// it, node 1 leads again (repmgr, --switch-back) or a deploy repoints
// Barman at node 2 (Patroni), and no acknowledged write is lost.
func TestUpgradeRepmgr(t *testing.T) {
	rollingUpgrade(t, "u", "repmgr", 4)
}

func TestUpgradePatroni(t *testing.T) {
	rollingUpgrade(t, "v", "patroni", 7)
}

func rollingUpgrade(t *testing.T, tag, manager string, hosts int) {
	dir := newCluster(t, tag, 1, "--failover-manager", manager)
	cfgPath := filepath.Join(dir, "config.yml")
	data, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	edited := strings.Replace(string(data), "postgres_conf_settings: {}",
		"postgres_conf_settings:\n    synchronous_standby_names: \"ANY 1 (*)\"\n  postgres_package_version: "+oldPostgres, 1)
	if manager == "patroni" {
		// Patroni keeps synchronous_standby_names itself in synchronous mode.
		edited = strings.Replace(string(data), "postgres_conf_settings: {}",
			"postgres_conf_settings: {}\n  postgres_package_version: "+oldPostgres+"\n  patroni_dcs_settings: {synchronous_mode: true}", 1)
	}
	require.NotEqual(t, string(data), edited)
	require.NoError(t, os.WriteFile(cfgPath, []byte(edited), 0o644))

	clitest.Must(t, "provision", dir)
	clitest.Must(t, "deploy", dir)
	cfg, byNode := nodeNames(t, dir)
	primary, barman := byNode[1], byNode[3]
	for _, n := range []int{1, 2, 4} {
		out := clitest.Must(t, "cmd", dir, byNode[n], "dpkg-query -W -f='${Version}' postgresql-15; echo; apt-mark showhold")
		assert.Contains(t, out, oldPostgres, "node %d runs the pinned version", n)
		assert.Contains(t, out, "postgresql-15", "the pinned packages are held on node %d", n)
	}

	// The preview changes nothing.
	preview := clitest.Must(t, "upgrade", dir, "--postgres-package-version", newPostgres, "--check", "--diff")
	assert.Contains(t, preview, "postgresql-15 "+oldPostgres+" → "+newPostgres)
	assert.Less(t, strings.Index(preview, "  "+byNode[4]+": postgresql-15"), strings.Index(preview, "  "+primary+": postgresql-15"),
		"the cascaded replica comes before the primary:\n%s", preview)
	after, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	assert.Equal(t, edited, string(after), "--check leaves config.yml alone")
	v, _ := psql(t, dir, primary, "show server_version")
	assert.True(t, strings.HasPrefix(v, "15.18"), v)

	// The upgrade, under a writer on the Barman node.
	var addrs []string
	for _, n := range []int{1, 2, 4} {
		addrs = append(addrs, cfgAddress(cfg, byNode[n]))
	}
	startWriter(t, dir, barman, addrs)
	start := time.Now()
	// repmgr switches back to node 1. Patroni in synchronous mode does not:
	// it switches over only to its synchronous standby, and node 1 is not
	// that one.
	args := []string{"upgrade", dir, "--postgres-package-version", newPostgres}
	if manager == "repmgr" {
		args = append(args, "--switch-back")
	}
	out := clitest.Must(t, args...)
	t.Logf("upgrade (%s): %.1f s\n%s", manager, time.Since(start).Seconds(), out)
	assert.Contains(t, out, "Every node of")
	leader := primary
	if manager == "repmgr" {
		v, _ = psql(t, dir, primary, "select pg_is_in_recovery()")
		assert.Equal(t, "f", v, "--switch-back: node 1 is the primary again")
	} else {
		leader = byNode[2]
	}
	time.Sleep(2 * time.Second)
	acked, failed, gap := stopWriter(t, dir, barman)

	for _, n := range []int{1, 2, 4} {
		v, code := psql(t, dir, byNode[n], "show server_version")
		require.Equal(t, 0, code)
		assert.True(t, strings.HasPrefix(v, "15.20"), "node %d runs %s", n, v)
	}
	reloaded, err := cluster.LoadConfig(cfgPath)
	require.NoError(t, err)
	assert.Equal(t, newPostgres, reloaded.ClusterVars["postgres_package_version"], "config.yml pins the new version")

	// Every acknowledged write is on the new primary.
	rows, code := psql(t, dir, leader, "select string_agg(id::text, ' ') from upgrade_writes")
	require.Equal(t, 0, code)
	have := map[int]bool{}
	for _, f := range strings.Fields(rows) {
		n, _ := strconv.Atoi(f)
		have[n] = true
	}
	var lost []int
	for _, id := range acked {
		if !have[id] {
			lost = append(lost, id)
		}
	}
	t.Logf("UPGRADE %s: %d writes acknowledged, %d refused, longest gap between acknowledged writes %.2f s, %d acknowledged writes lost",
		manager, len(acked), failed, gap.Seconds(), len(lost))
	assert.Empty(t, lost, "acknowledged writes lost")
	assert.Greater(t, len(acked), 50, "the writer wrote during the upgrade")

	if manager == "repmgr" {
		// Back on node 1 (--switch-back): once Barman streams from it again
		// (barman cron, within a minute or so), a deploy changes nothing.
		deadline := time.Now().Add(3 * time.Minute)
		for {
			st, code := clitest.Run(t, "status", dir)
			if code == 0 {
				break
			}
			require.True(t, time.Now().Before(deadline), "tpago status still finds problems 3 minutes after the upgrade:\n%s", st)
			time.Sleep(10 * time.Second)
		}
		second := recap(t, clitest.Must(t, "deploy", dir))
		assert.Equal(t, hosts, strings.Count(second, "changed=0 "), "a deploy after the upgrade changes nothing:\n%s", second)
	} else {
		// node 2 leads: a deploy points Barman at it and changes nothing else.
		second := recap(t, clitest.Must(t, "deploy", dir))
		assert.Equal(t, hosts-1, strings.Count(second, "changed=0 "), "a deploy after the upgrade changes only Barman:\n%s", second)
		assert.Regexp(t, barman+` +: ok=\d+ +changed=[1-9]`, second)
	}
	clitest.Must(t, "test", dir)
}

// startWriter starts, on host, a client that inserts a row every 100 ms
// into whichever of addrs accepts writes, logging the ids the server
// acknowledged.
func startWriter(t *testing.T, dir, host string, addrs []string) {
	conn := fmt.Sprintf("host=%s port=5432 user=barman dbname=postgres target_session_attrs=read-write connect_timeout=2", strings.Join(addrs, ","))
	script := `rm -f /tmp/writer.*; psql -XAtq "` + conn + `" -c 'create table if not exists upgrade_writes (id int primary key)'
i=0
while [ ! -e /tmp/writer.stop ]; do
  i=$((i+1))
  if psql -XAtq "` + conn + `" -c "insert into upgrade_writes values ($i)" >/dev/null 2>&1; then
    echo "$i $(date +%s.%N)" >> /tmp/writer.acked
  else
    echo "$i" >> /tmp/writer.failed
  fi
  sleep 0.1
done
touch /tmp/writer.done`
	clitest.Must(t, "cmd", dir, host, "--become-user", "barman",
		"cat > /tmp/writer.sh <<'EOF'\n"+script+"\nEOF\nsetsid nohup sh /tmp/writer.sh >/dev/null 2>&1 < /dev/null &")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := clitest.Run(t, "cmd", dir, host, "wc -l < /tmp/writer.acked 2>/dev/null || echo 0")
		if n, _ := strconv.Atoi(strings.TrimSpace(out[strings.LastIndex(out, ">>")+2:])); n > 5 {
			return
		}
		require.True(t, time.Now().Before(deadline), "the writer acknowledged nothing in 30 s:\n%s", out)
		time.Sleep(time.Second)
	}
}

// stopWriter stops the writer and returns the acknowledged ids, how many
// writes failed, and the longest time between two acknowledged writes.
func stopWriter(t *testing.T, dir, host string) (acked []int, failed int, gap time.Duration) {
	clitest.Must(t, "cmd", dir, host, "touch /tmp/writer.stop; for i in $(seq 50); do [ -e /tmp/writer.done ] && break; sleep 0.2; done")
	out := clitest.Must(t, "cmd", dir, host, "cat /tmp/writer.acked; echo FAILED $(cat /tmp/writer.failed 2>/dev/null | wc -l)")
	var times []float64
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 2 && f[0] == "FAILED":
			failed, _ = strconv.Atoi(f[1])
		case len(f) == 2:
			id, err1 := strconv.Atoi(f[0])
			at, err2 := strconv.ParseFloat(f[1], 64)
			if err1 == nil && err2 == nil {
				acked = append(acked, id)
				times = append(times, at)
			}
		}
	}
	sort.Float64s(times)
	for i := 1; i < len(times); i++ {
		if d := time.Duration((times[i] - times[i-1]) * float64(time.Second)); d > gap {
			gap = d
		}
	}
	return slices.Compact(acked), failed, gap
}

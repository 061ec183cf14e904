package m1

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/inventory"
)

var updateStatus = flag.Bool("update-status", false, "rewrite the status golden files")

// loadRecorded reads testdata/status/NAME: a config.yml and the outputs
// the status playbook gathered from that cluster.
func loadRecorded(t *testing.T, name string) (*inventory.Inventory, map[string]HostOutputs) {
	t.Helper()
	dir := filepath.Join("testdata", "status", name)
	cfg, err := cluster.LoadConfig(filepath.Join(dir, "config.yml"))
	require.NoError(t, err)
	inv, err := cluster.FromConfig(cfg, "/clusters/"+name)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(dir, "outputs.json"))
	require.NoError(t, err)
	var outs map[string]HostOutputs
	require.NoError(t, json.Unmarshal(data, &outs))
	return inv, outs
}

func TestStatusGolden(t *testing.T) {
	for _, name := range []string{"patroni", "patroni-unreachable", "repmgr"} {
		t.Run(name, func(t *testing.T) {
			inv, outs := loadRecorded(t, name)
			topo := BuildTopology(inv, outs)
			var text, js bytes.Buffer
			topo.Text(&text)
			require.NoError(t, topo.JSON(&js))
			for file, got := range map[string][]byte{"status.golden": text.Bytes(), "status.json.golden": js.Bytes()} {
				golden := filepath.Join("testdata", "status", name, file)
				if *updateStatus {
					require.NoError(t, os.WriteFile(golden, got, 0o644))
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "go test ./architectures/m1 -run TestStatusGolden -update-status")
				assert.Equal(t, string(want), string(got), file)
			}
		})
	}
}

func TestStatusFacts(t *testing.T) {
	t.Run("patroni healthy", func(t *testing.T) {
		inv, outs := loadRecorded(t, "patroni")
		topo := BuildTopology(inv, outs)
		assert.Empty(t, topo.Problems)
		assert.Equal(t, "walrus", topo.Primary)
		assert.Equal(t, "walrus", topo.Node("peach").Postgres.Follows)
		assert.Equal(t, "peach", topo.Node("cobble").Postgres.Follows, "the cascaded replica streams from node 2")
		assert.True(t, topo.Node("cobble").Streaming())
		require.NotNil(t, topo.Node("cobble").Postgres.LagBytes)
		assert.Equal(t, "Leader", topo.Node("walrus").Manager.Role)
		assert.Equal(t, "peach", topo.Node("cobble").Manager.Upstream)
		assert.True(t, topo.Node("arrow").Etcd.Leader)
		assert.Equal(t, "OK", topo.Node("lagoon").Barman[0].Check)
		assert.Equal(t, "postgresql://10.214.1.18:5000,10.214.1.19:5000/postgres?connect_timeout=2&target_session_attrs=read-write", topo.Connect)
	})
	t.Run("repmgr with a failed replica", func(t *testing.T) {
		inv, outs := loadRecorded(t, "repmgr")
		topo := BuildTopology(inv, outs)
		assert.Equal(t, "panther", topo.Primary)
		assert.Equal(t, "down", topo.Node("rain").Postgres.State)
		assert.False(t, topo.Node("rain").Streaming())
		assert.Equal(t, int64(16384), *topo.Node("harbor").Postgres.LagBytes)
		assert.Equal(t, "failed", topo.Node("rain").Manager.State)
		assert.Equal(t, "witness", topo.Node("brass").Manager.Role)
		assert.Contains(t, topo.Connect, "10.214.251.11:5432,10.214.251.12:5432,10.214.251.14:5432,10.214.251.15:5432")
		assert.Contains(t, topo.Problems, "repmgr sees rain as standby failed")
		assert.Len(t, topo.Problems, 3, "%v", topo.Problems)
	})
	t.Run("two primaries", func(t *testing.T) {
		inv, outs := loadRecorded(t, "patroni")
		o := outs["peach"]
		pg := o.Tasks["postgres"]
		pg.Stdout = "S|f|15.5|0/9000000"
		o.Tasks["postgres"] = pg
		topo := BuildTopology(inv, outs)
		assert.Contains(t, topo.Problems, "more than one primary: walrus, peach")
	})
}

func TestCheckSwitchover(t *testing.T) {
	cases := []struct {
		recorded, node, wantErr string
	}{
		{"patroni", "peach", ""},
		{"patroni", "cobble", ""},
		{"patroni", "walrus", "walrus is already the primary; the replicas are: peach, cobble"},
		{"patroni", "lagoon", "lagoon is not a Postgres replica (role barman)"},
		{"patroni", "arrow", "arrow is not a Postgres replica (role etcd)"},
		{"patroni", "ember", "ember is not a Postgres replica (role haproxy)"},
		{"patroni", "nosuch", "nosuch is not a host of cluster p6dev"},
		{"patroni-unreachable", "cobble", "cobble cannot be reached"},
		{"repmgr", "violet", ""},
		{"repmgr", "rain", "rain is not a running replica (Postgres is down)"},
		{"repmgr", "brass", "brass is not a Postgres replica (role barman, witness)"},
	}
	for _, c := range cases {
		t.Run(c.recorded+"/"+c.node, func(t *testing.T) {
			inv, outs := loadRecorded(t, c.recorded)
			err := BuildTopology(inv, outs).CheckSwitchover(c.node)
			if c.wantErr == "" {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.wantErr)
			}
		})
	}
	t.Run("not streaming", func(t *testing.T) {
		inv, outs := loadRecorded(t, "patroni")
		o := outs["peach"].Tasks["postgres"]
		o.Stdout = strings.ReplaceAll(o.Stdout, "W|streaming|", "W|stopping|")
		outs["peach"].Tasks["postgres"] = o
		err := BuildTopology(inv, outs).CheckSwitchover("peach")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "peach is not streaming (WAL receiver: stopping)")
	})
}

func TestSwitchedOver(t *testing.T) {
	inv, outs := loadRecorded(t, "patroni")
	topo := BuildTopology(inv, outs)
	done, _ := topo.SwitchedOver("walrus")
	assert.True(t, done)
	done, why := topo.SwitchedOver("peach")
	assert.False(t, done)
	assert.Equal(t, "the primary is walrus", why)
}

// The last backup's age is read against barman_last_backup_maximum_age:
// the common role's default (1 WEEK), or the cluster's own setting.
func TestStatusBackupAge(t *testing.T) {
	inv, outs := loadRecorded(t, "patroni-unreachable")
	b := BuildTopology(inv, outs).Node("lagoon").Barman[0]
	require.NotNil(t, b.LastBackupAge)
	assert.Equal(t, int64(9*86400+3600), *b.LastBackupAge)
	assert.True(t, b.Stale)

	inv.Groups["all"].Vars["barman_last_backup_maximum_age"] = "2 WEEKS"
	topo := BuildTopology(inv, outs)
	assert.False(t, topo.Node("lagoon").Barman[0].Stale)
	for _, p := range topo.Problems {
		assert.NotContains(t, p, "last backup")
	}

	for in, want := range map[string]int64{"1 WEEK": 7 * 86400, "3 days": 3 * 86400, "1 month": 31 * 86400, " 2 Weeks ": 14 * 86400} {
		got, ok := barmanInterval(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "WEEK", "1 fortnight", "-1 days"} {
		_, ok := barmanInterval(in)
		assert.False(t, ok, in)
	}
}

// Status finds Barman by its role, not by node number: in current TPA's
// layout (--data-nodes-per-location) Barman is node N+1 and also the log
// server, and status reads the same.
func TestStatusBarmanAnywhereAndLogServer(t *testing.T) {
	inv, outs := loadRecorded(t, "repmgr")
	var want bytes.Buffer
	BuildTopology(inv, outs).Text(&want)
	require.Contains(t, want.String(), "brass (node 3,")

	brass := inv.Hosts["brass"]
	require.Contains(t, strList(brass.Vars["role"]), "barman")
	brass.Vars["role"] = []any{"barman", "log-server", "witness"}
	brass.Vars["node"] = 9
	topo := BuildTopology(inv, outs)
	var got bytes.Buffer
	topo.Text(&got)
	assert.Equal(t, strings.Replace(want.String(), "brass (node 3,", "brass (node 9,", -1), got.String())
	assert.Equal(t, []string{"barman", "log-server", "witness"}, topo.Node("brass").Roles)
	assert.NotEmpty(t, topo.Node("brass").Barman)
}

package cluster

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/inventory"
)

// -update-config rewrites the golden files (its own name: other tests of this
// package may have their own -update).
var updateConfigGolden = flag.Bool("update-config", false, "rewrite testdata/config/*.inventory.golden")

// TestFromConfigGolden turns each testdata/config/*.yml into an inventory
// and compares Save's output with *.inventory.golden.
func TestFromConfigGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/config/*.yml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yml")
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadConfig(f)
			require.NoError(t, err)
			inv, err := FromConfig(cfg, "/clusters/"+cfg.ClusterName)
			require.NoError(t, err)
			out := filepath.Join(t.TempDir(), "inventory.yml")
			require.NoError(t, inventory.Save(inv, out))
			got, err := os.ReadFile(out)
			require.NoError(t, err)

			golden := strings.TrimSuffix(f, ".yml") + ".inventory.golden"
			if *updateConfigGolden {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./inventory -update-config to create it")
			assert.Equal(t, string(want), string(got))

			// The saved inventory is plain YAML an Ansible user can read:
			// every host under all.hosts, every group under all.children.
			var doc struct {
				All struct {
					Vars     map[string]any            `yaml:"vars"`
					Hosts    map[string]map[string]any `yaml:"hosts"`
					Children map[string]struct {
						Hosts map[string]any `yaml:"hosts"`
					} `yaml:"children"`
				} `yaml:"all"`
			}
			require.NoError(t, yaml.Unmarshal(got, &doc))
			assert.Len(t, doc.All.Hosts, len(cfg.Instances))
			assert.Equal(t, cfg.ClusterName, doc.All.Vars["cluster_name"])
			for _, in := range cfg.Instances {
				require.Contains(t, doc.All.Hosts, in.Name)
				for _, r := range in.Role {
					assert.Contains(t, doc.All.Children["role_"+r].Hosts, in.Name)
					assert.Contains(t, doc.All.Children[r].Hosts, in.Name)
				}
			}
		})
	}
}

func TestFromConfigVars(t *testing.T) {
	cfg, err := LoadConfig("testdata/config/tpa-handwritten.yml")
	require.NoError(t, err)
	dir := t.TempDir()
	inv, err := FromConfig(cfg, dir)
	require.NoError(t, err)

	assert.Equal(t, []string{"quilt", "ledger", "barrow", "tally"}, inv.Order)
	all := inv.Groups["all"].Vars
	assert.Equal(t, "speedy", all["cluster_name"])
	assert.Equal(t, "M1", all["architecture"])
	assert.Equal(t, dir, all["cluster_dir"])
	assert.Equal(t, "repmgr", all["failover_manager"])
	assert.Equal(t, "15", all["postgres_version"])
	assert.Equal(t, []any{map[string]any{"Name": "first"}, map[string]any{"Name": "second"}}, all["locations"])

	q := inv.Hosts["quilt"].Vars
	assert.Equal(t, "admin", q["ansible_user"], "the instance's vars win over instance_defaults")
	assert.Equal(t, "python3", q["preferred_python_version"], "instance_defaults.vars apply")
	assert.Equal(t, "192.168.56.11", q["ansible_host"])
	assert.Equal(t, "192.168.56.11", q["ip_address"])
	assert.Equal(t, 1, q["node"])
	assert.Equal(t, "first", q["location"])
	assert.Equal(t, []any{"primary"}, q["role"])
	assert.Equal(t, "barrow", q["backup"])
	assert.Equal(t, "bare", q["platform"])
	assert.Equal(t, filepath.Join(dir, "id_speedy"), q["ansible_ssh_private_key_file"])
	assert.Equal(t, filepath.Join(dir, "known_hosts"), q["ansible_ssh_known_hosts_file"])

	l := inv.Hosts["ledger"].Vars
	assert.Equal(t, "debian", l["ansible_user"])
	assert.Equal(t, "quilt", l["upstream"])

	b := inv.Hosts["barrow"].Vars
	assert.Equal(t, "barrow.lab.example", b["ansible_host"], "the user's own ansible_host wins")
	assert.Equal(t, "192.168.56.13", b["ip_address"])

	tally := inv.Hosts["tally"].Vars
	assert.Equal(t, "docker", tally["platform"])
	assert.NotContains(t, tally, "ansible_host", "no address, no ansible_host")
	assert.NotContains(t, tally, "location")

	assert.Equal(t, []string{"quilt"}, inv.Groups["primary"].Hosts)
	assert.Equal(t, []string{"quilt"}, inv.Groups["role_primary"].Hosts)
	assert.Equal(t, []string{"ledger", "tally"}, inv.Groups["replica"].Hosts)
	assert.Equal(t, []string{"barrow"}, inv.Groups["witness"].Hosts)
	assert.Equal(t, []string{"quilt", "ledger", "barrow", "tally"}, inv.Groups["postgres"].Hosts, "the repmgr witness runs Postgres")
	assert.Equal(t, []string{"quilt", "ledger"}, inv.Groups["location_first"].Hosts)
	assert.Equal(t, []string{"barrow"}, inv.Groups["location_second"].Hosts)
	assert.Equal(t, []string{"role_primary", "primary", "location_first", "postgres"}, inv.Hosts["quilt"].Groups)

	// The inventory shares nothing mutable with the config.
	q["postgres_conf_settings"].(map[string]any)["work_mem"] = "1GB"
	assert.Equal(t, "8MB", cfg.Instances[0].Vars["postgres_conf_settings"].(map[string]any)["work_mem"])
	all["postgres_conf_settings"].(map[string]any)["max_connections"] = 1
	assert.EqualValues(t, 150, cfg.ClusterVars["postgres_conf_settings"].(map[string]any)["max_connections"])
}

func TestFromConfigDefaultUser(t *testing.T) {
	cfg := &Config{
		Architecture: "M1", ClusterName: "c",
		InstanceDefaults: InstanceDefaults{Platform: "bare"},
		Instances:        []Instance{{Name: "a", Node: 1, Role: []string{"primary"}}, {Name: "b", Node: 2}},
	}
	inv, err := FromConfig(cfg, "/x")
	require.NoError(t, err)
	assert.Equal(t, "root", inv.Hosts["a"].Vars["ansible_user"])
	assert.Equal(t, []string{"b"}, inv.Groups["ungrouped"].Hosts, "a host with no role is ungrouped")
}

func TestFromConfigRefusesInvalid(t *testing.T) {
	cfg := &Config{Architecture: "M1", ClusterName: "c", InstanceDefaults: InstanceDefaults{Platform: "bare"},
		Instances: []Instance{{Name: "a", Node: 1, Role: []string{"primary"}, Upstream: "nobody"}}}
	_, err := FromConfig(cfg, "/x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `instances[0].upstream: upstream "nobody" names no instance`)
	_, err = FromConfig(nil, "/x")
	require.Error(t, err)
}

func BenchmarkLoadConfigFromConfigMarshal(b *testing.B) {
	for b.Loop() {
		cfg, err := LoadConfig("testdata/config/docker-patroni-haproxy.yml")
		if err != nil {
			b.Fatal(err)
		}
		inv, err := FromConfig(cfg, "/clusters/demo")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := inventory.Marshal(inv); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSaveLoadRoundTrip: what Save writes, the Ansible inventory loader
// reads back with the same hosts, groups and variables.
func TestSaveLoadRoundTrip(t *testing.T) {
	cfg, err := LoadConfig("testdata/config/docker-patroni-haproxy.yml")
	require.NoError(t, err)
	dir := t.TempDir()
	inv, err := FromConfig(cfg, dir)
	require.NoError(t, err)
	path := filepath.Join(dir, "inventory.yml")
	require.NoError(t, inventory.Save(inv, path))

	back, err := inventory.Load(path)
	require.NoError(t, err)
	assert.Equal(t, inv.Order, back.Order)
	for _, h := range inv.Order {
		assert.Equal(t, inv.Hosts[h].Vars["ansible_host"], back.Hosts[h].Vars["ansible_host"], h)
		assert.EqualValues(t, inv.Hosts[h].Vars["node"], back.Hosts[h].Vars["node"], h)
		assert.Equal(t, inv.Hosts[h].Vars["role"], back.Hosts[h].Vars["role"], h)
	}
	for _, g := range []string{"primary", "replica", "etcd", "haproxy", "postgres", "location_main", "location_dr"} {
		require.Contains(t, back.Groups, g)
		assert.Equal(t, inv.Groups[g].Hosts, back.Groups[g].Hosts, g)
	}
	assert.Equal(t, "patroni", back.Groups["all"].Vars["failover_manager"])
}

package m1

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/engine/template"
	"github.com/tpago/tpago/inventory"
	"github.com/tpago/tpago/roles"
	"github.com/tpago/tpago/yamlx"
)

var updateTemplates = flag.Bool("update-templates", false, "rewrite the role template golden files")

// roleDefaults reads a built-in role's defaults/main.yml.
func roleDefaults(t *testing.T, role string) map[string]any {
	t.Helper()
	data, err := fs.ReadFile(roles.FS, role+"/defaults/main.yml")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	n, err := yamlx.ParseOne(role+"/defaults/main.yml", data)
	require.NoError(t, err)
	m, _ := n.Plain().(map[string]any)
	return m
}

// hostScope is what a role's template sees on host h: the common and the
// role's defaults, then the inventory's variables, the host's own, groups,
// hostvars and extra (registered results and the like).
func hostScope(t *testing.T, inv *inventory.Inventory, role, h string, extra map[string]any) map[string]any {
	t.Helper()
	base := map[string]any{}
	for _, r := range []string{"common", role} {
		for k, v := range roleDefaults(t, r) {
			base[k] = v
		}
	}
	for k, v := range inv.Groups["all"].Vars {
		base[k] = v
	}
	groups := map[string]any{}
	for name, g := range inv.Groups {
		l := make([]any, 0, len(g.Hosts))
		for _, x := range g.Hosts {
			l = append(l, x)
		}
		groups[name] = l
	}
	all := make([]any, 0, len(inv.Order))
	for _, x := range inv.Order {
		all = append(all, x)
	}
	groups["all"] = all
	hostvars := map[string]any{}
	for _, name := range inv.Order {
		hv := map[string]any{}
		for k, v := range base {
			hv[k] = v
		}
		for k, v := range inv.Hosts[name].Vars {
			hv[k] = v
		}
		hv["inventory_hostname"] = name
		hostvars[name] = hv
	}
	vars := map[string]any{}
	for k, v := range hostvars[h].(map[string]any) {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	vars["groups"] = groups
	vars["hostvars"] = hostvars
	return vars
}

func clusterInventory(t *testing.T, opts Options) *inventory.Inventory {
	t.Helper()
	data, err := Generate(opts)
	require.NoError(t, err)
	cfg, err := cluster.ParseConfig("config.yml", data)
	require.NoError(t, err)
	inv, err := cluster.FromConfig(cfg, "/clusters/"+opts.ClusterName)
	require.NoError(t, err)
	return inv
}

// TestRoleTemplatesGolden renders the EFM, Patroni, etcd and HAProxy
// templates for clusters made by configure and compares them with
// testdata/templates. EFM cannot be installed on test machines (it needs
// EDB's repositories), so these files are what proves its configuration.
func TestRoleTemplatesGolden(t *testing.T) {
	opts := func(fm string, n int, haproxy bool) Options {
		o := DefaultOptions()
		o.ClusterName = "gold"
		o.PostgresVersion = "15"
		o.FailoverManager = fm
		o.Platform = "docker"
		o.Subnet = "10.214.250.0/24"
		o.NumCascadedReplicas = n
		o.EnableHAProxy = haproxy
		o.Hostnames = []string{"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
		return o
	}
	efmExtra := map[string]any{"efm_db_password_encrypted": "0123456789abcdef0123456789abcdef"}
	patroniExtra := map[string]any{"patroni_passwords": map[string]any{
		"postgres": "pgpw", "replication": "replpw", "barman": "bpw", "streaming_barman": "sbpw"}}
	userSettings := map[string]any{
		"postgres_hba_settings": []any{"host all app 10.1.0.0/16 scram-sha-256", "hostssl all \"we're\" 10.2.0.1/32 cert"},
		"patroni_dcs_settings":  map[string]any{"synchronous_mode": true, "failsafe_mode": true, "master_start_timeout": 60},
	}
	cases := []struct {
		name     string
		opts     Options
		role     string
		template string
		hosts    []string
		extra    map[string]any
	}{
		// 2 cascaded replicas: 4 Postgres nodes, so Barman is also the witness.
		{"efm-n2", opts("efm", 2, false), "efm", "efm.properties.j2", []string{"one", "two", "three", "four"}, efmExtra},
		{"efm-n2", opts("efm", 2, false), "efm", "efm.nodes.j2", []string{"one"}, efmExtra},
		{"efm-n1", opts("efm", 1, false), "efm", "efm.nodes.j2", []string{"one"}, efmExtra},
		{"patroni-n1", opts("patroni", 1, true), "patroni", "patroni.yml.j2", []string{"one", "two", "four"}, patroniExtra},
		{"patroni-n1", opts("patroni", 1, true), "etcd", "etcd.j2", []string{"five"}, nil},
		{"patroni-n1", opts("patroni", 1, true), "haproxy", "haproxy.cfg.j2", []string{"eight"}, nil},
		// The user's pg_hba.conf lines and Patroni's cluster-wide settings.
		{"patroni-settings", opts("patroni", 0, false), "patroni", "patroni.yml.j2", []string{"one"}, withMaps(patroniExtra, userSettings)},
		{"repmgr-settings", opts("repmgr", 0, false), "postgres", "pg_hba.conf.j2", []string{"one"}, userSettings},
	}
	for _, c := range cases {
		inv := clusterInventory(t, c.opts)
		src, err := fs.ReadFile(roles.FS, path.Join(c.role, "templates", c.template))
		require.NoError(t, err)
		tpl, err := template.Parse(c.template, string(src))
		require.NoError(t, err)
		for _, h := range c.hosts {
			t.Run(c.name+"/"+h+"/"+c.template, func(t *testing.T) {
				got, err := tpl.Render(hostScope(t, inv, c.role, h, c.extra))
				require.NoError(t, err)
				golden := filepath.Join("testdata", "templates", c.name, h+"."+c.template[:len(c.template)-3])
				if *updateTemplates {
					require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
					require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "no golden file: go test ./architectures/m1 -run TestRoleTemplatesGolden -update-templates")
				assert.Equal(t, string(want), got)
			})
		}
	}
}

// TestEFMNeedsEDBToken: without edb_repo_token the EFM role stops with a
// message that says what to configure, before any task that touches a host.
func TestEFMNeedsEDBToken(t *testing.T) {
	data, err := fs.ReadFile(roles.FS, "efm/tasks/check.yml")
	require.NoError(t, err)
	assert.Contains(t, string(data), "edb_repo_token")
	main, err := fs.ReadFile(roles.FS, "efm/tasks/main.yml")
	require.NoError(t, err)
	n, err := yamlx.ParseOne("efm/tasks/main.yml", main)
	require.NoError(t, err)
	tasks, _ := n.Plain().([]any)
	require.NotEmpty(t, tasks)
	first, _ := tasks[0].(map[string]any)
	assert.Equal(t, "check.yml", first["import_tasks"], "the EFM role must check for the token first")
}

// TestPatroniPlaybooksSafeForAnyCluster: deploy.yml and test.yml import
// patroni.yml and patroni-test.yml for every cluster, so each play must
// target only groups that exist with Patroni (etcd, haproxy) or do
// nothing unless failover_manager is patroni.
func TestPatroniPlaybooksSafeForAnyCluster(t *testing.T) {
	o := DefaultOptions()
	o.ClusterName, o.PostgresVersion, o.FailoverManager, o.Platform = "rep", "15", "repmgr", "docker"
	inv := clusterInventory(t, o)
	for _, file := range []string{"patroni.yml", "patroni-test.yml"} {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		n, err := yamlx.ParseOne(file, data)
		require.NoError(t, err)
		plays, _ := n.Plain().([]any)
		require.NotEmpty(t, plays)
		for _, p := range plays {
			play := p.(map[string]any)
			hosts := strList(play["hosts"])
			var matched []string
			for _, h := range hosts {
				m, err := inv.Match(h)
				require.NoError(t, err)
				matched = append(matched, m...)
			}
			if len(matched) == 0 {
				continue
			}
			guarded := func(v any) bool {
				m, ok := v.(map[string]any)
				return ok && m["when"] == "failover_manager == 'patroni'"
			}
			ok := true
			for _, r := range asList(play["roles"]) {
				ok = ok && guarded(r)
			}
			for _, task := range asList(play["tasks"]) {
				ok = ok && guarded(task)
			}
			assert.True(t, ok, "%s: play %q runs on %v of a repmgr cluster without `when: failover_manager == 'patroni'`", file, play["name"], matched)
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// withMaps merges maps into a new one, later ones winning.
func withMaps(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

package m1

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
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

// TestRoleTemplatesGolden renders the EFM, Patroni, etcd, HAProxy, repmgr,
// Barman and rsyslog templates for clusters made by configure and compares them with
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
	// Current TPA's layout: node 3 (three) is Barman, the log server and
	// the witness; four and five are in the second location.
	dataNodes := opts("repmgr", 1, false)
	dataNodes.DataNodesPerLocation = 2
	dataNodes.LocationNames = []string{"main", "dr"}
	efmExtra := map[string]any{"efm_db_password_encrypted": "0123456789abcdef0123456789abcdef"}
	patroniExtra := map[string]any{"patroni_passwords": map[string]any{
		"postgres": "pgpw", "replication": "replpw", "barman": "bpw", "streaming_barman": "sbpw"}}
	userSettings := map[string]any{
		"postgres_hba_settings": []any{"host all app 10.1.0.0/16 scram-sha-256", "hostssl all \"we're\" 10.2.0.1/32 cert"},
		"patroni_dcs_settings":  map[string]any{"synchronous_mode": true, "failsafe_mode": true, "master_start_timeout": 60},
	}
	// The pass-through settings of each file (TPA's *_conf_settings): each
	// replaces one of our keys and adds others.
	confSettings := map[string]any{
		"repmgr_conf_settings": map[string]any{"log_level": "DEBUG", "reconnect_attempts": 6, "use_replication_slots": false,
			"event_notification_command": "/usr/local/bin/notify '%n' %e"},
		"efm_conf_settings": map[string]any{"notification.level": "WARNING", "auto.failover": false, "jvm.options": "-Xmx256m",
			"script.fence": "/usr/local/bin/fence %p"},
		"barman_conf_settings": map[string]any{"last_backup_maximum_age": "2 WEEKS", "immediate_checkpoint": true, "reuse_backup": "link"},
		"patroni_conf_settings": map[string]any{
			"restapi":   map[string]any{"listen": "127.0.0.1:8008", "authentication": map[string]any{"username": "admin", "password": "it's"}},
			"bootstrap": map[string]any{"dcs": map[string]any{"ttl": 60}},
			"log":       map[string]any{"level": "DEBUG"},
			"tags":      map[string]any{"nosync": true},
		},
		"barman_backup_interval": "30 2 * * *",
	}
	barmanOne := map[string]any{"item": "one", "current_primary": "one"}
	// Set by the repmgr role's task.
	repmgrExtra := map[string]any{"repmgr_conninfo": "host=10.214.250.11 port=5432 user=repmgr dbname=repmgr"}
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
		// Our repmgr.conf, Barman server section and backup schedule.
		{"repmgr-n0", opts("repmgr", 0, false), "repmgr", "repmgr.conf.j2", []string{"one"}, repmgrExtra},
		{"repmgr-n0", opts("repmgr", 0, false), "barman", "server.conf.j2", []string{"three"}, barmanOne},
		{"repmgr-n0", opts("repmgr", 0, false), "barman", "backup.cron.j2", []string{"three"}, barmanOne},
		// The same files and EFM's and Patroni's with the user's settings.
		{"conf-settings", opts("repmgr", 0, false), "repmgr", "repmgr.conf.j2", []string{"one"}, withMaps(repmgrExtra, confSettings)},
		{"conf-settings", opts("repmgr", 0, false), "barman", "server.conf.j2", []string{"three"}, withMaps(barmanOne, confSettings)},
		{"conf-settings", opts("repmgr", 0, false), "barman", "backup.cron.j2", []string{"three"}, withMaps(barmanOne, confSettings)},
		{"conf-settings", opts("efm", 0, false), "efm", "efm.properties.j2", []string{"one"}, withMaps(efmExtra, confSettings)},
		{"conf-settings", opts("patroni", 0, false), "patroni", "patroni.yml.j2", []string{"one"}, withMaps(patroniExtra, confSettings)},
		// rsyslog: the log server, and a host forwarding to it.
		{"log-server", dataNodes, "log_server", "log-server.conf.j2", []string{"three"}, nil},
		{"log-server", dataNodes, "log_server", "forward.conf.j2", []string{"one", "five"}, nil},
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

// renderRole renders a built-in role's template on host h of a cluster
// made by configure.
func renderRole(t *testing.T, o Options, role, tmpl, h string, extra map[string]any) string {
	t.Helper()
	src, err := fs.ReadFile(roles.FS, path.Join(role, "templates", tmpl))
	require.NoError(t, err)
	tpl, err := template.Parse(tmpl, string(src))
	require.NoError(t, err)
	got, err := tpl.Render(hostScope(t, clusterInventory(t, o), role, h, extra))
	require.NoError(t, err)
	return got
}

// linesWith are the lines of text that set key (key=value or key = value).
func linesWith(text, key string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if k, _, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			out = append(out, l)
		}
	}
	return out
}

// TestConfSettingsReplaceOurs: a key of repmgr_conf_settings,
// efm_conf_settings, barman_conf_settings or patroni_conf_settings that we
// also write is written once, with the user's value; the keys we write
// that the user did not name stay.
func TestConfSettingsReplaceOurs(t *testing.T) {
	o := DefaultOptions()
	o.ClusterName, o.PostgresVersion, o.Platform, o.Subnet = "gold", "15", "docker", "10.214.250.0/24"
	o.Hostnames = []string{"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	withFM := func(fm string) Options { x := o; x.FailoverManager = fm; return x }

	repmgr := renderRole(t, withFM("repmgr"), "repmgr", "repmgr.conf.j2", "one", map[string]any{
		"repmgr_conninfo":      "host=x",
		"repmgr_conf_settings": map[string]any{"reconnect_attempts": 6, "log_level": "DEBUG", "failover": "manual", "use_replication_slots": false},
	})
	assert.Equal(t, []string{"reconnect_attempts=6"}, linesWith(repmgr, "reconnect_attempts"))
	assert.Equal(t, []string{"log_level='DEBUG'"}, linesWith(repmgr, "log_level"))
	assert.Equal(t, []string{"failover='manual'"}, linesWith(repmgr, "failover"))
	assert.Equal(t, []string{"use_replication_slots=false"}, linesWith(repmgr, "use_replication_slots"))
	assert.Equal(t, []string{"reconnect_interval=2"}, linesWith(repmgr, "reconnect_interval"))

	efm := renderRole(t, withFM("efm"), "efm", "efm.properties.j2", "one", map[string]any{
		"efm_db_password_encrypted": "x",
		"efm_conf_settings":         map[string]any{"notification.level": "WARNING", "auto.failover": false, "new.key": 1},
	})
	assert.Equal(t, []string{"notification.level=WARNING"}, linesWith(efm, "notification.level"))
	assert.Equal(t, []string{"auto.failover=false"}, linesWith(efm, "auto.failover"))
	assert.Equal(t, []string{"new.key=1"}, linesWith(efm, "new.key"))
	assert.Equal(t, []string{"auto.reconfigure=true"}, linesWith(efm, "auto.reconfigure"))

	barman := renderRole(t, withFM("repmgr"), "barman", "server.conf.j2", "three", map[string]any{
		"item": "one", "current_primary": "one",
		"barman_conf_settings": map[string]any{"last_backup_maximum_age": "2 WEEKS", "slot_name": "mine", "immediate_checkpoint": true},
	})
	assert.Equal(t, []string{"last_backup_maximum_age = 2 WEEKS"}, linesWith(barman, "last_backup_maximum_age"))
	assert.Equal(t, []string{"slot_name = mine"}, linesWith(barman, "slot_name"))
	assert.Equal(t, []string{"immediate_checkpoint = true"}, linesWith(barman, "immediate_checkpoint"))
	assert.Equal(t, []string{"create_slot = auto"}, linesWith(barman, "create_slot"))

	patroni := renderRole(t, withFM("patroni"), "patroni", "patroni.yml.j2", "one", map[string]any{
		"patroni_passwords": map[string]any{"postgres": "pgpw", "replication": "replpw"},
		"patroni_conf_settings": map[string]any{
			"restapi":    map[string]any{"listen": "127.0.0.1:8008"},
			"bootstrap":  map[string]any{"dcs": map[string]any{"ttl": 60}},
			"postgresql": map[string]any{"basebackup": []any{map[string]any{"max-rate": "100M"}}},
			"log":        map[string]any{"level": "DEBUG"},
		},
	})
	n, err := yamlx.ParseOne("patroni.yml", []byte(patroni))
	require.NoError(t, err, patroni)
	y := n.Plain().(map[string]any)
	get := func(keys ...string) any {
		var v any = y
		for _, k := range keys {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		return v
	}
	assert.Equal(t, "127.0.0.1:8008", get("restapi", "listen"))
	assert.Equal(t, "10.214.250.11:8008", get("restapi", "connect_address"), "nested maps are merged")
	assert.EqualValues(t, 60, get("bootstrap", "dcs", "ttl"))
	assert.EqualValues(t, 10, get("bootstrap", "dcs", "loop_wait"))
	assert.Equal(t, "on", get("bootstrap", "dcs", "postgresql", "parameters", "wal_log_hints"), "'on' stays a string")
	assert.Equal(t, []any{map[string]any{"max-rate": "100M"}}, get("postgresql", "basebackup"), "a list replaces ours")
	assert.Equal(t, "DEBUG", get("log", "level"))
	assert.Equal(t, "gold", get("scope"))
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

package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goodConfig is a valid docker M1 config; the bad cases below change one
// thing in it.
const goodConfig = `architecture: M1
cluster_name: demo
ec2_instance_reachability: public
cluster_vars:
  failover_manager: repmgr
  postgres_version: "15"
locations:
  - Name: main
  - Name: dr
instance_defaults:
  platform: docker
  vars:
    ansible_user: root
docker_networks:
  - name: demo
    ipam_config:
      - subnet: 10.200.1.0/24
instances:
  - Name: one
    node: 1
    location: main
    role: [primary]
    backup: three
    ip_address: 10.200.1.11
  - Name: two
    node: 2
    location: main
    role: [replica]
    upstream: one
    ip_address: 10.200.1.12
  - Name: three
    node: 3
    location: dr
    role: [barman, witness]
    ip_address: 10.200.1.13
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

func TestLoadConfigGood(t *testing.T) {
	path := writeConfig(t, goodConfig)
	cfg, err := LoadConfig(path)
	require.NoError(t, err)
	assert.Equal(t, "M1", cfg.Architecture)
	assert.Equal(t, "demo", cfg.ClusterName)
	assert.Equal(t, "15", cfg.ClusterVars["postgres_version"])
	assert.Equal(t, []string{"main", "dr"}, cfg.LocationNames())
	require.Len(t, cfg.Instances, 3)
	assert.Equal(t, []string{"barman", "witness"}, cfg.Instances[2].Role)
	assert.Equal(t, "one", cfg.Instance("two").Upstream)
	assert.Nil(t, cfg.Instance("four"))
	assert.Equal(t, "docker", cfg.PlatformOf(&cfg.Instances[0]))
	assert.Equal(t, map[string]any{"ec2_instance_reachability": "public"}, cfg.Extra, "unknown top-level keys are kept, not errors")
	assert.Equal(t, path, cfg.Path())
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // goodConfig with old replaced by new
		want     string // the first error's first line, after the path
	}{
		{"unknown architecture", "architecture: M1", "architecture: M9", `:1:15: unknown architecture "M9" (tpago knows: M1)`},
		{"no architecture", "architecture: M1\n", "", `:1:1: architecture is missing (tpago knows: M1)`},
		{"no cluster name", "cluster_name: demo\n", "", `:1:1: cluster_name is missing`},
		{"bad cluster name", "cluster_name: demo", "cluster_name: 'my demo'", `:2:15: cluster_name "my demo" is not a valid name`},
		{"duplicate name", "  - Name: three", "  - Name: two", `:31:11: duplicate instance Name "two" (first at line 25)`},
		{"bad name", "  - Name: three", "  - Name: thr_ee", `:31:11: instance Name "thr_ee" is not a valid hostname (letters, digits and '-')`},
		{"duplicate ip", "ip_address: 10.200.1.13", "ip_address: 10.200.1.11", `:35:17: duplicate ip_address 10.200.1.11 (first at line 24)`},
		{"bad ip", "ip_address: 10.200.1.13", "ip_address: 10.200.1.300", `:35:17: ip_address "10.200.1.300" is not an IP address`},
		{"ip outside subnet", "ip_address: 10.200.1.13", "ip_address: 10.200.2.13", `:35:17: ip_address 10.200.2.13 is not in the docker_networks subnet 10.200.1.0/24`},
		{"bad subnet", "subnet: 10.200.1.0/24", "subnet: 10.200.1.0", `:17:17: subnet "10.200.1.0" is not a CIDR prefix such as 10.200.1.0/24`},
		{"unknown role", "role: [barman, witness]", "role: [barman, witnes]", `:34:20: unknown role "witnes" (one of barman, efm-witness, etcd, haproxy, log-server, pgbouncer, primary, replica, witness)`},
		{"upstream names nothing", "upstream: one", "upstream: uno", `:29:15: upstream "uno" names no instance`},
		{"upstream to itself", "upstream: one", "upstream: two", `:29:15: instance two cannot be its own upstream`},
		{"upstream not postgres", "upstream: one", "upstream: three", `:29:15: upstream "three" is not a Postgres primary or replica`},
		{"replica without upstream", "    upstream: one\n", "", `:25:5: replica two needs an upstream (the instance it streams from)`},
		{"backup names nothing", "backup: three", "backup: four", `:23:13: backup "four" names no instance`},
		{"backup not barman", "backup: three", "backup: two", `:23:13: backup "two" is not a barman instance`},
		{"duplicate node", "node: 3", "node: 2", `:32:11: duplicate node number 2 (first at line 26)`},
		{"no node", "    node: 3\n", "", `:31:5: instance three needs a node number (a positive integer)`},
		{"node not a number", "node: 3", "node: three", `:32:11: node: cannot use "three" here: expected a whole number`},
		{"bad default platform", "platform: docker", "platform: vagrant", `:11:13: unknown platform "vagrant" (one of aws, bare, docker)`},
		{"bad instance platform", "    node: 3\n", "    node: 3\n    platform: lxd\n", `:33:15: unknown platform "lxd" (one of aws, bare, docker)`},
		{"no platform", "  platform: docker\n", "", `:18:5: instance one has no platform: set instance_defaults.platform (or the instance's platform) to one of aws, bare, docker`},
		{"unknown location", "location: dr", "location: paris", `:33:15: location "paris" is not one of the locations (main, dr)`},
		{"duplicate location", "  - Name: dr", "  - Name: main", `:9:11: duplicate location Name "main" (first at line 8)`},
		{"unknown failover manager", "failover_manager: repmgr", "failover_manager: pacemaker", `:5:21: unknown failover_manager pacemaker (one of efm, patroni, repmgr)`},
		{"two primaries", "role: [replica]", "role: [primary]", `:28:11: instance two is a second primary: an M1 cluster has one`},
		{"no instances", goodConfig[strings.Index(goodConfig, "instances:"):], "instances: []\n", `:18:12: no instances: a cluster needs at least one`},
		{"not a mapping", goodConfig, "- a\n- b\n", `:1:1: a config.yml must be a mapping of keys`},
		{"empty", goodConfig, "# nothing\n", `:1:1: the file is empty`},
		{"syntax error", "cluster_name: demo", "cluster_name: [demo", `:3:1: ',' or ']' must be specified`},
		{"duplicate key", "ec2_instance_reachability: public", "cluster_name: again", `:3:1: mapping key "cluster_name" already defined at [2:1]`},
		{"role not a list", "role: [barman, witness]", "role: {barman: 1}", `:34:11: role: mapping was used where sequence is expected`},
		{"names that differ by case", "  - Name: three", "  - Name: TWO", `:31:11: instance Name "TWO" differs from "two" only by case`},
		{"localhost", "  - Name: three", "  - Name: localhost", `:31:11: instance Name localhost is the machine tpago runs on`},
		{"all digits", "  - Name: three", "  - Name: '1234'", `:31:11: instance Name "1234" is all digits`},
		{"a group's name", "  - Name: three", "  - Name: replica", `:31:11: instance Name "replica" is the name of an inventory group`},
		{"a role group's name has '_'", "  - Name: three", "  - Name: role_barman", `:31:11: instance Name "role_barman" is not a valid hostname`},
		{"the postgres group", "  - Name: three", "  - Name: postgres", `:31:11: instance Name "postgres" is the name of an inventory group`},
		{"efm-witness", "  - Name: three", "  - Name: efm-witness", `:31:11: instance Name "efm-witness" is the name of an inventory group`},
		{"all", "  - Name: three", "  - Name: all", `:31:11: instance Name "all" is the name of an inventory group`},
		{"unknown instance key", "ip_address: 10.200.1.13", "ip_adress: 10.200.1.13", `:35:5: unknown key "ip_adress" in an instance; did you mean ip_address?`},
		{"instance key in the wrong case", "    node: 3", "    Node: 3", `:32:5: unknown key "Node" in an instance; did you mean node?`},
		{"unknown defaults key", "  platform: docker", "  platform: docker\n  imgae: x", `:12:3: unknown key "imgae" in instance_defaults; did you mean image?`},
		{"node not whole", "node: 3", "node: 2.5", `:32:11: node: 2.5 is not a whole number`},
		{"second document", goodConfig, goodConfig + "---\nfoo: 1\n", `:37:1: a second YAML document`},
		{"empty role list", "role: [barman, witness]", "role: []", `:34:11: instance three: role is an empty list`},
		{"duplicate role", "role: [barman, witness]", "role: [barman, barman]", `:34:20: role "barman" is listed twice`},
		{"postgres_version not a number", `postgres_version: "15"`, "postgres_version: abc", `:6:21: postgres_version abc is not a version number`},
		{"network address", "ip_address: 10.200.1.13", "ip_address: 10.200.1.0", `:35:17: ip_address 10.200.1.0 is the network address of the docker network 10.200.1.0/24`},
		{"gateway", "ip_address: 10.200.1.13", "ip_address: 10.200.1.1", `:35:17: ip_address 10.200.1.1 is the gateway of the docker network`},
		{"broadcast", "ip_address: 10.200.1.13", "ip_address: 10.200.1.255", `:35:17: ip_address 10.200.1.255 is the broadcast address of the docker network`},
		{"settings not a mapping", `  postgres_version: "15"`, "  postgres_version: \"15\"\n  postgres_conf_settings: notamap", `:7:27: postgres_conf_settings must be a mapping (name: value), not the string "notamap"`},
		{"instance settings not a mapping", "ip_address: 10.200.1.13", "ip_address: 10.200.1.13\n    vars:\n      postgres_conf_settings: [a]", `:37:31: postgres_conf_settings must be a mapping (name: value), not a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, goodConfig, tt.old)
			text := strings.Replace(goodConfig, tt.old, tt.new, 1)
			path := writeConfig(t, text)
			_, err := LoadConfig(path)
			require.Error(t, err)
			// One of the errors is the one expected.
			var all []*ConfigError
			var ces ConfigErrors
			var one *ConfigError
			switch {
			case errors.As(err, &ces):
				all = ces
			case errors.As(err, &one):
				all = []*ConfigError{one}
			default:
				t.Fatalf("not a ConfigError: %v", err)
			}
			var ce *ConfigError
			for _, e := range all {
				if strings.HasPrefix(strings.SplitN(e.Error(), "\n", 2)[0], path+tt.want) {
					ce = e
				}
			}
			require.NotNil(t, ce, "want %s%s\ngot\n%v", path, tt.want, err)
			// Every error shows the line with a caret under the column.
			assert.Contains(t, ce.Snippet, "^")
			lines := strings.Split(ce.Snippet, "\n")
			caret := lines[len(lines)-1]
			at := lines[len(lines)-2]
			col := strings.Index(caret, "^") - strings.Index(caret, "| ") - 2 + 1
			assert.Equal(t, ce.Column, col, "caret under the column:\n%s", ce.Snippet)
			assert.True(t, strings.HasPrefix(at, ">"), "the line itself is marked:\n%s", ce.Snippet)
		})
	}
}

func TestLoadConfigReportsAllProblems(t *testing.T) {
	text := strings.Replace(goodConfig, "upstream: one", "upstream: uno", 1)
	text = strings.Replace(text, "backup: three", "backup: four", 1)
	_, err := LoadConfig(writeConfig(t, text))
	var errs ConfigErrors
	require.True(t, errors.As(err, &errs))
	require.Len(t, errs, 2)
	assert.Equal(t, 23, errs[0].Line, "in file order")
	assert.Equal(t, 29, errs[1].Line)
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "nope.yml"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestValidateInMemory: a Config made in Go gets the same checks, named by
// path instead of line and column.
func TestValidateInMemory(t *testing.T) {
	cfg := &Config{
		Architecture:     "M1",
		ClusterName:      "mem",
		InstanceDefaults: InstanceDefaults{Platform: "bare"},
		Instances: []Instance{
			{Name: "a", Node: 1, Role: []string{"primary"}, IPAddress: "192.0.2.1"},
			{Name: "b", Node: 2, Role: []string{"replica"}, Upstream: "a", IPAddress: "192.0.2.2"},
		},
	}
	require.NoError(t, cfg.Validate())

	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"unknown architecture", func(c *Config) { c.Architecture = "BDR-Always-ON" }, `architecture: unknown architecture "BDR-Always-ON" (tpago knows: M1)`},
		{"duplicate name", func(c *Config) { c.Instances[1].Name = "a"; c.Instances[1].Upstream = "" }, `instances[1].Name: duplicate instance Name "a" (first at instances[0].Name)`},
		{"duplicate ip", func(c *Config) { c.Instances[1].IPAddress = "192.0.2.1" }, `instances[1].ip_address: duplicate ip_address 192.0.2.1 (first at instances[0].ip_address)`},
		{"unknown role", func(c *Config) { c.Instances[1].Role = []string{"replica", "logserver"} }, `instances[1].role[1]: unknown role "logserver"`},
		{"upstream", func(c *Config) { c.Instances[1].Upstream = "z" }, `instances[1].upstream: upstream "z" names no instance`},
		{"node", func(c *Config) { c.Instances[1].Node = 1 }, `instances[1].node: duplicate node number 1 (first at instances[0].node)`},
		{"platform", func(c *Config) { c.Instances[0].Platform = "k8s" }, `instances[0].platform: unknown platform "k8s"`},
		{"no primary", func(c *Config) { c.Instances[0].Role = []string{"replica"}; c.Instances[0].Upstream = "b" }, `no instance has the role primary`},
		{"upstream loop", func(c *Config) {
			c.Instances = append(c.Instances, Instance{Name: "c", Node: 3, Role: []string{"replica"}, Upstream: "b"})
			c.Instances[1].Upstream = "c"
		}, `upstream "c" makes a loop`},
		{"haproxy backends", func(c *Config) {
			c.Instances = append(c.Instances, Instance{Name: "h", Node: 3, Role: []string{"haproxy"}, Vars: map[string]any{"haproxy_backend_servers": []any{"a", "zz"}}})
		}, `instances[2].vars.haproxy_backend_servers[1]: haproxy_backend_servers entry zz names no instance`},
		{"haproxy backends as strings", func(c *Config) {
			c.Instances = append(c.Instances, Instance{Name: "h", Node: 3, Role: []string{"haproxy"}, Vars: map[string]any{"haproxy_backend_servers": []string{"yy"}}})
		}, `instances[2].vars.haproxy_backend_servers[0]: haproxy_backend_servers entry yy names no instance`},
		{"haproxy backends not a list", func(c *Config) {
			c.Instances = append(c.Instances, Instance{Name: "h", Node: 3, Role: []string{"haproxy"}, Vars: map[string]any{"haproxy_backend_servers": "a"}})
		}, `instances[2].vars.haproxy_backend_servers: haproxy_backend_servers must be a list of instance names`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *cfg
			c.Instances = append([]Instance(nil), cfg.Instances...)
			tt.change(&c)
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want []any
	}{
		{"$", nil},
		{"$.cluster_name", []any{"cluster_name"}},
		{"$.instances[2].ip_address", []any{"instances", 2, "ip_address"}},
		{"$.ec2_vpc_subnets.eu-west-1.'10.33.1.0/24'.az", []any{"ec2_vpc_subnets", "eu-west-1", "10.33.1.0/24", "az"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, parsePath(tt.in), tt.in)
	}
}

func TestLoadConfigRefusesHugeInput(t *testing.T) {
	big := filepath.Join(t.TempDir(), "config.yml")
	require.NoError(t, os.WriteFile(big, make([]byte, MaxInputSize+1), 0o644))
	for _, f := range []string{"/dev/zero", big} {
		_, err := LoadConfig(f)
		require.ErrorContains(t, err, f+" is larger than 4 MiB", f)
	}
}

func TestUndefinedInTemplates(t *testing.T) {
	known := func(n string) bool { return n == "postgres_port" }
	tests := []struct {
		name, old, new string
		want           string // "" when fine
	}{
		{"a defined cluster var", `  postgres_version: "15"`, "  postgres_version: \"15\"\n  pg: \"{{ postgres_version }}\"", ""},
		{"a role default", `  postgres_version: "15"`, "  postgres_version: \"15\"\n  pg: \"{{ postgres_port + 1 }}\"", ""},
		{"facts and magic", `  postgres_version: "15"`, "  postgres_version: \"15\"\n  me: \"{{ inventory_hostname }} {{ ansible_hostname }} {{ hostvars[upstream].node }}\"", ""},
		{"optional", `  postgres_version: "15"`, "  postgres_version: \"15\"\n  x: \"{{ default(nothing, 1) }}\"", ""},
		{"undefined in cluster_vars", `  postgres_version: "15"`, "  postgres_version: \"15\"\n  pg: \"{{ postgres_verison }}\"", `:7:7: cluster_vars.pg uses the variable "postgres_verison", which nothing defines`},
		{"undefined in an instance", "    ansible_user: root", "    ansible_user: \"{{ admin_user }}\"", `:13:19: instance_defaults.vars.ansible_user uses the variable "admin_user"`},
		{"nested", `  postgres_version: "15"`, "  postgres_version: \"15\"\n  postgres_conf_settings:\n    work_mem: \"{{ mem }}\"", `:8:15: cluster_vars.postgres_conf_settings.work_mem uses the variable "mem"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, goodConfig, tt.old)
			path := writeConfig(t, strings.Replace(goodConfig, tt.old, tt.new, 1))
			cfg, err := LoadConfig(path)
			require.NoError(t, err)
			err = cfg.UndefinedInTemplates(known)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), path+tt.want)
		})
	}
}

// TestLoadConfigBoundedTime: a config.yml with many variables loads in
// time that grows with its size, and one mapping too wide for the parser
// is refused at once, pointing at it.
func TestLoadConfigBoundedTime(t *testing.T) {
	gen := func(n int) string {
		var b strings.Builder
		b.WriteString("cluster_vars:\n  failover_manager: repmgr\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "  var_%d: value_%d\n", i, i)
		}
		return strings.Replace(goodConfig, "cluster_vars:\n  failover_manager: repmgr\n", b.String(), 1)
	}
	start := time.Now()
	_, err := LoadConfig(writeConfig(t, gen(MaxMappingKeys-10)))
	require.NoError(t, err)
	t.Logf("%d cluster_vars: %s", MaxMappingKeys-10, time.Since(start))

	start = time.Now()
	path := writeConfig(t, gen(40000))
	_, err = LoadConfig(path)
	require.ErrorContains(t, err, path+":5:3: this mapping has 40002 keys, more than the 5000")
	assert.Less(t, time.Since(start), 3*time.Second, "refused before the slow parse")
}

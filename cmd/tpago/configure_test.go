package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/cluster"
)

// runConfigure runs `tpago configure args…` and returns its output, exit
// status and error.
func runConfigure(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	return runCLI(t, append([]string{"configure"}, args...)...)
}

func TestConfigureHelpGroupsOptions(t *testing.T) {
	out, code, err := runConfigure(t, "--architecture", "M1", "--help")
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	for _, want := range []string{
		"Mandatory options:", "Additional options:", "Platform options:",
		"--architecture M1", "--postgresql VERSION", "--failover-manager MANAGER", "--enable-patroni",
		"--num-cascaded-replicas N", "(default 1)", "--data-nodes-per-location N", "--enable-haproxy", `--patroni-dcs string`, `(default "etcd")`,
		"--platform PLATFORM", `(default "aws")`, `--region string`, `(default "eu-west-1")`, `(default "t3.micro")`,
		"--location-names", "--hostnames-from FILE", "--overrides-from FILE", "--no-git", "--os-version",
	} {
		assert.Contains(t, out, want)
	}
}

func TestConfigureCLI(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"nothing at all", nil, 2, "missing required options: CLUSTER_DIR (the cluster directory); --architecture M1; the Postgres version (--postgresql VERSION, e.g. --postgresql 15); a failover manager"},
		{"no directory", []string{"-a", "M1", "--postgresql", "15", "--enable-repmgr"}, 2, "missing required options: CLUSTER_DIR (the cluster directory) (see tpago configure --help)"},
		{"space-separated list", []string{"DIR", "x", "--location-names", "a"}, 2, "lists take commas: --location-names main,dr"},
		{"nothing required", []string{"DIR"}, 2, "missing required options: --architecture M1; the Postgres version (--postgresql VERSION, e.g. --postgresql 15); a failover manager (--failover-manager efm|repmgr|patroni, or --enable-efm, --enable-repmgr, --enable-patroni)"},
		{"no manager", []string{"DIR", "-a", "M1", "--postgresql", "15"}, 2, "missing required options: a failover manager"},
		{"two managers", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--enable-efm"}, 2, "give one failover manager: --enable-efm and --enable-repmgr"},
		{"manager twice", []string{"DIR", "-a", "M1", "--postgresql", "15", "--failover-manager", "patroni", "--enable-repmgr"}, 2, "give one failover manager: --failover-manager patroni and --enable-repmgr"},
		{"two versions", []string{"DIR", "-a", "M1", "--postgresql", "15", "--edb-postgres-advanced", "15", "--enable-efm"}, 2, "give the Postgres flavour and version once: --postgresql and --edb-postgres-advanced both given"},
		{"flavour alone", []string{"DIR", "-a", "M1", "--postgres-flavour", "epas", "--enable-efm"}, 2, "--postgres-flavour needs --postgres-version VERSION"},
		{"flavour with --postgresql", []string{"DIR", "-a", "M1", "--postgresql", "15", "--postgres-flavour", "epas", "--enable-efm"}, 2, "--postgres-flavour goes with --postgres-version, not --postgresql"},
		{"unknown flag", []string{"DIR", "--bogus"}, 2, "unknown flag: --bogus"},
		{"bad number", []string{"DIR", "--num-cascaded-replicas", "two"}, 2, `invalid argument "two" for "--num-cascaded-replicas"`},
		{"haproxy with repmgr", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--enable-haproxy"}, 2, "--enable-haproxy needs --failover-manager patroni"},
		{"region on docker", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--platform", "docker", "--region", "us-east-1"}, 2, "--region is for --platform aws, not docker"},
		{"os and distribution", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--os", "Ubuntu", "--distribution", "Debian"}, 2, "--os Ubuntu and --distribution Debian disagree"},
		{"os not Debian", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--os", "RedHat"}, 2, `distribution "RedHat" is not supported`},
		{"two layouts", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--num-cascaded-replicas", "1", "--data-nodes-per-location", "3"}, 2, "--num-cascaded-replicas and --data-nodes-per-location are two different layouts: give one"},
		{"no data nodes", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--data-nodes-per-location", "0"}, 2, "--data-nodes-per-location must be 1 or more, not 0"},
		{"a primary alone", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--data-nodes-per-location", "1"}, 2, "--data-nodes-per-location 1 with one location is a primary alone: M1 needs a replica"},
		{"too many data nodes", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--data-nodes-per-location", "51"}, 2, "--data-nodes-per-location 51 is more than 50"},
		{"seed layout, one location", []string{"DIR", "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--location-names", "main"}, 2, "--location-names takes two names"},
		{"wrong architecture", []string{"DIR", "-a", "PGD-Always-ON", "--postgresql", "15", "--enable-repmgr"}, 2, `unknown architecture "PGD-Always-ON"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			args := append([]string(nil), tt.args...)
			for i, a := range args {
				if a == "DIR" {
					args[i] = dir
				}
			}
			_, code, err := runConfigure(t, args...)
			require.Error(t, err)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, err.Error(), tt.want)
			assert.NoDirExists(t, dir, "nothing is written for bad options")
		})
	}
}

func TestConfigureSeedExample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m1")
	out, code, err := runConfigure(t, dir, "--architecture", "M1",
		"--platform", "aws", "--region", "eu-west-1", "--instance-type", "t3.micro",
		"--distribution", "Debian", "--postgresql", "14", "--failover-manager", "repmgr", "--no-git", "--owner", "alice")
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "cluster m1, 4 instances")
	assert.Contains(t, out, "Next: tpago provision "+dir)

	cfg, err := cluster.LoadConfig(filepath.Join(dir, "config.yml"))
	require.NoError(t, err)
	assert.Equal(t, "14", cfg.ClusterVars["postgres_version"])
	assert.Equal(t, "repmgr", cfg.ClusterVars["failover_manager"])
	assert.Equal(t, "aws", cfg.InstanceDefaults.Platform)
	assert.Equal(t, "t3.micro", cfg.InstanceDefaults.Type)
	assert.Equal(t, "alice", cfg.ClusterTags["Owner"])
	assert.Len(t, cfg.Instances, 4)

	// Again: refused, exit 2.
	_, code, err = runConfigure(t, dir, "-a", "M1", "--postgresql", "14", "--enable-repmgr", "--no-git")
	require.Error(t, err)
	assert.Equal(t, 2, code)
	assert.Contains(t, err.Error(), "already exists: pass --force to overwrite it")
}

// --data-nodes-per-location lays the cluster out as current TPA does: one
// location, main, unless --location-names says otherwise.
func TestConfigureDataNodesPerLocation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "one")
	_, code, err := runConfigure(t, dir, "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--platform", "docker",
		"--data-nodes-per-location", "3", "--no-git")
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	cfg, err := cluster.LoadConfig(filepath.Join(dir, "config.yml"))
	require.NoError(t, err)
	require.Len(t, cfg.Locations, 1)
	assert.Equal(t, "main", cfg.Locations[0].Name)
	require.Len(t, cfg.Instances, 4)
	assert.Equal(t, []string{"barman", "log-server"}, cfg.Instances[3].Role)

	dir = filepath.Join(t.TempDir(), "two")
	_, code, err = runConfigure(t, dir, "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--platform", "docker",
		"--data-nodes-per-location", "2", "--location-names", "paris,lyon", "--no-git")
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	cfg, err = cluster.LoadConfig(filepath.Join(dir, "config.yml"))
	require.NoError(t, err)
	require.Len(t, cfg.Instances, 5)
	assert.Equal(t, []string{"barman", "log-server", "witness"}, cfg.Instances[2].Role, "4 Postgres nodes: Barman is the witness")
	assert.Equal(t, "lyon", cfg.Instances[4].Location)
	assert.Equal(t, cfg.Instances[3].Name, cfg.Instances[4].Upstream)
}

func TestConfigureFlavours(t *testing.T) {
	tests := []struct {
		args    []string
		flavour string
	}{
		{[]string{"--edb-postgres-advanced", "15"}, "epas"},
		{[]string{"--edb-postgres-extended", "16"}, "edbpge"},
		{[]string{"--postgres-version", "15"}, "postgresql"},
		{[]string{"--postgres-version", "15", "--postgres-flavour", "epas"}, "epas"},
	}
	for _, tt := range tests {
		t.Run(tt.flavour+"-"+tt.args[0], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "f")
			args := append([]string{dir, "-a", "M1", "--enable-efm", "--platform", "docker", "--no-git"}, tt.args...)
			_, code, err := runConfigure(t, args...)
			require.NoError(t, err)
			assert.Equal(t, 0, code)
			cfg, err := cluster.LoadConfig(filepath.Join(dir, "config.yml"))
			require.NoError(t, err)
			assert.Equal(t, tt.flavour, cfg.ClusterVars["postgres_flavour"])
			assert.Equal(t, tt.args[1], cfg.ClusterVars["postgres_version"])
		})
	}
}

package m1

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// opts returns the defaults with a cluster name, version and manager set,
// changed by fn.
func opts(fn func(o *Options)) Options {
	o := DefaultOptions()
	o.ClusterName = "demo"
	o.PostgresVersion = "15"
	o.FailoverManager = "repmgr"
	o.Owner = "alice"
	if fn != nil {
		fn(&o)
	}
	return o
}

func TestGenerateGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"aws-repmgr-default", opts(nil)},
		{"aws-region-type", opts(func(o *Options) {
			o.Region = "us-east-2"
			o.InstanceType = "t3.large"
			o.OSVersion = "trixie"
			o.PostgresVersion = "17"
		})},
		{"docker-repmgr-n0", opts(func(o *Options) { o.Platform = "docker"; o.NumCascadedReplicas = 0 })},
		{"docker-repmgr-n2", opts(func(o *Options) { o.Platform = "docker"; o.NumCascadedReplicas = 2 })},
		{"docker-efm-n2", opts(func(o *Options) {
			o.Platform = "docker"
			o.FailoverManager = "efm"
			o.PostgresFlavour = "epas"
			o.NumCascadedReplicas = 2
		})},
		{"docker-patroni-haproxy", opts(func(o *Options) { o.Platform = "docker"; o.FailoverManager = "patroni"; o.EnableHAProxy = true })},
		{"docker-subnet-locations", opts(func(o *Options) {
			o.Platform = "docker"
			o.Subnet = "10.201.7.0/24"
			o.LocationNames = []string{"paris", "lyon"}
			o.ClusterName = "speedy"
		})},
		{"bare-repmgr-n3", opts(func(o *Options) { o.Platform = "bare"; o.NumCascadedReplicas = 3 })},
		// Current TPA's layout (--data-nodes-per-location).
		{"docker-repmgr-dnpl3", opts(func(o *Options) { o.Platform = "docker"; o.DataNodesPerLocation = 3 })},
		{"docker-repmgr-dnpl2-two-locations", opts(func(o *Options) {
			o.Platform = "docker"
			o.DataNodesPerLocation = 2
			o.LocationNames = []string{"main", "dr"}
		})},
		{"docker-patroni-dnpl2-haproxy-pgbouncer", opts(func(o *Options) {
			o.Platform = "docker"
			o.FailoverManager = "patroni"
			o.DataNodesPerLocation = 2
			o.LocationNames = []string{"main", "dr"}
			o.EnableHAProxy = true
			o.EnablePgBouncer = true
		})},
		{"aws-efm-dnpl2-three-locations", opts(func(o *Options) {
			o.FailoverManager = "efm"
			o.DataNodesPerLocation = 2
			o.LocationNames = []string{"paris", "lyon", "nice"}
		})},
		{"hostnames-overrides", opts(func(o *Options) {
			o.Platform = "docker"
			o.HostnamesFrom = "testdata/hostnames.txt"
			o.OverridesFrom = "testdata/overrides.yml"
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Generate(tt.opts)
			require.NoError(t, err)
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, out, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./architectures/m1 -update to create it")
			assert.Equal(t, string(want), string(out))

			again, err := Generate(tt.opts)
			require.NoError(t, err)
			assert.Equal(t, string(out), string(again), "the same options must give the same bytes")
		})
	}
}

// TestLayout checks the seed's table for every failover manager and N.
func TestLayout(t *testing.T) {
	for _, fm := range []string{"repmgr", "efm", "patroni"} {
		for n := 0; n <= 3; n++ {
			t.Run(fmt.Sprintf("%s-n%d", fm, n), func(t *testing.T) {
				o := opts(func(o *Options) { o.FailoverManager = fm; o.NumCascadedReplicas = n; o.Platform = "docker" })
				cfg := generateConfig(t, o)
				ins := cfg.Instances
				want := 3 + n
				if fm == "patroni" {
					want += 3
				}
				require.Len(t, ins, want)
				assert.Equal(t, []string{"primary"}, ins[0].Role)
				assert.Equal(t, "main", ins[0].Location)
				assert.Equal(t, ins[2].Name, ins[0].Backup, "the primary is backed up by Barman")
				assert.Equal(t, []string{"replica"}, ins[1].Role)
				assert.Equal(t, "main", ins[1].Location)
				assert.Equal(t, ins[0].Name, ins[1].Upstream)
				assert.Equal(t, "dr", ins[2].Location)
				witness := (2+n)%2 == 0
				switch {
				case fm == "repmgr" && witness:
					assert.Equal(t, []string{"barman", "witness"}, ins[2].Role)
				case fm == "efm" && witness:
					assert.Equal(t, []string{"barman", "efm-witness"}, ins[2].Role)
				default:
					assert.Equal(t, []string{"barman"}, ins[2].Role)
				}
				for k := 3; k < 3+n; k++ {
					assert.Equal(t, []string{"replica"}, ins[k].Role)
					assert.Equal(t, "dr", ins[k].Location)
					assert.Equal(t, ins[1].Name, ins[k].Upstream, "cascaded from the first replica")
					assert.Equal(t, k+1, ins[k].Node)
				}
				if fm == "patroni" {
					for k := 3 + n; k < 6+n; k++ {
						assert.Equal(t, []string{"etcd"}, ins[k].Role)
						assert.Equal(t, "main", ins[k].Vars["etcd_location"])
					}
				}
			})
		}
	}
}

// TestDataNodesLayout checks current TPA's layout (--data-nodes-per-location)
// for every failover manager, N and number of locations.
func TestDataNodesLayout(t *testing.T) {
	locations := [][]string{{"main"}, {"main", "dr"}, {"a", "b", "c"}}
	for _, fm := range []string{"repmgr", "efm", "patroni"} {
		for n := 1; n <= 3; n++ {
			for _, locs := range locations {
				if n == 1 && len(locs) == 1 {
					continue
				}
				t.Run(fmt.Sprintf("%s-n%d-%d", fm, n, len(locs)), func(t *testing.T) {
					o := opts(func(o *Options) {
						o.FailoverManager = fm
						o.DataNodesPerLocation = n
						o.LocationNames = locs
						o.Platform = "docker"
					})
					ins := generateConfig(t, o).Instances
					data := n * len(locs)
					want := data + 1
					if fm == "patroni" {
						want += 3
					}
					require.Len(t, ins, want)
					for i, in := range ins {
						assert.Equal(t, i+1, in.Node)
					}
					byName := map[string]cluster.Instance{}
					for _, in := range ins {
						byName[in.Name] = in
					}
					primary, barman := ins[0], ins[n]
					assert.Equal(t, []string{"primary"}, primary.Role)
					assert.Equal(t, locs[0], primary.Location)
					assert.Equal(t, barman.Name, primary.Backup, "the primary is backed up by Barman")
					wantBarman := []string{"barman", "log-server"}
					if data%2 == 0 && fm == "repmgr" {
						wantBarman = append(wantBarman, "witness")
					}
					if data%2 == 0 && fm == "efm" {
						wantBarman = append(wantBarman, "efm-witness")
					}
					assert.Equal(t, wantBarman, barman.Role)
					assert.Equal(t, locs[0], barman.Location, "Barman is beside the primary")
					for k := 1; k < n; k++ {
						assert.Equal(t, []string{"replica"}, ins[k].Role)
						assert.Equal(t, locs[0], ins[k].Location)
						assert.Equal(t, primary.Name, ins[k].Upstream)
					}
					for l, loc := range locs[1:] {
						head := ins[n+1+l*n]
						assert.Equal(t, []string{"replica"}, head.Role)
						assert.Equal(t, loc, head.Location)
						assert.Equal(t, primary.Name, head.Upstream, "the first node of a location is a replica of the primary")
						for k := 1; k < n; k++ {
							in := ins[n+1+l*n+k]
							assert.Equal(t, []string{"replica"}, in.Role)
							assert.Equal(t, loc, in.Location)
							assert.Equal(t, head.Name, in.Upstream, "cascaded from the location's first node")
						}
					}
					if fm == "patroni" {
						etcd := ins[data+1:]
						second := locs[len(locs)-1]
						if len(locs) > 1 {
							second = locs[1]
						}
						for k, loc := range []string{locs[0], locs[0], second} {
							assert.Equal(t, []string{"etcd"}, etcd[k].Role)
							assert.Equal(t, loc, etcd[k].Location)
						}
					}
				})
			}
		}
	}
}

// HAProxy's backends are the Postgres nodes of the layout, never Barman,
// wherever Barman is.
func TestHAProxyBackendsAreThePostgresNodes(t *testing.T) {
	for _, o := range []Options{
		opts(func(o *Options) { o.FailoverManager = "patroni"; o.EnableHAProxy = true; o.NumCascadedReplicas = 2 }),
		opts(func(o *Options) {
			o.FailoverManager = "patroni"
			o.EnableHAProxy = true
			o.DataNodesPerLocation = 3
			o.LocationNames = []string{"main", "dr"}
		}),
	} {
		cfg := generateConfig(t, o)
		var postgres []any
		for _, in := range cfg.Instances {
			if in.HasRole("primary") || in.HasRole("replica") {
				postgres = append(postgres, in.Name)
			}
		}
		n := 0
		for _, in := range cfg.Instances {
			if in.HasRole("haproxy") {
				n++
				assert.Equal(t, postgres, in.Vars["haproxy_backend_servers"], in.Name)
			}
		}
		assert.Equal(t, 2, n)
	}
}

func generateConfig(t *testing.T, o Options) *cluster.Config {
	t.Helper()
	out, err := Generate(o)
	require.NoError(t, err)
	cfg, err := cluster.ParseConfig("config.yml", out)
	require.NoError(t, err, string(out))
	return cfg
}

// TestRoundTrip: every combination generates a config.yml that loads and
// turns into an inventory.
func TestRoundTrip(t *testing.T) {
	count := 0
	for _, platform := range []string{"aws", "docker", "bare"} {
		for _, fm := range []string{"efm", "repmgr", "patroni"} {
			for n := 0; n <= 3; n++ {
				for _, haproxy := range []bool{false, true} {
					if haproxy && fm != "patroni" {
						continue
					}
					name := fmt.Sprintf("%s-%s-n%d-haproxy=%v", platform, fm, n, haproxy)
					t.Run(name, func(t *testing.T) {
						o := opts(func(o *Options) {
							o.Platform, o.FailoverManager, o.NumCascadedReplicas, o.EnableHAProxy = platform, fm, n, haproxy
							o.ClusterName = "rt-" + name[:strings.Index(name, "-haproxy")]
						})
						out, err := Generate(o)
						require.NoError(t, err)
						dir := t.TempDir()
						path := filepath.Join(dir, "config.yml")
						require.NoError(t, os.WriteFile(path, out, 0o644))
						cfg, err := cluster.LoadConfig(path)
						require.NoError(t, err)
						inv, err := cluster.FromConfig(cfg, dir)
						require.NoError(t, err)
						assert.Len(t, inv.Hosts, len(cfg.Instances))
						assert.Len(t, inv.Groups["postgres"].Hosts, 2+n+witnessCount(fm, n))
						assert.Equal(t, fm, inv.Groups["all"].Vars["failover_manager"])
						if haproxy {
							require.NotNil(t, inv.Groups["haproxy"])
							assert.Len(t, inv.Groups["haproxy"].Hosts, 2)
						}
						require.NoError(t, inventory.Save(inv, filepath.Join(dir, "inventory.yml")))
					})
					count++
				}
			}
		}
	}
	assert.Equal(t, 48, count)
}

func witnessCount(fm string, n int) int {
	if fm == "repmgr" && n%2 == 0 {
		return 1
	}
	return 0
}

func TestHostnamesAreDeterministic(t *testing.T) {
	a, err := pickNames("alpha", 10, Words())
	require.NoError(t, err)
	b, err := pickNames("alpha", 10, Words())
	require.NoError(t, err)
	c, err := pickNames("beta", 10, Words())
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	seen := map[string]bool{}
	for _, n := range a {
		assert.False(t, seen[n], "duplicate %s", n)
		seen[n] = true
	}
	all, err := pickNames("alpha", len(Words()), Words())
	require.NoError(t, err)
	assert.Len(t, all, len(Words()))
	_, err = pickNames("alpha", len(Words())+1, Words())
	assert.ErrorContains(t, err, "--hostnames-from")
}

func TestWordList(t *testing.T) {
	w := Words()
	assert.GreaterOrEqual(t, len(w), 300)
	for i, x := range w {
		assert.True(t, cluster.ValidHostname(x), x)
		assert.LessOrEqual(t, len(x), 10, x)
		if i > 0 {
			assert.Less(t, w[i-1], x, "the list is sorted and has no duplicates")
		}
	}
}

func TestDockerSubnet(t *testing.T) {
	for _, name := range []string{"a", "demo", "m1", "another-cluster", "x.y"} {
		s := dockerSubnet(name)
		var a, b, c int
		_, err := fmt.Sscanf(s, "10.%d.%d.%d/24", &a, &b, &c)
		require.NoError(t, err, s)
		assert.True(t, a >= 200 && a <= 239, s)
		assert.Equal(t, 0, c)
		assert.Equal(t, s, dockerSubnet(name))
	}
}

func TestBadOptions(t *testing.T) {
	dir := t.TempDir()
	few := filepath.Join(dir, "few.txt")
	require.NoError(t, os.WriteFile(few, []byte("one\ntwo\n"), 0o644))
	dup := filepath.Join(dir, "dup.txt")
	require.NoError(t, os.WriteFile(dup, []byte("one\n# comment\ntwo\none\n"), 0o644))
	bad := filepath.Join(dir, "bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("one\nno_way\n"), 0o644))
	list := filepath.Join(dir, "list.yml")
	require.NoError(t, os.WriteFile(list, []byte("- a\n- b\n"), 0o644))
	tpaMore := filepath.Join(dir, "tpa-more.yml")
	require.NoError(t, os.WriteFile(tpaMore, []byte("cluster_vars:\n  a: 1\ninstances: []\n"), 0o644))

	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no architecture", opts(func(o *Options) { o.Architecture = "" }), "--architecture is required (M1)"},
		{"other architecture", opts(func(o *Options) { o.Architecture = "PGD-Always-ON" }), `unknown architecture "PGD-Always-ON": this command configures M1`},
		{"no version", opts(func(o *Options) { o.PostgresVersion = "" }), "the Postgres version is required (--postgresql VERSION, e.g. --postgresql 15)"},
		{"bad version", opts(func(o *Options) { o.PostgresVersion = "9.6" }), `Postgres version "9.6" is not supported: give a major version from 11 to 18, such as 15`},
		{"bad flavour", opts(func(o *Options) { o.PostgresFlavour = "oracle" }), `unknown Postgres flavour "oracle" (one of postgresql, epas, edbpge)`},
		{"no manager", opts(func(o *Options) { o.FailoverManager = "" }), "a failover manager is required (--failover-manager efm|repmgr|patroni)"},
		{"bad manager", opts(func(o *Options) { o.FailoverManager = "pacemaker" }), `unknown failover manager "pacemaker" (one of efm, repmgr, patroni)`},
		{"bad platform", opts(func(o *Options) { o.Platform = "gcp" }), `unknown platform "gcp" (one of aws, docker, bare)`},
		{"negative replicas", opts(func(o *Options) { o.NumCascadedReplicas = -1 }), "--num-cascaded-replicas must be 0 or more, not -1"},
		{"too many replicas", opts(func(o *Options) { o.NumCascadedReplicas = 51 }), "--num-cascaded-replicas 51 is more than 50"},
		{"haproxy without patroni", opts(func(o *Options) { o.EnableHAProxy = true }), "--enable-haproxy needs --failover-manager patroni (HAProxy routes by Patroni's health checks)"},
		{"dcs without patroni", opts(func(o *Options) { o.PatroniDCS = "etcd" }), "--patroni-dcs needs --failover-manager patroni"},
		{"bad dcs", opts(func(o *Options) { o.FailoverManager = "patroni"; o.PatroniDCS = "consul" }), `unknown --patroni-dcs "consul": only etcd is supported`},
		{"package flavour without patroni", opts(func(o *Options) { o.PatroniPackageFlavour = "edb" }), "--patroni-package-flavour needs --failover-manager patroni"},
		{"bad package flavour", opts(func(o *Options) { o.FailoverManager = "patroni"; o.PatroniPackageFlavour = "pip" }), `unknown --patroni-package-flavour "pip" (community or edb)`},
		{"bad distribution", opts(func(o *Options) { o.Distribution = "RedHat" }), `distribution "RedHat" is not supported: tpago's roles install Debian packages (--distribution Debian)`},
		{"bad os version", opts(func(o *Options) { o.OSVersion = "11" }), `--os-version "11" is not supported: Debian 12 (bookworm) or 13 (trixie)`},
		{"region on docker", opts(func(o *Options) { o.Platform = "docker"; o.Region = "eu-west-2" }), "--region is for --platform aws, not docker"},
		{"type on bare", opts(func(o *Options) { o.Platform = "bare"; o.InstanceType = "t3.large" }), "--instance-type is for --platform aws, not bare"},
		{"subnet on aws", opts(func(o *Options) { o.Subnet = "10.200.1.0/24" }), "--subnet is for --platform docker, not aws"},
		{"bad subnet", opts(func(o *Options) { o.Platform = "docker"; o.Subnet = "10.300.1.0/24" }), `--subnet "10.300.1.0/24" is not an IPv4 CIDR prefix such as 10.200.1.0/24`},
		{"small subnet", opts(func(o *Options) { o.Platform = "docker"; o.Subnet = "10.200.1.0/29" }), "--subnet 10.200.1.0/29 is too small for 4 instances (addresses start at .11): use a /24"},
		{"one location", opts(func(o *Options) { o.LocationNames = []string{"main"} }), "--location-names takes two names (the primary's location, then the one with Barman and the cascaded replicas), got 1"},
		{"same locations", opts(func(o *Options) { o.LocationNames = []string{"a", "a"} }), `--location-names must be different names, got "a" twice`},
		{"bad location", opts(func(o *Options) { o.LocationNames = []string{"a b", "c"} }), `location name "a b" is not valid: use letters, digits, '.', '_' and '-'`},
		{"two layouts", opts(func(o *Options) { o.DataNodesPerLocation = 3; o.NumCascadedReplicas = 2 }), "--num-cascaded-replicas and --data-nodes-per-location are two different layouts: give one"},
		{"two layouts, none cascaded", opts(func(o *Options) { o.DataNodesPerLocation = 3; o.NumCascadedReplicas = 0 }), "--num-cascaded-replicas and --data-nodes-per-location are two different layouts: give one"},
		{"negative data nodes", opts(func(o *Options) { o.DataNodesPerLocation = -1 }), "--data-nodes-per-location must be 1 or more, not -1"},
		{"too many data nodes", opts(func(o *Options) { o.DataNodesPerLocation = 51 }), "--data-nodes-per-location 51 is more than 50"},
		{"too many data nodes in all", opts(func(o *Options) { o.DataNodesPerLocation = 50; o.LocationNames = []string{"a", "b", "c"} }), "--data-nodes-per-location 50 in 3 locations is 150 Postgres nodes, more than 100"},
		{"a primary alone", opts(func(o *Options) { o.DataNodesPerLocation = 1 }), "--data-nodes-per-location 1 with one location is a primary alone: M1 needs a replica"},
		{"a primary alone, named location", opts(func(o *Options) { o.DataNodesPerLocation = 1; o.LocationNames = []string{"paris"} }), "M1 needs a replica"},
		{"same locations, data nodes", opts(func(o *Options) { o.DataNodesPerLocation = 2; o.LocationNames = []string{"a", "b", "a"} }), `--location-names must be different names, got "a" twice`},
		{"bad cluster name", opts(func(o *Options) { o.ClusterName = "my cluster" }), `cluster name "my cluster" is not valid`},
		{"too few hostnames", opts(func(o *Options) { o.HostnamesFrom = few }), few + " has 2 hostnames but the cluster needs 4"},
		{"duplicate hostname", opts(func(o *Options) { o.HostnamesFrom = dup }), dup + `:4: hostname "one" is already on line 1`},
		{"bad hostname", opts(func(o *Options) { o.HostnamesFrom = bad }), bad + `:2: "no_way" is not a valid hostname (letters, digits and '-')`},
		{"missing hostnames file", opts(func(o *Options) { o.HostnamesFrom = filepath.Join(dir, "nope") }), "--hostnames-from: open " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"overrides contradict", opts(func(o *Options) { o.Overrides = map[string]any{"failover_manager": "patroni"} }), "Options.Overrides sets failover_manager to patroni, but the options say repmgr: use --failover-manager instead"},
		{"overrides not a mapping", opts(func(o *Options) { o.OverridesFrom = list }), list + ":1:1: "},
		{"endless hostnames file", opts(func(o *Options) { o.HostnamesFrom = "/dev/zero" }), "/dev/zero is larger than 4 MiB"},
		{"endless overrides file", opts(func(o *Options) { o.OverridesFrom = "/dev/zero" }), "/dev/zero is larger than 4 MiB"},
		{"TPA overrides with more than cluster_vars", opts(func(o *Options) { o.OverridesFrom = tpaMore }), tpaMore + ": a file with cluster_vars: at the top may hold nothing else (it also has instances)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Generate(tt.opts)
			assert.Less(t, time.Since(start), 5*time.Second, "bad input is refused at once")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			var ue *UsageError
			assert.ErrorAs(t, err, &ue, "bad options are usage errors (exit 2)")

			// Configure writes nothing for bad options.
			cdir := filepath.Join(t.TempDir(), "cluster")
			require.Error(t, Configure(cdir, tt.opts))
			assert.NoDirExists(t, cdir)
		})
	}
}

func TestConfigureWritesAndCommits(t *testing.T) {
	_, err := exec.LookPath("git")
	require.NoError(t, err, "git is needed: apt-get install git")
	dir := filepath.Join(t.TempDir(), "m1")
	o := opts(func(o *Options) { o.ClusterName = ""; o.Platform = "docker" })
	require.NoError(t, Configure(dir, o))

	cfg, err := cluster.LoadConfig(filepath.Join(dir, "config.yml"))
	require.NoError(t, err)
	assert.Equal(t, "m1", cfg.ClusterName, "the name defaults to the directory's")

	log, err := exec.Command("git", "-C", dir, "log", "--format=%s", "--name-only").CombinedOutput()
	require.NoError(t, err, string(log))
	assert.Contains(t, string(log), "config.yml")
	assert.Contains(t, string(log), ".gitignore")
	status, err := exec.Command("git", "-C", dir, "status", "--porcelain").CombinedOutput()
	require.NoError(t, err)
	assert.Empty(t, string(status), "everything is committed")

	// What deploy and provision write never shows up for `git add -A`.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "secrets"), 0o700))
	for _, f := range []string{"secrets/postgres", "id_m1", "id_m1.pub", "known_hosts", "inventory.yml"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("s3cret\n"), 0o600))
	}
	status, err = exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=all").CombinedOutput()
	require.NoError(t, err)
	assert.Empty(t, string(status), "secrets, keys, known_hosts and inventory.yml are ignored")

	// Forcing the same options again changes nothing and commits nothing.
	o.Force = true
	require.NoError(t, Configure(dir, o))
	log, err = exec.Command("git", "-C", dir, "log", "--oneline").CombinedOutput()
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(log), "\n"), string(log))
	o.Force = false

	// A second configure refuses, unless forced; no temp files are left.
	err = Configure(dir, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "config.yml already exists: pass --force to overwrite it")
	o.Force = true
	o.NumCascadedReplicas = 2
	require.NoError(t, Configure(dir, o))
	cfg, err = cluster.LoadConfig(filepath.Join(dir, "config.yml"))
	require.NoError(t, err)
	assert.Len(t, cfg.Instances, 5)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{".git", ".gitignore", "config.yml", "secrets", "id_m1", "id_m1.pub", "known_hosts", "inventory.yml"}, names, "no temp files left")
	log, err = exec.Command("git", "-C", dir, "log", "--oneline").CombinedOutput()
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(log), "\n"), string(log))
}

func TestConfigureNoGit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, Configure(dir, opts(func(o *Options) { o.NoGit = true })))
	assert.FileExists(t, filepath.Join(dir, "config.yml"))
	assert.NoDirExists(t, filepath.Join(dir, ".git"))
}

func TestConfigureWithoutGitBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := filepath.Join(t.TempDir(), "nogit")
	err := Configure(dir, opts(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "git is not installed")
	assert.Contains(t, err.Error(), "pass --no-git")
	assert.NoDirExists(t, dir, "nothing written")
}

func BenchmarkGenerate(b *testing.B) {
	o := opts(func(o *Options) {
		o.Platform = "docker"
		o.FailoverManager = "patroni"
		o.EnableHAProxy = true
		o.NumCascadedReplicas = 3
	})
	for b.Loop() {
		if _, err := Generate(o); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOverridesInTPAFormat: TPA's overrides files say cluster_vars: at
// the top; tpago reads them as their plain form, not as
// cluster_vars.cluster_vars.
func TestOverridesInTPAFormat(t *testing.T) {
	plain, err := os.ReadFile("testdata/overrides.yml")
	require.NoError(t, err)
	tpa := filepath.Join(t.TempDir(), "tpa.yml")
	indented := "cluster_vars:\n  " + strings.ReplaceAll(strings.TrimSpace(string(plain)), "\n", "\n  ") + "\n"
	require.NoError(t, os.WriteFile(tpa, []byte(indented), 0o644))
	gen := func(file string) []byte {
		out, err := Generate(opts(func(o *Options) { o.Platform = "docker"; o.OverridesFrom = file }))
		require.NoError(t, err)
		return out
	}
	want := gen("testdata/overrides.yml")
	got := gen(tpa)
	assert.Equal(t, string(want), string(got))
	assert.NotContains(t, string(got), "cluster_vars:\n    cluster_vars")
}

// TestConfigureGitFailsLeavesNothing: when git fails, configure undoes
// what it wrote, so that a second try is not refused ("already exists").
func TestConfigureGitFailsLeavesNothing(t *testing.T) {
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "git"), []byte("#!/bin/sh\necho 'git: broken' >&2\nexit 1\n"), 0o755))
	t.Setenv("PATH", bin)
	o := opts(func(o *Options) { o.Platform = "docker" })

	fresh := filepath.Join(t.TempDir(), "fresh")
	err := Configure(fresh, o)
	require.ErrorContains(t, err, "git: broken")
	assert.NoDirExists(t, fresh)

	existing := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(existing, "notes.txt"), []byte("mine\n"), 0o644))
	err = Configure(existing, o)
	require.ErrorContains(t, err, "git: broken")
	ents, err := os.ReadDir(existing)
	require.NoError(t, err)
	require.Len(t, ents, 1, "only the user's file is left")
	assert.Equal(t, "notes.txt", ents[0].Name())
}

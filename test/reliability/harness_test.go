package reliability

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"github.com/stretchr/testify/require"

	clusterdir "github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/internal/testenv/need"
	"github.com/tpago/tpago/platforms"
	"github.com/tpago/tpago/platforms/docker"
)

// The docker subnets this suite may use.
var subnetRange = [2]netip.Prefix{netip.MustParsePrefix("10.215.16.0/24"), netip.MustParsePrefix("10.215.255.0/24")}

var (
	moduleRoot string // the folder holding go.mod
	tpagoBin   string // tpago built once for the suite
	setupErr   error  // why the suite cannot run (no Docker, no build)
	dockerCli  *client.Client
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "tpago-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	flag.Parse()
	if !testing.Short() { // under -short every test skips: nothing to set up
		setupErr = setup(tmp)
	}
	code := m.Run()
	if dockerCli != nil {
		dockerCli.Close()
	}
	os.RemoveAll(tmp)
	os.Exit(code)
}

func setup(tmp string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			moduleRoot = d
			break
		}
		if filepath.Dir(d) == d {
			return fmt.Errorf("no go.mod above %s", wd)
		}
	}
	tpagoBin = filepath.Join(tmp, "tpago")
	build := exec.Command("go", "build", "-o", tpagoBin, "./cmd/tpago")
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/tpago: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cli, err := docker.NewClient(ctx)
	if err != nil {
		return fmt.Errorf("the reliability suite deploys clusters in Docker containers: %w", err)
	}
	dockerCli = cli
	return nil
}

// requireSuite fails the test when the suite cannot run, saying why.
func requireSuite(t *testing.T) {
	t.Helper()
	need.Require(t, need.Docker)
	require.NoError(t, setupErr, "reliability suite setup (a Docker engine is needed: sh scripts/setup.sh)")
}

// tpago runs the built binary and returns its combined output.
func tpago(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, tpagoBin, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.String(), err
}

// node is one host of a test cluster.
type node struct {
	Name      string
	Container string
	IP        string
	Roles     []string
	Upstream  string
}

func (n node) is(role string) bool {
	for _, r := range n.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// cluster is a deployed test cluster.
type cluster struct {
	Dir     string
	Name    string
	Manager string // repmgr or patroni
	Net     string
	Nodes   []node
	// DeployOutput is what the first deploy printed.
	DeployOutput string
	// DeployPS holds every distinct process command line seen on the
	// hosts during the first deploy (with clusterOpts.verbose).
	DeployPS map[string]bool
}

func (c *cluster) byRole(role string) []node {
	var out []node
	for _, n := range c.Nodes {
		if n.is(role) {
			out = append(out, n)
		}
	}
	return out
}

// pgNodes are the nodes that run the cluster's Postgres (not the witness).
func (c *cluster) pgNodes() []node {
	var out []node
	for _, n := range c.Nodes {
		if n.is("primary") || n.is("replica") {
			out = append(out, n)
		}
	}
	return out
}

func (c *cluster) password(t *testing.T, user string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.Dir, "secrets", user))
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

type clusterOpts struct {
	manager  string                           // --failover-manager (repmgr when empty)
	cascaded int                              // --num-cascaded-replicas
	settings func(*cluster) map[string]string // postgres_conf_settings, knowing the hosts' names
	vars     map[string]string                // more cluster_vars (YAML scalars)
	// verbose deploys with -vvv and records the hosts' process lists
	// during the deploy (for the security checks).
	verbose bool
	// admitTest admits the test process (the network's gateway) as
	// postgres in pg_hba.conf, through postgres_hba_settings.
	admitTest bool
}

// newCluster configures, provisions and deploys a cluster and removes it
// when the test ends.
func newCluster(t *testing.T, prefix string, o clusterOpts) *cluster {
	t.Helper()
	requireSuite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	subnet, err := docker.AllocateSubnet(ctx, dockerCli, subnetRange)
	require.NoError(t, err)
	name := fmt.Sprintf("%s%d", prefix, os.Getpid())
	dir := filepath.Join(t.TempDir(), name)
	manager := o.manager
	if manager == "" {
		manager = "repmgr"
	}
	if o.admitTest {
		// Docker's gateway: the address the test process has on the network.
		o.vars = maps.Clone(o.vars)
		if o.vars == nil {
			o.vars = map[string]string{}
		}
		o.vars["postgres_hba_settings"] = fmt.Sprintf(`["host all postgres %s/32 scram-sha-256"]`, subnet.Addr().Next())
	}
	out, err := tpago(ctx, "configure", dir, "-a", "M1", "--platform", "docker", "--postgresql", "15",
		"--failover-manager", manager, "--subnet", subnet.String(), "--no-git",
		"--num-cascaded-replicas", fmt.Sprint(o.cascaded))
	require.NoError(t, err, "configure: %s", out)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := tpago(ctx, "deprovision", dir, "--yes"); err != nil {
			t.Errorf("deprovision %s: %v\n%s", dir, err, out)
		}
	})
	cfgPath := filepath.Join(dir, "config.yml")
	cfg, err := clusterdir.LoadConfig(cfgPath)
	require.NoError(t, err)
	c := &cluster{Dir: dir, Name: cfg.ClusterName, Net: cfg.ClusterName, Manager: manager}
	if len(cfg.DockerNetworks) > 0 {
		c.Net = cfg.DockerNetworks[0].Name
	}
	for _, in := range cfg.Instances {
		c.Nodes = append(c.Nodes, node{Name: in.Name, Container: docker.ContainerName(cfg.ClusterName, in.Name),
			IP: in.IPAddress, Roles: in.Role, Upstream: in.Upstream})
	}
	if o.settings != nil || len(o.vars) > 0 {
		b, err := os.ReadFile(cfgPath)
		require.NoError(t, err)
		var s strings.Builder
		s.WriteString("  postgres_conf_settings:")
		var settings map[string]string
		if o.settings != nil {
			settings = o.settings(c)
		}
		if len(settings) == 0 {
			s.WriteString(" {}")
		}
		s.WriteString("\n")
		for k, v := range settings {
			fmt.Fprintf(&s, "    %s: %q\n", k, v)
		}
		for k, v := range o.vars {
			fmt.Fprintf(&s, "  %s: %s\n", k, v)
		}
		edited := strings.Replace(string(b), "  postgres_conf_settings: {}\n", s.String(), 1)
		require.NotEqual(t, string(b), edited, "config.yml has no postgres_conf_settings line to replace")
		require.NoError(t, os.WriteFile(cfgPath, []byte(edited), 0o644))
	}
	provision(t, ctx, dir)
	start := time.Now()
	args := []string{"deploy", dir}
	var stopPS func() map[string]bool
	if o.verbose {
		args = append(args, "-vvv")
		stopPS = c.watchPS(ctx)
	}
	out, err = tpago(ctx, args...)
	if stopPS != nil {
		c.DeployPS = stopPS()
	}
	require.NoError(t, err, "deploy: %s", tail(out, 60))
	c.DeployOutput = out
	t.Logf("cluster %s (%s) deployed in %s", c.Name, subnet, time.Since(start).Round(time.Second))
	return c
}

// provision runs tpago provision, once more after restarting containers
// whose systemd did not come up (a busy machine can leave one stuck).
func provision(t *testing.T, ctx context.Context, dir string) {
	t.Helper()
	out, err := tpago(ctx, "provision", dir)
	if err == nil {
		return
	}
	t.Logf("provision failed, retrying once: %s", tail(out, 10))
	out, err = tpago(ctx, "provision", dir)
	require.NoError(t, err, "provision: %s", tail(out, 30))
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// sh runs a shell script in a node's container as root.
func (c *cluster) sh(ctx context.Context, n node, script string) (string, error) {
	out, errOut, rc, err := docker.Exec(ctx, dockerCli, n.Container, []string{"sh", "-c", script})
	if err != nil {
		return "", err
	}
	if rc != 0 {
		return out, fmt.Errorf("%s: exit %d: %s%s", n.Name, rc, out, errOut)
	}
	return out, nil
}

// asPostgres runs a shell command in a node's container as postgres.
func (c *cluster) asPostgres(ctx context.Context, n node, script string) (string, error) {
	return c.sh(ctx, n, "cd /var/lib/postgresql && exec runuser -u postgres -- sh -c "+quote(script))
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// psql runs SQL on a node through the local socket and returns trimmed output.
func (c *cluster) psql(ctx context.Context, n node, db, sql string) (string, error) {
	out, err := c.asPostgres(ctx, n, fmt.Sprintf("psql -XAtq -v ON_ERROR_STOP=1 -d %s -c %s", db, quote(sql)))
	return strings.TrimSpace(out), err
}

// kill cuts n's power and start turns it on again, as tpago test
// --failover does: through the platform's PowerSwitch (docker kills and
// starts the container).
func (c *cluster) kill(t *testing.T, n node) { c.power(t, n, false) }

func (c *cluster) start(t *testing.T, n node) { c.power(t, n, true) }

func (c *cluster) power(t *testing.T, n node, on bool) {
	t.Helper()
	pc, err := platforms.LoadCluster(c.Dir)
	require.NoError(t, err)
	p, ok := platforms.Lookup(pc.Platform())
	require.True(t, ok, "platform %s", pc.Platform())
	sw, ok := p.(platforms.PowerSwitch)
	require.True(t, ok, "the %s platform cannot cut a host's power", pc.Platform())
	if on {
		require.NoError(t, sw.PowerOn(context.Background(), pc, n.Name), "power on %s", n.Name)
	} else {
		require.NoError(t, sw.PowerOff(context.Background(), pc, n.Name), "power off %s", n.Name)
	}
}

// waitFor polls cond every interval until it returns true or the timeout passes.
func waitFor(ctx context.Context, timeout, interval time.Duration, cond func(context.Context) bool) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if cond(ctx) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(interval):
		}
	}
}

// watchPS reads every host's process list every 200 ms until the returned
// function is called, which returns every distinct command line seen.
func (c *cluster) watchPS(ctx context.Context) (stop func() map[string]bool) {
	seen := map[string]bool{}
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if out, err := c.sh(ctx, n, "ps -eo args"); err == nil {
					mu.Lock()
					for _, l := range strings.Split(out, "\n") {
						seen[l] = true
					}
					mu.Unlock()
				}
				select {
				case <-ctx.Done():
				case <-time.After(200 * time.Millisecond):
				}
			}
		}()
	}
	return func() map[string]bool { cancel(); wg.Wait(); return seen }
}

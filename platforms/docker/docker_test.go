package docker_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/internal/testenv"
	"github.com/tpago/tpago/platforms"
	"github.com/tpago/tpago/platforms/docker"
)

func dockerClient(t *testing.T) *client.Client {
	t.Helper()
	testenv.Require(t, testenv.Docker)
	cli, err := docker.NewClient(context.Background())
	if err != nil {
		t.Fatalf("%v\nthese tests need the Docker engine: run `sh scripts/setup.sh` (as root)", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

type cfgHost struct {
	name, ip string
	roles    []string
}

func writeConfig(t *testing.T, dir, name, subnet string, hosts []cfgHost) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "cluster_name: %s\narchitecture: M1\ninstance_defaults:\n  platform: docker\n  image: tpago/debian:12\n", name)
	if subnet != "" {
		fmt.Fprintf(&b, "docker_networks:\n- name: %s\n  ipam_config:\n  - subnet: %s\n", name, subnet)
	}
	b.WriteString("instances:\n")
	for i, h := range hosts {
		fmt.Fprintf(&b, "- Name: %s\n  node: %d\n", h.name, i+1)
		if h.ip != "" {
			fmt.Fprintf(&b, "  ip_address: %s\n", h.ip)
		}
		if len(h.roles) > 0 {
			fmt.Fprintf(&b, "  role: [%s]\n", strings.Join(h.roles, ", "))
		}
		if slices.Contains(h.roles, "replica") {
			fmt.Fprintf(&b, "  upstream: %s\n", hosts[0].name)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte(b.String()), 0o644))
}

// labelled returns the names of the containers and networks that carry
// the cluster's label.
func labelled(t *testing.T, cli *client.Client, cluster string) (ctrs, nets []string) {
	t.Helper()
	f := filters.NewArgs(filters.Arg("label", docker.LabelCluster+"="+cluster))
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: f})
	require.NoError(t, err)
	for _, c := range list {
		ctrs = append(ctrs, strings.TrimPrefix(c.Names[0], "/"))
	}
	nl, err := cli.NetworkList(context.Background(), network.ListOptions{Filters: f})
	require.NoError(t, err)
	for _, n := range nl {
		nets = append(nets, n.Name)
	}
	return ctrs, nets
}

func deprovisionAtEnd(t *testing.T, dir string) {
	t.Cleanup(func() {
		if _, err := platforms.Deprovision(context.Background(), dir, nil); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

func TestImageBuild(t *testing.T) {
	cli := dockerClient(t)
	var out bytes.Buffer
	start := time.Now()
	name, built, err := docker.BuildImage(context.Background(), cli, docker.ImageOptions{Out: &out})
	require.NoError(t, err, out.String())
	assert.Equal(t, "tpago/debian:12", name)
	if built {
		t.Logf("image build: %s", time.Since(start).Round(time.Second))
	}
	// A second build keeps the image and says so.
	out.Reset()
	_, built, err = docker.BuildImage(context.Background(), cli, docker.ImageOptions{Out: &out})
	require.NoError(t, err)
	assert.False(t, built)
	assert.Contains(t, out.String(), "present")
	img, err := cli.ImageInspect(context.Background(), name)
	require.NoError(t, err)
	assert.Equal(t, []string{"/sbin/init"}, []string(img.Config.Cmd))
}

func TestBuildable(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"tpago/debian:12", true},
		{"tpago/debian:11", true},
		{"tpago/debian:99", false},
		{"tpago/ubuntu:22.04", false},
		{"debian:12", false},
	}
	for _, tt := range tests {
		_, ok := docker.Buildable(tt.name)
		assert.Equal(t, tt.ok, ok, tt.name)
	}
}

// The whole life of a cluster: provision, ping, SSH with verified keys,
// re-provision (no-op), add a host, start a stopped host, a second cluster
// beside it, deprovision.
func TestClusterLifecycle(t *testing.T) {
	cli := dockerClient(t)
	ctx := context.Background()
	subnet := testenv.ReserveSubnet(t)
	base := strings.TrimSuffix(subnet.Addr().String(), ".0")
	dir := t.TempDir()
	name := fmt.Sprintf("tpt-life-%d", os.Getpid())
	hosts := []cfgHost{
		{name: "alpha", ip: base + ".11", roles: []string{"primary"}},
		{name: "beta", ip: base + ".12", roles: []string{"replica"}},
		{name: "gamma", ip: base + ".13", roles: []string{"replica"}},
	}
	writeConfig(t, dir, name, subnet.String(), hosts)
	deprovisionAtEnd(t, dir)

	var out bytes.Buffer
	start := time.Now()
	res, err := platforms.Provision(ctx, dir, platforms.Options{Out: &out})
	require.NoError(t, err, out.String())
	t.Logf("provision 3 hosts: %s\n%s", time.Since(start).Round(time.Millisecond), out.String())
	require.Len(t, res.Hosts, 3)
	assert.Positive(t, res.Changes)

	// Key pair, made once, private key 0600.
	st, err := os.Stat(filepath.Join(dir, "id_"+name))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.FileExists(t, filepath.Join(dir, "id_"+name+".pub"))

	// Containers: named, labelled, hostname, address, systemd as PID 1.
	ctrs, nets := labelled(t, cli, name)
	assert.ElementsMatch(t, []string{name + "-alpha", name + "-beta", name + "-gamma"}, ctrs)
	assert.Equal(t, []string{name}, nets)
	for _, h := range hosts {
		c, err := cli.ContainerInspect(ctx, name+"-"+h.name)
		require.NoError(t, err)
		assert.Equal(t, h.name, c.Config.Hostname)
		assert.Equal(t, dir, c.Config.Labels[docker.LabelClusterDir])
		assert.Equal(t, h.ip, c.NetworkSettings.Networks[name].IPAddress)
		comm, _, _, err := docker.Exec(ctx, cli, name+"-"+h.name, []string{"cat", "/proc/1/comm"})
		require.NoError(t, err)
		assert.Equal(t, "systemd\n", comm)
	}

	// Inventory: addresses, users, key, known_hosts, groups.
	inv, err := os.ReadFile(filepath.Join(dir, "inventory.yml"))
	require.NoError(t, err)
	names, vars, err := platforms.ReadInventoryHosts(filepath.Join(dir, "inventory.yml"))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"alpha", "beta", "gamma"}, names)
	assert.Equal(t, base+".12", vars["beta"]["ansible_host"])
	assert.Equal(t, "root", vars["beta"]["ansible_user"])
	assert.Equal(t, filepath.Join(dir, "id_"+name), vars["beta"]["ansible_ssh_private_key_file"])
	assert.Equal(t, filepath.Join(dir, "known_hosts"), vars["beta"]["ansible_ssh_known_hosts_file"])
	assert.Contains(t, string(inv), "role_replica:")

	// Every host has its own host key, and SSH works with verified keys.
	kh, err := os.ReadFile(filepath.Join(dir, "known_hosts"))
	require.NoError(t, err)
	seen := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(kh)), "\n") {
		f := strings.Fields(line)
		require.Len(t, f, 3, line)
		require.NotContains(t, seen, f[2], "%s and %s share a host key", seen[f[2]], f[0])
		seen[f[2]] = f[0]
	}
	assert.Len(t, seen, 3)
	for i, h := range hosts {
		c, err := conn.DialSSH(ctx, sshFromVars(t, h.name, vars[h.name]))
		require.NoError(t, err, h.name)
		var o bytes.Buffer
		rc, err := c.Exec(ctx, "hostname; systemctl is-active ssh", nil, &o, nil)
		require.NoError(t, err)
		assert.Equal(t, 0, rc)
		assert.Equal(t, h.name+"\nactive\n", o.String(), "host %d", i)
		c.Close()
	}

	// Sixty small commands in a row over one connection.
	{
		c, err := conn.DialSSH(ctx, sshFromVars(t, "alpha", vars["alpha"]))
		require.NoError(t, err)
		start := time.Now()
		for i := range 60 {
			rc, err := c.Exec(ctx, "test -d /tmp", nil, nil, nil)
			require.NoError(t, err, "command %d", i)
			require.Equal(t, 0, rc)
		}
		t.Logf("60 sequential commands on one container over one SSH connection: %s", time.Since(start).Round(time.Millisecond))
		c.Close()
	}

	// A tampered known_hosts entry makes the connection fail.
	tampered := filepath.Join(t.TempDir(), "known_hosts")
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	f0, f1 := strings.Fields(lines[0]), strings.Fields(lines[1])
	require.NoError(t, os.WriteFile(tampered, []byte(f0[0]+" "+f1[1]+" "+f1[2]+"\n"), 0o600))
	cfg := sshFromVars(t, f0[0], map[string]any{"ansible_host": f0[0], "ansible_user": "root",
		"ansible_ssh_private_key_file": filepath.Join(dir, "id_"+name), "ansible_ssh_known_hosts_file": tampered})
	_, err = conn.DialSSH(ctx, cfg)
	require.ErrorIs(t, err, conn.ErrHostKeyMismatch)

	// Ping.
	pr, err := platforms.Ping(ctx, dir)
	require.NoError(t, err)
	require.Len(t, pr, 3)
	for _, r := range pr {
		assert.NoError(t, r.Err, r.Name)
		assert.Positive(t, r.Latency)
	}

	// Provisioning again changes nothing.
	out.Reset()
	res, err = platforms.Provision(ctx, dir, platforms.Options{Out: &out})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Changes, out.String())
	assert.Contains(t, out.String(), "nothing to change")
	kh2, _ := os.ReadFile(filepath.Join(dir, "known_hosts"))
	assert.Equal(t, string(kh), string(kh2))

	// Adding an instance adds one container; one without an address gets
	// a free one.
	hosts = append(hosts, cfgHost{name: "delta"})
	writeConfig(t, dir, name, subnet.String(), hosts)
	out.Reset()
	res, err = platforms.Provision(ctx, dir, platforms.Options{Out: &out})
	require.NoError(t, err, out.String())
	require.Len(t, res.Hosts, 4)
	assert.Equal(t, 1, strings.Count(out.String(), "created and started"), out.String())
	ctrs, _ = labelled(t, cli, name)
	assert.Len(t, ctrs, 4)
	assert.True(t, subnet.Contains(mustAddr(t, res.Hosts[3].Address)))

	// A stopped container is started.
	timeout := 5
	require.NoError(t, cli.ContainerStop(ctx, name+"-beta", container.StopOptions{Timeout: &timeout}))
	out.Reset()
	res, err = platforms.Provision(ctx, dir, platforms.Options{Out: &out})
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), name+"-beta")
	assert.Contains(t, out.String(), "started")
	pr, err = platforms.Ping(ctx, dir)
	require.NoError(t, err)
	for _, r := range pr {
		assert.NoError(t, r.Err, r.Name)
	}

	// A second cluster beside it: its own network, and it cannot reach
	// the first cluster's hosts.
	subnet2 := testenv.ReserveSubnet(t)
	dir2 := t.TempDir()
	name2 := fmt.Sprintf("tpt-side-%d", os.Getpid())
	writeConfig(t, dir2, name2, subnet2.String(), []cfgHost{{name: "alpha", roles: []string{"primary"}, ip: strings.TrimSuffix(subnet2.Addr().String(), ".0") + ".11"}})
	deprovisionAtEnd(t, dir2)
	_, err = platforms.Provision(ctx, dir2, platforms.Options{})
	require.NoError(t, err)
	_, _, rc, err := docker.Exec(ctx, cli, name2+"-alpha", []string{"timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/" + base + ".11/22"})
	require.NoError(t, err)
	assert.NotEqual(t, 0, rc, "the second cluster reaches the first")

	// Deprovision removes exactly the first cluster.
	removed, err := platforms.Deprovision(ctx, dir, nil)
	require.NoError(t, err)
	assert.Len(t, removed, 5)
	ctrs, nets = labelled(t, cli, name)
	assert.Empty(t, ctrs)
	assert.Empty(t, nets)
	assert.NoFileExists(t, filepath.Join(dir, "known_hosts"), "the removed hosts' keys are forgotten")
	assert.NoFileExists(t, filepath.Join(dir, "inventory.yml"))
	assert.FileExists(t, filepath.Join(dir, "config.yml"))
	ctrs2, nets2 := labelled(t, cli, name2)
	assert.Equal(t, []string{name2 + "-alpha"}, ctrs2)
	assert.Equal(t, []string{name2}, nets2)
}

// Bad config.yml: a clear error naming the instance and the field, and
// nothing created.
func TestProvisionRejectsBadConfig(t *testing.T) {
	cli := dockerClient(t)
	subnet := testenv.ReserveSubnet(t)
	base := strings.TrimSuffix(subnet.Addr().String(), ".0")
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{"duplicate name", `
instances:
- Name: one
  node: 1
  role: [primary]
  ip_address: BASE.11
- Name: one
  node: 2
  ip_address: BASE.12
`, []string{"config.yml:14:9", `duplicate instance Name "one"`, "> 14 | - Name: one"}},
		{"duplicate address", `
instances:
- Name: one
  node: 1
  role: [primary]
  ip_address: BASE.11
- Name: two
  node: 2
  ip_address: BASE.11
`, []string{"config.yml:16:15", "duplicate ip_address BASE.11"}},
		{"address outside the subnet", `
instances:
- Name: one
  node: 1
  role: [primary]
  ip_address: 10.1.2.3
`, []string{"config.yml:13:15", "ip_address 10.1.2.3 is not in the docker_networks subnet"}},
		{"unknown platform", `
instances:
- Name: one
  node: 1
  role: [primary]
  platform: vmware
`, []string{"config.yml:13:13", `unknown platform "vmware"`}},
		{"image that cannot be built", `
instances:
- Name: one
  node: 1
  role: [primary]
  image: example/nothing:1
`, []string{"config.yml:13:10", "instance one: image: image example/nothing:1", "cannot build it"}},
		{"platform without a provisioner", `
instances:
- Name: one
  node: 1
  role: [primary]
  platform: aws
`, []string{"config.yml:13:13", "instance one: platform", `unknown platform "aws"`}},
		{"bad subnet", `
instances:
- Name: one
  node: 1
  role: [primary]
`, []string{"subnet"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			name := fmt.Sprintf("tpt-bad%d-%d", i, os.Getpid())
			sn := subnet.String()
			if tt.name == "bad subnet" {
				sn = "10.300.0.0/24"
			}
			cfg := fmt.Sprintf("cluster_name: %s\narchitecture: M1\ninstance_defaults:\n  platform: docker\ndocker_networks:\n- name: %s\n  ipam_config:\n  - subnet: %s\n", name, name, sn) +
				strings.TrimPrefix(strings.ReplaceAll(tt.config, "BASE", base), "\n")
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644))
			_, err := platforms.Provision(context.Background(), dir, platforms.Options{})
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), strings.ReplaceAll(w, "BASE", base))
			}
			ctrs, nets := labelled(t, cli, name)
			assert.Empty(t, ctrs)
			assert.Empty(t, nets)
			assert.NoFileExists(t, filepath.Join(dir, "id_"+name))
			assert.NoFileExists(t, filepath.Join(dir, "inventory.yml"))
		})
	}
}

func TestDaemonUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, err := docker.NewClient(context.Background())
	require.ErrorIs(t, err, docker.ErrDaemon)
	assert.Contains(t, err.Error(), "scripts/setup.sh")
	assert.NotContains(t, err.Error(), "\n")
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	require.NoError(t, err)
	return a
}

func TestFirstFree(t *testing.T) {
	p := netip.MustParsePrefix
	r := [2]netip.Prefix{p("10.200.0.0/24"), p("10.200.3.0/24")}
	tests := []struct {
		name string
		used []string
		skip string
		want string
	}{
		{"empty", nil, "", "10.200.0.0/24"},
		{"first used", []string{"10.200.0.0/24"}, "", "10.200.1.0/24"},
		{"a wide network covers several", []string{"10.200.0.0/23"}, "", "10.200.2.0/24"},
		{"skipped", []string{"10.200.0.0/24"}, "10.200.1.0/24", "10.200.2.0/24"},
		{"all used", []string{"10.200.0.0/16"}, "", ""},
		{"unrelated networks", []string{"172.17.0.0/16", "10.201.0.0/24"}, "", "10.200.0.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			used := map[netip.Prefix]string{}
			for _, u := range tt.used {
				used[p(u)] = "n"
			}
			var skip func(netip.Prefix) bool
			if tt.skip != "" {
				skip = func(s netip.Prefix) bool { return s == p(tt.skip) }
			}
			got, err := docker.FirstFree(r, used, skip)
			if tt.want == "" {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.String())
		})
	}
}

func TestMachineMirror(t *testing.T) {
	mirror, _, err := docker.MachineMirror()
	require.NoError(t, err, "this machine's apt sources name no Debian mirror")
	assert.True(t, strings.HasPrefix(mirror, "http"), mirror)
}

// sshFromVars is how the engine reaches a host of the inventory.
func sshFromVars(t *testing.T, name string, vars map[string]any) conn.SSHConfig {
	t.Helper()
	cfg, err := conn.SSHConfigFromVars(name, conn.MapVars(vars))
	require.NoError(t, err, name)
	cfg.ConnectTimeout = 5 * time.Second
	return cfg
}

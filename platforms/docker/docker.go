// Package docker is the docker platform: each instance is a container
// running systemd and sshd on the cluster's own network, with a fixed
// address.
package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/tpago/tpago/platforms"
	"golang.org/x/crypto/ssh"
)

// Labels put on everything the platform makes.
const (
	LabelCluster    = "tpago.cluster"
	LabelClusterDir = "tpago.cluster_dir"
	LabelInstance   = "tpago.instance"
)

// DefaultImage is used when config.yml names none.
const DefaultImage = "tpago/debian:12"

// AllocRange is where subnets are allocated for clusters whose config.yml
// gives none: the /24s of 10.200.0.0 to 10.239.255.0.
var AllocRange = [2]netip.Prefix{netip.MustParsePrefix("10.200.0.0/24"), netip.MustParsePrefix("10.239.255.0/24")}

// Provisioner is the docker platform.
type Provisioner struct {
	// BootWait bounds the wait for a container's sshd host key (3 minutes when 0).
	BootWait time.Duration
}

var (
	_ platforms.Provisioner   = (*Provisioner)(nil)
	_ platforms.Validator     = (*Provisioner)(nil)
	_ platforms.Deprovisioner = (*Provisioner)(nil)
)

func init() { platforms.Register("docker", &Provisioner{}) }

// NewClient connects to the Docker engine (DOCKER_HOST or the local
// socket) and checks that it answers.
func NewClient(ctx context.Context) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		cli.Close()
		return nil, daemonError(err)
	}
	return cli, nil
}

// ErrDaemon is wrapped by errors that say the Docker engine is not reachable.
var ErrDaemon = errors.New("the Docker daemon is not reachable")

func daemonError(err error) error {
	if client.IsErrConnectionFailed(err) || strings.Contains(err.Error(), "Cannot connect to the Docker daemon") {
		return fmt.Errorf("%w at %s: start it (sh scripts/setup.sh installs and starts it; or `dockerd &`)", ErrDaemon, hostOrDefault())
	}
	return err
}

func hostOrDefault() string {
	cli, err := client.NewClientWithOpts(client.FromEnv)
	if err != nil {
		return client.DefaultDockerHost
	}
	defer cli.Close()
	return cli.DaemonHost()
}

// ContainerName is the name of the container of a cluster's host.
func ContainerName(cluster, host string) string { return cluster + "-" + host }

func clusterFilter(c *platforms.Cluster) filters.Args {
	return filters.NewArgs(filters.Arg("label", LabelCluster+"="+c.Name))
}

func labels(c *platforms.Cluster) map[string]string {
	return map[string]string{LabelCluster: c.Name, LabelClusterDir: c.Dir}
}

// plan is what the cluster needs, worked out before anything is made.
type plan struct {
	netName string
	subnet  netip.Prefix // invalid: allocate
	addrs   map[string]netip.Addr
}

func imageOf(in *platforms.Instance) string {
	if in.Image == "" {
		return DefaultImage
	}
	return in.Image
}

func (p *Provisioner) plan(c *platforms.Cluster) (*plan, error) {
	pl := &plan{netName: c.Name, addrs: map[string]netip.Addr{}}
	if nets := c.Config.DockerNetworks; len(nets) > 0 {
		if len(nets) > 1 {
			return nil, fmt.Errorf("%s: docker_networks: tpago uses one network per cluster, this config has %d", c.Where("$.docker_networks[1]"), len(nets))
		}
		if nets[0].Name != "" {
			pl.netName = nets[0].Name
		}
		if len(nets[0].IPAMConfig) > 0 {
			s, err := netip.ParsePrefix(nets[0].IPAMConfig[0].Subnet)
			if err != nil || !s.Addr().Is4() {
				return nil, fmt.Errorf("%s: docker_networks: subnet %q is not an IPv4 subnet (like 10.210.1.0/24)", c.Where("$.docker_networks[0].ipam_config[0].subnet"), nets[0].IPAMConfig[0].Subnet)
			}
			if s.Bits() > 29 {
				return nil, fmt.Errorf("%s: docker_networks: subnet %s is too small", c.Where("$.docker_networks[0].ipam_config[0].subnet"), s)
			}
			pl.subnet = s.Masked()
		}
	}
	for _, in := range c.Instances {
		if in.IPAddress == "" {
			continue
		}
		a := netip.MustParseAddr(in.IPAddress)
		if pl.subnet.IsValid() {
			if !pl.subnet.Contains(a) {
				return nil, c.InstanceError(in, "ip_address", "%s is outside the cluster's subnet %s", a, pl.subnet)
			}
			if a == pl.subnet.Addr() || a == pl.subnet.Addr().Next() || a == lastAddr(pl.subnet) {
				return nil, c.InstanceError(in, "ip_address", "%s is the network, gateway or broadcast address of %s", a, pl.subnet)
			}
		}
		pl.addrs[in.Name] = a
	}
	if !pl.subnet.IsValid() && len(pl.addrs) > 0 {
		// Addresses without a network: their /24 is the subnet.
		first := pl.addrs[c.Instances[0].Name]
		if !first.IsValid() {
			for _, a := range pl.addrs {
				first = a
				break
			}
		}
		s := netip.PrefixFrom(first, 24).Masked()
		for _, in := range c.Instances {
			if a, ok := pl.addrs[in.Name]; ok && !s.Contains(a) {
				return nil, c.InstanceError(in, "ip_address", "%s is not in %s with the other instances (give docker_networks a subnet)", a, s)
			}
		}
		pl.subnet = s
	}
	return pl, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Validate checks the docker settings of config.yml and that the images
// exist or can be built, before anything is made.
func (p *Provisioner) Validate(ctx context.Context, c *platforms.Cluster) error {
	if _, err := p.plan(c); err != nil {
		return err
	}
	cli, err := NewClient(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	for _, in := range c.Instances {
		img := imageOf(in)
		ok, err := ImageExists(ctx, cli, img)
		if err != nil {
			return err
		}
		if ok {
			continue
		}
		if _, buildable := Buildable(img); !buildable {
			return c.InstanceError(in, "image", "image %s is not in the Docker engine and tpago cannot build it (it builds tpago/debian:12 with `tpago image build`)", img)
		}
		if _, err := exec.LookPath("debootstrap"); err != nil {
			return c.InstanceError(in, "image", "image %s is not in the Docker engine, and building it needs debootstrap, which is not installed: run `sh scripts/setup.sh`", img)
		}
	}
	return nil
}

// Provision makes the cluster's network and containers, starts stopped
// ones, installs the cluster's key and reads each host's SSH key.
func (p *Provisioner) Provision(ctx context.Context, c *platforms.Cluster) ([]platforms.Host, error) {
	pl, err := p.plan(c)
	if err != nil {
		return nil, err
	}
	cli, err := NewClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()

	// Images.
	built := map[string]bool{}
	for _, in := range c.Instances {
		img := imageOf(in)
		if built[img] {
			continue
		}
		built[img] = true
		ok, err := ImageExists(ctx, cli, img)
		if err != nil {
			return nil, err
		}
		if ok {
			continue
		}
		opts, _ := Buildable(img)
		c.Say("image %s is missing (or was built by an older tpago): building it", img)
		opts.Out = c.Out
		if _, _, err := BuildImage(ctx, cli, opts); err != nil {
			return nil, err
		}
		c.Changed("image %s: built", img)
	}

	netID, subnet, err := p.ensureNetwork(ctx, cli, c, pl)
	if err != nil {
		return nil, err
	}

	// Existing containers keep their addresses; new ones get the
	// configured one or the next free one.
	existing := map[string]container.Summary{}
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: clusterFilter(c)})
	if err != nil {
		return nil, daemonError(err)
	}
	used := map[netip.Addr]string{}
	for _, a := range pl.addrs {
		used[a] = "config"
	}
	for _, s := range list {
		existing[strings.TrimPrefix(firstName(s.Names), "/")] = s
		if s.NetworkSettings != nil {
			if ep := s.NetworkSettings.Networks[pl.netName]; ep != nil {
				if a, err := netip.ParseAddr(ep.IPAddress); err == nil {
					used[a] = "container"
				}
			}
		}
	}
	hosts := make([]platforms.Host, len(c.Instances))
	errs := make([]error, len(c.Instances))
	var wg sync.WaitGroup
	for i, in := range c.Instances {
		cname := ContainerName(c.Name, in.Name)
		addr, ok := pl.addrs[in.Name]
		if s, exists := existing[cname]; exists {
			if s.Labels[LabelClusterDir] != c.Dir {
				return nil, c.InstanceError(in, "Name", "container %s belongs to the cluster in %s, not %s", cname, s.Labels[LabelClusterDir], c.Dir)
			}
			var cur netip.Addr
			if s.NetworkSettings != nil {
				if ep := s.NetworkSettings.Networks[pl.netName]; ep != nil {
					cur, _ = netip.ParseAddr(ep.IPAddress)
				}
			}
			if ok && cur.IsValid() && cur != addr {
				return nil, c.InstanceError(in, "ip_address", "container %s has address %s, config.yml says %s: deprovision it and provision again", cname, cur, addr)
			}
			if !ok {
				addr = cur
			}
		} else if !ok {
			addr = nextFree(subnet, used)
			if !addr.IsValid() {
				return nil, c.InstanceError(in, "ip_address", "no free address left in %s", subnet)
			}
			used[addr] = in.Name
		}
		hosts[i] = platforms.Host{Name: in.Name, Address: addr.String(), Port: 22, User: in.User}
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys, err := p.ensureContainer(ctx, cli, c, in, cname, netID, pl.netName, addr, existing)
			hosts[i].HostKeys = keys
			if err != nil {
				errs[i] = fmt.Errorf("instance %s (container %s): %w", in.Name, cname, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	wanted := map[string]bool{}
	for _, in := range c.Instances {
		wanted[ContainerName(c.Name, in.Name)] = true
	}
	for name, s := range existing {
		if !wanted[name] && s.Labels[LabelClusterDir] == c.Dir {
			c.Say("container %s is no longer in config.yml: kept (docker rm -f %s removes it)", name, name)
		}
	}
	return hosts, nil
}

func firstName(n []string) string {
	if len(n) == 0 {
		return ""
	}
	return n[0]
}

func nextFree(subnet netip.Prefix, used map[netip.Addr]string) netip.Addr {
	last := lastAddr(subnet)
	for a := subnet.Addr().Next().Next().Next(); subnet.Contains(a) && a != last; a = a.Next() {
		if _, taken := used[a]; !taken {
			return a
		}
	}
	return netip.Addr{}
}

// ensureNetwork finds the cluster's network by its label or makes it.
func (p *Provisioner) ensureNetwork(ctx context.Context, cli *client.Client, c *platforms.Cluster, pl *plan) (string, netip.Prefix, error) {
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: clusterFilter(c)})
	if err != nil {
		return "", netip.Prefix{}, daemonError(err)
	}
	for _, n := range nets {
		if n.Name != pl.netName {
			continue
		}
		if n.Labels[LabelClusterDir] != c.Dir {
			return "", netip.Prefix{}, fmt.Errorf("network %s belongs to the cluster in %s, not %s", n.Name, n.Labels[LabelClusterDir], c.Dir)
		}
		var have netip.Prefix
		for _, ic := range n.IPAM.Config {
			if s, err := netip.ParsePrefix(ic.Subnet); err == nil {
				have = s
			}
		}
		if pl.subnet.IsValid() && have != pl.subnet {
			return "", netip.Prefix{}, fmt.Errorf("network %s has subnet %s, config.yml says %s: deprovision the cluster and provision again", n.Name, have, pl.subnet)
		}
		c.Say("network %s (%s): present", n.Name, have)
		return n.ID, have, nil
	}
	// Is the name taken by somebody else's network?
	if n, err := cli.NetworkInspect(ctx, pl.netName, network.InspectOptions{}); err == nil {
		return "", netip.Prefix{}, fmt.Errorf("a Docker network named %s exists and is not this cluster's (label %s=%s missing): rename the cluster or its docker_networks", n.Name, LabelCluster, c.Name)
	}
	subnet := pl.subnet
	for attempt := 0; ; attempt++ {
		if !subnet.IsValid() || attempt > 0 && !pl.subnet.IsValid() {
			s, err := AllocateSubnet(ctx, cli, AllocRange)
			if err != nil {
				return "", netip.Prefix{}, err
			}
			subnet = s
		} else if err := checkFree(ctx, cli, subnet); err != nil {
			return "", netip.Prefix{}, err
		}
		resp, err := cli.NetworkCreate(ctx, pl.netName, network.CreateOptions{
			Driver: "bridge",
			IPAM:   &network.IPAM{Config: []network.IPAMConfig{{Subnet: subnet.String(), Gateway: subnet.Addr().Next().String()}}},
			Labels: labels(c),
		})
		if err == nil {
			c.Changed("network %s (%s): created", pl.netName, subnet)
			return resp.ID, subnet, nil
		}
		// Another cluster took the subnet meanwhile: try another.
		if pl.subnet.IsValid() || attempt > 5 || !strings.Contains(err.Error(), "overlap") {
			return "", netip.Prefix{}, fmt.Errorf("create network %s (%s): %w", pl.netName, subnet, daemonError(err))
		}
	}
}

// usedSubnets lists the subnets of every Docker network.
func usedSubnets(ctx context.Context, cli *client.Client) (map[netip.Prefix]string, error) {
	nets, err := cli.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, daemonError(err)
	}
	used := map[netip.Prefix]string{}
	for _, n := range nets {
		for _, ic := range n.IPAM.Config {
			if s, err := netip.ParsePrefix(ic.Subnet); err == nil {
				used[s.Masked()] = n.Name
			}
		}
	}
	return used, nil
}

func checkFree(ctx context.Context, cli *client.Client, subnet netip.Prefix) error {
	used, err := usedSubnets(ctx, cli)
	if err != nil {
		return err
	}
	for s, name := range used {
		if s.Overlaps(subnet) {
			return fmt.Errorf("subnet %s overlaps %s of the Docker network %s: choose another subnet in docker_networks", subnet, s, name)
		}
	}
	return nil
}

// AllocateSubnet returns the first /24 from r[0] to r[1] that overlaps no
// Docker network's subnet.
func AllocateSubnet(ctx context.Context, cli *client.Client, r [2]netip.Prefix) (netip.Prefix, error) {
	used, err := usedSubnets(ctx, cli)
	if err != nil {
		return netip.Prefix{}, err
	}
	return FirstFree(r, used, nil)
}

// FirstFree returns the first /24 from r[0] to r[1] that overlaps none of
// used and that skip does not reject.
func FirstFree(r [2]netip.Prefix, used map[netip.Prefix]string, skip func(netip.Prefix) bool) (netip.Prefix, error) {
	for s := r[0]; ; {
		free := true
		for u := range used {
			if u.Overlaps(s) {
				free = false
				break
			}
		}
		if free && (skip == nil || !skip(s)) {
			return s, nil
		}
		if s == r[1] {
			break
		}
		a := s.Addr().As4()
		a[2]++
		if a[2] == 0 {
			a[1]++
		}
		s = netip.PrefixFrom(netip.AddrFrom4(a), 24)
	}
	return netip.Prefix{}, fmt.Errorf("no free /24 subnet between %s and %s", r[0], r[1])
}

// ensureContainer makes or starts one container, installs the cluster's
// key and returns the host's SSH key.
func (p *Provisioner) ensureContainer(ctx context.Context, cli *client.Client, c *platforms.Cluster, in *platforms.Instance, cname, netID, netName string, addr netip.Addr, existing map[string]container.Summary) ([]ssh.PublicKey, error) {
	s, exists := existing[cname]
	switch {
	case !exists:
		lb := labels(c)
		lb[LabelInstance] = in.Name
		resp, err := cli.ContainerCreate(ctx,
			&container.Config{
				Hostname:   in.Name,
				Image:      imageOf(in),
				Cmd:        []string{"/sbin/init"},
				Labels:     lb,
				StopSignal: "SIGRTMIN+3",
			},
			&container.HostConfig{
				Tmpfs: map[string]string{"/run": "", "/run/lock": ""},
				Binds: []string{"/sys/fs/cgroup:/sys/fs/cgroup:ro"},
			},
			&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
				netName: {NetworkID: netID, IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: addr.String()}},
			}},
			nil, cname)
		if err != nil {
			return nil, fmt.Errorf("create: %w", daemonError(err))
		}
		if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			return nil, fmt.Errorf("start: %w", daemonError(err))
		}
		c.Changed("container %s (%s): created and started", cname, addr)
	case s.State != "running":
		if err := cli.ContainerStart(ctx, s.ID, container.StartOptions{}); err != nil {
			return nil, fmt.Errorf("start: %w", daemonError(err))
		}
		c.Changed("container %s (%s): was %s, started", cname, addr, s.State)
	default:
		c.Say("container %s (%s): running", cname, addr)
	}
	// The host key appears when ssh.service first starts.
	wait := p.BootWait
	if wait <= 0 {
		wait = 3 * time.Minute
	}
	deadline := time.Now().Add(wait)
	var pub string
	for {
		out, _, rc, err := Exec(ctx, cli, cname, []string{"cat", "/etc/ssh/ssh_host_ed25519_key.pub"})
		if err == nil && rc == 0 && out != "" {
			pub = out
			break
		}
		if err != nil {
			if ins, ierr := cli.ContainerInspect(ctx, cname); ierr == nil && ins.State != nil && !ins.State.Running {
				msg := bootLog(ctx, cli, cname)
				if msg == "" && ins.State.ExitCode == 255 {
					msg = "; systemd could not start, most often because the machine ran out of inotify instances: raise fs.inotify.max_user_instances (sh scripts/setup.sh does)"
				}
				return nil, fmt.Errorf("the container stopped (exit %d) while booting%s", ins.State.ExitCode, msg)
			}
		}
		if time.Now().After(deadline) {
			diag, _, _, _ := Exec(ctx, cli, cname, []string{"/bin/sh", "-c", "systemctl is-system-running; systemctl list-jobs --no-pager | head -8; systemctl status ssh --no-pager -n 5 | head -15"})
			return nil, fmt.Errorf("no SSH host key after %s; the host says:\n%s", wait, strings.TrimSpace(diag))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	// The cluster's key in the login user's authorized_keys.
	script := `set -e
u="$1"; key="$2"
if [ "$u" != root ] && ! id -u "$u" >/dev/null 2>&1; then
	useradd -m -s /bin/bash "$u"
	printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$u" > /etc/sudoers.d/tpago-"$u"
	chmod 0440 /etc/sudoers.d/tpago-"$u"
	echo changed
fi
home=$(getent passwd "$u" | cut -d: -f6)
mkdir -p "$home/.ssh"
chmod 700 "$home/.ssh"
f="$home/.ssh/authorized_keys"
if ! grep -qxF "$key" "$f" 2>/dev/null; then
	printf '%s\n' "$key" >> "$f"
	echo changed
fi
chmod 600 "$f"
chown -R "$u": "$home/.ssh"
`
	out, errOut, rc, err := Exec(ctx, cli, cname, []string{"/bin/sh", "-c", script, "sh", in.User, c.PublicKey})
	if err != nil {
		return nil, err
	}
	if rc != 0 {
		return nil, fmt.Errorf("install the cluster's key for %s: exit %d: %s", in.User, rc, errOut)
	}
	if strings.Contains(out, "changed") {
		c.Changed("container %s: cluster key authorized for %s", cname, in.User)
	}
	return []ssh.PublicKey{key}, nil
}

// Exec runs a command in a container through the Docker API and returns
// its output and exit status.
func Exec(ctx context.Context, cli *client.Client, ctr string, cmd []string) (stdout, stderr string, rc int, err error) {
	ex, err := cli.ContainerExecCreate(ctx, ctr, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", "", -1, daemonError(err)
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", "", -1, daemonError(err)
	}
	defer att.Close()
	var o, e bytes.Buffer
	if _, err := stdcopy.StdCopy(&o, &e, att.Reader); err != nil {
		return "", "", -1, err
	}
	ins, err := cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		return "", "", -1, daemonError(err)
	}
	return o.String(), e.String(), ins.ExitCode, nil
}

// Deprovision removes the containers and the network that carry the
// cluster's labels (name and directory), and nothing else.
func (p *Provisioner) Deprovision(ctx context.Context, c *platforms.Cluster) ([]string, error) {
	cli, err := NewClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	f := clusterFilter(c)
	f.Add("label", LabelClusterDir+"="+c.Dir)
	var removed []string
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, daemonError(err)
	}
	sort.Slice(list, func(i, j int) bool { return firstName(list[i].Names) < firstName(list[j].Names) })
	var errs []error
	for _, s := range list {
		name := strings.TrimPrefix(firstName(s.Names), "/")
		if err := cli.ContainerRemove(ctx, s.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", name, err))
			continue
		}
		c.Changed("container %s: removed", name)
		removed = append(removed, "container "+name)
	}
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return removed, daemonError(err)
	}
	for _, n := range nets {
		if err := cli.NetworkRemove(ctx, n.ID); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		c.Changed("network %s: removed", n.Name)
		removed = append(removed, "network "+n.Name)
	}
	if len(removed) == 0 && len(errs) == 0 {
		c.Say("deprovision: nothing of cluster %s is left", c.Name)
	}
	return removed, errors.Join(errs...)
}

// bootLog returns the end of a container's console output, with a hint for
// the known failure of systemd on a machine short of inotify instances.
func bootLog(ctx context.Context, cli *client.Client, ctr string) string {
	rc, err := cli.ContainerLogs(ctx, ctr, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "6"})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var o, e bytes.Buffer
	_, _ = stdcopy.StdCopy(&o, &e, rc)
	text := strings.TrimSpace(o.String() + e.String())
	if text == "" {
		return ""
	}
	msg := "; its console says:\n" + text
	if strings.Contains(text, "Too many open files") {
		msg += "\nsystemd ran out of inotify instances: raise fs.inotify.max_user_instances (sh scripts/setup.sh does)"
	}
	return msg
}

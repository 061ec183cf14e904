package docker

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/tpago/tpago/platforms"
)

var (
	_ platforms.PowerSwitch   = (*Provisioner)(nil)
	_ platforms.ScratchHoster = (*Provisioner)(nil)
)

// PowerOff kills the host's container (SIGKILL: no shutdown).
func (p *Provisioner) PowerOff(ctx context.Context, c *platforms.Cluster, host string) error {
	name := ContainerName(c.Name, host)
	return p.withClient(ctx, func(cli *client.Client) error {
		if err := cli.ContainerKill(ctx, name, "KILL"); err != nil {
			return fmt.Errorf("docker kill %s: %w", name, daemonError(err))
		}
		return nil
	})
}

// PowerOn starts the host's container again.
func (p *Provisioner) PowerOn(ctx context.Context, c *platforms.Cluster, host string) error {
	name := ContainerName(c.Name, host)
	return p.withClient(ctx, func(cli *client.Client) error {
		if err := cli.ContainerStart(ctx, name, container.StartOptions{}); err != nil {
			return fmt.Errorf("docker start %s: %w", name, daemonError(err))
		}
		return nil
	})
}

func (p *Provisioner) withClient(ctx context.Context, fn func(*client.Client) error) error {
	cli, err := NewClient(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	return fn(cli)
}

// NewScratchHost starts a container of like's image on the cluster's
// network, at the highest free address of its subnet, with the cluster's
// labels (deprovision removes it too). A container of that name is
// replaced.
func (p *Provisioner) NewScratchHost(ctx context.Context, c *platforms.Cluster, like, name string) (platforms.ScratchHost, error) {
	var in *platforms.Instance
	for _, i := range c.Instances {
		if i.Name == like {
			in = i
		}
	}
	if in == nil {
		return nil, fmt.Errorf("no instance %s in cluster %s", like, c.Name)
	}
	pl, err := p.plan(c)
	if err != nil {
		return nil, err
	}
	cli, err := NewClient(ctx)
	if err != nil {
		return nil, err
	}
	s, err := startScratch(ctx, cli, c, imageOf(in), pl.netName, name)
	if err != nil {
		if s != nil {
			return s, err
		}
		cli.Close()
		return nil, err
	}
	return s, nil
}

func startScratch(ctx context.Context, cli *client.Client, c *platforms.Cluster, image, netName, name string) (*scratch, error) {
	nw, err := cli.NetworkInspect(ctx, netName, network.InspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", netName, daemonError(err))
	}
	if len(nw.IPAM.Config) == 0 {
		return nil, fmt.Errorf("network %s has no subnet", netName)
	}
	subnet, err := netip.ParsePrefix(nw.IPAM.Config[0].Subnet)
	if err != nil {
		return nil, fmt.Errorf("network %s: subnet %q: %w", netName, nw.IPAM.Config[0].Subnet, err)
	}
	used := map[netip.Addr]bool{}
	for _, in := range c.Instances {
		if a, err := netip.ParseAddr(in.IPAddress); err == nil {
			used[a] = true
		}
	}
	for _, e := range nw.Containers {
		if p, err := netip.ParsePrefix(e.IPv4Address); err == nil {
			used[p.Addr()] = true
		}
	}
	// The highest free address below the broadcast address.
	var addr netip.Addr
	a4 := subnet.Masked().Addr().As4()
	for last := 254; last > 1; last-- {
		a4[3] = byte(last)
		if a := netip.AddrFrom4(a4); subnet.Contains(a) && !used[a] {
			addr = a
			break
		}
	}
	if !addr.IsValid() {
		return nil, fmt.Errorf("no free address in %s for the scratch container", subnet)
	}
	cname := ContainerName(c.Name, name)
	_ = cli.ContainerRemove(ctx, cname, container.RemoveOptions{Force: true})
	resp, err := cli.ContainerCreate(ctx,
		&container.Config{Hostname: name, Image: image, Cmd: []string{"/sbin/init"}, StopSignal: "SIGRTMIN+3",
			Labels: map[string]string{LabelCluster: c.Name, LabelClusterDir: c.Dir, LabelInstance: name}},
		&container.HostConfig{Tmpfs: map[string]string{"/run": "", "/run/lock": ""}, Binds: []string{"/sys/fs/cgroup:/sys/fs/cgroup:ro"}},
		&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			netName: {NetworkID: nw.ID, IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: addr.String()}},
		}}, nil, cname)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", cname, daemonError(err))
	}
	s := &scratch{cli: cli, id: resp.ID, name: cname, cluster: c.Name}
	if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		return s, fmt.Errorf("start %s: %w", cname, daemonError(err))
	}
	return s, nil
}

// scratch is a scratch container; it holds its Docker client until removed.
type scratch struct {
	cli     *client.Client
	id      string
	name    string
	cluster string
}

func (s *scratch) Name() string { return s.name }

func (s *scratch) Run(ctx context.Context, script string) (string, error) {
	out, errOut, rc, err := Exec(ctx, s.cli, s.id, []string{"/bin/sh", "-c", script})
	if err != nil {
		return "", err
	}
	if rc != 0 {
		return out, fmt.Errorf("exit %d: %s", rc, strings.TrimSpace(errOut))
	}
	return out, nil
}

func (s *scratch) CopyFrom(ctx context.Context, host, path, dir string) error {
	from := ContainerName(s.cluster, host)
	tr, _, err := s.cli.CopyFromContainer(ctx, from, path)
	if err != nil {
		return fmt.Errorf("copy %s out of %s: %w", path, host, daemonError(err))
	}
	defer tr.Close()
	if _, err := s.Run(ctx, "mkdir -p '"+strings.ReplaceAll(dir, "'", `'\''`)+"'"); err != nil {
		return err
	}
	if err := s.cli.CopyToContainer(ctx, s.id, dir, tr, container.CopyToContainerOptions{}); err != nil {
		return fmt.Errorf("copy %s into %s: %w", path, s.name, daemonError(err))
	}
	return nil
}

func (s *scratch) Remove(ctx context.Context) error {
	defer s.cli.Close()
	return s.cli.ContainerRemove(ctx, s.id, container.RemoveOptions{Force: true, RemoveVolumes: true})
}

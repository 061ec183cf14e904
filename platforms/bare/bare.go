// Package bare is the bare platform: the hosts exist already (servers,
// virtual machines made elsewhere). Provisioning creates nothing; it checks
// that every instance's ip_address answers SSH with the configured user and
// key.
package bare

import (
	"context"
	"maps"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/platforms"
)

// Provisioner is the bare platform.
type Provisioner struct{}

var (
	_ platforms.Provisioner = Provisioner{}
	_ platforms.Validator   = Provisioner{}
)

func init() { platforms.Register("bare", Provisioner{}) }

// Validate checks that every instance has an address.
func (Provisioner) Validate(_ context.Context, c *platforms.Cluster) error {
	for _, in := range c.Instances {
		if in.IPAddress == "" {
			return c.InstanceError(in, "ip_address", "a bare host needs the address tpago reaches it at")
		}
		if _, err := port(c, in); err != nil {
			return c.InstanceError(in, "vars.ansible_port", "%v", err)
		}
	}
	return nil
}

// sshConfig reads the instance's connection variables (instance_defaults'
// vars overlaid by its own) the way the engine does: one reader for all.
func sshConfig(c *platforms.Cluster, in *platforms.Instance) (conn.SSHConfig, error) {
	vars := maps.Clone(c.Config.InstanceDefaults.Vars)
	if vars == nil {
		vars = map[string]any{}
	}
	maps.Copy(vars, in.Vars)
	return conn.SSHConfigFromVars(in.Name, conn.MapVars(vars))
}

func port(c *platforms.Cluster, in *platforms.Instance) (int, error) {
	cfg, err := sshConfig(c, in)
	if err != nil {
		return 0, err
	}
	if cfg.Port == 0 {
		return 22, nil
	}
	return cfg.Port, nil
}

// Provision returns the hosts as config.yml gives them; the caller checks
// that each answers SSH.
func (Provisioner) Provision(_ context.Context, c *platforms.Cluster) ([]platforms.Host, error) {
	hosts := make([]platforms.Host, len(c.Instances))
	for i, in := range c.Instances {
		p, err := port(c, in)
		if err != nil {
			return nil, c.InstanceError(in, "vars.ansible_port", "%v", err)
		}
		cfg, _ := sshConfig(c, in)
		h := platforms.Host{Name: in.Name, Address: in.IPAddress, Port: p, User: in.User}
		if len(cfg.KeyFiles) > 0 {
			h.KeyFile = cfg.KeyFiles[0]
		}
		hosts[i] = h
		c.Say("host %s: %s:%d as %s", in.Name, in.IPAddress, p, in.User)
	}
	return hosts, nil
}

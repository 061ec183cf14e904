// Package bare is the bare platform: the hosts exist already (servers,
// virtual machines made elsewhere). Provisioning creates nothing; it checks
// that every instance's ip_address answers SSH with the configured user and
// key.
package bare

import (
	"context"
	"fmt"
	"strconv"

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
		if _, err := port(in); err != nil {
			return c.InstanceError(in, "vars.ansible_port", "%v", err)
		}
	}
	return nil
}

func port(in *platforms.Instance) (int, error) {
	switch p := in.Vars["ansible_port"].(type) {
	case nil:
		return 22, nil
	case uint64:
		return int(p), nil
	case int64:
		return int(p), nil
	case int:
		return p, nil
	case string:
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, fmt.Errorf("%q is not a port number", p)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%v is not a port number", in.Vars["ansible_port"])
}

// Provision returns the hosts as config.yml gives them; the caller checks
// that each answers SSH.
func (Provisioner) Provision(_ context.Context, c *platforms.Cluster) ([]platforms.Host, error) {
	hosts := make([]platforms.Host, len(c.Instances))
	for i, in := range c.Instances {
		p, err := port(in)
		if err != nil {
			return nil, c.InstanceError(in, "vars.ansible_port", "%v", err)
		}
		h := platforms.Host{Name: in.Name, Address: in.IPAddress, Port: p, User: in.User}
		if k, ok := in.Vars["ansible_ssh_private_key_file"].(string); ok && k != "" {
			h.KeyFile = k
		} else if k, ok := c.Config.InstanceDefaults.Vars["ansible_ssh_private_key_file"].(string); ok && k != "" {
			h.KeyFile = k
		}
		hosts[i] = h
		c.Say("host %s: %s:%d as %s", in.Name, in.IPAddress, p, in.User)
	}
	return hosts, nil
}

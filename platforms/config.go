package platforms

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/inventory"
)

// LoadCluster reads dir/config.yml and checks what every platform needs:
// a cluster name, unique instance names and addresses, known platforms.
func LoadCluster(dir string) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cl, err := cluster.Load(abs)
	if err != nil {
		return nil, err
	}
	cfg := cl.Config
	c := &Cluster{Dir: abs, ConfigFile: cl.ConfigFile(), Config: cfg, pos: cfg.Where}
	c.Name = cfg.ClusterName
	if c.Name == "" {
		c.Name = filepath.Base(abs)
	}
	if !cluster.ValidName(c.Name) {
		return nil, fmt.Errorf("%s: cluster_name %q: use letters, digits, '.', '_' and '-'", c.Where("$.cluster_name"), c.Name)
	}
	if len(cfg.Instances) == 0 {
		return nil, fmt.Errorf("%s: no instances", c.Where("$.instances"))
	}
	names := map[string]*Instance{}
	addrs := map[netip.Addr]*Instance{}
	for idx := range cfg.Instances {
		in := &Instance{Instance: cfg.Instances[idx], Index: idx}
		in.Platform = cfg.PlatformOf(&cfg.Instances[idx])
		in.Image = in.Instance.Image
		if in.Image == "" {
			in.Image = cfg.InstanceDefaults.Image
		}
		in.User = "root"
		if u, ok := cfg.InstanceDefaults.Vars["ansible_user"].(string); ok && u != "" {
			in.User = u
		}
		if u, ok := in.Vars["ansible_user"].(string); ok && u != "" {
			in.User = u
		}
		switch {
		case in.Name == "":
			return nil, fmt.Errorf("%s: instance %d has no Name", c.Where(fmt.Sprintf("$.instances[%d]", idx)), idx+1)
		case !cluster.ValidHostname(in.Name):
			return nil, c.InstanceError(in, "Name", "%q is not a valid host name (lower-case letters, digits and dashes)", in.Name)
		case names[in.Name] != nil:
			return nil, c.InstanceError(in, "Name", "%q is used twice (also instance %d)", in.Name, names[in.Name].Index+1)
		}
		names[in.Name] = in
		if in.IPAddress != "" {
			a, err := netip.ParseAddr(in.IPAddress)
			if err != nil || !a.Is4() {
				return nil, c.InstanceError(in, "ip_address", "%q is not an IPv4 address", in.IPAddress)
			}
			if o := addrs[a]; o != nil {
				return nil, c.InstanceError(in, "ip_address", "%s is also the address of %s", a, o.Name)
			}
			addrs[a] = in
		}
		if in.Platform == "" {
			return nil, c.InstanceError(in, "platform", "no platform (set instance_defaults.platform: docker or bare)")
		}
		if _, ok := Lookup(in.Platform); !ok {
			return nil, c.InstanceError(in, "platform", "unknown platform %q (known: %s)", in.Platform, strings.Join(Names(), ", "))
		}
		if len(c.Instances) > 0 && in.Platform != c.Instances[0].Platform {
			return nil, c.InstanceError(in, "platform", "%q differs from the other instances' %q: one cluster, one platform", in.Platform, c.Instances[0].Platform)
		}
		c.Instances = append(c.Instances, in)
	}
	return c, nil
}

// Platform is the cluster's platform.
func (c *Cluster) Platform() string { return c.Instances[0].Platform }

// KnownHostsFile is the cluster's known_hosts.
func (c *Cluster) KnownHostsFile() string { return filepath.Join(c.Dir, "known_hosts") }

// InventoryFile is the inventory the engine reads.
func (c *Cluster) InventoryFile() string { return filepath.Join(c.Dir, "inventory.yml") }

// connectionVars are the variables the engine's SSH connection reads.
func (c *Cluster) connectionVars(h Host) map[string]any {
	key := c.KeyFile
	if h.KeyFile != "" {
		key = h.KeyFile
	}
	v := map[string]any{
		"ansible_host":                 h.Address,
		"ansible_user":                 h.User,
		"ansible_ssh_private_key_file": key,
		"ansible_ssh_known_hosts_file": c.KnownHostsFile(),
	}
	if h.Port != 0 && h.Port != 22 {
		v["ansible_port"] = h.Port
	}
	return v
}

// buildInventory is the inventory of config.yml (see cluster.FromConfig)
// with the connection variables of the hosts as provisioned: the address
// (which Docker may have allocated), port and user; the key and
// known_hosts unless the instance's vars name others.
func buildInventory(c *Cluster, hosts []Host) (*inventory.Inventory, error) {
	inv, err := cluster.FromConfig(c.Config, c.Dir)
	if err != nil {
		return nil, err
	}
	inv.Groups["all"].Vars["platform"] = c.Platform()
	for _, h := range hosts {
		ih := inv.Hosts[h.Name]
		if ih == nil {
			return nil, fmt.Errorf("host %s is not in the inventory made from config.yml", h.Name)
		}
		for k, v := range c.connectionVars(h) {
			switch k {
			case "ansible_ssh_private_key_file", "ansible_ssh_known_hosts_file":
				if _, set := ih.Vars[k]; set {
					continue
				}
			}
			ih.Vars[k] = v
		}
	}
	return inv, nil
}

// ReadInventoryHosts reads an Ansible inventory (inventory.Load) and returns
// its hosts in order with their variables (groups' and their own).
func ReadInventoryHosts(file string) (names []string, vars map[string]map[string]any, err error) {
	inv, err := inventory.Load(file)
	if err != nil {
		return nil, nil, err
	}
	vars = map[string]map[string]any{}
	for _, n := range inv.Order {
		vars[n] = inv.HostVars(n)
	}
	return inv.Order, vars, nil
}

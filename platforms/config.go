package platforms

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/tpago/tpago/inventory"
)

// loadConfig reads a cluster's config.yml. It is the one place that would
// switch to the inventory package's loader.
func loadConfig(file string) (*inventory.Config, func(string) string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s does not exist: is this a cluster directory? (tpago configure makes one)", file)
		}
		return nil, nil, err
	}
	var cfg inventory.Config
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, nil, fmt.Errorf("%s:%s", file, strings.TrimPrefix(yaml.FormatError(err, false, true), "["))
	}
	f, _ := parser.ParseBytes(data, 0)
	pos := func(path string) string {
		if f == nil {
			return ""
		}
		for p := path; p != "$"; {
			yp, err := yaml.PathString(p)
			if err == nil {
				if n, err := yp.FilterFile(f); err == nil && n != nil {
					return nodePos(file, n)
				}
			}
			// Fall back to the parent: a missing field points at its instance.
			i := strings.LastIndexAny(p, ".[")
			if i <= 0 {
				break
			}
			p = p[:i]
		}
		return ""
	}
	return &cfg, pos, nil
}

func nodePos(file string, n ast.Node) string {
	t := n.GetToken()
	if t == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", file, t.Position.Line, t.Position.Column)
}

var hostnameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// LoadCluster reads dir/config.yml and checks what every platform needs:
// a cluster name, unique instance names and addresses, known platforms.
func LoadCluster(dir string) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(abs, "config.yml")
	cfg, pos, err := loadConfig(file)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: abs, ConfigFile: file, Config: cfg, pos: pos}
	c.Name = cfg.ClusterName
	if c.Name == "" {
		c.Name = filepath.Base(abs)
	}
	if !hostnameRE.MatchString(c.Name) {
		return nil, fmt.Errorf("%s: cluster_name %q: use lower-case letters, digits and dashes", c.Where("$.cluster_name"), c.Name)
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
		case !hostnameRE.MatchString(in.Name):
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

// buildInventory turns the cluster and its hosts into an inventory: every
// host with its connection variables, node and vars; groups from roles
// (role_<role>) and locations (location_<name>). It is the one place that
// would switch to the inventory package's config conversion.
func buildInventory(c *Cluster, hosts []Host) *inventory.Inventory {
	inv := inventory.New()
	inv.Dir = c.Dir
	all := inv.Groups["all"]
	all.Vars["cluster_name"] = c.Name
	all.Vars["cluster_dir"] = c.Dir
	all.Vars["platform"] = c.Platform()
	for k, v := range c.Config.ClusterVars {
		all.Vars[k] = v
	}
	for i, in := range c.Instances {
		var groups []string
		for _, r := range in.Role {
			groups = append(groups, "role_"+r)
		}
		if in.Location != "" {
			groups = append(groups, "location_"+in.Location)
		}
		if len(groups) == 0 {
			groups = []string{"ungrouped"}
		}
		h := inv.AddHost(in.Name, groups...)
		for k, v := range c.Config.InstanceDefaults.Vars {
			h.Vars[k] = v
		}
		for k, v := range in.Vars {
			h.Vars[k] = v
		}
		if in.Node != 0 {
			h.Vars["node"] = in.Node
		}
		if len(in.Role) > 0 {
			h.Vars["role"] = in.Role
		}
		if in.Upstream != "" {
			h.Vars["upstream"] = in.Upstream
		}
		if in.Backup != "" {
			h.Vars["backup"] = in.Backup
		}
		if in.Location != "" {
			h.Vars["location"] = in.Location
		}
		for k, v := range c.connectionVars(hosts[i]) {
			h.Vars[k] = v
		}
	}
	return inv
}

// marshalInventory writes an Ansible YAML inventory. It is the one place
// that would switch to the inventory package's writer.
func marshalInventory(inv *inventory.Inventory) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Written by tpago provision from config.yml; changes here are overwritten.\n")
	var group func(name string, depth int) error
	indent := func(d int) string { return strings.Repeat("  ", d) }
	writeVars := func(vars map[string]any, depth int) error {
		if len(vars) == 0 {
			return nil
		}
		out, err := yaml.MarshalWithOptions(vars, yaml.Indent(2), yaml.IndentSequence(true))
		if err != nil {
			return err
		}
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			b.WriteString(indent(depth) + line + "\n")
		}
		return nil
	}
	group = func(name string, depth int) error {
		g := inv.Groups[name]
		fmt.Fprintf(&b, "%s%s:\n", indent(depth), name)
		if len(g.Vars) > 0 {
			fmt.Fprintf(&b, "%svars:\n", indent(depth+1))
			if err := writeVars(g.Vars, depth+2); err != nil {
				return err
			}
		}
		if name == "all" {
			fmt.Fprintf(&b, "%shosts:\n", indent(depth+1))
			for _, hn := range inv.Order {
				h := inv.Hosts[hn]
				fmt.Fprintf(&b, "%s%s:\n", indent(depth+2), hn)
				if err := writeVars(h.Vars, depth+3); err != nil {
					return err
				}
			}
		} else if len(g.Hosts) > 0 {
			fmt.Fprintf(&b, "%shosts:\n", indent(depth+1))
			for _, hn := range g.Hosts {
				fmt.Fprintf(&b, "%s%s: {}\n", indent(depth+2), hn)
			}
		}
		var children []string
		for _, ch := range g.Children {
			if ch == "ungrouped" && len(inv.Groups[ch].Hosts) == 0 {
				continue
			}
			children = append(children, ch)
		}
		if len(children) > 0 {
			fmt.Fprintf(&b, "%schildren:\n", indent(depth+1))
			sort.Strings(children)
			for _, ch := range children {
				if err := group(ch, depth+2); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := group("all", 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadInventoryHosts reads the hosts and their connection variables from an
// Ansible YAML inventory: every host named under a "hosts" mapping, with
// the variables given there merged.
func ReadInventoryHosts(file string) (names []string, vars map[string]map[string]any, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var root map[string]any
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	vars = map[string]map[string]any{}
	var walk func(g map[string]any)
	walk = func(g map[string]any) {
		if hosts, ok := g["hosts"].(map[string]any); ok {
			hn := make([]string, 0, len(hosts))
			for n := range hosts {
				hn = append(hn, n)
			}
			sort.Strings(hn)
			for _, n := range hn {
				if _, seen := vars[n]; !seen {
					vars[n] = map[string]any{}
					names = append(names, n)
				}
				if hv, ok := hosts[n].(map[string]any); ok {
					for k, v := range hv {
						vars[n][k] = v
					}
				}
			}
		}
		if ch, ok := g["children"].(map[string]any); ok {
			for _, v := range ch {
				if m, ok := v.(map[string]any); ok {
					walk(m)
				}
			}
		}
	}
	for _, v := range root {
		if m, ok := v.(map[string]any); ok {
			walk(m)
		}
	}
	return names, vars, nil
}

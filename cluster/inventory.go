package cluster

import (
	"fmt"
	"maps"
	"path/filepath"

	"github.com/tpago/tpago/inventory"
)

// FromConfig turns a cluster's config.yml into an inventory: one host per
// instance, named after it, in instance order.
//
// Groups: role_<role> and the unprefixed alias <role> for each role (so
// "primary", "replica", "barman", "witness", "etcd", "haproxy",
// "efm-witness", "log-server", "pgbouncer"), location_<name> for each location, and "postgres" with
// every instance that runs a Postgres server (primary, replica, repmgr
// witness).
//
// Variables of "all": cluster_vars, plus cluster_name, architecture,
// cluster_dir (absolute) and locations (TPA's list of {Name: …}).
//
// Host variables: instance_defaults.vars overlaid by the instance's vars,
// plus node, location, role (a list), upstream, backup, ip_address and
// platform when set, and the connection: ansible_host (= ip_address),
// ansible_user (root), ansible_ssh_private_key_file
// (<clusterDir>/id_<cluster_name>) and ansible_ssh_known_hosts_file
// (<clusterDir>/known_hosts), each unless the vars already set it.
//
// The config is validated first; an invalid one is an error.
func FromConfig(cfg *Config, clusterDir string) (*inventory.Inventory, error) {
	if cfg == nil {
		return nil, fmt.Errorf("no config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return fromConfig(cfg, clusterDir)
}

// fromConfig is FromConfig for a config already validated.
func fromConfig(cfg *Config, clusterDir string) (*inventory.Inventory, error) {
	dir, err := filepath.Abs(clusterDir)
	if err != nil {
		return nil, fmt.Errorf("cluster directory %s: %w", clusterDir, err)
	}
	inv := inventory.New()
	inv.Dir = dir

	all := inv.Groups["all"]
	maps.Copy(all.Vars, deepCopyMap(cfg.ClusterVars))
	all.Vars["cluster_name"] = cfg.ClusterName
	all.Vars["architecture"] = cfg.Architecture
	all.Vars["cluster_dir"] = dir
	locs := make([]any, 0, len(cfg.Locations))
	for _, l := range cfg.Locations {
		locs = append(locs, map[string]any{"Name": l.Name})
	}
	all.Vars["locations"] = locs

	// Groups are created in a fixed order: roles in the order they first
	// appear, then locations in config order, then "postgres".
	for _, in := range cfg.Instances {
		for _, r := range in.Role {
			inv.AddGroup("role_" + r)
			inv.AddGroup(r)
		}
	}
	for _, l := range cfg.Locations {
		inv.AddGroup("location_" + l.Name)
	}

	key := filepath.Join(dir, "id_"+cfg.ClusterName)
	knownHosts := filepath.Join(dir, "known_hosts")
	for i := range cfg.Instances {
		in := &cfg.Instances[i]
		var groups []string
		for _, r := range in.Role {
			groups = append(groups, "role_"+r, r)
		}
		if in.Location != "" {
			groups = append(groups, "location_"+in.Location)
		}
		if in.IsPostgres() {
			groups = append(groups, "postgres")
		}
		if len(groups) == 0 {
			groups = append(groups, "ungrouped")
		}
		h := inv.AddHost(in.Name, groups...)

		v := deepCopyMap(cfg.InstanceDefaults.Vars)
		maps.Copy(v, deepCopyMap(in.Vars))
		v["node"] = in.Node
		if in.Location != "" {
			v["location"] = in.Location
		}
		roles := make([]any, len(in.Role))
		for j, r := range in.Role {
			roles[j] = r
		}
		v["role"] = roles
		if in.Upstream != "" {
			v["upstream"] = in.Upstream
		}
		if in.Backup != "" {
			v["backup"] = in.Backup
		}
		v["platform"] = cfg.PlatformOf(in)
		if in.IPAddress != "" {
			v["ip_address"] = in.IPAddress
			setDefault(v, "ansible_host", in.IPAddress)
		}
		setDefault(v, "ansible_user", "root")
		setDefault(v, "ansible_ssh_private_key_file", key)
		setDefault(v, "ansible_ssh_known_hosts_file", knownHosts)
		h.Vars = v
	}
	return inv, nil
}

// setDefault sets v[k] unless the user's vars already say it.
func setDefault(v map[string]any, k string, val any) {
	if _, ok := v[k]; !ok {
		v[k] = val
	}
}

// deepCopyMap copies m and the maps and lists inside it, so that the
// inventory never shares mutable values with the config (or between hosts).
func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopy(v)
	}
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case []string:
		return append([]string(nil), x...)
	}
	return v
}

// Package inventory holds hosts, groups and their variables, and loads
// Ansible's YAML inventories. It knows nothing of config.yml (see cluster).
package inventory

// Inventory is a set of hosts in groups. Every host is in "all"; a host in
// no other group is also in "ungrouped".
type Inventory struct {
	// Hosts by name.
	Hosts map[string]*Host
	// Order is the hosts' names in the order they were defined.
	Order []string
	// Groups by name; "all" and "ungrouped" always exist.
	Groups map[string]*Group
	// Dir is the folder the inventory was read from (group_vars/ and
	// host_vars/ live there); "" for an inventory made in memory.
	Dir string
}

// Host is one inventory host.
type Host struct {
	Name string
	// Vars are the host's own variables (host_vars included).
	Vars map[string]any
	// Groups the host is directly a member of, in definition order.
	Groups []string
}

// Group is one inventory group.
type Group struct {
	Name string
	// Hosts directly in the group, in definition order.
	Hosts []string
	// Children are the group's child groups.
	Children []string
	// Vars are the group's variables (group_vars included).
	Vars map[string]any
}

// New returns an empty inventory with the groups "all" and "ungrouped".
func New() *Inventory {
	return &Inventory{
		Hosts: map[string]*Host{},
		Groups: map[string]*Group{
			"all":       {Name: "all", Vars: map[string]any{}, Children: []string{"ungrouped"}},
			"ungrouped": {Name: "ungrouped", Vars: map[string]any{}},
		},
	}
}

// AddHost adds a host (or returns the existing one) and puts it in groups,
// creating them as children of "all" when new.
func (inv *Inventory) AddHost(name string, groups ...string) *Host {
	h, ok := inv.Hosts[name]
	if !ok {
		h = &Host{Name: name, Vars: map[string]any{}}
		inv.Hosts[name] = h
		inv.Order = append(inv.Order, name)
	}
	for _, g := range groups {
		grp := inv.AddGroup(g)
		if !contains(grp.Hosts, name) {
			grp.Hosts = append(grp.Hosts, name)
		}
		if !contains(h.Groups, g) {
			h.Groups = append(h.Groups, g)
		}
	}
	return h
}

// AddGroup adds a group as a child of "all" (or returns the existing one).
func (inv *Inventory) AddGroup(name string) *Group {
	if g, ok := inv.Groups[name]; ok {
		return g
	}
	g := &Group{Name: name, Vars: map[string]any{}}
	inv.Groups[name] = g
	all := inv.Groups["all"]
	if name != "all" && !contains(all.Children, name) {
		all.Children = append(all.Children, name)
	}
	return g
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

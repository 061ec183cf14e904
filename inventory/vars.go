package inventory

import "sort"

// GroupsOf returns every group host h is in, directly or through parent
// groups, "all" included, ordered as Ansible merges group variables: by
// depth (all first), then by name.
func (inv *Inventory) GroupsOf(h string) []string {
	depth := map[string]int{}
	var parents func(g string) []string
	parentMap := map[string][]string{}
	for _, g := range inv.Groups {
		for _, c := range g.Children {
			parentMap[c] = append(parentMap[c], g.Name)
		}
	}
	var d func(g string, seen map[string]bool) int
	d = func(g string, seen map[string]bool) int {
		if v, ok := depth[g]; ok {
			return v
		}
		if g == "all" || seen[g] {
			return 0
		}
		seen[g] = true
		best := 0
		for _, p := range parentMap[g] {
			if v := d(p, seen) + 1; v > best {
				best = v
			}
		}
		depth[g] = best
		return best
	}
	_ = parents
	in := map[string]bool{"all": true}
	host := inv.Hosts[h]
	if host == nil {
		return []string{"all"}
	}
	var up func(g string)
	up = func(g string) {
		if in[g] {
			return
		}
		in[g] = true
		for _, p := range parentMap[g] {
			up(p)
		}
	}
	for _, g := range host.Groups {
		up(g)
	}
	if len(host.Groups) == 0 {
		in["ungrouped"] = true
	}
	out := make([]string, 0, len(in))
	for g := range in {
		out = append(out, g)
	}
	for _, g := range out {
		d(g, map[string]bool{})
	}
	sort.Slice(out, func(i, j int) bool {
		if depth[out[i]] != depth[out[j]] {
			return depth[out[i]] < depth[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// HostVars returns h's inventory variables: the groups' variables by
// depth, then the host's own. The result is a new map.
func (inv *Inventory) HostVars(h string) map[string]any {
	out := map[string]any{}
	for _, g := range inv.GroupsOf(h) {
		if grp := inv.Groups[g]; grp != nil {
			for k, v := range grp.Vars {
				out[k] = v
			}
		}
	}
	if host := inv.Hosts[h]; host != nil {
		for k, v := range host.Vars {
			out[k] = v
		}
	}
	return out
}

// GroupMap returns every group's hosts (recursively through children), as
// the magic variable groups; hosts keep inventory order.
func (inv *Inventory) GroupMap() map[string][]string {
	out := map[string][]string{}
	for name := range inv.Groups {
		set := map[string]bool{}
		inv.collect(name, set, map[string]bool{})
		var hs []string
		for _, h := range inv.Order {
			if set[h] {
				hs = append(hs, h)
			}
		}
		if name == "all" {
			hs = append([]string(nil), inv.Order...)
		}
		out[name] = hs
	}
	return out
}

func (inv *Inventory) collect(g string, set, seen map[string]bool) {
	if seen[g] {
		return
	}
	seen[g] = true
	grp := inv.Groups[g]
	if grp == nil {
		return
	}
	for _, h := range grp.Hosts {
		set[h] = true
	}
	for _, c := range grp.Children {
		inv.collect(c, set, seen)
	}
}

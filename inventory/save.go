package inventory

import (
	"fmt"
	"sort"

	"github.com/goccy/go-yaml"

	"github.com/tpago/tpago/atomicfile"
)

// Save writes inv as an Ansible YAML inventory:
//
//	all:
//	  vars: {…}
//	  hosts: {name: {host vars}, …}
//	  children:
//	    group: {hosts: {name: {}}, children: {child: {}}, vars: {…}}
//
// Every host is defined once under all.hosts with its variables; groups
// list their members. Hosts keep their inventory order, groups the order
// in which they were added to "all", variables are sorted by name: the
// same inventory always gives the same bytes. The file is written to a
// temporary file beside path and renamed into place.
func Save(inv *Inventory, path string) error {
	data, err := Marshal(inv)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}

// Marshal returns the text Save writes.
func Marshal(inv *Inventory) ([]byte, error) {
	all := inv.Groups["all"]
	var top yaml.MapSlice
	if all != nil && len(all.Vars) > 0 {
		top = append(top, yaml.MapItem{Key: "vars", Value: sortedMap(all.Vars)})
	}
	var hosts yaml.MapSlice
	for _, name := range inv.Order {
		h := inv.Hosts[name]
		v := sortedMap(h.Vars)
		hosts = append(hosts, yaml.MapItem{Key: name, Value: v})
	}
	if len(hosts) > 0 {
		top = append(top, yaml.MapItem{Key: "hosts", Value: hosts})
	}

	// Groups: those under "all" in order, then any other (sorted).
	var order []string
	seen := map[string]bool{"all": true}
	if all != nil {
		for _, g := range all.Children {
			if !seen[g] {
				seen[g] = true
				order = append(order, g)
			}
		}
	}
	var rest []string
	for g := range inv.Groups {
		if !seen[g] {
			rest = append(rest, g)
		}
	}
	sort.Strings(rest)
	order = append(order, rest...)

	var children yaml.MapSlice
	for _, name := range order {
		g := inv.Groups[name]
		if g == nil {
			continue
		}
		if name == "ungrouped" && len(g.Hosts) == 0 && len(g.Vars) == 0 {
			continue
		}
		var body yaml.MapSlice
		if len(g.Hosts) > 0 {
			var hs yaml.MapSlice
			for _, h := range g.Hosts {
				hs = append(hs, yaml.MapItem{Key: h, Value: yaml.MapSlice{}})
			}
			body = append(body, yaml.MapItem{Key: "hosts", Value: hs})
		}
		if len(g.Children) > 0 {
			var cs yaml.MapSlice
			for _, c := range g.Children {
				cs = append(cs, yaml.MapItem{Key: c, Value: yaml.MapSlice{}})
			}
			body = append(body, yaml.MapItem{Key: "children", Value: cs})
		}
		if len(g.Vars) > 0 {
			body = append(body, yaml.MapItem{Key: "vars", Value: sortedMap(g.Vars)})
		}
		var v any
		if len(body) > 0 {
			v = body
		}
		children = append(children, yaml.MapItem{Key: name, Value: v})
	}
	if len(children) > 0 {
		top = append(top, yaml.MapItem{Key: "children", Value: children})
	}
	var allValue any = top
	if len(top) == 0 {
		allValue = nil
	}
	out, err := yaml.MarshalWithOptions(yaml.MapSlice{{Key: "all", Value: allValue}}, yaml.IndentSequence(true))
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return out, nil
}

// sortedMap turns a map (and the maps inside it) into MapSlices sorted by
// key, so that output never depends on map order.
func sortedMap(m map[string]any) yaml.MapSlice {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(yaml.MapSlice, 0, len(m))
	for _, k := range keys {
		out = append(out, yaml.MapItem{Key: k, Value: sortedValue(m[k])})
	}
	return out
}

func sortedValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return sortedMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sortedValue(e)
		}
		return out
	}
	return v
}

package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tpago/tpago/yamlx"
)

// Load reads an Ansible YAML inventory (all: {hosts, children, vars}) and
// the group_vars/ and host_vars/ folders beside it. A folder is read as
// every *.yml/*.yaml file in it, in name order.
func Load(path string) (*Inventory, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	inv := New()
	var files []string
	if st.IsDir() {
		inv.Dir = path
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yml") || strings.HasSuffix(e.Name(), ".yaml")) {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	} else {
		inv.Dir = filepath.Dir(path)
		files = []string{path}
	}
	for _, f := range files {
		n, err := yamlx.ReadOne(f)
		if err != nil {
			return nil, err
		}
		if err := inv.loadYAML(n); err != nil {
			return nil, err
		}
	}
	if err := inv.loadVarsDirs(inv.Dir); err != nil {
		return nil, err
	}
	if err := inv.checkCycles(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	inv.finish()
	return inv, nil
}

func (inv *Inventory) loadYAML(n *yamlx.Node) error {
	if n.Kind == yamlx.Null {
		return nil
	}
	if n.Kind != yamlx.Map {
		return yamlx.Errorf(n, "an inventory is a mapping of groups (all: {hosts: …, children: …, vars: …}), not %s", n.KindName())
	}
	for i, k := range n.Keys {
		if err := inv.loadGroup(k.String(), n.Vals[i], ""); err != nil {
			return err
		}
	}
	return nil
}

func (inv *Inventory) loadGroup(name string, n *yamlx.Node, parent string) error {
	g := inv.AddGroup(name)
	if parent != "" && parent != "all" {
		pg := inv.Groups[parent]
		if !contains(pg.Children, name) {
			pg.Children = append(pg.Children, name)
		}
	}
	if n.Kind == yamlx.Null {
		return nil
	}
	if n.Kind != yamlx.Map {
		return yamlx.Errorf(n, "group %s: expected a mapping with hosts, children or vars, not %s", name, n.KindName())
	}
	for i, k := range n.Keys {
		v := n.Vals[i]
		switch k.String() {
		case "hosts":
			if v.Kind == yamlx.Null {
				continue
			}
			if v.Kind != yamlx.Map {
				return yamlx.Errorf(v, "group %s: hosts: is a mapping of host names to their variables, not %s", name, v.KindName())
			}
			for j, hk := range v.Keys {
				names, err := ExpandHostRange(hk.String())
				if err != nil {
					return yamlx.Errorf(hk, "%v", err)
				}
				hv := v.Vals[j]
				if hv.Kind != yamlx.Null && hv.Kind != yamlx.Map {
					return yamlx.Errorf(hv, "host %s: expected a mapping of variables, not %s", hk.String(), hv.KindName())
				}
				for _, hn := range names {
					h := inv.AddHost(hn)
					if name != "all" {
						inv.AddHost(hn, name)
					}
					if hv.Kind == yamlx.Null {
						continue
					}
					for kk, vv := range hv.Plain().(map[string]any) {
						h.Vars[kk] = vv
					}
				}
			}
		case "children":
			if v.Kind == yamlx.Null {
				continue
			}
			if v.Kind != yamlx.Map {
				return yamlx.Errorf(v, "group %s: children: is a mapping of groups, not %s", name, v.KindName())
			}
			for j, ck := range v.Keys {
				if ck.String() == name {
					return yamlx.Errorf(ck, "group %s cannot be its own child", name)
				}
				if err := inv.loadGroup(ck.String(), v.Vals[j], name); err != nil {
					return err
				}
			}
		case "vars":
			if v.Kind == yamlx.Null {
				continue
			}
			if v.Kind != yamlx.Map {
				return yamlx.Errorf(v, "group %s: vars: is a mapping, not %s", name, v.KindName())
			}
			for kk, vv := range v.Plain().(map[string]any) {
				g.Vars[kk] = vv
			}
		default:
			return yamlx.Errorf(k, "group %s: unknown key %q (hosts, children, vars)", name, k.String())
		}
	}
	return nil
}

// loadVarsDirs reads dir/group_vars and dir/host_vars.
func (inv *Inventory) loadVarsDirs(dir string) error {
	for _, kind := range []string{"group_vars", "host_vars"} {
		base := filepath.Join(dir, kind)
		ents, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		for _, e := range ents {
			name := strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".yml"), ".yaml")
			var target map[string]any
			if kind == "group_vars" {
				target = inv.AddGroup(name).Vars
			} else {
				h, ok := inv.Hosts[name]
				if !ok {
					continue
				}
				target = h.Vars
			}
			var files []string
			p := filepath.Join(base, e.Name())
			if e.IsDir() {
				sub, _ := os.ReadDir(p)
				for _, s := range sub {
					if !s.IsDir() && (strings.HasSuffix(s.Name(), ".yml") || strings.HasSuffix(s.Name(), ".yaml")) {
						files = append(files, filepath.Join(p, s.Name()))
					}
				}
				sort.Strings(files)
			} else if strings.HasSuffix(e.Name(), ".yml") || strings.HasSuffix(e.Name(), ".yaml") || !strings.Contains(e.Name(), ".") {
				files = []string{p}
			}
			for _, f := range files {
				n, err := yamlx.ReadOne(f)
				if err != nil {
					return err
				}
				if n.Kind == yamlx.Null {
					continue
				}
				if n.Kind != yamlx.Map {
					return yamlx.Errorf(n, "a %s file holds a mapping of variables, not %s", kind, n.KindName())
				}
				for k, v := range n.Plain().(map[string]any) {
					target[k] = v
				}
			}
		}
	}
	return nil
}

// finish puts hosts in no group into "ungrouped".
func (inv *Inventory) finish() {
	ug := inv.Groups["ungrouped"]
	for _, name := range inv.Order {
		h := inv.Hosts[name]
		if len(h.Groups) == 0 && !contains(ug.Hosts, name) {
			ug.Hosts = append(ug.Hosts, name)
		}
	}
}

// Finish completes an inventory built in memory (ungrouped hosts).
func (inv *Inventory) Finish() { inv.finish() }

// Parse reads one Ansible YAML inventory from data (name is its file, for
// errors); group_vars/ and host_vars/ are not read.
func Parse(name string, data []byte) (*Inventory, error) {
	n, err := yamlx.ParseOne(name, data)
	if err != nil {
		return nil, err
	}
	inv := New()
	inv.Dir = filepath.Dir(name)
	if err := inv.loadYAML(n); err != nil {
		return nil, err
	}
	if err := inv.checkCycles(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	inv.finish()
	return inv, nil
}

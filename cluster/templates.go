package cluster

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/template"
)

// builtinVars are the variables every host has without config.yml saying
// them: the engine's magic variables and what FromConfig adds.
var builtinVars = []string{
	"inventory_hostname", "inventory_hostname_short", "group_names", "groups", "hostvars",
	"playbook_dir", "inventory_dir", "omit", "role_name", "role_path", "item",
	"cluster_name", "architecture", "cluster_dir", "locations",
	"node", "location", "role", "upstream", "backup", "ip_address", "platform",
}

// UndefinedInTemplates finds the templates in config.yml's variables
// (cluster_vars, instance_defaults.vars, each instance's vars) that use a
// variable nothing defines: not config.yml, not the engine (its magic
// variables, ansible_* facts and settings), and not known(name) (the
// roles' defaults, which the caller knows). A use inside default() is
// optional and fine. Each problem points at its value.
func (c *Config) UndefinedInTemplates(known func(string) bool) error {
	defined := map[string]bool{}
	for _, n := range builtinVars {
		defined[n] = true
	}
	for k := range c.ClusterVars {
		defined[k] = true
	}
	for k := range c.InstanceDefaults.Vars {
		defined[k] = true
	}
	for _, in := range c.Instances {
		for k := range in.Vars {
			defined[k] = true
		}
	}
	isDefined := func(n string) bool {
		return defined[n] || strings.HasPrefix(n, "ansible_") || (known != nil && known(n))
	}
	var ps []problem
	var walk func(v any, path []any)
	walk = func(v any, path []any) {
		switch x := v.(type) {
		case string:
			if !expr.HasTemplate(x) {
				return
			}
			tp, err := template.Parse(pathString(path), x)
			if err != nil {
				ps = append(ps, problem{path: path, msg: fmt.Sprintf("%s: %v", pathString(path), err)})
				return
			}
			seen := map[string]bool{}
			for _, r := range tp.Refs() {
				if r.Optional || isDefined(r.Name) || seen[r.Name] {
					continue
				}
				seen[r.Name] = true
				ps = append(ps, problem{path: path, msg: fmt.Sprintf("%s uses the variable %q, which nothing defines (config.yml, the roles' defaults, facts): define it, or write default(%s, VALUE) if it is optional", pathString(path), r.Name, r.Name)})
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k], append(append([]any{}, path...), k))
			}
		case []any:
			for i, e := range x {
				walk(e, append(append([]any{}, path...), i))
			}
		}
	}
	walk(c.ClusterVars, []any{"cluster_vars"})
	walk(c.InstanceDefaults.Vars, []any{"instance_defaults", "vars"})
	for i := range c.Instances {
		walk(c.Instances[i].Vars, []any{"instances", i, "vars"})
	}
	if len(ps) == 0 {
		return nil
	}
	errs := make(ConfigErrors, 0, len(ps))
	for _, p := range ps {
		errs = append(errs, c.configError(p))
	}
	sort.SliceStable(errs, func(a, b int) bool { return errs[a].Line < errs[b].Line })
	return errs
}

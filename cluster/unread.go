package cluster

import (
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/template"
)

// UnreadVars finds the variables of config.yml (cluster_vars,
// instance_defaults' vars, each instance's vars) that nothing reads: no
// playbook or role (read says what they do read, known lists those names
// for the did-you-mean) and no other value of config.yml. Such a key is a
// typo or a TPA setting tpago does not act on; either way it does nothing,
// and the caller says so (a warning, or an error with --strict). Ansible's
// connection variables (ansible_*) are always read. Each problem points at
// its key.
func (c *Config) UnreadVars(read func(string) bool, known []string) ConfigErrors {
	if c.src == nil || len(c.src.file.Docs) == 0 || c.src.file.Docs[0].Body == nil {
		return nil
	}
	top, ok := unwrapNode(c.src.file.Docs[0].Body).(*ast.MappingNode)
	if !ok {
		return nil
	}
	// Templates in config.yml read other variables of config.yml.
	self := map[string]bool{}
	for _, vars := range c.allVars() {
		walkStrings(vars, func(s string) {
			if !expr.HasTemplate(s) {
				return
			}
			if tp, err := template.Parse("", s); err == nil {
				for _, r := range tp.Refs() {
					self[r.Name] = true
				}
			}
		})
	}
	sorted := slices.Clone(known)
	slices.Sort(sorted)
	var out ConfigErrors
	check := func(n ast.Node, where string) {
		m, ok := unwrapNode(n).(*ast.MappingNode)
		if !ok {
			return
		}
		for _, mv := range m.Values {
			k := keyString(mv.Key)
			if strings.HasPrefix(k, "ansible_") || self[k] || read(k) {
				continue
			}
			msg := fmt.Sprintf("%s: no playbook or role reads %q, so it does nothing", where, k)
			if s := closest(k, sorted); s != "" && s != k {
				msg += fmt.Sprintf("; did you mean %s?", s)
			}
			tk := mv.Key.GetToken()
			out = append(out, positioned(c.src.path, c.src.data, tk.Position.Line, tk.Position.Column, "", msg))
		}
	}
	for _, mv := range top.Values {
		switch keyString(mv.Key) {
		case "cluster_vars":
			check(mv.Value, "cluster_vars")
		case "instance_defaults":
			if m, ok := unwrapNode(mv.Value).(*ast.MappingNode); ok {
				for _, kv := range m.Values {
					if keyString(kv.Key) == "vars" {
						check(kv.Value, "instance_defaults.vars")
					}
				}
			}
		case "instances":
			seq, ok := unwrapNode(mv.Value).(*ast.SequenceNode)
			if !ok {
				continue
			}
			for i, in := range seq.Values {
				m, ok := unwrapNode(in).(*ast.MappingNode)
				if !ok {
					continue
				}
				for _, kv := range m.Values {
					if keyString(kv.Key) == "vars" {
						check(kv.Value, fmt.Sprintf("instances[%d].vars", i))
					}
				}
			}
		}
	}
	return out
}

// allVars are the variable mappings of config.yml.
func (c *Config) allVars() []map[string]any {
	out := []map[string]any{c.ClusterVars, c.InstanceDefaults.Vars}
	for _, in := range c.Instances {
		out = append(out, in.Vars)
	}
	return out
}

// walkStrings calls fn for every string inside v.
func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case map[string]any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	}
}

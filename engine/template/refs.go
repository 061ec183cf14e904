package template

import (
	"sort"

	"github.com/tpago/tpago/engine/expr"
)

// Refs lists the variables the template reads from its caller, sorted by
// name: loop variables, loop and names set with {% set %} are left out.
// Optional is true when every use tolerates the variable being undefined.
func (t *Template) Refs() []expr.Ref {
	all := map[string]bool{} // name -> optional everywhere
	var walk func(nodes []node, bound map[string]bool)
	use := func(e exprNode, bound map[string]bool) {
		refs, err := expr.Refs(e.code)
		if err != nil {
			return
		}
		for _, r := range refs {
			if bound[r.Name] {
				continue
			}
			if prev, seen := all[r.Name]; seen {
				all[r.Name] = prev && r.Optional
			} else {
				all[r.Name] = r.Optional
			}
		}
	}
	walk = func(nodes []node, bound map[string]bool) {
		for _, n := range nodes {
			switch x := n.(type) {
			case exprNode:
				use(x, bound)
			case setNode:
				use(x.value, bound)
				bound[x.name] = true
			case *setBlockNode:
				walk(x.body, bound)
				bound[x.name] = true
			case *ifNode:
				for i, c := range x.conds {
					use(c, bound)
					walk(x.bodies[i], bound)
				}
				walk(x.els, bound)
			case *forNode:
				use(x.list, bound)
				inner := map[string]bool{"loop": true}
				for k := range bound {
					inner[k] = true
				}
				for _, name := range x.names {
					inner[name] = true
				}
				walk(x.body, inner)
				walk(x.els, bound)
			}
		}
	}
	walk(t.body, map[string]bool{})
	out := make([]expr.Ref, 0, len(all))
	for name, opt := range all {
		out = append(out, expr.Ref{Name: name, Optional: opt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

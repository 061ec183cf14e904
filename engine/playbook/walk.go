package playbook

import (
	"iter"
	"maps"
	"slices"
)

// Walk yields every task of ts and, depth first in the order they run, the
// tasks inside them: a block's block, rescue and always lists, the tasks of
// a task file included or imported statically, and the tasks of a role
// included by include_role. With each task comes the chain of tasks that
// enclose it, outermost first; the slice is reused, copy it to keep it.
func Walk(ts []*Task) iter.Seq2[*Task, []*Task] {
	return func(yield func(*Task, []*Task) bool) {
		var parents []*Task
		var walk func(ts []*Task) bool
		walk = func(ts []*Task) bool {
			for _, t := range ts {
				if !yield(t, parents) {
					return false
				}
				parents = append(parents, t)
				ok := walk(t.Block) && walk(t.Rescue) && walk(t.Always)
				if ok && t.Include != nil {
					ok = walk(t.Include.Loaded)
					if ok && t.Include.LoadedRole != nil {
						ok = walk(t.Include.LoadedRole.Tasks)
					}
				}
				parents = parents[:len(parents)-1]
				if !ok {
					return false
				}
			}
			return true
		}
		walk(ts)
	}
}

// HandlerNames are the names a notify: can use for handlers: each
// handler's name, its role-qualified name ("role : name") and its listen
// topics, sorted.
func HandlerNames(handlers []*Task) []string {
	set := map[string]bool{}
	for h := range Walk(handlers) {
		if h.Name != "" {
			set[h.Name] = true
			if h.Role != nil {
				set[h.Role.Name+" : "+h.Name] = true
			}
		}
		for _, l := range h.Listen {
			set[l] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

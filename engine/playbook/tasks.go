package playbook

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/yamlx"
)

func (ld *Loader) taskListIn(n *yamlx.Node, l loc, r *Role, handlers bool, chain string) []*Task {
	before := len(ld.errs)
	ts := ld.taskList(n, l, r, handlers)
	for i := before; i < len(ld.errs); i++ {
		ld.errs[i] = yamlx.WithChain(ld.errs[i], chain)
	}
	return ts
}

func (ld *Loader) taskList(n *yamlx.Node, l loc, r *Role, handlers bool) []*Task {
	if n == nil || n.Kind == yamlx.Null {
		return nil
	}
	if n.Kind != yamlx.List {
		ld.fail(yamlx.Errorf(n, "expected a list of tasks, not %s", n.KindName()))
		return nil
	}
	var out []*Task
	for _, tn := range n.Items {
		if t := ld.task(tn, l, r, handlers); t != nil {
			out = append(out, t)
		}
	}
	return out
}

// AsyncModules can start in the background (async: with poll: 0): their
// run is one shell script, which the host runs detached.
var AsyncModules = []string{"command", "shell"}

// ModulePrefixes are collection prefixes stripped from module names.
var ModulePrefixes = []string{"ansible.builtin.", "ansible.legacy.", "ansible.posix.", "community.general.", "community.postgresql.", "ansible.windows.", "community.windows.", "chocolatey.chocolatey."}

func (ld *Loader) task(n *yamlx.Node, l loc, r *Role, handler bool) *Task {
	if n.Kind != yamlx.Map {
		ld.fail(yamlx.Errorf(n, "a task is a mapping, not %s", n.KindName()))
		return nil
	}
	t := &Task{Pos: n.Pos, Role: r, Handler: handler, Dir: l.dir, FS: l.fsys}
	var modKey *yamlx.Node
	var modVal *yamlx.Node
	var argsKw *yamlx.Node
	// A problem with one key is reported and the rest of the task is still
	// checked: every problem shows in one pass.
	bad := false
	for i, k := range n.Keys {
		key := k.String()
		if _, ok := withLoop(key); ok || isTaskKeyword(key) {
			if key == "args" {
				argsKw = n.Vals[i]
			}
			continue
		}
		if hint, ok := Unsupported("task", key); ok {
			e := yamlx.Errorf(k, "%s is not supported", key)
			e.Hint = hint
			ld.fail(e)
			bad = true
			continue
		}
		name := key
		for _, p := range ModulePrefixes {
			name = strings.TrimPrefix(name, p)
		}
		if modKey != nil {
			if _, _, ok := module.Lookup(name); ok || isIncludeKey(name) || name == "action" {
				ld.fail(yamlx.Errorf(k, "a task runs one module: found both %s (line %d) and %s", modKey.String(), modKey.Pos.Line, key))
			} else {
				ld.fail(unknownKey(k, "task", taskKeywords))
			}
			bad = true
			continue
		}
		modKey, modVal = k, n.Vals[i]
		if name == "action" {
			if modKey, modVal = ld.action(n.Vals[i]); modKey == nil {
				bad = true
			}
		}
	}
	ld.taskKeywords(t, n, l)
	if bad && modKey == nil {
		return nil
	}
	if b := n.Get("block"); b != nil {
		if modKey != nil {
			ld.fail(yamlx.Errorf(modKey, "a block cannot also run a module (%s)", modKey.String()))
			return nil
		}
		t.Block = ld.taskList(b, l, r, handler)
		if t.Block == nil {
			t.Block = []*Task{}
		}
		t.Rescue = ld.taskList(n.Get("rescue"), l, r, handler)
		t.Always = ld.taskList(n.Get("always"), l, r, handler)
		return t
	}
	for _, k := range []string{"rescue", "always"} {
		if kn := n.KeyNode(k); kn != nil {
			ld.fail(yamlx.Errorf(kn, "%s: belongs to a block: (this task has no block:)", k))
		}
	}
	if modKey == nil {
		ld.fail(yamlx.Errorf(n, "this task runs no module (keys: %s)", strings.Join(keysOf(n), ", ")))
		return nil
	}
	name := modKey.String()
	for _, p := range ModulePrefixes {
		name = strings.TrimPrefix(name, p)
	}
	if isIncludeKey(name) {
		ld.include(t, name, modKey, modVal, l, r)
		return t
	}
	if name == "meta" {
		t.Module = "meta"
		t.Args = map[string]any{"_raw_params": modVal.String()}
		if !slices.Contains(MetaActions, modVal.String()) {
			ld.fail(yamlx.Errorf(modVal, "unknown meta action %q (flush_handlers, end_play, end_host, noop…)", modVal.String()))
		}
		return t
	}
	_, spec, ok := module.Lookup(name)
	if !ok {
		best := Closest(name, module.Names(), 3)
		e := yamlx.Errorf(modKey, "unknown module or keyword %q", modKey.String())
		if best != "" {
			e.Hint = fmt.Sprintf("did you mean %s? (`tpago modules` lists them all)", best)
		} else {
			e.Hint = "`tpago modules` lists the modules"
		}
		ld.fail(e)
		return nil
	}
	t.Module = spec.Name
	t.Spec = spec
	t.Args, t.ArgPos = ld.moduleArgs(spec, modKey, modVal)
	if argsKw != nil && t.Args != nil {
		if argsKw.Kind != yamlx.Map {
			ld.fail(yamlx.Errorf(argsKw, "args: takes a mapping"))
		} else {
			for i, k := range argsKw.Keys {
				t.Args[k.String()] = argsKw.Vals[i].Plain()
				t.ArgPos[k.String()] = k.Pos
			}
		}
	}
	if t.Args == nil {
		return nil
	}
	if t.Module == "set_fact" {
		for _, k := range slices.Sorted(maps.Keys(t.Args)) {
			if k != "cacheable" && !IsIdentifier(k) && !expr.HasTemplate(k) {
				ld.fail(yamlx.At(t.ArgPos[k], "set_fact: %q is not a variable name (letters, digits and _, not starting with a digit)", k))
			}
		}
	}
	for _, e := range spec.CheckStatic(t.Args) {
		p := modKey.Pos
		if pp, ok := t.ArgPos[e.Key]; ok {
			p = pp
		}
		ld.fail(yamlx.At(p, "%s: %s", spec.Name, e.Error()))
	}
	ld.checkArgTemplates(t)
	if t.Async > 0 && t.HasPoll && t.Poll == 0 && !slices.Contains(AsyncModules, t.Module) {
		e := yamlx.Errorf(n.KeyNode("poll"), "poll: 0 (start in the background) is supported for %s only, not %s", strings.Join(AsyncModules, " and "), t.Module)
		e.Hint = "drop poll: 0 to run the task in the foreground within async: seconds, or run the work with shell:"
		ld.fail(e)
	}
	if bad {
		return nil
	}
	return t
}

func keysOf(n *yamlx.Node) []string {
	var ks []string
	for _, k := range n.Keys {
		ks = append(ks, k.String())
	}
	return ks
}

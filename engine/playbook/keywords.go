package playbook

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/yamlx"
)

var taskKeywords = []string{"name", "when", "loop", "loop_control", "register", "notify", "listen",
	"changed_when", "failed_when", "ignore_errors", "ignore_unreachable", "tags", "become", "become_user",
	"become_method", "delegate_to", "delegate_facts", "run_once", "retries", "until", "delay", "vars",
	"environment", "no_log", "check_mode", "diff", "args", "block", "rescue", "always", "any_errors_fatal",
	"throttle", "timeout", "remote_user", "connection", "debugger", "collections", "module_defaults", "async", "poll"}

func isTaskKeyword(k string) bool {
	for _, x := range taskKeywords {
		if x == k {
			return true
		}
	}
	return false
}

// WithLoops are the with_* loops tpago runs as Ansible does: the value is
// the loop's, and the name says how it is turned into items.
var WithLoops = []string{"items", "list", "dict", "indexed_items", "together", "sequence", "subelements",
	"first_found", "nested"}

func withLoop(key string) (string, bool) {
	kind, ok := strings.CutPrefix(key, "with_")
	return kind, ok && slices.Contains(WithLoops, kind)
}

func (ld *Loader) taskKeywords(t *Task, n *yamlx.Node, l loc) {
	for i, k := range n.Keys {
		v := n.Vals[i]
		if ld.keyword(&t.Keywords, k.String(), v) {
			continue
		}
		if kind, ok := withLoop(k.String()); ok {
			if t.HasLoop {
				ld.fail(yamlx.Errorf(k, "a task has one loop: %s is the second", k.String()))
			}
			t.Loop, t.HasLoop, t.LoopWith = v.Plain(), true, kind
			ld.checkLoopTemplates(v)
			continue
		}
		switch k.String() {
		case "name":
			t.Name = v.String()
		case "when":
			t.When = ld.conds(v)
		case "loop":
			if t.HasLoop {
				ld.fail(yamlx.Errorf(k, "a task has one loop: loop: and with_%s: are both here", t.LoopWith))
			}
			t.Loop = v.Plain()
			t.HasLoop = true
			if s, ok := t.Loop.(string); ok {
				if err := expr.CheckTemplate(s); err != nil {
					ld.fail(yamlx.Errorf(v, "loop: %v", err))
				}
			}
		case "loop_control":
			if v.Kind != yamlx.Map {
				ld.fail(yamlx.Errorf(v, "loop_control takes a mapping"))
				continue
			}
			for j, lk := range v.Keys {
				switch lk.String() {
				case "loop_var":
					t.LoopVar = v.Vals[j].String()
				case "label":
					t.LoopLabel = v.Vals[j].String()
				case "index_var":
					t.IndexVar = v.Vals[j].String()
				case "pause", "extended", "extended_allitems":
				default:
					ld.fail(unknownKey(lk, "loop_control", []string{"loop_var", "label", "index_var", "pause", "extended"}))
				}
			}
		case "register":
			t.Register = v.String()
			if !IsIdentifier(t.Register) {
				ld.fail(yamlx.Errorf(v, "register: %q is not a variable name (letters, digits and _, not starting with a digit)", t.Register))
			}
		case "notify":
			t.Notify = ld.strings(v)
		case "listen":
			t.Listen = ld.strings(v)
		case "changed_when":
			t.ChangedWhen = ld.conds(v)
			t.HasChanged = true
		case "failed_when":
			t.FailedWhen = ld.conds(v)
			t.HasFailed = true
		case "until":
			t.Until = ld.conds(v)
			if !t.HasRetries {
				t.Retries = 3
			}
		case "delegate_to":
			t.DelegateTo = v.String()
		case "delegate_facts":
			if b := ld.boolp(v); b != nil {
				t.DelegateFacts = *b
			}
		case "run_once":
			if b := ld.boolp(v); b != nil {
				t.RunOnce = *b
			}
		case "retries":
			t.Retries = ld.countOrTemplate(v, "retries")
			t.HasRetries = true
		case "delay":
			t.Delay = ld.countOrTemplate(v, "delay")
		case "timeout":
			t.Timeout = ld.count(v, "timeout")
		case "async":
			t.Async = ld.count(v, "async")
		case "poll":
			t.Poll = ld.count(v, "poll")
			t.HasPoll = true
		case "vars":
			t.Vars = ld.mapping(v, "vars")
		}
	}
}

// keyword decodes one of the keywords plays, blocks and tasks share into
// kw; false when key is not one of them.
func (ld *Loader) keyword(kw *Keywords, key string, v *yamlx.Node) bool {
	switch key {
	case "become":
		kw.Become = ld.flag(v, "become")
	case "become_user":
		kw.BecomeUser = v.String()
	case "become_method":
		if v.String() != "sudo" {
			ld.fail(yamlx.Errorf(v, "become_method %q is not supported: tpago escalates with sudo", v.String()))
		}
	case "no_log":
		kw.NoLog = ld.flag(v, "no_log")
	case "ignore_errors":
		kw.IgnoreErrors = ld.flag(v, "ignore_errors")
	case "check_mode":
		kw.CheckMode = ld.boolp(v)
	case "diff":
		kw.Diff = ld.boolp(v)
	case "ignore_unreachable":
		kw.IgnoreUnreach = ld.boolp(v)
	case "any_errors_fatal":
		kw.AnyErrorsFatal = ld.boolp(v)
	case "tags":
		kw.Tags = ld.strings(v)
	case "environment":
		if s, ok := v.Plain().(string); ok && expr.HasTemplate(s) {
			ld.checkTemplate(v, "environment")
			kw.Environment = s
		} else if m := ld.environment(v); m != nil {
			kw.Environment = m
		}
	default:
		return false
	}
	return true
}

// flag reads a keyword that is true or false, or a template decided per
// host at run time.
func (ld *Loader) flag(v *yamlx.Node, what string) any {
	if s, ok := v.Plain().(string); ok && expr.HasTemplate(s) {
		ld.checkTemplate(v, what)
		return s
	}
	if b := ld.boolp(v); b != nil {
		return *b
	}
	return nil
}

// countOrTemplate reads a whole number of 0 or more, or a template
// checked at run time.
func (ld *Loader) countOrTemplate(v *yamlx.Node, what string) any {
	if s, ok := v.Plain().(string); ok && expr.HasTemplate(s) {
		ld.checkTemplate(v, what)
		return s
	}
	return ld.count(v, what)
}

// checkLoopTemplates checks the templates in a with_* loop's value.
func (ld *Loader) checkLoopTemplates(v *yamlx.Node) {
	WalkStrings(v.Plain(), func(s string) {
		if expr.HasTemplate(s) {
			if err := expr.CheckTemplate(s); err != nil {
				ld.fail(yamlx.Errorf(v, "loop: %v", err))
			}
		}
	})
}

func (ld *Loader) checkTemplate(v *yamlx.Node, what string) {
	if err := expr.CheckTemplate(v.String()); err != nil {
		ld.fail(yamlx.Errorf(v, "%s: %v", what, err))
	}
}

func (ld *Loader) conds(v *yamlx.Node) []Cond {
	var out []Cond
	add := func(n *yamlx.Node) {
		s := n.String()
		if n.Kind == yamlx.Scalar {
			if b, ok := n.Value.(bool); ok {
				s = fmt.Sprint(b)
			}
		}
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1 {
			s = strings.TrimSpace(s[2 : len(s)-2])
		}
		if s == "" {
			ld.fail(yamlx.Errorf(n, "empty condition"))
			return
		}
		if err := expr.Check(s); err != nil {
			ld.fail(yamlx.Errorf(n, "condition: %v", err))
			return
		}
		out = append(out, Cond{Expr: s, Pos: n.Pos})
	}
	if v.Kind == yamlx.List {
		for _, it := range v.Items {
			add(it)
		}
	} else {
		add(v)
	}
	return out
}

func (ld *Loader) strings(v *yamlx.Node) []string {
	switch v.Kind {
	case yamlx.Null:
		return nil
	case yamlx.List:
		var out []string
		for _, it := range v.Items {
			out = append(out, it.String())
		}
		return out
	case yamlx.Scalar:
		var out []string
		for _, p := range strings.Split(v.String(), ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	ld.fail(yamlx.Errorf(v, "expected a list of names, not %s", v.KindName()))
	return nil
}

func (ld *Loader) mapping(v *yamlx.Node, what string) map[string]any {
	if v.Kind == yamlx.Null {
		return nil
	}
	if v.Kind != yamlx.Map {
		ld.fail(yamlx.Errorf(v, "%s: takes a mapping, not %s", what, v.KindName()))
		return nil
	}
	return v.Plain().(map[string]any)
}

// environment reads an environment: keyword; names that are not shell
// variable names are refused here when written as they are (a templated
// name is checked when the task runs).
func (ld *Loader) environment(v *yamlx.Node) map[string]any {
	m := ld.mapping(v, "environment")
	if m == nil {
		return nil
	}
	for _, k := range v.Keys {
		name := fmt.Sprint(k.Value)
		if module.IsTemplated(name) {
			continue
		}
		if err := conn.CheckEnvName(name); err != nil {
			ld.fail(yamlx.Errorf(k, "%v", err))
		}
	}
	return m
}

func (ld *Loader) boolp(v *yamlx.Node) *bool {
	if module.IsTemplated(v.Plain()) {
		ld.fail(yamlx.Errorf(v, "this keyword takes true or false, not a template"))
		return nil
	}
	b, err := module.ParseBool(v.Plain())
	if err != nil {
		ld.fail(yamlx.Errorf(v, "%v", err))
		return nil
	}
	return &b
}

// IsIdentifier reports whether s can name a variable.
func IsIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c != '_' && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// count reads a keyword that takes a whole number of zero or more.
func (ld *Loader) count(v *yamlx.Node, what string) int {
	n := ld.intv(v)
	if n < 0 {
		ld.fail(yamlx.Errorf(v, "%s: takes a whole number of 0 or more, not %d", what, n))
		return 0
	}
	return n
}

func (ld *Loader) intv(v *yamlx.Node) int {
	a := module.Arg{Type: module.Int}
	n, err := module.Spec{Args: []module.Arg{{Name: "x", Type: module.Int}}}.Normalize(map[string]any{"x": v.Plain()})
	_ = a
	if err != nil {
		ld.fail(yamlx.Errorf(v, "expected a whole number, not %q", v.String()))
		return 0
	}
	return n.Int("x")
}

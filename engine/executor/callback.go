package executor

import (
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/playbook"
)

// Status is the outcome of a task on a host.
type Status int

// Task outcomes, as ansible-playbook names them.
const (
	OK Status = iota
	Changed
	Skipped
	Failed
	Unreachable
)

func (s Status) String() string {
	return [...]string{"ok", "changed", "skipping", "failed", "unreachable"}[s]
}

// TaskResult is a task's outcome on one host.
type TaskResult struct {
	Host string
	// Delegate is the host the task ran on when delegated.
	Delegate string
	Task     *playbook.Task
	Status   Status
	// Ignored: failed, but ignore_errors was set.
	Ignored bool
	// Predicted: in check mode, the task could not be evaluated because it
	// depends on a change that was only predicted.
	Predicted bool
	Msg       string
	// Result is what register would store.
	Result map[string]any
	Diffs  []module.Diff
	// Items are the per-item outcomes of a loop.
	Items []*TaskResult
	// Item is the loop item (for item results), Label its display form.
	Item  any
	Label string
	NoLog bool
	// Attempts made, with until/retries.
	Attempts int
}

// Stats are a host's counts for the recap.
type Stats struct {
	Host        string
	OK          int
	Changed     int
	Unreachable int
	Failed      int
	Skipped     int
	Rescued     int
	Ignored     int
}

// Callback receives the run's events; output.Writer is the usual one.
// Calls come from several goroutines, one at a time.
type Callback interface {
	PlayStart(p *playbook.Play, name string, hosts []string)
	TaskStart(t *playbook.Task, name string, handler bool)
	HostResult(r *TaskResult)
	// Retry reports a failed attempt of an until loop.
	Retry(host string, t *playbook.Task, attempt, retries int)
	Warn(msg string)
	Recap(stats []*Stats)
	// Trace reports a remote command at -vvv.
	Trace(host, cmd, script string)
}

// Censored is what is left of a no_log task's result, in Ansible's words.
const Censored = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"

// masked is the gate every event passes before any callback sees it: a
// no_log result keeps only its status, and every known secret value is
// replaced by ******** in everything else. Writers and callbacks of their
// own (status, ad hoc…) need not mask anything.
type masked struct {
	next    Callback
	secrets func() []string
}

var _ Callback = (*masked)(nil)

// Masked returns cb behind the gate every executor puts before its
// callback: no_log results censored, secrets (as secrets returns them at
// each event) replaced by ********.
func Masked(cb Callback, secrets func() []string) Callback {
	return &masked{next: cb, secrets: secrets}
}

func (m *masked) mask(s string) string {
	if s == "" {
		return s
	}
	for _, x := range m.secrets() {
		if x != "" {
			s = strings.ReplaceAll(s, x, "********")
		}
	}
	return s
}

// value returns a copy of v with secrets masked in every string.
func (m *masked) value(v any) any {
	switch x := v.(type) {
	case string:
		return m.mask(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = m.value(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = m.value(e)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = m.mask(e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[k] = m.mask(e)
		}
		return out
	case expr.Raw:
		return expr.Raw{Value: m.value(x.Value)}
	}
	return v
}

// result returns what callbacks may see of r; r itself (which register
// stores) is left as it is.
func (m *masked) result(r *TaskResult, noLog bool) *TaskResult {
	c := *r
	c.NoLog = noLog || r.NoLog
	if c.NoLog {
		c.Result = map[string]any{"censored": Censored, "changed": r.Status == Changed}
		if r.Status == Failed {
			c.Result["failed"] = true
		}
		if r.Status == Skipped {
			c.Result["skipped"] = true
		}
		c.Msg = ""
		if r.Predicted {
			c.Msg = "cannot be predicted in check mode: it depends on a change that was only predicted"
		}
		c.Diffs = nil
		c.Item, c.Label = nil, "None"
	} else {
		c.Msg = m.mask(r.Msg)
		if r.Result != nil {
			c.Result = m.value(r.Result).(map[string]any)
		}
		c.Item = m.value(r.Item)
		c.Label = m.mask(r.Label)
		c.Diffs = make([]module.Diff, len(r.Diffs))
		for i, d := range r.Diffs {
			c.Diffs[i] = module.Diff{BeforeHeader: m.mask(d.BeforeHeader), AfterHeader: m.mask(d.AfterHeader),
				Before: m.mask(d.Before), After: m.mask(d.After)}
		}
	}
	if r.Items != nil {
		c.Items = make([]*TaskResult, len(r.Items))
		for i, it := range r.Items {
			c.Items[i] = m.result(it, c.NoLog)
		}
	}
	return &c
}

func (m *masked) PlayStart(p *playbook.Play, name string, hosts []string) {
	m.next.PlayStart(p, m.mask(name), hosts)
}

func (m *masked) TaskStart(t *playbook.Task, name string, handler bool) {
	m.next.TaskStart(t, m.mask(name), handler)
}

func (m *masked) HostResult(r *TaskResult) { m.next.HostResult(m.result(r, false)) }

func (m *masked) Retry(host string, t *playbook.Task, attempt, retries int) {
	m.next.Retry(host, t, attempt, retries)
}

func (m *masked) Warn(msg string) { m.next.Warn(m.mask(msg)) }

func (m *masked) Recap(stats []*Stats) { m.next.Recap(stats) }

func (m *masked) Trace(host, cmd, script string) { m.next.Trace(host, m.mask(cmd), m.mask(script)) }

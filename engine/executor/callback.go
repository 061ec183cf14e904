package executor

import (
	"slices"
	"strings"
	"sync"

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

	// hostFacts and includedVars are what the module gathered or read
	// for the host (module.Result's HostFacts and IncludedVars).
	hostFacts    map[string]any
	includedVars map[string]any
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

	mu   sync.Mutex
	seen int               // how many secrets rep was built from
	rep  *strings.Replacer // nil while there is no secret
}

var _ Callback = (*masked)(nil)

// Masked returns cb behind the gate every executor puts before its
// callback: no_log results censored, secrets (as secrets returns them at
// each event) replaced by ********.
func Masked(cb Callback, secrets func() []string) Callback {
	return &masked{next: cb, secrets: secrets}
}

// masker returns what masks the secrets known now, read once per event
// and rebuilt only when a secret was added (secrets are only ever added).
// The longest secrets are masked first, so that one containing another
// is hidden whole.
func (m *masked) masker() *strings.Replacer {
	secrets := m.secrets()
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(secrets); n != m.seen {
		secrets = slices.DeleteFunc(slices.Clone(secrets), func(x string) bool { return x == "" })
		slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
		pairs := make([]string, 0, 2*len(secrets))
		for _, x := range secrets {
			pairs = append(pairs, x, "********")
		}
		m.rep, m.seen = nil, n
		if len(pairs) > 0 {
			m.rep = strings.NewReplacer(pairs...)
		}
	}
	return m.rep
}

// mask replaces the secrets in s.
func mask(rep *strings.Replacer, s string) string {
	if rep == nil || s == "" {
		return s
	}
	return rep.Replace(s)
}

// value returns a copy of v with secrets masked in every string.
func maskValue(rep *strings.Replacer, v any) any {
	switch x := v.(type) {
	case string:
		return mask(rep, x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = maskValue(rep, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskValue(rep, e)
		}
		return out
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = mask(rep, e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(x))
		for k, e := range x {
			out[k] = mask(rep, e)
		}
		return out
	case expr.Raw:
		return expr.Raw{Value: maskValue(rep, x.Value)}
	}
	return v
}

// result returns what callbacks may see of r; r itself (which register
// stores) is left as it is.
func maskResult(rep *strings.Replacer, r *TaskResult, noLog bool) *TaskResult {
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
		c.Msg = mask(rep, r.Msg)
		if r.Result != nil {
			c.Result = maskValue(rep, r.Result).(map[string]any)
		}
		c.Item = maskValue(rep, r.Item)
		c.Label = mask(rep, r.Label)
		c.Diffs = make([]module.Diff, len(r.Diffs))
		for i, d := range r.Diffs {
			c.Diffs[i] = module.Diff{BeforeHeader: mask(rep, d.BeforeHeader), AfterHeader: mask(rep, d.AfterHeader),
				Before: mask(rep, d.Before), After: mask(rep, d.After)}
		}
	}
	if r.Items != nil {
		c.Items = make([]*TaskResult, len(r.Items))
		for i, it := range r.Items {
			c.Items[i] = maskResult(rep, it, c.NoLog)
		}
	}
	return &c
}

func (m *masked) PlayStart(p *playbook.Play, name string, hosts []string) {
	m.next.PlayStart(p, mask(m.masker(), name), hosts)
}

func (m *masked) TaskStart(t *playbook.Task, name string, handler bool) {
	m.next.TaskStart(t, mask(m.masker(), name), handler)
}

func (m *masked) HostResult(r *TaskResult) { m.next.HostResult(maskResult(m.masker(), r, false)) }

func (m *masked) Retry(host string, t *playbook.Task, attempt, retries int) {
	m.next.Retry(host, t, attempt, retries)
}

func (m *masked) Warn(msg string) { m.next.Warn(mask(m.masker(), msg)) }

func (m *masked) Recap(stats []*Stats) { m.next.Recap(stats) }

func (m *masked) Trace(host, cmd, script string) {
	rep := m.masker()
	m.next.Trace(host, mask(rep, cmd), mask(rep, script))
}

package executor

import (
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

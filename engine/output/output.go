// Package output prints a run the way ansible-playbook does (PLAY, TASK,
// ok/changed/failed per host, PLAY RECAP), in colour on a terminal, with
// unified diffs, or as one JSON event per line for programs.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/playbook"
)

// Writer is the human-readable output.
type Writer struct {
	W         io.Writer
	Color     bool
	Verbosity int
	Diff      bool
	Check     bool

	// Live shows, on a terminal, how long the running task has taken and
	// how many hosts are done, on a line that the next result replaces.
	Live bool
	// Profile lists the slowest tasks after the recap, each timed from
	// its start to the next task's (as Ansible's profile_tasks).
	Profile bool

	mu        sync.Mutex
	taskStart time.Time
	taskName  string
	timings   []taskTiming
	done      int
	status    bool // a status line is showing
	stop      chan struct{}
}

// clearStatus removes the live status line; call with w.mu held.
func (w *Writer) clearStatus() {
	if w.status {
		fmt.Fprint(w.W, "\r\033[2K")
		w.status = false
	}
}

// stopLive ends the running task's status ticker; call with w.mu held.
func (w *Writer) stopLive() {
	if w.stop != nil {
		close(w.stop)
		w.stop = nil
	}
	w.clearStatus()
}

func (w *Writer) startLive() {
	if !w.Live {
		return
	}
	stop := make(chan struct{})
	w.stop = stop
	start := w.taskStart
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				w.mu.Lock()
				if w.stop == stop && time.Since(start) > time.Second {
					fmt.Fprintf(w.W, "\r\033[2K%s", w.c(gray, fmt.Sprintf("  … %ds, %d host(s) done", int(time.Since(start).Seconds()), w.done)))
					w.status = true
				}
				w.mu.Unlock()
			}
		}
	}()
}

var _ executor.Callback = (*Writer)(nil)

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

const (
	green   = "\033[0;32m"
	yellow  = "\033[0;33m"
	red     = "\033[0;31m"
	cyan    = "\033[0;36m"
	magenta = "\033[0;35m"
	gray    = "\033[0;90m"
	bold    = "\033[1m"
	reset   = "\033[0m"
)

func (w *Writer) c(color, s string) string {
	if !w.Color {
		return s
	}
	return color + s + reset
}

func (w *Writer) printf(format string, a ...any) {
	w.clearStatus()
	fmt.Fprintf(w.W, format, a...)
}

func banner(s string) string {
	n := 79 - len([]rune(s))
	if n < 3 {
		n = 3
	}
	return s + " " + strings.Repeat("*", n)
}

// PlayStart implements executor.Callback.
func (w *Writer) PlayStart(p *playbook.Play, name string, hosts []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopLive()
	w.printf("\n%s\n", w.c(bold, banner("PLAY ["+name+"]")))
}

// TaskStart implements executor.Callback.
func (w *Writer) TaskStart(t *playbook.Task, name string, handler bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	kind := "TASK"
	if handler {
		kind = "RUNNING HANDLER"
	}
	w.stopLive()
	w.endTiming()
	w.taskStart = time.Now()
	w.taskName = name
	w.done = 0
	w.printf("\n%s\n", w.c(bold, banner(kind+" ["+name+"]")))
	w.startLive()
}

// Retry implements executor.Callback.
func (w *Writer) Retry(host string, t *playbook.Task, attempt, retries int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.printf("%s\n", w.c(yellow, fmt.Sprintf("FAILED - RETRYING: [%s]: %s (%d retries left).", host, t.Label(), retries-attempt+1)))
}

// Warn implements executor.Callback.
func (w *Writer) Warn(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.printf("%s\n", w.c(magenta, "[WARNING]: "+msg))
}

// Trace implements executor.Callback.
func (w *Writer) Trace(host, cmd, script string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.printf("%s\n", w.c(gray, fmt.Sprintf("<%s> EXEC %s\n%s", host, cmd, indent(script, "    "))))
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n")
}

func hostLabel(r *executor.TaskResult) string {
	if r.Delegate != "" && r.Delegate != r.Host {
		return r.Host + " -> " + r.Delegate
	}
	return r.Host
}

// HostResult implements executor.Callback.
func (w *Writer) HostResult(r *executor.TaskResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done++
	if len(r.Items) > 0 {
		for _, it := range r.Items {
			it.NoLog = r.NoLog
			w.line(it, fmt.Sprintf(" => (item=%s)", w.itemLabel(it, r.NoLog)))
		}
		if r.Status == executor.Failed {
			w.line(r, "")
		}
		return
	}
	w.line(r, "")
}

func (w *Writer) itemLabel(r *executor.TaskResult, noLog bool) string {
	if noLog {
		return "None"
	}
	if r.Label != "" {
		return r.Label
	}
	switch x := r.Item.(type) {
	case string:
		return x
	}
	b, _ := json.Marshal(r.Item)
	return string(b)
}

func (w *Writer) line(r *executor.TaskResult, suffix string) {
	if w.Diff && !r.NoLog {
		for _, d := range r.Diffs {
			w.printf("%s", w.diff(d))
		}
	}
	label := hostLabel(r)
	switch r.Status {
	case executor.OK:
		w.printf("%s%s\n", w.c(green, "ok: ["+label+"]"+suffix), w.details(r, false))
	case executor.Changed:
		w.printf("%s%s\n", w.c(yellow, "changed: ["+label+"]"+suffix), w.details(r, false))
	case executor.Skipped:
		msg := ""
		if r.Predicted {
			msg = " => " + r.Msg
		}
		if r.Predicted {
			w.printf("%s\n", w.c(cyan, "skipping: ["+label+"]"+suffix+msg))
		} else if w.Verbosity > 0 {
			// As Ansible at -v: why it was skipped ("remote module (x)
			// does not support check mode", "Conditional result was False").
			w.printf("%s%s\n", w.c(cyan, "skipping: ["+label+"]"+suffix), w.details(r, false))
		} else {
			w.printf("%s\n", w.c(cyan, "skipping: ["+label+"]"+suffix))
		}
	case executor.Failed:
		w.printf("%s\n", w.c(red, "fatal: ["+label+"]"+suffix+": FAILED! => "+w.failure(r)))
		if r.Ignored {
			w.printf("%s\n", w.c(cyan, "...ignoring"))
		}
	case executor.Unreachable:
		w.printf("%s\n", w.c(red, "fatal: ["+label+"]"+suffix+": UNREACHABLE! => "+w.failure(r)))
	}
}

func (w *Writer) failure(r *executor.TaskResult) string {
	if r.NoLog {
		return `{"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result"}`
	}
	m := map[string]any{}
	for _, k := range []string{"msg", "rc", "stdout", "stderr", "cmd", "changed"} {
		if v, ok := r.Result[k]; ok {
			if s, isStr := v.(string); isStr && s == "" && k != "msg" {
				continue
			}
			m[k] = v
		}
	}
	if _, ok := m["msg"]; !ok && r.Msg != "" {
		m["msg"] = r.Msg
	}
	if w.Verbosity > 0 {
		m = r.Result
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (w *Writer) details(r *executor.TaskResult, force bool) string {
	if r.NoLog {
		if w.Verbosity > 0 {
			return ` => {"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result"}`
		}
		return ""
	}
	if r.Task != nil && r.Task.Module == "debug" && r.Result != nil {
		m := map[string]any{}
		for k, v := range r.Result {
			if k != "changed" && k != "failed" && k != "item" && k != "ansible_loop_var" {
				m[k] = v
			}
		}
		b, _ := json.MarshalIndent(m, "", "    ")
		return " => " + string(b)
	}
	if w.Verbosity == 0 || r.Result == nil {
		return ""
	}
	b, _ := json.Marshal(r.Result)
	return " => " + string(b)
}

func (w *Writer) diff(d module.Diff) string {
	if d.Before == d.After {
		return ""
	}
	bh, ah := d.BeforeHeader, d.AfterHeader
	if bh == "" {
		bh = "before"
	}
	if ah == "" {
		ah = "after"
	}
	u := difflib.UnifiedDiff{
		A: difflib.SplitLines(d.Before), B: difflib.SplitLines(d.After),
		FromFile: "before: " + bh, ToFile: "after: " + ah, Context: 3,
	}
	s, err := difflib.GetUnifiedDiffString(u)
	if err != nil || s == "" {
		return ""
	}
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	if !w.Color {
		return s
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			b.WriteString(bold + l + reset)
		case strings.HasPrefix(l, "+"):
			b.WriteString(green + l + reset)
		case strings.HasPrefix(l, "-"):
			b.WriteString(red + l + reset)
		case strings.HasPrefix(l, "@@"):
			b.WriteString(cyan + l + reset)
		default:
			b.WriteString(l)
		}
	}
	return b.String()
}

// Recap implements executor.Callback.
func (w *Writer) Recap(stats []*executor.Stats) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopLive()
	w.endTiming()
	w.printf("\n%s\n", w.c(bold, banner("PLAY RECAP")))
	ss := append([]*executor.Stats(nil), stats...)
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].Host < ss[j].Host })
	for _, s := range ss {
		color := green
		switch {
		case s.Failed > 0 || s.Unreachable > 0:
			color = red
		case s.Changed > 0:
			color = yellow
		}
		name := fmt.Sprintf("%-26s", s.Host)
		w.printf("%s: %s %s %s %s %s %s %s\n", w.c(color, name),
			w.c(green, fmt.Sprintf("ok=%-4d", s.OK)),
			w.cnt(yellow, "changed", s.Changed),
			w.cnt(red, "unreachable", s.Unreachable),
			w.cnt(red, "failed", s.Failed),
			w.cnt(cyan, "skipped", s.Skipped),
			w.cnt(magenta, "rescued", s.Rescued),
			w.cnt(magenta, "ignored", s.Ignored))
	}
	w.printf("\n")
	if w.Profile {
		w.printProfile()
	}
}

// taskTiming is how long one task took, on all its hosts.
type taskTiming struct {
	name string
	took time.Duration
}

// profileTop is how many tasks the profile lists.
const profileTop = 20

// endTiming records the running task's time; call with w.mu held.
func (w *Writer) endTiming() {
	if w.taskName != "" {
		w.timings = append(w.timings, taskTiming{w.taskName, time.Since(w.taskStart)})
		w.taskName = ""
	}
}

// printProfile lists the slowest tasks, slowest first, and the total.
func (w *Writer) printProfile() {
	ts := append([]taskTiming(nil), w.timings...)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].took > ts[j].took })
	var total time.Duration
	for _, t := range w.timings {
		total += t.took
	}
	w.printf("%s\n", w.c(bold, banner("TASKS PROFILE")))
	for i, t := range ts {
		if i == profileTop {
			break
		}
		name := t.name
		if r := []rune(name); len(r) > 66 {
			name = string(r[:65]) + "…"
		}
		w.printf("%s %s %7.2fs\n", name, strings.Repeat("-", max(3, 70-len([]rune(name)))), t.took.Seconds())
	}
	w.printf("%d tasks, %.2fs in all\n\n", len(w.timings), total.Seconds())
}

func (w *Writer) cnt(color, name string, n int) string {
	s := fmt.Sprintf("%s=%-4d", name, n)
	if n == 0 {
		return s
	}
	return w.c(color, s)
}

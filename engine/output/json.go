package output

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/playbook"
)

// JSON writes one JSON object per line per event, for programs.
type JSON struct {
	W  io.Writer
	mu sync.Mutex
}

var _ executor.Callback = (*JSON)(nil)

func (j *JSON) emit(ev map[string]any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	ev["time"] = time.Now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(ev)
	if err != nil {
		// No event is dropped: values JSON cannot hold (NaN, ±Inf, a
		// channel…) are written as their text, and the event says so.
		safe := jsonSafe(ev).(map[string]any)
		safe["encode_error"] = err.Error()
		if b, err = json.Marshal(safe); err != nil {
			b, _ = json.Marshal(map[string]any{"event": ev["event"], "time": ev["time"], "encode_error": err.Error()})
		}
	}
	j.W.Write(append(b, '\n'))
}

// jsonSafe returns v with every value encoding/json refuses replaced by
// its text.
func jsonSafe(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonSafe(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonSafe(e)
		}
		return out
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
		return x
	case float32:
		return jsonSafe(float64(x))
	}
	if _, err := json.Marshal(v); err != nil {
		return fmt.Sprint(v)
	}
	return v
}

// PlayStart implements executor.Callback.
func (j *JSON) PlayStart(p *playbook.Play, name string, hosts []string) {
	j.emit(map[string]any{"event": "play_start", "play": name, "hosts": hosts})
}

// TaskStart implements executor.Callback.
func (j *JSON) TaskStart(t *playbook.Task, name string, handler bool) {
	j.emit(map[string]any{"event": "task_start", "task": name, "handler": handler, "pos": t.Pos.String()})
}

// HostResult implements executor.Callback.
func (j *JSON) HostResult(r *executor.TaskResult) {
	ev := map[string]any{"event": "host_result", "host": r.Host, "status": r.Status.String(), "task": r.Task.Label()}
	if r.Delegate != "" {
		ev["delegate"] = r.Delegate
	}
	if r.Ignored {
		ev["ignored"] = true
	}
	if r.Predicted {
		ev["predicted"] = true
	}
	if r.NoLog {
		ev["result"] = map[string]any{"censored": "no_log"}
	} else {
		ev["result"] = r.Result
		if len(r.Diffs) > 0 {
			ev["diff"] = r.Diffs
		}
	}
	if r.Msg != "" && !r.NoLog {
		ev["msg"] = r.Msg
	}
	j.emit(ev)
}

// Retry implements executor.Callback.
func (j *JSON) Retry(host string, t *playbook.Task, attempt, retries int) {
	j.emit(map[string]any{"event": "retry", "host": host, "task": t.Label(), "attempt": attempt, "retries": retries})
}

// Warn implements executor.Callback.
func (j *JSON) Warn(msg string) { j.emit(map[string]any{"event": "warning", "msg": msg}) }

// Recap implements executor.Callback.
func (j *JSON) Recap(stats []*executor.Stats) {
	j.emit(map[string]any{"event": "recap", "stats": stats})
}

// Trace implements executor.Callback.
func (j *JSON) Trace(host, cmd, script string) {
	j.emit(map[string]any{"event": "trace", "host": host, "cmd": cmd})
}

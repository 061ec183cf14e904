package executor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/playbook"
)

// background tells whether t starts in the background: async: N with
// poll: 0.
func background(t *playbook.Task) bool { return t.Async > 0 && t.HasPoll && t.Poll == 0 }

// errCaptured stops a module once its script is captured.
var errCaptured = errors.New("script captured for a background job")

// captureRunner keeps the script a module would run instead of running it.
type captureRunner struct{ script string }

func (c *captureRunner) Run(_ context.Context, script string) (conn.Output, error) {
	if c.script != "" {
		return conn.Output{}, fmt.Errorf("the module runs more than one script: it cannot run in the background")
	}
	c.script = script
	return conn.Output{}, errCaptured
}

// startJob runs t's module in the background on the host (poll: 0): the
// module's script is captured, then started detached, its output and
// status kept in a job folder that async_status reads. Check mode runs the
// module in the foreground as usual: it changes nothing.
func (pr *playRun) startJob(ctx context.Context, t *playbook.Task, mod module.Module, rt *module.Runtime, nargs module.Args, res *TaskResult) *module.Result {
	if rt.Check {
		mr, err := mod.Run(ctx, rt, nargs)
		if err != nil {
			return &module.Result{Failed: true, Msg: err.Error()}
		}
		if mr.Data == nil {
			mr.Data = map[string]any{}
		}
		mr.Data["ansible_job_id"], mr.Data["started"], mr.Data["finished"] = "", false, true
		return mr
	}
	capt := &captureRunner{}
	crt := *rt
	crt.Remote = capt
	if _, err := mod.Run(ctx, &crt, nargs); !errors.Is(err, errCaptured) {
		if err == nil {
			err = fmt.Errorf("%s ran no script: it cannot run in the background", t.Module)
		}
		return &module.Result{Failed: true, Msg: err.Error()}
	}
	jid := jobID()
	out, err := rt.Remote.Run(ctx, jobScript(jid, capt.script, t.Async))
	if err != nil {
		return &module.Result{Failed: true, Msg: err.Error()}
	}
	file := ""
	for _, l := range strings.Split(string(out.Stdout), "\n") {
		if v, ok := strings.CutPrefix(l, "@T results_file="); ok {
			file = v
		}
	}
	if out.RC != 0 || file == "" {
		return &module.Result{Failed: true, Msg: fmt.Sprintf("could not start the background job: %s", strings.TrimSpace(string(out.Stderr)+string(out.Stdout)))}
	}
	return &module.Result{Changed: true, Data: map[string]any{
		"ansible_job_id": jid, "started": true, "finished": false, "results_file": file}}
}

// jobID is a new job id, in the shape of Ansible's (j + digits).
func jobID() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1e12))
	m, _ := rand.Int(rand.Reader, big.NewInt(1e6))
	return fmt.Sprintf("j%012d.%06d", n, m)
}

// jobScript starts script detached (setsid, nohup) in a private job folder:
// ~/.ansible_async/JID of the user the task runs as, or
// /tmp/.tpago_async-UID when the home folder cannot be written
// (async_status looks in the same two places). The folder holds stdout,
// stderr, and rc once the job has ended; limit seconds end it with KILL.
func jobScript(jid, script string, limit int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `umask 077
jid=%s
d=${HOME:-/nonexistent}/.ansible_async
if ! mkdir -p "$d" 2>/dev/null || [ ! -w "$d" ]; then
  d=/tmp/.tpago_async-$(id -u)
  mkdir -p "$d" || exit 1
  if [ -L "$d" ] || [ ! -O "$d" ]; then echo "$d is not the user's own folder" >&2; exit 1; fi
fi
j=$d/$jid
mkdir "$j" || exit 1
{ %s
} > "$j/script" || exit 1
w='j=$1 lim=$2
if command -v timeout >/dev/null 2>&1; then timeout -s KILL "$lim" sh "$j/script" >"$j/stdout" 2>"$j/stderr" </dev/null; rc=$?
else sh "$j/script" >"$j/stdout" 2>"$j/stderr" </dev/null; rc=$?; fi
rm -f "$j/script"
[ "$rc" = 137 ] && : > "$j/timedout"
echo "$rc" > "$j/rc.tmp" && mv "$j/rc.tmp" "$j/rc"'
if command -v setsid >/dev/null 2>&1; then
  setsid nohup sh -c "$w" tpago-async "$j" %d </dev/null >/dev/null 2>&1 &
else
  nohup sh -c "$w" tpago-async "$j" %d </dev/null >/dev/null 2>&1 &
fi
echo "@T results_file=$j"
`, conn.Quote(jid), conn.Heredoc([]byte(script)), limit, limit)
	return b.String()
}

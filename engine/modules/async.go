package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&AsyncStatus{})
}

// AsyncStatus reports on a job started in the background (async: with
// poll: 0).
type AsyncStatus struct{}

// Spec implements module.Module.
func (*AsyncStatus) Spec() module.Spec {
	return module.Spec{
		Name:  "async_status",
		Check: module.CheckReadOnly,
		Doc: "Report on a background job (a task with async: and poll: 0): finished (true or false; Ansible's 1 or 0, " +
			"as a boolean so that until: job.finished is a condition), then rc, stdout and stderr; mode: cleanup removes the job's files",
		Args: []module.Arg{
			{Name: "jid", Type: module.String, Required: true, Doc: "the job id: the ansible_job_id the background task registered"},
			{Name: "mode", Type: module.String, Default: "status", Choices: []string{"status", "cleanup"}, Doc: "status reports, cleanup removes the job's files"},
		},
	}
}

var jidRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Run implements module.Module. The job folder is where the executor
// started it: ~/.ansible_async/JID, or /tmp/.tpago_async-UID/JID.
func (*AsyncStatus) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	jid := args.String("jid")
	if jid == "" && rt.Check {
		// The background task ran in the foreground in check mode.
		return &module.Result{Skipped: true, Msg: "no job: the task ran in check mode",
			Data: map[string]any{"ansible_job_id": jid, "started": false, "finished": true}}, nil
	}
	if !jidRE.MatchString(jid) || jid == "." || jid == ".." {
		return nil, fmt.Errorf("jid: %q is not a job id (the ansible_job_id of a task with poll: 0)", jid)
	}
	s := newScript(rt).set("jid", jid).setb("CLEANUP", args.String("mode") == "cleanup")
	s.line(`j=
for d in "${HOME:-/nonexistent}/.ansible_async" "/tmp/.tpago_async-$(id -u)"; do
  if [ -d "$d/$jid" ]; then j=$d/$jid; break; fi
done
[ -n "$j" ] || die "could not find job $jid (started by another user, or cleaned up?)"
say results_file "$j"
if [ "$CLEANUP" = 1 ]; then rm -rf "$j"; say erased "$j"; exit 0; fi
if [ -f "$j/rc" ]; then
  say finished 1
  say rc "$(cat "$j/rc")"
  [ -f "$j/timedout" ] && say timedout 1
  say64 stdout "$j/stdout"
  say64 stderr "$j/stderr"
fi
true`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"ansible_job_id": jid, "results_file": r.get("results_file"), "started": true, "finished": false}
	if r.has("erased") {
		data["erased"] = r.get("erased")
		return &module.Result{Data: data}, nil
	}
	if !r.flag("finished") {
		return &module.Result{Data: data}, nil
	}
	data["finished"] = true
	stdout, err := r.bytes("stdout")
	if err != nil {
		return nil, fmt.Errorf("stdout: %v", err)
	}
	stderr, err := r.bytes("stderr")
	if err != nil {
		return nil, fmt.Errorf("stderr: %v", err)
	}
	res := &module.Result{Changed: true, HasRC: true, RC: r.int("rc"), Stdout: stripNL(string(stdout)), Stderr: stripNL(string(stderr)), Data: data}
	if first, rest, ok := strings.Cut(res.Stdout, "\n"); ok && strings.HasPrefix(first, notRunPrefix) {
		// command's creates:/removes: said not to run it.
		res.Changed, res.Msg, res.Stdout = false, stripNL(rest), ""
	}
	switch {
	case r.flag("timedout"):
		res.Failed = true
		res.Msg = "Job reached its maximum time limit (async: seconds) and was killed"
	case res.RC != 0:
		res.Failed = true
		res.Msg = "non-zero return code"
	}
	return res, nil
}

var _ module.Module = (*AsyncStatus)(nil)

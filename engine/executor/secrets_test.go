package executor_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/output"
	"github.com/tpago/tpago/engine/playbook"
)

// b64Run finds text that may be base64 (scripts carry file content and
// stdin that way, wrapped at 76 columns).
var b64Run = regexp.MustCompile(`[A-Za-z0-9+/=\n]{8,}`)

// revealed reports where secret shows in out: as it is, or inside any
// base64 text of out, whatever its alignment.
func revealed(out, secret string) string {
	if i := strings.Index(out, secret); i >= 0 {
		return "in plain text: …" + out[max(0, i-80):min(len(out), i+len(secret)+20)]
	}
	for _, run := range b64Run.FindAllString(out, -1) {
		run = strings.ReplaceAll(run, "\n", "")
		for off := 0; off < 4 && off < len(run); off++ {
			s := run[off:]
			s = s[:len(s)/4*4]
			if b, err := base64.StdEncoding.DecodeString(strings.TrimRight(s, "=") + strings.Repeat("=", (4-len(strings.TrimRight(s, "="))%4)%4)); err == nil && bytes.Contains(b, []byte(secret)) {
				return "in base64: " + run[:min(len(run), 60)] + "…"
			}
		}
	}
	return ""
}

// recorder is a callback of one's own (as tpago status has): it sees the
// events as the writers do.
type recorder struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (r *recorder) add(a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range a {
		b, _ := jsonish(x)
		r.buf.WriteString(b + "\n")
	}
}

func jsonish(x any) (string, error) {
	switch v := x.(type) {
	case *executor.TaskResult:
		var b strings.Builder
		b.WriteString(v.Msg + " " + v.Label + " ")
		for k, e := range v.Result {
			b.WriteString(k + "=" + strings.TrimSpace(fmtAny(e)) + " ")
		}
		for _, d := range v.Diffs {
			b.WriteString(d.Before + d.After)
		}
		for _, it := range v.Items {
			s, _ := jsonish(it)
			b.WriteString(s)
		}
		return b.String(), nil
	}
	return fmtAny(x), nil
}

func fmtAny(x any) string {
	if s, ok := x.(string); ok {
		return s
	}
	b, _ := json.Marshal(x)
	return string(b)
}

func (r *recorder) PlayStart(p *playbook.Play, name string, hosts []string) { r.add(name) }
func (r *recorder) TaskStart(t *playbook.Task, name string, handler bool)   { r.add(name) }
func (r *recorder) HostResult(tr *executor.TaskResult)                      { r.add(tr) }
func (r *recorder) Retry(host string, t *playbook.Task, attempt, n int)     {}
func (r *recorder) Warn(msg string)                                         { r.add(msg) }
func (r *recorder) Recap(stats []*executor.Stats)                           {}
func (r *recorder) Trace(host, cmd, script string)                          { r.add(cmd, script) }

// A no_log task shows nothing of its script, stdin, environment or result
// at any verbosity, to the writers and to callbacks of one's own; and what
// it printed is masked when a later task shows it.
func TestNoLogShowsNothingAtAnyVerbosity(t *testing.T) {
	const pw = "Pw-7f3a9c1e-no-log-secret"
	const envPw = "Env-55aa0b1c-no-log-secret"
	const stdinPw = "Stdin-0c0ffee1-no-log-secret"
	dir := t.TempDir()
	pb := writeFile(t, dir, "site.yml", `- hosts: h1
  gather_facts: false
  tasks:
    - name: write a password file
      copy:
        content: "{{ pw }}"
        dest: "{{ out }}/pw"
        mode: "0600"
      no_log: true
    - name: use the password in the environment and on stdin
      shell: test "$PGPASSWORD" = {{ env_pw | quote }} && cat >/dev/null && echo {{ pw | quote }}
      args:
        stdin: "{{ stdin_pw }}"
      environment:
        PGPASSWORD: "{{ env_pw }}"
      no_log: true
    - name: read it back
      command: cat {{ out }}/pw
      register: read
      no_log: true
      check_mode: false
    - name: a task that is not no_log shows what a no_log task read
      debug:
        msg: "the password is {{ read.stdout }}"
    - name: a loop under no_log
      command: echo {{ item }}
      loop: ["{{ pw }}"]
      no_log: true
    - name: a failure under no_log
      shell: echo {{ pw | quote }} >&2; exit 3
      no_log: true
      ignore_errors: true
`)
	inv := loadInventory(t, "testdata/basic/inventory.yml")
	vars := map[string]any{"out": dir, "pw": pw, "env_pw": envPw, "stdin_pw": stdinPw}
	for _, verbosity := range []int{0, 1, 3, 4} {
		for _, check := range []bool{false, true} {
			ld := &playbook.Loader{}
			p, err := ld.LoadPlaybook(pb)
			require.NoError(t, err)
			var text, js bytes.Buffer
			rec := &recorder{}
			cbs := multi{&output.Writer{W: &text, Verbosity: verbosity, Diff: true, Check: check}, &output.JSON{W: &js}, rec}
			res, err := executor.New(executor.Options{Inventory: inv, Loader: ld, Verbosity: verbosity, Check: check, Diff: true,
				ExtraVars: vars, Output: cbs}).Run(context.Background(), p)
			require.NoError(t, err)
			require.Zero(t, res.Failed, text.String())
			for name, out := range map[string]string{"text": text.String(), "json": js.String(), "callback": rec.buf.String()} {
				for _, s := range []string{pw, envPw, stdinPw} {
					assert.Empty(t, revealed(out, s), "-v=%d check=%v: %s output shows %s", verbosity, check, name, s)
				}
			}
			if verbosity >= 3 {
				assert.Contains(t, text.String(), "EXEC", "the trace is on")
				assert.Contains(t, text.String(), "script hidden: no_log task")
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "pw"))
	require.NoError(t, err)
	assert.Equal(t, pw, string(b), "the tasks did run")
}

// multi sends events to several callbacks.
type multi []executor.Callback

func (m multi) PlayStart(p *playbook.Play, name string, hosts []string) {
	for _, c := range m {
		c.PlayStart(p, name, hosts)
	}
}
func (m multi) TaskStart(t *playbook.Task, name string, handler bool) {
	for _, c := range m {
		c.TaskStart(t, name, handler)
	}
}
func (m multi) HostResult(r *executor.TaskResult) {
	for _, c := range m {
		c.HostResult(r)
	}
}
func (m multi) Retry(host string, t *playbook.Task, attempt, n int) {
	for _, c := range m {
		c.Retry(host, t, attempt, n)
	}
}
func (m multi) Warn(msg string) {
	for _, c := range m {
		c.Warn(msg)
	}
}
func (m multi) Recap(stats []*executor.Stats) {
	for _, c := range m {
		c.Recap(stats)
	}
}
func (m multi) Trace(host, cmd, script string) {
	for _, c := range m {
		c.Trace(host, cmd, script)
	}
}

// touchModule changes the host and says nothing about check mode: the
// executor must not run it in check mode.
type touchModule struct{}

func (touchModule) Spec() module.Spec {
	return module.Spec{Name: "test_touch_no_check", Doc: "touch a file (test)",
		Args: []module.Arg{{Name: "path", Type: module.String, Required: true, Doc: "file"}}}
}

func (touchModule) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	out, err := rt.Remote.Run(ctx, "touch "+args.String("path"))
	if err != nil || out.RC != 0 {
		return &module.Result{Failed: true, Msg: string(out.Stderr)}, err
	}
	return &module.Result{Changed: true}, nil
}

func init() { module.Register(touchModule{}) }

// A module that does not declare check support is skipped in check mode,
// with Ansible's message, and runs as usual otherwise.
func TestCheckModeSkipsModulesWithoutCheckSupport(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "touched")
	pb := writeFile(t, dir, "site.yml", "- hosts: h1\n  gather_facts: false\n  tasks:\n    - test_touch_no_check: {path: "+f+"}\n      register: r\n    - debug: var=r\n")
	inv := loadInventory(t, "testdata/basic/inventory.yml")
	r := runPlaybook(t, inv, pb, executor.Options{Check: true, Verbosity: 1})
	assert.NoFileExists(t, f)
	assert.Contains(t, r.out, "skipping: [h1]")
	assert.Contains(t, r.out, "remote module (test_touch_no_check) does not support check mode")
	assert.Equal(t, 1, stat(r, "h1").Skipped, r.out)
	r = runPlaybook(t, inv, pb, executor.Options{})
	assert.FileExists(t, f)
	assert.Equal(t, 1, stat(r, "h1").Changed, r.out)
}

// What a no_log task printed is a secret when it looks like one; words,
// numbers and addresses stay readable.
func TestNoLogOutputMaskedOnlyWhenItLooksSecret(t *testing.T) {
	dir := t.TempDir()
	pb := writeFile(t, dir, "site.yml", `- hosts: h1
  gather_facts: false
  tasks:
    - command: printf '10.33.0.12\nactive\n1234567890123\nc2VjcmV0LXRva2VuLTk4NzY=\n'
      register: r
      no_log: true
    - debug:
        msg: "{{ r.stdout_lines | join(' ') }}"
`)
	r := runPlaybook(t, loadInventory(t, "testdata/basic/inventory.yml"), pb, executor.Options{})
	assert.Contains(t, r.out, `"msg": "10.33.0.12 active 1234567890123 ********"`)
}

package conn

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPersistentRunsScriptsInTurn(t *testing.T) {
	p := NewPersistent(Local{})
	defer p.Close()
	sh := &Shell{Conn: p}
	ctx := context.Background()
	tests := []struct {
		name, script, stdout, stderr string
		rc                           int
	}{
		{"output with a newline", "echo hello", "hello\n", "", 0},
		{"output without one", "printf abc", "abc", "", 0},
		{"stderr and status", "echo oops >&2; exit 3", "", "oops\n", 3},
		{"empty lines kept", "printf '\\n\\n'", "\n\n", "", 0},
		{"stdin is empty", "cat; echo done", "done\n", "", 0},
		{"a failing command", "false", "", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sh.Run(ctx, tt.script)
			require.NoError(t, err)
			assert.Equal(t, tt.stdout, string(out.Stdout))
			assert.Equal(t, tt.stderr, string(out.Stderr))
			assert.Equal(t, tt.rc, out.RC)
		})
	}
	// Nothing one script does reaches the next.
	_, err := sh.Run(ctx, "export LEAK=1; cd /tmp")
	require.NoError(t, err)
	out, err := sh.Run(ctx, `echo "${LEAK:-none} $(pwd)"`)
	require.NoError(t, err)
	assert.NotEqual(t, "1 /tmp\n", string(out.Stdout))
	assert.True(t, strings.HasPrefix(string(out.Stdout), "none "))
}

func TestPersistentLargeAndParallel(t *testing.T) {
	p := NewPersistent(Local{})
	defer p.Close()
	sh := &Shell{Conn: p}
	big := strings.Repeat("x", 1<<20)
	out, err := sh.Run(context.Background(), "{ "+Heredoc([]byte(big))+"\n} | wc -c")
	if err != nil {
		t.Fatalf("%.200v", err)
	}
	if len(out.Stderr) > 0 {
		t.Fatalf("stderr: %.300s", out.Stderr)
	}
	assert.Equal(t, "1048576", strings.TrimSpace(string(out.Stdout)))

	var wg sync.WaitGroup
	errs := make([]error, 20)
	outs := make([]string, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := sh.Run(context.Background(), "sleep 0.05; echo "+strings.Repeat("y", i))
			errs[i], outs[i] = err, string(o.Stdout)
		}()
	}
	wg.Wait()
	for i := range errs {
		require.NoError(t, errs[i])
		assert.Equal(t, strings.Repeat("y", i)+"\n", outs[i])
	}
}

func TestPersistentCancel(t *testing.T) {
	// Other tests (and other test binaries) run sleeps of their own at the
	// same time: this one is told apart by a duration no one else uses.
	decoy := exec.Command("sleep", "30")
	require.NoError(t, decoy.Start())
	defer func() { _ = decoy.Process.Kill(); _ = decoy.Wait() }()
	sleep := fmt.Sprintf("sleep 30.%09d", time.Now().UnixNano()%1e9)

	p := NewPersistent(Local{})
	defer p.Close()
	sh := &Shell{Conn: p}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	mark := fmt.Sprintf("/tmp/tpago-cancel-%d", time.Now().UnixNano())
	_, err := sh.Run(ctx, "touch "+mark+"; "+sleep+"; rm "+mark)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	// The script and its children are gone from the host: no sleep of
	// this script is left, and it never reached its end.
	ps, err := exec.Command("sh", "-c", "ps -eo args | grep -c -x '"+sleep+"' || true").Output()
	require.NoError(t, err)
	assert.Equal(t, "0", strings.TrimSpace(string(ps)), "the cancelled script still runs")
	assert.FileExists(t, mark)
	os.Remove(mark)
	// The pool goes on with a fresh shell.
	out, err := sh.Run(context.Background(), "echo again")
	require.NoError(t, err)
	assert.Equal(t, "again\n", string(out.Stdout))
}

func TestFrameReader(t *testing.T) {
	f := newFrameReader(strings.NewReader("one\n\nM 0\ntwo\nM 7\n"), "M")
	var b bytes.Buffer
	tr, err := f.next(&b)
	require.NoError(t, err)
	assert.Equal(t, "one\n", b.String())
	assert.Equal(t, " 0", tr)
	b.Reset()
	tr, err = f.next(&b)
	require.NoError(t, err)
	assert.Equal(t, "two", b.String())
	assert.Equal(t, " 7", tr)
}

func TestPersistentShellThatCannotStart(t *testing.T) {
	p := NewPersistent(Local{})
	defer p.Close()
	// A prefix whose command fails at once, as sudo to a missing user does.
	var out, errOut bytes.Buffer
	rc, err := p.RunScript(context.Background(), "echo 'sudo: unknown user nobody2' >&2; exit 1; ", []byte("echo hi"), &out, &errOut)
	require.NoError(t, err)
	assert.Equal(t, 1, rc)
	assert.Contains(t, errOut.String(), "unknown user")
}

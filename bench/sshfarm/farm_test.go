package sshfarm

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/engine/conn"
)

// farm starts a farm of n hosts and returns it with a client key file and
// a known_hosts file.
func farm(t *testing.T, n int) (*Farm, string, string) {
	t.Helper()
	k, err := NewKeys()
	require.NoError(t, err)
	dir := t.TempDir()
	f, err := Start(Options{Hosts: n, Dir: filepath.Join(dir, "hosts"), HostKey: k.Host, ClientKey: k.Client})
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	key := filepath.Join(dir, "id")
	require.NoError(t, os.WriteFile(key, k.ClientPEM, 0o600))
	kh := filepath.Join(dir, "known_hosts")
	require.NoError(t, os.WriteFile(kh, f.KnownHosts(k.HostPublic), 0o600))
	return f, key, kh
}

func dial(t *testing.T, h Host, key, kh string) *conn.SSH {
	t.Helper()
	c, err := conn.DialSSH(context.Background(), conn.SSHConfig{Host: "127.0.0.1", Port: h.Port, User: "bench",
		KeyFiles: []string{key}, KnownHostsFile: kh, ConnectTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestExec: commands run with sh -c in the host's home, with stdin, both
// outputs and the exit status as OpenSSH gives them.
func TestExec(t *testing.T) {
	f, key, kh := farm(t, 2)
	for i, h := range f.Hosts {
		c := dial(t, h, key, kh)
		tests := []struct {
			cmd, stdin, stdout, stderr string
			rc                         int
		}{
			{cmd: "pwd; echo $HOME", stdout: h.Home + "\n" + h.Home + "\n"},
			{cmd: "exit 3", rc: 3},
			{cmd: "echo oops >&2; false", stderr: "oops\n", rc: 1},
			{cmd: "tr a-z A-Z", stdin: "abc\n", stdout: "ABC\n"},
			{cmd: "kill -TERM $$", rc: 143},
		}
		for _, tt := range tests {
			var in *strings.Reader
			if tt.stdin != "" {
				in = strings.NewReader(tt.stdin)
			}
			var out, errb bytes.Buffer
			var rc int
			var err error
			if in != nil {
				rc, err = c.Exec(context.Background(), tt.cmd, in, &out, &errb)
			} else {
				rc, err = c.Exec(context.Background(), tt.cmd, nil, &out, &errb)
			}
			require.NoError(t, err, tt.cmd)
			assert.Equal(t, tt.rc, rc, tt.cmd)
			assert.Equal(t, tt.stdout, out.String(), tt.cmd)
			assert.Equal(t, tt.stderr, errb.String(), tt.cmd)
		}
		assert.Equal(t, int64(i+1), f.Stats().Handshakes)
	}
}

// TestCancel: a cancelled command is killed with its process group.
func TestCancel(t *testing.T) {
	f, key, kh := farm(t, 1)
	c := dial(t, f.Hosts[0], key, kh)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, "sleep 30; echo late > late", nil, nil, nil)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	rc, err := c.Exec(context.Background(), "sleep 0.2; test ! -e late", nil, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, rc)
}

// TestPersistent: tpago's long-lived shells work on the farm.
func TestPersistent(t *testing.T) {
	f, key, kh := farm(t, 1)
	p := conn.NewPersistent(dial(t, f.Hosts[0], key, kh))
	for i := 0; i < 3; i++ {
		var out bytes.Buffer
		rc, err := p.RunScript(context.Background(), "", []byte("echo hi; exit 4\n"), &out, nil)
		require.NoError(t, err)
		assert.Equal(t, 4, rc)
		assert.Equal(t, "hi\n", out.String())
	}
}

// TestSFTP: the sftp subsystem works relative to the host's home.
func TestSFTP(t *testing.T) {
	f, key, kh := farm(t, 1)
	c := dial(t, f.Hosts[0], key, kh)
	sc, err := sftp.NewClient(c.Client().Client)
	require.NoError(t, err)
	defer sc.Close()
	w, err := sc.Create("x.txt")
	require.NoError(t, err)
	_, err = w.Write([]byte("content"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	b, err := os.ReadFile(filepath.Join(f.Hosts[0].Home, "x.txt"))
	require.NoError(t, err)
	assert.Equal(t, "content", string(b))
}

// TestClose: closing the farm kills what runs and cuts connections.
func TestClose(t *testing.T) {
	f, key, kh := farm(t, 1)
	c := dial(t, f.Hosts[0], key, kh)
	done := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), "sleep 30", nil, nil, nil)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	f.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a command outlived the farm")
	}
}

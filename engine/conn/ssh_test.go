package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/internal/testenv/need"
	"golang.org/x/crypto/ssh"
)

// sshd is an OpenSSH server run by the test on a loopback port.
type sshd struct {
	port    int
	hostKey ssh.PublicKey
	userKey string // private key file accepted by the server
	user    string
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func keygen(t testing.TB, file string) ssh.PublicKey {
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", file).CombinedOutput()
	require.NoError(t, err, "ssh-keygen: %s (install openssh-client: sh scripts/setup.sh)", out)
	pub, err := os.ReadFile(file + ".pub")
	require.NoError(t, err)
	k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	require.NoError(t, err)
	return k
}

// startSSHD runs /usr/sbin/sshd -D on 127.0.0.1 with a fresh host key and
// stops it when the test ends.
func startSSHD(t testing.TB, extraConfig string) *sshd {
	t.Helper()
	need.Require(t, need.Root|need.SSHD)
	const bin = need.SSHDPath
	require.NoError(t, os.MkdirAll("/run/sshd", 0o755))
	dir := t.TempDir()
	s := &sshd{user: "root"}
	s.hostKey = keygen(t, filepath.Join(dir, "host_key"))
	s.userKey = filepath.Join(dir, "id_user")
	keygen(t, s.userKey)
	pub, err := os.ReadFile(s.userKey + ".pub")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600))
	s.port = freePort(t)
	conf := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
AuthorizedKeysFile %s
PidFile none
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel ERROR
%s
`, s.port, filepath.Join(dir, "host_key"), filepath.Join(dir, "authorized_keys"), extraConfig)
	cf := filepath.Join(dir, "sshd_config")
	require.NoError(t, os.WriteFile(cf, []byte(conf), 0o600))
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-D", "-e", "-f", cf)
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on %d: %s", s.port, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// knownHosts writes a known_hosts file that records the server's key.
func (s *sshd) knownHosts(t testing.TB) string {
	f := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, AppendKnownHost(f, KnownHostsName("127.0.0.1", s.port), s.hostKey))
	return f
}

func (s *sshd) config(kh string) SSHConfig {
	return SSHConfig{Host: "127.0.0.1", Port: s.port, User: s.user, KeyFiles: []string{s.userKey},
		KnownHostsFile: kh, ConnectTimeout: 5 * time.Second}
}

func TestSSHExec(t *testing.T) {
	s := startSSHD(t, "")
	c, err := DialSSH(context.Background(), s.config(s.knownHosts(t)))
	require.NoError(t, err)
	defer c.Close()

	tests := []struct {
		name, cmd, stdin, stdout, stderr string
		rc                               int
	}{
		{name: "ok", cmd: "echo hello", stdout: "hello\n"},
		{name: "exit code", cmd: "exit 3", rc: 3},
		{name: "stderr", cmd: "echo oops >&2; false", stderr: "oops\n", rc: 1},
		{name: "stdin", cmd: "tr a-z A-Z", stdin: "abc\n", stdout: "ABC\n"},
		{name: "shell script on stdin", cmd: `/bin/sh -c 'eval "$(cat)"'`, stdin: "x=4\necho $((x*2))\n", stdout: "8\n"},
		{name: "killed by signal", cmd: "kill -TERM $$", rc: 143},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in *strings.Reader
			if tt.stdin != "" {
				in = strings.NewReader(tt.stdin)
			}
			var out, errb bytes.Buffer
			var rc int
			if in != nil {
				rc, err = c.Exec(context.Background(), tt.cmd, in, &out, &errb)
			} else {
				rc, err = c.Exec(context.Background(), tt.cmd, nil, &out, &errb)
			}
			require.NoError(t, err)
			assert.Equal(t, tt.rc, rc)
			assert.Equal(t, tt.stdout, out.String())
			assert.Equal(t, tt.stderr, errb.String())
		})
	}

	t.Run("runner", func(t *testing.T) {
		sh := &Shell{Conn: c, LoginUser: "root", Env: map[string]string{"A": "it's"}}
		out, err := sh.Run(context.Background(), "echo \"$A\"; exit 5")
		require.NoError(t, err)
		assert.Equal(t, "it's\n", string(out.Stdout))
		assert.Equal(t, 5, out.RC)
	})
}

func TestSSHConcurrent(t *testing.T) {
	s := startSSHD(t, "")
	c, err := DialSSH(context.Background(), s.config(s.knownHosts(t)))
	require.NoError(t, err)
	defer c.Close()
	var wg sync.WaitGroup
	errs := make([]error, 50)
	outs := make([]string, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			rc, err := c.Exec(context.Background(), fmt.Sprintf("sleep 0.1; echo %d", i), nil, &out, nil)
			if err == nil && rc != 0 {
				err = fmt.Errorf("rc %d", rc)
			}
			errs[i], outs[i] = err, out.String()
		}()
	}
	wg.Wait()
	for i := range 50 {
		require.NoError(t, errs[i], "exec %d", i)
		assert.Equal(t, fmt.Sprintf("%d\n", i), outs[i])
	}
}

// Without the client's own limit, sshd's MaxSessions refuses sessions: the
// connection waits and retries instead of failing.
func TestSSHSessionRefusedRetries(t *testing.T) {
	s := startSSHD(t, "MaxSessions 2")
	cfg := s.config(s.knownHosts(t))
	cfg.MaxSessions = 20
	c, err := DialSSH(context.Background(), cfg)
	require.NoError(t, err)
	defer c.Close()
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc, err := c.Exec(context.Background(), "sleep 0.1", nil, nil, nil)
			if err == nil && rc != 0 {
				err = fmt.Errorf("rc %d", rc)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "exec %d", i)
	}
}

// A command that exits without reading its stdin returns even when stdin
// never ends.
func TestSSHUnreadStdin(t *testing.T) {
	s := startSSHD(t, "")
	c, err := DialSSH(context.Background(), s.config(s.knownHosts(t)))
	require.NoError(t, err)
	defer c.Close()
	r, w := io.Pipe()
	defer w.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		rc, err := c.Exec(context.Background(), "exit 7", r, nil, nil)
		assert.NoError(t, err)
		assert.Equal(t, 7, rc)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Exec waits for stdin after the command ended")
	}
}

func TestSSHCancel(t *testing.T) {
	s := startSSHD(t, "")
	c, err := DialSSH(context.Background(), s.config(s.knownHosts(t)))
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Exec(ctx, "sleep 30", nil, nil, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second)
	// The connection still works.
	rc, err := c.Exec(context.Background(), "true", nil, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, rc)
}

func TestSSHHostKeys(t *testing.T) {
	s := startSSHD(t, "")
	name := KnownHostsName("127.0.0.1", s.port)

	t.Run("unknown host refused", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		_, err := DialSSH(context.Background(), s.config(kh))
		require.ErrorIs(t, err, ErrHostKeyUnknown)
		assert.Contains(t, err.Error(), name)
		_, statErr := os.Stat(kh)
		assert.True(t, errors.Is(statErr, os.ErrNotExist), "nothing recorded")
	})

	t.Run("accept-new records, concurrently, once", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "sub", "known_hosts")
		cfg := s.config(kh)
		cfg.AcceptNew = true
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := DialSSH(context.Background(), cfg)
				if err == nil {
					c.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		data, err := os.ReadFile(kh)
		require.NoError(t, err)
		assert.Equal(t, 1, strings.Count(string(data), "\n"), "one line: %s", data)
		assert.Contains(t, string(data), name+" ssh-ed25519 ")
		// Now it is known without accept-new.
		cfg.AcceptNew = false
		c, err := DialSSH(context.Background(), cfg)
		require.NoError(t, err)
		c.Close()
	})

	t.Run("changed key refused even with accept-new", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		other := keygen(t, filepath.Join(t.TempDir(), "other"))
		require.NoError(t, AppendKnownHost(kh, name, other))
		before, _ := os.ReadFile(kh)
		cfg := s.config(kh)
		cfg.AcceptNew = true
		_, err := DialSSH(context.Background(), cfg)
		require.ErrorIs(t, err, ErrHostKeyMismatch)
		assert.Contains(t, err.Error(), name)
		after, _ := os.ReadFile(kh)
		assert.Equal(t, before, after, "known_hosts untouched")
	})

	t.Run("alias", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		require.NoError(t, AppendKnownHost(kh, "node1", s.hostKey))
		cfg := s.config(kh)
		cfg.HostKeyAlias = "node1"
		c, err := DialSSH(context.Background(), cfg)
		require.NoError(t, err)
		c.Close()
	})

	t.Run("RecordKnownHosts replaces", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		other := keygen(t, filepath.Join(t.TempDir(), "other"))
		require.NoError(t, AppendKnownHost(kh, name, other))
		require.NoError(t, AppendKnownHost(kh, "unrelated", other))
		changed, err := RecordKnownHosts(kh, map[string][]ssh.PublicKey{name: {s.hostKey}})
		require.NoError(t, err)
		assert.True(t, changed)
		changed, err = RecordKnownHosts(kh, map[string][]ssh.PublicKey{name: {s.hostKey}})
		require.NoError(t, err)
		assert.False(t, changed, "second time: nothing to change")
		c, err := DialSSH(context.Background(), s.config(kh))
		require.NoError(t, err)
		c.Close()
		data, _ := os.ReadFile(kh)
		assert.Contains(t, string(data), "unrelated ssh-ed25519")
		assert.Equal(t, 2, strings.Count(string(data), "\n"))
	})
}

func TestSSHUnreachable(t *testing.T) {
	s := startSSHD(t, "")
	tests := []struct {
		name string
		cfg  func() SSHConfig
	}{
		{"closed port", func() SSHConfig {
			c := s.config(s.knownHosts(t))
			c.Port = freePort(t)
			return c
		}},
		{"wrong key", func() SSHConfig {
			c := s.config(s.knownHosts(t))
			f := filepath.Join(t.TempDir(), "k")
			keygen(t, f)
			c.KeyFiles = []string{f}
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := DialSSH(context.Background(), tt.cfg())
			require.ErrorIs(t, err, ErrUnreachable)
			assert.Contains(t, err.Error(), "127.0.0.1")
			assert.Less(t, time.Since(start), 2*time.Second)
		})
	}
}

func TestSSHSequentialTiming(t *testing.T) {
	s := startSSHD(t, "")
	c, err := DialSSH(context.Background(), s.config(s.knownHosts(t)))
	require.NoError(t, err)
	defer c.Close()
	start := time.Now()
	for i := range 60 {
		rc, err := c.Exec(context.Background(), "test -d /tmp", nil, nil, nil)
		require.NoError(t, err, "command %d", i)
		require.Equal(t, 0, rc)
	}
	t.Logf("60 sequential commands over one connection: %v", time.Since(start).Round(time.Millisecond))
}

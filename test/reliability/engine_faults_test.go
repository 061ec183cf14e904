package reliability

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// faultHosts writes a client key, a known_hosts file and an inventory with
// one good host (a local connection) and the given SSH hosts on loopback.
func faultHosts(t *testing.T, hostKey ssh.PublicKey, ports map[string]int) (dir string) {
	t.Helper()
	dir = t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	key := filepath.Join(dir, "id")
	require.NoError(t, os.WriteFile(key, pem.EncodeToMemory(block), 0o600))
	var kh, inv strings.Builder
	inv.WriteString("all:\n  hosts:\n    good:\n      ansible_connection: local\n")
	for name, port := range ports {
		if hostKey != nil {
			fmt.Fprintf(&kh, "[127.0.0.1]:%d %s", port, ssh.MarshalAuthorizedKey(hostKey))
		}
		fmt.Fprintf(&inv, "    %s:\n      ansible_host: 127.0.0.1\n      ansible_port: %d\n      ansible_user: root\n"+
			"      ansible_ssh_private_key_file: %s\n      ansible_ssh_known_hosts_file: %s\n",
			name, port, key, filepath.Join(dir, "known_hosts"))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(kh.String()), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "inventory.yml"), []byte(inv.String()), 0o644))
	return dir
}

func writePlay(t *testing.T, dir, task string) string {
	t.Helper()
	pb := filepath.Join(dir, "play.yml")
	require.NoError(t, os.WriteFile(pb, []byte("- hosts: all\n  gather_facts: false\n  tasks:\n"+task), 0o644))
	return pb
}

// listen starts a loopback listener whose connections are handled by h.
func listen(t *testing.T, h func(net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go h(c)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// A host that accepts TCP but never says a word is reported unreachable
// within the connect timeout; the other host completes.
func TestEngineSilentHost(t *testing.T) {
	requireSuite(t)
	port := listen(t, func(c net.Conn) {
		time.Sleep(time.Minute) // accept and stay silent
		c.Close()
	})
	dir := faultHosts(t, nil, map[string]int{"silent": port})
	pb := writePlay(t, dir, "    - command: echo hello\n")
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	start := time.Now()
	out, err := tpago(ctx, "play", pb, "-i", filepath.Join(dir, "inventory.yml"), "-T", "3s")
	took := time.Since(start)
	t.Logf("FIGURES engine: silent SSH host reported after %.1fs (connect timeout 3s)\n%s", took.Seconds(), tail(out, 8))
	assert.Equal(t, 4, exitCode(err), "exit 4: a host unreachable")
	assert.Less(t, took, 20*time.Second, "bounded by the connect timeout")
	assert.Regexp(t, `silent\s*:.*unreachable=1`, out)
	assert.Regexp(t, `good\s*:.*ok=1`, out, "the other host completes")
}

// sshServer is an SSH server on loopback that accepts any key and closes
// the connection when asked to run anything.
func sshServer(t *testing.T) (ssh.PublicKey, int) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) { return nil, nil }}
	cfg.AddHostKey(signer)
	port := listen(t, func(nc net.Conn) {
		defer nc.Close()
		_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
		if err != nil {
			return
		}
		go ssh.DiscardRequests(reqs)
		for nch := range chans {
			ch, creqs, err := nch.Accept()
			if err != nil {
				return
			}
			go func() {
				for r := range creqs {
					if r.WantReply {
						r.Reply(true, nil)
					}
					if r.Type == "exec" || r.Type == "shell" {
						// The command starts, then the host goes away.
						time.Sleep(300 * time.Millisecond)
						ch.Close()
						nc.Close()
						return
					}
				}
			}()
		}
	})
	return signer.PublicKey(), port
}

// A host that drops the connection while a task runs is reported as such,
// quickly, and the other host completes.
func TestEngineDropMidTask(t *testing.T) {
	requireSuite(t)
	key, port := sshServer(t)
	dir := faultHosts(t, key, map[string]int{"dropper": port})
	pb := writePlay(t, dir, "    - command: echo hello\n    - command: echo again\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	out, err := tpago(ctx, "play", pb, "-i", filepath.Join(dir, "inventory.yml"), "-T", "3s")
	took := time.Since(start)
	t.Logf("FIGURES engine: connection dropped mid-task reported after %.1fs\n%s", took.Seconds(), tail(out, 10))
	require.NoError(t, ctx.Err(), "tpago hung on a dropped connection")
	assert.Contains(t, []int{2, 4}, exitCode(err), "exit 2 or 4: %v", err)
	assert.Regexp(t, `dropper\s*:.*(unreachable|failed)=1`, out)
	assert.Regexp(t, `good\s*:.*ok=2`, out, "the other host completes")
}

// A command that never ends: tpago accepts Ansible's timeout: keyword; the
// run is bounded by it, or at least by an interrupt, which stops it at once.
func TestEngineCommandNeverEnds(t *testing.T) {
	requireSuite(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "inventory.yml"), []byte("all:\n  hosts:\n    good:\n      ansible_connection: local\n"), 0o644))
	pb := writePlay(t, dir, "    - command: sleep 1000\n      timeout: 2\n")
	cmd := exec.Command(tpagoBin, "play", pb, "-i", filepath.Join(dir, "inventory.yml"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	start := time.Now()
	select {
	case err := <-done:
		t.Logf("FIGURES engine: a never-ending command with timeout: 2 stopped after %.1fs (exit %d)", time.Since(start).Seconds(), exitCode(err))
		assert.NotZero(t, exitCode(err), "the timed-out task fails")
		return
	case <-time.After(10 * time.Second):
	}
	t.Logf("FIGURES engine: the task keyword timeout: is accepted but not enforced (still running after 10 s); interrupting")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-done:
		t.Logf("FIGURES engine: stopped %.1fs after the interrupt (exit %d): %s", time.Since(start).Seconds()-10, exitCode(err), tail(out.String(), 3))
		assert.NotZero(t, exitCode(err))
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("tpago did not stop within 15 s of an interrupt while a command hung:\n%s", out.String())
	}
}

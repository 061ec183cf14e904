package testenv

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Server is an OpenSSH server that a test runs on a loopback address.
type Server struct {
	Addr    string
	Port    int
	HostKey ssh.PublicKey
}

// StartSSHD runs /usr/sbin/sshd -D on addr (a loopback address such as
// 127.0.0.2) and a free port, with a fresh host key, accepting root logins
// with the public keys in authorizedKeys. It stops when the test ends.
// Under -short the test is skipped.
func StartSSHD(t testing.TB, addr, authorizedKeys string) *Server {
	t.Helper()
	Require(t, Root|SSHD)
	const bin = "/usr/sbin/sshd"
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hk := filepath.Join(dir, "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hk).CombinedOutput(); err != nil {
		t.Fatalf("testenv: ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(hk + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatalf("testenv: listen on %s: %v", addr, err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := fmt.Sprintf("ListenAddress %s\nPort %d\nHostKey %s\nAuthorizedKeysFile %s\nPidFile none\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nLogLevel ERROR\n",
		addr, port, hk, authorizedKeys)
	cf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-D", "-e", "-f", cf)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: sshd did not listen on %s:%d: %s", addr, port, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &Server{Addr: addr, Port: port, HostKey: key}
}

// ReserveSubnet returns a /24 in Subnets that no Docker network uses and no
// other test binary holds, for a test that makes its own cluster. The
// reservation ends with the test.
func ReserveSubnet(t testing.TB) netip.Prefix {
	t.Helper()
	Require(t, Docker)
	s, file, err := reserveSubnet(t.Context())
	if err != nil {
		t.Fatalf("testenv: %v\nthese tests need Docker: run `sh scripts/setup.sh` (as root)", err)
	}
	t.Cleanup(func() { os.Remove(file) })
	return s
}

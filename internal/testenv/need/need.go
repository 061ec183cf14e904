// Package need says what a test needs from the machine — a Docker engine,
// root, an OpenSSH server — and decides in one place what happens when it
// is missing: under `go test -short` (the fast tier, for a bare machine)
// the test is skipped; in a full run it fails, saying how to get it. A test
// never skips silently in a full run.
//
// It imports nothing of tpago, so that any package's tests can use it
// (package testenv re-exports it for tests that make real hosts).
package need

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Need is a set of things a test needs from the machine.
type Need uint

// What a test may need.
const (
	// Docker is a reachable Docker engine (real hosts are containers).
	Docker Need = 1 << iota
	// Root is running as root (sshd, systemd, packages, /etc).
	Root
	// SSHD is OpenSSH's server binary, /usr/sbin/sshd.
	SSHD
)

// SSHDPath is where the OpenSSH server is expected.
const SSHDPath = "/usr/sbin/sshd"

func (n Need) String() string {
	var parts []string
	if n&Docker != 0 {
		parts = append(parts, "Docker")
	}
	if n&Root != 0 {
		parts = append(parts, "root")
	}
	if n&SSHD != 0 {
		parts = append(parts, "sshd")
	}
	return strings.Join(parts, ", ")
}

// Require skips t under -short when it needs anything in n; otherwise it
// fails t, saying how to get it, unless the machine has all of n.
func Require(t testing.TB, n Need) {
	t.Helper()
	if n == 0 {
		return
	}
	if testing.Short() {
		t.Skipf("needs %s: skipped under -short (run `go test ./...` as root with Docker for it; `sh scripts/setup.sh` installs what is missing)", n)
	}
	if msg := Missing(n); msg != "" {
		t.Fatal(msg)
	}
}

// Missing says what of n the machine lacks and how to get it ("" when
// nothing is missing).
func Missing(n Need) string {
	var msgs []string
	if n&Root != 0 && os.Geteuid() != 0 {
		msgs = append(msgs, "this test must run as root (it starts sshd or changes the system): run `sudo go test ./...`, or `go test -short ./...` for the unit tests alone")
	}
	if n&SSHD != 0 {
		if _, err := os.Stat(SSHDPath); err != nil {
			msgs = append(msgs, fmt.Sprintf("%s is missing: this test runs a real OpenSSH server; install it with `sh scripts/setup.sh` (or apt-get install openssh-server)", SSHDPath))
		}
	}
	if n&Docker != 0 {
		if err := dockerErr(); err != nil {
			msgs = append(msgs, fmt.Sprintf("this test runs real hosts in Docker, which is not reachable (%v): run `sh scripts/setup.sh` (as root) to install and start it", err))
		}
	}
	return strings.Join(msgs, "\n")
}

var (
	dockerOnce sync.Once
	dockerRes  error
)

// dockerErr pings the Docker engine once per test binary.
func dockerErr() error {
	dockerOnce.Do(func() { dockerRes = pingDocker() })
	return dockerRes
}

func pingDocker() error {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	u, err := url.Parse(host)
	if err != nil {
		return fmt.Errorf("DOCKER_HOST %q: %v", host, err)
	}
	tr := &http.Transport{}
	base := "http://docker"
	switch u.Scheme {
	case "unix":
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", u.Path)
		}
	case "tcp", "http":
		base = "http://" + u.Host
	default:
		return nil // https and ssh: let the Docker client itself decide
	}
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	resp, err := c.Get(base + "/_ping")
	if err != nil {
		return fmt.Errorf("%s: %v", host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: /_ping answered %s", host, resp.Status)
	}
	return nil
}

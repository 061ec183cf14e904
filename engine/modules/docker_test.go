package modules

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
)

// The real-host tier runs the system modules (apt, service, user…) in a
// Debian 12 container with systemd, started once for the package and
// removed at the end.
const (
	testImage     = "tpago-proto/debian:12"
	testNetwork   = "tpago-modtest"
	testSubnet    = "10.213.0.0/24"
	testIP        = "10.213.0.10"
	testContainer = "mod-test-1"
	testLabel     = "tpago.test=modules"
)

// dockerConn runs commands in a container with docker exec: a test-only
// conn.Conn.
type dockerConn struct{ container string }

func (d dockerConn) Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c := exec.CommandContext(ctx, "docker", "exec", "-i", d.container, "/bin/sh", "-c", cmd)
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	err := c.Run()
	if err == nil {
		return 0, nil
	}
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	return -1, err
}

func (dockerConn) Close() error { return nil }

var _ conn.Conn = dockerConn{}

var (
	hostOnce    sync.Once
	hostErr     error
	hostStarted bool
)

func TestMain(m *testing.M) {
	code := m.Run()
	if hostStarted {
		removeHost()
	}
	if hostLock != nil {
		hostLock.Close()
	}
	os.Exit(code)
}

// hostLock keeps two test processes on this machine from sharing the
// container: the second waits for the first.
var hostLock *os.File

func lockHost() error {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "tpago-modtest.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return err
	}
	hostLock = f
	return nil
}

func docker(args ...string) (string, error) {
	var out, errb bytes.Buffer
	c := exec.Command("docker", args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// removeHost removes the test container and network (only ours: matched by
// name and label).
func removeHost() {
	if out, _ := docker("ps", "-aq", "--filter", "name=^"+testContainer+"$", "--filter", "label="+testLabel); out != "" {
		_, _ = docker("rm", "-f", testContainer)
	}
	if out, _ := docker("network", "ls", "-q", "--filter", "name=^"+testNetwork+"$", "--filter", "label="+testLabel); out != "" {
		_, _ = docker("network", "rm", testNetwork)
	}
}

func startHost() error {
	if _, err := docker("info", "--format", "{{.ServerVersion}}"); err != nil {
		return fmt.Errorf("Docker is not reachable (%v): start it with `sh scripts/setup.sh`", err)
	}
	if _, err := docker("image", "inspect", testImage); err != nil {
		return fmt.Errorf("image %s is missing: build it with `sh scripts/setup.sh`", testImage)
	}
	if err := lockHost(); err != nil {
		return fmt.Errorf("locking the test host: %w", err)
	}
	removeHost()
	hostStarted = true
	if _, err := docker("network", "create", "--label", testLabel, "--subnet", testSubnet, testNetwork); err != nil {
		return err
	}
	if _, err := docker("run", "-d", "--name", testContainer, "--hostname", testContainer, "--label", testLabel,
		"--network", testNetwork, "--ip", testIP, "--tmpfs", "/run", "--tmpfs", "/run/lock",
		"-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro", testImage, "/sbin/init"); err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, _ := docker("exec", testContainer, "systemctl", "is-system-running")
		if out == "running" || out == "degraded" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("systemd in %s did not come up (state %q)", testContainer, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Use the same Debian mirror as this machine.
	var sources []byte
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		sources = append(append(sources, b...), '\n')
	}
	script, data := `base64 -d > /etc/apt/sources.list.d/host.sources && : > /etc/apt/sources.list`, sources
	if len(sources) == 0 {
		list, err := os.ReadFile("/etc/apt/sources.list")
		if err != nil {
			return fmt.Errorf("no apt sources on this machine to give the test host: %w", err)
		}
		script, data = `base64 -d > /etc/apt/sources.list`, list
	}
	c := exec.Command("docker", "exec", "-i", testContainer, "/bin/sh", "-c", script)
	c.Stdin = strings.NewReader(base64.StdEncoding.EncodeToString(data))
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("copying apt sources into %s: %v: %s", testContainer, err, out)
	}
	return nil
}

// remoteRT is a runtime on the test container (as root), started on first
// use.
func remoteRT(t *testing.T) *module.Runtime {
	t.Helper()
	hostOnce.Do(func() {
		start := time.Now()
		hostErr = startHost()
		t.Logf("test host %s ready in %v", testContainer, time.Since(start).Round(time.Millisecond))
	})
	require.NoError(t, hostErr, "the real-host module tests need Docker and the %s image", testImage)
	rt := localRT(t, t.TempDir())
	rt.Host = testContainer
	rt.Remote = &conn.Shell{Conn: dockerConn{container: testContainer}}
	return rt
}

// sh runs a shell command in the test container and returns its output.
func sh(t *testing.T, cmd string) string {
	t.Helper()
	out, err := exec.Command("docker", "exec", testContainer, "/bin/sh", "-c", cmd).CombinedOutput()
	require.NoError(t, err, "%s: %s", cmd, out)
	return strings.TrimSpace(string(out))
}

// shOK reports whether a shell command succeeds in the test container.
func shOK(cmd string) bool {
	return exec.Command("docker", "exec", testContainer, "/bin/sh", "-c", cmd).Run() == nil
}

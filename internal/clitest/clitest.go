// Package clitest runs the real tpago binary in tests: it is built once
// per test binary from this module's source, and each call runs it as a
// user would, returning what it printed and its exit status.
package clitest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	once     sync.Once
	bin      string
	buildErr error
)

// ModuleRoot returns the folder of this module's go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("clitest: no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Binary returns the path of a tpago binary built from this module.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "tpago-clitest-")
		if err != nil {
			buildErr = err
			return
		}
		bin = filepath.Join(dir, "tpago")
		c := exec.Command("go", "build", "-o", bin, "./cmd/tpago")
		c.Dir = root
		if out, err := c.CombinedOutput(); err != nil {
			buildErr = errors.New("go build ./cmd/tpago: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("clitest: %v", buildErr)
	}
	return bin
}

// Run runs `tpago args…` and returns its output (stdout and stderr
// together) and exit status.
func Run(t testing.TB, args ...string) (string, int) {
	t.Helper()
	c := exec.Command(Binary(t), args...)
	var out bytes.Buffer
	c.Stdout = &out
	c.Stderr = &out
	c.Env = append(os.Environ(), "NO_COLOR=1")
	start := time.Now()
	err := c.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("clitest: tpago %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	t.Logf("tpago %s: exit %d in %.1fs", args[0], code, time.Since(start).Seconds())
	return out.String(), code
}

// Must runs `tpago args…` and fails the test unless it exits 0.
func Must(t testing.TB, args ...string) string {
	t.Helper()
	out, code := Run(t, args...)
	if code != 0 {
		t.Fatalf("tpago %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

package conn

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
)

// Local runs commands on the control machine with /bin/sh.
type Local struct{}

var _ Conn = Local{}

// Exec runs cmd with /bin/sh -c.
func (Local) Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Stdin = stdin
	c.Stdout = stdout
	c.Stderr = stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	err := c.Run()
	if err == nil {
		return 0, nil
	}
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return -1, err
}

// Close does nothing.
func (Local) Close() error { return nil }

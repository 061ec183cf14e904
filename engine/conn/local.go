package conn

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// Local runs commands on the control machine with /bin/sh.
type Local struct{}

var _ Conn = Local{}

// Exec runs cmd with /bin/sh -c.
func (Local) Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Stdout = stdout
	c.Stderr = stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	// Once the command has exited, do not wait long for pipes that a
	// background child keeps open.
	c.WaitDelay = time.Second
	// Stdin is copied here rather than by os/exec, whose Wait would wait
	// for a stdin that has more to say even after the command has exited.
	var in io.WriteCloser
	if stdin != nil {
		var err error
		if in, err = c.StdinPipe(); err != nil {
			return -1, err
		}
	}
	if err := c.Start(); err != nil {
		return -1, err
	}
	if in != nil {
		go func() {
			_, _ = io.Copy(in, stdin)
			in.Close()
		}()
	}
	err := c.Wait()
	if err == nil || errors.Is(err, exec.ErrWaitDelay) {
		return c.ProcessState.ExitCode(), nil
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

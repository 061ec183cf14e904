// Package conn is the transport: how a command reaches a host. A connection
// does one thing, start a process with stdin, stdout and stderr; privilege
// escalation, remote files and modules are layers above it.
package conn

import (
	"context"
	"errors"
	"io"
)

// Conn runs commands on one host. Implementations are safe for concurrent
// use: several commands may run at once over one connection.
type Conn interface {
	// Exec runs cmd with the login user's shell, feeding it stdin (nil for
	// none) and copying its output to stdout and stderr. It returns the exit
	// status; err is set only when the command could not be run or was cut
	// off (the connection broke, ctx was cancelled).
	Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (exitCode int, err error)
	// Close releases the connection.
	Close() error
}

// Sentinel errors for callers to test with errors.Is.
var (
	// ErrUnreachable: the host could not be reached or authenticated to.
	ErrUnreachable = errors.New("host unreachable")
	// ErrHostKeyMismatch: the host presented a key other than the one recorded.
	ErrHostKeyMismatch = errors.New("host key mismatch")
	// ErrHostKeyUnknown: the host's key is not recorded and accept-new was not asked for.
	ErrHostKeyUnknown = errors.New("host key unknown")
)

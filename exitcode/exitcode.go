// Package exitcode says which process exit status an error calls for.
//
// tpago's exit statuses follow ansible-playbook's where they overlap:
//
//	0  success
//	1  an error, a failed check, or a bug
//	2  bad input (arguments, playbooks, config.yml) — nothing was touched;
//	   for playbook runs also "a host failed", as ansible-playbook does
//	4  a host was unreachable
//
// An error anywhere in a chain that implements Coded decides the status;
// the outermost one wins. main maps errors to statuses in one place, Of.
package exitcode

import "errors"

// The statuses tpago exits with.
const (
	OK          = 0
	Failed      = 1
	BadInput    = 2
	HostFailed  = 2
	Unreachable = 4
)

// Coded is an error that carries the exit status it calls for.
type Coded interface {
	error
	ExitCode() int
}

type coded struct {
	code int
	err  error
}

func (e *coded) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *coded) Unwrap() error { return e.err }
func (e *coded) ExitCode() int { return e.code }

// With returns err carrying the exit status code. A nil err still carries
// the status: the command exits with it and prints nothing.
func With(code int, err error) error { return &coded{code: code, err: err} }

// Bad marks err as bad input (status 2); nil stays nil.
func Bad(err error) error {
	if err == nil {
		return nil
	}
	return With(BadInput, err)
}

// Of returns the exit status err calls for: 0 for nil, the status of the
// outermost Coded error in its chain, else 1.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var c Coded
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return Failed
}

// Silent reports whether err only carries a status and has nothing to print.
func Silent(err error) bool {
	var c *coded
	return errors.As(err, &c) && c.err == nil
}

// Command tpago deploys and operates Postgres clusters of the M1
// architecture, and runs Ansible-style playbooks.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries an exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitWith returns an error that makes tpago exit with code after printing err.
// A nil err exits silently.
func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// commands are added to the root by the files of this package, each in its
// own init, so that each subcommand lives in one file.
var commands []func() *cobra.Command

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "tpago",
		Short:         "Deploy and operate Postgres clusters (M1) and run Ansible-style playbooks",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "tpago:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "tpago:", err)
	return 1
}

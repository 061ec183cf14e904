// Command tpago deploys and operates Postgres clusters of the M1
// architecture, and runs Ansible-style playbooks.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tpago/tpago/exitcode"
)

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
	// Bad usage is bad input (exit status 2) for every command: an unknown
	// flag or a bad flag value, a wrong number of arguments, an unknown
	// subcommand.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitcode.Bad(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	usageIsBadInput(root)
	return root
}

// usageIsBadInput makes argument errors of c and its subcommands exit 2,
// and a command that only groups others refuse what is not one of them.
func usageIsBadInput(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return exitcode.Bad(fmt.Errorf("%s: %w (see %s --help)", cmd.CommandPath(), err, cmd.CommandPath()))
			}
			return nil
		}
	}
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if cmd.SuggestionsMinimumDistance <= 0 {
				cmd.SuggestionsMinimumDistance = 2
			}
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return exitcode.Bad(fmt.Errorf("%s (see %s --help)", msg, cmd.CommandPath()))
		}
	}
	for _, sub := range c.Commands() {
		usageIsBadInput(sub)
	}
}

func main() {
	stop := startProfile(os.Getenv("TPAGO_CPUPROFILE"), os.Stderr)
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// startProfile writes a CPU profile of the whole run to file (for go tool
// pprof), when file is set: TPAGO_CPUPROFILE, for benchmarks. It returns
// the function that ends the profile.
func startProfile(file string, stderr io.Writer) func() {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tpago: TPAGO_CPUPROFILE: %v\n", err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// run runs tpago with args and returns its exit status: the one place
// where errors become statuses (exitcode.Of) and are printed.
func run(args []string, stdout, stderr io.Writer) int {
	err := execute(args, stdout, stderr)
	if err != nil && !exitcode.Silent(err) {
		fmt.Fprintln(stderr, "tpago:", err)
	}
	return exitcode.Of(err)
}

// execute runs the command args name. A panic in a command becomes an
// error (exit status 1) that asks to report it: it never reaches the user
// as a Go stack.
func execute(args []string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = exitcode.With(exitcode.Failed, fmt.Errorf("bug: %v, please report it at https://github.com/tpago/tpago/issues with the command you ran", r))
		}
	}()
	root := newRoot()
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)
	return root.Execute()
}

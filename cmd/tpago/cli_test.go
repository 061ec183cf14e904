package main

import (
	"bytes"
	"testing"

	"github.com/tpago/tpago/exitcode"
)

// runCLI runs `tpago args…` in-process and returns what it printed (stdout
// and stderr together), its exit status and its error.
func runCLI(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	var out bytes.Buffer
	err := execute(args, &out, &out)
	return out.String(), exitcode.Of(err), err
}

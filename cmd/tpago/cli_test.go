package main

import (
	"bytes"
	"errors"
	"testing"
)

// runCLI runs `tpago args…` in-process and returns what it printed (stdout
// and stderr together), its exit status and its error.
func runCLI(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	code := 0
	if err != nil {
		code = 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), code, err
}

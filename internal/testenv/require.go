package testenv

import (
	"testing"

	"github.com/tpago/tpago/internal/testenv/need"
)

// Need is what a test needs from the machine (package need).
type Need = need.Need

// What a test may need.
const (
	Docker = need.Docker
	Root   = need.Root
	SSHD   = need.SSHD
)

// Require skips t under `go test -short` when it needs anything in n;
// in a full run it fails t, saying how to get what is missing. Cluster,
// ReserveSubnet and StartSSHD call it themselves.
func Require(t testing.TB, n Need) {
	t.Helper()
	need.Require(t, n)
}

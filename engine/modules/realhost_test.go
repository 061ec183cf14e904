package modules

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/internal/testenv"
)

// The real-host tier runs the system modules (apt, service, user…) on a
// Debian 12 host with systemd and sshd (internal/testenv), reached over SSH
// as the executor reaches hosts. The host is made once for the package and
// removed at the end; without Docker these tests fail saying how to get it.
func TestMain(m *testing.M) { testenv.Main(m) }

// testHost runs shell commands on the current test host (see sh, shOK).
var testHost conn.Runner

// remoteRT is a runtime on the test host, as root over SSH.
func remoteRT(t *testing.T) *module.Runtime {
	t.Helper()
	start := time.Now()
	env := testenv.Cluster(t, "modules", 1)
	c := env.Dial(t, 0)
	t.Logf("test host %s (%s) ready in %v", env.Hosts[0].Name, env.Hosts[0].Addr, time.Since(start).Round(time.Millisecond))
	rt := localRT(t, t.TempDir())
	rt.Host = env.Hosts[0].Name
	rt.Remote = &conn.Shell{Conn: c, LoginUser: "root"}
	testHost = rt.Remote
	return rt
}

func shRun(cmd string) (conn.Output, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return testHost.Run(ctx, cmd)
}

// sh runs a shell command on the test host and returns its output.
func sh(t *testing.T, cmd string) string {
	t.Helper()
	out, err := shRun(cmd)
	require.NoError(t, err, cmd)
	require.Equal(t, 0, out.RC, "%s: %s%s", cmd, out.Stdout, out.Stderr)
	return strings.TrimSpace(string(out.Stdout))
}

// shOK reports whether a shell command succeeds on the test host.
func shOK(cmd string) bool {
	out, err := shRun(cmd)
	return err == nil && out.RC == 0
}

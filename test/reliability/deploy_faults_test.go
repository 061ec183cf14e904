package reliability

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deployFaults re-deploys a deployed cluster while sshd is killed on the
// replica and the Barman host cannot install a package: those two hosts are
// reported, the primary completes; once the faults are gone a deploy
// completes the cluster and tpago test passes.
func deployFaults(t *testing.T, c *cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	replica := c.byRole("replica")[0]
	barman := c.byRole("barman")[0]
	// A package deploy installs goes missing, and apt is broken.
	_, err := c.sh(ctx, barman, "DEBIAN_FRONTEND=noninteractive apt-get -q -y remove less >/dev/null && echo 'deb broken' > /etc/apt/sources.list.d/reliability-broken.list")
	require.NoError(t, err)

	cmd := exec.CommandContext(ctx, tpagoBin, "deploy", c.Dir)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	require.NoError(t, cmd.Start())
	var out strings.Builder
	var killedAt string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l := sc.Text()
			out.WriteString(l + "\n")
			// Mid-deploy: sshd dies on the replica.
			if killedAt == "" && strings.HasPrefix(l, "TASK [postgres") {
				killedAt = l
				if _, err := c.sh(ctx, replica, "pkill -x sshd"); err != nil {
					t.Errorf("kill sshd on %s: %v", replica.Name, err)
				}
			}
		}
	}()
	start := time.Now()
	err = cmd.Wait()
	pw.Close()
	wg.Wait()
	took := time.Since(start)
	o := out.String()
	t.Logf("FIGURES deploy faults: deploy with sshd killed on %s (at %q) and apt broken on %s ended in %.1fs, exit %d\n%s",
		replica.Name, killedAt, barman.Name, took.Seconds(), exitCode(err), tail(o, 12))
	require.NotEmpty(t, killedAt, "the deploy never reached the postgres role")
	assert.Contains(t, []int{2, 4}, exitCode(err), "a failed or unreachable host makes the run fail")
	assert.Regexp(t, replica.Name+`\s*:.*unreachable=[1-9]`, o, "the replica is reported unreachable")
	assert.Regexp(t, barman.Name+`\s*:.*failed=[1-9]`, o, "the Barman host is reported failed")
	primary := c.byRole("primary")[0]
	assert.Regexp(t, primary.Name+`\s*:.*unreachable=0\s+failed=0`, o, "the primary completes")

	// The faults go away; deploy completes the cluster.
	_, err = c.sh(ctx, replica, "systemctl start ssh")
	require.NoError(t, err)
	_, err = c.sh(ctx, barman, "rm -f /etc/apt/sources.list.d/reliability-broken.list")
	require.NoError(t, err)
	start = time.Now()
	o, err = tpago(ctx, "deploy", c.Dir)
	require.NoError(t, err, "deploy after the faults: %s", tail(o, 40))
	t.Logf("FIGURES deploy faults: the deploy after the faults completed in %.1fs", time.Since(start).Seconds())
	_, err = c.sh(ctx, barman, "command -v less")
	assert.NoError(t, err, "the missing package is installed")
	// No file is left half-written: no temporary file of an interrupted
	// write, and the cluster passes its checks.
	for _, n := range c.Nodes {
		left, err := c.sh(ctx, n, "find /etc /var/lib/postgresql /var/lib/barman -xdev -name '.tpago.*' 2>/dev/null; true")
		require.NoError(t, err)
		assert.Empty(t, strings.TrimSpace(left), "temporary files left on %s", n.Name)
	}
	// The cluster works: repmgr sees every node running, Barman's checks pass.
	show, err := c.asPostgres(ctx, primary, "repmgr -f /etc/repmgr.conf cluster show 2>&1")
	require.NoError(t, err, "repmgr cluster show after the faults: %s", show)
	check, err := c.sh(ctx, barman, "cd /tmp && runuser -u barman -- barman check "+primary.Name+" 2>&1")
	require.NoError(t, err, "barman check after the faults: %s", check)
	assert.NotContains(t, check, "FAILED")
}

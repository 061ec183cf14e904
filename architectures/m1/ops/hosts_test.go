package ops

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/internal/testenv"
	"github.com/tpago/tpago/inventory"
	"github.com/tpago/tpago/platforms"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// realHost is a provisioned one-host docker cluster and a runner over it.
func realHost(t *testing.T) (*testenv.Env, *SSHRunner) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real host in Docker (run without -short; sh scripts/setup.sh installs Docker)")
	}
	e := testenv.Cluster(t, "ops", 1)
	inv, err := inventory.Load(e.InventoryPath)
	require.NoError(t, err)
	r := NewSSHRunner(inv)
	t.Cleanup(func() { r.Close() })
	return e, r
}

// The runner runs scripts as root or, through sudo, as another user; the
// script travels on stdin and a non-zero exit is a result, not an error.
func TestSSHRunner(t *testing.T) {
	_, r := realHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name, user, script string
		want               Result
	}{
		{"as root", "", "id -un", Result{Stdout: "root\n"}},
		{"as root by name", "root", "id -un; echo oops >&2; exit 3", Result{Stdout: "root\n", Stderr: "oops\n", RC: 3}},
		{"as another user, through sudo", "nobody", "id -un", Result{Stdout: "nobody\n"}},
		{"a script that reads stdin does not eat itself", "", "cat; echo after", Result{Stdout: "after\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Run(ctx, "node1", tc.user, tc.script)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := r.Run(ctx, "nowhere", "", "true")
	assert.ErrorContains(t, err, "no host nowhere in the cluster's inventory")
}

// docker's PowerSwitch cuts a host's power and turns it on again; the
// runner reaches the host again once it is back.
func TestDockerPowerSwitch(t *testing.T) {
	e, r := realHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pc, err := platforms.LoadCluster(e.Dir)
	require.NoError(t, err)
	p, _ := platforms.Lookup("docker")
	power := p.(platforms.PowerSwitch)

	boot := func() string {
		res, err := r.Run(ctx, "node1", "", "cut -d' ' -f22 /proc/1/stat")
		require.NoError(t, err)
		return res.Stdout
	}
	before := boot()
	require.NoError(t, power.PowerOff(ctx, pc, "node1"))
	r.Forget("node1")
	qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = r.Run(qctx, "node1", "", "true")
	qcancel()
	assert.Error(t, err, "a host without power does not answer")
	require.NoError(t, power.PowerOn(ctx, pc, "node1"))
	var after string
	require.Eventually(t, func() bool {
		res, err := r.Run(ctx, "node1", "", "cut -d' ' -f22 /proc/1/stat")
		after = res.Stdout
		return err == nil && res.RC == 0
	}, 2*time.Minute, time.Second, "the host answers again after PowerOn")
	assert.NotEqual(t, before, after, "init started again (its start time)")
}

// docker's ScratchHoster makes a host like the cluster's on its network,
// copies a folder into it from a cluster host, and removes it.
func TestDockerScratchHost(t *testing.T) {
	e, r := realHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pc, err := platforms.LoadCluster(e.Dir)
	require.NoError(t, err)
	p, _ := platforms.Lookup("docker")
	sh, err := p.(platforms.ScratchHoster).NewScratchHost(ctx, pc, "node1", "scratch")
	if sh != nil {
		defer func() { assert.NoError(t, sh.Remove(context.Background())) }()
	}
	require.NoError(t, err)
	assert.Equal(t, e.Name+"-scratch", sh.Name())

	_, err = must(ctx, r, "node1", "", "make a folder", "mkdir -p /srv/copyme && echo hello > /srv/copyme/f")
	require.NoError(t, err)
	require.NoError(t, sh.CopyFrom(ctx, "node1", "/srv/copyme", "/var/tmp/in"))
	got, err := sh.Run(ctx, "cat /var/tmp/in/copyme/f; hostname")
	require.NoError(t, err)
	assert.Equal(t, "hello\nscratch\n", got)
	_, err = sh.Run(ctx, "echo bad >&2; exit 4")
	assert.ErrorContains(t, err, "exit 4: bad")
	// On the cluster's network: it reaches node1's sshd.
	_, err = sh.Run(ctx, "bash -c 'exec 3<>/dev/tcp/"+e.Hosts[0].Addr+"/22'")
	assert.NoError(t, err, "the scratch host is on the cluster's network")
}

package executor_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/internal/testenv"
	"github.com/tpago/tpago/inventory"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func runSSH(t *testing.T, inv *inventory.Inventory, file string, opts executor.Options) run {
	t.Helper()
	start := time.Now()
	r := runPlaybook(t, inv, file, opts)
	t.Logf("%s ran in %v", filepath.Base(file), time.Since(start))
	return r
}

func TestModulesOverSSH(t *testing.T) {
	env := testenv.Cluster(t, "engine", 2)
	inv, err := inventory.Load(env.InventoryPath)
	require.NoError(t, err)
	fetched := t.TempDir()
	extra := map[string]any{"fetch_dir": fetched}

	first := runSSH(t, inv, "testdata/ssh/site.yml", executor.Options{ExtraVars: extra})
	require.Equal(t, 0, first.res.ExitCode(), first.out)
	for _, h := range env.Hosts {
		s := stat(first, h.Name)
		require.NotNil(t, s, first.out)
		assert.Greater(t, s.Changed, 5, "first run changes the hosts")
		b, err := os.ReadFile(filepath.Join(fetched, h.Name, "srv/tpago-it/node.txt"))
		require.NoError(t, err, "fetch wrote the file under dest/host/path")
		assert.Equal(t, "node "+h.Name+"\n", string(b))
	}
	c := env.Dial(t, 0)
	var out, errOut bytes.Buffer
	rc, err := c.Exec(context.Background(), "cat /srv/tpago-it/handled /srv/tpago-it/serial /srv/tpago-it/settings.conf; stat -c %a /srv/tpago-it; id ituser; dpkg-query -W tree", nil, &out, &errOut)
	require.NoError(t, err)
	require.Equal(t, 0, rc, errOut.String())
	assert.Contains(t, out.String(), "handled\nserial\nport = 5432\n")
	assert.Contains(t, out.String(), "work_mem = 4MB")
	assert.Contains(t, out.String(), "750\n")
	assert.Contains(t, out.String(), "(itgroup)")
	assert.Contains(t, out.String(), "tree\t")

	second := runSSH(t, inv, "testdata/ssh/site.yml", executor.Options{ExtraVars: extra})
	require.Equal(t, 0, second.res.ExitCode(), second.out)
	for _, h := range env.Hosts {
		assert.Equal(t, 0, stat(second, h.Name).Changed, "the second run changes nothing:\n%s", second.out)
	}

	// Check mode predicts a change made behind tpago's back, and leaves it.
	_, err = c.Exec(context.Background(), "echo tampered > /srv/tpago-it/node.txt", nil, nil, nil)
	require.NoError(t, err)
	check := runSSH(t, inv, "testdata/ssh/site.yml", executor.Options{ExtraVars: extra, Check: true, Diff: true})
	assert.Equal(t, 0, check.res.ExitCode(), check.out)
	// The copy is predicted to change, and fetch brings back the changed file.
	assert.Equal(t, 2, stat(check, env.Hosts[0].Name).Changed, check.out)
	assert.Contains(t, check.out, "-tampered")
	assert.Contains(t, check.out, "+node "+env.Hosts[0].Name)
	out.Reset()
	_, err = c.Exec(context.Background(), "cat /srv/tpago-it/node.txt", nil, &out, nil)
	require.NoError(t, err)
	assert.Equal(t, "tampered\n", out.String(), "check mode changed nothing")
}

func TestUnreachableAndHostKeyMismatch(t *testing.T) {
	env := testenv.Cluster(t, "engine", 2)
	inv, err := inventory.Load(env.InventoryPath)
	require.NoError(t, err)
	dir := t.TempDir()

	// A host whose recorded key is another host's.
	kh, err := os.ReadFile(env.KnownHosts)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(kh)), "\n")
	require.GreaterOrEqual(t, len(lines), 2)
	f0 := strings.Fields(lines[0])
	f1 := strings.Fields(lines[1])
	tampered := strings.Join(append([]string{f0[0]}, f1[1:]...), " ") + "\n" + lines[1] + "\n"
	bad := filepath.Join(dir, "known_hosts")
	require.NoError(t, os.WriteFile(bad, []byte(tampered), 0o600))
	h0 := env.Hosts[0].Name
	for k, v := range map[string]any{"ansible_ssh_known_hosts_file": bad} {
		inv.Hosts[h0].Vars[k] = v
	}
	// And a host nobody listens for.
	gone := inv.AddHost("gone", "all")
	gone.Vars["ansible_host"] = "127.0.0.1"
	gone.Vars["ansible_port"] = 1
	gone.Vars["ansible_user"] = "root"
	inv.Finish()

	pbFile := filepath.Join(dir, "ping.yml")
	require.NoError(t, os.WriteFile(pbFile, []byte("- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n"), 0o644))
	r := runSSH(t, inv, pbFile, executor.Options{})
	assert.Equal(t, 4, r.res.ExitCode(), r.out)
	assert.Equal(t, 1, stat(r, h0).Unreachable, r.out)
	assert.Contains(t, r.out, "host key")
	assert.Equal(t, 1, stat(r, "gone").Unreachable)
	assert.Equal(t, 1, stat(r, env.Hosts[1].Name).OK)
}

// A task that times out over SSH is stopped on the host too, its children
// with it, with and without become; the host's next task runs at once.
func TestTimeoutStopsTheRemoteCommand(t *testing.T) {
	env := testenv.Cluster(t, "engine", 2)
	inv, err := inventory.Load(env.InventoryPath)
	require.NoError(t, err)
	pb := writeFile(t, t.TempDir(), "t.yml", `- hosts: all
  gather_facts: false
  tasks:
    - shell: "sleep 1001 & sleep 1002; touch /tmp/tpago-not-stopped"
      timeout: 1
      ignore_errors: true
    - shell: sleep 1003
      become: true
      become_user: nobody
      timeout: 1
      ignore_errors: true
    - command: "true"
`)
	start := time.Now()
	r := runSSH(t, inv, pb, executor.Options{})
	assert.Less(t, time.Since(start), 15*time.Second)
	assert.Equal(t, 2, strings.Count(r.out, "timed out after 1s")/len(env.Hosts), r.out)
	c := env.Dial(t, 0)
	var out bytes.Buffer
	var errOut bytes.Buffer
	rc, err := c.Exec(context.Background(), "ps -eo args | grep -c '^sleep 100[123]$'; ls /tmp/tpago-not-stopped 2>&1", nil, &out, &errOut)
	require.NoError(t, err)
	t.Logf("rc %d: %s %s", rc, out.String(), errOut.String())
	assert.Equal(t, "0\n", strings.SplitAfter(out.String(), "\n")[0], "a timed-out command still runs on the host:\n%s", out.String())
	assert.Contains(t, out.String(), "No such file", "the script went on after its timeout")
	for _, h := range env.Hosts {
		assert.GreaterOrEqual(t, stat(r, h.Name).OK, 1, "the last task runs: %s", r.out)
	}
}

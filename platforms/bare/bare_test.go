package bare_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/internal/testenv"
	"github.com/tpago/tpago/platforms"
	_ "github.com/tpago/tpago/platforms/bare"
)

type host struct {
	name, addr string
	port       int
}

func writeConfig(t *testing.T, dir string, hosts []host) {
	t.Helper()
	var b strings.Builder
	b.WriteString("cluster_name: tpt-bare\narchitecture: M1\ninstance_defaults:\n  platform: bare\ninstances:\n")
	for i, h := range hosts {
		fmt.Fprintf(&b, "- Name: %s\n  node: %d\n", h.name, i+1)
		if i == 0 {
			b.WriteString("  role: [primary]\n")
		}
		if h.addr != "" {
			fmt.Fprintf(&b, "  ip_address: %s\n  vars:\n    ansible_port: %d\n", h.addr, h.port)
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte(b.String()), 0o644))
}

// Hosts made by hand (sshd on loopback addresses) with the cluster's key
// installed: provision checks them, records their keys only when asked to,
// and writes the inventory.
func TestBareProvision(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id_tpt-bare")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput()
	require.NoError(t, err, string(out))
	auth := filepath.Join(t.TempDir(), "authorized_keys")
	pub, err := os.ReadFile(key + ".pub")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(auth, pub, 0o600))
	s1 := testenv.StartSSHD(t, "127.0.0.1", auth)
	s2 := testenv.StartSSHD(t, "127.0.0.2", auth)
	hosts := []host{{"one", "127.0.0.1", s1.Port}, {"two", "127.0.0.2", s2.Port}}
	writeConfig(t, dir, hosts)
	ctx := context.Background()

	// Unknown host keys are refused without --accept-new-host-keys, at once.
	start := time.Now()
	_, err = platforms.Provision(ctx, dir, platforms.Options{})
	require.ErrorIs(t, err, conn.ErrHostKeyUnknown)
	assert.Contains(t, err.Error(), "host one")
	assert.Contains(t, err.Error(), "host two")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.NoFileExists(t, filepath.Join(dir, "inventory.yml"))

	// With it, they are recorded.
	var buf bytes.Buffer
	res, err := platforms.Provision(ctx, dir, platforms.Options{Out: &buf, AcceptNewHostKeys: true})
	require.NoError(t, err, buf.String())
	assert.Len(t, res.Hosts, 2)
	kh, err := os.ReadFile(filepath.Join(dir, "known_hosts"))
	require.NoError(t, err)
	assert.Contains(t, string(kh), fmt.Sprintf("[127.0.0.1]:%d ssh-ed25519 ", s1.Port))
	assert.Contains(t, string(kh), fmt.Sprintf("[127.0.0.2]:%d ssh-ed25519 ", s2.Port))
	names, vars, err := platforms.ReadInventoryHosts(filepath.Join(dir, "inventory.yml"))
	require.NoError(t, err)
	assert.Equal(t, []string{"one", "two"}, names)
	assert.Equal(t, "127.0.0.2", vars["two"]["ansible_host"])
	assert.EqualValues(t, s2.Port, vars["two"]["ansible_port"])
	assert.Equal(t, key, vars["two"]["ansible_ssh_private_key_file"])

	// Known now: a second run without accept-new changes nothing.
	buf.Reset()
	res, err = platforms.Provision(ctx, dir, platforms.Options{Out: &buf})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Changes, buf.String())

	pr, err := platforms.Ping(ctx, dir)
	require.NoError(t, err)
	for _, r := range pr {
		assert.NoError(t, r.Err, r.Name)
	}

	// Deprovision of a bare cluster removes nothing.
	removed, err := platforms.Deprovision(ctx, dir, nil)
	require.NoError(t, err)
	assert.Empty(t, removed)

	// A host that never answers: provision fails after the bounded wait,
	// naming it.
	writeConfig(t, dir, append(hosts, host{"three", "127.0.0.3", s1.Port}))
	start = time.Now()
	_, err = platforms.Provision(ctx, dir, platforms.Options{SSHWait: 2 * time.Second})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "host three (127.0.0.3:")
	assert.NotContains(t, err.Error(), "host one")
	assert.Less(t, time.Since(start), 10*time.Second)

	// A bare host needs an address.
	writeConfig(t, dir, append(hosts, host{name: "four"}))
	_, err = platforms.Provision(ctx, dir, platforms.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "instance four: ip_address")
}

// TestBarePortFromDefaults: the connection variables of instance_defaults
// count, as they do for the engine (ansible_ssh_port, an old name, too).
func TestBarePortFromDefaults(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id_tpt-bare")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput()
	require.NoError(t, err, string(out))
	auth := filepath.Join(t.TempDir(), "authorized_keys")
	pub, err := os.ReadFile(key + ".pub")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(auth, pub, 0o600))
	s := testenv.StartSSHD(t, "127.0.0.1", auth)
	cfg := fmt.Sprintf("cluster_name: tpt-bare\narchitecture: M1\ninstance_defaults:\n  platform: bare\n  vars:\n    ansible_ssh_port: %d\ninstances:\n- Name: one\n  node: 1\n  role: [primary]\n  ip_address: 127.0.0.1\n", s.Port)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644))
	var buf bytes.Buffer
	res, err := platforms.Provision(context.Background(), dir, platforms.Options{Out: &buf, AcceptNewHostKeys: true, SSHWait: 10 * time.Second})
	require.NoError(t, err, buf.String())
	assert.Equal(t, s.Port, res.Hosts[0].Port)
}

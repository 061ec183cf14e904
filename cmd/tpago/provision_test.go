package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/internal/testenv"
)

// provision, ping and deprovision of a bare cluster whose host is an sshd
// on loopback.
func TestProvisionPingBareCLI(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id_clibare")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput()
	require.NoError(t, err, string(out))
	sshd := testenv.StartSSHD(t, "127.0.0.1", key+".pub")
	cfg := fmt.Sprintf("cluster_name: clibare\narchitecture: M1\ninstance_defaults:\n  platform: bare\ninstances:\n- Name: one\n  node: 1\n  role: [primary]\n  ip_address: 127.0.0.1\n  vars:\n    ansible_port: %d\n", sshd.Port)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644))

	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ping", dir}, 2, "run tpago provision"},
		{[]string{"provision", dir}, 1, "host key unknown"},
		{[]string{"provision", "--accept-new-host-keys", dir}, 0, "1 hosts ready"},
		{[]string{"provision", dir}, 0, "nothing to change"},
		{[]string{"ping", dir}, 0, "one                  127.0.0.1        ok"},
		{[]string{"deprovision", dir}, 2, "give --yes"},
		{[]string{"deprovision", "--yes", dir}, 0, "nothing to remove"},
		{[]string{"provision", filepath.Join(dir, "nowhere")}, 2, "is not a cluster directory (no config.yml)"},
	}
	for _, tt := range tests {
		out, code, err := runCLI(t, tt.args...)
		msg := out
		if err != nil {
			msg += err.Error()
		}
		assert.Equal(t, tt.code, code, "%v: %s", tt.args, msg)
		assert.Contains(t, msg, tt.want, "%v", tt.args)
	}
}

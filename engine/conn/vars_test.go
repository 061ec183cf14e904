package conn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSSHConfigFromVars(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]any
		want SSHConfig
		err  string
	}{
		{name: "nothing set: the inventory name and the agent", vars: map[string]any{},
			want: SSHConfig{Host: "db1", UseAgent: true}},
		{name: "ansible_host wins over ansible_ssh_host", vars: map[string]any{"ansible_host": "10.0.0.1", "ansible_ssh_host": "10.0.0.2"},
			want: SSHConfig{Host: "10.0.0.1", UseAgent: true}},
		{name: "ansible_ssh_host alone", vars: map[string]any{"ansible_ssh_host": "10.0.0.2", "ansible_ssh_port": "2222"},
			want: SSHConfig{Host: "10.0.0.2", Port: 2222, UseAgent: true}},
		{name: "all of them", vars: map[string]any{"ansible_host": "h", "ansible_port": 22022, "ansible_user": "admin",
			"ansible_password": "pw", "ansible_ssh_private_key_file": "/k", "ansible_ssh_known_hosts_file": "/kh",
			"tpago_host_key_policy": "accept-new"},
			want: SSHConfig{Host: "h", Port: 22022, User: "admin", Password: "pw", KeyFiles: []string{"/k"}, KnownHostsFile: "/kh", AcceptNew: true}},
		{name: "old names", vars: map[string]any{"ansible_ssh_user": "u", "ansible_ssh_pass": "p", "ansible_private_key_file": "/k2"},
			want: SSHConfig{Host: "db1", User: "u", Password: "p", KeyFiles: []string{"/k2"}}},
		{name: "a port that is not a number", vars: map[string]any{"ansible_port": "ssh"}, err: `ansible_port: "ssh" is not a port number`},
		{name: "a port out of range", vars: map[string]any{"ansible_port": 70000}, err: "not a port number"},
		{name: "a host that is a list", vars: map[string]any{"ansible_host": []any{"a"}}, err: "ansible_host: expected a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SSHConfigFromVars("db1", MapVars(tt.vars))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

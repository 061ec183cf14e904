package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/internal/clitest"
)

// leaves are tpago's commands that run something, with their paths.
func leaves(c *cobra.Command, path []string) map[string]*cobra.Command {
	out := map[string]*cobra.Command{}
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		p := append(append([]string{}, path...), sub.Name())
		if sub.HasSubCommands() {
			for k, v := range leaves(sub, p) {
				out[k] = v
			}
			continue
		}
		out[strings.Join(p, " ")] = sub
	}
	return out
}

// TestBadUsageExits2 runs the built binary: an unknown flag, or a missing
// argument, is bad input (exit status 2) for every command.
func TestBadUsageExits2(t *testing.T) {
	for name, c := range leaves(newRoot(), nil) {
		args := strings.Fields(name)
		t.Run(name+" --no-such-flag", func(t *testing.T) {
			out, code := clitest.Run(t, append(args, "--no-such-flag")...)
			assert.Equal(t, 2, code, out)
			assert.Contains(t, out, "unknown flag")
		})
		if c.Args != nil && c.Args(c, nil) != nil {
			t.Run(name+" without arguments", func(t *testing.T) {
				out, code := clitest.Run(t, args...)
				assert.Equal(t, 2, code, out)
				assert.Contains(t, out, "--help")
			})
		}
	}
}

// TestExitStatuses runs the built binary on bad input of each kind.
func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.Mkdir(bad, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "config.yml"), []byte("cluster_name: bad\narchitecture: M1\ninstances:\n- Name: one\n  node: x\n"), 0o644))
	good := filepath.Join(dir, "good")
	require.NoError(t, os.Mkdir(good, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(good, "config.yml"), []byte("cluster_name: good\narchitecture: M1\ninstance_defaults:\n  platform: bare\ninstances:\n- Name: one\n  node: 1\n  role: [primary]\n  ip_address: 127.0.0.1\n"), 0o644))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown command", []string{"bogus"}, 2, `unknown command "bogus"`},
		{"unknown subcommand of image", []string{"image", "bogus"}, 2, `unknown command "bogus" for "tpago image"`},
		{"a near miss is named", []string{"deplyo"}, 2, "did you mean deploy"},
		{"image alone shows its help", []string{"image"}, 0, "build"},
		{"provision with an invalid config.yml", []string{"provision", bad}, 2, "config.yml:5:"},
		{"provision where there is no cluster", []string{"provision", filepath.Join(dir, "none")}, 2, "is not a cluster directory"},
		{"ping an unprovisioned cluster", []string{"ping", good}, 2, "run tpago provision"},
		{"deploy an unprovisioned cluster", []string{"deploy", good}, 2, "is not provisioned"},
		{"deploy with an invalid config.yml", []string{"deploy", bad}, 2, "config.yml:5:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := clitest.Run(t, tt.args...)
			assert.Equal(t, tt.code, code, out)
			assert.Contains(t, out, tt.want)
		})
	}
}

// TestPanicIsReportedAsBug: a panic in a command becomes exit status 1
// and a message that asks for a report, never a Go stack.
func TestPanicIsReportedAsBug(t *testing.T) {
	saved := commands
	t.Cleanup(func() { commands = saved })
	commands = append(commands, func() *cobra.Command {
		return &cobra.Command{Use: "explode", RunE: func(*cobra.Command, []string) error {
			var m map[string]int
			m["x"] = 1 //lint:ignore SA5000 a nil-map write: a real runtime panic, on purpose
			return nil
		}}
	})
	var out bytes.Buffer
	code := run([]string{"explode"}, &out, &out)
	assert.Equal(t, 1, code)
	assert.Contains(t, out.String(), "tpago: bug: assignment to entry in nil map, please report")
	assert.NotContains(t, out.String(), "goroutine")
}

// TestLimitAndForksRefused: a --limit that matches no host, and --forks 0,
// are bad input (exit status 2) before any host is contacted, for play,
// deploy and cmd alike.
func TestLimitAndForksRefused(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yml")
	require.NoError(t, os.WriteFile(inv, []byte("all:\n  hosts:\n    web1: {ansible_host: 192.0.2.1}\n"), 0o644))
	site := filepath.Join(dir, "site.yml")
	require.NoError(t, os.WriteFile(site, []byte("- hosts: all\n  gather_facts: false\n  tasks:\n  - debug: {msg: hi}\n"), 0o644))
	cl := filepath.Join(dir, "c")
	require.NoError(t, os.Mkdir(cl, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cl, "config.yml"), []byte("cluster_name: c\narchitecture: M1\ninstance_defaults:\n  platform: bare\ninstances:\n- Name: one\n  node: 1\n  role: [primary]\n  ip_address: 192.0.2.1\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(cl, "known_hosts"), nil, 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"play, a limit of no host", []string{"play", site, "-i", inv, "--limit", "nosuchhost"}, `--limit "nosuchhost" matches no host of the inventory (nosuchhost: neither a host nor a group)`},
		{"play, --forks 0", []string{"play", site, "-i", inv, "--forks", "0"}, "--forks 0: at least one host"},
		{"play, --forks -3", []string{"play", site, "-i", inv, "--forks=-3"}, "--forks -3"},
		{"deploy, a limit of no host", []string{"deploy", cl, "--limit", "nosuchhost"}, `--limit "nosuchhost" matches no host`},
		{"deploy, --forks 0", []string{"deploy", cl, "--forks", "0"}, "--forks 0"},
		{"cmd, a limit of no host", []string{"cmd", cl, "all", "true", "--limit", "nosuchhost"}, `--limit "nosuchhost" matches no host`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := clitest.Run(t, tt.args...)
			assert.Equal(t, 2, code, out)
			assert.Contains(t, out, tt.want)
			assert.NotContains(t, out, "UNREACHABLE")
		})
	}
}

// TestUndefinedTemplateInConfig: deploy and validate refuse a config.yml
// whose variables use a variable nothing defines, pointing at it.
func TestUndefinedTemplateInConfig(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte("cluster_name: c\narchitecture: M1\ninstance_defaults:\n  platform: bare\ncluster_vars:\n  pg_port: \"{{ postgres_prot }}\"\n  ok: \"{{ postgres_port }}\"\ninstances:\n- Name: one\n  node: 1\n  role: [primary]\n  ip_address: 192.0.2.1\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "known_hosts"), nil, 0o644))
	for _, args := range [][]string{{"deploy", dir}, {"validate", dir}} {
		out, code := clitest.Run(t, args...)
		assert.Equal(t, 2, code, out)
		assert.Contains(t, out, `config.yml:6:12`)
		assert.Contains(t, out, `"postgres_prot"`)
		assert.NotContains(t, out, `"postgres_port"`, "a role's default is defined")
	}
}

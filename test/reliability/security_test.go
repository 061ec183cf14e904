package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// securityChecks runs on a freshly deployed cluster, before the test
// process is admitted in pg_hba.conf.
func securityChecks(t *testing.T, c *cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var secrets []string
	for _, u := range []string{"postgres", "repmgr", "barman", "streaming_barman"} {
		secrets = append(secrets, c.password(t, u))
	}

	t.Run("pg_hba admits only the cluster's hosts", func(t *testing.T) {
		// The test process reaches the containers from the network's
		// gateway: an address in the cluster's network that is not a host.
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(pctx, dsn(c.byRole("primary")[0].IP, secrets[0], "postgres"))
		if err == nil {
			conn.Close(pctx)
		}
		require.Error(t, err, "a connection from %s (not a cluster host) was accepted", c.gateway(t))
		assert.Contains(t, err.Error(), "no pg_hba.conf entry", "refused by pg_hba.conf")
	})

	t.Run("secret files are mode 0600", func(t *testing.T) {
		ents, err := os.ReadDir(filepath.Join(c.Dir, "secrets"))
		require.NoError(t, err)
		require.NotEmpty(t, ents)
		files := []string{filepath.Join(c.Dir, "id_"+c.Name)}
		for _, e := range ents {
			files = append(files, filepath.Join(c.Dir, "secrets", e.Name()))
		}
		for _, f := range files {
			st, err := os.Stat(f)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
		}
		for _, n := range c.Nodes {
			out, err := c.sh(ctx, n, `for f in /var/lib/postgresql/.pgpass /var/lib/barman/.pgpass; do [ -e $f ] && stat -c '%a %n' $f; done; true`)
			require.NoError(t, err)
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l != "" {
					assert.True(t, strings.HasPrefix(l, "600 "), "%s: %s", n.Name, l)
				}
			}
		}
	})

	t.Run("passwords appear in no output and no process list", func(t *testing.T) {
		require.NotEmpty(t, c.DeployPS, "the first deploy's process lists were recorded")
		for _, s := range secrets {
			assert.NotContains(t, c.DeployOutput, s, "a password is in the output of the first deploy (-vvv)")
		}
		assert.Empty(t, linesWith(c.DeployPS, secrets), "a password was in a host's process list during the first deploy")
		t.Logf("FIGURES first deploy -vvv: %d bytes of output and %d distinct process command lines, no password in them", len(c.DeployOutput), len(c.DeployPS))
		// A second deploy with -vvv (it must change nothing) while every
		// host's process list is read every 200 ms.
		stopPS := c.watchPS(ctx)
		out, err := tpago(ctx, "deploy", c.Dir, "-vvv")
		seen := linesWith(stopPS(), secrets)
		require.NoError(t, err, "second deploy: %s", tail(out, 40))
		for _, s := range secrets {
			assert.NotContains(t, out, s, "a password is in the output of deploy -vvv")
		}
		assert.Empty(t, seen, "a password was in a host's process list during deploy")
		assert.Regexp(t, `(?m)changed=0\s`, out, "the second deploy changes nothing")
		t.Logf("FIGURES second deploy -vvv: %d bytes of output, no password in it or in ps", len(out))
	})

	t.Run("a substituted host key is refused", func(t *testing.T) {
		kh := filepath.Join(c.Dir, "known_hosts")
		orig, err := os.ReadFile(kh)
		require.NoError(t, err)
		defer func() { require.NoError(t, os.WriteFile(kh, orig, 0o600)) }()
		// Give the first host the key of another host.
		lines := strings.Split(strings.TrimSpace(string(orig)), "\n")
		require.GreaterOrEqual(t, len(lines), 2)
		a, b := c.Nodes[0], c.Nodes[1]
		var keyOfB string
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) >= 3 && strings.Contains(","+f[0]+",", ","+b.IP+",") {
				keyOfB = f[1] + " " + f[2]
			}
		}
		require.NotEmpty(t, keyOfB, "no key for %s in known_hosts:\n%s", b.IP, orig)
		var out []string
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) >= 3 && strings.Contains(","+f[0]+",", ","+a.IP+",") {
				l = f[0] + " " + keyOfB
			}
			out = append(out, l)
		}
		require.NoError(t, os.WriteFile(kh, []byte(strings.Join(out, "\n")+"\n"), 0o600))
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		res, err := tpago(cctx, "cmd", c.Dir, a.Name, "true")
		require.Error(t, err, "a host with a substituted key was accepted: %s", res)
		assert.Contains(t, strings.ToLower(res), "host key", fmt.Sprintf("says the host key is wrong: %s", res))
		t.Logf("substituted host key: %s", tail(res, 3))
	})
}

// linesWith returns the lines that hold one of secrets, each secret masked
// (a failure message must not print it).
func linesWith(lines map[string]bool, secrets []string) []string {
	var out []string
	for l := range lines {
		masked := l
		for _, s := range secrets {
			masked = strings.ReplaceAll(masked, s, "********")
		}
		if masked != l {
			out = append(out, masked)
		}
	}
	return out
}

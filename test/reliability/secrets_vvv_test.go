package reliability

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// b64Text is text that may be base64: scripts carry file content and stdin
// that way, wrapped at 76 columns.
var b64Text = regexp.MustCompile(`[A-Za-z0-9+/=\n]{12,}`)

// revealedSecret returns the first of secrets that out shows, as it is or
// inside any base64 text of out at any alignment, masked for the message
// ("" when none).
func revealedSecret(out string, secrets []string) string {
	hay := [][]byte{[]byte(out)}
	for _, run := range b64Text.FindAllString(out, -1) {
		run = strings.ReplaceAll(run, "\n", "")
		for off := 0; off < 4 && off < len(run); off++ {
			s := strings.TrimRight(run[off:], "=")
			s = s[:len(s)/4*4]
			if b, err := base64.StdEncoding.DecodeString(s); err == nil {
				hay = append(hay, b)
			}
		}
	}
	for _, s := range secrets {
		for i, h := range hay {
			if bytes.Contains(h, []byte(s)) {
				how := "in plain text"
				if i > 0 {
					how = "in base64"
				}
				return s[:4] + "… " + how
			}
		}
	}
	return ""
}

// clusterSecrets are the values of every secret file of the cluster: the
// passwords, and the lines of the private keys.
func clusterSecrets(t *testing.T, c *cluster) []string {
	t.Helper()
	var out []string
	files := []string{filepath.Join(c.Dir, "id_"+c.Name)}
	ents, err := os.ReadDir(filepath.Join(c.Dir, "secrets"))
	require.NoError(t, err)
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".pub") {
			files = append(files, filepath.Join(c.Dir, "secrets", e.Name()))
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l = strings.TrimSpace(l); len(l) >= 12 && !strings.HasPrefix(l, "-----") {
				out = append(out, l)
			}
		}
	}
	return out
}

// No secret of the cluster shows in the output of deploy and test at -vvv,
// neither in plain text nor in the base64 that scripts carry, for each
// failover manager.
func TestSecretsNeverShowAtVVV(t *testing.T) {
	for _, manager := range []string{"repmgr", "patroni"} {
		t.Run(manager, func(t *testing.T) {
			if testing.Short() {
				t.Skip("deploys a cluster (minutes); without -short it runs")
			}
			c := newCluster(t, "relv"+manager[:1], clusterOpts{manager: manager, verbose: true})
			secrets := clusterSecrets(t, c)
			require.NotEmpty(t, secrets)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			outs := map[string]string{"first deploy -vvv": c.DeployOutput}
			for _, cmd := range [][]string{{"deploy", c.Dir, "-vvv"}, {"deploy", c.Dir, "-vvv", "--check", "--diff"}, {"test", c.Dir, "-vvv"}} {
				out, err := tpago(ctx, cmd...)
				require.NoError(t, err, "%s: %s", strings.Join(cmd, " "), tail(out, 40))
				outs[strings.Join(append([]string{cmd[0]}, cmd[2:]...), " ")] = out
			}
			for name, out := range outs {
				assert.Contains(t, out, "EXEC", "%s traces its scripts", name)
				assert.Empty(t, revealedSecret(out, secrets), "%s shows a secret of the cluster", name)
				t.Logf("FIGURES %s: %d bytes searched for %d secret values, in plain text and base64", name, len(out), len(secrets))
			}
		})
	}
}

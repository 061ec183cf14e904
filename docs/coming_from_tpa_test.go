package docs

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/architectures/m1"
	"github.com/tpago/tpago/cluster"
)

// The curated list is well formed: a meaning for every key, no key twice.
func TestTPAKeysList(t *testing.T) {
	groups, err := TPAKeys()
	require.NoError(t, err)
	seen := map[string]bool{}
	n := 0
	for _, g := range groups {
		require.NotEmpty(t, g.Group)
		require.NotEmpty(t, g.Keys, g.Group)
		for _, k := range g.Keys {
			assert.Regexp(t, `^[a-z][a-z0-9_]*$`, k.Key)
			assert.NotEmpty(t, k.TPA, k.Key)
			assert.False(t, seen[k.Key], "%s is listed twice", k.Key)
			seen[k.Key] = true
			n++
		}
	}
	assert.GreaterOrEqual(t, n, 60, "the list covers what an M1 user of TPA sets")
}

// Every key of the list has its row in the page, with the status that
// what the built-in playbooks and roles read gives it.
func TestComingFromTPACoversTheList(t *testing.T) {
	groups, err := TPAKeys()
	require.NoError(t, err)
	read, err := m1.BuiltinReads()
	require.NoError(t, err)
	page := ComingFromTPA()
	for _, g := range groups {
		assert.Contains(t, page, "\n## "+g.Group+"\n")
		for _, k := range g.Keys {
			row := regexp.MustCompile("(?m)^\\| `" + k.Key + "` \\| .* \\| (.*) \\|$").FindStringSubmatch(page)
			if !assert.NotNil(t, row, "no row for %s", k.Key) {
				continue
			}
			if read[k.Key] {
				assert.True(t, strings.HasPrefix(row[1], tpaSupported), "%s is read: %s", k.Key, row[1])
			} else {
				assert.True(t, strings.HasPrefix(row[1], tpaIgnored), "%s is read by nothing: %s", k.Key, row[1])
			}
			if k.Tpago != "" {
				assert.True(t, read[k.Tpago], "%s: tpago does not read %s, which the list names instead", k.Key, k.Tpago)
			}
		}
	}
}

// What the page calls supported is what validate does not warn of: put
// every key of the list in a config.yml and ask cluster.UnreadVars, with
// the names the built-in playbooks and roles read, which do nothing.
func TestComingFromTPAAgreesWithValidate(t *testing.T) {
	groups, err := TPAKeys()
	require.NoError(t, err)
	read, err := m1.BuiltinReads()
	require.NoError(t, err)
	// The values config.yml's own checks accept; null for the others.
	values := map[string]string{"postgres_version": "15", "postgres_port": "5432", "postgres_flavour": "postgresql",
		"patroni_package_flavour": "community", "patroni_dcs": "etcd"}
	var vars strings.Builder
	var ignored []string
	for _, g := range groups {
		for _, k := range g.Keys {
			if k.Key == "failover_manager" {
				continue // set below
			}
			v := values[k.Key]
			if v == "" {
				v = "null"
			}
			fmt.Fprintf(&vars, "  %s: %s\n", k.Key, v)
			if !read[k.Key] {
				ignored = append(ignored, k.Key)
			}
		}
	}
	text := "architecture: M1\ncluster_name: c\ncluster_vars:\n  failover_manager: repmgr\n" + vars.String() +
		"instance_defaults:\n  platform: bare\ninstances:\n- Name: one\n  node: 1\n  role: [primary]\n  ip_address: 10.1.0.11\n"
	cfg, err := cluster.ParseConfig("config.yml", []byte(text))
	require.NoError(t, err)
	var warned []string
	for _, e := range cfg.UnreadVars(func(n string) bool { return read[n] }, nil) {
		m := regexp.MustCompile(`no playbook or role reads "([^"]+)"`).FindStringSubmatch(e.Error())
		require.NotNil(t, m, e.Error())
		warned = append(warned, m[1])
	}
	sort.Strings(warned)
	sort.Strings(ignored)
	assert.Equal(t, ignored, warned)
}

package testenv_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/internal/testenv"
	"github.com/tpago/tpago/platforms"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestCluster(t *testing.T) {
	env := testenv.Cluster(t, "testenv", 2)
	require.Len(t, env.Hosts, 2)
	assert.FileExists(t, env.InventoryPath)
	assert.FileExists(t, env.KeyFile)
	assert.FileExists(t, env.KnownHosts)
	names, vars, err := platforms.ReadInventoryHosts(env.InventoryPath)
	require.NoError(t, err)
	assert.Equal(t, []string{"node1", "node2"}, names)
	for i, h := range env.Hosts {
		assert.Equal(t, h.Addr, vars[h.Name]["ansible_host"])
		c := env.Dial(t, i)
		var out bytes.Buffer
		rc, err := c.Exec(context.Background(), "hostname", nil, &out, nil)
		require.NoError(t, err)
		assert.Equal(t, 0, rc)
		assert.Equal(t, h.Name+"\n", out.String())
	}
}

// A second test asking for the same cluster gets the same hosts.
func TestClusterReused(t *testing.T) {
	a := testenv.Cluster(t, "testenv", 2)
	b := testenv.Cluster(t, "testenv", 2)
	assert.Same(t, a, b)
}

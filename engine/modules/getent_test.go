package modules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetentFactsSplitLikeAnsible(t *testing.T) {
	f := getentFacts("root:x:0:0:root:/root:/bin/bash\nbin:x:2:2::/bin:/usr/sbin/nologin\n", "passwd", "")
	assert.Equal(t, []any{"x", "0", "0", "root", "/root", "/bin/bash"}, f["root"])
	assert.Equal(t, []any{"x", "2", "2", "", "/bin", "/usr/sbin/nologin"}, f["bin"])
	f = getentFacts("127.0.0.1       localhost\n::1   localhost ip6-localhost\n", "hosts", "")
	assert.Equal(t, []any{"localhost"}, f["127.0.0.1"])
	assert.Equal(t, []any{"localhost", "ip6-localhost"}, f["::1"])
	f = getentFacts("a 1\na 2\na 3\n", "services", "")
	assert.Equal(t, []any{[]any{"1"}, []any{"2"}, []any{"3"}}, f["a"], "a key seen more than once holds the list of its values")
	f = getentFacts("x|1|2\n", "hosts", "|")
	assert.Equal(t, []any{"1", "2"}, f["x"])
}

func TestGetentOnThisMachine(t *testing.T) {
	rt := localRT(t, t.TempDir())
	res := mustRun(t, rt, "getent", map[string]any{"database": "passwd", "key": "root"})
	pw := res.Facts["getent_passwd"].(map[string]any)
	assert.Equal(t, "0", pw["root"].([]any)[1])
	assert.Equal(t, res.Facts, res.Data["ansible_facts"])

	_, err := runMod(t, rt, "getent", map[string]any{"database": "passwd", "key": "no-such-user-tpago"})
	require.ErrorContains(t, err, "could not be found")
	res = mustRun(t, rt, "getent", map[string]any{"database": "passwd", "key": "no-such-user-tpago", "fail_key": false})
	assert.Contains(t, res.Facts["getent_passwd"], "no-such-user-tpago")
	_, err = runMod(t, rt, "getent", map[string]any{"database": "nosuchdb"})
	require.ErrorContains(t, err, "database unknown")
}

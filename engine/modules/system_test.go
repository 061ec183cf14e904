package modules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRemoteApt(t *testing.T) {
	rt := remoteRT(t)
	res := mustRun(t, rt, "apt", map[string]any{"update_cache": true})
	assert.Equal(t, true, res.Data["cache_updated"])
	res = mustRun(t, rt, "apt", map[string]any{"update_cache": true, "cache_valid_time": 3600})
	assert.Equal(t, false, res.Data["cache_updated"], "cache is fresh")

	args := map[string]any{"name": []any{"hello", "less"}, "install_recommends": false}
	first := idempotent(t, rt, "apt", args, func(applied bool) {
		assert.Equal(t, applied, shOK("dpkg -s hello >/dev/null 2>&1"))
	})
	assert.ElementsMatch(t, []any{"hello", "less"}, first.Data["installed"])
	require.Len(t, first.Diff, 1)
	assert.Contains(t, first.Diff[0].Before, "hello: absent")
	assert.Contains(t, first.Diff[0].After, "hello: installed")

	res = mustRun(t, rt, "apt", map[string]any{"name": "hello", "state": "latest"})
	assert.False(t, res.Changed)

	_, err := runMod(t, rt, "apt", map[string]any{"name": []any{"hello", "no-such-package-tpago"}})
	require.ErrorContains(t, err, "No package matching 'no-such-package-tpago' is available")

	idempotent(t, rt, "apt", map[string]any{"name": "hello", "state": "absent", "purge": true}, func(applied bool) {
		assert.Equal(t, !applied, shOK("dpkg -s hello >/dev/null 2>&1"))
	})
}

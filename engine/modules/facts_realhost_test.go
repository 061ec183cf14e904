package modules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On a real Debian 12 host over SSH: setup gathers every fact in one
// round trip, with Ansible's shapes; package_facts reads dpkg.
func TestSetupAndPackageFactsOnRealHost(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Debian host (Docker): runs without -short")
	}
	rt := remoteRT(t)
	res := mustRun(t, rt, "setup", map[string]any{})
	f := res.HostFacts
	assert.Equal(t, "Debian", f["ansible_os_family"])
	assert.Equal(t, "Debian", f["ansible_distribution_file_variety"])
	assert.Equal(t, "12", f["ansible_distribution_major_version"])
	assert.Equal(t, "apt", f["ansible_pkg_mgr"])
	assert.Equal(t, "docker", f["ansible_virtualization_type"])
	assert.Equal(t, "guest", f["ansible_virtualization_role"])
	dt, ok := f["ansible_date_time"].(map[string]any)
	require.True(t, ok)
	assert.Len(t, dt["date"], 10)
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, dt["iso8601"])
	env, ok := f["ansible_env"].(map[string]any)
	require.True(t, ok)
	assert.NotEmpty(t, env["PATH"])
	assert.Greater(t, f["ansible_processor_cores"], 0)
	assert.Greater(t, f["ansible_uptime_seconds"], 0)
	assert.Contains(t, f["ansible_interfaces"], "lo")
	if py, ok := f["ansible_python"].(map[string]any); ok {
		v := py["version"].(map[string]any)
		assert.Equal(t, 3, v["major"])
	}

	res = mustRun(t, rt, "setup", map[string]any{"filter": []any{"ansible_os_family"}})
	assert.Len(t, res.HostFacts, 1)

	res = mustRun(t, rt, "package_facts", map[string]any{})
	pkgs, ok := res.HostFacts["packages"].(map[string]any)
	require.True(t, ok)
	require.Contains(t, pkgs, "openssh-server")
	p := pkgs["openssh-server"].([]any)[0].(map[string]any)
	assert.Equal(t, "apt", p["source"])
	assert.NotEmpty(t, p["version"])
}

// async_status over SSH: a job folder made by hand as the executor makes
// it is reported, then cleaned up.
func TestAsyncStatusOnRealHost(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Debian host (Docker): runs without -short")
	}
	rt := remoteRT(t)
	sh(t, `d=$HOME/.ansible_async/j1.1; mkdir -p "$d"; echo out > "$d/stdout"; : > "$d/stderr"`)
	res := mustRun(t, rt, "async_status", map[string]any{"jid": "j1.1"})
	assert.Equal(t, false, res.Data["finished"])
	sh(t, `echo 0 > $HOME/.ansible_async/j1.1/rc`)
	res = mustRun(t, rt, "async_status", map[string]any{"jid": "j1.1"})
	assert.Equal(t, true, res.Data["finished"])
	assert.Equal(t, "out", res.Stdout)
	mustRun(t, rt, "async_status", map[string]any{"jid": "j1.1", "mode": "cleanup"})
	assert.False(t, shOK(`[ -e $HOME/.ansible_async/j1.1 ]`))
	_, err := runMod(t, rt, "async_status", map[string]any{"jid": "../etc"})
	assert.ErrorContains(t, err, "is not a job id")
}

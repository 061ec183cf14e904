package modules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real-host tier of get_url, uri, unarchive, find, getent and cron,
// on the Debian 12 host over SSH: the HTTP server is python3's on the
// host itself (ctHTTPSetup), cron is installed when missing.

func TestRemoteGetURLAndUnarchive(t *testing.T) {
	rt := remoteRT(t)
	sh(t, ctHTTPSetup+"; rm -rf /tmp/rh; mkdir -p /tmp/rh/out; id rhuser >/dev/null 2>&1 || useradd rhuser")
	t.Cleanup(func() { _, _ = shRun("rm -rf /tmp/rh; userdel rhuser") })
	args := map[string]any{"url": ctURL + "/file.txt", "dest": "/tmp/rh/f", "owner": "rhuser", "mode": "0600",
		"checksum": "sha1:" + sh(t, "sha1sum < /srv/ct/file.txt | cut -d' ' -f1")}
	idempotent(t, rt, "get_url", args, func(applied bool) { assert.Equal(t, applied, shOK("test -f /tmp/rh/f")) })
	assert.Equal(t, "rhuser 600", sh(t, "stat -c '%U %a' /tmp/rh/f"))

	idempotent(t, rt, "unarchive", map[string]any{"src": "/srv/ct/app.tar.gz", "remote_src": true, "dest": "/tmp/rh/out", "owner": "rhuser"},
		func(applied bool) { assert.Equal(t, applied, shOK("test -f /tmp/rh/out/file.txt")) })
	assert.Equal(t, "rhuser", sh(t, "stat -c %U /tmp/rh/out/file.txt"))
	sh(t, "mkdir -p /tmp/rh/url")
	idempotent(t, rt, "unarchive", map[string]any{"src": ctURL + "/app.tar.gz", "remote_src": true, "dest": "/tmp/rh/url"}, nil)
	assert.Equal(t, "downloaded", sh(t, "cat /tmp/rh/url/file.txt"))
}

func TestRemoteURIAndFind(t *testing.T) {
	rt := remoteRT(t)
	sh(t, ctHTTPSetup+"; rm -rf /tmp/rh2; mkdir -p /tmp/rh2/sub && echo hit > /tmp/rh2/a.log && echo miss > /tmp/rh2/sub/b.log")
	t.Cleanup(func() { _, _ = shRun("rm -rf /tmp/rh2") })
	res := mustRun(t, rt, "uri", map[string]any{"url": ctURL + "/file.txt", "return_content": true})
	assert.Equal(t, "downloaded\n", res.Data["content"])
	assert.Equal(t, 200, res.Data["status"])
	assert.False(t, res.Changed)
	res = mustRun(t, rt, "find", map[string]any{"paths": "/tmp/rh2", "patterns": "*.log", "recurse": true, "contains": "hit"})
	require.Equal(t, 1, res.Data["matched"])
	assert.Equal(t, "/tmp/rh2/a.log", res.Data["files"].([]any)[0].(map[string]any)["path"])
}

func TestRemoteGetentAndCron(t *testing.T) {
	rt := remoteRT(t)
	res := mustRun(t, rt, "getent", map[string]any{"database": "passwd", "key": "root"})
	assert.Equal(t, "/root", res.Facts["getent_passwd"].(map[string]any)["root"].([]any)[4])
	res = mustRun(t, rt, "getent", map[string]any{"database": "group"})
	assert.Contains(t, res.Facts["getent_group"], "root")

	sh(t, ctCronSetup+"; id rhcron >/dev/null 2>&1 || useradd rhcron; crontab -u rhcron -r 2>/dev/null; rm -f /etc/cron.d/tpago-rh; true")
	t.Cleanup(func() { _, _ = shRun("crontab -u rhcron -r; userdel rhcron; rm -f /etc/cron.d/tpago-rh") })
	// An entry Ansible wrote is changed in place, not doubled.
	sh(t, `printf 'MAILTO=""\n#Ansible: nightly\n0 3 * * * /usr/bin/old\n' | crontab -u rhcron -`)
	args := map[string]any{"name": "nightly", "user": "rhcron", "hour": "4", "minute": "0", "job": "/usr/bin/new"}
	idempotent(t, rt, "cron", args, nil)
	assert.Equal(t, "MAILTO=\"\"\n#Ansible: nightly\n0 4 * * * /usr/bin/new", sh(t, "crontab -u rhcron -l"))
	idempotent(t, rt, "cron", map[string]any{"name": "PATH", "env": true, "job": "/usr/bin:/bin", "user": "rhcron"}, nil)
	assert.Equal(t, `PATH="/usr/bin:/bin"`, sh(t, "crontab -u rhcron -l | head -n1"))
	idempotent(t, rt, "cron", map[string]any{"name": "nightly", "user": "rhcron", "state": "absent"}, nil)
	assert.NotContains(t, sh(t, "crontab -u rhcron -l"), "nightly")

	idempotent(t, rt, "cron", map[string]any{"name": "rh", "cron_file": "tpago-rh", "user": "rhcron", "special_time": "daily", "job": "/bin/true"}, nil)
	assert.Equal(t, "#Ansible: rh\n@daily rhcron /bin/true", sh(t, "cat /etc/cron.d/tpago-rh"))
	assert.Equal(t, "644 root", sh(t, "stat -c '%a %U' /etc/cron.d/tpago-rh"))
}

package modules

import (
	"github.com/tpago/tpago/engine/conn"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRemoteApt(t *testing.T) {
	rt := remoteRT(t)
	// The host is shared with the package's other real-host tests (the
	// check-mode contract installs hello too): start without it.
	sh(t, "apt-get -y purge hello >/dev/null 2>&1 || true")
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

func TestRemoteService(t *testing.T) {
	rt := remoteRT(t)
	unit := "[Unit]\nDescription=tpago test\n[Service]\nExecStart=/bin/sleep infinity\nExecReload=/bin/true\n[Install]\nWantedBy=multi-user.target\n"
	mustRun(t, rt, "copy", map[string]any{"content": unit, "dest": "/usr/lib/systemd/system/tpago-test.service"})
	_, err := runMod(t, rt, "systemd", map[string]any{"name": "tpago-nope", "state": "started"})
	require.ErrorContains(t, err, "Could not find the requested service tpago-nope")

	args := map[string]any{"name": "tpago-test", "state": "started", "enabled": true, "daemon_reload": true}
	res := mustRun(t, with(rt, true, true), "systemd", args)
	assert.True(t, res.Changed)
	assert.False(t, shOK("systemctl is-active tpago-test"))
	res = mustRun(t, with(rt, false, true), "systemd", args)
	assert.True(t, res.Changed)
	require.Len(t, res.Diff, 1)
	assert.Equal(t, "state: inactive\nenabled: disabled\n", res.Diff[0].Before)
	assert.Equal(t, "state: active\nenabled: enabled\n", res.Diff[0].After)
	assert.True(t, shOK("systemctl is-active tpago-test"))
	assert.True(t, shOK("systemctl is-enabled tpago-test"))
	res = mustRun(t, rt, "systemd_service", map[string]any{"name": "tpago-test", "state": "started", "enabled": true})
	assert.False(t, res.Changed)
	assert.Equal(t, "started", res.Data["state"])

	res = mustRun(t, rt, "service", map[string]any{"name": "tpago-test", "state": "restarted"})
	assert.True(t, res.Changed, "restarted always changes")
	res = mustRun(t, rt, "service", map[string]any{"name": "tpago-test", "state": "reloaded"})
	assert.True(t, res.Changed)

	idempotent(t, rt, "service", map[string]any{"name": "tpago-test", "state": "stopped", "enabled": false}, func(applied bool) {
		assert.Equal(t, !applied, shOK("systemctl is-active tpago-test"))
	})
	idempotent(t, rt, "systemd", map[string]any{"name": "tpago-test", "masked": true}, func(applied bool) {
		assert.Equal(t, applied, sh(t, "systemctl is-enabled tpago-test || true") == "masked")
	})
	idempotent(t, rt, "systemd", map[string]any{"name": "tpago-test", "masked": false}, nil)
}

func TestRemoteUserGroup(t *testing.T) {
	rt := remoteRT(t)
	idempotent(t, rt, "group", map[string]any{"name": "tpgrp", "gid": 2345}, func(applied bool) {
		assert.Equal(t, applied, shOK("getent group tpgrp"))
	})
	idempotent(t, rt, "group", map[string]any{"name": "tpgrp", "gid": 2346}, func(applied bool) {
		assert.Equal(t, applied, shOK("getent group 2346"))
	})
	mustRun(t, rt, "group", map[string]any{"name": "tpextra"})

	args := map[string]any{"name": "tpuser", "uid": 2001, "groups": []any{"tpgrp"}, "shell": "/bin/bash",
		"password":         "$6$salt$IxDD3jeSOb5eB1CX5LBsqZFVkJdido3OUILO5Ifz5iwMuTS4XMS130MTSuDDl3aCI6WouIL9AjRbLCelDCy.g.",
		"generate_ssh_key": true, "ssh_key_type": "ed25519"}
	first := idempotent(t, rt, "user", args, func(applied bool) {
		assert.Equal(t, applied, shOK("getent passwd tpuser"))
	})
	assert.Equal(t, 2001, first.Data["uid"])
	assert.Contains(t, first.Data["ssh_public_key"], "ssh-ed25519 ")
	assert.Equal(t, "/home/tpuser/.ssh/id_ed25519", first.Data["ssh_key_file"])
	assert.Equal(t, "tpuser tpgrp", sh(t, "id -Gn tpuser"))
	assert.Equal(t, "$6$salt$", sh(t, "getent shadow tpuser | cut -d: -f2")[:8])
	assert.Equal(t, "tpuser", sh(t, "stat -c %U /home/tpuser/.ssh/id_ed25519"))

	first = idempotent(t, rt, "user", map[string]any{"name": "tpuser", "groups": "tpextra", "append": true, "shell": "/bin/sh"}, nil)
	assert.Equal(t, "tpuser tpgrp tpextra", sh(t, "id -Gn tpuser"))
	require.Len(t, first.Diff, 1)
	assert.Contains(t, first.Diff[0].Before, "shell: /bin/bash")
	assert.Contains(t, first.Diff[0].After, "shell: /bin/sh")
	idempotent(t, rt, "user", map[string]any{"name": "tpuser", "groups": []any{}}, nil)
	assert.Equal(t, "tpuser", sh(t, "id -Gn tpuser"))

	_, err := runMod(t, rt, "user", map[string]any{"name": "tpuser2", "group": "nogroup-tpago"})
	require.ErrorContains(t, err, "Group nogroup-tpago does not exist")

	// authorized_key
	k1 := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk1 alice@x"
	k2 := "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC2 bob@y"
	idempotent(t, rt, "authorized_key", map[string]any{"user": "tpuser", "key": k1 + "\n" + k2}, func(applied bool) {
		assert.Equal(t, applied, shOK("test -f /home/tpuser/.ssh/authorized_keys"))
	})
	assert.Equal(t, k1+"\n"+k2, sh(t, "cat /home/tpuser/.ssh/authorized_keys"))
	assert.Equal(t, "600 tpuser", sh(t, "stat -c '%a %U' /home/tpuser/.ssh/authorized_keys"))
	assert.Equal(t, "700 tpuser", sh(t, "stat -c '%a %U' /home/tpuser/.ssh"))
	idempotent(t, rt, "authorized_key", map[string]any{"user": "tpuser", "key": k2, "exclusive": true}, nil)
	assert.Equal(t, k2, sh(t, "cat /home/tpuser/.ssh/authorized_keys"))
	idempotent(t, rt, "authorized_key", map[string]any{"user": "tpuser", "key": k2, "state": "absent"}, nil)
	assert.Equal(t, "", sh(t, "cat /home/tpuser/.ssh/authorized_keys"))

	idempotent(t, rt, "user", map[string]any{"name": "tpuser", "state": "absent", "remove": true}, func(applied bool) {
		assert.Equal(t, !applied, shOK("getent passwd tpuser"))
	})
	assert.False(t, shOK("test -d /home/tpuser"))
	idempotent(t, rt, "group", map[string]any{"name": "tpgrp", "state": "absent"}, nil)
}

func TestRemoteHostnameSysctl(t *testing.T) {
	rt := remoteRT(t)
	first := idempotent(t, rt, "hostname", map[string]any{"name": "db-tpago-1"}, func(applied bool) {
		assert.Equal(t, applied, sh(t, "cat /etc/hostname") == "db-tpago-1")
	})
	t.Logf("hostname: %s", first.Msg)

	// The kernel's settings are read-only in a container: the file is
	// written, and the refusal is a warning with ignoreerrors, an error
	// without.
	args := map[string]any{"name": "net.ipv4.ip_local_port_range", "value": "20000  60000",
		"sysctl_file": "/etc/sysctl.d/90-tpago.conf", "sysctl_set": true, "ignoreerrors": true}
	first = idempotent(t, rt, "sysctl", args, func(applied bool) {
		assert.Equal(t, applied, shOK("grep -qx 'net.ipv4.ip_local_port_range=20000 60000' /etc/sysctl.d/90-tpago.conf"))
	})
	assert.Contains(t, first.Msg, "warning")
	_, err := runMod(t, rt, "sysctl", map[string]any{"name": "vm.swappiness", "value": "7", "sysctl_file": "/etc/sysctl.d/91-tpago.conf"})
	require.ErrorContains(t, err, "Failed to reload sysctl")
	assert.Equal(t, "vm.swappiness=7", sh(t, "cat /etc/sysctl.d/91-tpago.conf"))
	idempotent(t, rt, "sysctl", map[string]any{"name": "net.ipv4.ip_local_port_range", "state": "absent",
		"sysctl_file": "/etc/sysctl.d/90-tpago.conf"}, nil)
	assert.Equal(t, "", sh(t, "cat /etc/sysctl.d/90-tpago.conf"))
}

func TestRemoteFiles(t *testing.T) {
	rt := remoteRT(t)
	idempotent(t, rt, "file", map[string]any{"path": "/srv/app", "state": "directory", "owner": "nobody", "group": "nogroup", "mode": "0750"}, func(applied bool) {
		assert.Equal(t, applied, shOK("test -d /srv/app"))
	})
	assert.Equal(t, "750 nobody nogroup", sh(t, "stat -c '%a %U %G' /srv/app"))
	first := idempotent(t, rt, "copy", map[string]any{"content": "a=1\n", "dest": "/srv/app/app.conf", "owner": "nobody", "mode": "0640"}, nil)
	assert.Equal(t, "640 nobody", sh(t, "stat -c '%a %U' /srv/app/app.conf"))
	assert.Equal(t, "a=1\n", first.Diff[0].After)
	idempotent(t, rt, "lineinfile", map[string]any{"path": "/srv/app/app.conf", "regexp": "^a=", "line": "a=2"}, nil)
	assert.Equal(t, "a=2", sh(t, "cat /srv/app/app.conf"))
	assert.Equal(t, "640 nobody", sh(t, "stat -c '%a %U' /srv/app/app.conf"), "attributes survive a rewrite")
	_, err := runMod(t, rt, "copy", map[string]any{"content": "x", "dest": "/srv/app/x", "owner": "no-such-user"})
	require.ErrorContains(t, err, "owner no-such-user: no such user")
}

// Modules run as another user through sudo, as with become_user.
func TestRemoteBecome(t *testing.T) {
	rt := remoteRT(t)
	root := rt.Remote.(*conn.Shell)
	as := *root
	as.Become, as.BecomeUser = true, "nobody"
	rt.Remote = &as
	sh(t, "rm -f /tmp/by-nobody")
	idempotent(t, rt, "copy", map[string]any{"content": "x\n", "dest": "/tmp/by-nobody", "mode": "0600"}, nil)
	assert.Equal(t, "nobody 600", sh(t, "stat -c '%U %a' /tmp/by-nobody"))
	res := mustRun(t, rt, "command", map[string]any{"cmd": "id -un"})
	assert.Equal(t, "nobody", res.Stdout)
	_, err := runMod(t, rt, "copy", map[string]any{"content": "x\n", "dest": "/root/nope"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/root")
	t.Logf("as nobody, writing in /root: %v", err)
}

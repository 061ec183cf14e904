package modules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// apt_key without keyring writes /etc/apt/trusted.gpg.d/KEYID.gpg (no
// apt-key: Debian 13 has none); apt_repository adds a local flat
// repository, apt-get update reads it, and a source that breaks apt-get
// update is taken back out.
func TestRemoteAptKeyAndRepository(t *testing.T) {
	rt := remoteRT(t)
	sh(t, `command -v gpg >/dev/null || apt-get -qq install -y gnupg >/dev/null
export GNUPGHOME=/tmp/tpkey; rm -rf $GNUPGHOME; mkdir -m 0700 $GNUPGHOME
gpg --batch --passphrase '' --quick-gen-key 'tpago rt <rt@example.com>' ed25519 sign never 2>/dev/null
gpg --batch --armor --export rt@example.com > /tmp/tpkey.asc`)
	fpr := sh(t, `GNUPGHOME=/tmp/tpkey gpg --batch --with-colons --list-keys rt@example.com | awk -F: '$1 == "fpr" { print $10; exit }'`)
	require.Len(t, fpr, 40)
	dest := "/etc/apt/trusted.gpg.d/" + fpr[24:] + ".gpg"
	t.Cleanup(func() {
		_, _ = shRun("rm -rf /tmp/tpkey /tmp/tpkey.asc /srv/tprepo " + dest + " /etc/apt/sources.list.d/tprepo.list")
	})

	key := sh(t, "cat /tmp/tpkey.asc")
	first := idempotent(t, rt, "apt_key", map[string]any{"data": key, "id": fpr}, func(applied bool) {
		assert.Equal(t, applied, shOK("test -f "+dest))
	})
	assert.Equal(t, []any{dest}, first.Data["keyrings"])
	assert.Contains(t, sh(t, "gpg --show-keys --with-colons "+dest), fpr)
	// Present under any keyring apt reads: not added again.
	res := mustRun(t, rt, "apt_key", map[string]any{"file": "/tmp/tpkey.asc"})
	assert.False(t, res.Changed)

	sh(t, "mkdir -p /srv/tprepo && : > /srv/tprepo/Packages")
	repo := "deb [trusted=yes] file:/srv/tprepo ./"
	idempotent(t, rt, "apt_repository", map[string]any{"repo": repo, "filename": "tprepo"}, func(applied bool) {
		assert.Equal(t, applied, shOK("grep -qxF '"+repo+"' /etc/apt/sources.list.d/tprepo.list"))
	})
	idempotent(t, rt, "apt_repository", map[string]any{"repo": repo, "state": "absent"}, func(applied bool) {
		assert.Equal(t, !applied, shOK("test -f /etc/apt/sources.list.d/tprepo.list"))
	})

	_, err := runMod(t, rt, "apt_repository", map[string]any{"repo": "deb [trusted=yes] file:/nonexistent/tprepo ./", "filename": "tpbroken"})
	require.ErrorContains(t, err, "apt-get update failed, the sources are as they were")
	assert.False(t, shOK("test -e /etc/apt/sources.list.d/tpbroken.list"), "the source that broke apt-get update is gone")

	idempotent(t, rt, "apt_key", map[string]any{"id": fpr[32:], "state": "absent"}, func(applied bool) {
		assert.Equal(t, !applied, shOK("test -f "+dest))
	})
}

// Debian's Python refuses pip outside a virtualenv (PEP 668): the module
// says so and what to do instead.
func TestRemotePipExternallyManaged(t *testing.T) {
	rt := remoteRT(t)
	sh(t, "command -v python3 >/dev/null || apt-get -qq install -y python3 >/dev/null")
	_, err := runMod(t, rt, "pip", map[string]any{"name": "tpagodemo"})
	require.ErrorContains(t, err, "externally-managed-environment")
	require.ErrorContains(t, err, "virtualenv_command: python3 -m venv")
	_, err = runMod(t, with(rt, true, false), "pip", map[string]any{"name": "tpagodemo"})
	require.ErrorContains(t, err, "externally-managed-environment", "check mode says so too")
}

// mount on a real host: a tmpfs mounted, remounted when its entry
// changes, unmounted and removed.
func TestRemoteMount(t *testing.T) {
	// The test host is a container without CAP_SYS_ADMIN: mount(2) is
	// refused there, so this checks the fstab side (present, a changed
	// entry, absent) and that mounting fails with mount's own message.
	rt := remoteRT(t)
	const p = "/mnt/tpago-tmp"
	t.Cleanup(func() { _, _ = shRun("sed -i '\\#" + p + "#d' /etc/fstab; rmdir " + p) })
	fstabBefore := sh(t, "cat /etc/fstab")
	args := map[string]any{"path": p, "src": "tmpfs", "fstype": "tmpfs", "opts": "size=8m", "state": "present"}
	idempotent(t, rt, "mount", args, func(applied bool) {
		assert.Equal(t, applied, shOK("grep -q '^tmpfs "+p+" ' /etc/fstab"))
	})
	assert.Contains(t, sh(t, "cat /etc/fstab"), "tmpfs "+p+" tmpfs size=8m 0 0")

	args["opts"] = "size=16m"
	idempotent(t, rt, "mount", args, nil)
	assert.Contains(t, sh(t, "cat /etc/fstab"), "tmpfs "+p+" tmpfs size=16m 0 0", "a changed entry replaces the old one")

	args["state"] = "mounted"
	_, err := runMod(t, rt, "mount", args)
	require.Error(t, err, "mount(2) needs CAP_SYS_ADMIN, which the test container lacks")
	assert.Contains(t, err.Error(), p)

	idempotent(t, rt, "mount", map[string]any{"path": p, "state": "absent"}, nil)
	assert.Equal(t, fstabBefore, sh(t, "cat /etc/fstab"))
}

// locale_gen takes en_US.UTF-8 and en_US.utf8 (locale -a's spelling) as
// one locale.
func TestRemoteLocaleGen(t *testing.T) {
	rt := remoteRT(t)
	sh(t, `[ -f /etc/locale.gen ] || apt-get -qq install -y locales >/dev/null
sed -i 's/^fr_FR.UTF-8/# fr_FR.UTF-8/' /etc/locale.gen; locale-gen >/dev/null`)
	first := idempotent(t, rt, "locale_gen", map[string]any{"name": "fr_FR.UTF-8"}, func(applied bool) {
		assert.Equal(t, applied, strings.Contains(sh(t, "locale -a"), "fr_FR.utf8"))
	})
	assert.Equal(t, "glibc", first.Data["mechanism"])
	assert.Contains(t, sh(t, "grep '^fr_FR.UTF-8' /etc/locale.gen"), "fr_FR.UTF-8 UTF-8")
	res := mustRun(t, rt, "locale_gen", map[string]any{"name": "fr_FR.utf8"})
	assert.False(t, res.Changed, "fr_FR.utf8 is fr_FR.UTF-8")
	idempotent(t, rt, "locale_gen", map[string]any{"name": "fr_FR.UTF-8", "state": "absent"}, func(applied bool) {
		assert.Equal(t, !applied, strings.Contains(sh(t, "locale -a"), "fr_FR.utf8"))
	})
	_, err := runMod(t, rt, "locale_gen", map[string]any{"name": "xx_NOPE.UTF-8"})
	require.ErrorContains(t, err, "not available on your system")
	_, err = runMod(t, rt, "locale_gen", map[string]any{"name": "C.UTF-8", "state": "absent"})
	require.ErrorContains(t, err, "built into the C library")
}

// pam_limits on the host's own limits.conf.
func TestRemotePamLimits(t *testing.T) {
	rt := remoteRT(t)
	orig := sh(t, "cat /etc/security/limits.conf")
	t.Cleanup(func() { _, _ = shRun("sed -i '/^tpago\\s/d' /etc/security/limits.conf") })
	args := map[string]any{"domain": "tpago", "limit_type": "hard", "limit_item": "nproc", "value": "500", "use_max": true}
	first := idempotent(t, rt, "pam_limits", args, func(applied bool) {
		assert.Equal(t, applied, shOK("grep -qP '^tpago\\thard\\tnproc\\t500$' /etc/security/limits.conf"))
	})
	require.NotEmpty(t, first.Diff)
	assert.Equal(t, orig+"\n", first.Diff[0].Before)
	args["value"] = "100"
	res := mustRun(t, rt, "pam_limits", args)
	assert.False(t, res.Changed, "use_max keeps 500")
}

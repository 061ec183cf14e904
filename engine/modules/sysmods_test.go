package modules

import (
	"archive/zip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/module"
)

// Arguments of the Ansible module that tpago refuses fail at load time,
// saying why and what to write instead.
func TestRefusedArgumentsFailAtLoadTime(t *testing.T) {
	_, spec, ok := module.Lookup("apt_key")
	require.True(t, ok)
	errs := spec.CheckStatic(map[string]any{"keyserver": "keyserver.ubuntu.com", "id": "ABCD1234"})
	require.Len(t, errs, 1)
	assert.Equal(t, "keyserver", errs[0].Key)
	assert.Contains(t, errs[0].Error(), "not supported by tpago's apt_key: keyservers are not used")
	_, err := spec.Normalize(map[string]any{"keyserver": "x", "id": "ABCD1234"})
	require.ErrorContains(t, err, "give the key with url:")

	_, spec, _ = module.Lookup("mount")
	errs = spec.CheckStatic(map[string]any{"path": "/mnt", "state": "ephemeral"})
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), `value "ephemeral" is not one of`)
}

func TestAptSourceParsing(t *testing.T) {
	for _, tc := range []struct{ line, norm, file string }{
		{"deb http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main", "deb http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main", "apt_postgresql_org_pub_repos_apt"},
		{"deb  [ arch=amd64  signed-by=/usr/share/keyrings/x.gpg ]  https://user:pw@dl.example.com/deb/  stable main contrib",
			"deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://user:pw@dl.example.com/deb/ stable main contrib", "dl_example_com_deb"},
		{"deb-src http://deb.debian.org/debian bookworm main", "deb-src http://deb.debian.org/debian bookworm main", "deb_debian_org_debian"},
		{"deb file:/srv/repo ./", "deb file:/srv/repo ./", "file_srv_repo"},
	} {
		s, err := parseAptSource(tc.line)
		require.NoError(t, err, tc.line)
		assert.Equal(t, tc.norm, s.String())
		assert.Equal(t, tc.file, aptSourceFilename(s), tc.line)
	}
	for line, msg := range map[string]string{
		"http://x/ bookworm main":     "starts with deb or deb-src",
		"deb http://x/":               "needs a URI and a suite",
		"deb [arch=amd64 http://x/ a": "no closing ]",
		"deb http://x/ bookworm":      "needs components",
	} {
		_, err := parseAptSource(line)
		require.ErrorContains(t, err, msg, line)
	}
}

func TestAptRepositoryFiles(t *testing.T) {
	root := t.TempDir()
	old := aptSourcesRoot
	aptSourcesRoot = root
	t.Cleanup(func() { aptSourcesRoot = old })
	rt := localRT(t, root)
	list := filepath.Join(root, "sources.list")
	d := filepath.Join(root, "sources.list.d")
	require.NoError(t, os.MkdirAll(d, 0o755))
	main := "deb http://deb.debian.org/debian bookworm main\n# deb http://deb.debian.org/debian bookworm-backports main\n"
	require.NoError(t, os.WriteFile(list, []byte(main), 0o644))
	repo := "deb [signed-by=/usr/share/keyrings/pgdg.gpg] http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main"
	pgdg := filepath.Join(d, "apt_postgresql_org_pub_repos_apt.list")

	first := idempotent(t, rt, "apt_repository", map[string]any{"repo": repo, "update_cache": false}, func(applied bool) {
		assert.Equal(t, applied, exists(pgdg))
	})
	assert.Equal(t, repo+"\n", readFile(t, pgdg))
	assert.Equal(t, os.FileMode(0o644), modeOf(t, pgdg))
	assert.Equal(t, []any{pgdg}, first.Data["sources_added"])
	require.Len(t, first.Diff, 1)
	assert.Equal(t, "", first.Diff[0].Before)
	assert.Equal(t, repo+"\n", first.Diff[0].After)

	// A line already there, even spelled otherwise, is not added again.
	res := mustRun(t, rt, "apt_repository", map[string]any{"repo": "deb  http://deb.debian.org/debian  bookworm main", "update_cache": false})
	assert.False(t, res.Changed)
	// A commented-out line is enabled where it is.
	idempotent(t, rt, "apt_repository", map[string]any{"repo": "deb http://deb.debian.org/debian bookworm-backports main", "update_cache": false}, nil)
	assert.Equal(t, "deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian bookworm-backports main\n", readFile(t, list))

	// filename and mode; .list is not doubled.
	own := filepath.Join(d, "mine.list")
	idempotent(t, rt, "apt_repository", map[string]any{"repo": "deb http://x.example/ stable main", "filename": "mine.list", "mode": "0600", "update_cache": false}, nil)
	assert.Equal(t, os.FileMode(0o600), modeOf(t, own))

	// absent takes the line out of every file; a file left empty goes.
	require.NoError(t, os.WriteFile(filepath.Join(d, "other.list"), []byte("# mine\ndeb http://x.example/ stable main\n"), 0o644))
	res = idempotent(t, rt, "apt_repository", map[string]any{"repo": "deb http://x.example/ stable main", "state": "absent", "update_cache": false}, nil)
	assert.ElementsMatch(t, []any{filepath.Join(d, "other.list"), own}, res.Data["sources_removed"])
	assert.False(t, exists(own))
	assert.Equal(t, "# mine\n", readFile(t, filepath.Join(d, "other.list")))

	_, err := runMod(t, rt, "apt_repository", map[string]any{"repo": "ppa:deadsnakes/ppa"})
	require.ErrorContains(t, err, "PPAs are Ubuntu's")
	_, err = runMod(t, rt, "apt_repository", map[string]any{"repo": "deb http://x/ bookworm"})
	require.ErrorContains(t, err, "needs components")
}

func TestPamLimitsSemantics(t *testing.T) {
	const base = "# /etc/security/limits.conf\n#\n#*               soft    core            0\n@dba hard nofile 4096 # dbas\n"
	for _, tc := range []struct {
		name string
		in   string
		args map[string]any
		want string
	}{
		{"added at the end", base, map[string]any{"domain": "postgres", "limit_type": "soft", "limit_item": "nofile", "value": "65536"},
			base + "postgres\tsoft\tnofile\t65536\n"},
		{"commented-out limits are not limits", base, map[string]any{"domain": "*", "limit_type": "soft", "limit_item": "core", "value": "0"},
			base + "*\tsoft\tcore\t0\n"},
		{"the line is rewritten", base, map[string]any{"domain": "@dba", "limit_type": "hard", "limit_item": "nofile", "value": "8192", "comment": "more"},
			"# /etc/security/limits.conf\n#\n#*               soft    core            0\n@dba\thard\tnofile\t8192\t#more\n"},
		{"same value: kept as written", base, map[string]any{"domain": "@dba", "limit_type": "hard", "limit_item": "nofile", "value": "4096"}, base},
		{"use_max keeps a higher value", base, map[string]any{"domain": "@dba", "limit_type": "hard", "limit_item": "nofile", "value": "1024", "use_max": true}, base},
		{"use_max takes a higher value", base, map[string]any{"domain": "@dba", "limit_type": "hard", "limit_item": "nofile", "value": "unlimited", "use_max": true},
			strings.Replace(base, "@dba hard nofile 4096 # dbas", "@dba\thard\tnofile\tunlimited", 1)},
		{"use_min keeps a lower value", base, map[string]any{"domain": "@dba", "limit_type": "hard", "limit_item": "nofile", "value": "9999", "use_min": true}, base},
		{"use_min: unlimited is highest", "x - nproc unlimited\n", map[string]any{"domain": "x", "limit_type": "-", "limit_item": "nproc", "value": "10", "use_min": true}, "x\t-\tnproc\t10\n"},
		{"other types are other limits", base, map[string]any{"domain": "@dba", "limit_type": "soft", "limit_item": "nofile", "value": "4096"},
			base + "@dba\tsoft\tnofile\t4096\n"},
		{"empty file", "", map[string]any{"domain": "a", "limit_type": "-", "limit_item": "nice", "value": "-5"}, "a\t-\tnice\t-5\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := normalize(t, "pam_limits", tc.args)
			got := pamLimitsEdit(tc.in, a.String("domain"), a.String("limit_type"), a.String("limit_item"), a.String("value"),
				a.String("comment"), a.Bool("use_max"), a.Bool("use_min"))
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPamLimitsOnDisk(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	dest := filepath.Join(dir, "limits.conf")
	require.NoError(t, os.WriteFile(dest, []byte("# limits\n"), 0o644))
	args := map[string]any{"domain": "postgres", "limit_type": "-", "limit_item": "nofile", "value": 65536, "dest": dest, "backup": true}
	first := idempotent(t, rt, "pam_limits", args, func(applied bool) {
		assert.Equal(t, applied, strings.Contains(readFile(t, dest), "postgres\t-\tnofile\t65536\n"))
	})
	require.NotEmpty(t, first.Diff)
	assert.Equal(t, "# limits\n", first.Diff[0].Before)
	assert.NotEmpty(t, first.Data["backup_file"])

	// A new file in an existing folder is made.
	d2 := filepath.Join(dir, "limits.d", "90-pg.conf")
	require.NoError(t, os.MkdirAll(filepath.Dir(d2), 0o755))
	idempotent(t, rt, "pam_limits", map[string]any{"domain": "*", "limit_type": "soft", "limit_item": "core", "value": "unlimited", "dest": d2}, nil)
	assert.Equal(t, "*\tsoft\tcore\tunlimited\n", readFile(t, d2))

	for _, bad := range []struct {
		args map[string]any
		msg  string
	}{
		{map[string]any{"value": "lots"}, "must be a number, unlimited"},
		{map[string]any{"value": "-3"}, "only priority and nice"},
		{map[string]any{"use_max": true, "use_min": true}, "mutually exclusive"},
	} {
		raw := map[string]any{"domain": "x", "limit_type": "soft", "limit_item": "nofile", "value": "1", "dest": dest}
		for k, v := range bad.args {
			raw[k] = v
		}
		_, err := runMod(t, rt, "pam_limits", raw)
		require.ErrorContains(t, err, bad.msg)
	}
}

func TestFstabSemantics(t *testing.T) {
	const base = "# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=abc /               ext4    errors=remount-ro 0       1\n/dev/sdb1  /srv   xfs  defaults\n"
	tmpfs := []string{"tmpfs", "/mnt/tmp", "tmpfs", "size=16m", "0", "0"}
	assert.Equal(t, base+"tmpfs /mnt/tmp tmpfs size=16m 0 0\n", fstabEdit(base, tmpfs, true))
	assert.Equal(t, base, fstabEdit(base, []string{"/dev/sdb1", "/srv", "xfs", "defaults", "0", "0"}, true), "missing dump and pass are 0")
	assert.Equal(t, strings.Replace(base, "/dev/sdb1  /srv   xfs  defaults\n", "/dev/sdb1 /srv xfs noatime 0 2\n", 1),
		fstabEdit(base, []string{"/dev/sdb1", "/srv", "xfs", "noatime", "0", "2"}, true))
	assert.Equal(t, strings.Replace(base, "/dev/sdb1  /srv   xfs  defaults\n", "", 1), fstabEdit(base, []string{"", "/srv", "", "", "", ""}, false))
	assert.Equal(t, base, fstabEdit(base, []string{"", "/nope", "", "", "", ""}, false))
	assert.Equal(t, "a /b c d 0 0\ntmpfs /mnt/tmp tmpfs size=16m 0 0\n", fstabEdit("a /b c d 0 0", tmpfs, true), "a missing final newline is added")
	assert.Equal(t, `/dev/x /mnt/my\040disk`, strings.Join([]string{fstabEscape("/dev/x"), fstabEscape("/mnt/my disk")}, " "))
}

// mount's fstab editing, on a file of its own (state present and absent
// touch no mount here: the path is not mounted).
func TestMountFstabOnDisk(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	fstab := filepath.Join(dir, "fstab")
	orig := "# static file system information\nUUID=1 / ext4 defaults 0 1\n\n  # odd   spacing kept\n"
	require.NoError(t, os.WriteFile(fstab, []byte(orig), 0o644))
	mnt := filepath.Join(dir, "mnt")
	args := map[string]any{"path": mnt, "src": "tmpfs", "fstype": "tmpfs", "opts": "size=8m,mode=0755", "state": "present", "fstab": fstab}
	first := idempotent(t, rt, "mount", args, func(applied bool) {
		assert.Equal(t, applied, strings.Contains(readFile(t, fstab), "tmpfs "+mnt+" tmpfs size=8m,mode=0755 0 0\n"))
	})
	require.NotEmpty(t, first.Diff)
	assert.Equal(t, orig, first.Diff[0].Before)
	assert.True(t, strings.HasPrefix(readFile(t, fstab), orig), "other lines are kept byte for byte")
	assert.False(t, exists(mnt), "present does not make the mount point")

	args["opts"] = "size=16m"
	args["boot"] = false
	idempotent(t, rt, "mount", args, nil)
	assert.Equal(t, orig+"tmpfs "+mnt+" tmpfs size=16m,noauto 0 0\n", readFile(t, fstab))

	require.NoError(t, os.MkdirAll(mnt, 0o755))
	idempotent(t, rt, "mount", map[string]any{"path": mnt + "/", "state": "absent", "fstab": fstab}, func(applied bool) {
		assert.Equal(t, !applied, exists(mnt), "absent removes the empty mount point")
	})
	assert.Equal(t, orig, readFile(t, fstab))

	_, err := runMod(t, rt, "mount", map[string]any{"path": mnt, "state": "mounted", "fstab": fstab})
	require.ErrorContains(t, err, "state=mounted needs src and fstype")
	_, err = runMod(t, rt, "mount", map[string]any{"path": "mnt", "state": "unmounted"})
	require.ErrorContains(t, err, "must be an absolute path")
}

// apt_key on a keyring of the test's own, with a key made for the test.
func TestAptKeyKeyring(t *testing.T) {
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatalf("this test needs gpg: apt-get install gnupg")
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "gnupg")
	require.NoError(t, os.Mkdir(home, 0o700))
	gpg := func(args ...string) string {
		cmd := exec.Command("gpg", append([]string{"--batch", "--homedir", home}, args...)...)
		out, err := cmd.Output()
		require.NoError(t, err, "gpg %v", args)
		return string(out)
	}
	fprOf := func(uid string) string {
		gpg("--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
		for _, l := range strings.Split(gpg("--with-colons", "--list-keys", uid), "\n") {
			if f := strings.Split(l, ":"); f[0] == "fpr" {
				return f[9]
			}
		}
		t.Fatal("no fingerprint")
		return ""
	}
	fpr := fprOf("tpago one <one@example.com>")
	fpr2 := fprOf("tpago two <two@example.com>")
	armored := gpg("--armor", "--export", fpr)
	keyFile := filepath.Join(dir, "two.gpg")
	require.NoError(t, os.WriteFile(keyFile, []byte(gpg("--export", fpr2)), 0o644))

	rt := localRT(t, dir)
	kr := filepath.Join(dir, "trusted.gpg.d", "test.gpg")
	first := idempotent(t, rt, "apt_key", map[string]any{"data": armored, "keyring": kr}, func(applied bool) {
		assert.Equal(t, applied, exists(kr))
	})
	assert.Equal(t, fpr, first.Data["fp"])
	assert.Equal(t, fpr[24:], first.Data["key_id"])
	assert.Equal(t, fpr[32:], first.Data["short_id"])
	assert.Equal(t, os.FileMode(0o644), modeOf(t, kr))
	// With the id, a present key is known without reading the key.
	res := mustRun(t, rt, "apt_key", map[string]any{"id": "0x" + fpr[24:], "url": "http://127.0.0.1:9/unreachable", "keyring": kr})
	assert.False(t, res.Changed)

	// A second key goes into the same keyring, from a binary file.
	idempotent(t, rt, "apt_key", map[string]any{"file": keyFile, "id": fpr2, "keyring": kr}, nil)
	out, err := exec.Command("gpg", "--homedir", home, "--show-keys", "--with-colons", kr).Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), fpr)
	assert.Contains(t, string(out), fpr2)

	_, err = runMod(t, rt, "apt_key", map[string]any{"data": armored, "id": fpr2[32:], "keyring": filepath.Join(dir, "other.gpg")})
	require.ErrorContains(t, err, "does not match id")

	// absent takes one key out and leaves the other; the last one takes
	// the file with it.
	idempotent(t, rt, "apt_key", map[string]any{"id": fpr, "state": "absent", "keyring": kr}, nil)
	out, err = exec.Command("gpg", "--homedir", home, "--show-keys", "--with-colons", kr).Output()
	require.NoError(t, err)
	assert.NotContains(t, string(out), fpr)
	assert.Contains(t, string(out), fpr2)
	idempotent(t, rt, "apt_key", map[string]any{"id": fpr2, "state": "absent", "keyring": kr}, func(applied bool) {
		assert.Equal(t, !applied, exists(kr))
	})

	_, err = runMod(t, rt, "apt_key", map[string]any{"state": "absent", "keyring": kr})
	require.ErrorContains(t, err, "id is required with state=absent")
	_, err = runMod(t, rt, "apt_key", map[string]any{"data": "not a key", "keyring": kr})
	require.ErrorContains(t, err, "holds no OpenPGP public key")
}

// writeWheel writes a minimal pure-Python wheel of name at version.
func writeWheel(t *testing.T, dir, name, version string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-py3-none-any.whl", name, version)))
	require.NoError(t, err)
	z := zip.NewWriter(f)
	info := fmt.Sprintf("%s-%s.dist-info", name, version)
	files := map[string]string{
		name + "/__init__.py": fmt.Sprintf("VERSION = %q\n", version),
		info + "/METADATA":    fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version),
		info + "/WHEEL":       "Wheel-Version: 1.0\nGenerator: tpago-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
	}
	var record strings.Builder
	for _, p := range []string{name + "/__init__.py", info + "/METADATA", info + "/WHEEL"} {
		w, err := z.Create(p)
		require.NoError(t, err)
		_, err = w.Write([]byte(files[p]))
		require.NoError(t, err)
		record.WriteString(p + ",,\n")
	}
	record.WriteString(info + "/RECORD,,\n")
	w, err := z.Create(info + "/RECORD")
	require.NoError(t, err)
	_, err = w.Write([]byte(record.String()))
	require.NoError(t, err)
	require.NoError(t, z.Close())
	require.NoError(t, f.Close())
}

// pip into a virtualenv of the test's own, from a folder of wheels the
// test makes (no network).
func TestPipVirtualenv(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a virtualenv (seconds): runs without -short")
	}
	if err := exec.Command("python3", "-m", "venv", "--help").Run(); err != nil {
		t.Fatalf("this test needs python3 with venv: apt-get install python3-venv")
	}
	dir := t.TempDir()
	wheels := filepath.Join(dir, "wheels")
	require.NoError(t, os.Mkdir(wheels, 0o755))
	writeWheel(t, wheels, "tpagodemo", "1.0")
	writeWheel(t, wheels, "tpagodemo", "2.0")
	writeWheel(t, wheels, "tpago_other", "0.1")
	rt := localRT(t, dir)
	venv := filepath.Join(dir, "venv")
	extra := "--no-index --find-links " + wheels
	version := func() string {
		out, err := exec.Command(filepath.Join(venv, "bin", "python"), "-c", "import tpagodemo; print(tpagodemo.VERSION)").Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	first := idempotent(t, rt, "pip", map[string]any{"name": []any{"tpagodemo<2", "tpago-other"}, "virtualenv": venv,
		"virtualenv_command": "python3 -m venv", "extra_args": extra}, func(applied bool) {
		if applied {
			assert.Equal(t, "1.0", version())
		} else {
			assert.Equal(t, "", version())
		}
	})
	assert.Contains(t, first.Data["cmd"], "install")
	require.NotEmpty(t, first.Diff)

	// A specifier the installed version meets is no change; one it does
	// not meet is.
	res := mustRun(t, rt, "pip", map[string]any{"name": "tpagodemo>=1.0", "virtualenv": venv, "extra_args": extra})
	assert.False(t, res.Changed)
	idempotent(t, rt, "pip", map[string]any{"name": "tpagodemo", "version": "2.0", "virtualenv": venv, "extra_args": extra}, nil)
	assert.Equal(t, "2.0", version())
	res = mustRun(t, rt, "pip", map[string]any{"name": "tpagodemo", "state": "latest", "virtualenv": venv, "extra_args": extra})
	assert.False(t, res.Changed, "2.0 is the latest")
	res = mustRun(t, rt, "pip", map[string]any{"name": "tpagodemo", "state": "forcereinstall", "virtualenv": venv, "extra_args": extra})
	assert.True(t, res.Changed)

	req := filepath.Join(dir, "requirements.txt")
	require.NoError(t, os.WriteFile(req, []byte("tpagodemo==1.0\n"), 0o644))
	idempotent(t, rt, "pip", map[string]any{"requirements": "requirements.txt", "chdir": dir, "virtualenv": venv, "extra_args": extra}, nil)
	assert.Equal(t, "1.0", version())

	idempotent(t, rt, "pip", map[string]any{"name": []any{"tpagodemo", "TPAGO_other"}, "state": "absent", "virtualenv": venv}, func(applied bool) {
		assert.Equal(t, applied, version() == "")
	})

	_, err := runMod(t, rt, "pip", map[string]any{"name": "tpagodemo", "virtualenv": filepath.Join(dir, "v2"), "virtualenv_command": "no-such-virtualenv"})
	require.ErrorContains(t, err, "no-such-virtualenv not found")
	_, err = runMod(t, rt, "pip", map[string]any{"name": "nothing-here", "virtualenv": venv, "extra_args": extra})
	require.ErrorContains(t, err, "pip install failed")
	_, err = runMod(t, rt, "pip", map[string]any{"name": []any{"a", "b"}, "version": "1"})
	require.ErrorContains(t, err, "version is for one package")
}

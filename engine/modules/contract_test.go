package modules

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
)

// contractCase is how the contract test exercises one mutating module on
// the real host: setup brings the host to a state where args make a change.
type contractCase struct {
	setup string
	args  func(local string) map[string]any
	// diff: the module shows a diff of what it would change.
	diff bool
}

const ctUnit = "[Unit]\nDescription=tpago contract test\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"

// contractCases has one case per mutating module. A module added to the
// registry without a case here fails TestEveryMutatingModuleKeepsTheCheckContract.
var contractCases = map[string]contractCase{
	"apt": {setup: `apt-get -y purge hello >/dev/null 2>&1; [ -n "$(ls /var/lib/apt/lists | grep -v -e lock -e partial)" ] || apt-get -qq update`,
		args: func(string) map[string]any { return map[string]any{"name": "hello", "install_recommends": false} }},
	"package": {setup: `apt-get -y purge hello >/dev/null 2>&1; true`, diff: true,
		args: func(string) map[string]any { return map[string]any{"name": "hello"} }},
	"authorized_key": {setup: `id ctkey >/dev/null 2>&1 || useradd -m ctkey; rm -rf /home/ctkey/.ssh`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"user": "ctkey", "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0m0S7bq4hTq0Y2f3N6Yt4j4K8sS9x0m3vR1pQ2w5Zt ct@contract"}
		}},
	"blockinfile": {setup: `printf 'a\n' > /tmp/ct/block`, diff: true,
		args: func(string) map[string]any { return map[string]any{"path": "/tmp/ct/block", "block": "b\nc"} }},
	"command": {setup: `rm -f /tmp/ct/cmd`,
		args: func(string) map[string]any {
			return map[string]any{"cmd": "touch /tmp/ct/cmd", "creates": "/tmp/ct/cmd"}
		}},
	"shell": {setup: `rm -f /tmp/ct/shell`,
		args: func(string) map[string]any {
			return map[string]any{"cmd": "echo x > /tmp/ct/shell", "creates": "/tmp/ct/shell"}
		}},
	"copy": {setup: `rm -f /tmp/ct/copy`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"content": "secret\n", "dest": "/tmp/ct/copy", "mode": "0600"}
		}},
	"template": {setup: `rm -f /tmp/ct/tpl`, diff: true,
		args: func(string) map[string]any { return map[string]any{"src": "ct.j2", "dest": "/tmp/ct/tpl"} }},
	"fetch": {setup: `printf 'fetched\n' > /tmp/ct/fetchsrc`,
		args: func(local string) map[string]any { return map[string]any{"src": "/tmp/ct/fetchsrc", "dest": local} }},
	"file": {setup: `rm -rf /tmp/ct/dir`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"path": "/tmp/ct/dir/sub", "state": "directory", "mode": "0750"}
		}},
	"group": {setup: `groupdel ctgrp 2>/dev/null; true`,
		args: func(string) map[string]any { return map[string]any{"name": "ctgrp"} }},
	"user": {setup: `userdel -r ctuser 2>/dev/null; true`,
		args: func(string) map[string]any { return map[string]any{"name": "ctuser", "shell": "/bin/sh"} }},
	"hostname": {setup: `hostname ct-before && echo ct-before > /etc/hostname`,
		args: func(string) map[string]any { return map[string]any{"name": "ct-after"} }},
	"lineinfile": {setup: `printf 'a\n' > /tmp/ct/line`, diff: true,
		args: func(string) map[string]any { return map[string]any{"path": "/tmp/ct/line", "line": "x=1"} }},
	"replace": {setup: `printf 'a=1\n' > /tmp/ct/repl`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"path": "/tmp/ct/repl", "regexp": "a=1", "replace": "a=2"}
		}},
	"service": {setup: ctUnitSetup,
		args: func(string) map[string]any { return map[string]any{"name": "tpago-ct", "state": "started"} }},
	"systemd": {setup: ctUnitSetup,
		args: func(string) map[string]any {
			return map[string]any{"name": "tpago-ct", "enabled": true, "daemon_reload": true}
		}},
	"apt_repository": {setup: `rm -f /etc/apt/sources.list.d/ct_repo.list`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"repo": "deb [trusted=yes] file:/tmp/ct/repo ./", "filename": "ct_repo", "update_cache": false}
		}},
	"apt_key": {setup: ctAptKeySetup,
		args: func(string) map[string]any {
			return map[string]any{"file": "/tmp/ct/key.asc", "keyring": "/etc/apt/trusted.gpg.d/ct.gpg"}
		}},
	"pip": {setup: ctPipSetup, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"name": "tpagoct==1.0", "virtualenv": "/tmp/ct/venv", "virtualenv_command": "python3 -m venv",
				"extra_args": "--no-index --no-cache-dir --find-links /tmp/ct/wheels"}
		}},
	"mount": {setup: `umount /tmp/ct/mnt 2>/dev/null; sed -i '\#/tmp/ct/mnt#d' /etc/fstab; rmdir /tmp/ct/mnt 2>/dev/null`, diff: true,
		args: func(string) map[string]any {
			// present: the test host is a container without CAP_SYS_ADMIN,
			// where mount(2) is refused; the fstab side is what is checked.
			return map[string]any{"path": "/tmp/ct/mnt", "src": "tmpfs", "fstype": "tmpfs", "opts": "size=8m", "state": "present"}
		}},
	"locale_gen": {setup: `[ -f /etc/locale.gen ] || apt-get -qq install -y locales >/dev/null; sed -i 's/^de_CH.UTF-8/# de_CH.UTF-8/' /etc/locale.gen; locale-gen >/dev/null`,
		args: func(string) map[string]any { return map[string]any{"name": "de_CH.UTF-8"} }},
	"pam_limits": {setup: `rm -f /etc/security/limits.d/ct.conf`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"dest": "/etc/security/limits.d/ct.conf", "domain": "ct", "limit_type": "soft", "limit_item": "nofile", "value": 1234}
		}},
	"sysctl": {setup: `rm -f /etc/sysctl.d/92-ct.conf; sysctl -qw net.ipv4.ip_local_port_range="32768 60999"`,
		args: func(string) map[string]any {
			return map[string]any{"name": "net.ipv4.ip_local_port_range", "value": "21000 61000",
				"sysctl_file": "/etc/sysctl.d/92-ct.conf", "sysctl_set": true, "ignoreerrors": true}
		}},
	"get_url": {setup: ctHTTPSetup + `; rm -f /tmp/ct/got`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"url": ctURL + "/file.txt", "dest": "/tmp/ct/got", "mode": "0640"}
		}},
	"uri": {setup: ctHTTPSetup + `; rm -f /tmp/ct/uri`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"url": ctURL + "/file.txt", "dest": "/tmp/ct/uri"}
		}},
	"unarchive": {setup: ctHTTPSetup + `; rm -rf /tmp/ct/unarc; mkdir -p /tmp/ct/unarc`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"src": "/srv/ct/app.tar.gz", "remote_src": true, "dest": "/tmp/ct/unarc"}
		}},
	"cron": {setup: ctCronSetup + `; crontab -r 2>/dev/null`, diff: true,
		args: func(string) map[string]any {
			return map[string]any{"name": "tpago contract", "minute": "*/5", "job": "/bin/true"}
		}},
	// The postgresql_* cases need a running Postgres on the host: ctPgSetup
	// installs and starts Debian's cluster once.
	"postgresql_user": {setup: ctPgSetup + ctPsql("DROP ROLE IF EXISTS ctuser_pg"), diff: true,
		args: func(string) map[string]any {
			return ctPg(map[string]any{"name": "ctuser_pg", "password": "ct secret", "role_attr_flags": "CREATEDB"})
		}},
	"postgresql_db": {setup: ctPgSetup + ctPsql("DROP DATABASE IF EXISTS ctdb"), diff: true,
		args: func(string) map[string]any { return ctPg(map[string]any{"name": "ctdb"}) }},
	"postgresql_schema": {setup: ctPgSetup + ctPsql("DROP SCHEMA IF EXISTS ctschema"), diff: true,
		args: func(string) map[string]any { return ctPg(map[string]any{"name": "ctschema"}) }},
	"postgresql_ext": {setup: ctPgSetup + ctPsql("DROP EXTENSION IF EXISTS hstore"), diff: true,
		args: func(string) map[string]any { return ctPg(map[string]any{"name": "hstore", "db": "postgres"}) }},
	"postgresql_slot": {setup: ctPgSetup + ctPsql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'ctslot'"), diff: true,
		args: func(string) map[string]any { return ctPg(map[string]any{"name": "ctslot"}) }},
	"postgresql_set": {setup: ctPgSetup + ctPsql("ALTER SYSTEM RESET work_mem") + ctPsql("SELECT pg_reload_conf()"), diff: true,
		args: func(string) map[string]any { return ctPg(map[string]any{"name": "work_mem", "value": "12MB"}) }},
	"postgresql_privs": {setup: ctPgSetup + ctPsql("DROP ROLE IF EXISTS ctreader") + ctPsql("CREATE ROLE ctreader"), diff: true,
		args: func(string) map[string]any {
			return ctPg(map[string]any{"database": "postgres", "type": "database", "privs": "CONNECT", "roles": "ctreader"})
		}},
	"postgresql_query": {setup: ctPgSetup + ctPsql("DROP TABLE IF EXISTS ctq") + ctPsql("CREATE TABLE ctq (a int)"),
		args: func(string) map[string]any {
			return ctPg(map[string]any{"db": "postgres", "query": "INSERT INTO ctq SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM ctq)"})
		}},
}

// ctPgSetup installs Debian's Postgres and starts its cluster (once).
const ctPgSetup = `command -v pg_lsclusters >/dev/null 2>&1 || apt-get -qq install -y postgresql >/dev/null 2>&1 || { apt-get -qq update && apt-get -qq install -y postgresql >/dev/null; }
pg_lsclusters -h | grep -q online || pg_ctlcluster $(pg_lsclusters -h | awk 'NR==1{print $1, $2}') start
runuser -u postgres -- psql -XAtq -c "ALTER ROLE postgres PASSWORD 'ct-postgres'" >/dev/null
`

// ctPsql runs SQL as postgres on the contract host (a setup step).
func ctPsql(sql string) string {
	return "runuser -u postgres -- psql -XAtq -c " + conn.Quote(sql) + " >/dev/null\n"
}

// ctPg adds the connection of the contract host's cluster: the tasks run
// as root there, so they log in over TCP with the password set by setup.
func ctPg(a map[string]any) map[string]any {
	a["login_host"] = "127.0.0.1"
	a["login_password"] = "ct-postgres"
	return a
}

// ctAptKeySetup makes a key for apt_key on the host (gpg's home under
// /tmp/ct: root's stays untouched).
const ctAptKeySetup = `command -v gpg >/dev/null || apt-get -qq install -y gnupg >/dev/null
rm -f /etc/apt/trusted.gpg.d/ct.gpg
export GNUPGHOME=/tmp/ct/gnupg; rm -rf "$GNUPGHOME"; mkdir -m 0700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key 'tpago ct <ct@example.com>' ed25519 sign never 2>/dev/null
gpg --batch --armor --export ct@example.com > /tmp/ct/key.asc`

// ctPipSetup makes a wheel for pip on the host: a folder of wheels stands
// in for PyPI.
const ctPipSetup = `python3 -c 'import ensurepip' 2>/dev/null || { apt-get -qq update; apt-get -qq install -y python3-venv >/dev/null; }
rm -rf /tmp/ct/venv /tmp/ct/wheels /tmp/ct/whl && mkdir -p /tmp/ct/wheels /tmp/ct/whl/tpagoct /tmp/ct/whl/tpagoct-1.0.dist-info
cd /tmp/ct/whl && echo 'X = 1' > tpagoct/__init__.py
printf 'Metadata-Version: 2.1\nName: tpagoct\nVersion: 1.0\n' > tpagoct-1.0.dist-info/METADATA
printf 'Wheel-Version: 1.0\nGenerator: ct\nRoot-Is-Purelib: true\nTag: py3-none-any\n' > tpagoct-1.0.dist-info/WHEEL
printf 'tpagoct/__init__.py,,\ntpagoct-1.0.dist-info/METADATA,,\ntpagoct-1.0.dist-info/WHEEL,,\ntpagoct-1.0.dist-info/RECORD,,\n' > tpagoct-1.0.dist-info/RECORD
python3 -m zipfile -c /tmp/ct/wheels/tpagoct-1.0-py3-none-any.whl tpagoct tpagoct-1.0.dist-info`

var ctUnitSetup = `printf '%s' '` + ctUnit + `' > /etc/systemd/system/tpago-ct.service
systemctl stop tpago-ct 2>/dev/null; systemctl disable tpago-ct 2>/dev/null; systemctl daemon-reload`

// ctURL is the HTTP server ctHTTPSetup starts on the test host, serving
// /srv/ct (file.txt and app.tar.gz, which holds file.txt).
const ctURL = "http://127.0.0.1:8765"

const ctHTTPSetup = `mkdir -p /srv/ct && printf 'downloaded\n' > /srv/ct/file.txt && tar -czf /srv/ct/app.tar.gz -C /srv/ct file.txt
if ! { [ -f /srv/ct.pid ] && kill -0 "$(cat /srv/ct.pid)" 2>/dev/null; }; then
  (cd /srv/ct && setsid python3 -m http.server 8765 --bind 127.0.0.1 </dev/null >/dev/null 2>&1 & echo $! > /srv/ct.pid)
fi
for i in $(seq 100); do python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8765/file.txt")' 2>/dev/null && break; sleep 0.1; done`

// ctCronSetup installs cron (for crontab) when the host lacks it.
const ctCronSetup = `command -v crontab >/dev/null || { apt-get -qq update; DEBIAN_FRONTEND=noninteractive apt-get -y -qq install cron; } >/tmp/ct/cron-setup.log 2>&1 || cat /tmp/ct/cron-setup.log`

// hostState is what the contract compares before and after check mode:
// files (mode, owner, size, mtime) where the cases write, plus the states
// that are not files.
const hostState = `find /etc /root /home /tmp/ct /usr/lib/systemd/system -xdev -path /etc/mtab -prune -o -printf '%p %m %u %g %s %T@\n' 2>/dev/null | sort
echo "hostname: $(hostname)"
echo "port range: $(sysctl -n net.ipv4.ip_local_port_range)"
echo "tpago-ct: $(systemctl is-active tpago-ct 2>&1) $(systemctl is-enabled tpago-ct 2>&1)"
echo "root's crontab: $(crontab -l 2>/dev/null | md5sum)"
echo "packages: $(dpkg-query -W -f '${Package} ${Status}\n' | md5sum)"`

// Every mutating module, taken from the registry, keeps check mode's
// contract on a real host: check mode predicts the change (with a diff
// where it has one) and changes nothing, the real run changes, the next
// run changes nothing, and check mode then agrees.
func TestEveryMutatingModuleKeepsTheCheckContract(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real Debian host (Docker, minutes): runs without -short")
	}
	rt := remoteRT(t)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "templates"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "templates", "ct.j2"), []byte("hello {{ who }}\n"), 0o644))
	rt.Find = func(kind, name string) (string, error) { return filepath.Join(dir, kind, name), nil }
	origHost := sh(t, "hostname")
	t.Cleanup(func() {
		_, _ = shRun("hostname " + origHost + " && echo " + origHost + " > /etc/hostname; systemctl stop tpago-ct; systemctl disable tpago-ct; rm -f /etc/systemd/system/tpago-ct.service /etc/sysctl.d/92-ct.conf; umount /tmp/ct/mnt; sed -i '\\#/tmp/ct/mnt#d' /etc/fstab; rm -f /etc/apt/sources.list.d/ct_repo.list /etc/apt/trusted.gpg.d/ct.gpg /etc/security/limits.d/ct.conf; userdel -r ctuser; userdel -r ctkey; groupdel ctgrp; rm -rf /tmp/ct; crontab -r; [ -f /srv/ct.pid ] && kill $(cat /srv/ct.pid); rm -rf /srv/ct /srv/ct.pid")
	})
	seen := map[string]bool{}
	var names []string
	for _, n := range module.Names() {
		_, spec, _ := module.Lookup(n)
		if spec.Check == module.CheckReadOnly || seen[spec.Name] {
			continue
		}
		seen[spec.Name] = true
		names = append(names, spec.Name)
	}
	sort.Strings(names)
	require.NotEmpty(t, names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			tc, ok := contractCases[name]
			require.True(t, ok, "module %s changes hosts but has no case in contractCases: add one", name)
			local := filepath.Join(dir, "local-"+name)
			require.NoError(t, os.MkdirAll(local, 0o755))
			// Setup may update apt's lists: minutes on a busy machine.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			out, err := testHost.Run(ctx, "mkdir -p /tmp/ct; "+strings.TrimRight(tc.setup, "\n")+"; true")
			cancel()
			require.NoError(t, err, "setup of %s", name)
			require.Equal(t, 0, out.RC, "setup of %s: %s%s", name, out.Stdout, out.Stderr)
			state := func() string {
				var b strings.Builder
				b.WriteString(sh(t, hostState))
				_ = filepath.Walk(local, func(p string, fi os.FileInfo, err error) error {
					if err == nil {
						b.WriteString("\nlocal " + p + " " + fi.Mode().String())
					}
					return nil
				})
				return b.String()
			}
			args := tc.args(local)

			before := state()
			res := mustRun(t, with(rt, true, true), name, args)
			// command and shell cannot predict: in check mode they are
			// skipped, as Ansible's ("Command would have run…").
			assert.True(t, res.Changed || res.Skipped, "check mode should predict a change")
			if tc.diff {
				assert.NotEmpty(t, res.Diff, "check mode with --diff should show the change")
			}
			assert.Equal(t, before, state(), "check mode changed the host")

			res = mustRun(t, with(rt, false, true), name, args)
			assert.True(t, res.Changed, "the real run should change")
			res = mustRun(t, rt, name, args)
			assert.False(t, res.Changed, "the second run should change nothing")

			after := state()
			res = mustRun(t, with(rt, true, true), name, args)
			assert.False(t, res.Changed, "check mode after the run should predict nothing")
			assert.Empty(t, res.Diff)
			assert.Equal(t, after, state(), "check mode changed the host")
		})
	}
}

// Package ansible runs roles written the way public roles are written
// (testdata/roles: include_vars with with_first_found, per-OS task files,
// templates with ansible_managed, handlers, meta, with_items/with_dict,
// FQCN module names, the community.postgresql modules…) with tpago play on
// one Debian 12 host and with ansible-playbook on another, and compares
// what they leave on the hosts: files, packages, services, crontabs,
// accounts, kernel settings and Postgres objects.
//
// The fixtures write their mappings in sorted key order: tpago walks a
// mapping (with_dict, .items() in a template) in key order, Ansible in the
// order of the file. That difference is known and left; with keys in
// another order the comparison shows it.
//
// It needs Docker and ansible-playbook with the collections of Debian's
// ansible package (community.general, community.postgresql, ansible.posix);
// `sh scripts/setup.sh` installs both. Under -short it is skipped.
package ansible

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/internal/clitest"
	"github.com/tpago/tpago/internal/testenv"
	"github.com/tpago/tpago/internal/testenv/need"
)

// managed are the paths the roles write: content (files) or only mode and
// owner (folders, and files others write too), as "path" or "stat:path".
var managed = []string{
	// common
	"/etc/gitconfig", "/etc/sudoers.d/ops", "/etc/profile.d/aliases.sh", "stat:/srv/repos",
	"/etc/motd", "stat:/home/deploy/.ssh", "stat:/home/backup/.ssh", "stat:/var/spool/cron/crontabs/deploy",
	// timesync
	"/etc/chrony/chrony.conf", "/etc/default/chrony",
	// hardening
	"/etc/sysctl.d/90-hardening.conf", "/etc/security/limits.d/90-hardening.conf", "/etc/login.defs",
	"/etc/modprobe.d/hardening.conf", "/etc/issue.net", "/etc/profile.d/99-hardening.sh",
	"/etc/crontab", "stat:/etc/cron.d", "stat:/etc/cron.daily", "stat:/etc/shadow", "/etc/ssh/sshd_config",
	// postgresql
	"/etc/postgresql/15/main/conf.d/50-tuning.conf", "/etc/postgresql/15/main/postgresql.conf",
	"/etc/postgresql/15/main/pg_hba.conf", "/var/lib/postgresql/15/main/postgresql.auto.conf",
	// pgbouncer
	"/etc/pgbouncer/pgbouncer.ini", "/etc/pgbouncer/userlist.txt", "stat:/var/log/postgresql",
}

var (
	services     = []string{"chrony", "postgresql", "postgresql@15-main", "pgbouncer", "ssh", "cron"}
	crontabUsers = []string{"root", "deploy", "backup"}
	sysctlKeys   = []string{"net.ipv4.tcp_syncookies", "kernel.kptr_restrict", "fs.suid_dumpable"}
)

// pgQueries list the Postgres objects the postgresql role makes. Password
// hashes are salted: only their kind is compared.
var pgQueries = []struct{ db, sql string }{
	{"postgres", `select rolname, rolsuper, rolcanlogin, rolcreatedb, rolconnlimit, left(rolpassword, 14) from pg_authid where rolname !~ '^pg_' order by 1`},
	{"postgres", `select datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype, datacl from pg_database order by 1`},
	{"postgres", `select name, setting, unit from pg_settings where name in ('work_mem', 'maintenance_work_mem', 'log_min_duration_statement', 'shared_buffers', 'max_connections', 'listen_addresses', 'log_line_prefix') order by 1`},
	{"appdb", `select extname, extversion from pg_extension order by 1`},
	{"appdb", `select nspname, nspacl from pg_namespace where nspname = 'public'`},
	{"appdb", `select pg_get_userbyid(defaclrole), defaclnamespace, defaclobjtype, defaclacl from pg_default_acl order by 1, 3`},
}

// ignoredPackages are installed by Ansible itself, not by the roles: its
// apt and package_facts modules install python3-apt (and what it depends
// on) when it is missing.
var ignoredPackages = regexp.MustCompile(`^(python3-apt|python-apt-common|distro-info-data)\s`)

// normalise removes what differs by design between the two tools: the
// ansible_managed line (Ansible's default is "Ansible managed", tpago's
// names tpago).
func normalise(s string) string {
	return strings.ReplaceAll(s, "Ansible managed", "tpago managed")
}

func TestPublicStyleRolesLikeAnsible(t *testing.T) {
	need.Require(t, need.Docker)
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Fatal("ansible-playbook is missing: run `sh scripts/setup.sh` (as root); it installs Debian's ansible package with the collections these roles use")
	}
	start := time.Now()
	bin := clitest.Binary(t)
	// Every file loads and checks before any host is contacted.
	clitest.Must(t, "validate", filepath.Join("testdata", "site.yml"), "-i", filepath.Join("testdata", "inventory.yml"))
	env := testenv.Cluster(t, "compare", 2)
	t.Logf("hosts ready in %s", time.Since(start).Round(time.Second))

	dir := t.TempDir()
	playbook, err := filepath.Abs(filepath.Join("testdata", "site.yml"))
	require.NoError(t, err)
	// Both inventories name the host "target": templates see the same
	// inventory_hostname on either host.
	invA := writeFile(t, dir, "tpago.yml", fmt.Sprintf(`all:
  hosts:
    target:
      ansible_host: %s
      ansible_user: root
      ansible_ssh_private_key_file: %s
      ansible_ssh_known_hosts_file: %s
`, env.Hosts[0].Addr, env.KeyFile, env.KnownHosts))
	invB := writeFile(t, dir, "ansible.yml", fmt.Sprintf(`all:
  hosts:
    target:
      ansible_host: %s
      ansible_user: root
      ansible_ssh_private_key_file: %s
`, env.Hosts[1].Addr, env.KeyFile))
	cfg := writeFile(t, dir, "ansible.cfg", `[defaults]
forks = 5
host_key_checking = False
interpreter_python = /usr/bin/python3
retry_files_enabled = False
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=/dev/null
`)
	tpagoCmd := func() *exec.Cmd {
		c := exec.Command(bin, "play", playbook, "-i", invA)
		c.Env = append(os.Environ(), "NO_COLOR=1")
		return c
	}
	ansibleCmd := func() *exec.Cmd {
		c := exec.Command("ansible-playbook", "-i", invB, playbook)
		c.Dir = dir
		c.Env = append(os.Environ(), "ANSIBLE_CONFIG="+cfg, "ANSIBLE_HOST_KEY_CHECKING=False", "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0")
		return c
	}

	// The two hosts are independent: each tool runs on its own at once.
	for round := 1; round <= 2; round++ {
		results := runBoth(tpagoCmd(), ansibleCmd())
		for _, r := range results {
			t.Logf("round %d: %s: exit %d in %s", round, r.name, r.code, r.took.Round(100*time.Millisecond))
			recap := r.out[max(0, strings.LastIndex(r.out, "PLAY RECAP")):]
			switch {
			case r.code != 0:
				t.Errorf("round %d: %s failed (exit %d):\n%s", round, r.name, r.code, r.out)
			case round == 2 && !regexp.MustCompile(`\bchanged=0\b`).MatchString(recap):
				t.Errorf("%s: the second run changed something:\n%s", r.name, changedTasks(r.out))
			case testing.Verbose():
				t.Logf("%s, run %d:\n%s", r.name, round, r.out)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}

	a := hostState(t, env, 0)
	b := hostState(t, env, 1)
	for _, section := range sortedKeys(a) {
		if a[section] == b[section] {
			continue
		}
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(b[section]), B: difflib.SplitLines(a[section]),
			FromFile: "ansible-playbook", ToFile: "tpago play", Context: 2,
		})
		t.Errorf("%s differs between the host of ansible-playbook and the host of tpago play:\n%s", section, diff)
	}
	t.Logf("the tier took %s", time.Since(start).Round(time.Second))
}

type result struct {
	name string
	out  string
	code int
	took time.Duration
}

func runBoth(cmds ...*exec.Cmd) []result {
	results := make([]result, len(cmds))
	var wg sync.WaitGroup
	for i, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			c.Stdout, c.Stderr = &out, &out
			begin := time.Now()
			err := c.Run()
			code := 0
			if err != nil {
				code = -1
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else {
					out.WriteString(err.Error())
				}
			}
			name := filepath.Base(c.Path)
			if len(c.Args) > 1 && c.Args[1] == "play" {
				name = "tpago play"
			}
			results[i] = result{name: name, out: out.String(), code: code, took: time.Since(begin)}
		}()
	}
	wg.Wait()
	return results
}

// changedTasks picks the tasks that reported changed out of a run's output
// (both tools print "TASK [role : name]" then "changed: [host]").
func changedTasks(out string) string {
	var b strings.Builder
	task := ""
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "TASK ") || strings.HasPrefix(l, "RUNNING HANDLER "):
			task = l
		case strings.HasPrefix(strings.TrimSpace(l), "changed:"):
			fmt.Fprintf(&b, "%s\n  %s\n", task, strings.TrimSpace(l))
		}
	}
	if b.Len() == 0 {
		return out
	}
	return b.String()
}

// hostState reads what the roles manage on host i, one text per section.
func hostState(t *testing.T, env *testenv.Env, i int) map[string]string {
	t.Helper()
	sh := &conn.Shell{Conn: env.Dial(t, i), LoginUser: "root"}
	run := func(script string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := sh.Run(ctx, script)
		require.NoError(t, err, script)
		return string(out.Stdout) + string(out.Stderr)
	}
	s := map[string]string{}
	for _, p := range managed {
		path, statOnly := strings.CutPrefix(p, "stat:")
		q := conn.Quote(path)
		script := "stat -c '%n %F mode=%a owner=%U:%G' " + q + " 2>&1"
		if !statOnly {
			script += "; echo ---; cat " + q + " 2>&1"
		}
		s["file "+path] = normalise(run(script))
	}
	var pk []string
	for _, l := range strings.SplitAfter(run(`dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\n'`), "\n") {
		if !ignoredPackages.MatchString(l) {
			pk = append(pk, l)
		}
	}
	s["packages (dpkg-query -W)"] = strings.Join(pk, "")
	var b strings.Builder
	for _, u := range services {
		q := conn.Quote(u)
		fmt.Fprintf(&b, "%s enabled=%s active=%s\n", u,
			strings.TrimSpace(run("systemctl is-enabled "+q+" 2>&1")), strings.TrimSpace(run("systemctl is-active "+q+" 2>&1")))
	}
	s["services (systemctl is-enabled, is-active)"] = b.String()
	for _, u := range crontabUsers {
		s["crontab of "+u] = run("crontab -l -u " + conn.Quote(u) + " 2>&1")
	}
	s["accounts (getent passwd)"] = run("getent passwd")
	s["groups (getent group)"] = run("getent group")
	s["sysctl"] = run("sysctl " + strings.Join(sysctlKeys, " ") + " 2>&1")
	for _, q := range pgQueries {
		s["postgres "+q.db+": "+q.sql] = run("cd / && runuser -u postgres -- psql -X -At -d " + conn.Quote(q.db) + " -c " + conn.Quote(q.sql) + " 2>&1")
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

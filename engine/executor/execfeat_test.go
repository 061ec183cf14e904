package executor_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/validate"
)

// validateClean checks that a playbook validates without a finding.
func validateClean(t *testing.T, site, inventory string, extra map[string]any) {
	t.Helper()
	data, err := os.ReadFile(site)
	require.NoError(t, err)
	v := validate.Playbook(&playbook.Loader{}, site, data, validate.Options{Inventory: loadInventory(t, inventory), ExtraVars: extra})
	for _, f := range v.Findings {
		t.Errorf("validate: %s:%d: %s (%s)", f.File, f.Line, f.Reason, f.Hint)
	}
}

// A role shaped like the public geerlingguy.* roles validates clean and
// runs: include_vars with with_first_found reads vars/Debian.yml (above the
// role's vars/main.yml), the Red Hat task file with yum is skipped.
func TestPerOSRoleWithIncludeVars(t *testing.T) {
	out := t.TempDir()
	extra := map[string]any{"out": out}
	validateClean(t, "testdata/osrole/site.yml", "testdata/osrole/inventory.yml", extra)
	if b, err := os.ReadFile("/etc/debian_version"); err != nil || len(b) == 0 {
		t.Fatal("this test runs the role on the local machine, which must be Debian (it reads vars/Debian.yml)")
	}
	r := runPlaybook(t, loadInventory(t, "testdata/osrole/inventory.yml"), "testdata/osrole/site.yml", executor.Options{ExtraVars: extra})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.Equal(t, "hello /etc/web from-include-vars 8080\n", read(t, filepath.Join(out, "web.txt")))
	assert.NotContains(t, r.out, "yum")
}

// writePlay writes a one-play playbook on a local host and returns its
// path and the inventory's.
func writePlay(t *testing.T, dir, tasks string) (string, string) {
	t.Helper()
	inv := writeFile(t, dir, "inventory.yml", "all:\n  hosts:\n    h1:\n      ansible_connection: local\n")
	site := writeFile(t, dir, "site.yml", "- hosts: all\n  gather_facts: false\n  tasks:\n"+tasks)
	return site, inv
}

func TestIncludeVarsFileDirAndName(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "vars/one.yml", "a: 1\nb: from-one\n")
	writeFile(t, dir, "conf/10-base.yml", "x: base\ny: base\n")
	writeFile(t, dir, "conf/20-over.yaml", "y: over\n")
	writeFile(t, dir, "conf/README.md", "not vars\n")
	writeFile(t, dir, "conf/sub/30-deep.json", `{"z": "deep"}`)
	site, inv := writePlay(t, dir, `    - include_vars: one.yml
      register: inc
    - include_vars:
        dir: conf
        ignore_unknown_extensions: true
        name: conf
    - include_vars:
        dir: conf
        depth: 1
        files_matching: '^[0-9]'
        ignore_files: ['20-over.yaml']
    - set_fact:
        b: from-set-fact
    - include_vars: one.yml
    - copy:
        content: "{{ a }} {{ b }} {{ conf.x }} {{ conf.y }} {{ conf.z }} {{ y }} {{ z | default('none') }} {{ inc.ansible_included_var_files | length }}\n"
        dest: "{{ out }}/r.txt"
`)
	out := t.TempDir()
	validateClean(t, site, inv, map[string]any{"out": out})
	r := runPlaybook(t, loadInventory(t, inv), site, executor.Options{ExtraVars: map[string]any{"out": out}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	// set_fact is above include_vars, as in Ansible.
	assert.Equal(t, "1 from-set-fact base over deep base none 1\n", read(t, filepath.Join(out, "r.txt")))
}

// A vars file's values are templates, rendered where they are used (public
// roles' vars/Debian.yml name packages "postgresql-{{ postgresql_version }}").
func TestIncludeVarsValuesAreTemplates(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "vars/Debian.yml", "pkgs: ['postgresql-{{ version }}', client]\nconf_dir: /etc/postgresql/{{ version }}/main\n")
	site, inv := writePlay(t, dir, `    - include_vars: Debian.yml
    - include_vars: {file: Debian.yml, name: os}
    - set_fact:
        version: 16
    - copy:
        content: "{{ pkgs | join(' ') }} {{ conf_dir }} {{ os.pkgs[0] }}\n"
        dest: "{{ out }}/r.txt"
`)
	out := t.TempDir()
	r := runPlaybook(t, loadInventory(t, inv), site, executor.Options{ExtraVars: map[string]any{"out": out}})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	assert.Equal(t, "postgresql-16 client /etc/postgresql/16/main postgresql-16\n", read(t, filepath.Join(out, "r.txt")))
}

func TestIncludeVarsRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "vars/list.yml", "- a\n- b\n")
	writeFile(t, dir, "vars/badname.yml", "not-a-name: 1\n")
	writeFile(t, dir, "conf/x.txt", "x\n")
	for _, tc := range []struct{ task, want string }{
		{"include_vars: list.yml", "a vars file holds a mapping of variables, not a list"},
		{"include_vars: badname.yml", `is not a variable name`},
		{"include_vars: missing.yml", "could not find missing.yml"},
		{"include_vars: {dir: conf}", "not one of the extensions yaml, yml, json"},
	} {
		site, inv := writePlay(t, dir, "    - "+tc.task+"\n")
		r := runPlaybook(t, loadInventory(t, inv), site, executor.Options{})
		assert.Equal(t, 2, r.res.ExitCode(), r.out)
		assert.Contains(t, r.out, tc.want)
	}
}

func TestSetupAndPackageFacts(t *testing.T) {
	dir := t.TempDir()
	site, inv := writePlay(t, dir, `    - setup:
        filter: ['ansible_distribution*', 'ansible_date_time']
      register: s
    - assert:
        that:
          - ansible_distribution != ''
          - ansible_facts.distribution_major_version != ''
          - ansible_date_time.year | int > 2000
          - s.ansible_facts.ansible_date_time.epoch != ''
          - "'ansible_hostname' not in s.ansible_facts"
    - setup:
    - assert:
        that:
          - ansible_env.PATH != ''
          - ansible_mounts | length >= 0
          - ansible_interfaces | length > 0
          - ansible_uptime_seconds > 0
          - ansible_processor_cores > 0
          - ansible_facts.pkg_mgr != ''
          - ansible_distribution_file_variety == ansible_os_family
          - ansible_facts.distribution_file_variety != ''
    - package_facts:
    - assert:
        that:
          - "'dpkg' in ansible_facts.packages"
          - packages['dpkg'][0].source == 'apt'
          - packages['dpkg'][0].version != ''
`)
	validateClean(t, site, inv, nil)
	r := runPlaybook(t, loadInventory(t, inv), site, executor.Options{})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	// Read-only: they run in check mode too.
	r = runPlaybook(t, loadInventory(t, inv), site, executor.Options{Check: true})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
}

func TestAsyncForegroundTimeLimit(t *testing.T) {
	dir := t.TempDir()
	site, inv := writePlay(t, dir, `    - command: sleep 5
      async: 1
      poll: 2
`)
	r := runPlaybook(t, loadInventory(t, inv), site, executor.Options{})
	assert.Equal(t, 2, r.res.ExitCode(), r.out)
	assert.Contains(t, r.out, "async task did not complete within the requested time - 1s")
}

func TestAsyncBackgroundJob(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	site, inv := writePlay(t, dir, `    - shell: sleep 1; echo done; echo oops >&2
      async: 30
      poll: 0
      register: job
      environment: {HOME: "`+home+`"}
    - assert:
        that: [job.started, not job.finished, job is started, job is not finished, job.ansible_job_id != '']
    - async_status:
        jid: "{{ job.ansible_job_id }}"
      register: st
      until: st.finished
      retries: 20
      delay: 1
      environment: {HOME: "`+home+`"}
    - assert:
        that: [st.rc == 0, st.stdout == 'done', st.stderr == 'oops']
    - async_status:
        jid: "{{ job.ansible_job_id }}"
        mode: cleanup
      environment: {HOME: "`+home+`"}
    - shell: exit 3
      async: 30
      poll: 0
      register: bad
      environment: {HOME: "`+home+`"}
    - async_status:
        jid: "{{ bad.ansible_job_id }}"
      register: bst
      until: bst.finished
      retries: 20
      delay: 1
      ignore_errors: true
      environment: {HOME: "`+home+`"}
    - assert:
        that: [bst.rc == 3, bst.failed]
`)
	validateClean(t, site, inv, nil)
	r := runPlaybook(t, loadInventory(t, inv), site, executor.Options{})
	require.Equal(t, 0, r.res.ExitCode(), r.out)
	ents, err := os.ReadDir(filepath.Join(home, ".ansible_async"))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "cleanup removed the first job's folder, the second stays")
	// In check mode the command is not run; async_status then says so.
	r = runPlaybook(t, loadInventory(t, inv), site, executor.Options{Check: true})
	assert.NotContains(t, r.out, "could not find job", r.out)
}

func TestOtherOSModuleFailsWhenRun(t *testing.T) {
	dir := t.TempDir()
	inv := writeFile(t, dir, "inventory.yml", "all:\n  hosts:\n    h1:\n      ansible_connection: local\n")
	site := writeFile(t, dir, "site.yml", `- hosts: all
  tasks:
    - yum: name=httpd state=present
      when: ansible_os_family == 'RedHat'
    - win_service: name=spooler state=stopped
      when: ansible_os_family == 'Windows'
    - dnf:
        name: httpd
`)
	validateClean(t, site, inv, nil)
	r := runPlaybook(t, loadInventory(t, inv), site, executor.Options{})
	assert.Equal(t, 2, r.res.ExitCode(), r.out)
	assert.Contains(t, r.out, "dnf is for Red Hat family hosts; this host is Debian: use apt:")
	assert.Equal(t, 2, strings.Count(r.out, "skipping"), r.out)
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/architectures/m1"
	"github.com/tpago/tpago/docs"
)

func TestValidateExamplesAreClean(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"playbook", []string{"validate", "../../examples/site.yml", "-i", "../../examples/inventory.yml"}},
		{"role", []string{"validate", "../../examples/roles/motd"}},
		{"cluster directory", []string{"validate", "../../examples/cluster"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := authorCLI(t, tc.args...)
			assert.Equal(t, 0, code, out)
			assert.Contains(t, out, "ok, no problem found")
		})
	}
}

// copyDir copies a folder with cp -r (test set-up only).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	out, err := exec.Command("cp", "-r", from, to).CombinedOutput()
	require.NoError(t, err, string(out))
}

func TestValidateClusterFindsHookProblems(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	copyTree(t, "../../examples/cluster", dir)
	require.NoError(t, os.Rename(filepath.Join(dir, "hooks", "pre-deploy.yml"), filepath.Join(dir, "hooks", "predeploy.yml")))
	hook := filepath.Join(dir, "hooks", "post-deploy.yml")
	require.NoError(t, os.WriteFile(hook, []byte("- name: say\n  debug:\n    msg: \"{{ postgres_prot }}\"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hooks", "README.md"), []byte("notes, not a hook\n"), 0o644))

	out, code := authorCLI(t, "validate", dir, "--json")
	require.Equal(t, 2, code, out)
	var rep struct {
		OK       bool
		Findings []struct {
			File, Reason, Hint string
			Line, Col          int
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.False(t, rep.OK)
	require.Len(t, rep.Findings, 2, out)
	f := rep.Findings[0]
	assert.Equal(t, hook, f.File)
	assert.Equal(t, []int{3, 14}, []int{f.Line, f.Col})
	assert.Contains(t, f.Reason, `undefined variable "postgres_prot"`)
	assert.Contains(t, f.Hint, "did you mean postgres_port?")
	f = rep.Findings[1]
	assert.Equal(t, filepath.Join(dir, "hooks", "predeploy.yml"), f.File)
	assert.Contains(t, f.Reason, "is not a hook the deploy runs")
	assert.Equal(t, "did you mean hooks/pre-deploy.yml?", f.Hint)
}

func TestValidateBadConfig(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte("architecture: M1\ncluster_name: x\ninstances: 3\n"), 0o644))
	out, code := authorCLI(t, "validate", dir)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, filepath.Join(dir, "config.yml")+":3:")
}

func TestValidateBadPlaybookExitsTwo(t *testing.T) {
	pb := "../../engine/validate/testdata/undefined_when.yml"
	out, code := authorCLI(t, "validate", pb)
	assert.Equal(t, 2, code)
	abs, err := filepath.Abs(pb)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, abs+":8:13: undefined variable \"pg_prot\""), out)
	assert.Contains(t, out, "1 problem found (no host was contacted)")

	// -e defines it.
	out, code = authorCLI(t, "validate", pb, "-e", "pg_prot=1")
	assert.Equal(t, 0, code, out)
}

// validate DIR checks the cluster's own status and switchover playbooks
// too, as the commands that run them would read them.
func TestValidateClusterChecksItsOwnOperationPlaybooks(t *testing.T) {
	for _, name := range []string{"status.yml", "switchover.yml"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			copyTree(t, "../../examples/cluster", dir)
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("- hosts: all\n  tasks:\n    - debug:\n        msg: \"{{ candidate }} {{ nosuchvar }}\"\n"), 0o644))
			out, code := authorCLI(t, "validate", dir)
			require.Equal(t, 2, code, out)
			assert.Contains(t, out, name+":4:")
			assert.Contains(t, out, `undefined variable "nosuchvar"`)
			if name == "switchover.yml" {
				assert.NotContains(t, out, `"candidate"`, "tpago switchover gives the candidate")
			}
		})
	}
}

// A config.yml variable that nothing reads is a warning (exit 0), an
// error with --strict; what configure writes is all read.
func TestValidateWarnsOfSettingsThatDoNothing(t *testing.T) {
	for _, fm := range []string{"repmgr", "patroni", "efm"} {
		dir := filepath.Join(t.TempDir(), fm)
		out, code := authorCLI(t, "configure", dir, "-a", "M1", "--platform", "docker", "--postgresql", "15", "--failover-manager", fm, "--no-git")
		require.Equal(t, 0, code, out)
		out, code = authorCLI(t, "validate", dir, "--strict")
		require.Equal(t, 0, code, out)
		assert.NotContains(t, out, "warning", "configure writes only settings that something reads")
	}
	// Current TPA's layout, with its log server.
	for _, fm := range []string{"repmgr", "patroni"} {
		dir := filepath.Join(t.TempDir(), "dnpl-"+fm)
		out, code := authorCLI(t, "configure", dir, "-a", "M1", "--platform", "docker", "--postgresql", "15", "--failover-manager", fm,
			"--data-nodes-per-location", "2", "--location-names", "main,dr", "--no-git")
		require.Equal(t, 0, code, out)
		out, code = authorCLI(t, "validate", dir, "--strict")
		require.Equal(t, 0, code, out)
		assert.NotContains(t, out, "warning", "configure writes only settings that something reads")
	}

	dir := filepath.Join(t.TempDir(), "c")
	copyTree(t, "../../examples/cluster", dir)
	cfg := filepath.Join(dir, "config.yml")
	data, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, []byte(strings.Replace(string(data), "cluster_vars:\n", "cluster_vars:\n  postgres_conf_setings: {}\n", 1)), 0o644))
	out, code := authorCLI(t, "validate", dir)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, `warning: cluster_vars: no playbook or role reads "postgres_conf_setings", so it does nothing; did you mean postgres_conf_settings?`)
	assert.Contains(t, out, "ok, no problem found, 1 warning")
	out, code = authorCLI(t, "validate", dir, "--strict")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "1 problem found")
}

// TPA's pass-through and backup settings are read by the built-in roles,
// so validate does not call them unread in config.yml.
func TestTPASettingsAreRead(t *testing.T) {
	names, err := m1.BuiltinReads()
	require.NoError(t, err)
	for _, n := range []string{"repmgr_conf_settings", "patroni_conf_settings", "efm_conf_settings", "barman_conf_settings",
		"barman_backup_interval", "barman_retention_policy", "barman_last_backup_maximum_age"} {
		assert.True(t, names[n], n)
	}
}

// docs/coming-from-tpa.md calls a TPA variable supported when
// m1.BuiltinReads has it: tpago validate agrees, on a configured cluster
// that sets every variable of the page.
func TestValidateAgreesWithComingFromTPA(t *testing.T) {
	groups, err := docs.TPAKeys()
	require.NoError(t, err)
	read, err := m1.BuiltinReads()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "c")
	out, code := authorCLI(t, "configure", dir, "-a", "M1", "--platform", "docker", "--postgresql", "15", "--failover-manager", "repmgr", "--no-git")
	require.Equal(t, 0, code, out)
	values := map[string]string{"postgres_version": "15", "postgres_port": "5432", "postgres_flavour": "postgresql",
		"patroni_package_flavour": "community", "patroni_dcs": "etcd", "failover_manager": "repmgr"}
	var vars strings.Builder
	var names []string
	ignored := 0
	for _, g := range groups {
		for _, k := range g.Keys {
			names = append(names, regexp.QuoteMeta(k.Key))
			v, ok := values[k.Key]
			if !ok {
				v = "null"
			}
			fmt.Fprintf(&vars, "  %s: %s\n", k.Key, v)
			if !read[k.Key] {
				ignored++
			}
		}
	}
	cfg := filepath.Join(dir, "config.yml")
	data, err := os.ReadFile(cfg)
	require.NoError(t, err)
	// What configure wrote of them goes: each key once.
	own := regexp.MustCompile(`(?m)^  (` + strings.Join(names, "|") + `):.*\n(    .*\n|  - .*\n)*`)
	text := own.ReplaceAllString(string(data), "")
	text = strings.Replace(text, "cluster_vars:\n", "cluster_vars:\n"+vars.String(), 1)
	require.NoError(t, os.WriteFile(cfg, []byte(text), 0o644))
	out, code = authorCLI(t, "validate", dir)
	require.Equal(t, 0, code, out)
	for _, g := range groups {
		for _, k := range g.Keys {
			warning := fmt.Sprintf("no playbook or role reads %q", k.Key)
			if read[k.Key] {
				assert.NotContains(t, out, warning)
			} else {
				assert.Contains(t, out, warning)
			}
		}
	}
	assert.Contains(t, out, fmt.Sprintf("%d warnings", ignored))
}

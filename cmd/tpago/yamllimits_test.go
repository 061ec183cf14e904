package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// laughs is a small "billion laughs" under key, indented by indent: six
// levels of nine aliases, half a million values from a few hundred bytes
// (big enough to be refused, small enough not to hurt if it were not).
func laughs(key, indent string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s:\n%s  l0: &l0 [lol]\n", indent, key, indent)
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&b, "%s  l%d: &l%d [%s]\n", indent, i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), ", "))
	}
	return b.String()
}

// Every YAML tpago reads bounds its aliases: config.yml, playbooks,
// inventories, --overrides-from.
func TestAliasBombsAreRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	cluster := filepath.Join(dir, "cluster")
	write("cluster/config.yml", "architecture: M1\ncluster_name: c\n"+laughs("cluster_vars", "")+
		"instances:\n- Name: one\n  node: 1\n  role: [primary]\n")
	play := write("site.yml", "- hosts: all\n"+laughs("vars", "  ")+"  tasks: []\n")
	inv := write("inventory.yml", "all:\n  hosts:\n    h1:\n"+laughs("vars", "  "))
	good := write("good.yml", "- hosts: all\n  tasks: []\n")
	overrides := write("overrides.yml", laughs("postgres_conf", ""))

	tests := []struct {
		name string
		args []string
		at   string
	}{
		{"config.yml", []string{"validate", cluster}, "config.yml:"},
		{"play vars", []string{"validate", play}, "site.yml:"},
		{"inventory vars", []string{"validate", good, "-i", inv}, "inventory.yml:"},
		{"--overrides-from", []string{"configure", filepath.Join(dir, "new"), "-a", "M1", "--postgresql", "15", "--enable-repmgr", "--platform", "docker", "--overrides-from", overrides}, "overrides.yml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, err := runCLI(t, tt.args...)
			if err != nil {
				out += err.Error() // main prints it
			}
			assert.Equal(t, 2, code, out)
			assert.Contains(t, out, tt.at)
			assert.Contains(t, out, "YAML aliases expand to more than")
		})
	}
}

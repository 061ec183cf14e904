package inventory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpandHostRange(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"web1", []string{"web1"}, ""},
		{"web[1:3]", []string{"web1", "web2", "web3"}, ""},
		{"web[01:03].example.com", []string{"web01.example.com", "web02.example.com", "web03.example.com"}, ""},
		{"web[08:10]", []string{"web08", "web09", "web10"}, ""},
		{"db-[a:c]", []string{"db-a", "db-b", "db-c"}, ""},
		{"n[0:10:5]", []string{"n0", "n5", "n10"}, ""},
		{"r[1:2]-[a:b]", []string{"r1-a", "r1-b", "r2-a", "r2-b"}, ""},
		{"web[3:1]", nil, "is not a range from a smaller number to a larger one"},
		{"web[1:3", nil, "'[' without ']'"},
		{"web[1]", nil, "a range is [start:end] or [start:end:step]"},
		{"web[1:3:0]", nil, "the step \"0\" is not a positive whole number"},
		{"web[aa:bb]", nil, "neither a range of numbers nor of single letters"},
		{"web[0:99999999]", nil, "more than 100000 hosts"},
		{"a[0:999]b[0:999]", nil, "more than 100000 hosts"},
	}
	for _, tt := range tests {
		got, err := ExpandHostRange(tt.in)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func writeInventory(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inventory.yml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func TestLoadExpandsHostRanges(t *testing.T) {
	inv, err := Load(writeInventory(t, "all:\n  children:\n    web:\n      hosts:\n        web[01:03]:\n          port: 8080\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"web01", "web02", "web03"}, inv.Order)
	hosts, err := inv.Match("web")
	require.NoError(t, err)
	assert.Equal(t, []string{"web01", "web02", "web03"}, hosts)
	assert.EqualValues(t, 8080, inv.HostVars("web02")["port"])
	inv.Hosts["web01"].Vars["port"] = 1
	assert.EqualValues(t, 8080, inv.HostVars("web02")["port"], "each host has its own variables")
}

func TestLoadRefusesGroupCycle(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"two groups", "all:\n  children:\n    a:\n      children:\n        b:\n    b:\n      children:\n        a:\n", "groups make a cycle: a → b → a"},
		{"three groups", "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            c:\n    c:\n      children:\n        a:\n", "groups make a cycle: a → b → c → a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeInventory(t, tt.text))
			require.ErrorContains(t, err, tt.want)
		})
	}
}

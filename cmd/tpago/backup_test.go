package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/cluster"
)

func TestBackupTargets(t *testing.T) {
	cfg := &cluster.Config{Instances: []cluster.Instance{
		{Name: "teal", Role: []string{"primary"}, Backup: "fox"},
		{Name: "oak", Role: []string{"replica"}},
		{Name: "fox", Role: []string{"barman"}},
	}}
	for _, tc := range []struct {
		name, only string
		cfg        *cluster.Config
		want       []backupTarget
		err        string
	}{
		{name: "every backed-up server", cfg: cfg, want: []backupTarget{{Server: "teal", Barman: "fox"}}},
		{name: "one server", cfg: cfg, only: "teal", want: []backupTarget{{Server: "teal", Barman: "fox"}}},
		{name: "a server without backup", cfg: cfg, only: "oak", err: `no instance "oak" with a backup: host`},
		{name: "no Barman at all", cfg: &cluster.Config{Instances: []cluster.Instance{{Name: "a"}}}, err: "no instance has a backup: host"},
		{name: "backup names no instance", cfg: &cluster.Config{Instances: []cluster.Instance{{Name: "a", Backup: "nowhere"}}},
			err: "instance a has backup: nowhere, which is not an instance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := backupTargets(tc.cfg, tc.only)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCompareSums(t *testing.T) {
	primary := parseSums("postgres\tpublic.a\t3 abc\npostgres\tpublic.b\t0 -\napp\tpublic.c\t1 fff\n")
	require.Len(t, primary, 3)
	for _, tc := range []struct {
		name     string
		restored string
		same     bool
		says     string
	}{
		{"identical", "postgres\tpublic.a\t3 abc\npostgres\tpublic.b\t0 -\napp\tpublic.c\t1 fff\n", true, "3 tables, row counts and checksums match"},
		{"a changed row", "postgres\tpublic.a\t3 abd\npostgres\tpublic.b\t0 -\napp\tpublic.c\t1 fff\n", false, "DIFFERENT"},
		{"a missing table", "postgres\tpublic.a\t3 abc\npostgres\tpublic.b\t0 -\n", false, "missing from the restored copy"},
		{"an extra table", "postgres\tpublic.a\t3 abc\npostgres\tpublic.b\t0 -\napp\tpublic.c\t1 fff\napp\tpublic.d\t0 -\n", false, "only in the restored copy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			assert.Equal(t, tc.same, compareSums(&out, primary, parseSums(tc.restored)))
			assert.Contains(t, out.String(), tc.says)
		})
	}
}

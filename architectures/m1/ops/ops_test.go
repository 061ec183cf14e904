package ops

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/platforms"
	_ "github.com/tpago/tpago/platforms/bare"
	_ "github.com/tpago/tpago/platforms/docker"
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
		want       []BackupTarget
		err        string
	}{
		{name: "every backed-up server", cfg: cfg, want: []BackupTarget{{Server: "teal", Barman: "fox"}}},
		{name: "one server", cfg: cfg, only: "teal", want: []BackupTarget{{Server: "teal", Barman: "fox"}}},
		{name: "a server without backup", cfg: cfg, only: "oak", err: `no instance "oak" with a backup: host`},
		{name: "no Barman at all", cfg: &cluster.Config{Instances: []cluster.Instance{{Name: "a"}}}, err: "no instance has a backup: host"},
		{name: "backup names no instance", cfg: &cluster.Config{Instances: []cluster.Instance{{Name: "a", Backup: "nowhere"}}},
			err: "instance a has backup: nowhere, which is not an instance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BackupTargets(tc.cfg, tc.only)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
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

// recordingRunner answers every script with exit 0 and remembers them.
type recordingRunner struct {
	mu    sync.Mutex
	calls []string
}

func (r *recordingRunner) Run(_ context.Context, host, user, script string) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, host+" "+user+": "+script)
	return Result{}, nil
}

// loadCluster reads one of m1's configure goldens as a cluster directory.
func loadCluster(t *testing.T, golden string) *Cluster {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "testdata", golden))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yml"), data, 0o644))
	cfg, err := cluster.LoadConfig(filepath.Join(dir, "config.yml"))
	require.NoError(t, err)
	inv, err := cluster.FromConfig(cfg, dir)
	require.NoError(t, err)
	return &Cluster{Dir: dir, Config: cfg, Inventory: inv, Out: &strings.Builder{}}
}

// The platform-only steps are asked of the platform through its
// capabilities: a platform without them is refused with exit status 2 and
// a message that names it, before any host is asked anything.
func TestPlatformOnlyStepsAreRefusedWithoutTheCapability(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   func(context.Context, *Cluster) error
		says string
	}{
		{"restore-test", func(ctx context.Context, c *Cluster) error { return RestoreTest(ctx, c, RestoreTestOptions{}) },
			"restore-test makes a scratch host to restore on: the bare platform cannot (coyote is on it)"},
		{"failover drill", func(ctx context.Context, c *Cluster) error { _, err := FailoverDrill(ctx, c); return err },
			"the failover checks cut the primary's power: the bare platform cannot (pine is on it)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadCluster(t, "bare-repmgr-n3.golden")
			r := &recordingRunner{}
			c.Runner = r
			err := tc.op(context.Background(), c)
			require.Error(t, err)
			assert.Equal(t, exitcode.BadInput, exitcode.Of(err), "%v", err)
			assert.Contains(t, err.Error(), tc.says)
			assert.Empty(t, r.calls, "no host is asked anything")
		})
	}
}

// The capabilities are found on the platform's provisioner by type
// assertion: docker has both.
func TestDockerHasTheCapabilities(t *testing.T) {
	p, ok := platforms.Lookup("docker")
	require.True(t, ok)
	assert.Implements(t, (*platforms.PowerSwitch)(nil), p)
	assert.Implements(t, (*platforms.ScratchHoster)(nil), p)
	b, ok := platforms.Lookup("bare")
	require.True(t, ok)
	_, isPower := b.(platforms.PowerSwitch)
	_, isScratch := b.(platforms.ScratchHoster)
	assert.False(t, isPower || isScratch, "bare hosts cannot be powered off or made")
}

func TestPostgresUnit(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]any
		want string
	}{
		{nil, "postgresql@15-main"},
		{map[string]any{"postgres_version": "16"}, "postgresql@16-main"},
		{map[string]any{"postgres_version": 13}, "postgresql@13-main"},
	} {
		assert.Equal(t, tc.want, PostgresUnit(&cluster.Config{ClusterVars: tc.vars}))
	}
}

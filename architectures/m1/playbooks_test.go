package m1

import (
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/cluster"
	_ "github.com/tpago/tpago/engine/modules" // the built-in modules
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/validate"
	"github.com/tpago/tpago/roles"
)

// The deploy, test, status and switchover playbooks, with the built-in roles, load and pass the
// validator for every repmgr layout configure writes: no unknown module or
// argument, no undefined variable, no missing role or template. (aws
// addresses are only known after provisioning.)
func TestPlaybooksValidateForEveryRepmgrLayout(t *testing.T) {
	tests := []struct {
		golden  string
		witness bool
	}{
		{"docker-repmgr-n0.golden", true},
		{"docker-repmgr-n2.golden", true},
		{"bare-repmgr-n3.golden", false},
		// Current TPA's layout: a log server, Barman beside the primary.
		{"docker-repmgr-dnpl3.golden", false},
		{"docker-repmgr-dnpl2-two-locations.golden", true},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			cfg, err := cluster.LoadConfig(filepath.Join("testdata", tt.golden))
			require.NoError(t, err)
			inv, err := cluster.FromConfig(cfg, t.TempDir())
			require.NoError(t, err)
			if tt.witness {
				require.NotEmpty(t, inv.Groups["witness"].Hosts, "an even number of Postgres nodes has a witness")
			} else if g, ok := inv.Groups["witness"]; ok {
				require.Empty(t, g.Hosts)
			}
			for _, pb := range []string{"deploy.yml", "test.yml", "status.yml", "switchover.yml"} {
				data, err := fs.ReadFile(Playbooks, pb)
				require.NoError(t, err)
				ld := &playbook.Loader{BuiltinRoles: roles.FS, PlaybookFS: Playbooks}
				// tpago switchover gives the candidate as an extra variable.
				extra := map[string]any{"candidate": "a-replica"}
				res := validate.Playbook(ld, pb, data, validate.Options{Inventory: inv, ExtraVars: extra})
				for _, f := range res.Findings {
					t.Errorf("%s: %s:%d:%d: %s (%s)", pb, f.File, f.Line, f.Col, f.Reason, f.Hint)
				}
				assert.NotNil(t, res.Playbook, pb)
			}
		})
	}
}

// deploy.yml runs the roles M1 needs, in order.
func TestDeployRunsTheRolesInOrder(t *testing.T) {
	data, err := fs.ReadFile(Playbooks, "deploy.yml")
	require.NoError(t, err)
	ld := &playbook.Loader{BuiltinRoles: roles.FS, PlaybookFS: Playbooks}
	pb, err := ld.LoadPlaybookData("deploy.yml", data)
	require.NoError(t, err)
	var got []string
	for _, p := range pb.Plays {
		for _, r := range p.AllRoles {
			got = append(got, r.Name)
		}
	}
	for _, want := range [][2]string{{"init", "system"}, {"system", "postgres"}, {"postgres", "repmgr"}, {"repmgr", "barman"},
		// The log server gathers the logs of what deploys after it.
		{"system", "log_server"}, {"log_server", "postgres"}} {
		a, b := roleIndex(got, want[0]), roleIndex(got, want[1])
		require.GreaterOrEqual(t, a, 0, "deploy.yml does not run role %s (runs %v)", want[0], got)
		require.GreaterOrEqual(t, b, 0, "deploy.yml does not run role %s (runs %v)", want[1], got)
		assert.Less(t, a, b, "role %s must run before %s (runs %v)", want[0], want[1], got)
	}
}

func roleIndex(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

package m1

import (
	"fmt"
	"io/fs"
	"path"

	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/validate"
	"github.com/tpago/tpago/roles"
)

// Operations are the playbooks that run over a cluster's inventory:
// deploy.yml first, then those of `tpago test`, `status` and `switchover`.
// `tpago validate DIR` checks them all, and the variables they read (with
// the playbooks they import and the roles they use) are what config.yml
// can set.
var Operations = []string{"deploy.yml", "test.yml", "status.yml", "switchover.yml", "upgrade.yml"}

// BuiltinReads are the variables that the M1 playbooks (Operations) and
// the built-in roles read, or that the roles' defaults and vars define. In
// a cluster directory without playbooks, hooks or roles of its own, a
// variable of config.yml outside this set does nothing, and `tpago
// validate` warns of it (cluster.Config.UnreadVars).
func BuiltinReads() (map[string]bool, error) {
	names := roles.BuiltinVarNames()
	for _, name := range Operations {
		data, err := fs.ReadFile(Playbooks, name)
		if err != nil {
			return nil, err
		}
		ld := &playbook.Loader{BuiltinRoles: roles.FS, PlaybookFS: Playbooks}
		res := validate.Playbook(ld, path.Join("m1", name), data, validate.Options{})
		if res.Playbook == nil {
			return nil, fmt.Errorf("m1: %s does not load: %v", name, res.Findings)
		}
		for _, n := range res.Used {
			names[n] = true
		}
	}
	return names, nil
}

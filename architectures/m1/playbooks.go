package m1

import (
	"embed"
	"io/fs"
)

// Playbooks holds the M1 playbooks: deploy.yml (builds the cluster with the
// built-in roles), test.yml (checks it with the real clients), status.yml
// (gathers what `tpago status` shows) and switchover.yml (run by `tpago
// switchover` on the candidate), upgrade.yml (run by `tpago upgrade` on
// one node at a time), and the Patroni ones.
//
//go:embed deploy.yml test.yml patroni.yml patroni-test.yml status.yml switchover.yml upgrade.yml
var Playbooks embed.FS

// mustPlaybook returns an embedded playbook; a missing one is a build
// mistake.
func mustPlaybook(name string) []byte {
	data, err := fs.ReadFile(Playbooks, name)
	if err != nil {
		panic("m1: " + err.Error())
	}
	return data
}

package m1

import "embed"

// Playbooks holds the M1 playbooks: deploy.yml (builds the cluster with the
// built-in roles) and test.yml (checks it with the real clients).
//
//go:embed deploy.yml test.yml patroni.yml patroni-test.yml
var Playbooks embed.FS

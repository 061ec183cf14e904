// Package roles holds tpago's built-in roles (YAML tasks, handlers,
// defaults, templates, files and meta), embedded in the binary.
//
// The roles are written in the part of Ansible's language that both
// ansible-playbook and tpago's engine read the same way, so that the same
// deploy can be run and compared with either.
package roles

import "embed"

// FS holds every built-in role as <role>/<tasks|defaults|templates|meta>/...
// at its root, e.g. "postgres/tasks/main.yml". Go files are not included.
//
//go:embed common hook init system postgres postgres_objects repmgr barman etcd patroni haproxy efm fence pgbouncer log_server package_hold
var FS embed.FS

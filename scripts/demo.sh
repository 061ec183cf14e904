#!/bin/sh
# Sets up a fresh Debian 12 machine (as root), builds tpago, then
# configures, provisions, deploys and tests a demo M1 cluster (repmgr and
# Barman, PostgreSQL 15) on local Docker.
#
#   sh scripts/demo.sh [CLUSTER_DIR]      (default: ~/clusters/demo)
#
# Remove the cluster afterwards with: bin/tpago deprovision CLUSTER_DIR --yes
set -eu
cd "$(dirname "$0")/.."
. scripts/setup.sh
export PATH="/usr/local/go/bin:$PATH"
go build -o bin/tpago ./cmd/tpago
dir=${1:-$HOME/clusters/demo}
if [ ! -f "$dir/config.yml" ]; then
	bin/tpago configure "$dir" --architecture M1 --platform docker \
		--postgresql 15 --failover-manager repmgr
fi
bin/tpago provision "$dir"
bin/tpago deploy "$dir"
bin/tpago test "$dir"
bin/tpago status "$dir" || true
cat <<EOT

The demo cluster is running. Connect with psql:
  bin/tpago cmd $dir primary --become-user postgres "psql -c 'select version()'"
  PGPASSWORD=\$(bin/tpago show-password $dir postgres) psql "THE CONNECTION STRING ABOVE" -U postgres   # from this machine, with a psql client
Try also:
  bin/tpago cmd $dir primary --become-user postgres 'repmgr -f /etc/repmgr.conf cluster show'
  bin/tpago deploy $dir --check --diff
  bin/tpago deprovision $dir --yes
EOT

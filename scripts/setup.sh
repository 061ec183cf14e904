#!/bin/sh
# Installs and starts what tpago and its tests need on a Debian 12 machine,
# as root: Go (when missing), the Docker engine, debootstrap. Idempotent.
set -eu

export PATH="/usr/local/go/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

need=""
command -v dockerd >/dev/null 2>&1 || need="$need docker.io"
command -v debootstrap >/dev/null 2>&1 || need="$need debootstrap"
command -v ansible-playbook >/dev/null 2>&1 || need="$need ansible-core"
command -v git >/dev/null 2>&1 || need="$need git"
if ! command -v go >/dev/null 2>&1; then need="$need golang-go"; fi
if [ -n "$need" ]; then
	echo "setup: installing$need"
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq $need >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
	echo "setup: starting dockerd (log: /var/log/dockerd.log)"
	nohup dockerd >/var/log/dockerd.log 2>&1 &
	i=0
	until docker info >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt 60 ]; then
			echo "setup: dockerd did not start; see /var/log/dockerd.log" >&2
			exit 1
		fi
		sleep 1
	done
fi
echo "setup: ready ($(go version), docker $(docker version --format '{{.Server.Version}}'))"

#!/bin/sh
# Installs and starts what tpago and its tests need on a Debian 12 machine,
# as root: Go (when missing), the Docker engine, debootstrap (to build the
# tpago/debian image), OpenSSH's server binary (tests run their own sshd on
# loopback ports; no system sshd is started), ansible with its collections
# (benchmarks, test/ansible).
# Idempotent: run it as often as you like. It may be sourced (scripts/test.sh).
set -eu

export PATH="/usr/local/go/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" != 0 ]; then
	echo "setup: run me as root (apt-get, dockerd, debootstrap)" >&2
	exit 1
fi

need=""
command -v dockerd >/dev/null 2>&1 || need="$need docker.io"
command -v debootstrap >/dev/null 2>&1 || need="$need debootstrap"
# Debian's ansible package: ansible-core with the collections (community.general,
# community.postgresql, ansible.posix) test/ansible's roles use.
dpkg-query -W -f '${db:Status-Abbrev}' ansible 2>/dev/null | grep -q '^ii' || need="$need ansible"
command -v git >/dev/null 2>&1 || need="$need git"
command -v ssh-keygen >/dev/null 2>&1 || need="$need openssh-client"
command -v tar >/dev/null 2>&1 || need="$need tar"
if ! command -v go >/dev/null 2>&1; then need="$need golang-go"; fi
apt_updated=""
if [ -n "$need" ]; then
	echo "setup: installing$need"
	apt-get update -qq
	apt_updated=1
	# shellcheck disable=SC2086
	apt-get install -y -qq $need >/dev/null
fi

# The sshd binary, for tests that run their own server on loopback. Keep
# the package from starting (or enabling) a system sshd on port 22.
if [ ! -x /usr/sbin/sshd ]; then
	echo "setup: installing openssh-server (its service is not started)"
	[ -n "$apt_updated" ] || apt-get update -qq
	had_policy=""
	[ -e /usr/sbin/policy-rc.d ] && had_policy=1
	if [ -z "$had_policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
	fi
	apt-get install -y -qq openssh-server >/dev/null || { [ -n "$had_policy" ] || rm -f /usr/sbin/policy-rc.d; exit 1; }
	[ -n "$had_policy" ] || rm -f /usr/sbin/policy-rc.d
	if [ -d /run/systemd/system ]; then
		systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
	fi
fi
# PostgreSQL's server binaries, for tests that start a throwaway server in a
# temporary folder: no cluster is created and no service started here.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "setup: installing postgresql-15 (no cluster is created, nothing started)"
	[ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
	mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/00-tpago-no-main.conf
	had_policy=""
	[ -e /usr/sbin/policy-rc.d ] && had_policy=1
	if [ -z "$had_policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
	fi
	apt-get install -y -qq postgresql-15 >/dev/null || { [ -n "$had_policy" ] || rm -f /usr/sbin/policy-rc.d; exit 1; }
	[ -n "$had_policy" ] || rm -f /usr/sbin/policy-rc.d
fi
mkdir -p /run/sshd /var/cache/tpago

# Every systemd container takes several inotify instances; the kernel's
# default (128, or 1024) stops the tenth or so container from booting
# ("Failed to allocate manager object: Too many open files").
if [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt 8192 ]; then
	echo "setup: raising fs.inotify.max_user_instances for systemd containers"
	sysctl -q -w fs.inotify.max_user_instances=8192 fs.inotify.max_user_watches=1048576
	printf 'fs.inotify.max_user_instances = 8192\nfs.inotify.max_user_watches = 1048576\n' >/etc/sysctl.d/90-tpago.conf
fi

if ! docker info >/dev/null 2>&1; then
	if [ -d /run/systemd/system ]; then
		echo "setup: starting docker.service"
		systemctl start docker.service || true
	fi
fi
if ! docker info >/dev/null 2>&1; then
	echo "setup: starting dockerd (log: /var/log/dockerd.log)"
	nohup dockerd >/var/log/dockerd.log 2>&1 &
fi
i=0
until docker info >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 60 ]; then
		echo "setup: dockerd did not start; see /var/log/dockerd.log" >&2
		exit 1
	fi
	sleep 1
done
echo "setup: ready ($(go version), docker $(docker version --format '{{.Server.Version}}'))"

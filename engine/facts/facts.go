// Package facts gathers a host's facts in one round trip: the script that
// prints them, and the parser that turns its output into the values
// Ansible's setup module returns. gather_facts and the setup module both
// use it.
package facts

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Script prints the facts, one key=value a line, then the login
// environment after a marker line, NUL-separated. It forks only small
// tools (uname, date, awk, stat) and never Python where the version can be
// read from dpkg's database.
const Script = `. /etc/os-release 2>/dev/null
echo "hostname=$(hostname -s 2>/dev/null || cat /etc/hostname)"
echo "fqdn=$(hostname -f 2>/dev/null || hostname)"
echo "uname=$(uname -s -n -r -m)"
echo "os_name=${NAME:-}"
echo "os_pretty=${PRETTY_NAME:-}"
echo "distribution_version=${VERSION_ID:-}"
echo "distribution_release=${VERSION_CODENAME:-}"
echo "os_family_id=${ID_LIKE:-} ${ID:-}"
echo "user_id=$(id -un)"
awk -F': *' 'FILENAME == "/proc/meminfo" { sub(/ kB$/, "", $2); m[$1] = $2; next }
  /^processor/ { n++ } /^physical id/ { p[$2] = 1 } /^cpu cores/ { c = $2 } /^siblings/ { s = $2 }
  END { printf "memtotal_mb=%d\nmemfree_mb=%d\nswaptotal_mb=%d\nswapfree_mb=%d\n", m["MemTotal"]/1024, m["MemFree"]/1024, m["SwapTotal"]/1024, m["SwapFree"]/1024
    k = 0; for (x in p) k++
    printf "cpu=%d %d %d %d\n", n, k, c, s }' /proc/meminfo /proc/cpuinfo 2>/dev/null
read up _ < /proc/uptime 2>/dev/null && echo "uptime=$up"
echo "date=$(date '+%s %N %z %Z')"
echo "default_ipv4=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')"
echo "all_ipv4_addresses=$(hostname -I 2>/dev/null)"
for i in /sys/class/net/*; do [ -e "$i" ] && echo "interface=${i##*/}"; done
read sm < /proc/1/comm 2>/dev/null; echo "service_mgr=$sm"
pm=unknown
for x in apt-get:apt dnf:dnf yum:yum zypper:zypper apk:apk pacman:pacman; do
  if command -v "${x%%:*}" >/dev/null 2>&1; then pm=${x#*:}; break; fi
done
echo "pkg_mgr=$pm"
if [ -f /.dockerenv ]; then echo "virt=docker"
elif [ -f /run/.containerenv ]; then echo "virt=podman"
elif command -v systemd-detect-virt >/dev/null 2>&1; then echo "virt=$(systemd-detect-virt 2>/dev/null)"
fi
if [ -r /etc/lsb-release ]; then
  (. /etc/lsb-release; echo "lsb=${DISTRIB_ID:-}|${DISTRIB_RELEASE:-}|${DISTRIB_CODENAME:-}|${DISTRIB_DESCRIPTION:-}")
elif command -v lsb_release >/dev/null 2>&1; then
  echo "lsb=${NAME%% *}|${VERSION_ID:-}|${VERSION_CODENAME:-}|${PRETTY_NAME:-}"
fi
py=$(command -v python3 2>/dev/null || command -v python 2>/dev/null)
if [ -n "$py" ]; then
  echo "python=$py"
  pyreal=$(readlink -f "$py" 2>/dev/null)
  pyv=$(awk -v p="Package: ${pyreal##*/}-minimal" '$0 == p { f = 1 } f && /^Version:/ { print $2; exit } f && /^$/ { exit }' /var/lib/dpkg/status 2>/dev/null)
  [ -n "$pyv" ] || pyv=$("$py" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
  echo "python_version=$pyv"
fi
awk -v sz="xargs -r -d '\n' stat -f -c 'mountsize=%S %b %a %f %c %d %n' 2>/dev/null" \
  '($1 ~ /^\// || $1 ~ /:\//) && $3 != "none" { print "mount=" $1 " " $2 " " $3 " " $4; print $2 | sz }' /proc/mounts 2>/dev/null
echo "__tpago_env__"
env -0 2>/dev/null || env
`

// Parse reads Script's output: the facts as Ansible's setup module names
// them under ansible_facts (without the ansible_ prefix).
func Parse(out []byte) map[string]any {
	text, envPart, _ := bytes.Cut(out, []byte("__tpago_env__\n"))
	f := map[string]any{}
	var ifaces, mounts []any
	sizes := map[string][]string{}
	for _, line := range strings.Split(string(text), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch k {
		case "uname":
			w := strings.Fields(v)
			for len(w) < 4 {
				w = append(w, "")
			}
			f["system"], f["nodename"], f["kernel"], f["architecture"], f["machine"] = w[0], w[1], w[2], w[3], w[3]
		case "os_name":
			f["distribution"], _, _ = strings.Cut(v, " ")
		case "os_pretty":
			// only for lsb
		case "distribution_version":
			f[k] = v
			major, _, _ := strings.Cut(v, ".")
			f["distribution_major_version"] = major
		case "memtotal_mb", "memfree_mb", "swaptotal_mb", "swapfree_mb":
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			f[k] = n
		case "cpu":
			var procs, sockets, cores, siblings int
			fmt.Sscan(v, &procs, &sockets, &cores, &siblings)
			if sockets == 0 {
				sockets = 1
			}
			if cores == 0 {
				cores = max(procs/sockets, 1)
			}
			threads := 1
			if siblings > 0 && cores > 0 {
				threads = max(siblings/cores, 1)
			}
			f["processor_count"], f["processor_cores"], f["processor_threads_per_core"] = sockets, cores, threads
			f["processor_vcpus"] = max(procs, 1)
		case "uptime":
			secs, _ := strconv.ParseFloat(v, 64)
			f["uptime_seconds"] = int(secs)
		case "date":
			f["date_time"] = dateTime(v)
		case "default_ipv4":
			f[k] = map[string]any{"address": v}
		case "all_ipv4_addresses":
			l := []any{}
			for _, a := range strings.Fields(v) {
				if strings.Contains(a, ".") {
					l = append(l, a)
				}
			}
			f[k] = l
		case "interface":
			ifaces = append(ifaces, v)
		case "os_family_id":
			f["os_family"] = family(strings.Fields(v))
		case "virt":
			typ, role := virtualization(v)
			f["virtualization_type"], f["virtualization_role"] = typ, role
		case "lsb":
			p := strings.SplitN(v, "|", 4)
			for len(p) < 4 {
				p = append(p, "")
			}
			major, _, _ := strings.Cut(p[1], ".")
			f["lsb"] = map[string]any{"id": p[0], "release": p[1], "codename": p[2], "description": p[3], "major_release": major}
		case "python":
			f["python"] = map[string]any{"executable": v, "type": "CPython"}
		case "python_version":
			f["python_version"] = v
		case "mount":
			w := strings.SplitN(v, " ", 4)
			if len(w) == 4 {
				mounts = append(mounts, map[string]any{"device": unescape(w[0]), "mount": unescape(w[1]), "fstype": w[2], "options": w[3]})
			}
		case "mountsize":
			w := strings.SplitN(v, " ", 7)
			if len(w) == 7 {
				sizes[w[6]] = w[:6]
			}
		default:
			f[k] = v
		}
	}
	if _, ok := f["os_family"]; !ok {
		f["os_family"] = "Debian"
	}
	f["distribution_file_variety"] = fileVariety(fmt.Sprint(f["os_family"]))
	if _, ok := f["lsb"]; !ok {
		f["lsb"] = map[string]any{}
	}
	if _, ok := f["virtualization_type"]; !ok {
		f["virtualization_type"], f["virtualization_role"] = "NA", "NA"
	}
	if py, ok := f["python"].(map[string]any); ok {
		v := strings.TrimSpace(fmt.Sprint(f["python_version"]))
		if i := strings.IndexByte(v, ':'); i >= 0 { // a Debian epoch
			v = v[i+1:]
		}
		v, _, _ = strings.Cut(v, "-")
		v, _, _ = strings.Cut(v, "+")
		f["python_version"] = v
		parts := strings.SplitN(v, ".", 3)
		num := func(i int) int {
			if i >= len(parts) {
				return 0
			}
			n, _ := strconv.Atoi(parts[i])
			return n
		}
		py["version"] = map[string]any{"major": num(0), "minor": num(1), "micro": num(2), "releaselevel": "final", "serial": 0}
		py["version_info"] = []any{num(0), num(1), num(2), "final", 0}
	}
	for _, m := range mounts {
		mm := m.(map[string]any)
		addSize(mm, sizes[mm["mount"].(string)])
	}
	if mounts == nil {
		mounts = []any{}
	}
	f["mounts"] = mounts
	if ifaces == nil {
		ifaces = []any{}
	}
	f["interfaces"] = ifaces
	f["env"] = environ(envPart)
	return f
}

// Prefixed names the facts as Ansible's setup module returns them (and
// as they are variables): ansible_NAME.
func Prefixed(f map[string]any) map[string]any {
	out := make(map[string]any, len(f))
	for k, v := range f {
		out["ansible_"+k] = v
	}
	return out
}

// Filter keeps the facts whose ansible_ name matches one of the shell
// patterns (setup's filter); no pattern keeps them all.
func Filter(prefixed map[string]any, patterns []string) map[string]any {
	if len(patterns) == 0 {
		return prefixed
	}
	out := map[string]any{}
	for k, v := range prefixed {
		if slices.ContainsFunc(patterns, func(p string) bool { ok, _ := path.Match(p, k); return ok }) {
			out[k] = v
		}
	}
	return out
}

// ValidPattern reports a filter pattern that path.Match cannot use.
func ValidPattern(p string) error {
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("filter %q: %v", p, err)
	}
	return nil
}

// Names are the facts Parse always sets (each also as ansible_NAME).
var Names = []string{"hostname", "fqdn", "nodename", "distribution", "distribution_version",
	"distribution_major_version", "distribution_release", "os_family", "system", "kernel", "architecture",
	"machine", "user_id", "processor_vcpus", "processor_count", "processor_cores", "processor_threads_per_core",
	"memtotal_mb", "memfree_mb", "swaptotal_mb", "swapfree_mb", "uptime_seconds", "date_time",
	"default_ipv4", "all_ipv4_addresses", "interfaces", "service_mgr", "pkg_mgr", "virtualization_type",
	"virtualization_role", "lsb", "distribution_file_variety", "python", "python_version", "mounts", "env"}

func family(ids []string) string {
	for _, id := range ids {
		switch id {
		case "debian", "ubuntu":
			return "Debian"
		case "rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn":
			return "RedHat"
		case "suse", "opensuse", "sles":
			return "Suse"
		case "alpine":
			return "Alpine"
		case "arch", "archlinux":
			return "Archlinux"
		case "gentoo":
			return "Gentoo"
		}
	}
	return "Debian"
}

func fileVariety(fam string) string {
	switch fam {
	case "Suse":
		return "SUSE"
	}
	return fam
}

// virtualization maps what was detected to Ansible's type and role.
func virtualization(v string) (string, string) {
	switch v = strings.TrimSpace(v); v {
	case "", "none":
		return "NA", "NA"
	case "docker", "podman", "lxc", "lxc-libvirt", "openvz", "systemd-nspawn", "container-other", "wsl", "rkt":
		return v, "guest"
	}
	return v, "guest"
}

// dateTime builds ansible_date_time from "EPOCH NANOS +HHMM TZNAME".
func dateTime(v string) map[string]any {
	w := strings.Fields(v)
	for len(w) < 4 {
		w = append(w, "")
	}
	epoch, _ := strconv.ParseInt(w[0], 10, 64)
	nanos, err := strconv.ParseInt(w[1], 10, 64)
	if err != nil { // a date without %N
		nanos = 0
	}
	off := 0
	if o := w[2]; len(o) == 5 {
		h, _ := strconv.Atoi(o[1:3])
		m, _ := strconv.Atoi(o[3:5])
		off = h*3600 + m*60
		if o[0] == '-' {
			off = -off
		}
	}
	utc := time.Unix(epoch, nanos).UTC()
	t := utc.In(time.FixedZone(w[3], off))
	_, week := weekMonday(t)
	return map[string]any{
		"date": t.Format("2006-01-02"), "time": t.Format("15:04:05"),
		"year": t.Format("2006"), "month": t.Format("01"), "day": t.Format("02"),
		"hour": t.Format("15"), "minute": t.Format("04"), "second": t.Format("05"),
		"epoch": w[0], "epoch_int": w[0],
		"iso8601":             utc.Format("2006-01-02T15:04:05Z"),
		"iso8601_micro":       utc.Format("2006-01-02T15:04:05.000000Z"),
		"iso8601_basic":       t.Format("20060102T150405") + fmt.Sprintf("%06d", t.Nanosecond()/1000),
		"iso8601_basic_short": t.Format("20060102T150405"),
		"tz":                  w[3], "tz_offset": w[2], "tz_dst": w[3],
		"weekday":        t.Weekday().String(),
		"weekday_number": strconv.Itoa(int(t.Weekday())),
		"weeknumber":     fmt.Sprintf("%02d", week),
	}
}

// weekMonday is strftime's %W: the week of the year, weeks starting on
// Monday, days before the first Monday in week 0.
func weekMonday(t time.Time) (int, int) {
	yday := t.YearDay() - 1
	wday := (int(t.Weekday()) + 6) % 7 // Monday 0
	return t.Year(), (yday + 7 - wday) / 7
}

// unescape undoes /proc/mounts' octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// addSize sets a mount's sizes from statfs's "bsize blocks bavail bfree
// files ffree", as Ansible reports them.
func addSize(m map[string]any, s []string) {
	if len(s) != 6 {
		m["size_total"], m["size_available"] = 0, 0
		m["uuid"] = "N/A"
		return
	}
	n := make([]int64, 6)
	for i, x := range s {
		n[i], _ = strconv.ParseInt(x, 10, 64)
	}
	bsize, blocks, bavail, bfree, files, ffree := n[0], n[1], n[2], n[3], n[4], n[5]
	m["size_total"] = bsize * blocks
	m["size_available"] = bsize * bavail
	m["block_size"] = bsize
	m["block_total"] = blocks
	m["block_available"] = bavail
	m["block_used"] = blocks - bfree
	m["inode_total"] = files
	m["inode_available"] = ffree
	m["inode_used"] = files - ffree
	m["uuid"] = "N/A"
}

// environ reads the environment section: NUL-separated NAME=value
// entries (newline-separated where env has no -0).
func environ(b []byte) map[string]any {
	sep := []byte{0}
	if !bytes.Contains(b, sep) {
		sep = []byte("\n")
	}
	out := map[string]any{}
	for _, e := range bytes.Split(b, sep) {
		k, v, ok := strings.Cut(string(e), "=")
		if ok && k != "" {
			out[k] = v
		}
	}
	return out
}

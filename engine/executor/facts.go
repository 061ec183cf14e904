package executor

import (
	"bufio"
	"context"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/playbook"
	"golang.org/x/sync/errgroup"
)

// factsScript prints the facts tpago gathers, one key=value a line: the
// common ones an Ansible author reaches for, in one round trip.
const factsScript = `. /etc/os-release 2>/dev/null
echo "hostname=$(hostname -s 2>/dev/null || cat /etc/hostname)"
echo "fqdn=$(hostname -f 2>/dev/null || hostname)"
echo "nodename=$(uname -n)"
echo "distribution=${NAME%% *}"
echo "distribution_version=${VERSION_ID:-}"
echo "distribution_major_version=${VERSION_ID%%.*}"
echo "distribution_release=${VERSION_CODENAME:-}"
echo "os_family_id=${ID_LIKE:-$ID}"
echo "system=$(uname -s)"
echo "kernel=$(uname -r)"
echo "architecture=$(uname -m)"
echo "user_id=$(id -un)"
echo "processor_vcpus=$(nproc 2>/dev/null || echo 1)"
echo "memtotal_mb=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo 2>/dev/null)"
echo "default_ipv4=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')"
echo "all_ipv4_addresses=$(hostname -I 2>/dev/null)"
echo "service_mgr=$(cat /proc/1/comm 2>/dev/null)"
echo "pkg_mgr=$(command -v apt-get >/dev/null && echo apt)"
`

func parseFacts(out string) map[string]any {
	f := map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch k {
		case "processor_vcpus", "memtotal_mb":
			n, _ := strconv.Atoi(v)
			f[k] = n
		case "default_ipv4":
			f[k] = map[string]any{"address": v}
		case "all_ipv4_addresses":
			var l []any
			for _, a := range strings.Fields(v) {
				if strings.Contains(a, ".") {
					l = append(l, a)
				}
			}
			f[k] = l
		case "os_family_id":
			fam := "Debian"
			switch {
			case strings.Contains(v, "rhel") || strings.Contains(v, "fedora"):
				fam = "RedHat"
			case strings.Contains(v, "suse"):
				fam = "Suse"
			}
			f["os_family"] = fam
		default:
			f[k] = v
		}
	}
	return f
}

// gatherFacts runs the facts script on every host of the batch, setting
// ansible_facts and the ansible_* variables.
func (pr *playRun) gatherFacts(ctx context.Context) {
	t := &playbook.Task{Name: "Gathering Facts", Module: "setup"}
	pr.e.out.TaskStart(t, "Gathering Facts", false)
	var g errgroup.Group
	g.SetLimit(pr.e.opts.Forks)
	for _, h := range pr.active(pr.hosts) {
		g.Go(func() error {
			hsc := pr.hostScope(h, t, &scope{})
			c, login, err := pr.e.connect(ctx, h, hsc)
			if err != nil {
				pr.record(t, &TaskResult{Host: h, Task: t, Status: Unreachable, Msg: err.Error()}, &scope{})
				return nil
			}
			sh := &conn.Shell{Conn: c, LoginUser: login}
			out, err := sh.Run(ctx, factsScript)
			if err != nil {
				pr.record(t, &TaskResult{Host: h, Task: t, Status: Unreachable, Msg: err.Error()}, &scope{})
				return nil
			}
			facts := parseFacts(string(out.Stdout))
			vals := map[string]any{"ansible_facts": facts}
			for k, v := range facts {
				vals["ansible_"+k] = v
			}
			pr.e.setFacts(h, rawAll(vals))
			pr.record(t, &TaskResult{Host: h, Task: t, Status: OK, Result: map[string]any{"ansible_facts": facts}}, &scope{})
			return nil
		})
	}
	g.Wait()
}

package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tpago/tpago/bench/sshfarm"
)

// manyOpts configure the many-hosts benchmark.
type manyOpts struct {
	hosts        []int
	ansibleHosts int
	ansibleForks int
	profileDir   string
	runs         int
}

// defaultForks is tpago's --forks default.
const defaultForks = 50

// harness is a farm of n hosts with the files that reach them.
type harness struct {
	n    int
	dir  string
	inv  string
	kh   string
	farm *sshfarm.Farm
	once sync.Once
}

func newHarness(n int) *harness {
	dir, err := os.MkdirTemp("", "tpago-many-")
	must(err)
	keys, err := sshfarm.NewKeys()
	must(err)
	root := filepath.Join(dir, "hosts")
	farm, err := sshfarm.Start(sshfarm.Options{Hosts: n, Dir: root, HostKey: keys.Host, ClientKey: keys.Client})
	must(err)
	h := &harness{n: n, dir: dir, farm: farm, kh: filepath.Join(dir, "known_hosts"), inv: filepath.Join(dir, "inventory.yml")}
	atExit = append(atExit, h.close)
	key := filepath.Join(dir, "id_bench")
	must(os.WriteFile(key, keys.ClientPEM, 0o600))
	must(os.WriteFile(h.kh, farm.KnownHosts(keys.HostPublic), 0o600))
	var inv strings.Builder
	fmt.Fprintf(&inv, "all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: root\n    ansible_ssh_private_key_file: %s\n    ansible_ssh_known_hosts_file: %s\n    bench_root: %s\n  hosts:\n",
		key, h.kh, root)
	for _, fh := range farm.Hosts {
		fmt.Fprintf(&inv, "    %s: {ansible_port: %d}\n", fh.Name, fh.Port)
	}
	must(os.WriteFile(h.inv, []byte(inv.String()), 0o600))
	return h
}

// reset empties every host's home, for a first run.
func (h *harness) reset() {
	for _, fh := range h.farm.Hosts {
		ents, _ := os.ReadDir(fh.Home)
		for _, e := range ents {
			os.RemoveAll(filepath.Join(fh.Home, e.Name()))
		}
	}
}

func (h *harness) close() {
	h.once.Do(func() {
		h.farm.Close()
		os.RemoveAll(h.dir)
	})
}

// measure is one run of a tool.
type measure struct {
	wall, cpu  time.Duration // cpu: the tool's user+sys, with its children
	hostCPU    time.Duration // the farm's and its shells' CPU
	rssKiB     int64         // the tool's peak resident memory
	handshakes int64
	rate       float64 // handshakes per second while they happened
}

func cpuOf(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return cpuOf(&ru)
}

var (
	busyRE = regexp.MustCompile(`(failed|unreachable)=[1-9]`)
	chgRE  = regexp.MustCompile(`changed=[1-9]`)
)

// runTool runs name args against the farm and measures it; a second run
// must change nothing.
func (h *harness) runTool(dir string, env []string, second bool, name string, args ...string) measure {
	h.farm.ResetStats()
	self, kids := rusage(syscall.RUSAGE_SELF), rusage(syscall.RUSAGE_CHILDREN)
	d, ru, out, err := run(dir, env, name, args...)
	if err != nil || busyRE.MatchString(out) || (second && chgRE.MatchString(out)) {
		fmt.Print(tail(out, 20))
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "UNREACHABLE") || strings.HasPrefix(l, "fatal:") {
				fmt.Println(l)
			}
		}
		must(fmt.Errorf("%s (%d hosts, second run %v): %v", name, h.n, second, err))
	}
	// The hosts' shells end when the tool's connections close.
	time.Sleep(300 * time.Millisecond)
	m := measure{wall: d}
	if ru != nil {
		m.cpu, m.rssKiB = cpuOf(ru), ru.Maxrss
	}
	m.hostCPU = rusage(syscall.RUSAGE_SELF) - self + rusage(syscall.RUSAGE_CHILDREN) - kids - m.cpu
	st := h.farm.Stats()
	m.handshakes, m.rate = st.Handshakes, st.Rate()
	return m
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// medianOf keeps, of each figure, the median over the runs.
func medianOf(ms []measure) measure {
	pick := func(f func(measure) float64) float64 {
		v := make([]float64, len(ms))
		for i, m := range ms {
			v[i] = f(m)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return measure{
		wall:       time.Duration(pick(func(m measure) float64 { return float64(m.wall) })),
		cpu:        time.Duration(pick(func(m measure) float64 { return float64(m.cpu) })),
		hostCPU:    time.Duration(pick(func(m measure) float64 { return float64(m.hostCPU) })),
		rssKiB:     int64(pick(func(m measure) float64 { return float64(m.rssKiB) })),
		handshakes: int64(pick(func(m measure) float64 { return float64(m.handshakes) })),
		rate:       pick(func(m measure) float64 { return m.rate }),
	}
}

type row struct {
	tool  string
	hosts int
	forks int
	run   string
	m     measure
}

func benchMany(tpago, here string, o manyOpts) {
	fmt.Printf("== 4 idempotent tasks on N hosts served by one process (bench/sshfarm), %d cores ==\n", runtime.NumCPU())
	pb := filepath.Join(here, "bench", "playbook4.yml")
	if o.runs < 1 {
		o.runs = 1
	}
	if o.profileDir != "" {
		must(os.MkdirAll(o.profileDir, 0o755))
	}
	var rows []row
	for _, n := range o.hosts {
		h := newHarness(n)
		forks := []int{defaultForks}
		if n != defaultForks {
			forks = append(forks, n)
		}
		for _, f := range forks {
			var first, second []measure
			for r := 0; r < o.runs; r++ {
				for i, label := range []string{"first", "no-op"} {
					var env []string
					if o.profileDir != "" {
						env = append(env, "TPAGO_CPUPROFILE="+filepath.Join(o.profileDir, fmt.Sprintf("tpago-%d-f%d-%s-%d.pprof", n, f, label, r)))
					}
					if i == 0 {
						h.reset()
					}
					// A longer connection timeout: a thousand handshakes at once
					// on a loaded machine of two cores exceed the default 10s.
					m := h.runTool(here, env, i == 1, tpago, "play", pb, "-i", h.inv, "--forks", fmt.Sprint(f), "--timeout", "60s")
					fmt.Printf("tpago %d hosts, forks %d, %s run: %.2fs wall, %.2fs CPU, %d MiB\n", n, f, label, m.wall.Seconds(), m.cpu.Seconds(), m.rssKiB/1024)
					if i == 0 {
						first = append(first, m)
					} else {
						second = append(second, m)
					}
				}
			}
			rows = append(rows, row{"tpago", n, f, "first", medianOf(first)}, row{"tpago", n, f, "no-op", medianOf(second)})
		}
		if n == o.ansibleHosts {
			cfg := filepath.Join(h.dir, "ansible.cfg")
			must(os.MkdirAll(filepath.Join(h.dir, "cp"), 0o700))
			must(os.WriteFile(cfg, []byte(fmt.Sprintf(`[defaults]
forks = %d
gathering = explicit
host_key_checking = True
interpreter_python = /usr/bin/python3
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=%s
control_path_dir = %s
`, o.ansibleForks, h.kh, filepath.Join(h.dir, "cp"))), 0o644))
			env := []string{"ANSIBLE_CONFIG=" + cfg}
			h.reset()
			for i, label := range []string{"first", "no-op"} {
				m := h.runTool(h.dir, env, i == 1, "ansible-playbook", "-i", h.inv, pb)
				fmt.Printf("ansible %d hosts, forks %d, %s run: %.2fs wall, %.2fs CPU\n", n, o.ansibleForks, label, m.wall.Seconds(), m.cpu.Seconds())
				rows = append(rows, row{"ansible", n, o.ansibleForks, label, m})
			}
		}
		h.close()
	}
	printTable(rows)
}

func printTable(rows []row) {
	fmt.Println()
	fmt.Println("| tool | hosts | forks | run | wall | tool CPU | CPU per host-task | peak RSS | per host | handshakes/s | hosts' CPU |")
	fmt.Println("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		m := r.m
		perTask := m.cpu / time.Duration(r.hosts*4)
		rate := "—"
		if m.handshakes > 0 {
			rate = fmt.Sprintf("%.0f", m.rate)
		}
		fmt.Printf("| %s | %d | %d | %s | %.2f s | %.2f s | %.2f ms | %d MiB | %d KiB | %s | %.1f s |\n",
			r.tool, r.hosts, r.forks, r.run, m.wall.Seconds(), m.cpu.Seconds(), float64(perTask.Microseconds())/1000,
			m.rssKiB/1024, m.rssKiB/int64(r.hosts), rate, m.hostCPU.Seconds())
	}
	// Ansible against tpago on the same hosts, forks and run.
	for _, a := range rows {
		if a.tool != "ansible" {
			continue
		}
		for _, t := range rows {
			if t.tool == "tpago" && t.hosts == a.hosts && t.forks == a.forks && t.run == a.run {
				fmt.Printf("%d hosts, forks %d, %s run: Ansible/tpago wall %.1f×, CPU %.1f×\n", a.hosts, a.forks, a.run,
					a.m.wall.Seconds()/t.m.wall.Seconds(), a.m.cpu.Seconds()/t.m.cpu.Seconds())
			}
		}
	}
	// Memory that grows with the hosts, apart from the process's base.
	var lo, hi *row
	for i := range rows {
		r := &rows[i]
		if r.tool != "tpago" || r.run != "first" || r.forks != r.hosts {
			continue
		}
		if lo == nil || r.hosts < lo.hosts {
			lo = r
		}
		if hi == nil || r.hosts > hi.hosts {
			hi = r
		}
	}
	if lo != nil && hi != nil && hi.hosts > lo.hosts {
		fmt.Printf("memory per additional host (forks = hosts, first run, %d → %d hosts): %d KiB\n", lo.hosts, hi.hosts,
			(hi.m.rssKiB-lo.m.rssKiB)/int64(hi.hosts-lo.hosts))
	}
}

// serveFarm serves n hosts until interrupted, for trying tools by hand.
func serveFarm(n int) {
	h := newHarness(n)
	defer h.close()
	fmt.Printf("%d hosts on 127.0.0.1 ports %d…; inventory %s (bench_root is set for bench/playbook4.yml)\nCtrl-C stops the farm.\n",
		n, h.farm.Hosts[0].Port, h.inv)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

// Command bench measures tpago against Ansible in the same run, on the
// same hosts, and prints medians and ratios.
//
//	go build -o /tmp/tpago ./cmd/tpago && go run ./bench -tpago /tmp/tpago
//
// The 60-task benchmark runs bench/playbook60.yml on the 4 hosts of a
// docker cluster that it provisions (and removes) itself, first run and
// no-op second run, with tpago and with ansible-playbook (pipelining,
// ControlPersist, forks 10, facts off). The many-hosts benchmark runs
// bench/playbook4.yml on N cheap hosts served by one process (sshfarm) and
// reports tpago's wall time, CPU time, peak memory and SSH handshakes per
// second, with Ansible on the same hosts for comparison (many.go).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	tpago := flag.String("tpago", "tpago", "the tpago binary")
	runs := flag.Int("runs", 3, "runs of each tool")
	var m manyOpts
	hosts := flag.String("hosts", "100,300,1000", "host counts for the many-hosts benchmark (comma-separated, empty to skip)")
	skip60 := flag.Bool("skip-60", false, "skip the 60-task benchmark")
	flag.IntVar(&m.ansibleHosts, "ansible-hosts", 100, "hosts of the many-hosts benchmark that Ansible also runs (0: none)")
	flag.IntVar(&m.ansibleForks, "ansible-forks", 50, "Ansible's forks on the many hosts")
	flag.StringVar(&m.profileDir, "cpuprofile", "", "write tpago's CPU profiles (one per run) to this folder")
	flag.IntVar(&m.runs, "many-runs", 1, "runs of each many-hosts case (the median is kept)")
	farm := flag.Int("farm", 0, "only serve this many farm hosts, write their inventory and wait for Ctrl-C")
	flag.Parse()
	if *farm > 0 {
		serveFarm(*farm)
		return
	}
	bin, err := filepath.Abs(*tpago)
	must(err)
	here, err := os.Getwd()
	must(err)
	if !*skip60 {
		bench60(bin, here, *runs)
	}
	if *hosts != "" {
		for _, f := range strings.Split(*hosts, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				must(fmt.Errorf("-hosts %q: a comma-separated list of host counts", *hosts))
			}
			m.hosts = append(m.hosts, n)
		}
		benchMany(bin, here, m)
	}
}

// atExit are run by must before it exits: a farm must not outlive the
// benchmark.
var atExit []func()

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		for i := len(atExit) - 1; i >= 0; i-- {
			atExit[i]()
		}
		os.Exit(1)
	}
}

func run(dir string, env []string, name string, args ...string) (time.Duration, *syscall.Rusage, string, error) {
	c := exec.Command(name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	c.Stdout = &out
	c.Stderr = &out
	start := time.Now()
	err := c.Run()
	d := time.Since(start)
	var ru *syscall.Rusage
	if c.ProcessState != nil {
		ru, _ = c.ProcessState.SysUsage().(*syscall.Rusage)
	}
	return d, ru, out.String(), err
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func bench60(tpago, here string, runs int) {
	dir, err := os.MkdirTemp("", "tpago-bench-")
	must(err)
	defer os.RemoveAll(dir)
	cl := filepath.Join(dir, "bench60")
	fmt.Println("== 60 tasks on 4 Debian 12 containers ==")
	for _, step := range [][]string{
		{"configure", cl, "-a", "M1", "--platform", "docker", "--postgresql", "15", "--failover-manager", "repmgr", "--no-git"},
		{"provision", cl},
	} {
		d, _, out, err := run(here, nil, tpago, step...)
		if err != nil {
			fmt.Print(out)
			must(fmt.Errorf("tpago %s: %w", step[0], err))
		}
		fmt.Printf("tpago %s: %.1fs\n", step[0], d.Seconds())
	}
	defer func() {
		if _, _, out, err := run(here, nil, tpago, "deprovision", cl, "--yes"); err != nil {
			fmt.Print(out)
		}
	}()
	inv := filepath.Join(cl, "inventory.yml")
	pb := filepath.Join(here, "bench", "playbook60.yml")
	cfg := filepath.Join(dir, "ansible.cfg")
	must(os.WriteFile(cfg, []byte(fmt.Sprintf(`[defaults]
forks = 10
gathering = explicit
host_key_checking = True
interpreter_python = /usr/bin/python3
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=%s
`, filepath.Join(cl, "known_hosts"))), 0o644))
	reset := func() {
		run(here, nil, tpago, "cmd", cl, "all", "rm -rf /srv/bench")
	}
	type result struct{ first, second []time.Duration }
	var tp, an result
	for i := 0; i < runs; i++ {
		reset()
		d1, _, out, err := run(here, nil, tpago, "play", pb, "-i", inv)
		if err != nil {
			fmt.Print(out)
			must(err)
		}
		d2, _, out, err := run(here, nil, tpago, "play", pb, "-i", inv)
		if err != nil || !strings.Contains(out, "changed=0") {
			fmt.Print(out)
			must(fmt.Errorf("tpago second run: %v", err))
		}
		tp.first, tp.second = append(tp.first, d1), append(tp.second, d2)
		reset()
		env := []string{"ANSIBLE_CONFIG=" + cfg}
		a1, _, out, err := run(dir, env, "ansible-playbook", "-i", inv, pb)
		if err != nil {
			fmt.Print(out)
			must(fmt.Errorf("ansible-playbook: %w", err))
		}
		a2, _, out, err := run(dir, env, "ansible-playbook", "-i", inv, pb)
		if err != nil {
			fmt.Print(out)
			must(fmt.Errorf("ansible-playbook: %w", err))
		}
		an.first, an.second = append(an.first, a1), append(an.second, a2)
		fmt.Printf("run %d: tpago %.2fs / %.2fs, ansible %.2fs / %.2fs\n", i+1, d1.Seconds(), d2.Seconds(), a1.Seconds(), a2.Seconds())
	}
	fmt.Printf("median first run:  tpago %.2fs  ansible %.2fs  ratio %.1fx\n", median(tp.first).Seconds(), median(an.first).Seconds(), median(an.first).Seconds()/median(tp.first).Seconds())
	fmt.Printf("median second run: tpago %.2fs  ansible %.2fs  ratio %.1fx\n", median(tp.second).Seconds(), median(an.second).Seconds(), median(an.second).Seconds()/median(tp.second).Seconds())
}

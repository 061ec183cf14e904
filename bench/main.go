// Command bench measures tpago against Ansible in the same run, on the
// same hosts, and prints medians and ratios.
//
//	go build -o /tmp/tpago ./cmd/tpago && go run ./bench -tpago /tmp/tpago
//
// The 60-task benchmark runs bench/playbook60.yml on the 4 hosts of a
// docker cluster that it provisions (and removes) itself, first run and
// no-op second run, with tpago and with ansible-playbook (pipelining,
// ControlPersist, forks 10, facts off). The many-hosts benchmark runs
// bench/playbook4.yml on N hosts that are N ports of one sshd on loopback,
// and reports time and the peak memory of the tpago process.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

func main() {
	tpago := flag.String("tpago", "tpago", "the tpago binary")
	runs := flag.Int("runs", 3, "runs of each tool")
	hosts := flag.Int("hosts", 200, "hosts for the many-hosts benchmark (0 to skip)")
	skip60 := flag.Bool("skip-60", false, "skip the 60-task benchmark")
	ansibleMany := flag.Bool("ansible-many", false, "also run Ansible on the many hosts (slow)")
	flag.Parse()
	bin, err := filepath.Abs(*tpago)
	must(err)
	here, err := os.Getwd()
	must(err)
	if !*skip60 {
		bench60(bin, here, *runs)
	}
	if *hosts > 0 {
		benchMany(bin, here, *hosts, *ansibleMany)
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
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

func benchMany(tpago, here string, n int, withAnsible bool) {
	fmt.Printf("== 4 tasks on %d hosts (ports of one sshd on loopback) ==\n", n)
	dir, err := os.MkdirTemp("", "tpago-many-")
	must(err)
	defer os.RemoveAll(dir)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	must(err)
	hostKey := filepath.Join(dir, "host_key")
	block, err := ssh.MarshalPrivateKey(priv, "")
	must(err)
	must(os.WriteFile(hostKey, pem.EncodeToMemory(block), 0o600))
	spub, err := ssh.NewPublicKey(pub)
	must(err)
	cpub, cpriv, err := ed25519.GenerateKey(rand.Reader)
	must(err)
	clientKey := filepath.Join(dir, "id_bench")
	block, err = ssh.MarshalPrivateKey(cpriv, "")
	must(err)
	must(os.WriteFile(clientKey, pem.EncodeToMemory(block), 0o600))
	cspub, err := ssh.NewPublicKey(cpub)
	must(err)
	auth := filepath.Join(dir, "authorized_keys")
	must(os.WriteFile(auth, ssh.MarshalAuthorizedKey(cspub), 0o600))
	// sshd listens on at most 16 sockets: one sshd per 16 ports.
	var kh, inv strings.Builder
	base := 22000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&kh, "[127.0.0.1]:%d %s", base+i, ssh.MarshalAuthorizedKey(spub))
	}
	must(os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(kh.String()), 0o600))
	inv.WriteString("all:\n  vars:\n    ansible_host: 127.0.0.1\n    ansible_user: root\n")
	fmt.Fprintf(&inv, "    ansible_ssh_private_key_file: %s\n    ansible_ssh_known_hosts_file: %s\n  hosts:\n", clientKey, filepath.Join(dir, "known_hosts"))
	for i := 0; i < n; i++ {
		fmt.Fprintf(&inv, "    h%03d: {ansible_port: %d}\n", i, base+i)
	}
	invPath := filepath.Join(dir, "inventory.yml")
	must(os.WriteFile(invPath, []byte(inv.String()), 0o600))
	os.MkdirAll("/run/sshd", 0o755)
	var sshdOut bytes.Buffer
	for first := 0; first < n; first += 16 {
		var conf strings.Builder
		for i := first; i < min(first+16, n); i++ {
			fmt.Fprintf(&conf, "Port %d\n", base+i)
		}
		fmt.Fprintf(&conf, "ListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\nPidFile %s\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nMaxStartups 1000:30:2000\nMaxSessions 20\nUsePAM no\nStrictModes no\n",
			hostKey, auth, filepath.Join(dir, fmt.Sprintf("sshd%d.pid", first)))
		cf := filepath.Join(dir, fmt.Sprintf("sshd_config_%d", first))
		must(os.WriteFile(cf, []byte(conf.String()), 0o600))
		sshd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", cf)
		sshd.Stderr = &sshdOut
		must(sshd.Start())
		defer func() { sshd.Process.Kill(); sshd.Wait() }()
	}
	time.Sleep(time.Second)
	pb := filepath.Join(here, "bench", "playbook4.yml")
	for i, label := range []string{"first run", "second run"} {
		d, ru, out, err := run(here, nil, tpago, "play", pb, "-i", invPath, "--forks", "100")
		if err != nil {
			fmt.Print(out, sshdOut.String())
			must(err)
		}
		if i == 1 && !strings.Contains(out, "changed=0") {
			fmt.Print(out)
		}
		rss, cpu := int64(0), time.Duration(0)
		if ru != nil {
			rss = ru.Maxrss / 1024
			cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		fmt.Printf("tpago %s: %.2fs (tpago's own CPU %.2fs; the rest is the hosts' sshd and shells on this machine), peak memory %d MiB\n",
			label, d.Seconds(), cpu.Seconds(), rss)
	}
	if withAnsible {
		cfg := filepath.Join(dir, "ansible.cfg")
		must(os.WriteFile(cfg, []byte(fmt.Sprintf("[defaults]\nforks = 50\ngathering = explicit\ninterpreter_python = /usr/bin/python3\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=%s\n", filepath.Join(dir, "known_hosts"))), 0o644))
		d, _, out, err := run(dir, []string{"ANSIBLE_CONFIG=" + cfg}, "ansible-playbook", "-i", invPath, pb)
		if err != nil {
			fmt.Print(out)
		}
		fmt.Printf("ansible (forks 50): %.2fs\n", d.Seconds())
	}
}

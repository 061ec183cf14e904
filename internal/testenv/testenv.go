// Package testenv gives tests real Debian 12 hosts: systemd containers with
// sshd, made by the docker platform's own provisioner on a network of
// their own.
//
//	func TestMain(m *testing.M) { testenv.Main(m) } // optional: reuse clusters
//
//	env := testenv.Cluster(t, "deploy", 2)
//	c := env.Dial(t, 0) // *conn.SSH to env.Hosts[0]
//
// Without testenv.Main, each cluster is removed when the test that asked
// for it ends. With it, a cluster is made once per test binary (per name)
// and removed when the binary exits. Either way the containers and the
// network go away even when the test fails.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/platforms"
	"github.com/tpago/tpago/platforms/docker"
)

// Subnets are where test clusters live: the /24s of 10.216.0.0 to
// 10.219.255.0.
var Subnets = [2]netip.Prefix{netip.MustParsePrefix("10.216.0.0/24"), netip.MustParsePrefix("10.219.255.0/24")}

// Host is one host of a test cluster.
type Host struct {
	Name string
	Addr string
}

// Env is a provisioned test cluster.
type Env struct {
	// Name is the cluster's name (its containers are Name-<host>).
	Name string
	// Dir is the cluster directory (config.yml, inventory.yml, key, known_hosts).
	Dir           string
	InventoryPath string
	KeyFile       string
	KnownHosts    string
	Subnet        string
	Hosts         []Host

	reservation string
}

// SSHConfig is how to reach host i with the cluster's key and known_hosts.
func (e *Env) SSHConfig(i int) conn.SSHConfig {
	return conn.SSHConfig{
		Host:           e.Hosts[i].Addr,
		User:           "root",
		KeyFiles:       []string{e.KeyFile},
		KnownHostsFile: e.KnownHosts,
		ConnectTimeout: 10 * time.Second,
	}
}

// Dial connects to host i; the connection is closed when the test ends.
func (e *Env) Dial(t testing.TB, i int) *conn.SSH {
	t.Helper()
	c, err := conn.DialSSH(context.Background(), e.SSHConfig(i))
	if err != nil {
		t.Fatalf("testenv: ssh %s: %v", e.Hosts[i].Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var (
	mu       sync.Mutex
	shared   bool
	clusters = map[string]*Env{}
	// nameLocks serialise the making of one cluster.
	nameLocks = map[string]*sync.Mutex{}
)

// Main runs the tests, keeping each cluster for the whole binary, then
// removes them all. Call it from TestMain.
func Main(m *testing.M) {
	mu.Lock()
	shared = true
	mu.Unlock()
	code := m.Run()
	mu.Lock()
	envs := make([]*Env, 0, len(clusters))
	for _, e := range clusters {
		envs = append(envs, e)
	}
	mu.Unlock()
	for _, e := range envs {
		if err := remove(e); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var nameRE = regexp.MustCompile(`[^a-z0-9-]+`)

// Cluster returns a cluster of n hosts (node1 … nodeN) named after name,
// making it when needed. It fails the test, saying how to get Docker, when
// Docker or the image is not available; under -short it skips it.
func Cluster(t testing.TB, name string, n int) *Env {
	t.Helper()
	Require(t, Docker)
	if n < 1 || n > 8 {
		t.Fatalf("testenv: %d hosts: ask for 1 to 8 (the machine is small)", n)
	}
	key := nameRE.ReplaceAllString(strings.ToLower(name), "-")
	mu.Lock()
	l := nameLocks[key]
	if l == nil {
		l = &sync.Mutex{}
		nameLocks[key] = l
	}
	reuse := shared
	mu.Unlock()
	l.Lock()
	defer l.Unlock()
	if reuse {
		mu.Lock()
		e := clusters[key]
		mu.Unlock()
		if e != nil {
			if len(e.Hosts) != n {
				t.Fatalf("testenv: cluster %q was made with %d hosts, this test asks for %d: use another name", name, len(e.Hosts), n)
			}
			return e
		}
	}
	e, err := create(key, n, func(s string) { t.Log(s) })
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if reuse {
		mu.Lock()
		clusters[key] = e
		mu.Unlock()
	} else {
		t.Cleanup(func() {
			if err := remove(e); err != nil {
				t.Errorf("testenv: %v", err)
			}
		})
	}
	return e
}

type logWriter func(string)

func (w logWriter) Write(p []byte) (int, error) {
	w(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func create(key string, n int, logf func(string)) (*Env, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cli, err := docker.NewClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("%v\nthese tests run real hosts in Docker: run `sh scripts/setup.sh` (as root) to install and start it", err)
	}
	defer cli.Close()
	reapStale(ctx, logf)

	// A short unique name: container and host names must stay short.
	name := fmt.Sprintf("te-%s-%d", key, os.Getpid())
	if len(name) > 40 {
		name = name[:40]
	}
	subnet, reservation, err := reserveSubnet(ctx)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.Remove(reservation)
		}
	}()
	dir, err := os.MkdirTemp("", "tpago-testenv-"+key+"-")
	if err != nil {
		return nil, err
	}
	e := &Env{Name: name, Dir: dir, Subnet: subnet.String(), reservation: reservation,
		InventoryPath: filepath.Join(dir, "inventory.yml"),
		KeyFile:       filepath.Join(dir, "id_"+name),
		KnownHosts:    filepath.Join(dir, "known_hosts"),
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster_name: %s\narchitecture: M1\ninstance_defaults:\n  platform: docker\n  image: %s\n", name, docker.DefaultImage)
	fmt.Fprintf(&b, "docker_networks:\n- name: %s\n  ipam_config:\n  - subnet: %s\ninstances:\n", name, subnet)
	a := subnet.Addr().Next().Next() // .2; the gateway is .1
	for i := 1; i <= n; i++ {
		a = a.Next()
		h := Host{Name: "node" + strconv.Itoa(i), Addr: a.String()}
		e.Hosts = append(e.Hosts, h)
		fmt.Fprintf(&b, "- Name: %s\n  node: %d\n  ip_address: %s\n", h.Name, i, h.Addr)
		// config.yml describes an M1 cluster: node1 is its primary.
		if i == 1 {
			b.WriteString("  role: [primary]\n")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	// The owner file lets a later binary reap what a killed one left.
	if err := os.WriteFile(filepath.Join(dir, ".owner"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	start := time.Now()
	if _, err := platforms.Provision(ctx, dir, platforms.Options{Out: logWriter(logf), SSHWait: 5 * time.Minute}); err != nil {
		_ = remove(e)
		if errors.Is(err, docker.ErrDaemon) {
			return nil, fmt.Errorf("%v\nrun `sh scripts/setup.sh` (as root) to install and start Docker", err)
		}
		return nil, fmt.Errorf("provision test cluster %s: %w", name, err)
	}
	logf(fmt.Sprintf("testenv: cluster %s (%d hosts, %s) ready in %s", name, n, subnet, time.Since(start).Round(time.Millisecond)))
	ok = true
	return e, nil
}

// remove deletes the cluster's containers and network, its directory and
// its subnet reservation.
func remove(e *Env) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := platforms.Deprovision(ctx, e.Dir, nil)
	if err == nil {
		os.RemoveAll(e.Dir)
		os.Remove(e.reservation)
	}
	if err != nil {
		return fmt.Errorf("remove test cluster %s: %w", e.Name, err)
	}
	return nil
}

// Reservations of subnets by running test binaries live here, one file
// per subnet holding the owner's pid; lockFile serialises choosing.
var (
	reserveDir = filepath.Join(os.TempDir(), "tpago-testenv-subnets")
	lockPath   = filepath.Join(os.TempDir(), "tpago-testenv.lock")
)

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func withLock(fn func() error) error {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

func reserveSubnet(ctx context.Context) (netip.Prefix, string, error) {
	var subnet netip.Prefix
	var file string
	err := withLock(func() error {
		if err := os.MkdirAll(reserveDir, 0o755); err != nil {
			return err
		}
		cli, err := docker.NewClient(ctx)
		if err != nil {
			return err
		}
		defer cli.Close()
		nets, err := cli.NetworkList(ctx, network.ListOptions{})
		if err != nil {
			return err
		}
		used := map[netip.Prefix]string{}
		for _, n := range nets {
			for _, ic := range n.IPAM.Config {
				if s, err := netip.ParsePrefix(ic.Subnet); err == nil {
					used[s.Masked()] = n.Name
				}
			}
		}
		reserved := func(s netip.Prefix) bool {
			f := filepath.Join(reserveDir, strings.ReplaceAll(s.String(), "/", "_"))
			data, err := os.ReadFile(f)
			if errors.Is(err, fs.ErrNotExist) {
				return false
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			if alive(pid) {
				return true
			}
			os.Remove(f)
			return false
		}
		subnet, err = docker.FirstFree(Subnets, used, reserved)
		if err != nil {
			return err
		}
		file = filepath.Join(reserveDir, strings.ReplaceAll(subnet.String(), "/", "_"))
		return os.WriteFile(file, []byte(strconv.Itoa(os.Getpid())), 0o644)
	})
	return subnet, file, err
}

// reapStale removes test clusters whose test binary is gone (killed by a
// timeout, say): only clusters in Subnets made by testenv, found by the
// owner file in their cluster directory.
func reapStale(ctx context.Context, logf func(string)) {
	cli, err := docker.NewClient(ctx)
	if err != nil {
		return
	}
	defer cli.Close()
	f := filters.NewArgs(filters.Arg("label", docker.LabelCluster))
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return
	}
	nets, _ := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	dirs := map[string]bool{}
	for _, c := range list {
		dirs[c.Labels[docker.LabelClusterDir]] = true
	}
	for _, n := range nets {
		dirs[n.Labels[docker.LabelClusterDir]] = true
	}
	for dir := range dirs {
		if !strings.HasPrefix(filepath.Base(dir), "tpago-testenv-") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, ".owner"))
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		if alive(pid) {
			continue
		}
		logf("testenv: removing the cluster in " + dir + " left by a test binary that is gone")
		_, _ = platforms.Deprovision(ctx, dir, nil)
		os.RemoveAll(dir)
	}
}

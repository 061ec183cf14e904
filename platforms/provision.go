package platforms

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/tpago/tpago/atomicfile"
	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/inventory"
	"golang.org/x/crypto/ssh"
)

// Options tune Provision.
type Options struct {
	// Out receives progress lines (nil for none).
	Out io.Writer
	// AcceptNewHostKeys records the keys of hosts that known_hosts does not
	// know yet (the bare platform; Docker hosts' keys are read through Docker).
	AcceptNewHostKeys bool
	// SSHWait bounds the wait for every host to answer SSH (2 minutes when 0).
	SSHWait time.Duration
}

// Result is what Provision did.
type Result struct {
	Cluster *Cluster
	Hosts   []Host
	// Changes counts what was created, started or rewritten; 0 means the
	// cluster was already as config.yml says.
	Changes int
}

// Provision makes the hosts of the cluster in dir as its config.yml says,
// records their host keys, waits until every one answers SSH with the
// cluster's key, and writes dir/inventory.yml.
func Provision(ctx context.Context, dir string, opts Options) (*Result, error) {
	c, err := LoadCluster(dir)
	if err != nil {
		return nil, err
	}
	c.Out = opts.Out
	p, _ := Lookup(c.Platform())
	if v, ok := p.(Validator); ok {
		if err := v.Validate(ctx, c); err != nil {
			return nil, err
		}
	}
	if err := ensureKeyPair(c); err != nil {
		return nil, err
	}
	hosts, err := p.Provision(ctx, c)
	if err != nil {
		return nil, err
	}
	keys := map[string][]ssh.PublicKey{}
	for _, h := range hosts {
		if len(h.HostKeys) > 0 {
			keys[conn.KnownHostsName(h.Address, h.Port)] = h.HostKeys
		}
	}
	if len(keys) > 0 {
		changed, err := conn.RecordKnownHosts(c.KnownHostsFile(), keys)
		if err != nil {
			return nil, fmt.Errorf("record host keys: %w", err)
		}
		if changed {
			c.Changed("known_hosts: recorded the host keys of %d hosts (read through %s)", len(keys), c.Platform())
		}
	}
	if err := waitSSH(ctx, c, hosts, opts); err != nil {
		return nil, err
	}
	inv, err := buildInventory(c, hosts)
	if err != nil {
		return nil, err
	}
	data, err := inventory.Marshal(inv)
	if err != nil {
		return nil, err
	}
	old, _ := os.ReadFile(c.InventoryFile())
	if !bytes.Equal(old, data) {
		if err := atomicfile.Write(c.InventoryFile(), data, 0o644); err != nil {
			return nil, err
		}
		c.Changed("inventory: wrote %s", c.InventoryFile())
	}
	if n := c.Changes(); n == 0 {
		c.Say("provision: %d hosts, nothing to change", len(hosts))
	} else {
		c.Say("provision: %d hosts ready, %d changes", len(hosts), n)
	}
	return &Result{Cluster: c, Hosts: hosts, Changes: c.Changes()}, nil
}

// Deprovision removes what the cluster's platform made for the cluster in
// dir, and returns what it removed.
func Deprovision(ctx context.Context, dir string, out io.Writer) ([]string, error) {
	c, err := LoadCluster(dir)
	if err != nil {
		return nil, err
	}
	c.Out = out
	p, _ := Lookup(c.Platform())
	d, ok := p.(Deprovisioner)
	if !ok {
		c.Say("deprovision: the %s platform made nothing, so there is nothing to remove", c.Platform())
		return nil, nil
	}
	removed, err := d.Deprovision(ctx, c)
	if err != nil {
		return removed, err
	}
	// The hosts are gone: so are their keys and addresses. Commands that
	// need hosts now say the cluster is not provisioned.
	for _, f := range []string{"known_hosts", "inventory.yml"} {
		if err := os.Remove(filepath.Join(dir, f)); err == nil {
			c.Say("deprovision: removed %s", f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
	}
	return removed, nil
}

// ensureKeyPair makes the cluster's ed25519 key pair, id_<cluster> and
// id_<cluster>.pub in the cluster directory, once.
func ensureKeyPair(c *Cluster) error {
	c.KeyFile = filepath.Join(c.Dir, "id_"+c.Name)
	pubFile := c.KeyFile + ".pub"
	data, err := os.ReadFile(c.KeyFile)
	switch {
	case err == nil:
		signer, err := ssh.ParsePrivateKey(data)
		if err != nil {
			return fmt.Errorf("%s: %w", c.KeyFile, err)
		}
		if st, err := os.Stat(c.KeyFile); err == nil && st.Mode().Perm() != 0o600 {
			if err := os.Chmod(c.KeyFile, 0o600); err != nil {
				return err
			}
		}
		c.PublicKey = string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " tpago:" + c.Name
		if old, err := os.ReadFile(pubFile); err != nil || string(bytes.TrimSpace(old)) != c.PublicKey {
			if err := atomicfile.Write(pubFile, []byte(c.PublicKey+"\n"), 0o644); err != nil {
				return err
			}
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(priv, "tpago:"+c.Name)
	if err != nil {
		return err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	c.PublicKey = string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(sp))) + " tpago:" + c.Name
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(c.KeyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	if err := atomicfile.Write(pubFile, []byte(c.PublicKey+"\n"), 0o644); err != nil {
		return err
	}
	c.Changed("ssh key: made %s", c.KeyFile)
	return nil
}

// SSHConfigFor is how the cluster's hosts are reached.
func (c *Cluster) SSHConfigFor(h Host, acceptNew bool) conn.SSHConfig {
	key := c.KeyFile
	if h.KeyFile != "" {
		key = h.KeyFile
	}
	return conn.SSHConfig{
		Host:           h.Address,
		Port:           h.Port,
		User:           h.User,
		KeyFiles:       []string{key},
		KnownHostsFile: c.KnownHostsFile(),
		AcceptNew:      acceptNew,
		ConnectTimeout: 5 * time.Second,
	}
}

// waitSSH waits until every host runs a command over SSH, each within the
// bounded wait; a host key problem fails at once.
func waitSSH(ctx context.Context, c *Cluster, hosts []Host, opts Options) error {
	wait := opts.SSHWait
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = waitHost(ctx, c.SSHConfigFor(h, opts.AcceptNewHostKeys))
			if errs[i] != nil {
				errs[i] = fmt.Errorf("host %s (%s): %w", h.Name, net.JoinHostPort(h.Address, strconv.Itoa(portOr22(h.Port))), errs[i])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("not every host answers SSH (waited up to %s):\n%w", wait, err)
	}
	return nil
}

func portOr22(p int) int {
	if p == 0 {
		return 22
	}
	return p
}

func waitHost(ctx context.Context, cfg conn.SSHConfig) error {
	var last error
	for {
		cl, err := conn.DialSSH(ctx, cfg)
		if err == nil {
			_, err = cl.Exec(ctx, "true", nil, nil, nil)
			cl.Close()
			if err == nil {
				return nil
			}
		}
		if errors.Is(err, conn.ErrHostKeyMismatch) || errors.Is(err, conn.ErrHostKeyUnknown) {
			return err
		}
		if ctx.Err() != nil {
			if last == nil {
				last = err
			}
			return last
		}
		last = err
		select {
		case <-ctx.Done():
			return last
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// PingResult is one host's answer to Ping.
type PingResult struct {
	Name    string
	Address string
	Latency time.Duration
	Err     error
}

// Ping connects to every host of the inventory in dir and runs `true`,
// timing the round trip (connect, authenticate, run).
func Ping(ctx context.Context, dir string) ([]PingResult, error) {
	file := filepath.Join(dir, "inventory.yml")
	names, vars, err := ReadInventoryHosts(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, exitcode.Bad(fmt.Errorf("%s does not exist: run tpago provision %s first", file, dir))
		}
		return nil, exitcode.Bad(err)
	}
	res := make([]PingResult, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg, err := conn.SSHConfigFromVars(n, conn.MapVars(vars[n]))
			cfg.ConnectTimeout = 5 * time.Second
			r := PingResult{Name: n, Address: cfg.Host}
			start := time.Now()
			var cl *conn.SSH
			if err == nil {
				cl, err = conn.DialSSH(ctx, cfg)
			}
			if err == nil {
				var rc int
				rc, err = cl.Exec(ctx, "true", nil, nil, nil)
				if err == nil && rc != 0 {
					err = fmt.Errorf("`true` exited %d", rc)
				}
				r.Latency = time.Since(start)
				cl.Close()
			}
			r.Err = err
			res[i] = r
		}()
	}
	wg.Wait()
	return res, nil
}

package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/inventory"
)

// Runner runs shell scripts on the cluster's hosts: the one way the
// operations reach a host.
type Runner interface {
	// Run runs a POSIX sh script on host as user ("" or "root": as root).
	// The script travels on stdin, so nothing in it shows in the host's
	// process list. A non-zero exit is in Result.RC; err is a transport
	// failure (host unreachable, connection lost, ctx done).
	Run(ctx context.Context, host, user, script string) (Result, error)
}

// Result is what a script printed and its exit status.
type Result struct {
	Stdout, Stderr string
	RC             int
}

// forgetter is a Runner that can drop what it holds for a host (its
// connection), as after the host's power was cut.
type forgetter interface {
	Forget(host string)
}

// SSHRunner is the Runner over the engine's connections: one SSH
// connection per host, dialled as the inventory says (address, login, key,
// the cluster's known_hosts: a changed host key is refused), with the
// engine's long-lived shells on it and sudo to the script's user.
type SSHRunner struct {
	inv *inventory.Inventory
	// ConnectTimeout bounds each dial (10 s when 0).
	ConnectTimeout time.Duration

	mu    sync.Mutex
	conns map[string]*sshHost
}

type sshHost struct {
	c     *conn.Persistent
	login string
}

var _ Runner = (*SSHRunner)(nil)

// NewSSHRunner returns a Runner that reaches inv's hosts over SSH.
func NewSSHRunner(inv *inventory.Inventory) *SSHRunner {
	return &SSHRunner{inv: inv, conns: map[string]*sshHost{}}
}

// Run implements Runner. Privilege changes happen here and nowhere else:
// the engine's Shell runs the script through sudo when user is not the
// login user.
func (r *SSHRunner) Run(ctx context.Context, host, user, script string) (Result, error) {
	h, err := r.host(ctx, host)
	if err != nil {
		return Result{}, err
	}
	if user == "" {
		user = "root"
	}
	sh := conn.Shell{Conn: h.c, LoginUser: h.login, Become: true, BecomeUser: user}
	out, err := sh.Run(ctx, script)
	if err != nil {
		if ctx.Err() == nil {
			// The connection broke: the next script dials again.
			r.Forget(host)
		}
		return Result{}, fmt.Errorf("%s: %w", host, err)
	}
	return Result{Stdout: string(out.Stdout), Stderr: string(out.Stderr), RC: out.RC}, nil
}

func (r *SSHRunner) host(ctx context.Context, name string) (*sshHost, error) {
	r.mu.Lock()
	h := r.conns[name]
	r.mu.Unlock()
	if h != nil {
		return h, nil
	}
	if _, ok := r.inv.Hosts[name]; !ok {
		return nil, fmt.Errorf("no host %s in the cluster's inventory", name)
	}
	cfg, err := conn.SSHConfigFromVars(name, conn.MapVars(r.inv.HostVars(name)))
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", name, err)
	}
	cfg.ConnectTimeout = r.ConnectTimeout
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.User == "" {
		cfg.User = "root"
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+5*time.Second)
	defer cancel()
	c, err := conn.DialSSH(dctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s (%s): %w", name, cfg.Host, err)
	}
	h = &sshHost{c: conn.NewPersistent(c), login: cfg.User}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.conns[name]; old != nil {
		// Another script dialled at the same time: keep one connection.
		h.c.Close()
		return old, nil
	}
	r.conns[name] = h
	return h, nil
}

// Forget closes the connection to host, if any; the next script dials
// again.
func (r *SSHRunner) Forget(host string) {
	r.mu.Lock()
	h := r.conns[host]
	delete(r.conns, host)
	r.mu.Unlock()
	if h != nil {
		h.c.Close()
	}
}

// Close closes every connection.
func (r *SSHRunner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for n, h := range r.conns {
		errs = append(errs, h.c.Close())
		delete(r.conns, n)
	}
	return errors.Join(errs...)
}

// must runs a script and fails unless it exits 0; it returns stdout.
func must(ctx context.Context, r Runner, host, user, what, script string) (string, error) {
	res, err := r.Run(ctx, host, user, script)
	if err != nil {
		return "", err
	}
	if res.RC != 0 {
		return res.Stdout, fmt.Errorf("%s on %s: exit %d: %s", what, host, res.RC, strings.TrimSpace(res.Stderr+" "+res.Stdout))
	}
	return res.Stdout, nil
}

package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/melbahja/goph"
	"golang.org/x/crypto/ssh"
)

// SSHConfig says how to reach and authenticate to one host.
type SSHConfig struct {
	Host string
	Port int // 22 when 0
	User string
	// KeyFiles are private keys (ansible_ssh_private_key_file). When empty,
	// the user's default keys (~/.ssh/id_ed25519, id_ecdsa, id_rsa) that
	// exist are tried, as OpenSSH does.
	KeyFiles []string
	// UseAgent also tries the keys of the agent at SSH_AUTH_SOCK.
	UseAgent bool
	Password string
	// KnownHostsFile is where host keys are verified ("" means
	// ~/.ssh/known_hosts, as OpenSSH and Ansible).
	KnownHostsFile string
	// AcceptNew records the key of a host that is not in KnownHostsFile
	// (OpenSSH's StrictHostKeyChecking=accept-new). A changed key is always
	// an error.
	AcceptNew bool
	// ConnectTimeout bounds the TCP connect and the SSH handshake (10s when 0).
	ConnectTimeout time.Duration
	// HostKeyAlias is the name looked up and recorded in known_hosts
	// (default Host, or [Host]:Port when the port is not 22).
	HostKeyAlias string
	// MaxSessions bounds the commands running at once over the connection
	// (8 when 0: sshd allows 10 sessions per connection by default).
	MaxSessions int
}

// SSH is a connection to one host; each Exec opens a session on it.
type SSH struct {
	client *goph.Client
	name   string
	sem    chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var _ Conn = (*SSH)(nil)

func (cfg *SSHConfig) port() int {
	if cfg.Port == 0 {
		return 22
	}
	return cfg.Port
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

func (cfg *SSHConfig) auth() (goph.Auth, error) {
	var auth goph.Auth
	keys := cfg.KeyFiles
	defaults := len(keys) == 0
	if defaults {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			p := expandHome("~/.ssh/" + n)
			if _, err := os.Stat(p); err == nil {
				keys = append(keys, p)
			}
		}
	}
	var signers []ssh.Signer
	for _, f := range keys {
		s, err := goph.GetSigner(expandHome(f), "")
		if err != nil {
			if defaults {
				continue // a default key with a passphrase, say: the agent may have it
			}
			return nil, fmt.Errorf("private key %s: %w", f, err)
		}
		signers = append(signers, s)
	}
	if len(signers) > 0 {
		auth = append(auth, ssh.PublicKeys(signers...))
	}
	if cfg.UseAgent && goph.HasAgent() {
		a, err := goph.UseAgent()
		if err != nil {
			return nil, err
		}
		auth = append(auth, a...)
	}
	if cfg.Password != "" {
		auth = append(auth, goph.KeyboardInteractive(cfg.Password)...)
	}
	if len(auth) == 0 {
		return nil, fmt.Errorf("%s: no way to authenticate: give a private key, a password or an agent", cfg.Host)
	}
	return auth, nil
}

// DialSSH connects and authenticates to a host, verifying its key. Errors
// name the host and wrap ErrUnreachable (cannot connect or authenticate),
// ErrHostKeyMismatch or ErrHostKeyUnknown.
func DialSSH(ctx context.Context, cfg SSHConfig) (*SSH, error) {
	port := cfg.port()
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(port))
	name := cfg.HostKeyAlias
	if name == "" {
		name = KnownHostsName(cfg.Host, port)
	}
	khFile := cfg.KnownHostsFile
	if khFile == "" {
		khFile = "~/.ssh/known_hosts"
	}
	khFile = expandHome(khFile)
	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	user := cfg.User
	if user == "" {
		user = os.Getenv("USER")
	}
	if user == "" {
		user = "root"
	}
	auth, err := cfg.auth()
	if err != nil {
		return nil, err
	}
	checker := &hostKeyChecker{file: khFile, name: name, acceptNew: cfg.AcceptNew}
	gcfg := &goph.Config{
		Auth:     auth,
		User:     user,
		Addr:     cfg.Host,
		Port:     uint(port),
		Timeout:  timeout,
		Callback: checker.callback,
	}
	ccfg := &ssh.ClientConfig{
		User:              gcfg.User,
		Auth:              gcfg.Auth,
		HostKeyCallback:   gcfg.Callback,
		HostKeyAlgorithms: checker.algorithms(),
		Timeout:           timeout,
	}

	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreachable, addr, err)
	}
	// The handshake is bounded by the timeout and by ctx.
	_ = nc.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(dctx, func() { _ = nc.SetDeadline(time.Now()) })
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, ccfg)
	stop()
	if err != nil {
		nc.Close()
		switch {
		case checker.err != nil && (errors.Is(checker.err, ErrHostKeyMismatch) || errors.Is(checker.err, ErrHostKeyUnknown)):
			return nil, checker.err
		case checker.err != nil:
			return nil, fmt.Errorf("%s: verify host key: %w", addr, checker.err)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, fmt.Errorf("%w: %s: authentication as %s failed: %v", ErrUnreachable, addr, user, err)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreachable, addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	max := cfg.MaxSessions
	if max <= 0 {
		max = 8
	}
	return &SSH{
		client: &goph.Client{Client: ssh.NewClient(sc, chans, reqs), Config: gcfg},
		name:   addr,
		sem:    make(chan struct{}, max),
	}, nil
}

// Client returns the underlying goph client (for SFTP and the like).
func (c *SSH) Client() *goph.Client { return c.client }

// sessionRetry bounds how long a refused session is retried.
const sessionRetry = 30 * time.Second

// newSession opens a session, waiting and retrying while the server refuses
// one (sshd's MaxSessions).
func (c *SSH) newSession(ctx context.Context) (*ssh.Session, error) {
	delay := 10 * time.Millisecond
	giveUp := time.Now().Add(sessionRetry)
	for {
		s, err := c.client.NewSession()
		if err == nil {
			return s, nil
		}
		var oce *ssh.OpenChannelError
		if !errors.As(err, &oce) {
			return nil, fmt.Errorf("%w: %s: open session: %v", ErrUnreachable, c.name, err)
		}
		if time.Now().After(giveUp) {
			return nil, fmt.Errorf("%s: the server refused a session for %s: %v", c.name, sessionRetry, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 500*time.Millisecond {
			delay *= 2
		}
	}
}

// Exec runs cmd in its own session. Cancelling ctx kills the command
// (SIGKILL, then closing the session) and returns ctx.Err().
func (c *SSH) Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return -1, ctx.Err()
	}
	defer func() { <-c.sem }()
	s, err := c.newSession(ctx)
	if err != nil {
		return -1, err
	}
	defer s.Close()
	// stdin is fed by a goroutine of our own, so that a command that exits
	// without reading all of it does not leave Wait waiting for a reader
	// that never ends.
	var stdinPipe io.WriteCloser
	if stdin != nil {
		if stdinPipe, err = s.StdinPipe(); err != nil {
			return -1, fmt.Errorf("%w: %s: %v", ErrUnreachable, c.name, err)
		}
	}
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	s.Stdout = smallCopier{stdout}
	s.Stderr = smallCopier{stderr}
	if err := s.Start(cmd); err != nil {
		return -1, fmt.Errorf("%w: %s: start command: %v", ErrUnreachable, c.name, err)
	}
	if stdinPipe != nil {
		go func() {
			_, _ = io.CopyBuffer(stdinPipe, stdin, make([]byte, copyBufferSize))
			stdinPipe.Close()
		}()
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = s.Signal(ssh.SIGKILL)
		s.Close()
		return -1, ctx.Err()
	}
	if err == nil {
		return 0, nil
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		if ee.Signal() != "" {
			return 128 + signalNumber(ee.Signal()), nil
		}
		return ee.ExitStatus(), nil
	}
	return -1, fmt.Errorf("%w: %s: %v", ErrUnreachable, c.name, err)
}

// copyBufferSize is the buffer of each stream a command's session copies.
// The copies of a long-lived shell wait with their buffers for the whole
// run: io.Copy's 32 KiB for stdin, stdout and stderr were most of the
// memory a host costs. SSH packets carry at most 32 KiB either way.
const copyBufferSize = 4 << 10

// smallCopier is a writer that the session copies to through a small
// buffer (io.Copy uses a writer's ReadFrom).
type smallCopier struct{ w io.Writer }

func (c smallCopier) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c smallCopier) ReadFrom(r io.Reader) (int64, error) {
	return io.CopyBuffer(struct{ io.Writer }{c.w}, r, make([]byte, copyBufferSize))
}

func signalNumber(sig string) int {
	switch ssh.Signal(sig) {
	case ssh.SIGHUP:
		return 1
	case ssh.SIGINT:
		return 2
	case ssh.SIGQUIT:
		return 3
	case ssh.SIGABRT:
		return 6
	case ssh.SIGKILL:
		return 9
	case ssh.SIGSEGV:
		return 11
	case ssh.SIGPIPE:
		return 13
	case ssh.SIGALRM:
		return 14
	case ssh.SIGTERM:
		return 15
	}
	return 127
}

// Close closes the connection; commands still running are cut off.
func (c *SSH) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.client.Close() })
	return c.closeErr
}

// Package sshfarm serves many cheap SSH "hosts" from one process, so that a
// benchmark of many hosts measures the client and not a crowd of sshd
// processes. Each host is a loopback port with a home folder of its own;
// every port answers with the same host key and accepts one client key.
// Commands run with /bin/sh -c in the host's home, as OpenSSH runs them
// with the login shell: stdin, stdout, stderr, exit-status or exit-signal,
// and signals sent to the command's process group. "shell" sessions run
// /bin/sh reading stdin (there is no pseudo-terminal), and the "sftp"
// subsystem is served in-process.
//
// A farm is a benchmark harness, not a server: it runs commands as the
// user that started it and listens on 127.0.0.1 only.
package sshfarm

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Options configure a farm.
type Options struct {
	// Hosts is how many hosts to serve, each on a port of its own.
	Hosts int
	// Dir holds the hosts' homes: Dir/NAME for each name of Names.
	Dir string
	// Names are the hosts' names (default h0000, h0001, …).
	Names []string
	// HostKey is the key every host presents.
	HostKey ssh.Signer
	// ClientKey is the one public key accepted, for any user name.
	ClientKey ssh.PublicKey
	// Shell runs commands (default /bin/sh).
	Shell string
}

// Host is one served host.
type Host struct {
	Name string
	Port int
	Home string
}

// Stats count what the farm did.
type Stats struct {
	Handshakes int64 // completed SSH handshakes
	Failed     int64 // handshakes that failed
	Sessions   int64 // sessions opened
	// FirstHandshake and LastHandshake bound the handshakes: the start of
	// the first and the end of the last (zero when there was none).
	FirstHandshake, LastHandshake time.Time
}

// Rate is the handshakes per second between the first and the last.
func (s Stats) Rate() float64 {
	d := s.LastHandshake.Sub(s.FirstHandshake).Seconds()
	if s.Handshakes == 0 || d <= 0 {
		return 0
	}
	return float64(s.Handshakes) / d
}

// Farm is a running set of hosts.
type Farm struct {
	Hosts []Host

	cfg       *ssh.ServerConfig
	shell     string
	listeners []net.Listener
	wg        sync.WaitGroup

	mu        sync.Mutex
	conns     map[net.Conn]bool
	procs     map[*os.Process]bool
	closed    bool
	first     time.Time
	last      time.Time
	handshake atomic.Int64
	failed    atomic.Int64
	sessions  atomic.Int64
}

// Start listens on Hosts ports of 127.0.0.1 (chosen by the system) and
// serves them until Close.
func Start(o Options) (*Farm, error) {
	if o.Hosts < 1 {
		return nil, fmt.Errorf("sshfarm: %d hosts: at least one", o.Hosts)
	}
	if o.HostKey == nil || o.ClientKey == nil {
		return nil, errors.New("sshfarm: a host key and a client key are needed")
	}
	if o.Names != nil && len(o.Names) != o.Hosts {
		return nil, fmt.Errorf("sshfarm: %d names for %d hosts", len(o.Names), o.Hosts)
	}
	f := &Farm{shell: o.Shell, conns: map[net.Conn]bool{}, procs: map[*os.Process]bool{}}
	if f.shell == "" {
		f.shell = "/bin/sh"
	}
	want := o.ClientKey.Marshal()
	f.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == string(want) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	f.cfg.AddHostKey(o.HostKey)
	for i := 0; i < o.Hosts; i++ {
		name := fmt.Sprintf("h%04d", i)
		if o.Names != nil {
			name = o.Names[i]
		}
		home := filepath.Join(o.Dir, name)
		if err := os.MkdirAll(home, 0o755); err != nil {
			f.Close()
			return nil, err
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sshfarm: listen for host %d: %w", i, err)
		}
		f.listeners = append(f.listeners, l)
		h := Host{Name: name, Port: l.Addr().(*net.TCPAddr).Port, Home: home}
		f.Hosts = append(f.Hosts, h)
		f.wg.Add(1)
		go f.accept(l, h)
	}
	return f, nil
}

// Stats returns the counts so far.
func (f *Farm) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Stats{Handshakes: f.handshake.Load(), Failed: f.failed.Load(), Sessions: f.sessions.Load(),
		FirstHandshake: f.first, LastHandshake: f.last}
}

// ResetStats sets the counts back to zero.
func (f *Farm) ResetStats() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handshake.Store(0)
	f.failed.Store(0)
	f.sessions.Store(0)
	f.first, f.last = time.Time{}, time.Time{}
}

// Close stops listening, cuts every connection, kills every command still
// running (with its process group) and waits for the farm's goroutines.
func (f *Farm) Close() error {
	f.mu.Lock()
	f.closed = true
	for _, l := range f.listeners {
		l.Close()
	}
	for c := range f.conns {
		c.Close()
	}
	for p := range f.procs {
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
	f.mu.Unlock()
	f.wg.Wait()
	return nil
}

func (f *Farm) track(c net.Conn, on bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if on && f.closed {
		return false
	}
	if on {
		f.conns[c] = true
	} else {
		delete(f.conns, c)
	}
	return true
}

func (f *Farm) accept(l net.Listener, h Host) {
	defer f.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		if !f.track(c, true) {
			c.Close()
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.track(c, false)
			defer c.Close()
			f.serve(c, h)
		}()
	}
}

func (f *Farm) serve(c net.Conn, h Host) {
	start := time.Now()
	_ = c.SetDeadline(start.Add(30 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(c, f.cfg)
	if err != nil {
		f.failed.Add(1)
		return
	}
	_ = c.SetDeadline(time.Time{})
	end := time.Now()
	f.handshake.Add(1)
	f.mu.Lock()
	if f.first.IsZero() || start.Before(f.first) {
		f.first = start
	}
	if end.After(f.last) {
		f.last = end
	}
	f.mu.Unlock()
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		f.sessions.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.session(ch, creqs, h)
		}()
	}
	wg.Wait()
}

// session serves one session channel: environment requests, then one
// exec, shell or subsystem request.
func (f *Farm) session(ch ssh.Channel, reqs <-chan *ssh.Request, h Host) {
	defer ch.Close()
	env := []string{"HOME=" + h.Home, "USER=" + userName(), "LOGNAME=" + userName(), "SHELL=" + f.shell,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	for req := range reqs {
		switch req.Type {
		case "env":
			// Debian's sshd accepts LANG and LC_* (AcceptEnv).
			var kv struct{ Name, Value string }
			ok := ssh.Unmarshal(req.Payload, &kv) == nil && (kv.Name == "LANG" || strings.HasPrefix(kv.Name, "LC_"))
			if ok {
				env = append(env, kv.Name+"="+kv.Value)
			}
			_ = req.Reply(ok, nil)
		case "exec":
			var p struct{ Command string }
			if ssh.Unmarshal(req.Payload, &p) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			f.run(ch, reqs, []string{f.shell, "-c", p.Command}, env, h)
			return
		case "shell":
			_ = req.Reply(true, nil)
			f.run(ch, reqs, []string{f.shell}, env, h)
			return
		case "subsystem":
			var p struct{ Name string }
			if ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			go discard(reqs)
			srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(h.Home))
			if err == nil {
				_ = srv.Serve()
				srv.Close()
			}
			sendStatus(ch, 0)
			return
		default:
			// pty-req, x11-req, auth-agent-req and the like: refused.
			_ = req.Reply(false, nil)
		}
	}
}

func discard(reqs <-chan *ssh.Request) {
	for r := range reqs {
		if r.WantReply {
			_ = r.Reply(false, nil)
		}
	}
}

var (
	userOnce sync.Once
	user     string
)

func userName() string {
	userOnce.Do(func() {
		user = os.Getenv("USER")
		if user == "" {
			user = "root"
		}
	})
	return user
}

// run runs argv in its own session (setsid, as sshd does), stdin from the
// channel, output to it, and answers "signal" requests by signalling the
// process group. The exit status or signal is sent when the command has
// ended and its output is copied.
func (f *Farm) run(ch ssh.Channel, reqs <-chan *ssh.Request, argv []string, env []string, h Host) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = h.Home
	cmd.Env = env
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintf(ch.Stderr(), "sshfarm: %v\n", err)
		go discard(reqs)
		sendStatus(ch, 127)
		return
	}
	f.mu.Lock()
	closed := f.closed
	f.procs[cmd.Process] = true
	f.mu.Unlock()
	if closed {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	go func() {
		_, _ = io.Copy(stdin, ch)
		stdin.Close()
	}()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				discard(reqs)
				return
			case r, ok := <-reqs:
				if !ok {
					return
				}
				if r.Type == "signal" {
					var p struct{ Name string }
					if ssh.Unmarshal(r.Payload, &p) == nil {
						if sig, ok := signals[p.Name]; ok {
							_ = syscall.Kill(-cmd.Process.Pid, sig)
						}
					}
				}
				if r.WantReply {
					_ = r.Reply(false, nil)
				}
			}
		}
	}()
	err = cmd.Wait()
	f.mu.Lock()
	delete(f.procs, cmd.Process)
	f.mu.Unlock()
	var ee *exec.ExitError
	switch {
	case err == nil:
		sendStatus(ch, 0)
	case errors.As(err, &ee):
		ws, _ := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			name := signalName(ws.Signal())
			_, _ = ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
				Signal     string
				CoreDumped bool
				Error      string
				Lang       string
			}{Signal: name, CoreDumped: ws.CoreDump()}))
		} else {
			sendStatus(ch, uint32(ws.ExitStatus()))
		}
	default:
		sendStatus(ch, 255)
	}
}

func sendStatus(ch ssh.Channel, rc uint32) {
	_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{rc}))
	_ = ch.CloseWrite()
}

var signals = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE, "HUP": syscall.SIGHUP,
	"ILL": syscall.SIGILL, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE,
	"QUIT": syscall.SIGQUIT, "SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

func signalName(s syscall.Signal) string {
	for n, v := range signals {
		if v == s {
			return n
		}
	}
	return strconv.Itoa(int(s))
}

// Keys are a farm's host key and the client key it accepts.
type Keys struct {
	Host       ssh.Signer
	Client     ssh.PublicKey
	ClientPEM  []byte // the client's private key, OpenSSH format
	HostPublic ssh.PublicKey
}

// NewKeys makes a fresh ed25519 host key and client key.
func NewKeys() (*Keys, error) {
	_, hpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	hs, err := ssh.NewSignerFromKey(hpriv)
	if err != nil {
		return nil, err
	}
	cpub, cpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(cpriv, "")
	if err != nil {
		return nil, err
	}
	cp, err := ssh.NewPublicKey(cpub)
	if err != nil {
		return nil, err
	}
	return &Keys{Host: hs, HostPublic: hs.PublicKey(), Client: cp, ClientPEM: pem.EncodeToMemory(block)}, nil
}

// KnownHosts returns a known_hosts file's content naming every host of the
// farm as OpenSSH does ("[127.0.0.1]:PORT").
func (f *Farm) KnownHosts(key ssh.PublicKey) []byte {
	var b strings.Builder
	for _, h := range f.Hosts {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort("127.0.0.1", strconv.Itoa(h.Port)))}, key))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

package conn

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/tpago/tpago/atomicfile"
)

// KnownHostsName is the name a host is recorded under in known_hosts, as
// OpenSSH writes it: "host" for port 22, "[host]:port" otherwise.
func KnownHostsName(host string, port int) string {
	if port == 0 || port == 22 {
		return host
	}
	return "[" + host + "]:" + strconv.Itoa(port)
}

// knownHostsAddr turns a known_hosts name ("h", "[h]:p") into the
// host:port form the knownhosts package matches on.
func knownHostsAddr(name string) string {
	if strings.HasPrefix(name, "[") {
		if i := strings.Index(name, "]:"); i > 0 {
			return net.JoinHostPort(name[1:i], name[i+2:])
		}
	}
	return net.JoinHostPort(strings.Trim(name, "[]"), "22")
}

// fileLocks serialises writers of one known_hosts file within the process;
// an flock on a side file serialises processes.
var fileLocks sync.Map // abs path -> *sync.Mutex

func lockFile(path string) (unlock func(), err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	m, _ := fileLocks.LoadOrStore(abs, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	lf, err := os.OpenFile(filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		mu.Unlock()
		return nil, err
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		lf.Close()
		mu.Unlock()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
		lf.Close()
		mu.Unlock()
	}, nil
}

// hostKeyChecker verifies host keys against one known_hosts file.
type hostKeyChecker struct {
	file      string
	name      string // the known_hosts name of the host
	acceptNew bool
	// err is the verification failure, kept apart from the handshake's
	// wrapping so that the caller can classify it.
	err error
}

// parsedFile is a known_hosts file as parsed, with what identifies the
// version of it that was read.
type parsedFile struct {
	size     int64
	mtime    time.Time
	ino      uint64
	content  []byte
	parsedAt time.Time
	cb       ssh.HostKeyCallback
}

// parsed caches parsed known_hosts files: a run dials every host of an
// inventory that shares one file, and parsing the whole file per dial
// costs time in the square of the hosts. A file that changed (a recorded
// key, another process's write) is parsed again: the size, modification
// time and inode tell, except for a file modified within a second of its
// parsing (file times are coarse), whose content is compared, as git
// does for its index.
var parsed sync.Map // path -> *parsedFile

// racyWindow is how close to its parsing a file's modification time must
// be for its content to be compared.
const racyWindow = time.Second

// load reads the file as a knownhosts callback; a missing file is empty.
func (h *hostKeyChecker) load() (ssh.HostKeyCallback, error) {
	now := time.Now()
	fi, err := os.Stat(h.file)
	if err == nil {
		var ino uint64
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = st.Ino
		}
		v, _ := parsed.Load(h.file)
		p, _ := v.(*parsedFile)
		if p != nil && p.size == fi.Size() && p.mtime.Equal(fi.ModTime()) && p.ino == ino &&
			fi.ModTime().Before(p.parsedAt.Add(-racyWindow)) {
			return p.cb, nil
		}
		var content []byte
		if content, err = os.ReadFile(h.file); err == nil {
			if p != nil && bytes.Equal(p.content, content) {
				return p.cb, nil
			}
			var cb ssh.HostKeyCallback
			if cb, err = knownhosts.New(h.file); err == nil {
				parsed.Store(h.file, &parsedFile{size: fi.Size(), mtime: fi.ModTime(), ino: ino, content: content, parsedAt: now, cb: cb})
				return cb, nil
			}
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return func(string, net.Addr, ssh.PublicKey) error {
			return &knownhosts.KeyError{}
		}, nil
	}
	return nil, fmt.Errorf("read %s: %w", h.file, err)
}

// probeKey is a throwaway key that no known_hosts line records.
var probeKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, _ := ed25519.GenerateKey(nil)
	k, _ := ssh.NewPublicKey(pub)
	return k
})

// knownKeys returns the keys recorded for the host.
func (h *hostKeyChecker) knownKeys() ([]knownhosts.KnownKey, error) {
	cb, err := h.load()
	if err != nil {
		return nil, err
	}
	// A throwaway key never matches, so the answer lists what is recorded.
	err = cb(knownHostsAddr(h.name), &net.TCPAddr{IP: net.IPv4zero}, probeKey())
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) {
		return ke.Want, nil
	}
	return nil, err
}

// algorithms returns the host key algorithms to ask the server for, so that
// a host recorded with one key type is verified with that type.
func (h *hostKeyChecker) algorithms() []string {
	keys, err := h.knownKeys()
	if err != nil || len(keys) == 0 {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, k := range keys {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
			add(ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algos
}

// callback is the ssh.HostKeyCallback.
func (h *hostKeyChecker) callback(_ string, remote net.Addr, key ssh.PublicKey) error {
	h.err = h.check(remote, key)
	return h.err
}

func (h *hostKeyChecker) check(remote net.Addr, key ssh.PublicKey) error {
	cb, err := h.load()
	if err != nil {
		return err
	}
	err = cb(knownHostsAddr(h.name), remote, key)
	if err == nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		var re *knownhosts.RevokedError
		if errors.As(err, &re) {
			return fmt.Errorf("%w: %s presented a revoked %s key (%s)", ErrHostKeyMismatch, h.name, key.Type(), h.file)
		}
		return err
	}
	if len(ke.Want) > 0 {
		w := ke.Want[0]
		return fmt.Errorf("%w: %s presented %s key %s, but %s:%d records %s; if the host was rebuilt, remove that line",
			ErrHostKeyMismatch, h.name, key.Type(), ssh.FingerprintSHA256(key), w.Filename, w.Line, ssh.FingerprintSHA256(w.Key))
	}
	if !h.acceptNew {
		return fmt.Errorf("%w: %s (%s key %s) is not in %s", ErrHostKeyUnknown, h.name, key.Type(), ssh.FingerprintSHA256(key), h.file)
	}
	return h.record(remote, key)
}

// record appends the host's key to the file, unless another writer did so
// meanwhile. The file is rewritten through a temporary file and a rename,
// so that a reader never sees half a line.
func (h *hostKeyChecker) record(remote net.Addr, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(h.file), 0o700); err != nil {
		return err
	}
	unlock, err := lockFile(h.file)
	if err != nil {
		return fmt.Errorf("lock %s: %w", h.file, err)
	}
	defer unlock()
	// Look again under the lock: a concurrent dial may have recorded it.
	cb, err := h.load()
	if err != nil {
		return err
	}
	err = cb(knownHostsAddr(h.name), remote, key)
	var ke *knownhosts.KeyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ke) && len(ke.Want) > 0:
		return fmt.Errorf("%w: %s presented %s key %s, but another key was just recorded in %s",
			ErrHostKeyMismatch, h.name, key.Type(), ssh.FingerprintSHA256(key), h.file)
	case !errors.As(err, &ke):
		return err
	}
	return AppendKnownHost(h.file, h.name, key)
}

// AppendKnownHost adds "name key" to a known_hosts file atomically. The
// caller serialises writers (see RecordKnownHosts for a locked version).
func AppendKnownHost(file, name string, key ssh.PublicKey) error {
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var b bytes.Buffer
	b.Write(old)
	if len(old) > 0 && old[len(old)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(knownHostsAddr(name))}, key))
	b.WriteByte('\n')
	defer parsed.Clear()
	return atomicfile.Write(file, b.Bytes(), 0o600)
}

// RecordKnownHosts records keys under names in a known_hosts file, under
// the file's lock, replacing whatever was recorded for those names before.
// It is how a provisioner writes keys it read through a trusted channel.
func RecordKnownHosts(file string, keys map[string][]ssh.PublicKey) (changed bool, err error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return false, err
	}
	unlock, err := lockFile(file)
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", file, err)
	}
	defer unlock()
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	normalized := map[string]bool{}
	for name := range keys {
		normalized[knownhosts.Normalize(knownHostsAddr(name))] = true
	}
	var b bytes.Buffer
	for _, line := range strings.Split(string(old), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && !strings.HasPrefix(f[0], "#") && !strings.HasPrefix(f[0], "@") {
			drop := false
			for _, n := range strings.Split(f[0], ",") {
				if normalized[n] {
					drop = true
				}
			}
			if drop {
				continue
			}
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, k := range keys[n] {
			b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(knownHostsAddr(n))}, k))
			b.WriteByte('\n')
		}
	}
	if bytes.Equal(b.Bytes(), old) {
		return false, nil
	}
	defer parsed.Clear()
	return true, atomicfile.Write(file, b.Bytes(), 0o600)
}

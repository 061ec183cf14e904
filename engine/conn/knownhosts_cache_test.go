package conn

import (
	"crypto/ed25519"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newKey(t *testing.T) ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	k, err := ssh.NewPublicKey(pub)
	require.NoError(t, err)
	return k
}

// TestKnownHostsReparsedWhenChanged: the parsed file is kept between dials,
// but a file rewritten behind our back (another process, an editor) is
// read again, so a changed key is never missed.
func TestKnownHostsReparsedWhenChanged(t *testing.T) {
	file := filepath.Join(t.TempDir(), "known_hosts")
	name := KnownHostsName("127.0.0.1", 2222)
	a, b := newKey(t), newKey(t)
	line := func(k ssh.PublicKey) []byte {
		return []byte(knownhosts.Line([]string{knownhosts.Normalize(knownHostsAddr(name))}, k) + "\n")
	}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}
	h := &hostKeyChecker{file: file, name: name}

	require.NoError(t, os.WriteFile(file, line(a), 0o600))
	require.NoError(t, h.check(remote, a))
	require.NoError(t, h.check(remote, a), "from the parsed copy")

	// Same size, another key, rewritten in place (as an editor would)
	// within the file system's time granularity: the content tells.
	fi, err := os.Stat(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, line(b), 0o600))
	require.NoError(t, os.Chtimes(file, fi.ModTime(), fi.ModTime()))
	err = h.check(remote, a)
	assert.True(t, errors.Is(err, ErrHostKeyMismatch), "%v", err)
	assert.NoError(t, h.check(remote, b))

	// An old file, unchanged, is not read again; changed, it is.
	old := fi.ModTime().Add(-time.Hour)
	require.NoError(t, os.Chtimes(file, old, old))
	assert.NoError(t, h.check(remote, b))
	assert.NoError(t, h.check(remote, b), "from the parsed copy")
	require.NoError(t, os.WriteFile(file, line(a), 0o600))
	assert.NoError(t, h.check(remote, a))

	// Our own writers forget every parsed file.
	c := newKey(t)
	require.NoError(t, os.Remove(file))
	_, err = RecordKnownHosts(file, map[string][]ssh.PublicKey{name: {c}})
	require.NoError(t, err)
	assert.NoError(t, h.check(remote, c))
	err = h.check(remote, b)
	assert.True(t, errors.Is(err, ErrHostKeyMismatch), "%v", err)
}

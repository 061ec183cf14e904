package aws

import (
	"bufio"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Markers cloud-init prints around the host's public keys on the console.
const (
	beginHostKeys = "-----BEGIN SSH HOST KEY KEYS-----"
	endHostKeys   = "-----END SSH HOST KEY KEYS-----"
)

// ParseHostKeys reads the SSH host keys that cloud-init printed on an
// instance's console, between the BEGIN and END SSH HOST KEY KEYS lines.
// Lines may carry a prefix (a timestamp, "ec2: "); a block cut off before
// its END line counts for nothing; when the console shows several blocks
// (the instance rebooted), the last complete one wins. ok is false when no
// complete block was found.
func ParseHostKeys(console string) (keys []ssh.PublicKey, ok bool) {
	var cur []ssh.PublicKey
	in := false
	sc := bufio.NewScanner(strings.NewReader(console))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.Contains(line, beginHostKeys):
			in, cur = true, nil
		case strings.Contains(line, endHostKeys):
			if in {
				keys, ok = cur, true
			}
			in = false
		case in:
			if k := parseKeyLine(line); k != nil {
				cur = append(cur, k)
			}
		}
	}
	return keys, ok && len(keys) > 0
}

// parseKeyLine finds "<algorithm> <base64>" in a line of the block.
func parseKeyLine(line string) ssh.PublicKey {
	f := strings.Fields(line)
	for i := 0; i+1 < len(f); i++ {
		if !strings.HasPrefix(f[i], "ssh-") && !strings.HasPrefix(f[i], "ecdsa-") && !strings.HasPrefix(f[i], "sk-") {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(f[i] + " " + f[i+1]))
		if err == nil && k.Type() == f[i] {
			return k
		}
	}
	return nil
}

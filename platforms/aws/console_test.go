package aws

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

func TestParseHostKeys(t *testing.T) {
	recorded, err := os.ReadFile("testdata/console-debian12.txt")
	require.NoError(t, err)
	text := string(recorded)
	block := text[strings.Index(text, beginHostKeys) : strings.Index(text, endHostKeys)+len(endHostKeys)]
	ed := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnPs7TCxurRJEWvzAv8hl00ov/2MGusXJxsRE147f4Z"
	other := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA+nJSnFX4UX8ealw1d7+FlY+6F4n/POne9MWnVB5for"
	for _, tc := range []struct {
		name    string
		console string
		want    []string // key types, in order
		ok      bool
	}{
		{"recorded Debian 12 first boot", text, []string{"ecdsa-sha2-nistp256", "ssh-ed25519"}, true},
		{"lines with a logger prefix", strings.ReplaceAll(block, "\n", "\n<14>Jul 18 10:00:07 ec2: "), []string{"ecdsa-sha2-nistp256", "ssh-ed25519"}, true},
		{"nothing printed yet", text[:strings.Index(text, beginHostKeys)], nil, false},
		{"cut off before the end", text[:strings.Index(text, endHostKeys)], nil, false},
		{"empty block", beginHostKeys + "\n" + endHostKeys + "\n", nil, false},
		{"garbage lines are skipped", beginHostKeys + "\nssh-ed25519 not-base64\nrandom text\n" + ed + " root@x\n" + endHostKeys, []string{"ssh-ed25519"}, true},
		{"after a reboot the last block wins", text + "\n" + beginHostKeys + "\n" + other + " root@pine\n" + endHostKeys + "\n", []string{"ssh-ed25519"}, true},
		{"a half block after a complete one", text + beginHostKeys + "\n" + other + "\n", []string{"ecdsa-sha2-nistp256", "ssh-ed25519"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, ok := ParseHostKeys(tc.console)
			assert.Equal(t, tc.ok, ok)
			var types []string
			for _, k := range keys {
				types = append(types, k.Type())
			}
			if tc.ok {
				assert.Equal(t, tc.want, types)
			}
		})
	}
	keys, _ := ParseHostKeys(text)
	want, _, _, _, err := ssh.ParseAuthorizedKey([]byte(ed))
	require.NoError(t, err)
	assert.Equal(t, want.Marshal(), keys[1].Marshal(), "the key itself, not just its type")
	keys, _ = ParseHostKeys(text + "\n" + beginHostKeys + "\n" + other + " root@pine\n" + endHostKeys + "\n")
	want, _, _, _, _ = ssh.ParseAuthorizedKey([]byte(other))
	assert.Equal(t, want.Marshal(), keys[0].Marshal())
}

package conn

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Quote gives what Python's shlex.quote (Ansible's quote filter) gives, and
// sh reads every quoted word back as it was.
func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain-word", "plain-word"},
		{"", "''"},
		{"it's", `'it'"'"'s'`},
		{"''", `''"'"''"'"''`},
		{"a b", "'a b'"},
		{"$HOME", "'$HOME'"},
		{"x=1;y", "'x=1;y'"},
		{"ünï", "'ünï'"},
		{"a\nb", "'a\nb'"},
		{"@%+=:,./-_", "@%+=:,./-_"},
		{"*", "'*'"},
	} {
		assert.Equal(t, tc.want, Quote(tc.in), "%q", tc.in)
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+Quote(tc.in)).Output()
		require.NoError(t, err)
		assert.Equal(t, tc.in, string(out), "sh reads back %q", tc.in)
	}
}

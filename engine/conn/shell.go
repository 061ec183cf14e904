package conn

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
)

// Output is what a script printed and its exit status.
type Output struct {
	Stdout []byte
	Stderr []byte
	RC     int
}

// Runner runs POSIX sh scripts on a host. The script travels on stdin, never
// on a command line, so that what it carries (file content, passwords) does
// not show in the host's process list.
type Runner interface {
	// Run runs script with /bin/sh. A non-zero exit is not an error: it is in
	// Output.RC. err reports a transport failure (see ErrUnreachable).
	Run(ctx context.Context, script string) (Output, error)
}

// Shell is the Runner over a Conn, with privilege escalation and
// environment applied.
type Shell struct {
	Conn Conn
	// LoginUser is the user the connection logs in as ("" when unknown).
	LoginUser string
	// Become runs the script as BecomeUser (root when empty) through sudo.
	Become     bool
	BecomeUser string
	// Env is exported before the script runs.
	Env map[string]string
	// Trace, when set, receives each command line and script sent.
	Trace func(cmd, script string)
}

var _ Runner = (*Shell)(nil)

// remoteCmd reads the whole script from stdin, then runs it with stdin at
// end of file, so that no command in the script can swallow the script.
const remoteCmd = `/bin/sh -c 'eval "$(cat)"'`

// Command returns the command line that Run starts on the host.
func (s *Shell) Command() string { return s.prefix() + remoteCmd }

// prefix is what runs the shell as the become user ("" for the login user).
func (s *Shell) prefix() string {
	if !s.Become {
		return ""
	}
	user := s.BecomeUser
	if user == "" {
		user = "root"
	}
	if user == s.LoginUser {
		return ""
	}
	return "sudo -n -H -u " + Quote(user) + " -- "
}

// Run implements Runner.
func (s *Shell) Run(ctx context.Context, script string) (Output, error) {
	var b strings.Builder
	if s.prefix() != "" {
		// As another user, start where that user may read: the login
		// user's folder usually is not (psql, for one, complains).
		b.WriteString("cd \"$HOME\" 2>/dev/null || cd /\n")
	}
	if len(s.Env) > 0 {
		keys := make([]string, 0, len(s.Env))
		for k := range s.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := CheckEnvName(k); err != nil {
				return Output{}, err
			}
			fmt.Fprintf(&b, "export %s=%s\n", k, Quote(s.Env[k]))
		}
	}
	b.WriteString(script)
	cmd := s.Command()
	if s.Trace != nil {
		s.Trace(cmd, b.String())
	}
	var stdout, stderr bytes.Buffer
	if sc, ok := s.Conn.(ScriptConn); ok {
		rc, err := sc.RunScript(ctx, s.prefix(), []byte(b.String()), &stdout, &stderr)
		return Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), RC: rc}, err
	}
	rc, err := s.Conn.Exec(ctx, cmd, strings.NewReader(b.String()), &stdout, &stderr)
	return Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), RC: rc}, err
}

// CheckEnvName tells whether name can be exported by a POSIX shell: a
// letter or underscore, then letters, digits and underscores. Anything else
// would be shell syntax on the export line.
func CheckEnvName(name string) error {
	ok := name != ""
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			ok = false
			break
		}
	}
	if !ok {
		return fmt.Errorf("environment: %q is not a valid variable name (letters, digits and _, not starting with a digit)", name)
	}
	return nil
}

// Quote quotes s for POSIX sh exactly as Python's shlex.quote does (and so
// as Ansible's quote filter): a word of safe characters as it is, anything
// else in single quotes, a single quote as '"'"'. It is the one shell
// quoting function of tpago: modules, connections and the quote filter use
// it.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// Heredoc returns a shell fragment that writes data to its stdout, for use
// in a script: `{Heredoc(data)} > "$tmp"`. Data is carried in base64, so any
// bytes survive.
func Heredoc(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	b.WriteString("base64 -d <<'__TPAGO_DATA__'\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteByte('\n')
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\n__TPAGO_DATA__")
	return b.String()
}

package modules

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&Command{})
	module.Register(&Shell{})
}

// Command runs a program with its arguments, without a shell.
type Command struct{}

// Shell runs a command line with /bin/sh (or another shell).
type Shell struct{}

func commandArgs(shell bool) []module.Arg {
	args := []module.Arg{
		{Name: "cmd", Type: module.String, Aliases: []string{"_raw_params"}, Doc: "the command to run (free form)"},
		{Name: "chdir", Type: module.String, Doc: "change into this directory first"},
		{Name: "creates", Type: module.String, Doc: "do not run when this path exists"},
		{Name: "removes", Type: module.String, Doc: "run only when this path exists"},
		{Name: "stdin", Type: module.String, Doc: "text fed to the command's standard input"},
		{Name: "stdin_add_newline", Type: module.Bool, Default: true, Doc: "add a newline to stdin"},
		{Name: "strip_empty_ends", Type: module.Bool, Default: true, Doc: "strip trailing newlines from stdout and stderr"},
	}
	if shell {
		args = append(args, module.Arg{Name: "executable", Type: module.String, Doc: "shell to run the command with (default /bin/sh)"})
	} else {
		args = append(args, module.Arg{Name: "argv", Type: module.List, Doc: "the command as a list of words, instead of cmd"})
	}
	return args
}

// Spec implements module.Module.
func (*Command) Spec() module.Spec {
	return module.Spec{
		Name:      "command",
		Check:     module.CheckPredicts,
		Doc:       "Run a command on the host without a shell (no pipes, redirections or variables)",
		Args:      commandArgs(false),
		FreeForm:  "cmd",
		OneOf:     [][]string{{"cmd", "argv"}},
		Exclusive: [][]string{{"cmd", "argv"}},
	}
}

// Spec implements module.Module.
func (*Shell) Spec() module.Spec {
	return module.Spec{
		Name:     "shell",
		Check:    module.CheckPredicts,
		Doc:      "Run a command line on the host through /bin/sh",
		Args:     commandArgs(true),
		FreeForm: "cmd",
		OneOf:    [][]string{{"cmd"}},
	}
}

// Run implements module.Module.
func (*Command) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	var argv []string
	if args.Has("argv") {
		argv = args.Strings("argv")
	} else {
		var err error
		if argv, err = splitWords(args.String("cmd")); err != nil {
			return nil, fmt.Errorf("cmd: %w", err)
		}
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("no command given")
	}
	return runCommand(ctx, rt, args, "exec "+quoteAll(argv), strs(argv))
}

// Run implements module.Module.
func (*Shell) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	sh := args.String("executable")
	if sh == "" {
		sh = "/bin/sh"
	}
	cmd := args.String("cmd")
	return runCommand(ctx, rt, args, "exec "+conn.Quote(sh)+" -c "+conn.Quote(cmd), cmd)
}

// notRunPrefix starts the marker line that says the command did not run.
const notRunPrefix = "__TPAGO_NOT_RUN_"

// runCommand runs line (a shell line that execs the command) after the
// creates/removes and chdir steps. The command's output is the script's
// output; a marker line with a per-run nonce says it was not run. shown is
// the result's cmd: the argv list for command, the string for shell.
func runCommand(ctx context.Context, rt *module.Runtime, args module.Args, line string, shown any) (*module.Result, error) {
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	marker := notRunPrefix + hex.EncodeToString(nonce) + "__"
	var b strings.Builder
	if p := args.String("creates"); p != "" {
		fmt.Fprintf(&b, "set -- %s\nif [ -e \"$1\" ]; then echo %s; echo 'Did not run command since '%s' exists'; exit 0; fi\n", globWord(p), marker, conn.Quote(p))
	}
	if p := args.String("removes"); p != "" {
		fmt.Fprintf(&b, "set -- %s\nif [ ! -e \"$1\" ]; then echo %s; echo 'Did not run command since '%s' does not exist'; exit 0; fi\n", globWord(p), marker, conn.Quote(p))
	}
	if rt.Check {
		fmt.Fprintf(&b, "echo %s; echo check; exit 0\n", marker)
	}
	if d := args.String("chdir"); d != "" {
		fmt.Fprintf(&b, "cd %s || exit 1\n", conn.Quote(d))
	}
	if args.Has("stdin") {
		in := args.String("stdin")
		if args.Bool("stdin_add_newline") {
			in += "\n"
		}
		b.WriteString("{ " + conn.Heredoc([]byte(in)) + "\n} | " + line + "\n")
	} else {
		b.WriteString(line + " </dev/null\n")
	}
	start := time.Now()
	out, err := rt.Remote.Run(ctx, b.String())
	end := time.Now()
	if err != nil {
		return nil, err
	}
	stdout, stderr := string(out.Stdout), string(out.Stderr)
	if rest, ok := strings.CutPrefix(stdout, marker+"\n"); ok {
		msg := stripNL(rest)
		if msg == "check" {
			return &module.Result{Skipped: true, Msg: "skipped in check mode", Data: map[string]any{"cmd": shown}}, nil
		}
		return &module.Result{Msg: msg, HasRC: true, Data: map[string]any{"cmd": shown}}, nil
	}
	if args.Bool("strip_empty_ends") {
		stdout, stderr = stripNL(stdout), stripNL(stderr)
	}
	res := &module.Result{
		Changed: true, HasRC: true, RC: out.RC, Stdout: stdout, Stderr: stderr,
		Data: map[string]any{
			"cmd":          shown,
			"start":        start.Format("2006-01-02 15:04:05.000000"),
			"end":          end.Format("2006-01-02 15:04:05.000000"),
			"delta":        fmtDelta(end.Sub(start)),
			"stdout_lines": lines(stdout),
			"stderr_lines": lines(stderr),
		},
	}
	if out.RC != 0 {
		res.Failed = true
		res.Msg = "non-zero return code"
	}
	return res, nil
}

// globWord quotes p for sh but leaves its glob characters (* ? [ ]) active,
// so that creates/removes may name a pattern as in Ansible.
func globWord(p string) string {
	var b strings.Builder
	lit := ""
	for _, r := range p {
		if strings.ContainsRune("*?[]", r) {
			if lit != "" {
				b.WriteString(conn.Quote(lit))
				lit = ""
			}
			b.WriteRune(r)
			continue
		}
		lit += string(r)
	}
	if lit != "" {
		b.WriteString(conn.Quote(lit))
	}
	return b.String()
}

// fmtDelta formats a duration like Python's timedelta ("0:00:01.234567").
func fmtDelta(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d:%02d:%02d.%06d", us/3600e6, us/60e6%60, us/1e6%60, us%1e6)
}

// splitWords splits a command line into words the way sh does, quoting
// included, but without expansions: 'a b' and "a b" are one word, \x is x.
func splitWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote in %q", s)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				w.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated double quote in %q", s)
			}
			inWord = true
		case c == '\\':
			if i+1 < len(s) {
				i++
				w.WriteByte(s[i])
			}
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

var (
	_ module.Module = (*Command)(nil)
	_ module.Module = (*Shell)(nil)
)

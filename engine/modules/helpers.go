// Package modules holds tpago's built-in modules. Each one registers itself
// with module.Register in an init function.
//
// A remote module builds one POSIX sh script (see script) that reads the
// host's state, decides, applies unless in check mode, and reports what it
// found as "@T key=value" lines (see parse). Arguments are quoted with
// conn.Quote and file content travels in base64 here-documents, never on a
// command line.
package modules

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
)

// prelude defines the shell helpers every script may use:
//
//	say KEY VALUE      report a value (one line; newlines are flattened)
//	say64 KEY FILE     report a file's content in base64
//	die MESSAGE        report a failure and exit 1
//	attrs PATH MODE OWNER GROUP
//	                   bring a path's mode/owner/group to the wanted ones
//	                   (empty = leave alone), reporting *_before/*_after
//	                   and attrs_changed=1; honours $CHECK.
const prelude = `umask 022
set -f
nl='
'
say() { case $2 in *"$nl"*) printf '@T %s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n' ' ')" ;; *) printf '@T %s=%s\n' "$1" "$2" ;; esac; }
say64() { printf '@T %s=' "$1"; base64 -w0 < "$2"; printf '\n'; }
die() { say fail "$1"; exit 1; }
isnum() { case $1 in ''|*[!0-9]*) return 1;; esac; return 0; }
attrs() {
  _p=$1 _m=$2 _o=$3 _g=$4
  if [ -n "$_o" ]; then
    _cu=$(stat -c %U "$_p") _cuid=$(stat -c %u "$_p")
    if [ "$_o" != "$_cu" ] && [ "$_o" != "$_cuid" ]; then
      getent passwd "$_o" >/dev/null 2>&1 || isnum "$_o" || die "owner $_o: no such user"
      say owner_before "$_cu"; say owner_after "$_o"; say attrs_changed 1
      [ "$CHECK" = 1 ] || chown -h "$_o" "$_p" || die "cannot change the owner of $_p to $_o"
    fi
  fi
  if [ -n "$_g" ]; then
    _cg=$(stat -c %G "$_p") _cgid=$(stat -c %g "$_p")
    if [ "$_g" != "$_cg" ] && [ "$_g" != "$_cgid" ]; then
      getent group "$_g" >/dev/null 2>&1 || isnum "$_g" || die "group $_g: no such group"
      say group_before "$_cg"; say group_after "$_g"; say attrs_changed 1
      [ "$CHECK" = 1 ] || chgrp -h "$_g" "$_p" || die "cannot change the group of $_p to $_g"
    fi
  fi
  if [ -n "$_m" ] && [ ! -L "$_p" ]; then
    _cm=$(stat -c %04a "$_p")
    case $_m in
      [0-7]*) _nm=$(printf '%04o' "0$_m") ;;
      *)
        if [ -d "$_p" ]; then _t=$(mktemp -d); else _t=$(mktemp); fi
        chmod "$_cm" "$_t" && chmod "$_m" "$_t" || { rm -rf "$_t"; die "invalid mode $_m"; }
        _nm=$(stat -c %04a "$_t"); rm -rf "$_t" ;;
    esac
    if [ "$_nm" != "$_cm" ]; then
      say mode_before "$_cm"; say mode_after "$_nm"; say attrs_changed 1
      [ "$CHECK" = 1 ] || chmod "$_nm" "$_p" || die "cannot change the mode of $_p to $_nm"
    fi
  fi
}
`

// script builds a remote script: the prelude, CHECK and DIFF set from the
// runtime, then the module's own lines.
type script struct {
	b strings.Builder
}

func newScript(rt *module.Runtime) *script {
	s := &script{}
	s.b.WriteString(prelude)
	s.setb("CHECK", rt.Check)
	s.setb("DIFF", rt.Diff)
	return s
}

// set assigns a shell variable, quoted.
func (s *script) set(name, value string) *script {
	fmt.Fprintf(&s.b, "%s=%s\n", name, conn.Quote(value))
	return s
}

func (s *script) setb(name string, v bool) *script {
	if v {
		return s.set(name, "1")
	}
	return s.set(name, "0")
}

// line appends raw script text (a newline is added).
func (s *script) line(text string) *script {
	s.b.WriteString(text)
	s.b.WriteByte('\n')
	return s
}

// linef appends formatted script text (a newline is added).
func (s *script) linef(format string, a ...any) *script {
	fmt.Fprintf(&s.b, format, a...)
	s.b.WriteByte('\n')
	return s
}

// data writes data into the file named by the shell word target
// (e.g. `"$tmp"`), through a base64 here-document.
func (s *script) data(data []byte, target string) *script {
	s.b.WriteString("{ ")
	s.b.WriteString(conn.Heredoc(data))
	s.b.WriteString("\n} > ")
	s.b.WriteString(target)
	s.b.WriteByte('\n')
	return s
}

func (s *script) String() string { return s.b.String() }

// kv is a script's report: every "@T key=value" line, in order.
type kv map[string][]string

func parse(out []byte) kv {
	r := kv{}
	for _, l := range bytes.Split(out, []byte("\n")) {
		rest, ok := bytes.CutPrefix(l, []byte("@T "))
		if !ok {
			continue
		}
		k, v, _ := bytes.Cut(rest, []byte("="))
		r[string(k)] = append(r[string(k)], string(v))
	}
	return r
}

// parseSections splits a report at each "@T file=…" line: one kv per
// section, for scripts that handle several files.
func parseSections(out []byte) []kv {
	var secs []kv
	for _, l := range bytes.Split(out, []byte("\n")) {
		rest, ok := bytes.CutPrefix(l, []byte("@T "))
		if !ok {
			continue
		}
		k, v, _ := bytes.Cut(rest, []byte("="))
		if string(k) == "file" {
			secs = append(secs, kv{})
		}
		if len(secs) > 0 {
			secs[len(secs)-1][string(k)] = append(secs[len(secs)-1][string(k)], string(v))
		}
	}
	return secs
}

// get returns the last value reported for k ("" if none).
func (r kv) get(k string) string {
	v := r[k]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func (r kv) has(k string) bool { return len(r[k]) > 0 }

func (r kv) flag(k string) bool { return r.get(k) == "1" }

func (r kv) int(k string) int {
	n, _ := strconv.Atoi(r.get(k))
	return n
}

// bytes decodes a base64 value.
func (r kv) bytes(k string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(r.get(k))
}

// scriptError is a failure a script reported (with die) or an unexpected
// exit.
type scriptError struct {
	msg    string
	rc     int
	stderr string
}

func (e *scriptError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	s := strings.TrimSpace(e.stderr)
	if s == "" {
		return fmt.Sprintf("remote script exited with status %d", e.rc)
	}
	return fmt.Sprintf("remote script exited with status %d: %s", e.rc, s)
}

// run sends the script and parses its report. A non-zero exit is an error
// carrying the script's "fail" message, or its stderr.
func run(ctx context.Context, rt *module.Runtime, s *script) (kv, conn.Output, error) {
	if rt.Remote == nil {
		return nil, conn.Output{}, fmt.Errorf("no connection to host %s", rt.Host)
	}
	out, err := rt.Remote.Run(ctx, s.String())
	if err != nil {
		return nil, out, err
	}
	r := parse(out.Stdout)
	if out.RC != 0 {
		msg := r.get("fail")
		return r, out, &scriptError{msg: msg, rc: out.RC, stderr: string(out.Stderr)}
	}
	return r, out, nil
}

// logf logs to the verbose log when there is one.
func logf(rt *module.Runtime, format string, a ...any) {
	if rt.Logf != nil {
		rt.Logf(format, a...)
	}
}

// normMode makes an octal mode four digits ("644" → "0644"); symbolic modes
// are returned as given.
func normMode(m string) string {
	if m == "" {
		return ""
	}
	if n, err := strconv.ParseUint(strings.TrimPrefix(m, "0o"), 8, 32); err == nil {
		return fmt.Sprintf("%04o", n)
	}
	return m
}

// attrArgs are the mode/owner/group arguments many modules share.
func attrArgs() []module.Arg {
	return []module.Arg{
		{Name: "mode", Type: module.Mode, Doc: "permissions, octal (\"0644\") or symbolic (\"u=rw,g=r\")"},
		{Name: "owner", Type: module.String, Doc: "user that should own the file (name or uid)"},
		{Name: "group", Type: module.String, Doc: "group that should own the file (name or gid)"},
	}
}

// attrsCall is the shell call that applies args' mode/owner/group to the
// path held in the shell word pathWord.
func attrsCall(pathWord string, args module.Args) string {
	return fmt.Sprintf("attrs %s %s %s %s", pathWord, conn.Quote(normMode(args.String("mode"))),
		conn.Quote(args.String("owner")), conn.Quote(args.String("group")))
}

// attrDiff reports the attribute changes a script found, as a diff
// ("mode: 0644" → "mode: 0600"), and whether there were any.
func attrDiff(r kv, path string) (module.Diff, bool) {
	var before, after strings.Builder
	for _, k := range []string{"owner", "group", "mode"} {
		if r.has(k + "_before") {
			fmt.Fprintf(&before, "%s: %s\n", k, r.get(k+"_before"))
			fmt.Fprintf(&after, "%s: %s\n", k, r.get(k+"_after"))
		}
	}
	return module.Diff{BeforeHeader: path, AfterHeader: path, Before: before.String(), After: after.String()}, before.Len() > 0
}

// stateDiff is a before/after diff of a state ("absent" → "directory").
func stateDiff(header, before, after string) module.Diff {
	return module.Diff{BeforeHeader: header, AfterHeader: header, Before: before + "\n", After: after + "\n"}
}

// isBinary reports whether data looks like binary content (holds a NUL).
func isBinary(data []byte) bool { return bytes.IndexByte(data, 0) >= 0 }

// stripNL removes trailing newlines and carriage returns, like Ansible does
// with a command's output.
func stripNL(s string) string { return strings.TrimRight(s, "\r\n") }

// lines splits output into lines (none for empty output).
func lines(s string) []any {
	if s == "" {
		return []any{}
	}
	var out []any
	for _, l := range strings.Split(s, "\n") {
		out = append(out, l)
	}
	return out
}

// strs turns a []string into a []any, for Data.
func strs(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// quoteAll quotes each word for sh and joins them with spaces.
func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = conn.Quote(w)
	}
	return strings.Join(q, " ")
}

// decodeJSON decodes JSON from the host with whole numbers as int (as
// Ansible's results have them) and others as float64.
func decodeJSON(data []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	*v = jsonNumbers(*v)
	return nil
}

func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = jsonNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = jsonNumbers(x[k])
		}
	}
	return v
}

package conn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ScriptConn is an optional capability of a connection: running a script
// under a command prefix (such as sudo -u postgres) faster than Exec does.
type ScriptConn interface {
	RunScript(ctx context.Context, prefix string, script []byte, stdout, stderr io.Writer) (int, error)
}

// Persistent wraps a connection with long-lived shells, one pool per
// command prefix, each reading scripts one after the other. A script costs
// a few writes on an open channel instead of a new session, a login shell
// and its start-up: the round trip that DESIGN.md measured at a third of
// the time. Scripts still run in a subshell each, so nothing one does (cd,
// export, exit) reaches the next.
type Persistent struct {
	Conn
	// MaxShells bounds the shells per prefix; beyond it, scripts fall back
	// to Exec (default 4).
	MaxShells int

	mu     sync.Mutex
	pools  map[string][]*pshell
	closed bool
	// direct lists the prefixes whose shells could not start (sudo to a
	// user that does not exist yet, say): their scripts go through Exec,
	// which reports the real error.
	direct map[string]bool
}

var (
	_ Conn       = (*Persistent)(nil)
	_ ScriptConn = (*Persistent)(nil)
)

// NewPersistent wraps c.
func NewPersistent(c Conn) *Persistent { return &Persistent{Conn: c, pools: map[string][]*pshell{}} }

// pshell is one long-lived shell.
type pshell struct {
	busy   bool
	dead   bool
	used   bool // has run a script to its end
	marker string
	stdin  io.WriteCloser
	out    *frameReader
	errs   *frameReader
	done   chan struct{}
}

// serverScript reads "LENGTH\n" then LENGTH bytes of script, runs the
// script in a subshell with stdin at end of file, and ends its output on
// both streams with a marker line (the exit status on stdout). GNU head -c
// never reads past the count, and dash reads the length line a byte at a
// time, so no script swallows the next. The running subshell's pid is in
// $d/pid, where stopScript finds it: a write per script, nothing more.
const serverScript = `d="${TMPDIR:-/tmp}/$M"
mkdir -m 700 "$d" || exit 1
trap 'rm -rf "$d"' EXIT
while IFS= read -r n; do
	head -c "$n" >"$d/s"
	( . "$d/s" ) </dev/null &
	echo $! >"$d/pid"
	wait $!
	rc=$?
	printf '\n%s %d\n' "$M" "$rc"
	printf '\n%s\n' "$M" >&2
done`

// stopScript ends the script a shell runs, and every process it started:
// the tree under its subshell is frozen (so that nothing forks away), sent
// TERM, let go, and after a second sent KILL.
const stopScript = `f="${TMPDIR:-/tmp}/$M/pid"
[ -f "$f" ] || exit 0
root=$(cat "$f")
tree() {
	ps -eo pid=,ppid= 2>/dev/null | awk -v root="$root" '
		{ parent[$1] = $2 }
		END {
			keep[root] = 1
			do { n = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; n++ } } while (n)
			for (p in keep) print p
		}'
}
pids=$(tree)
[ -n "$pids" ] || pids=$root
kill -STOP $pids 2>/dev/null
pids=$(tree | sort -u; printf '%s\n' $pids)
kill -TERM $pids 2>/dev/null
kill -CONT $pids 2>/dev/null
alive() {
	for p in $pids; do kill -0 "$p" 2>/dev/null && return 0; done
	return 1
}
for i in 1 2 3 4 5; do
	alive || exit 0
	sleep 0.2
done
kill -KILL $pids 2>/dev/null
exit 0`

func (p *Persistent) get(prefix string) *pshell {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.direct[prefix] {
		return nil
	}
	live := p.pools[prefix][:0]
	for _, s := range p.pools[prefix] {
		if !s.dead {
			live = append(live, s)
		}
	}
	p.pools[prefix] = live
	for _, s := range live {
		if !s.busy {
			s.busy = true
			return s
		}
	}
	max := p.MaxShells
	if max <= 0 {
		max = 4
	}
	if len(live) >= max {
		return nil
	}
	s := p.start(prefix)
	if s == nil {
		return nil
	}
	s.busy = true
	p.pools[prefix] = append(p.pools[prefix], s)
	return s
}

func (p *Persistent) start(prefix string) *pshell {
	var rb [12]byte
	if _, err := rand.Read(rb[:]); err != nil {
		return nil
	}
	marker := "__TPAGO_END_" + hex.EncodeToString(rb[:]) + "__"
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	s := &pshell{marker: marker, stdin: inW, done: make(chan struct{}),
		out: newFrameReader(outR, marker), errs: newFrameReader(errR, marker)}
	cmd := prefix + "/bin/sh -c " + Quote("M="+marker+"; "+serverScript)
	go func() {
		_, _ = p.Conn.Exec(context.Background(), cmd, inR, outW, errW)
		outW.CloseWithError(io.ErrUnexpectedEOF)
		errW.CloseWithError(io.ErrUnexpectedEOF)
		inR.Close()
		close(s.done)
	}()
	return s
}

// kill retires a shell: it is never given a script again.
func (p *Persistent) kill(s *pshell) {
	p.mu.Lock()
	s.dead = true
	p.mu.Unlock()
	s.stdin.Close()
}

func (p *Persistent) release(prefix string, s *pshell) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.busy = false
	if s.dead {
		s.stdin.Close()
	}
}

// RunScript runs script through a shell of prefix's pool (prefix is
// empty, or a command such as "sudo -n -H -u postgres -- " that runs what
// follows it).
func (p *Persistent) RunScript(ctx context.Context, prefix string, script []byte, stdout, stderr io.Writer) (int, error) {
	s := p.get(prefix)
	if s == nil {
		return p.Conn.Exec(ctx, prefix+remoteCmd, bytes.NewReader(script), stdout, stderr)
	}
	defer p.release(prefix, s)
	type res struct {
		rc  int
		err error
	}
	ch := make(chan res, 1)
	// Output is kept until the script's end: a shell that could not start
	// leaves nothing behind in the caller's writers.
	var outBuf, errBuf bytes.Buffer
	go func() {
		var wg sync.WaitGroup
		var trailer string
		var outErr, errErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, errErr = s.errs.next(&errBuf) }()
		go func() { defer wg.Done(); trailer, outErr = s.out.next(&outBuf) }()
		_, werr := fmt.Fprintf(s.stdin, "%d\n", len(script))
		if werr == nil {
			_, werr = s.stdin.Write(script)
		}
		wg.Wait()
		err := outErr
		if err == nil {
			err = errErr
		}
		if err == nil {
			err = werr
		}
		if err != nil {
			ch <- res{-1, err}
			return
		}
		rc, perr := strconv.Atoi(strings.TrimSpace(trailer))
		if perr != nil {
			ch <- res{-1, fmt.Errorf("bad exit status %q", trailer)}
			return
		}
		ch <- res{rc, nil}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			p.kill(s)
			if !s.used {
				// The shell never ran anything: its command failed to
				// start. Exec reports why, as a failed command.
				p.mu.Lock()
				if p.direct == nil {
					p.direct = map[string]bool{}
				}
				p.direct[prefix] = true
				p.mu.Unlock()
				return p.Conn.Exec(ctx, prefix+remoteCmd, bytes.NewReader(script), stdout, stderr)
			}
			return -1, fmt.Errorf("%w: shell ended: %v", ErrUnreachable, r.err)
		}
		s.used = true
		if stdout != nil {
			stdout.Write(outBuf.Bytes())
		}
		if stderr != nil {
			stderr.Write(errBuf.Bytes())
		}
		return r.rc, nil
	case <-ctx.Done():
		p.kill(s)
		// The script would go on running on the host (a timeout, an
		// interrupted run): it is ended with everything it started.
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = p.Conn.Exec(sctx, prefix+"/bin/sh -c "+Quote("M="+s.marker+"; "+stopScript), nil, io.Discard, io.Discard)
		return -1, ctx.Err()
	}
}

// Close ends every shell and the connection.
func (p *Persistent) Close() error {
	p.mu.Lock()
	p.closed = true
	for _, l := range p.pools {
		for _, s := range l {
			s.stdin.Close()
		}
	}
	p.pools = nil
	p.mu.Unlock()
	return p.Conn.Close()
}

// frameReader splits a stream into frames, each ended by "\n" MARKER and
// the rest of that line.
type frameReader struct {
	r      io.Reader
	marker []byte
	buf    []byte
	eof    error
}

func newFrameReader(r io.Reader, marker string) *frameReader {
	return &frameReader{r: r, marker: []byte("\n" + marker)}
}

// chunks are the read buffers of frame readers, taken for one frame: a
// buffer per frame was most of what a run allocated.
var chunks = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

// next copies the next frame's content to w and returns what followed the
// marker on its line.
func (f *frameReader) next(w io.Writer) (string, error) {
	if w == nil {
		w = io.Discard
	}
	chunk := chunks.Get().(*[]byte)
	defer chunks.Put(chunk)
	for {
		if i := bytes.Index(f.buf, f.marker); i >= 0 {
			if j := bytes.IndexByte(f.buf[i+len(f.marker):], '\n'); j >= 0 {
				if _, err := w.Write(f.buf[:i]); err != nil {
					return "", err
				}
				end := i + len(f.marker) + j
				trailer := string(f.buf[i+len(f.marker) : end])
				f.buf = append(f.buf[:0], f.buf[end+1:]...)
				return trailer, nil
			}
		} else if keep := len(f.marker); len(f.buf) > keep {
			// Flush what cannot be part of a marker.
			n := len(f.buf) - keep
			if _, err := w.Write(f.buf[:n]); err != nil {
				return "", err
			}
			f.buf = append(f.buf[:0], f.buf[n:]...)
		}
		if f.eof != nil {
			return "", f.eof
		}
		n, err := f.r.Read(*chunk)
		f.buf = append(f.buf, (*chunk)[:n]...)
		if err != nil {
			f.eof = err
		}
	}
}

package reliability

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// dsn is a connection string for a node as postgres, with a short connect timeout.
func dsn(ip, password, db string) string {
	return fmt.Sprintf("host=%s port=5432 user=postgres password=%s dbname=%s connect_timeout=1 sslmode=disable", ip, password, db)
}

// ack is one insert the server acknowledged.
type ack struct {
	ID   int64
	At   time.Time
	Node string
}

// writer inserts rows one after another into rel_writes on whichever node
// is the writable primary and records every insert the server acknowledged.
type writer struct {
	c        *cluster
	password string
	sync     string // synchronous_commit for the session
	mu       sync.Mutex
	acks     []ack
	errs     int
	next     int64
}

// newWriter makes a writer whose ids start after base (one range per round
// on a shared table).
func newWriter(c *cluster, password, syncCommit string, base int64) *writer {
	return &writer{c: c, password: password, sync: syncCommit, next: base}
}

func (w *writer) acked() []ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]ack(nil), w.acks...)
}

func (w *writer) lastAck() (ack, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.acks) == 0 {
		return ack{}, false
	}
	return w.acks[len(w.acks)-1], true
}

// connectPrimary finds a node that accepts writes.
func (w *writer) connectPrimary(ctx context.Context) (*pgx.Conn, string) {
	for _, n := range w.c.pgNodes() {
		cctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		conn, err := pgx.Connect(cctx, dsn(n.IP, w.password, "postgres"))
		if err != nil {
			cancel()
			continue
		}
		var ro bool
		err = conn.QueryRow(cctx, "SELECT pg_is_in_recovery()").Scan(&ro)
		if err == nil && !ro {
			_, err = conn.Exec(cctx, "SET synchronous_commit = "+w.sync)
		}
		cancel()
		if err != nil || ro {
			conn.Close(context.Background())
			continue
		}
		return conn, n.Name
	}
	return nil, ""
}

// run writes until ctx ends. Each insert has 2 s to be acknowledged;
// an insert without an answer is not counted (its fate is unknown).
func (w *writer) run(ctx context.Context) {
	var conn *pgx.Conn
	var on string
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for ctx.Err() == nil {
		if conn == nil {
			conn, on = w.connectPrimary(ctx)
			if conn == nil {
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
		}
		w.mu.Lock()
		w.next++
		id := w.next
		w.mu.Unlock()
		ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := conn.Exec(ictx, "INSERT INTO rel_writes (id) VALUES ($1)", id)
		cancel()
		if err != nil {
			w.mu.Lock()
			w.errs++
			w.mu.Unlock()
			conn.Close(context.Background())
			conn = nil
			continue
		}
		w.mu.Lock()
		w.acks = append(w.acks, ack{ID: id, At: time.Now(), Node: on})
		w.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
}

// sampler asks every Postgres node every 100 ms whether it accepts writes
// (answers and is not in recovery) and counts the samples where more than
// one did.
type sampler struct {
	c        *cluster
	password string
	state    map[string]*atomic.Int32 // 1 writable, 0 not or no answer
	samples  atomic.Int64
	double   atomic.Int64 // samples with two or more writable nodes
	firstTwo atomic.Int64 // unix ms of the first such sample
	log      []string
	mu       sync.Mutex
}

func newSampler(c *cluster, password string) *sampler {
	s := &sampler{c: c, password: password, state: map[string]*atomic.Int32{}}
	for _, n := range c.pgNodes() {
		s.state[n.Name] = new(atomic.Int32)
	}
	return s
}

func (s *sampler) writable(name string) bool { return s.state[name].Load() == 1 }

func (s *sampler) poll(ctx context.Context, n node) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	st := s.state[n.Name]
	for ctx.Err() == nil {
		t0 := time.Now()
		if conn == nil {
			cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			c, err := pgx.Connect(cctx, dsn(n.IP, s.password, "postgres"))
			cancel()
			if err == nil {
				conn = c
			}
		}
		w := int32(0)
		if conn != nil {
			qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			var ro bool
			err := conn.QueryRow(qctx, "SELECT pg_is_in_recovery()").Scan(&ro)
			cancel()
			if err != nil {
				conn.Close(context.Background())
				conn = nil
			} else if !ro {
				w = 1
			}
		}
		st.Store(w)
		if d := 100*time.Millisecond - time.Since(t0); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
	}
}

// run polls every node and takes a sample every 100 ms until ctx ends.
func (s *sampler) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, n := range s.c.pgNodes() {
		wg.Add(1)
		go func() { defer wg.Done(); s.poll(ctx, n) }()
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-tick.C:
		}
		var on []string
		for name, st := range s.state {
			if st.Load() == 1 {
				on = append(on, name)
			}
		}
		s.samples.Add(1)
		if len(on) > 1 {
			if s.double.Add(1) == 1 {
				s.firstTwo.Store(time.Now().UnixMilli())
				s.mu.Lock()
				s.log = append(s.log, fmt.Sprintf("%s: writable at once: %v", time.Now().Format("15:04:05.000"), on))
				s.mu.Unlock()
			}
		}
	}
}

// background runs f in a goroutine until the returned stop is called;
// stop waits for f to return, and may be called more than once.
func background(ctx context.Context, f func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// waitAcks waits until the writer has had an insert above id acknowledged.
func (w *writer) waitAcks(ctx context.Context, above int64) bool {
	return waitFor(ctx, 30*time.Second, 100*time.Millisecond, func(context.Context) bool {
		a, ok := w.lastAck()
		return ok && a.ID > above
	})
}

// waitPromoted waits for a Postgres node other than old to accept writes.
func (s *sampler) waitPromoted(ctx context.Context, old string, timeout time.Duration) (node, bool) {
	var promoted node
	ok := waitFor(ctx, timeout, 50*time.Millisecond, func(context.Context) bool {
		for _, n := range s.c.pgNodes() {
			if n.Name != old && s.writable(n.Name) {
				promoted = n
				return true
			}
		}
		return false
	})
	return promoted, ok
}

// createWritesTable creates rel_writes, the writer's table, on the primary.
func (c *cluster) createWritesTable(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	primary, ok := c.primaryNow(ctx, "")
	require.True(t, ok, "no primary")
	_, err := c.psql(ctx, primary, "postgres", "CREATE TABLE rel_writes (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")
	require.NoError(t, err)
}

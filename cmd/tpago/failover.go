package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/platforms/docker"
)

// failoverHost is one host of the cluster as the failover checks see it.
type failoverHost struct {
	Name, Container, IP string
	Roles               []string
}

// failoverRun holds what a failover round needs.
type failoverRun struct {
	cli   *client.Client
	out   io.Writer
	start time.Time
	pg    []failoverHost // Postgres nodes (primary, replicas)
	other *failoverHost  // where the writer runs: a host that is not killed
	// service is the Postgres unit (postgresql@VERSION-main).
	service string
	// manager is the failover manager: repmgr or patroni.
	manager string
	cluster string
}

func (r *failoverRun) say(format string, a ...any) {
	fmt.Fprintf(r.out, "[%5.1fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, a...))
}

func (r *failoverRun) exec(ctx context.Context, h failoverHost, script string) (string, error) {
	out, errOut, rc, err := docker.Exec(ctx, r.cli, h.Container, []string{"/bin/sh", "-c", script})
	if err != nil {
		return "", err
	}
	if rc != 0 {
		return out, fmt.Errorf("%s: exit %d: %s", h.Name, rc, strings.TrimSpace(errOut+" "+out))
	}
	return out, nil
}

func (r *failoverRun) psql(ctx context.Context, h failoverHost, sql string) (string, error) {
	out, err := r.exec(ctx, h, "cd /tmp && runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d postgres -c "+conn.Quote(sql))
	return strings.TrimSpace(out), err
}

func (r *failoverRun) primary(ctx context.Context, except string) (failoverHost, bool) {
	for _, h := range r.pg {
		if h.Name == except {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		out, err := r.psql(qctx, h, "SELECT pg_is_in_recovery()")
		cancel()
		if err == nil && out == "f" {
			return h, true
		}
	}
	return failoverHost{}, false
}

// failoverFigures is what a round measured.
type failoverFigures struct {
	Old, New        string
	ToPromoted      time.Duration
	ToWritable      time.Duration
	Acked, Lost     int
	Followed        bool
	OldCameBack     string // "fenced", "standby", "WRITABLE" or "down"
	RejoinHow       string // what made the old primary a standby
	Rejoin          time.Duration
	RejoinedHasRows bool
}

// runFailoverChecks kills the primary's container of a docker cluster while
// a client writes through a multi-host connection string, measures the time
// to a new writable primary and the acknowledged writes lost, checks the
// other standbys follow it, starts the old primary again (it must not come
// back writable), and checks it becomes a standby with the new primary's
// rows: with repmgr by running repmgr node rejoin --force-rewind, with
// Patroni by itself (pg_rewind). It is destructive: use it on a test
// cluster.
func runFailoverChecks(ctx context.Context, out io.Writer, cl *clusterDir) error {
	if err := cl.requireProvisioned(); err != nil {
		return exitWith(2, err)
	}
	version := "15"
	if v, ok := cl.cfg.ClusterVars["postgres_version"]; ok && v != nil {
		version = fmt.Sprint(v)
	}
	r := &failoverRun{out: out, start: time.Now(), service: "postgresql@" + version + "-main", manager: "repmgr", cluster: cl.cfg.ClusterName}
	if fm, ok := cl.cfg.ClusterVars["failover_manager"].(string); ok {
		r.manager = fm
	}
	if r.manager != "repmgr" && r.manager != "patroni" {
		return exitWith(2, fmt.Errorf("the failover checks know repmgr and Patroni clusters; %s uses %s", cl.cfg.ClusterName, r.manager))
	}
	for i := range cl.cfg.Instances {
		in := &cl.cfg.Instances[i]
		if cl.cfg.PlatformOf(in) != "docker" {
			return exitWith(2, fmt.Errorf("the failover checks kill containers: they work on docker clusters only (%s is on %q)", in.Name, cl.cfg.PlatformOf(in)))
		}
		h := failoverHost{Name: in.Name, Container: cl.cfg.ClusterName + "-" + in.Name, IP: in.IPAddress, Roles: in.Role}
		switch {
		case hasRole(in.Role, "primary") || hasRole(in.Role, "replica"):
			r.pg = append(r.pg, h)
		case hasRole(in.Role, "barman") && r.other == nil:
			r.other = &h
		}
	}
	if len(r.pg) < 2 {
		return exitWith(2, fmt.Errorf("the failover checks need a primary and at least one replica; %s has %d Postgres nodes", cl.cfg.ClusterName, len(r.pg)))
	}
	if r.other == nil {
		return exitWith(2, fmt.Errorf("the failover checks run their writer on the Barman host; %s has none", cl.cfg.ClusterName))
	}
	cli, err := docker.NewClient(ctx)
	if err != nil {
		return exitWith(1, err)
	}
	r.cli = cli
	defer r.cli.Close()
	f, err := r.round(ctx, cl.cfg)
	fmt.Fprintln(out)
	fmt.Fprintf(out, "failover: old primary %s, new primary %s\n", f.Old, f.New)
	fmt.Fprintf(out, "  promoted after the kill:      %.1f s\n", f.ToPromoted.Seconds())
	fmt.Fprintf(out, "  first write acknowledged:     %.1f s\n", f.ToWritable.Seconds())
	fmt.Fprintf(out, "  writes acknowledged / lost:   %d / %d\n", f.Acked, f.Lost)
	fmt.Fprintf(out, "  other standbys follow it:     %v\n", f.Followed)
	fmt.Fprintf(out, "  old primary started again:    %s\n", f.OldCameBack)
	fmt.Fprintf(out, "  %-30s%.1f s, has the new rows: %v\n", "rejoin ("+f.RejoinHow+"):", f.Rejoin.Seconds(), f.RejoinedHasRows)
	if err != nil {
		return exitWith(1, err)
	}
	if f.OldCameBack == "WRITABLE" {
		return exitWith(1, fmt.Errorf("the old primary %s came back writable beside %s (split brain): %s", f.Old, f.New, r.where()))
	}
	return nil
}

func (r *failoverRun) round(ctx context.Context, cfg *cluster.Config) (failoverFigures, error) {
	var f failoverFigures
	old, ok := r.primary(ctx, "")
	if !ok {
		return f, errNoPrimary
	}
	f.Old = old.Name
	token := strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := r.psql(ctx, old, "CREATE TABLE IF NOT EXISTS tpago_failover_check (round text, id bigint, at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (round, id))"); err != nil {
		return f, err
	}
	var hosts []string
	for _, h := range r.pg {
		hosts = append(hosts, h.IP)
	}
	// libpq finds the writable node among all of them.
	dsn := fmt.Sprintf("host=%s user=barman dbname=postgres connect_timeout=1 target_session_attrs=read-write", strings.Join(hosts, ","))
	stop := "/tmp/tpago-failover-stop-" + token
	writer := fmt.Sprintf(`cd /tmp; i=0; n=0
while [ ! -e %[1]s ] && [ $n -lt 3000 ]; do
  i=$((i+1)); n=$((n+1))
  if timeout 3 runuser -u barman -- psql -XAtq %[2]s -c "INSERT INTO tpago_failover_check (round, id) VALUES ('%[3]s', $i)" >/dev/null 2>&1; then
    echo "ack $i $(date +%%s.%%N)"
  fi
  sleep 0.05
done
rm -f %[1]s`, stop, conn.Quote(dsn), token)
	var wg sync.WaitGroup
	var writerOut string
	var writerErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		writerOut, writerErr = r.exec(ctx, *r.other, writer)
	}()
	stopWriter := func() {
		r.exec(context.Background(), *r.other, "touch "+stop)
		wg.Wait()
	}
	defer stopWriter()
	time.Sleep(3 * time.Second)

	r.say("killing %s (the primary) while %s writes", old.Container, r.other.Name)
	if err := r.cli.ContainerKill(ctx, old.Container, "KILL"); err != nil {
		return f, fmt.Errorf("docker kill %s: %w", old.Container, err)
	}
	killed := time.Now()
	var nw failoverHost
	for {
		if h, ok := r.primary(ctx, old.Name); ok {
			nw = h
			break
		}
		if time.Since(killed) > 2*time.Minute {
			return f, fmt.Errorf("no standby became primary within 2 minutes of killing %s (%s)", old.Name, r.where())
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.ToPromoted = time.Since(killed)
	f.New = nw.Name
	r.say("%s is the primary (%.1f s after the kill)", nw.Name, f.ToPromoted.Seconds())

	// The other standbys follow the new primary.
	deadline := time.Now().Add(time.Minute)
	for !f.Followed && time.Now().Before(deadline) {
		f.Followed = true
		for _, h := range r.pg {
			if h.Name == old.Name || h.Name == nw.Name {
				continue
			}
			got, err := r.psql(ctx, h, "SELECT sender_host FROM pg_stat_wal_receiver WHERE status = 'streaming'")
			if err != nil || got != nw.IP {
				f.Followed = false
			}
		}
		if !f.Followed {
			time.Sleep(200 * time.Millisecond)
		}
	}
	r.say("other standbys stream from %s: %v", nw.Name, f.Followed)
	time.Sleep(3 * time.Second)
	stopWriter()
	if writerErr != nil {
		return f, fmt.Errorf("writer on %s: %w", r.other.Name, writerErr)
	}
	acked := map[int64]bool{}
	for _, l := range strings.Split(writerOut, "\n") {
		var id int64
		var at float64
		if _, err := fmt.Sscanf(l, "ack %d %f", &id, &at); err != nil {
			continue
		}
		acked[id] = true
		t := time.Unix(0, int64(at*1e9))
		if f.ToWritable == 0 && t.After(killed) {
			f.ToWritable = t.Sub(killed)
		}
	}
	f.Acked = len(acked)
	have, err := r.psql(ctx, nw, fmt.Sprintf("SELECT id FROM tpago_failover_check WHERE round = '%s'", token))
	if err != nil {
		return f, err
	}
	present := map[int64]bool{}
	for _, l := range strings.Fields(have) {
		if id, err := strconv.ParseInt(l, 10, 64); err == nil {
			present[id] = true
		}
	}
	for id := range acked {
		if !present[id] {
			f.Lost++
		}
	}
	r.say("writes acknowledged %d, lost %d", f.Acked, f.Lost)

	// The old primary's container starts again.
	if err := r.cli.ContainerStart(ctx, old.Container, container.StartOptions{}); err != nil {
		return f, fmt.Errorf("docker start %s: %w", old.Container, err)
	}
	started := time.Now()
	if r.manager == "patroni" {
		err = r.patroniComesBack(ctx, old, nw, &f, started)
	} else {
		err = r.repmgrRejoin(ctx, old, nw, &f)
	}
	if err != nil || f.OldCameBack == "WRITABLE" {
		return f, err
	}
	want, err := r.psql(ctx, nw, fmt.Sprintf("SELECT count(*) FROM tpago_failover_check WHERE round = '%s'", token))
	if err != nil {
		return f, err
	}
	deadline = time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		got, err := r.psql(ctx, old, fmt.Sprintf("SELECT pg_is_in_recovery()::text || ' ' || count(*) FROM tpago_failover_check WHERE round = '%s'", token))
		if err == nil && got == "true "+want {
			f.RejoinedHasRows = true
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if r.manager == "patroni" {
		f.Rejoin = time.Since(started)
	}
	r.say("%s rejoined as a standby of %s in %.1f s", old.Name, nw.Name, f.Rejoin.Seconds())
	return f, nil
}

// where says where to look when the failover went wrong.
func (r *failoverRun) where() string {
	if r.manager == "patroni" {
		return "patronictl list; journalctl -u patroni"
	}
	return "repmgr cluster show; /var/log/repmgr/repmgrd.log; journalctl -t tpago-fence"
}

// repmgrRejoin watches the old primary come back (the fence must stop it)
// and rejoins it with repmgr node rejoin --force-rewind.
func (r *failoverRun) repmgrRejoin(ctx context.Context, old, nw failoverHost, f *failoverFigures) error {
	f.RejoinHow = "--force-rewind"
	f.OldCameBack = "down"
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		state, _ := r.exec(ctx, old, "systemctl is-active "+r.service+" || true")
		state = strings.TrimSpace(state)
		if state == "failed" {
			f.OldCameBack = "fenced"
			log, _ := r.exec(ctx, old, "journalctl -q -t tpago-fence --no-pager -o cat | tail -n 1")
			r.say("%s came back fenced: %s", old.Name, strings.TrimSpace(log))
			break
		}
		if state == "active" {
			if got, err := r.psql(ctx, old, "SELECT pg_is_in_recovery()"); err == nil {
				f.OldCameBack = map[string]string{"f": "WRITABLE", "t": "standby"}[got]
				r.say("%s came back as %s", old.Name, f.OldCameBack)
				break
			}
		}
		time.Sleep(time.Second)
	}
	if f.OldCameBack == "WRITABLE" {
		return nil
	}
	// Rejoin it as a standby of the new primary, as the fence says. A
	// checkpoint first: until the promoted node's first checkpoint its
	// control file still shows the old timeline, and pg_rewind then finds
	// nothing to rewind (the standby cannot follow).
	if _, err := r.psql(ctx, nw, "CHECKPOINT"); err != nil {
		return err
	}
	rejoin := fmt.Sprintf("systemctl stop "+r.service+"; cd /tmp && runuser -u postgres -- repmgr -f /etc/repmgr.conf node rejoin -d 'host=%s user=repmgr dbname=repmgr connect_timeout=2' --force-rewind 2>&1 && systemctl restart repmgrd", nw.IP)
	t0 := time.Now()
	if out, err := r.exec(ctx, old, rejoin); err != nil {
		logs, _ := r.exec(ctx, old, "tail -n 15 /var/log/postgresql/postgresql-*-main.log")
		theirs, _ := r.exec(ctx, nw, "tail -n 15 /var/log/postgresql/postgresql-*-main.log")
		return fmt.Errorf("repmgr node rejoin on %s: %w\n%s\nPostgres log on %s:\n%s\nPostgres log on %s:\n%s",
			old.Name, err, lastLines(out, 8), old.Name, logs, nw.Name, theirs)
	}
	f.Rejoin = time.Since(t0)
	return nil
}

// patroniComesBack watches the old primary's Patroni: it finds another
// leader in etcd, rewinds its data directory and starts Postgres as a
// standby. Every answer from Postgres on the old primary until it streams
// from the new primary must be "in recovery".
func (r *failoverRun) patroniComesBack(ctx context.Context, old, nw failoverHost, f *failoverFigures, started time.Time) error {
	f.RejoinHow = "Patroni, pg_rewind"
	f.OldCameBack = "down"
	deadline := started.Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		got, err := r.psql(ctx, old, "SELECT pg_is_in_recovery()::text || ' ' || coalesce((SELECT sender_host FROM pg_stat_wal_receiver WHERE status = 'streaming'), '')")
		if err == nil {
			if strings.HasPrefix(got, "false") {
				f.OldCameBack = "WRITABLE"
				r.say("%s came back WRITABLE", old.Name)
				return nil
			}
			f.OldCameBack = "standby"
			if strings.TrimSpace(strings.TrimPrefix(got, "true")) == nw.IP {
				r.say("%s came back as a standby of %s (%.1f s after its start)", old.Name, nw.Name, time.Since(started).Seconds())
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	log, _ := r.exec(ctx, old, "journalctl -u patroni -q --no-pager -o cat | tail -n 15")
	return fmt.Errorf("%s did not stream from %s within 3 minutes of its start (%s; patronictl reinit %s %s makes it a copy of the leader):\n%s",
		old.Name, nw.Name, f.OldCameBack, r.cluster, old.Name, log)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

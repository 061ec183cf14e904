package ops

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/platforms"
)

// FailoverFigures is what a failover drill measured.
type FailoverFigures struct {
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

// Print writes the figures as tpago test --failover shows them.
func (f FailoverFigures) Print(out io.Writer) {
	fmt.Fprintf(out, "failover: old primary %s, new primary %s\n", f.Old, f.New)
	fmt.Fprintf(out, "  promoted after the kill:      %.1f s\n", f.ToPromoted.Seconds())
	fmt.Fprintf(out, "  first write acknowledged:     %.1f s\n", f.ToWritable.Seconds())
	fmt.Fprintf(out, "  writes acknowledged / lost:   %d / %d\n", f.Acked, f.Lost)
	fmt.Fprintf(out, "  other standbys follow it:     %v\n", f.Followed)
	fmt.Fprintf(out, "  old primary started again:    %s\n", f.OldCameBack)
	fmt.Fprintf(out, "  %-30s%.1f s, has the new rows: %v\n", "rejoin ("+f.RejoinHow+"):", f.Rejoin.Seconds(), f.RejoinedHasRows)
}

// drillHost is one host of the cluster as the drill sees it.
type drillHost struct {
	Name, IP string
}

// drill holds what a failover drill needs.
type drill struct {
	r     Runner
	power platforms.PowerSwitch
	pc    *platforms.Cluster
	out   io.Writer
	start time.Time
	pg    []drillHost // Postgres nodes (primary, replicas)
	other drillHost   // where the writer runs: a host that is not killed
	// service is the Postgres unit.
	service string
	// manager is the failover manager: repmgr or patroni.
	manager string
	cluster string
}

// FailoverDrill cuts the power of the primary (a platforms.PowerSwitch:
// docker kills its container) while a client writes through a multi-host
// connection string, measures the time to a new writable primary and the
// acknowledged writes lost, checks the other standbys follow it, turns the
// old primary on again (it must not come back writable), and checks it
// becomes a standby with the new primary's rows: with repmgr by running
// repmgr node rejoin --force-rewind, with Patroni by itself (pg_rewind).
// It prints its figures. It is destructive: use it on a test cluster.
//
// Errors carry exit status 2 for a cluster the drill cannot run on, 1 for
// a failed check (a split brain is one).
func FailoverDrill(ctx context.Context, c *Cluster) (FailoverFigures, error) {
	out := c.out()
	d := &drill{out: out, start: time.Now(), service: PostgresUnit(c.Config), manager: FailoverManager(c.Config), cluster: c.Config.ClusterName}
	if d.manager != "repmgr" && d.manager != "patroni" {
		return FailoverFigures{}, exitcode.Bad(fmt.Errorf("the failover checks know repmgr and Patroni clusters; %s uses %s", c.Config.ClusterName, d.manager))
	}
	other := ""
	for _, in := range c.Config.Instances {
		h := drillHost{Name: in.Name, IP: in.IPAddress}
		switch {
		case in.HasRole("primary") || in.HasRole("replica"):
			d.pg = append(d.pg, h)
		case in.HasRole("barman") && other == "":
			d.other, other = h, h.Name
		}
	}
	if len(d.pg) < 2 {
		return FailoverFigures{}, exitcode.Bad(fmt.Errorf("the failover checks need a primary and at least one replica; %s has %d Postgres nodes", c.Config.ClusterName, len(d.pg)))
	}
	if other == "" {
		return FailoverFigures{}, exitcode.Bad(fmt.Errorf("the failover checks run their writer on the Barman host; %s has none", c.Config.ClusterName))
	}
	for _, h := range d.pg {
		p, err := capability[platforms.PowerSwitch](c, h.Name, "the failover checks cut the primary's power")
		if err != nil {
			return FailoverFigures{}, err
		}
		d.power = p
	}
	pc, err := c.platformCluster()
	if err != nil {
		return FailoverFigures{}, err
	}
	d.pc = pc
	r, done := c.runner()
	defer done()
	d.r = r

	f, err := d.round(ctx)
	fmt.Fprintln(out)
	f.Print(out)
	if err != nil {
		return f, err
	}
	if f.OldCameBack == "WRITABLE" {
		return f, fmt.Errorf("the old primary %s came back writable beside %s (split brain): %s", f.Old, f.New, d.where())
	}
	return f, nil
}

func (d *drill) say(format string, a ...any) {
	fmt.Fprintf(d.out, "[%5.1fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, a...))
}

// exec runs a script as root on h and fails unless it exits 0.
func (d *drill) exec(ctx context.Context, h drillHost, script string) (string, error) {
	res, err := d.r.Run(ctx, h.Name, "root", script)
	if err != nil {
		return "", err
	}
	if res.RC != 0 {
		return res.Stdout, fmt.Errorf("%s: exit %d: %s", h.Name, res.RC, strings.TrimSpace(res.Stderr+" "+res.Stdout))
	}
	return res.Stdout, nil
}

func (d *drill) psql(ctx context.Context, h drillHost, sql string) (string, error) {
	out, err := d.exec(ctx, h, "cd /tmp && runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -d postgres -c "+conn.Quote(sql))
	return strings.TrimSpace(out), err
}

// primary returns the Postgres node that is not in recovery, but except.
func (d *drill) primary(ctx context.Context, except string) (drillHost, bool) {
	for _, h := range d.pg {
		if h.Name == except {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		out, err := d.psql(qctx, h, "SELECT pg_is_in_recovery()")
		cancel()
		if err == nil && out == "f" {
			return h, true
		}
	}
	return drillHost{}, false
}

// powerOff cuts h's power; the runner forgets its connection to h, which
// no longer answers.
func (d *drill) powerOff(ctx context.Context, h drillHost) error {
	err := d.power.PowerOff(ctx, d.pc, h.Name)
	if f, ok := d.r.(forgetter); ok {
		f.Forget(h.Name)
	}
	return err
}

func (d *drill) powerOn(ctx context.Context, h drillHost) error {
	if f, ok := d.r.(forgetter); ok {
		f.Forget(h.Name)
	}
	return d.power.PowerOn(ctx, d.pc, h.Name)
}

func (d *drill) round(ctx context.Context) (FailoverFigures, error) {
	var f FailoverFigures
	old, ok := d.primary(ctx, "")
	if !ok {
		return f, ErrNoPrimary
	}
	f.Old = old.Name
	token := strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := d.psql(ctx, old, "CREATE TABLE IF NOT EXISTS tpago_failover_check (round text, id bigint, at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (round, id))"); err != nil {
		return f, err
	}
	var hosts []string
	for _, h := range d.pg {
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
		writerOut, writerErr = d.exec(ctx, d.other, writer)
	}()
	stopWriter := func() {
		d.exec(context.Background(), d.other, "touch "+stop)
		wg.Wait()
	}
	defer stopWriter()
	time.Sleep(3 * time.Second)

	d.say("killing %s (the primary) while %s writes", old.Name, d.other.Name)
	if err := d.powerOff(ctx, old); err != nil {
		return f, err
	}
	killed := time.Now()
	var nw drillHost
	for {
		if h, ok := d.primary(ctx, old.Name); ok {
			nw = h
			break
		}
		if time.Since(killed) > 2*time.Minute {
			return f, fmt.Errorf("no standby became primary within 2 minutes of killing %s (%s)", old.Name, d.where())
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.ToPromoted = time.Since(killed)
	f.New = nw.Name
	d.say("%s is the primary (%.1f s after the kill)", nw.Name, f.ToPromoted.Seconds())

	// The other standbys follow the new primary.
	deadline := time.Now().Add(time.Minute)
	for !f.Followed && time.Now().Before(deadline) {
		f.Followed = true
		for _, h := range d.pg {
			if h.Name == old.Name || h.Name == nw.Name {
				continue
			}
			got, err := d.psql(ctx, h, "SELECT sender_host FROM pg_stat_wal_receiver WHERE status = 'streaming'")
			if err != nil || got != nw.IP {
				f.Followed = false
			}
		}
		if !f.Followed {
			time.Sleep(200 * time.Millisecond)
		}
	}
	d.say("other standbys stream from %s: %v", nw.Name, f.Followed)
	time.Sleep(3 * time.Second)
	stopWriter()
	if writerErr != nil {
		return f, fmt.Errorf("writer on %s: %w", d.other.Name, writerErr)
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
	have, err := d.psql(ctx, nw, fmt.Sprintf("SELECT id FROM tpago_failover_check WHERE round = '%s'", token))
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
	d.say("writes acknowledged %d, lost %d", f.Acked, f.Lost)

	// The old primary starts again.
	if err := d.powerOn(ctx, old); err != nil {
		return f, err
	}
	started := time.Now()
	if d.manager == "patroni" {
		err = d.patroniComesBack(ctx, old, nw, &f, started)
	} else {
		err = d.repmgrRejoin(ctx, old, nw, &f)
	}
	if err != nil || f.OldCameBack == "WRITABLE" {
		return f, err
	}
	want, err := d.psql(ctx, nw, fmt.Sprintf("SELECT count(*) FROM tpago_failover_check WHERE round = '%s'", token))
	if err != nil {
		return f, err
	}
	deadline = time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		got, err := d.psql(ctx, old, fmt.Sprintf("SELECT pg_is_in_recovery()::text || ' ' || count(*) FROM tpago_failover_check WHERE round = '%s'", token))
		if err == nil && got == "true "+want {
			f.RejoinedHasRows = true
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if d.manager == "patroni" {
		f.Rejoin = time.Since(started)
	}
	d.say("%s rejoined as a standby of %s in %.1f s", old.Name, nw.Name, f.Rejoin.Seconds())
	return f, nil
}

// where says where to look when the failover went wrong.
func (d *drill) where() string {
	if d.manager == "patroni" {
		return "patronictl list; journalctl -u patroni"
	}
	return "repmgr cluster show; /var/log/repmgr/repmgrd.log; journalctl -t tpago-fence"
}

// repmgrRejoin watches the old primary come back (the fence must stop it)
// and rejoins it with repmgr node rejoin --force-rewind.
func (d *drill) repmgrRejoin(ctx context.Context, old, nw drillHost, f *FailoverFigures) error {
	f.RejoinHow = "--force-rewind"
	f.OldCameBack = "down"
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		state, _ := d.exec(ctx, old, "systemctl is-active "+d.service+" || true")
		state = strings.TrimSpace(state)
		if state == "failed" {
			f.OldCameBack = "fenced"
			log, _ := d.exec(ctx, old, "journalctl -q -t tpago-fence --no-pager -o cat | tail -n 1")
			d.say("%s came back fenced: %s", old.Name, strings.TrimSpace(log))
			break
		}
		if state == "active" {
			if got, err := d.psql(ctx, old, "SELECT pg_is_in_recovery()"); err == nil {
				f.OldCameBack = map[string]string{"f": "WRITABLE", "t": "standby"}[got]
				d.say("%s came back as %s", old.Name, f.OldCameBack)
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
	if _, err := d.psql(ctx, nw, "CHECKPOINT"); err != nil {
		return err
	}
	rejoin := fmt.Sprintf("systemctl stop "+d.service+"; cd /tmp && runuser -u postgres -- repmgr -f /etc/repmgr.conf node rejoin -d 'host=%s user=repmgr dbname=repmgr connect_timeout=2' --force-rewind 2>&1 && systemctl restart repmgrd", nw.IP)
	t0 := time.Now()
	if out, err := d.exec(ctx, old, rejoin); err != nil {
		logs, _ := d.exec(ctx, old, "tail -n 15 /var/log/postgresql/postgresql-*-main.log")
		theirs, _ := d.exec(ctx, nw, "tail -n 15 /var/log/postgresql/postgresql-*-main.log")
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
func (d *drill) patroniComesBack(ctx context.Context, old, nw drillHost, f *FailoverFigures, started time.Time) error {
	f.RejoinHow = "Patroni, pg_rewind"
	f.OldCameBack = "down"
	deadline := started.Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		got, err := d.psql(ctx, old, "SELECT pg_is_in_recovery()::text || ' ' || coalesce((SELECT sender_host FROM pg_stat_wal_receiver WHERE status = 'streaming'), '')")
		if err == nil {
			if strings.HasPrefix(got, "false") {
				f.OldCameBack = "WRITABLE"
				d.say("%s came back WRITABLE", old.Name)
				return nil
			}
			f.OldCameBack = "standby"
			if strings.TrimSpace(strings.TrimPrefix(got, "true")) == nw.IP {
				d.say("%s came back as a standby of %s (%.1f s after its start)", old.Name, nw.Name, time.Since(started).Seconds())
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	log, _ := d.exec(ctx, old, "journalctl -u patroni -q --no-pager -o cat | tail -n 15")
	return fmt.Errorf("%s did not stream from %s within 3 minutes of its start (%s; patronictl reinit %s %s makes it a copy of the leader):\n%s",
		old.Name, nw.Name, f.OldCameBack, d.cluster, old.Name, log)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

package m1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tpago/tpago/inventory"
	"github.com/tpago/tpago/roles"
	"github.com/tpago/tpago/yamlx"
)

// StatusPlaybook gathers what `tpago status` shows: each task runs on the
// hosts it concerns and its output is read by BuildTopology, keyed by the
// task's name. Every task tolerates failure: a stopped service is a state
// to report, not an error.
var StatusPlaybook = mustPlaybook("status.yml")

// Output is one gathering task's result on one host.
type Output struct {
	RC     int    `json:"rc"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr,omitempty"`
	// Failed is set when the task failed (whatever its rc).
	Failed bool `json:"failed,omitempty"`
}

// HostOutputs are a host's gathered outputs by task name, or why the host
// could not be asked.
type HostOutputs struct {
	Unreachable string            `json:"unreachable,omitempty"`
	Tasks       map[string]Output `json:"tasks,omitempty"`
}

// Topology is the state of an M1 cluster as `tpago status` shows it.
type Topology struct {
	Cluster         string  `json:"cluster"`
	Architecture    string  `json:"architecture"`
	FailoverManager string  `json:"failover_manager"`
	PostgresVersion string  `json:"postgres_version"`
	Primary         string  `json:"primary"`
	Nodes           []*Node `json:"nodes"`
	// Connect is how an application should connect so as to follow the
	// primary across failover.
	Connect  string   `json:"connect"`
	Problems []string `json:"problems"`
}

// Node is one host of the cluster.
type Node struct {
	Name     string   `json:"name"`
	Node     int      `json:"node"`
	Location string   `json:"location,omitempty"`
	Roles    []string `json:"roles"`
	Address  string   `json:"address"`
	// Unreachable says why the host could not be asked.
	Unreachable string `json:"unreachable,omitempty"`

	// Postgres nodes (and a repmgr witness).
	Postgres *PostgresState `json:"postgres,omitempty"`
	// Manager is the failover manager's view of this node.
	Manager *ManagerView `json:"manager,omitempty"`
	// Barman nodes.
	Barman []BarmanServer `json:"barman,omitempty"`
	// Etcd nodes.
	Etcd *EtcdState `json:"etcd,omitempty"`
	// HAProxy nodes.
	HAProxy []HAProxyServer `json:"haproxy,omitempty"`
}

// PostgresState is what Postgres itself says.
type PostgresState struct {
	// State: primary, replica, or down (not answering).
	State     string `json:"state"`
	Version   string `json:"version,omitempty"`
	LSN       string `json:"lsn,omitempty"`
	Error     string `json:"error,omitempty"`
	Upstream  string `json:"configured_upstream,omitempty"`
	Follows   string `json:"follows,omitempty"`
	Receiver  string `json:"receiver,omitempty"`
	SenderIP  string `json:"sender_address,omitempty"`
	LagBytes  *int64 `json:"lag_bytes,omitempty"`
	ReplayLag string `json:"replay_lag_seconds,omitempty"`
	// Downstream are the clients streaming from this node.
	Downstream []ReplicationClient `json:"downstream,omitempty"`
}

// ReplicationClient is a row of pg_stat_replication.
type ReplicationClient struct {
	Name      string `json:"application_name"`
	Address   string `json:"address"`
	Host      string `json:"host,omitempty"`
	State     string `json:"state"`
	SyncState string `json:"sync_state"`
	LagBytes  int64  `json:"lag_bytes"`
	ReplayLag string `json:"replay_lag_seconds,omitempty"`
}

// ManagerView is the failover manager's opinion of a node.
type ManagerView struct {
	Manager  string `json:"manager"`
	Role     string `json:"role"`
	State    string `json:"state"`
	Timeline string `json:"timeline,omitempty"`
	Lag      string `json:"lag,omitempty"`
	Upstream string `json:"upstream,omitempty"`
}

// BarmanServer is one server a Barman node backs up.
type BarmanServer struct {
	Server     string   `json:"server"`
	Check      string   `json:"check"`
	Failed     []string `json:"failed_checks,omitempty"`
	Backups    int      `json:"backups"`
	LastBackup string   `json:"last_backup,omitempty"`
	// LastBackupAge is the age in seconds of the last backup (when it
	// ended, by the Barman host's clock).
	LastBackupAge *int64 `json:"last_backup_age_seconds,omitempty"`
	// MaxAge is barman_last_backup_maximum_age; Stale says the last
	// backup is older.
	MaxAge string `json:"last_backup_maximum_age,omitempty"`
	Stale  bool   `json:"stale,omitempty"`
}

// EtcdState is an etcd member's status.
type EtcdState struct {
	Healthy bool   `json:"healthy"`
	Leader  bool   `json:"leader"`
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

// HAProxyServer is one backend server as HAProxy sees it.
type HAProxyServer struct {
	Listener string `json:"listener"`
	Server   string `json:"server"`
	Status   string `json:"status"`
}

// Node returns the node called name, or nil.
func (t *Topology) Node(name string) *Node {
	for _, n := range t.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Has reports whether the node has role r.
func (n *Node) Has(r string) bool { return slices.Contains(n.Roles, r) }

// IsPostgres reports whether the node is a primary or replica.
func (n *Node) IsPostgres() bool { return n.Has("primary") || n.Has("replica") }

// Streaming reports whether the node is a replica whose WAL receiver
// streams.
func (n *Node) Streaming() bool {
	return n.Postgres != nil && n.Postgres.State == "replica" && n.Postgres.Receiver == "streaming"
}

func strList(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		out := make([]string, 0, len(l))
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
		return out
	case string:
		return []string{l}
	}
	return nil
}

func varString(vars map[string]any, k string) string {
	if v, ok := vars[k]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// BuildTopology reads the gathered outputs (by host, then task name) of
// the hosts of inv.
func BuildTopology(inv *inventory.Inventory, outs map[string]HostOutputs) *Topology {
	all := inv.Groups["all"].Vars
	t := &Topology{
		Cluster:         varString(all, "cluster_name"),
		Architecture:    varString(all, "architecture"),
		FailoverManager: varString(all, "failover_manager"),
		PostgresVersion: varString(all, "postgres_version"),
		Problems:        []string{},
	}
	byIP := map[string]string{}
	for _, name := range inv.Order {
		h := inv.Hosts[name]
		n := &Node{Name: name, Roles: strList(h.Vars["role"]), Location: varString(h.Vars, "location"),
			Address: varString(h.Vars, "ip_address")}
		if n.Address == "" {
			n.Address = varString(h.Vars, "ansible_host")
		}
		n.Node, _ = strconv.Atoi(varString(h.Vars, "node"))
		byIP[n.Address] = name
		t.Nodes = append(t.Nodes, n)
	}
	for _, n := range t.Nodes {
		o := outs[n.Name]
		if o.Unreachable != "" {
			n.Unreachable = o.Unreachable
			t.problem("%s is unreachable: %s", n.Name, o.Unreachable)
		}
		if out, ok := o.Tasks["postgres"]; ok {
			n.Postgres = parsePostgres(out, byIP)
			n.Postgres.Upstream = varString(inv.Hosts[n.Name].Vars, "upstream")
		} else if n.IsPostgres() && n.Unreachable != "" {
			n.Postgres = &PostgresState{State: "unknown", Upstream: varString(inv.Hosts[n.Name].Vars, "upstream")}
		}
		if out, ok := o.Tasks["barman-check"]; ok {
			n.Barman = parseBarman(out, o.Tasks["barman-backups"], o.Tasks["barman-clock"],
				lastBackupMaxAge(inv, n.Name))
		}
		if out, ok := o.Tasks["etcd"]; ok {
			n.Etcd = parseEtcd(out)
		}
		if out, ok := o.Tasks["haproxy"]; ok {
			n.HAProxy = parseHAProxy(out)
		}
	}
	t.readManager(outs)

	// Lag: the upstream's view of each replica.
	for _, n := range t.Nodes {
		if n.Postgres == nil {
			continue
		}
		for i := range n.Postgres.Downstream {
			c := &n.Postgres.Downstream[i]
			c.Host = byIP[c.Address]
			if c.Host == "" && inv.Hosts[c.Name] != nil {
				c.Host = c.Name
			}
			if r := t.Node(c.Host); r != nil && r.Postgres != nil && r.Postgres.Follows == n.Name {
				lag := c.LagBytes
				r.Postgres.LagBytes = &lag
				r.Postgres.ReplayLag = c.ReplayLag
			}
		}
	}
	var primaries []string
	for _, n := range t.Nodes {
		if n.Postgres != nil && n.Postgres.State == "primary" && !n.Has("witness") {
			primaries = append(primaries, n.Name)
		}
	}
	switch len(primaries) {
	case 0:
		t.problem("no Postgres node is a running primary")
	case 1:
		t.Primary = primaries[0]
	default:
		t.Primary = primaries[0]
		t.problem("more than one primary: %s", strings.Join(primaries, ", "))
	}
	t.check()
	t.Connect = connectString(inv, t)
	return t
}

func (t *Topology) problem(format string, a ...any) {
	t.Problems = append(t.Problems, fmt.Sprintf(format, a...))
}

// check lists what is not as it should be.
func (t *Topology) check() {
	for _, n := range t.Nodes {
		switch {
		case n.Unreachable != "":
		case n.Postgres != nil && n.Postgres.State == "down":
			t.problem("Postgres on %s does not answer: %s", n.Name, n.Postgres.Error)
		case n.Postgres != nil && n.Postgres.State == "replica" && n.Postgres.Receiver != "streaming":
			t.problem("replica %s is not streaming (WAL receiver: %s)", n.Name, orNone(n.Postgres.Receiver))
		}
		if n.Manager != nil && !managerHealthy(n.Manager) {
			t.problem("%s sees %s as %s %s", n.Manager.Manager, n.Name, n.Manager.Role, n.Manager.State)
		}
		for _, b := range n.Barman {
			if b.Check != "OK" {
				t.problem("barman check %s on %s failed: %s", b.Server, n.Name, strings.Join(b.Failed, ", "))
			}
			if b.Stale && b.LastBackupAge != nil {
				t.problem("the last backup of %s on %s is %s old, more than barman_last_backup_maximum_age (%s)",
					b.Server, n.Name, ageText(*b.LastBackupAge), b.MaxAge)
			}
		}
		if n.Etcd != nil && !n.Etcd.Healthy {
			t.problem("etcd on %s is not healthy: %s", n.Name, n.Etcd.Error)
		}
		if n.Has("haproxy") && n.Unreachable == "" {
			up := 0
			for _, s := range n.HAProxy {
				if s.Listener == "primary" && s.Status == "UP" {
					up++
				}
			}
			if up != 1 {
				t.problem("HAProxy on %s has %d servers UP behind the primary port (want 1)", n.Name, up)
			}
		}
	}
}

func managerHealthy(m *ManagerView) bool {
	s := strings.ToLower(m.State)
	if strings.HasPrefix(s, "!") || strings.HasPrefix(s, "?") {
		return false
	}
	return strings.Contains(s, "running") || strings.Contains(s, "streaming") || s == "up"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func parsePostgres(out Output, byIP map[string]string) *PostgresState {
	p := &PostgresState{}
	seen := false
	for _, line := range strings.Split(out.Stdout, "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		switch {
		case f[0] == "S" && len(f) >= 4:
			seen = true
			p.State = "primary"
			if f[1] == "t" {
				p.State = "replica"
			}
			p.Version, p.LSN = f[2], f[3]
		case f[0] == "R" && len(f) >= 7:
			lag, _ := strconv.ParseInt(f[5], 10, 64)
			p.Downstream = append(p.Downstream, ReplicationClient{Name: f[1], Address: f[2], State: f[3],
				SyncState: f[4], LagBytes: lag, ReplayLag: f[6]})
		case f[0] == "W" && len(f) >= 4:
			p.Receiver, p.SenderIP = f[1], f[2]
			p.Follows = byIP[f[2]]
			if p.Follows == "" {
				p.Follows = f[2]
			}
		}
	}
	if !seen {
		p.State = "down"
		p.Error = strings.TrimSpace(out.Stderr)
		if p.Error == "" {
			p.Error = fmt.Sprintf("psql exited %d", out.RC)
		}
	}
	return p
}

func (t *Topology) readManager(outs map[string]HostOutputs) {
	switch t.FailoverManager {
	case "patroni":
		for _, n := range t.Nodes {
			out, ok := outs[n.Name].Tasks["patroni"]
			if !ok || out.RC != 0 {
				continue
			}
			var members []map[string]any
			if json.Unmarshal([]byte(out.Stdout), &members) != nil {
				continue
			}
			for _, m := range members {
				name := fmt.Sprint(m["Member"])
				node := t.Node(name)
				if node == nil {
					t.problem("Patroni lists a member %s that is not in config.yml", name)
					continue
				}
				v := &ManagerView{Manager: "patroni", Role: fmt.Sprint(m["Role"]), State: fmt.Sprint(m["State"])}
				if tl, ok := m["TL"]; ok && tl != nil {
					v.Timeline = fmt.Sprint(tl)
				}
				if lag, ok := m["Lag in MB"]; ok && lag != nil {
					v.Lag = fmt.Sprint(lag) + " MB"
				}
				if tags, ok := m["Tags"].(map[string]any); ok && tags["replicatefrom"] != nil {
					v.Upstream = fmt.Sprint(tags["replicatefrom"])
				}
				node.Manager = v
			}
			for _, n := range t.Nodes {
				if n.IsPostgres() && n.Manager == nil {
					n.Manager = &ManagerView{Manager: "patroni", Role: "-", State: "not a member"}
				}
			}
			return
		}
		t.problem("no Postgres node could list the Patroni cluster (patronictl list)")
	case "repmgr":
		for _, n := range t.Nodes {
			out, ok := outs[n.Name].Tasks["repmgr"]
			if !ok || strings.TrimSpace(out.Stdout) == "" {
				continue
			}
			rows := parseTable(out.Stdout)
			if len(rows) == 0 {
				continue
			}
			for _, r := range rows {
				node := t.Node(r["name"])
				if node == nil {
					continue
				}
				node.Manager = &ManagerView{Manager: "repmgr", Role: r["role"],
					State: strings.TrimLeft(r["status"], "*- "), Timeline: r["timeline"], Upstream: r["upstream"]}
			}
			return
		}
		t.problem("no Postgres node could run repmgr cluster show")
	case "efm":
		for _, n := range t.Nodes {
			out, ok := outs[n.Name].Tasks["efm"]
			if !ok || out.RC != 0 {
				continue
			}
			var st struct {
				Nodes map[string]struct {
					Type    string `json:"type"`
					Agent   string `json:"agent"`
					DB      string `json:"db"`
					XLog    string `json:"xlog"`
					Message string `json:"info"`
				} `json:"nodes"`
			}
			if json.Unmarshal([]byte(out.Stdout), &st) != nil {
				continue
			}
			byIP := map[string]*Node{}
			for _, n := range t.Nodes {
				byIP[n.Address] = n
			}
			for addr, s := range st.Nodes {
				if node := byIP[addr]; node != nil {
					node.Manager = &ManagerView{Manager: "efm", Role: s.Type, State: "agent " + s.Agent + ", db " + s.DB}
				}
			}
			return
		}
		t.problem("no Postgres node could run efm cluster-status-json")
	}
}

// parseTable reads a psql-style table (as repmgr prints it) into rows
// keyed by lower-case column names.
func parseTable(s string) []map[string]string {
	var header []string
	var rows []map[string]string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, "|") {
			continue
		}
		cells := strings.Split(line, "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if header == nil {
			for _, c := range cells {
				header = append(header, strings.ToLower(c))
			}
			continue
		}
		r := map[string]string{}
		for i, c := range cells {
			if i < len(header) {
				r[header[i]] = c
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// lastBackupMaximumAge is the common role's default of
// barman_last_backup_maximum_age.
var lastBackupMaximumAge = sync.OnceValue(func() string {
	data, err := fs.ReadFile(roles.FS, "common/defaults/main.yml")
	if err != nil {
		return ""
	}
	n, err := yamlx.ParseOne("common/defaults/main.yml", data)
	if err != nil {
		return ""
	}
	m, _ := n.Plain().(map[string]any)
	if v, ok := m["barman_last_backup_maximum_age"]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
})

// lastBackupMaxAge is barman_last_backup_maximum_age on Barman host h:
// the inventory's (host, then groups), else the role's default.
func lastBackupMaxAge(inv *inventory.Inventory, h string) string {
	if v, ok := inv.HostVars(h)["barman_last_backup_maximum_age"]; ok {
		return fmt.Sprint(v)
	}
	return lastBackupMaximumAge()
}

var barmanIntervalRe = regexp.MustCompile(`(?i)^\s*(\d+)\s+(day|week|month)s?\s*$`)

// barmanInterval reads a Barman time interval ("1 WEEK", "3 days",
// "2 months": a month is 31 days, as Barman counts it) in seconds.
func barmanInterval(s string) (int64, bool) {
	m := barmanIntervalRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	days := map[string]int64{"day": 1, "week": 7, "month": 31}[strings.ToLower(m[2])]
	return n * days * 86400, true
}

// ageText is an age in seconds as people read it: 3d 4h, 5h 12m, 40m.
func ageText(s int64) string {
	d, h, m := s/86400, s%86400/3600, s%3600/60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd %dh", d, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	default:
		return fmt.Sprintf("%dm", m)
	}
}

// parseBarman reads barman check and list-backup (JSON) and the Barman
// host's clock (date +%s); maxAge is barman_last_backup_maximum_age.
func parseBarman(check, backups, clock Output, maxAge string) []BarmanServer {
	var checks map[string]map[string]struct {
		Status string `json:"status"`
		Hint   string `json:"hint"`
	}
	if err := json.Unmarshal([]byte(check.Stdout), &checks); err != nil {
		msg := strings.TrimSpace(check.Stderr + " " + check.Stdout)
		return []BarmanServer{{Server: "?", Check: "FAILED", Failed: []string{"barman check did not answer: " + msg}}}
	}
	var lists map[string][]struct {
		ID      string `json:"backup_id"`
		EndTime string `json:"end_time"`
		EndTS   string `json:"end_time_timestamp"`
		Status  string `json:"status"`
	}
	_ = json.Unmarshal([]byte(backups.Stdout), &lists)
	now, clockErr := strconv.ParseInt(strings.TrimSpace(clock.Stdout), 10, 64)
	hasClock := clockErr == nil && clock.RC == 0
	limit, hasLimit := barmanInterval(maxAge)
	var out []BarmanServer
	for server, cs := range checks {
		b := BarmanServer{Server: server, Check: "OK"}
		for name, c := range cs {
			if c.Status != "OK" {
				b.Check = "FAILED"
				f := name
				if c.Hint != "" {
					f += " (" + c.Hint + ")"
				}
				b.Failed = append(b.Failed, f)
			}
		}
		sort.Strings(b.Failed)
		lastEnd := ""
		for _, bk := range lists[server] {
			if bk.Status == "DONE" {
				b.Backups++
				if b.LastBackup == "" || bk.ID > b.LastBackup {
					b.LastBackup, lastEnd = bk.ID, bk.EndTS
				}
			}
		}
		if end, err := strconv.ParseInt(lastEnd, 10, 64); err == nil && hasClock {
			age := max(now-end, 0)
			b.LastBackupAge = &age
		}
		if hasLimit {
			b.MaxAge = maxAge
			b.Stale = b.LastBackupAge != nil && *b.LastBackupAge > limit
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Server < out[j].Server })
	return out
}

func parseEtcd(out Output) *EtcdState {
	var st []struct {
		Status struct {
			Header struct {
				MemberID json.Number `json:"member_id"`
			} `json:"header"`
			Leader  json.Number `json:"leader"`
			Version string      `json:"version"`
		}
	}
	dec := json.NewDecoder(strings.NewReader(out.Stdout))
	dec.UseNumber()
	if out.RC != 0 || dec.Decode(&st) != nil || len(st) == 0 {
		msg := strings.TrimSpace(out.Stderr)
		if msg == "" {
			msg = fmt.Sprintf("etcdctl exited %d", out.RC)
		}
		return &EtcdState{Error: msg}
	}
	s := st[0].Status
	return &EtcdState{Healthy: true, Leader: s.Leader != "" && s.Leader == s.Header.MemberID, Version: s.Version}
}

func parseHAProxy(out Output) []HAProxyServer {
	var servers []HAProxyServer
	for _, line := range strings.Split(out.Stdout, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 18 || f[1] == "FRONTEND" || f[1] == "BACKEND" || f[0] == "stats" {
			continue
		}
		servers = append(servers, HAProxyServer{Listener: f[0], Server: f[1], Status: f[17]})
	}
	return servers
}

// connectString is how an application follows the primary: through the
// HAProxy nodes where there are some, else libpq's multi-host list.
func connectString(inv *inventory.Inventory, t *Topology) string {
	port := varString(inv.Groups["all"].Vars, "postgres_port")
	if port == "" {
		port = "5432"
	}
	var hosts []string
	if g := inv.Groups["haproxy"]; g != nil && len(g.Hosts) > 0 {
		hp := varString(inv.Groups["all"].Vars, "haproxy_primary_port")
		if hp == "" {
			hp = "5000"
		}
		for _, h := range g.Hosts {
			hosts = append(hosts, t.Node(h).Address+":"+hp)
		}
	} else {
		for _, n := range t.Nodes {
			if n.IsPostgres() {
				hosts = append(hosts, n.Address+":"+port)
			}
		}
	}
	q := url.Values{}
	q.Set("target_session_attrs", "read-write")
	q.Set("connect_timeout", "2")
	return "postgresql://" + strings.Join(hosts, ",") + "/postgres?" + q.Encode()
}

// JSON writes the topology as indented JSON.
func (t *Topology) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

// Text writes the topology for people: the replication tree from the
// primary, then Barman, etcd and HAProxy, the connection string and
// whatever is wrong.
func (t *Topology) Text(w io.Writer) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Cluster %s (%s, Postgres %s, failover manager %s)\n", t.Cluster, t.Architecture, t.PostgresVersion, t.FailoverManager)

	b.WriteString("\nPostgres\n")
	placed := map[string]bool{}
	var walk func(n *Node, prefix string, last, root bool)
	walk = func(n *Node, prefix string, last, root bool) {
		placed[n.Name] = true
		branch, next := "", prefix
		if !root {
			branch = "├── "
			next = prefix + "│   "
			if last {
				branch = "└── "
				next = prefix + "    "
			}
		}
		fmt.Fprintf(&b, "  %s%s%s\n", prefix, branch, t.postgresLine(n))
		kids := t.children(n.Name)
		for i, k := range kids {
			if !placed[k.Name] {
				walk(k, next, i == len(kids)-1, false)
			}
		}
	}
	if p := t.Node(t.Primary); p != nil {
		walk(p, "", true, true)
	}
	for _, n := range t.Nodes {
		if (n.IsPostgres() || n.Has("witness")) && !placed[n.Name] {
			walk(n, "", true, true)
		}
	}

	section := func(title string, match func(*Node) bool, line func(*Node) string) {
		first := true
		for _, n := range t.Nodes {
			if !match(n) {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n%s\n", title)
				first = false
			}
			fmt.Fprintf(&b, "  %s\n", line(n))
		}
	}
	section("Barman", func(n *Node) bool { return n.Has("barman") }, t.barmanLine)
	section("etcd", func(n *Node) bool { return n.Has("etcd") }, t.etcdLine)
	section("HAProxy", func(n *Node) bool { return n.Has("haproxy") }, t.haproxyLine)
	section("EFM witness", func(n *Node) bool { return n.Has("efm-witness") }, func(n *Node) string {
		return nodeLabel(n) + managerText(n)
	})

	fmt.Fprintf(&b, "\nApplications should connect with (follows the primary across failover):\n  %s\n", t.Connect)
	if len(t.Problems) == 0 {
		b.WriteString("\nNo problems found.\n")
	} else {
		b.WriteString("\nProblems:\n")
		for _, p := range t.Problems {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
	}
	_, _ = w.Write(b.Bytes())
}

// children are the nodes that stream from name (or, when not streaming,
// whose configured upstream it is).
func (t *Topology) children(name string) []*Node {
	var out []*Node
	for _, n := range t.Nodes {
		if n.Postgres == nil || n.Name == name || n.Has("witness") {
			continue
		}
		follows := n.Postgres.Follows
		if follows == "" && n.Postgres.State != "primary" {
			follows = n.Postgres.Upstream
		}
		if follows == name {
			out = append(out, n)
		}
	}
	return out
}

func nodeLabel(n *Node) string {
	loc := ""
	if n.Location != "" {
		loc = ", " + n.Location
	}
	return fmt.Sprintf("%s (node %d%s, %s)", n.Name, n.Node, loc, n.Address)
}

func managerText(n *Node) string {
	m := n.Manager
	if m == nil {
		return ""
	}
	s := fmt.Sprintf("  [%s: %s, %s", m.Manager, m.Role, m.State)
	if m.Timeline != "" {
		s += ", timeline " + m.Timeline
	}
	if m.Lag != "" {
		s += ", lag " + m.Lag
	}
	if m.Upstream != "" {
		s += ", from " + m.Upstream
	}
	return s + "]"
}

func (t *Topology) postgresLine(n *Node) string {
	s := nodeLabel(n) + "  "
	p := n.Postgres
	switch {
	case n.Unreachable != "":
		s += "UNREACHABLE"
	case p == nil:
		s += "no Postgres state"
	case p.State == "down":
		s += "DOWN"
	case n.Has("witness"):
		s += "witness"
	case p.State == "primary":
		s += "primary"
	default:
		s += "replica, " + orNone(p.Receiver)
		if p.LagBytes != nil {
			s += ", lag " + humanBytes(*p.LagBytes)
		}
		if p.ReplayLag != "" {
			s += " (" + p.ReplayLag + " s)"
		}
		if p.Upstream != "" && p.Follows != "" && p.Follows != p.Upstream && p.Upstream != t.Primary {
			s += ", configured upstream " + p.Upstream
		}
	}
	return s + managerText(n)
}

func (t *Topology) barmanLine(n *Node) string {
	s := nodeLabel(n)
	if n.Unreachable != "" {
		return s + "  UNREACHABLE"
	}
	if len(n.Barman) == 0 {
		return s + "  backs up nothing"
	}
	var parts []string
	for _, b := range n.Barman {
		p := fmt.Sprintf("%s: check %s, %d backup(s)", b.Server, b.Check, b.Backups)
		if b.LastBackup != "" {
			p += ", last " + b.LastBackup
			if b.LastBackupAge != nil {
				p += " (" + ageText(*b.LastBackupAge) + " ago)"
			}
		}
		if b.Stale {
			p += " OLDER THAN " + b.MaxAge
		}
		if b.Server != t.Primary && t.Primary != "" && t.Node(b.Server) != nil {
			p += " (not the primary now: deploy again to back up " + t.Primary + ")"
		}
		parts = append(parts, p)
	}
	return s + "  " + strings.Join(parts, "; ")
}

func (t *Topology) etcdLine(n *Node) string {
	s := nodeLabel(n)
	switch {
	case n.Unreachable != "":
		return s + "  UNREACHABLE"
	case n.Etcd == nil:
		return s + "  no state"
	case !n.Etcd.Healthy:
		return s + "  UNHEALTHY: " + n.Etcd.Error
	case n.Etcd.Leader:
		return s + "  healthy, leader, etcd " + n.Etcd.Version
	}
	return s + "  healthy, etcd " + n.Etcd.Version
}

func (t *Topology) haproxyLine(n *Node) string {
	s := nodeLabel(n)
	if n.Unreachable != "" {
		return s + "  UNREACHABLE"
	}
	by := map[string][]string{}
	for _, h := range n.HAProxy {
		if h.Status != "UP" {
			continue
		}
		by[h.Listener] = append(by[h.Listener], h.Server)
	}
	if len(n.HAProxy) == 0 {
		return s + "  no statistics (is haproxy running?)"
	}
	primary := strings.Join(by["primary"], ", ")
	replicas := strings.Join(by["replicas"], ", ")
	return fmt.Sprintf("%s  primary port → %s; replica port → %s", s, orNone(primary), orNone(replicas))
}

func humanBytes(n int64) string {
	switch {
	case n < 0:
		return "unknown"
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f kB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1024*1024*1024))
}

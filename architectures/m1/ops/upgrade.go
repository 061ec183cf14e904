package ops

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tpago/tpago/architectures/m1"
	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/exitcode"
)

// PinVars are the package pins config.yml can set (TPA's
// postgres_package_version, and one for each other component), which
// deploy installs and holds and Upgrade moves.
var PinVars = []string{"postgres_package_version", "repmgr_package_version", "barman_package_version",
	"patroni_package_version", "pgbouncer_package_version"}

// UpgradeOptions are Upgrade's.
type UpgradeOptions struct {
	RunOptions
	// Versions are new pins by variable (postgres_package_version…);
	// config.yml's pins stand for those not given.
	Versions map[string]string
	// SwitchBack makes the first primary the primary again at the end.
	SwitchBack bool
	// Wait bounds the wait for each node to come back healthy, and each
	// switchover.
	Wait time.Duration
}

// Upgrade is a rolling minor upgrade: the pinned packages move to new
// versions one node at a time, the cascaded replicas first, then the
// replicas, then the other hosts (Barman, the witness, PgBouncer…); then a
// switchover to an upgraded replica, and the old primary last, which stays
// a standby unless SwitchBack. Each Postgres node must be back, streaming
// and on the new version, before the next one starts; Upgrade stops at the
// first that is not, saying where and how to go on, with the cluster still
// working. The new versions are written to config.yml first, so that a
// later deploy keeps them and a second run goes on where the first
// stopped. With Check, it only says which packages would change where, in
// which order, and changes nothing.
func Upgrade(ctx context.Context, c *Cluster, o UpgradeOptions) error {
	out := c.out()
	want, err := upgradeVersions(c.Config, o.Versions)
	if err != nil {
		return err
	}
	fm := FailoverManager(c.Config)
	if fm == "efm" {
		return exitcode.Bad(fmt.Errorf("cluster %s uses EFM: tpago upgrade switches over with repmgr or Patroni; upgrade EFM clusters node by node with deploy and `efm promote efm -switchover`", c.Config.ClusterName))
	}
	look := o.RunOptions
	look.Check = false
	topo, err := Topology(ctx, c, look)
	if err != nil {
		return err
	}
	if len(topo.Problems) > 0 {
		return fmt.Errorf("cluster %s has problems, and an upgrade starts from a healthy cluster (tpago status):\n  %s",
			c.Config.ClusterName, strings.Join(topo.Problems, "\n  "))
	}
	first := topo.Primary
	order := upgradeOrder(topo)

	extra := map[string]any{}
	var given []string
	for k, v := range want {
		extra[k] = v
		given = append(given, k+"="+v)
	}
	slices.Sort(given)
	mode := ""
	if o.Check {
		mode = " (check mode: nothing is changed)"
	}
	fmt.Fprintf(out, "Upgrading %s to %s%s, one node at a time: %s, then a switchover, then %s.\n",
		c.Config.ClusterName, strings.Join(given, ", "), mode, strings.Join(order, ", "), first)
	if !o.Check && len(o.Versions) > 0 {
		path := filepath.Join(c.Dir, "config.yml")
		if err := cluster.SetClusterVars(path, o.Versions); err != nil {
			return err
		}
		fmt.Fprintf(out, "config.yml: cluster_vars now pin %s (deploy keeps them).\n", strings.Join(given, ", "))
	}

	u := &upgrade{c: c, o: o, extra: extra, want: want}
	for _, node := range order {
		if err := u.node(ctx, node); err != nil {
			return err
		}
	}
	// The primary last: a switchover to an upgraded replica of it first.
	target := ""
	if !o.Check {
		target = switchTarget(topo, u.done)
		if target == "" {
			return u.stop(first, "no upgraded replica of it to switch over to")
		}
		fmt.Fprintf(out, "Switching over from %s to %s, so that %s can be upgraded as a standby.\n", first, target, first)
		if err := Switchover(ctx, c, target, SwitchoverOptions{RunOptions: look, Wait: o.Wait}); err != nil {
			return u.stop(first, "the switchover to "+target+" failed: "+err.Error())
		}
	}
	if err := u.node(ctx, first); err != nil {
		return err
	}
	if o.SwitchBack && !o.Check {
		fmt.Fprintf(out, "Switching back to %s.\n", first)
		if err := Switchover(ctx, c, first, SwitchoverOptions{RunOptions: look, Wait: o.Wait}); err != nil {
			return fmt.Errorf("every node is upgraded, but switching back to %s failed: %w", first, err)
		}
	}
	if o.Check {
		fmt.Fprintln(out, "Check mode: nothing was changed.")
		return nil
	}
	fmt.Fprintf(out, "Every node of %s is upgraded.\n", c.Config.ClusterName)
	if !o.SwitchBack {
		fmt.Fprintf(out, "The primary is now %s: tpago deploy %s points Barman (and the other hosts that follow config.yml's primary) at it, or tpago switchover %s %s makes %s the primary again.\n",
			target, c.Dir, c.Dir, first, first)
	}
	return nil
}

// upgradeVersions merges the versions given with config.yml's pins, and
// refuses a major Postgres version (pg_upgrade is not a rolling upgrade).
func upgradeVersions(cfg *cluster.Config, given map[string]string) (map[string]string, error) {
	want := map[string]string{}
	for k, v := range given {
		if !slices.Contains(PinVars, k) {
			return nil, exitcode.Bad(fmt.Errorf("%s is not a package pin (one of %s)", k, strings.Join(PinVars, ", ")))
		}
		if v != "" {
			want[k] = v
		}
	}
	for _, k := range PinVars {
		if _, ok := want[k]; ok {
			continue
		}
		if v, ok := cfg.ClusterVars[k]; ok && v != nil && fmt.Sprint(v) != "" {
			want[k] = fmt.Sprint(v)
		}
	}
	if len(want) == 0 {
		return nil, exitcode.Bad(fmt.Errorf("nothing to upgrade to: give --postgres-package-version VERSION (apt's version, such as 15.20-0+deb12u1), or pin postgres_package_version (or another *_package_version) in config.yml's cluster_vars"))
	}
	if v, ok := want["postgres_package_version"]; ok {
		major, _, _ := strings.Cut(v, ".")
		if have := PostgresVersion(cfg); major != have {
			return nil, exitcode.Bad(fmt.Errorf("postgres_package_version %s is PostgreSQL %s, and the cluster runs PostgreSQL %s: "+
				"a major upgrade (pg_upgrade) is not a rolling minor upgrade, and tpago upgrade refuses it; docs/upgrades.md describes how it is done", v, major, have))
		}
	}
	return want, nil
}

// upgradeOrder lists the hosts to upgrade before the primary: Postgres
// replicas the farthest from the primary in config.yml's layout first
// (cascaded ones before their upstream), then the hosts that do not run a
// Postgres node.
func upgradeOrder(t *m1.Topology) []string {
	depth := func(n *m1.Node) int {
		d := 0
		for cur := n; cur != nil && cur.Postgres != nil && d < len(t.Nodes); d++ {
			up := cur.Postgres.Upstream
			if up == "" {
				up = cur.Postgres.Follows
			}
			if up == "" || up == t.Primary {
				return d + 1
			}
			cur = t.Node(up)
		}
		return d
	}
	var replicas, others []*m1.Node
	for _, n := range t.Nodes {
		switch {
		case n.Name == t.Primary:
		case n.IsPostgres():
			replicas = append(replicas, n)
		default:
			others = append(others, n)
		}
	}
	slices.SortStableFunc(replicas, func(a, b *m1.Node) int { return depth(b) - depth(a) })
	var out []string
	for _, n := range append(replicas, others...) {
		out = append(out, n.Name)
	}
	return out
}

// switchTarget picks the upgraded replica to switch over to: config.yml's
// replica of the primary, else one that streams from the primary.
func switchTarget(t *m1.Topology, done []string) string {
	ok := func(n *m1.Node) bool {
		return n.IsPostgres() && n.Name != t.Primary && slices.Contains(done, n.Name) && n.Streaming()
	}
	for _, n := range t.Nodes {
		if ok(n) && n.Postgres.Upstream == t.Primary {
			return n.Name
		}
	}
	for _, n := range t.Nodes {
		if ok(n) && n.Postgres.Follows == t.Primary {
			return n.Name
		}
	}
	return ""
}

// upgrade is one run of Upgrade.
type upgrade struct {
	c     *Cluster
	o     UpgradeOptions
	extra map[string]any
	want  map[string]string
	done  []string
}

// node upgrades one host and waits until it is healthy again.
func (u *upgrade) node(ctx context.Context, name string) error {
	out := u.c.out()
	outs, err := collect(ctx, u.c.Inventory, "upgrade.yml", m1.UpgradePlaybook, u.o.RunOptions, name, u.extra)
	if err != nil {
		return exitcode.Bad(err)
	}
	h := outs[name]
	if h.Unreachable != "" {
		return u.stop(name, "unreachable: "+h.Unreachable)
	}
	plan := strings.TrimSpace(h.Tasks["plan"].Stdout)
	if plan == "" {
		fmt.Fprintf(out, "  %s: already at the new versions\n", name)
	}
	for _, l := range strings.Split(plan, "\n") {
		if f := strings.Fields(l); len(f) == 3 {
			fmt.Fprintf(out, "  %s: %s %s → %s\n", name, f[0], f[1], f[2])
		}
	}
	for task, r := range h.Tasks {
		if r.Failed {
			return u.stop(name, task+": "+strings.TrimSpace(r.Stdout+"\n"+r.Stderr))
		}
	}
	if r, ok := h.Tasks["restart"]; ok && strings.TrimSpace(r.Stdout) != "" {
		fmt.Fprintf(out, "  %s: %s\n", name, strings.TrimSpace(r.Stdout))
	}
	if u.o.Check {
		return nil
	}
	if err := u.healthy(ctx, name); err != nil {
		return u.stop(name, err.Error())
	}
	u.done = append(u.done, name)
	return nil
}

// healthy waits until name, if it runs Postgres, answers on the new
// version and, as a replica, streams again.
func (u *upgrade) healthy(ctx context.Context, name string) error {
	look := u.o.RunOptions
	look.Check = false
	want := ""
	if v, ok := u.want["postgres_package_version"]; ok {
		want, _, _ = strings.Cut(v, "-")
	}
	deadline := time.Now().Add(u.o.Wait)
	why := ""
	for {
		topo, err := Topology(ctx, u.c, look)
		if err != nil {
			return err
		}
		n := topo.Node(name)
		switch {
		case n == nil || n.Postgres == nil:
			return nil // no Postgres here
		case n.Postgres.State == "down":
			why = "Postgres does not answer: " + n.Postgres.Error
		case want != "" && !strings.HasPrefix(n.Postgres.Version, want):
			why = "Postgres runs " + n.Postgres.Version + ", not " + want
		case n.IsPostgres() && n.Name != topo.Primary && !n.Streaming():
			why = "it does not stream from its upstream"
		default:
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s, %s", u.o.Wait, why)
		}
		select {
		case <-ctx.Done():
			return exitcode.With(130, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// stop says where the upgrade stopped and how to go on.
func (u *upgrade) stop(node, why string) error {
	done := "none"
	if len(u.done) > 0 {
		done = strings.Join(u.done, ", ")
	}
	return fmt.Errorf("upgrade stopped at %s: %s\nupgraded so far: %s. The other nodes were not touched and the cluster keeps running (tpago status shows it).\n"+
		"When %s is mended, run tpago upgrade %s again: the nodes already at the new versions are skipped",
		node, why, done, node, u.c.Dir)
}

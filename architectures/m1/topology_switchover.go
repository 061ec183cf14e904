package m1

import (
	"fmt"
	"strings"
)

// SwitchoverPlaybook makes the host it runs on (the candidate, given as
// the extra variable candidate) the primary, with the cluster's failover
// manager. repmgr is asked for a dry run first; its own output says why a
// switchover cannot be done.
var SwitchoverPlaybook = mustPlaybook("switchover.yml")

// SwitchoverManagers are the failover managers tpago can switch over with.
var SwitchoverManagers = []string{"patroni", "repmgr"}

// CheckSwitchover says why name cannot become the primary, or nil when it
// is a healthy replica that can.
func (t *Topology) CheckSwitchover(name string) error {
	var replicas []string
	for _, n := range t.Nodes {
		if n.IsPostgres() && n.Name != t.Primary {
			replicas = append(replicas, n.Name)
		}
	}
	choose := "the replicas are: " + orNone(strings.Join(replicas, ", "))
	n := t.Node(name)
	switch {
	case t.FailoverManager == "efm":
		return fmt.Errorf("cluster %s uses EFM: switch over with `efm promote efm -switchover` on the hosts; tpago switches over with %s",
			t.Cluster, strings.Join(SwitchoverManagers, " or "))
	case n == nil:
		return fmt.Errorf("%s is not a host of cluster %s; %s", name, t.Cluster, choose)
	case !n.IsPostgres():
		return fmt.Errorf("%s is not a Postgres replica (role %s); %s", name, strings.Join(n.Roles, ", "), choose)
	case name == t.Primary:
		return fmt.Errorf("%s is already the primary; %s", name, choose)
	case t.Primary == "":
		return fmt.Errorf("cluster %s has no running primary to switch over from (see tpago status)", t.Cluster)
	case n.Unreachable != "":
		return fmt.Errorf("%s cannot be reached: %s", name, n.Unreachable)
	case n.Postgres == nil || n.Postgres.State != "replica":
		state := "unknown"
		if n.Postgres != nil {
			state = n.Postgres.State
		}
		return fmt.Errorf("%s is not a running replica (Postgres is %s)", name, state)
	case !n.Streaming():
		return fmt.Errorf("%s is not streaming (WAL receiver: %s): only a healthy replica can take over",
			name, orNone(n.Postgres.Receiver))
	case n.Manager == nil:
		return fmt.Errorf("%s cannot tell the state of %s", orNone(t.FailoverManager), name)
	case !managerHealthy(n.Manager):
		return fmt.Errorf("%s sees %s as %s %s: only a healthy replica can take over", n.Manager.Manager, name, n.Manager.Role, n.Manager.State)
	}
	return nil
}

// SwitchedOver reports whether name is now the only primary and every
// other Postgres node streams; when not, it says what is still missing.
func (t *Topology) SwitchedOver(name string) (bool, string) {
	if t.Primary != name {
		return false, fmt.Sprintf("the primary is %s", orNone(t.Primary))
	}
	for _, p := range t.Problems {
		if strings.HasPrefix(p, "more than one primary") {
			return false, p
		}
	}
	for _, n := range t.Nodes {
		if !n.IsPostgres() || n.Name == name {
			continue
		}
		if !n.Streaming() {
			return false, n.Name + " does not stream yet"
		}
		if n.Manager != nil && !managerHealthy(n.Manager) {
			return false, fmt.Sprintf("%s sees %s as %s", n.Manager.Manager, n.Name, n.Manager.State)
		}
	}
	return true, ""
}

// UpgradePlaybook upgrades the pinned packages of the host it runs on to
// the versions given as extra variables, restarting a Postgres server
// that still runs the old binary; in check mode its task "plan" says what
// would change.
var UpgradePlaybook = mustPlaybook("upgrade.yml")

// Package ops holds the day-two operations of an M1 cluster: status,
// switchover, backup, restore-test and the failover drill. They reach the
// cluster's hosts through one Runner (SSH, with sudo in one place) or the
// engine's executor (playbooks), and do what only a platform can (cut a
// host's power, make a scratch host) through the platform's capabilities
// (platforms.PowerSwitch, platforms.ScratchHoster), refused with exit
// status 2 on a platform without them.
//
// Operations to come belong here too, each in its own file over the same
// Cluster and Runner: Upgrade (upgrade.go: a rolling minor upgrade,
// replicas first, then a switchover) and Restore (restore.go beside
// RestoreTest: recover a backup onto the cluster's own hosts).
//
// Errors carry their exit status (package exitcode): 2 for bad input or a
// cluster an operation cannot run on, 4 for an unreachable host, 1 (the
// default) for a failed operation or check.
package ops

import (
	"fmt"
	"io"
	"time"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/inventory"
	"github.com/tpago/tpago/platforms"
)

// Cluster is the cluster an operation works on.
type Cluster struct {
	// Dir is the cluster directory, absolute.
	Dir       string
	Config    *cluster.Config
	Inventory *inventory.Inventory
	// Out receives what the operation tells people.
	Out io.Writer
	// Runner reaches the hosts; nil: an SSHRunner over Inventory, closed
	// when the operation ends.
	Runner Runner
	// Platform returns the provisioner of a platform, whose capabilities
	// are found by type assertion; nil: platforms.Lookup.
	Platform func(name string) (platforms.Provisioner, bool)
	// ConnectTimeout bounds each SSH dial (10 s when 0).
	ConnectTimeout time.Duration
}

// runner returns the cluster's Runner and what to call when done.
func (c *Cluster) runner() (Runner, func()) {
	if c.Runner != nil {
		return c.Runner, func() {}
	}
	r := NewSSHRunner(c.Inventory)
	r.ConnectTimeout = c.ConnectTimeout
	return r, func() { r.Close() }
}

func (c *Cluster) out() io.Writer {
	if c.Out == nil {
		return io.Discard
	}
	return c.Out
}

// capability returns the platform of instance host as a T. When the
// platform has no T, the error (exit status 2) says so: "NEED: the NAME
// platform cannot (HOST is on it)".
func capability[T any](c *Cluster, host, need string) (T, error) {
	var zero T
	in := c.Config.Instance(host)
	if in == nil {
		return zero, exitcode.Bad(fmt.Errorf("no instance %s in cluster %s", host, c.Config.ClusterName))
	}
	name := c.Config.PlatformOf(in)
	lookup := c.Platform
	if lookup == nil {
		lookup = platforms.Lookup
	}
	p, ok := lookup(name)
	if !ok {
		return zero, exitcode.Bad(fmt.Errorf("%s: unknown platform %q", host, name))
	}
	t, ok := p.(T)
	if !ok {
		return zero, exitcode.Bad(fmt.Errorf("%s: the %s platform cannot (%s is on it)", need, name, host))
	}
	return t, nil
}

// platformCluster is the cluster as its platform sees it.
func (c *Cluster) platformCluster() (*platforms.Cluster, error) {
	pc, err := platforms.LoadCluster(c.Dir)
	if err != nil {
		return nil, exitcode.Bad(err)
	}
	pc.Out = c.Out
	return pc, nil
}

// PostgresVersion is the cluster's Postgres major version
// (cluster_vars.postgres_version, 15 by default).
func PostgresVersion(cfg *cluster.Config) string {
	if v, ok := cfg.ClusterVars["postgres_version"]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return "15"
}

// PostgresUnit is the systemd unit of the cluster's Postgres (Debian's
// postgresql@VERSION-main; roles/common's postgres_service).
func PostgresUnit(cfg *cluster.Config) string {
	return "postgresql@" + PostgresVersion(cfg) + "-main"
}

// FailoverManager is cluster_vars.failover_manager (repmgr by default).
func FailoverManager(cfg *cluster.Config) string {
	if fm, ok := cfg.ClusterVars["failover_manager"].(string); ok && fm != "" {
		return fm
	}
	return "repmgr"
}

// Package cluster is a cluster directory: TPA's config.yml schema, read
// once with the position of every value, validated, and turned into an
// inventory; the cluster's key, known_hosts and secrets live beside it.
// It knows the M1 architecture's schema (roles, upstreams, backups) and
// nothing of how Postgres is set up: that lives in roles/.
package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/inventory"
)

// Cluster is a cluster directory, loaded.
type Cluster struct {
	// Dir is the cluster directory, absolute.
	Dir    string
	Config *Config
}

// ConfigFile is the cluster's config.yml.
func (c *Cluster) ConfigFile() string { return filepath.Join(c.Dir, "config.yml") }

// KnownHostsFile is the cluster's known_hosts (written by provision).
func (c *Cluster) KnownHostsFile() string { return filepath.Join(c.Dir, "known_hosts") }

// InventoryFile is the inventory provision writes.
func (c *Cluster) InventoryFile() string { return filepath.Join(c.Dir, "inventory.yml") }

// Load reads dir/config.yml once (keeping every value's position) and
// validates it. Its errors are bad input (exit status 2) and point at
// file:line:col.
func Load(dir string) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, exitcode.Bad(err)
	}
	file := filepath.Join(abs, "config.yml")
	cfg, err := LoadConfig(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, exitcode.Bad(fmt.Errorf("%s is not a cluster directory (no config.yml): run `tpago configure %s …` first", dir, dir))
		}
		return nil, exitcode.Bad(err)
	}
	return &Cluster{Dir: abs, Config: cfg}, nil
}

// LoadProvisioned is Load for commands that need the cluster's hosts: a
// cluster that was never provisioned is bad input too.
func LoadProvisioned(dir string) (*Cluster, error) {
	c, err := Load(dir)
	if err != nil {
		return nil, err
	}
	if err := c.RequireProvisioned(); err != nil {
		return nil, err
	}
	return c, nil
}

// RequireProvisioned fails (exit status 2) with what to run when the
// cluster has no known_hosts yet: provision writes it.
func (c *Cluster) RequireProvisioned() error {
	if _, err := os.Stat(c.KnownHostsFile()); err != nil {
		return exitcode.Bad(fmt.Errorf("cluster %s is not provisioned (no known_hosts): run `tpago provision %s` first", c.Config.ClusterName, c.Dir))
	}
	return nil
}

// Inventory is the cluster's inventory as config.yml says (see FromConfig).
func (c *Cluster) Inventory() (*inventory.Inventory, error) {
	return fromConfig(c.Config, c.Dir)
}

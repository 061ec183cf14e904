// Package platforms makes the hosts of a cluster: containers on Docker,
// nothing at all on bare metal (it only checks that the hosts answer). A
// platform knows about hosts, addresses and SSH; never about Postgres.
//
// Each platform is a Provisioner registered under its name (see Register);
// Provision in this package does the work common to all of them: the
// cluster's SSH key pair, known_hosts, waiting for sshd and writing the
// inventory.
package platforms

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/tpago/tpago/cluster"
	"golang.org/x/crypto/ssh"
)

// Provisioner makes sure every instance of a cluster has a host, and says
// how to reach each one.
type Provisioner interface {
	// Provision makes (or finds) the hosts of c's instances, in the order
	// of c.Instances. It must be idempotent: what exists is kept.
	Provision(ctx context.Context, c *Cluster) ([]Host, error)
}

// Validator is implemented by provisioners that check a cluster's
// configuration before anything is made; Provision calls it first.
type Validator interface {
	Validate(ctx context.Context, c *Cluster) error
}

// Deprovisioner is implemented by provisioners that can remove what they made.
type Deprovisioner interface {
	// Deprovision removes the cluster's hosts and returns what it removed.
	Deprovision(ctx context.Context, c *Cluster) ([]string, error)
}

// PowerSwitch is implemented by platforms that can cut a host's power and
// turn it on again (docker: kill its container, start it): what a failover
// drill needs. Found by type assertion on the platform's Provisioner.
type PowerSwitch interface {
	// PowerOff stops host at once, as a power cut does: no shutdown.
	PowerOff(ctx context.Context, c *Cluster, host string) error
	// PowerOn starts host again with what its disk held.
	PowerOn(ctx context.Context, c *Cluster, host string) error
}

// ScratchHoster is implemented by platforms that can make a throwaway host
// like one of the cluster's (same image, on its network), such as the host
// a backup is restored on to test it.
type ScratchHoster interface {
	// NewScratchHost makes (or makes again) the host name, like the
	// instance like, and starts it. The caller removes it.
	NewScratchHost(ctx context.Context, c *Cluster, like, name string) (ScratchHost, error)
}

// ScratchHost is a throwaway host made by a ScratchHoster.
type ScratchHost interface {
	// Name is what the platform calls the host (a container's name).
	Name() string
	// Run runs a POSIX sh script as root and returns its stdout; a
	// non-zero exit is an error that carries its stderr.
	Run(ctx context.Context, script string) (string, error)
	// CopyFrom copies path (a file or folder) from the cluster's host into
	// folder dir of the scratch host, made when missing.
	CopyFrom(ctx context.Context, host, path, dir string) error
	// Remove removes the host and what it holds.
	Remove(ctx context.Context) error
}

// Host is how to reach one instance.
type Host struct {
	Name string
	// Address is the IP address (or name) SSH connects to.
	Address string
	Port    int
	User    string
	// KeyFile is the private key when not the cluster's own.
	KeyFile string
	// HostKeys are the host's SSH keys as read through a trusted channel
	// (Docker); nil when the platform has none and known_hosts must already
	// know the host (or accept-new was asked for).
	HostKeys []ssh.PublicKey
}

// Instance is one instance of the cluster's config.yml with its platform
// defaults applied.
type Instance struct {
	cluster.Instance
	// Index is the instance's position in config.yml's instances.
	Index int
	// Platform and Image, from the instance or instance_defaults.
	Platform string
	Image    string
	// User is ansible_user (root by default).
	User string
}

// Cluster is what a provisioner works on.
type Cluster struct {
	// Name is cluster_name.
	Name string
	// Dir is the cluster directory, absolute.
	Dir string
	// ConfigFile is Dir/config.yml.
	ConfigFile string
	Config     *cluster.Config
	Instances  []*Instance
	// PublicKey is the cluster's public key, in authorized_keys format;
	// KeyFile is its private key.
	PublicKey string
	KeyFile   string
	// Out receives progress lines for people.
	Out io.Writer

	mu      sync.Mutex
	changes int
	pos     func(path string) string
}

// Say prints a progress line.
func (c *Cluster) Say(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Out != nil {
		fmt.Fprintf(c.Out, format+"\n", args...)
	}
}

// Changed prints a progress line for a change and counts it.
func (c *Cluster) Changed(format string, args ...any) {
	c.mu.Lock()
	c.changes++
	c.mu.Unlock()
	c.Say(format, args...)
}

// Changes is the number of changes made so far.
func (c *Cluster) Changes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changes
}

// Where returns "config.yml:line:col" for a YAML path such as
// "$.instances[2].ip_address", or the file name when unknown.
func (c *Cluster) Where(path string) string {
	if c.pos != nil {
		if p := c.pos(path); p != "" {
			return p
		}
	}
	return c.ConfigFile
}

// InstanceError is an error about one field of one instance.
func (c *Cluster) InstanceError(i *Instance, field, format string, args ...any) error {
	return fmt.Errorf("%s: instance %s: %s: %s", c.Where(fmt.Sprintf("$.instances[%d].%s", i.Index, field)), i.Name, field, fmt.Sprintf(format, args...))
}

var (
	regMu    sync.Mutex
	registry = map[string]Provisioner{}
)

// Register makes a provisioner available under a platform name; it panics
// when the name is taken.
func Register(name string, p Provisioner) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("platforms: platform registered twice: " + name)
	}
	registry[name] = p
}

// Lookup returns the provisioner of a platform.
func Lookup(name string) (Provisioner, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	p, ok := registry[name]
	return p, ok
}

// Names lists the registered platforms.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	var n []string
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

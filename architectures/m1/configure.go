// Package m1 is the M1 architecture: a Postgres primary with a streaming
// replica in one location, any number of replicas cascaded from that
// replica in a second location, and a Barman server there too (also a
// witness when the number of Postgres nodes is even). Configure writes a
// cluster directory's config.yml in TPA's shape, in that layout (the
// seed's) or, with Options.DataNodesPerLocation, in current TPA's: the
// same number of Postgres nodes in every location, Barman and a log server
// beside the primary.
package m1

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tpago/tpago/atomicfile"
	"github.com/tpago/tpago/cluster"
)

// Defaults of the configure options.
const (
	DefaultPlatform     = "aws"
	DefaultRegion       = "eu-west-1"
	DefaultInstanceType = "t3.micro"
	DefaultDistribution = "Debian"
	DefaultOSVersion    = "12"
	DefaultPatroniDCS   = "etcd"
	// DefaultPatroniPackageFlavour installs the distribution's Patroni.
	DefaultPatroniPackageFlavour = "community"
	// DefaultDockerImage is the image of DefaultOSVersion; other releases
	// use tpago/debian:VERSION (tpago image build --os-version VERSION).
	DefaultDockerImage = "tpago/debian:" + DefaultOSVersion
	DefaultFlavour     = "postgresql"
)

// DefaultLocationNames are the two locations of an M1 cluster in the
// seed's layout.
var DefaultLocationNames = []string{"main", "dr"}

// DefaultDataNodesLocationNames is the one location of a cluster laid out
// by --data-nodes-per-location when no names are given.
var DefaultDataNodesLocationNames = []string{"main"}

// DebianPostgres is the PostgreSQL major version each Debian release
// packages, by the release's major version: a community cluster on that
// release installs that version.
var DebianPostgres = map[string]string{"12": "15", "13": "17"}

// debianCodenames name the releases DebianPostgres knows.
var debianCodenames = map[string]string{"bookworm": "12", "trixie": "13"}

// Flavours of Postgres, by the name config.yml gives them
// (cluster_vars.postgres_flavour).
var Flavours = []string{"postgresql", "epas", "edbpge"}

// Options are everything `tpago configure --architecture M1` takes.
// Start from DefaultOptions: the zero value of NumCascadedReplicas (0) is
// a valid choice, not "unset".
type Options struct {
	// Architecture must be "M1".
	Architecture string
	// ClusterName names the cluster; Configure defaults it to the
	// directory's name.
	ClusterName string
	// PostgresFlavour is postgresql (default), epas or edbpge.
	PostgresFlavour string
	// PostgresVersion is the major version, such as "15". Required.
	PostgresVersion string
	// FailoverManager is efm, repmgr or patroni. Required.
	FailoverManager string
	// Platform is aws (default), docker or bare.
	Platform string
	// NumCascadedReplicas replicas stream from the first replica, in the
	// second location (default 1; 0 for none). The seed's layout only.
	NumCascadedReplicas int
	// DataNodesPerLocation, when not 0, lays the cluster out as current
	// TPA does: this many Postgres nodes in each location (the primary and
	// its replicas in the first; a replica of the primary and replicas
	// cascaded from it in each other), one Barman and log server beside
	// the primary. 0 keeps the seed's layout (NumCascadedReplicas), which
	// must then stay at its default.
	DataNodesPerLocation int
	// EnableHAProxy adds two HAProxy nodes (Patroni only).
	EnableHAProxy bool
	// EnablePgBouncer adds a PgBouncer node in the first location, in
	// front of the primary (any failover manager).
	EnablePgBouncer bool
	// PatroniDCS is Patroni's configuration store; only etcd (default).
	PatroniDCS string
	// PatroniPackageFlavour is where Patroni's packages come from:
	// community (default: the distribution's) or edb (EDB's repositories).
	PatroniPackageFlavour string
	// Region and InstanceType are for aws.
	Region       string
	InstanceType string
	// Distribution and OSVersion of the hosts: Debian 12.
	Distribution string
	OSVersion    string
	// LocationNames are the two locations (default main, dr); with
	// DataNodesPerLocation, one or more (default main).
	LocationNames []string
	// Owner goes into cluster_tags.
	Owner string
	// Hostnames, when set, name the instances in order; HostnamesFrom is a
	// file with one name a line. Otherwise names come from the built-in
	// word list, chosen by the cluster name.
	Hostnames     []string
	HostnamesFrom string
	// OverridesFrom is a YAML file whose mapping is merged into
	// cluster_vars; Overrides are merged after it.
	OverridesFrom string
	Overrides     map[string]any
	// Subnet is the docker network's subnet (default: a /24 within
	// 10.200.0.0–10.239.255.255 chosen from the cluster name).
	Subnet string
	// Image is the docker image (default tpago/debian:12).
	Image string
	// NoGit leaves the cluster directory out of git.
	NoGit bool
	// Force overwrites an existing config.yml.
	Force bool
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{
		Architecture:        "M1",
		PostgresFlavour:     DefaultFlavour,
		Platform:            DefaultPlatform,
		NumCascadedReplicas: 1,
		Distribution:        DefaultDistribution,
		OSVersion:           DefaultOSVersion,
	}
}

// UsageError is a bad option or a bad combination of options: nothing has
// been written.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// MaxCascadedReplicas bounds --num-cascaded-replicas.
const MaxCascadedReplicas = 50

// MaxDataNodesPerLocation bounds --data-nodes-per-location, and
// MaxDataNodes the Postgres nodes of all locations together (so that a
// cluster fits a /24 and the built-in hostnames).
const (
	MaxDataNodesPerLocation = 50
	MaxDataNodes            = 100
)

// normalize fills in defaults and checks every option and combination.
func (o Options) normalize() (Options, error) {
	if o.Architecture == "" {
		return o, usagef("--architecture is required (M1)")
	}
	if !strings.EqualFold(o.Architecture, "M1") {
		return o, usagef("unknown architecture %q: this command configures M1", o.Architecture)
	}
	o.Architecture = "M1"

	if o.ClusterName == "" {
		return o, usagef("the cluster needs a name (--cluster-name, or the directory's name)")
	}
	if !cluster.ValidName(o.ClusterName) {
		return o, usagef("cluster name %q is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters (it defaults to the directory's name; --cluster-name sets it)", o.ClusterName)
	}

	if o.PostgresFlavour == "" {
		o.PostgresFlavour = DefaultFlavour
	}
	if !slices.Contains(Flavours, o.PostgresFlavour) {
		return o, usagef("unknown Postgres flavour %q (one of %s)", o.PostgresFlavour, strings.Join(Flavours, ", "))
	}
	if o.PostgresVersion == "" {
		return o, usagef("the Postgres version is required (--postgresql VERSION, e.g. --postgresql 15)")
	}
	if v, err := strconv.Atoi(o.PostgresVersion); err != nil || v < 11 || v > 18 {
		return o, usagef("Postgres version %q is not supported: give a major version from 11 to 18, such as 15", o.PostgresVersion)
	}

	switch o.FailoverManager {
	case "":
		return o, usagef("a failover manager is required (--failover-manager efm|repmgr|patroni)")
	case "efm", "repmgr", "patroni":
	default:
		return o, usagef("unknown failover manager %q (one of efm, repmgr, patroni)", o.FailoverManager)
	}

	if o.Platform == "" {
		o.Platform = DefaultPlatform
	}
	if !slices.Contains(cluster.Platforms, o.Platform) {
		return o, usagef("unknown platform %q (one of aws, docker, bare)", o.Platform)
	}

	if o.NumCascadedReplicas < 0 {
		return o, usagef("--num-cascaded-replicas must be 0 or more, not %d", o.NumCascadedReplicas)
	}
	if o.NumCascadedReplicas > MaxCascadedReplicas {
		return o, usagef("--num-cascaded-replicas %d is more than %d", o.NumCascadedReplicas, MaxCascadedReplicas)
	}
	if o.EnableHAProxy && o.FailoverManager != "patroni" {
		return o, usagef("--enable-haproxy needs --failover-manager patroni (HAProxy routes by Patroni's health checks)")
	}
	if o.PatroniDCS != "" && o.FailoverManager != "patroni" {
		return o, usagef("--patroni-dcs needs --failover-manager patroni")
	}
	if o.PatroniPackageFlavour != "" && o.FailoverManager != "patroni" {
		return o, usagef("--patroni-package-flavour needs --failover-manager patroni")
	}
	if o.FailoverManager == "patroni" {
		if o.PatroniDCS == "" {
			o.PatroniDCS = DefaultPatroniDCS
		}
		if o.PatroniDCS != "etcd" {
			return o, usagef("unknown --patroni-dcs %q: only etcd is supported", o.PatroniDCS)
		}
		if o.PatroniPackageFlavour == "" {
			o.PatroniPackageFlavour = DefaultPatroniPackageFlavour
		}
		if o.PatroniPackageFlavour != "community" && o.PatroniPackageFlavour != "edb" {
			return o, usagef("unknown --patroni-package-flavour %q (community or edb)", o.PatroniPackageFlavour)
		}
	}

	if o.Distribution == "" {
		o.Distribution = DefaultDistribution
	}
	if !strings.EqualFold(o.Distribution, "Debian") {
		return o, usagef("distribution %q is not supported: tpago's roles install Debian packages (--distribution Debian)", o.Distribution)
	}
	o.Distribution = "Debian"
	if o.OSVersion == "" {
		o.OSVersion = DefaultOSVersion
	}
	if v, ok := debianCodenames[strings.ToLower(o.OSVersion)]; ok {
		o.OSVersion = v
	}
	pgv, ok := DebianPostgres[o.OSVersion]
	if !ok {
		return o, usagef("--os-version %q is not supported: Debian 12 (bookworm) or 13 (trixie)", o.OSVersion)
	}
	// A community version the release does not package comes from PGDG
	// (apt.postgresql.org), as with TPA: configure lists that repository
	// (apt_repository_list), which serves 13 and later for both releases.
	if v, _ := strconv.Atoi(o.PostgresVersion); o.PostgresFlavour == "postgresql" && o.PostgresVersion != pgv && v < 13 {
		return o, usagef("PostgreSQL %s is packaged neither by Debian %s (which has %s) nor by PGDG for it (13 and later): give --postgresql %s, or a newer version",
			o.PostgresVersion, o.OSVersion, pgv, pgv)
	}

	if o.Platform != "aws" {
		if o.Region != "" {
			return o, usagef("--region is for --platform aws, not %s", o.Platform)
		}
		if o.InstanceType != "" {
			return o, usagef("--instance-type is for --platform aws, not %s", o.Platform)
		}
	} else {
		if o.Region == "" {
			o.Region = DefaultRegion
		}
		if o.InstanceType == "" {
			o.InstanceType = DefaultInstanceType
		}
	}
	if o.Platform != "docker" {
		if o.Subnet != "" {
			return o, usagef("--subnet is for --platform docker, not %s", o.Platform)
		}
		if o.Image != "" {
			return o, usagef("--image is for --platform docker, not %s", o.Platform)
		}
	} else if o.Image == "" {
		o.Image = "tpago/debian:" + o.OSVersion
	}

	if o.DataNodesPerLocation != 0 {
		return o.normalizeDataNodes()
	}
	if len(o.LocationNames) == 0 {
		o.LocationNames = DefaultLocationNames
	}
	if len(o.LocationNames) != 2 {
		return o, usagef("--location-names takes two names (the primary's location, then the one with Barman and the cascaded replicas), got %d (--data-nodes-per-location takes one or more)", len(o.LocationNames))
	}
	if err := checkLocationNames(o.LocationNames); err != nil {
		return o, err
	}
	return o, nil
}

// normalizeDataNodes checks the options of current TPA's layout
// (--data-nodes-per-location).
func (o Options) normalizeDataNodes() (Options, error) {
	n := o.DataNodesPerLocation
	if o.NumCascadedReplicas != DefaultOptions().NumCascadedReplicas {
		return o, usagef("--num-cascaded-replicas and --data-nodes-per-location are two different layouts: give one (--data-nodes-per-location puts the same number of Postgres nodes in every location)")
	}
	if n < 1 {
		return o, usagef("--data-nodes-per-location must be 1 or more, not %d", n)
	}
	if n > MaxDataNodesPerLocation {
		return o, usagef("--data-nodes-per-location %d is more than %d", n, MaxDataNodesPerLocation)
	}
	if len(o.LocationNames) == 0 {
		o.LocationNames = DefaultDataNodesLocationNames
	}
	if err := checkLocationNames(o.LocationNames); err != nil {
		return o, err
	}
	if n == 1 && len(o.LocationNames) == 1 {
		return o, usagef("--data-nodes-per-location 1 with one location is a primary alone: M1 needs a replica (give 2 or more, or a second location with --location-names main,dr)")
	}
	if total := n * len(o.LocationNames); total > MaxDataNodes {
		return o, usagef("--data-nodes-per-location %d in %d locations is %d Postgres nodes, more than %d", n, len(o.LocationNames), total, MaxDataNodes)
	}
	return o, nil
}

// checkLocationNames refuses an invalid or repeated location name.
func checkLocationNames(names []string) error {
	seen := map[string]bool{}
	for _, l := range names {
		if !cluster.ValidName(l) {
			return usagef("location name %q is not valid: use letters, digits, '.', '_' and '-'", l)
		}
		if seen[l] {
			return usagef("--location-names must be different names, got %q twice", l)
		}
		seen[l] = true
	}
	return nil
}

// node is one instance of the layout, before it gets a name.
type node struct {
	roles    []string
	location string
	upstream int // node number, 0 for none
	backup   int
	vars     func(names map[int]string) map[string]any
}

// layout returns the instances of the M1 cluster, node 1 first, in the
// seed's layout or, with DataNodesPerLocation, in current TPA's.
func layout(o Options) []node {
	if o.DataNodesPerLocation != 0 {
		return dataNodesLayout(o)
	}
	return seedLayout(o)
}

// seedLayout is the seed's M1:
//
//	1        primary, first location, backup: node 3
//	2        replica, first location, upstream node 1
//	3        barman (+ witness / efm-witness when the number of Postgres
//	         nodes is even and the failover manager is repmgr or efm),
//	         second location
//	4…3+N    replica, second location, upstream node 2
//	Patroni: three etcd nodes (first, first, second location)
//	HAProxy: two haproxy nodes (one per location)
//	PgBouncer: one pgbouncer node (first location)
//
// Barman is in the second location even when N is 0, as the seed layout
// puts it beside the cascaded replicas, away from the primary.
func seedLayout(o Options) []node {
	first, second := o.LocationNames[0], o.LocationNames[1]
	n := o.NumCascadedReplicas
	nodes := []node{
		{roles: []string{"primary"}, location: first, backup: 3},
		{roles: []string{"replica"}, location: first, upstream: 1},
		{roles: []string{"barman"}, location: second},
	}
	witness(o, &nodes[2], 2+n)
	for range n {
		nodes = append(nodes, node{roles: []string{"replica"}, location: second, upstream: 2})
	}
	return addServices(o, nodes, []string{first, first, second}, []string{first, second})
}

// dataNodesLayout is current TPA's M1 (--data-nodes-per-location N, L
// locations):
//
//	1        primary, first location, backup: node N+1
//	2…N      replica, first location, upstream node 1
//	N+1      barman and log-server (+ witness / efm-witness when the
//	         number of Postgres nodes, N×L, is even and the failover
//	         manager is repmgr or efm), first location
//	then for each further location, N nodes: a replica of the primary
//	         (upstream node 1), then N-1 replicas cascaded from it
//	Patroni: three etcd nodes (first, first, second location; all in the
//	         first when it is the only one)
//	HAProxy: two haproxy nodes (first and second location, or both in the
//	         only one)
//	PgBouncer: one pgbouncer node (first location)
func dataNodesLayout(o Options) []node {
	n, locs := o.DataNodesPerLocation, o.LocationNames
	first, second := locs[0], locs[0]
	if len(locs) > 1 {
		second = locs[1]
	}
	barman := n + 1
	nodes := []node{{roles: []string{"primary"}, location: first, backup: barman}}
	for range n - 1 {
		nodes = append(nodes, node{roles: []string{"replica"}, location: first, upstream: 1})
	}
	nodes = append(nodes, node{roles: []string{"barman", "log-server"}, location: first})
	witness(o, &nodes[barman-1], n*len(locs))
	for _, loc := range locs[1:] {
		head := len(nodes) + 1
		nodes = append(nodes, node{roles: []string{"replica"}, location: loc, upstream: 1})
		for range n - 1 {
			nodes = append(nodes, node{roles: []string{"replica"}, location: loc, upstream: head})
		}
	}
	return addServices(o, nodes, []string{first, first, second}, []string{first, second})
}

// witness makes the Barman node b a witness too when the number of
// Postgres nodes is even and the failover manager counts votes (repmgr,
// EFM), so that the voters are an odd number.
func witness(o Options, b *node, postgresNodes int) {
	if postgresNodes%2 != 0 {
		return
	}
	switch o.FailoverManager {
	case "repmgr":
		b.roles = append(b.roles, "witness")
	case "efm":
		b.roles = append(b.roles, "efm-witness")
	}
}

// addServices appends the etcd, HAProxy and PgBouncer nodes the options
// ask for to the Postgres and Barman nodes: etcd in etcdLocs, HAProxy in
// haproxyLocs. HAProxy's backends are the Postgres nodes (never Barman,
// even as a witness).
func addServices(o Options, nodes []node, etcdLocs, haproxyLocs []string) []node {
	var backends []int
	for i, n := range nodes {
		if slices.Contains(n.roles, "primary") || slices.Contains(n.roles, "replica") {
			backends = append(backends, i+1)
		}
	}
	first := o.LocationNames[0]
	if o.FailoverManager == "patroni" {
		for _, loc := range etcdLocs {
			nodes = append(nodes, node{roles: []string{"etcd"}, location: loc, vars: func(map[int]string) map[string]any {
				return map[string]any{"etcd_location": first}
			}})
		}
	}
	if o.EnableHAProxy {
		for _, loc := range haproxyLocs {
			nodes = append(nodes, node{roles: []string{"haproxy"}, location: loc, vars: func(names map[int]string) map[string]any {
				var l []any
				for _, k := range backends {
					l = append(l, names[k])
				}
				return map[string]any{"haproxy_backend_servers": l}
			}})
		}
	}
	if o.EnablePgBouncer {
		nodes = append(nodes, node{roles: []string{"pgbouncer"}, location: first})
	}
	return nodes
}

// Generate returns the config.yml for opts. It reads opts.HostnamesFrom
// and opts.OverridesFrom when set, and writes nothing.
func Generate(opts Options) ([]byte, error) {
	o, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	cfg, err := build(o)
	if err != nil {
		return nil, err
	}
	out, err := emit(cfg, o)
	if err != nil {
		return nil, err
	}
	// What we write must read back cleanly.
	if _, err := cluster.ParseConfig("config.yml", out); err != nil {
		return nil, fmt.Errorf("generated config.yml does not load (a bug): %w", err)
	}
	return out, nil
}

// Configure writes dir/config.yml for opts and, unless opts.NoGit, makes
// dir a git repository with config.yml in its first commit. It refuses a
// directory that already has a config.yml unless opts.Force. Bad options
// are a *UsageError and leave the disk untouched.
func Configure(dir string, opts Options) error {
	if dir == "" {
		return usagef("the cluster directory is required")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if opts.ClusterName == "" {
		opts.ClusterName = filepath.Base(abs)
	}
	out, err := Generate(opts)
	if err != nil {
		return err
	}
	path := filepath.Join(abs, "config.yml")
	if _, err := os.Stat(path); err == nil && !opts.Force {
		return usagef("%s already exists: pass --force to overwrite it", path)
	}
	var gitBin string
	if !opts.NoGit {
		gitBin, err = exec.LookPath("git")
		if err != nil {
			return usagef("git is not installed (needed to make %s a git repository): install git or pass --no-git", abs)
		}
	}
	// Nothing half-done: when a step fails, what this run wrote is undone.
	var undo []func()
	rollback := func(err error) error {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return err
	}
	if _, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return fmt.Errorf("cluster directory: %w", err)
		}
		undo = append(undo, func() { os.RemoveAll(abs) })
	}
	if old, err := os.ReadFile(path); err == nil {
		undo = append(undo, func() { atomicfile.Write(path, old, 0o644) })
	} else {
		undo = append(undo, func() { os.Remove(path) })
	}
	if err := atomicfile.Write(path, out, 0o644); err != nil {
		return rollback(err)
	}
	if opts.NoGit {
		return nil
	}
	ignore := filepath.Join(abs, ".gitignore")
	if old, err := os.ReadFile(ignore); err == nil {
		undo = append(undo, func() { atomicfile.Write(ignore, old, 0o644) })
	} else {
		undo = append(undo, func() { os.Remove(ignore) })
	}
	if err := writeGitignore(ignore, opts.ClusterName); err != nil {
		return rollback(err)
	}
	if _, err := os.Stat(filepath.Join(abs, ".git")); errors.Is(err, fs.ErrNotExist) {
		undo = append(undo, func() { os.RemoveAll(filepath.Join(abs, ".git")) })
	}
	if err := gitCommit(gitBin, abs); err != nil {
		return rollback(err)
	}
	return nil
}

// gitignored are what a cluster directory holds that must never be
// committed: generated passwords, the cluster's SSH key pair, and what
// provision learns of the hosts.
func gitignored(clusterName string) []string {
	return []string{"secrets/", "id_" + clusterName, "id_" + clusterName + ".pub", "known_hosts", "inventory.yml"}
}

// writeGitignore makes sure the cluster directory's .gitignore names what
// must stay out of git, keeping what the user wrote there.
func writeGitignore(file, clusterName string) error {
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(old), "\n") {
		have[strings.TrimSpace(l)] = true
	}
	var add []string
	for _, p := range gitignored(clusterName) {
		if !have[p] && !have["/"+p] {
			add = append(add, "/"+p)
		}
	}
	if len(add) == 0 {
		return nil
	}
	text := string(old)
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	text += "# tpago: secrets, the cluster's SSH key and what provision writes stay out of git\n" + strings.Join(add, "\n") + "\n"
	return atomicfile.Write(file, []byte(text), 0o644)
}

// gitCommit makes dir a repository (if it is not one) and commits
// config.yml and .gitignore. A user without a git identity gets tpago's.
func gitCommit(git, dir string) error {
	run := func(args ...string) error {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		cmd.Env = os.Environ()
		if out, err := exec.Command(git, "-C", dir, "config", "user.email").Output(); err != nil || len(strings.TrimSpace(string(out))) == 0 {
			cmd.Env = append(cmd.Env,
				"GIT_AUTHOR_NAME=tpago", "GIT_AUTHOR_EMAIL=tpago@localhost",
				"GIT_COMMITTER_NAME=tpago", "GIT_COMMITTER_EMAIL=tpago@localhost")
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("git %s in %s: %v: %s", args[0], dir, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); errors.Is(err, os.ErrNotExist) {
		if err := run("init", "-q"); err != nil {
			return err
		}
	}
	if err := run("add", "config.yml", ".gitignore"); err != nil {
		return err
	}
	if run("diff", "--cached", "--quiet", "--", "config.yml", ".gitignore") == nil {
		if err := run("rev-parse", "-q", "--verify", "HEAD"); err == nil {
			return nil // config.yml is committed already, unchanged
		}
	}
	return run("commit", "-q", "-m", "Configure the cluster (tpago configure)", "--", "config.yml", ".gitignore")
}

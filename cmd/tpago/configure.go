package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tpago/tpago/architectures/m1"
	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/exitcode"
)

func init() { commands = append(commands, newConfigureCmd) }

// flagGroup is the annotation that puts a configure flag in a help group.
const flagGroup = "tpago_group"

var configureGroups = []struct{ key, title string }{
	{"mandatory", "Mandatory options"},
	{"additional", "Additional options"},
	{"platform", "Platform options"},
	{"general", "General options"},
}

// configureFlags are the raw values of configure's flags.
type configureFlags struct {
	architecture                 string
	postgresql, epas, pge        string
	postgresVersion, flavour     string
	failoverManager              string
	enableEFM, enableRepmgr      bool
	enablePatroni                bool
	platform                     string
	numCascaded                  int
	dataNodesPerLocation         int
	enableHAProxy                bool
	enablePgBouncer              bool
	patroniDCS, patroniFlavour   string
	region, instanceType         string
	distribution, osName         string
	osVersion                    string
	locationNames                []string
	owner, clusterName           string
	hostnamesFrom, overridesFrom string
	subnet, image                string
	noGit, force                 bool
}

func newConfigureCmd() *cobra.Command {
	var f configureFlags
	cmd := &cobra.Command{
		Use:   "configure CLUSTER_DIR --architecture M1 --postgresql VERSION --failover-manager MANAGER [options]",
		Short: "Write a cluster directory's config.yml for the M1 architecture",
		Long: `configure writes CLUSTER_DIR/config.yml for an M1 cluster: a primary and a
replica in one location, replicas cascaded from that replica in a second
location, where the Barman server is too (also a witness when the number of
Postgres nodes is even, with repmgr or EFM). With --data-nodes-per-location
N, the layout is current TPA's instead: N Postgres nodes in each location
(the primary and its replicas in the first; in each other, a replica of the
primary and replicas cascaded from it), and one Barman and log server beside
the primary. The directory becomes a git repository unless --no-git.`,
		Example: `  tpago configure ~/clusters/m1 --architecture M1 \
        --platform aws --region eu-west-1 --instance-type t3.micro \
        --distribution Debian --postgresql 14 --failover-manager repmgr
  tpago configure ~/clusters/demo -a M1 --platform docker --postgresql 15 --enable-repmgr
  tpago configure ~/clusters/two -a M1 --platform docker --postgresql 15 --enable-repmgr \
        --data-nodes-per-location 2 --location-names main,dr`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return exitcode.Bad(fmt.Errorf("configure takes one cluster directory, got %d: %s (lists take commas: --location-names main,dr)", len(args), strings.Join(args, " ")))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options(cmd.Flags())
			var me *missingError
			if len(args) == 0 {
				if !errors.As(err, &me) {
					me = &missingError{}
				}
				me.items = append([]string{"CLUSTER_DIR (the cluster directory)"}, me.items...)
				return exitcode.Bad(me)
			}
			if err != nil {
				return exitcode.Bad(err)
			}
			dir := args[0]
			if err := m1.Configure(dir, opts); err != nil {
				var ue *m1.UsageError
				if errors.As(err, &ue) {
					return exitcode.Bad(err)
				}
				return err
			}
			return reportConfigured(cmd.OutOrStdout(), dir, opts.NoGit)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.Bad(fmt.Errorf("%w (see tpago configure --help)", err))
	})

	fs := cmd.Flags()
	fs.SortFlags = false
	group := func(g string, names ...string) {
		for _, n := range names {
			_ = fs.SetAnnotation(n, flagGroup, []string{g})
		}
	}

	fs.StringVarP(&f.architecture, "architecture", "a", "", "the architecture: `M1`")
	fs.StringVar(&f.postgresql, "postgresql", "", "PostgreSQL, this major `VERSION` (e.g. 15)")
	fs.StringVar(&f.epas, "edb-postgres-advanced", "", "EDB Postgres Advanced Server, this major `VERSION`")
	fs.StringVar(&f.pge, "edb-postgres-extended", "", "EDB Postgres Extended, this major `VERSION`")
	fs.StringVar(&f.postgresVersion, "postgres-version", "", "the Postgres major `VERSION`, of --postgres-flavour")
	fs.StringVar(&f.flavour, "postgres-flavour", "", "with --postgres-version: postgresql, epas or edbpge (default postgresql)")
	fs.StringVar(&f.failoverManager, "failover-manager", "", "`MANAGER`: efm, repmgr or patroni")
	fs.BoolVar(&f.enableEFM, "enable-efm", false, "same as --failover-manager efm")
	fs.BoolVar(&f.enableRepmgr, "enable-repmgr", false, "same as --failover-manager repmgr")
	fs.BoolVar(&f.enablePatroni, "enable-patroni", false, "same as --failover-manager patroni")
	group("mandatory", "architecture", "postgresql", "edb-postgres-advanced", "edb-postgres-extended",
		"postgres-version", "postgres-flavour", "failover-manager", "enable-efm", "enable-repmgr", "enable-patroni")

	fs.IntVar(&f.numCascaded, "num-cascaded-replicas", 1, "`N` replicas cascaded from the first replica, in the second location (0 for none)")
	fs.IntVar(&f.dataNodesPerLocation, "data-nodes-per-location", 0, "current TPA's layout: `N` Postgres nodes in each location, Barman and a log server beside the primary (instead of --num-cascaded-replicas)")
	fs.BoolVar(&f.enableHAProxy, "enable-haproxy", false, "add 2 HAProxy nodes as a load balancer layer (Patroni only; default: none)")
	fs.BoolVar(&f.enablePgBouncer, "enable-pgbouncer", false, "add a PgBouncer node in front of the primary, following it across failover and switchover (default: none)")
	fs.StringVar(&f.patroniDCS, "patroni-dcs", m1.DefaultPatroniDCS, "Patroni's configuration store: etcd (Patroni only)")
	fs.StringVar(&f.patroniFlavour, "patroni-package-flavour", m1.DefaultPatroniPackageFlavour, "where Patroni comes from: community (Debian's packages) or edb (Patroni only)")
	fs.StringSliceVar(&f.locationNames, "location-names", m1.DefaultLocationNames, "the locations, comma-separated: two, the primary's then Barman's; with --data-nodes-per-location one or more, the primary's first (default main)")
	fs.StringVar(&f.clusterName, "cluster-name", "", "the cluster's name (default: CLUSTER_DIR's name)")
	fs.StringVar(&f.owner, "owner", currentUser(), "the Owner tag of the cluster")
	fs.StringVar(&f.distribution, "distribution", m1.DefaultDistribution, "the hosts' distribution: Debian")
	fs.StringVar(&f.osName, "os", "", "same as --distribution")
	fs.StringVar(&f.osVersion, "os-version", m1.DefaultOSVersion, "the distribution's version: 12")
	fs.StringVar(&f.hostnamesFrom, "hostnames-from", "", "name the instances from `FILE`, one name a line (default: words chosen by the cluster name)")
	fs.StringVar(&f.overridesFrom, "overrides-from", "", "merge the YAML mapping in `FILE` into cluster_vars")
	group("additional", "num-cascaded-replicas", "data-nodes-per-location", "enable-haproxy", "enable-pgbouncer", "patroni-dcs", "patroni-package-flavour", "location-names", "cluster-name",
		"owner", "distribution", "os", "os-version", "hostnames-from", "overrides-from")

	fs.StringVar(&f.platform, "platform", m1.DefaultPlatform, "`PLATFORM` the hosts run on: aws, docker or bare")
	fs.StringVar(&f.region, "region", m1.DefaultRegion, "aws: the region")
	fs.StringVar(&f.instanceType, "instance-type", m1.DefaultInstanceType, "aws: the instance type")
	fs.StringVar(&f.subnet, "subnet", "", "docker: the network's subnet, e.g. 10.201.7.0/24 (default: a /24 in 10.200-239.x.x chosen by the cluster name)")
	fs.StringVar(&f.image, "image", m1.DefaultDockerImage, "docker: the image of the hosts")
	group("platform", "platform", "region", "instance-type", "subnet", "image")

	fs.BoolVar(&f.noGit, "no-git", false, "do not make CLUSTER_DIR a git repository")
	fs.BoolVar(&f.force, "force", false, "overwrite an existing config.yml")
	group("general", "no-git", "force")

	cmd.SetUsageFunc(func(c *cobra.Command) error {
		printConfigureUsage(c.OutOrStderr(), c)
		return nil
	})
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) {
		out := c.OutOrStdout()
		fmt.Fprintln(out, strings.TrimSpace(c.Long))
		fmt.Fprintln(out)
		printConfigureUsage(out, c)
	})
	return cmd
}

func printConfigureUsage(w io.Writer, c *cobra.Command) {
	fmt.Fprintf(w, "Usage:\n  tpago %s\n\nExamples:\n%s\n", c.Use, c.Example)
	for _, g := range configureGroups {
		set := pflag.NewFlagSet(g.key, pflag.ContinueOnError)
		set.SortFlags = false
		c.Flags().VisitAll(func(fl *pflag.Flag) {
			if a := fl.Annotations[flagGroup]; len(a) == 1 && a[0] == g.key {
				set.AddFlag(fl)
			}
		})
		if !set.HasFlags() {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n%s", g.title, set.FlagUsages())
		if g.key == "mandatory" {
			fmt.Fprintln(w, "  (give --architecture, one Postgres version option, and one failover manager option)")
		}
	}
	fmt.Fprintf(w, "\n  -h, --help   help for configure\n")
}

// options turns the flags into m1.Options, checking what the flags alone
// can tell: required options, and options given twice in two ways.
func (f *configureFlags) options(fs *pflag.FlagSet) (m1.Options, error) {
	o := m1.DefaultOptions()
	var missing []string
	if f.architecture == "" {
		missing = append(missing, "--architecture M1")
	}

	// The Postgres flavour and version: exactly one way.
	type spec struct{ flag, flavour, version string }
	var specs []spec
	if fs.Changed("postgresql") {
		specs = append(specs, spec{"--postgresql", "postgresql", f.postgresql})
	}
	if fs.Changed("edb-postgres-advanced") {
		specs = append(specs, spec{"--edb-postgres-advanced", "epas", f.epas})
	}
	if fs.Changed("edb-postgres-extended") {
		specs = append(specs, spec{"--edb-postgres-extended", "edbpge", f.pge})
	}
	if fs.Changed("postgres-version") {
		fl := f.flavour
		if fl == "" {
			fl = m1.DefaultFlavour
		}
		specs = append(specs, spec{"--postgres-version", fl, f.postgresVersion})
	}
	switch {
	case len(specs) == 0:
		if fs.Changed("postgres-flavour") {
			return o, fmt.Errorf("--postgres-flavour needs --postgres-version VERSION")
		}
		missing = append(missing, "the Postgres version (--postgresql VERSION, e.g. --postgresql 15)")
	case len(specs) > 1:
		return o, fmt.Errorf("give the Postgres flavour and version once: %s and %s both given", specs[0].flag, specs[1].flag)
	default:
		if fs.Changed("postgres-flavour") && specs[0].flag != "--postgres-version" {
			return o, fmt.Errorf("--postgres-flavour goes with --postgres-version, not %s", specs[0].flag)
		}
		o.PostgresFlavour, o.PostgresVersion = specs[0].flavour, specs[0].version
		if o.PostgresVersion == "" {
			return o, fmt.Errorf("%s needs a VERSION, e.g. 15", specs[0].flag)
		}
	}

	// The failover manager: exactly one way.
	var fms []string
	if fs.Changed("failover-manager") {
		fms = append(fms, "--failover-manager "+f.failoverManager)
		o.FailoverManager = f.failoverManager
	}
	for _, e := range []struct {
		on   bool
		name string
	}{{f.enableEFM, "efm"}, {f.enableRepmgr, "repmgr"}, {f.enablePatroni, "patroni"}} {
		if e.on {
			fms = append(fms, "--enable-"+e.name)
			o.FailoverManager = e.name
		}
	}
	switch {
	case len(fms) == 0:
		missing = append(missing, "a failover manager (--failover-manager efm|repmgr|patroni, or --enable-efm, --enable-repmgr, --enable-patroni)")
	case len(fms) > 1:
		return o, fmt.Errorf("give one failover manager: %s", strings.Join(fms, " and "))
	}
	if len(missing) > 0 {
		return o, &missingError{items: missing}
	}

	o.Architecture = f.architecture
	o.Platform = f.platform
	o.NumCascadedReplicas = f.numCascaded
	if fs.Changed("data-nodes-per-location") {
		if fs.Changed("num-cascaded-replicas") {
			return o, fmt.Errorf("--num-cascaded-replicas and --data-nodes-per-location are two different layouts: give one (--data-nodes-per-location puts the same number of Postgres nodes in every location)")
		}
		if f.dataNodesPerLocation < 1 {
			return o, fmt.Errorf("--data-nodes-per-location must be 1 or more, not %d", f.dataNodesPerLocation)
		}
		o.DataNodesPerLocation = f.dataNodesPerLocation
	}
	o.EnableHAProxy = f.enableHAProxy
	o.EnablePgBouncer = f.enablePgBouncer
	if fs.Changed("patroni-dcs") {
		o.PatroniDCS = f.patroniDCS
	}
	if fs.Changed("patroni-package-flavour") {
		o.PatroniPackageFlavour = f.patroniFlavour
	}
	// Platform-specific options count only when given: their defaults
	// belong to their platform.
	if fs.Changed("region") {
		o.Region = f.region
	}
	if fs.Changed("instance-type") {
		o.InstanceType = f.instanceType
	}
	if fs.Changed("subnet") {
		o.Subnet = f.subnet
	}
	if fs.Changed("image") {
		o.Image = f.image
	}
	o.Distribution = f.distribution
	if fs.Changed("os") {
		if fs.Changed("distribution") && !strings.EqualFold(f.osName, f.distribution) {
			return o, fmt.Errorf("--os %s and --distribution %s disagree: give one", f.osName, f.distribution)
		}
		o.Distribution = f.osName
	}
	o.OSVersion = f.osVersion
	if fs.Changed("location-names") || o.DataNodesPerLocation == 0 {
		o.LocationNames = f.locationNames
	}
	o.Owner = f.owner
	o.ClusterName = f.clusterName
	o.HostnamesFrom = f.hostnamesFrom
	o.OverridesFrom = f.overridesFrom
	o.NoGit = f.noGit
	o.Force = f.force
	return o, nil
}

// missingError lists the required options that were not given.
type missingError struct{ items []string }

func (e *missingError) Error() string {
	return "missing required options: " + strings.Join(e.items, "; ") + " (see tpago configure --help)"
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// reportConfigured prints the cluster just written, one line a host.
func reportConfigured(w io.Writer, dir string, noGit bool) error {
	path := filepath.Join(dir, "config.yml")
	cfg, err := cluster.LoadConfig(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Wrote %s: cluster %s, %d instances", path, cfg.ClusterName, len(cfg.Instances))
	if !noGit {
		fmt.Fprint(w, " (committed to git)")
	}
	fmt.Fprintln(w)
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	for _, in := range cfg.Instances {
		from := ""
		if in.Upstream != "" {
			from = "from " + in.Upstream
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", in.Node, in.Name, in.Location, strings.Join(in.Role, ","), from, in.IPAddress)
	}
	tw.Flush()
	for _, l := range strings.SplitAfter(table.String(), "\n") {
		fmt.Fprint(w, strings.TrimRight(l, " \n"), strings.Repeat("\n", strings.Count(l, "\n")))
	}
	if l, ok := cfg.ClusterVars["apt_repository_list"].([]any); ok && slices.Contains(l, any("PGDG")) {
		fmt.Fprintf(w, "PostgreSQL %v comes from PGDG (apt.postgresql.org, in apt_repository_list): the hosts must reach it\n", cfg.ClusterVars["postgres_version"])
	}
	fmt.Fprintf(w, "Next: tpago provision %s\n", dir)
	return nil
}

package m1

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/yamlx"
)

// awsVPCCIDR is the VPC the aws platform's instances live in.
const awsVPCCIDR = "10.33.0.0/16"

// debianAMIOwner is the AWS account that publishes Debian's images.
const debianAMIOwner = "136693071363"

// bareAddressBase is TEST-NET-1 (RFC 5737): addresses that never route,
// used as placeholders the user replaces on the bare platform.
const bareAddressBase = "192.0.2.0"

// build makes the Config for normalized options.
func build(o Options) (*cluster.Config, error) {
	nodes := layout(o)
	names, err := hostnames(o, len(nodes))
	if err != nil {
		return nil, err
	}
	byNode := map[int]string{}
	for i, n := range names {
		byNode[i+1] = n
	}

	cv := map[string]any{
		"failover_manager":       o.FailoverManager,
		"postgres_flavour":       o.PostgresFlavour,
		"postgres_version":       o.PostgresVersion,
		"postgres_conf_settings": map[string]any{},
	}
	if o.FailoverManager == "patroni" {
		cv["etcd_location"] = o.LocationNames[0]
		cv["patroni_package_flavour"] = o.PatroniPackageFlavour
	}
	if o.PostgresFlavour != "postgresql" || o.FailoverManager == "efm" || o.PatroniPackageFlavour == "edb" {
		cv["edb_repositories"] = []any{"enterprise"}
	}
	if o.PostgresFlavour == "postgresql" && o.PostgresVersion != DebianPostgres[o.OSVersion] {
		// As TPA does: community versions the release does not package
		// come from PGDG (apt.postgresql.org).
		cv["apt_repository_list"] = []any{"PGDG"}
	}
	if o.OverridesFrom != "" {
		ov, err := readOverrides(o.OverridesFrom)
		if err != nil {
			return nil, err
		}
		if err := checkOverrides(o.OverridesFrom, cv, ov); err != nil {
			return nil, err
		}
		maps.Copy(cv, ov)
	}
	if err := checkOverrides("Options.Overrides", cv, o.Overrides); err != nil {
		return nil, err
	}
	maps.Copy(cv, o.Overrides)

	cfg := &cluster.Config{
		Architecture: o.Architecture,
		ClusterName:  o.ClusterName,
		ClusterVars:  cv,
	}
	if o.Owner != "" {
		cfg.ClusterTags = map[string]any{"Owner": o.Owner}
	}
	for _, l := range o.LocationNames {
		cfg.Locations = append(cfg.Locations, cluster.Location{Name: l})
	}
	cfg.InstanceDefaults.Platform = o.Platform

	var addr func(node int) string
	switch o.Platform {
	case "docker":
		cfg.InstanceDefaults.Image = o.Image
		cfg.InstanceDefaults.Vars = map[string]any{"ansible_user": "root"}
		subnet := o.Subnet
		if subnet == "" {
			subnet = dockerSubnet(o.ClusterName)
		}
		pfx, err := netip.ParsePrefix(subnet)
		if err != nil || !pfx.Addr().Is4() {
			return nil, usagef("--subnet %q is not an IPv4 CIDR prefix such as 10.200.1.0/24", subnet)
		}
		pfx = pfx.Masked()
		if pfx.Bits() > 32-bitsFor(len(nodes)+12) {
			return nil, usagef("--subnet %s is too small for %d instances (addresses start at .11): use a /24", pfx, len(nodes))
		}
		cfg.DockerNetworks = []cluster.DockerNetwork{{
			Name:       o.ClusterName,
			IPAMConfig: []cluster.IPAMConfig{{Subnet: pfx.String()}},
		}}
		addr = func(node int) string { return nth(pfx.Addr(), 10+node).String() }
	case "bare":
		cfg.InstanceDefaults.Vars = map[string]any{"ansible_user": "root"}
		base := netip.MustParseAddr(bareAddressBase)
		addr = func(node int) string { return nth(base, 10+node).String() }
	case "aws":
		cfg.InstanceDefaults.Type = o.InstanceType
		cfg.InstanceDefaults.Region = o.Region
		cfg.InstanceDefaults.Volumes = []map[string]any{
			{"device_name": "root", "volume_type": "gp3", "volume_size": 16},
		}
		cfg.InstanceDefaults.Vars = map[string]any{"ansible_user": "admin"}
		cfg.EC2VPC = map[string]any{o.Region: map[string]any{"Name": o.ClusterName, "cidr": awsVPCCIDR}}
		cfg.EC2AMI = map[string]any{"Name": "debian-" + o.OSVersion + "-amd64-*", "Owner": debianAMIOwner}
		subnets := map[string]any{}
		for i, l := range o.LocationNames {
			subnets[awsSubnet(i)] = map[string]any{"az": fmt.Sprintf("%s%c", o.Region, 'a'+i), "location": l}
		}
		cfg.EC2VPCSubnets = map[string]any{o.Region: subnets}
		cfg.ClusterRules = []map[string]any{
			{"cidr_ip": "0.0.0.0/0", "proto": "tcp", "from_port": 22, "to_port": 22},
			{"cidr_ip": awsVPCCIDR, "proto": "tcp", "from_port": 5432, "to_port": 5432},
		}
		if o.FailoverManager == "patroni" {
			cfg.ClusterRules = append(cfg.ClusterRules,
				map[string]any{"cidr_ip": awsVPCCIDR, "proto": "tcp", "from_port": 8008, "to_port": 8008},
				map[string]any{"cidr_ip": awsVPCCIDR, "proto": "tcp", "from_port": 2379, "to_port": 2380})
		}
		if o.EnableHAProxy {
			cfg.ClusterRules = append(cfg.ClusterRules,
				map[string]any{"cidr_ip": awsVPCCIDR, "proto": "tcp", "from_port": 5000, "to_port": 5001})
		}
		if o.EnablePgBouncer {
			cfg.ClusterRules = append(cfg.ClusterRules,
				map[string]any{"cidr_ip": awsVPCCIDR, "proto": "tcp", "from_port": 6432, "to_port": 6432})
		}
		if o.DataNodesPerLocation != 0 {
			// The log server's syslog over TCP (roles/log_server).
			cfg.ClusterRules = append(cfg.ClusterRules,
				map[string]any{"cidr_ip": awsVPCCIDR, "proto": "tcp", "from_port": 514, "to_port": 514})
		}
	}

	for i, n := range nodes {
		num := i + 1
		in := cluster.Instance{
			Name:     byNode[num],
			Node:     num,
			Location: n.location,
			Role:     n.roles,
		}
		if n.upstream != 0 {
			in.Upstream = byNode[n.upstream]
		}
		if n.backup != 0 {
			in.Backup = byNode[n.backup]
		}
		if addr != nil {
			in.IPAddress = addr(num)
		}
		if o.Platform == "aws" {
			in.Subnet = awsSubnet(indexOf(o.LocationNames, n.location))
		}
		if n.vars != nil {
			in.Vars = n.vars(byNode)
		}
		cfg.Instances = append(cfg.Instances, in)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("the generated cluster is not valid (a bug): %w", err)
	}
	return cfg, nil
}

func awsSubnet(location int) string { return fmt.Sprintf("10.33.%d.0/24", location+1) }

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return 0
}

// bitsFor is the number of host bits needed for n addresses.
func bitsFor(n int) int {
	b := 0
	for 1<<b < n {
		b++
	}
	return b
}

// nth is the address k after a (IPv4).
func nth(a netip.Addr, k int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(k)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// checkOverrides refuses overrides that contradict the options the layout
// was made from: those must be changed with their options.
func checkOverrides(from string, cv, ov map[string]any) error {
	for _, k := range []struct{ key, option string }{
		{"failover_manager", "--failover-manager"},
		{"postgres_flavour", "the Postgres flavour option"},
		{"postgres_version", "--postgresql VERSION"},
		{"etcd_location", "--location-names"},
	} {
		v, ok := ov[k.key]
		if ok && fmt.Sprint(v) != fmt.Sprint(cv[k.key]) {
			return usagef("%s sets %s to %v, but the options say %v: use %s instead", from, k.key, v, cv[k.key], k.option)
		}
	}
	return nil
}

// readOverrides reads an --overrides-from file: a YAML mapping.
func readOverrides(path string) (map[string]any, error) {
	data, err := cluster.ReadInput(path)
	if err != nil {
		return nil, usagef("--overrides-from: %v", err)
	}
	f, err := yamlx.ParseAST(path, data)
	if err != nil {
		return nil, usagef("%v", err)
	}
	var m map[string]any
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return m, nil
	}
	if err := yaml.NodeToValue(f.Docs[0].Body, &m); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			p := ye.GetToken().Position
			return nil, usagef("%s:%d:%d: %s (the file must be a YAML mapping of cluster_vars)", path, p.Line, p.Column, ye.GetMessage())
		}
		return nil, usagef("%s: %v (the file must be a YAML mapping of cluster_vars)", path, err)
	}
	// TPA's own overrides files say cluster_vars: at the top.
	if inner, ok := m["cluster_vars"]; ok {
		cv, isMap := inner.(map[string]any)
		if !isMap {
			return nil, usagef("%s: cluster_vars: expected a mapping of variables", path)
		}
		if len(m) > 1 {
			var other []string
			for k := range m {
				if k != "cluster_vars" {
					other = append(other, k)
				}
			}
			sort.Strings(other)
			return nil, usagef("%s: a file with cluster_vars: at the top may hold nothing else (it also has %s)", path, strings.Join(other, ", "))
		}
		return cv, nil
	}
	return m, nil
}

// instanceOut is an instance as config.yml shows it: keys in TPA's order,
// roles on one line.
type instanceOut struct {
	Name      string        `yaml:"Name"`
	Node      int           `yaml:"node"`
	Location  string        `yaml:"location,omitempty"`
	Role      []string      `yaml:"role,flow"`
	Upstream  string        `yaml:"upstream,omitempty"`
	Backup    string        `yaml:"backup,omitempty"`
	IPAddress string        `yaml:"ip_address,omitempty"`
	Subnet    string        `yaml:"subnet,omitempty"`
	Vars      yaml.MapSlice `yaml:"vars,omitempty"`
}

// emit writes cfg as config.yml text, top-level keys in TPA's order, with
// comments where they help.
func emit(cfg *cluster.Config, o Options) ([]byte, error) {
	var b strings.Builder
	section := func(comment string, key string, value any) error {
		if comment != "" {
			b.WriteString("\n")
			for _, l := range strings.Split(comment, "\n") {
				b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
			}
		}
		out, err := yaml.MarshalWithOptions(yaml.MapSlice{{Key: key, Value: value}}, yaml.IndentSequence(true))
		if err != nil {
			return fmt.Errorf("config.yml %s: %w", key, err)
		}
		b.Write(out)
		return nil
	}

	fmt.Fprintf(&b, "# Cluster %s: the M1 architecture, written by `tpago configure`.\n", cfg.ClusterName)
	b.WriteString("# " + summary(cfg, o) + "\n")
	b.WriteString("# Edit as needed, then: tpago provision DIR && tpago deploy DIR\n\n")

	steps := []func() error{
		func() error { return section("", "architecture", cfg.Architecture) },
		func() error { return section("", "cluster_name", cfg.ClusterName) },
		func() error {
			if cfg.ClusterTags == nil {
				return nil
			}
			return section("", "cluster_tags", sorted(cfg.ClusterTags))
		},
		func() error {
			return section("Variables for every host. Add Postgres settings under\npostgres_conf_settings (name: value).", "cluster_vars", sorted(cfg.ClusterVars))
		},
		func() error {
			var ls []yaml.MapSlice
			for _, l := range cfg.Locations {
				ls = append(ls, yaml.MapSlice{{Key: "Name", Value: l.Name}})
			}
			comment := "The primary's location first; Barman and the cascaded replicas are in the second."
			if o.DataNodesPerLocation != 0 {
				comment = "The primary's location first, with Barman and the log server; each other\nlocation has a replica of the primary and replicas cascaded from it."
			}
			return section(comment, "locations", ls)
		},
		func() error {
			return section("What every instance has unless it says otherwise.", "instance_defaults", instanceDefaults(cfg.InstanceDefaults))
		},
		func() error {
			if len(cfg.DockerNetworks) == 0 {
				return nil
			}
			var ns []yaml.MapSlice
			for _, n := range cfg.DockerNetworks {
				var ipam []yaml.MapSlice
				for _, c := range n.IPAMConfig {
					ipam = append(ipam, yaml.MapSlice{{Key: "subnet", Value: c.Subnet}})
				}
				ns = append(ns, yaml.MapSlice{{Key: "name", Value: n.Name}, {Key: "ipam_config", Value: ipam}})
			}
			return section("The cluster's Docker network; every instance has a fixed address in it.", "docker_networks", ns)
		},
		func() error {
			if cfg.EC2VPC == nil {
				return nil
			}
			if err := section("AWS: the VPC, Debian's own AMI (newest match), a subnet per location.", "ec2_vpc", sorted(cfg.EC2VPC)); err != nil {
				return err
			}
			if err := section("", "ec2_ami", sorted(cfg.EC2AMI)); err != nil {
				return err
			}
			if err := section("", "ec2_vpc_subnets", sorted(cfg.EC2VPCSubnets)); err != nil {
				return err
			}
			var rules []yaml.MapSlice
			for _, r := range cfg.ClusterRules {
				rules = append(rules, yaml.MapSlice{
					{Key: "cidr_ip", Value: r["cidr_ip"]}, {Key: "proto", Value: r["proto"]},
					{Key: "from_port", Value: r["from_port"]}, {Key: "to_port", Value: r["to_port"]},
				})
			}
			return section("Inbound traffic allowed: SSH from anywhere, the cluster's ports within the VPC.", "cluster_rules", rules)
		},
		func() error {
			var ins []instanceOut
			for _, in := range cfg.Instances {
				io := instanceOut{
					Name: in.Name, Node: in.Node, Location: in.Location, Role: in.Role,
					Upstream: in.Upstream, Backup: in.Backup, IPAddress: in.IPAddress, Subnet: in.Subnet,
				}
				if len(in.Vars) > 0 {
					io.Vars = sorted(in.Vars)
				}
				ins = append(ins, io)
			}
			comment := "The hosts. node numbers are stable identities; upstream is the host a\nreplica streams from; backup is the Barman server of the primary."
			if o.Platform == "bare" {
				comment += "\nbare platform: replace each ip_address (192.0.2.x placeholders) with the\nhost's real address; tpago connects there over SSH as ansible_user."
			}
			return section(comment, "instances", ins)
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	out := b.String()
	if o.Platform == "bare" {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "ip_address: 192.0.2.") {
				l += "  # placeholder: set this host's address"
			}
			lines = append(lines, l)
		}
		out = strings.Join(lines, "\n")
	}
	return []byte(out), nil
}

func instanceDefaults(d cluster.InstanceDefaults) yaml.MapSlice {
	out := yaml.MapSlice{{Key: "platform", Value: d.Platform}}
	if d.Image != "" {
		out = append(out, yaml.MapItem{Key: "image", Value: d.Image})
	}
	if d.Type != "" {
		out = append(out, yaml.MapItem{Key: "type", Value: d.Type})
	}
	if d.Region != "" {
		out = append(out, yaml.MapItem{Key: "region", Value: d.Region})
	}
	if len(d.Volumes) > 0 {
		var vs []yaml.MapSlice
		for _, v := range d.Volumes {
			vs = append(vs, sorted(v))
		}
		out = append(out, yaml.MapItem{Key: "volumes", Value: vs})
	}
	if len(d.Vars) > 0 {
		out = append(out, yaml.MapItem{Key: "vars", Value: sorted(d.Vars)})
	}
	return out
}

// sorted turns a map into a MapSlice sorted by key, maps inside included.
func sorted(m map[string]any) yaml.MapSlice {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(yaml.MapSlice, 0, len(m))
	for _, k := range keys {
		v := m[k]
		if mm, ok := v.(map[string]any); ok && len(mm) > 0 {
			out = append(out, yaml.MapItem{Key: k, Value: sorted(mm)})
			continue
		}
		out = append(out, yaml.MapItem{Key: k, Value: v})
	}
	return out
}

// summary says in one line what the cluster is.
func summary(cfg *cluster.Config, o Options) string {
	if o.DataNodesPerLocation != 0 {
		return dataNodesSummary(cfg, o)
	}
	first, second := o.LocationNames[0], o.LocationNames[1]
	s := fmt.Sprintf("%d instances; %s %s with %s on %s. %s: primary and replica. %s: barman",
		len(cfg.Instances), flavourName(o.PostgresFlavour), o.PostgresVersion, o.FailoverManager, o.Platform, first, second)
	if isWitness(cfg.Instances[2]) {
		s += " (also witness)"
	}
	s += fmt.Sprintf(", %d cascaded %s.", o.NumCascadedReplicas, plural(o.NumCascadedReplicas, "replica"))
	return s + servicesSummary(o)
}

// dataNodesSummary is summary for current TPA's layout.
func dataNodesSummary(cfg *cluster.Config, o Options) string {
	n := o.DataNodesPerLocation
	s := fmt.Sprintf("%d instances; %s %s with %s on %s, %d Postgres nodes per location. %s: primary",
		len(cfg.Instances), flavourName(o.PostgresFlavour), o.PostgresVersion, o.FailoverManager, o.Platform, n, o.LocationNames[0])
	if n > 1 {
		s += fmt.Sprintf(", %d %s", n-1, plural(n-1, "replica"))
	}
	s += ", barman and log server"
	if isWitness(cfg.Instances[n]) {
		s += " (also witness)"
	}
	s += "."
	for _, loc := range o.LocationNames[1:] {
		s += fmt.Sprintf(" %s: replica", loc)
		if n > 1 {
			s += fmt.Sprintf(", %d cascaded %s", n-1, plural(n-1, "replica"))
		}
		s += "."
	}
	return s + servicesSummary(o)
}

func isWitness(in cluster.Instance) bool {
	return in.HasRole("witness") || in.HasRole("efm-witness")
}

// servicesSummary is the end of summary: the nodes beside Postgres and
// Barman.
func servicesSummary(o Options) string {
	s := ""
	if o.FailoverManager == "patroni" {
		s += " 3 etcd."
	}
	if o.EnableHAProxy {
		s += " 2 haproxy."
	}
	if o.EnablePgBouncer {
		s += " 1 pgbouncer."
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func flavourName(f string) string {
	switch f {
	case "epas":
		return "EDB Postgres Advanced Server"
	case "edbpge":
		return "EDB Postgres Extended"
	}
	return "PostgreSQL"
}

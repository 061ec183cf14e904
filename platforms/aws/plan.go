package aws

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tpago/tpago/platforms"
)

// plan is what the cluster needs on EC2, worked out from config.yml before
// anything is made.
type plan struct {
	region string
	// vpcName is the Name of the VPC to make (or to use when one with
	// that Name exists and is no other cluster's); vpcID names one to use.
	vpcName string
	vpcID   string
	vpcCIDR netip.Prefix
	subnets []subnetPlan
	// subnetOf maps an instance's name to its subnet's CIDR.
	subnetOf map[string]netip.Prefix
	types    map[string]string
	// amiID is an image id to use as it is; otherwise the newest image
	// called amiName (a pattern) owned by amiOwner.
	amiID    map[string]string
	amiName  string
	amiOwner string
	volumes  []volume
	rules    []rule
	// tags go on everything: cluster_tags and tpago.cluster.
	tags map[string]string
}

type subnetPlan struct {
	cidr     netip.Prefix
	az       string
	location string
}

type volume struct {
	device     string // "root" for the AMI's root device
	size       int32
	volumeType string
	iops       int32
	throughput int32
	encrypted  bool
}

type rule struct {
	cidr     string
	proto    string
	from, to int32
}

func (r rule) String() string {
	if r.proto == "-1" {
		return "all from " + r.cidr
	}
	if r.from == r.to {
		return fmt.Sprintf("%s/%d from %s", r.proto, r.from, r.cidr)
	}
	return fmt.Sprintf("%s/%d-%d from %s", r.proto, r.from, r.to, r.cidr)
}

var (
	typeRE   = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	amiRE    = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	deviceRE = regexp.MustCompile(`^/dev/(sd|xvd)[b-z][a-z]?$`)
)

var volumeTypes = []string{"gp2", "gp3", "io1", "io2", "sc1", "st1", "standard"}

func makePlan(c *platforms.Cluster) (*plan, error) {
	cfg := c.Config
	pl := &plan{subnetOf: map[string]netip.Prefix{}, types: map[string]string{}, amiID: map[string]string{}, tags: map[string]string{}}
	pl.region = cfg.InstanceDefaults.Region
	if pl.region == "" {
		return nil, fmt.Errorf("%s: instance_defaults.region: the aws platform needs a region (like eu-west-1)", c.Where("$.instance_defaults"))
	}
	if err := CheckRegion(pl.region); err != nil {
		return nil, fmt.Errorf("%s: instance_defaults.region: %w", c.Where("$.instance_defaults.region"), err)
	}

	// Tags.
	keys := sortedKeys(cfg.ClusterTags)
	for _, k := range keys {
		v := cfg.ClusterTags[k]
		switch v.(type) {
		case map[string]any, []any:
			return nil, fmt.Errorf("%s: cluster_tags.%s: a tag's value is a string, not %T", c.Where("$.cluster_tags."+k), k, v)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") || k == TagCluster || k == TagInstance || k == "Name" {
			return nil, fmt.Errorf("%s: cluster_tags.%s: this tag is set by tpago (or reserved by AWS)", c.Where("$.cluster_tags."+k), k)
		}
		pl.tags[k] = fmt.Sprint(v)
	}
	pl.tags[TagCluster] = c.Name

	// VPC.
	pl.vpcName = c.Name
	pl.vpcCIDR = netip.MustParsePrefix("10.33.0.0/16")
	if len(cfg.EC2VPC) > 0 {
		raw, ok := cfg.EC2VPC[pl.region]
		if !ok {
			return nil, fmt.Errorf("%s: ec2_vpc has no entry for the region %s (it has %s)", c.Where("$.ec2_vpc"), pl.region, strings.Join(sortedKeys(cfg.EC2VPC), ", "))
		}
		where := c.Where("$.ec2_vpc." + pl.region)
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: ec2_vpc.%s: expected a mapping with Name and cidr", where, pl.region)
		}
		for k, v := range m {
			s := fmt.Sprint(v)
			switch k {
			case "Name":
				pl.vpcName = s
			case "cidr":
				pfx, err := netip.ParsePrefix(s)
				if err != nil || !pfx.Addr().Is4() || pfx.Bits() < 16 || pfx.Bits() > 28 {
					return nil, fmt.Errorf("%s: ec2_vpc.%s.cidr: %q is not an IPv4 network from /16 to /28 (like 10.33.0.0/16)", c.Where("$.ec2_vpc."+pl.region+".cidr"), pl.region, s)
				}
				pl.vpcCIDR = pfx.Masked()
			case "vpc_id", "vpc-id":
				if !strings.HasPrefix(s, "vpc-") {
					return nil, fmt.Errorf("%s: ec2_vpc.%s.%s: %q is not a VPC id (vpc-…)", where, pl.region, k, s)
				}
				pl.vpcID = s
			default:
				return nil, fmt.Errorf("%s: ec2_vpc.%s: unknown key %q (known: Name, cidr, vpc_id)", where, pl.region, k)
			}
		}
	}

	// Subnets: from ec2_vpc_subnets, or one /24 per location.
	byLocation := map[string]netip.Prefix{}
	known := map[netip.Prefix]bool{}
	if len(cfg.EC2VPCSubnets) > 0 {
		raw, ok := cfg.EC2VPCSubnets[pl.region]
		if !ok {
			return nil, fmt.Errorf("%s: ec2_vpc_subnets has no entry for the region %s", c.Where("$.ec2_vpc_subnets"), pl.region)
		}
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: ec2_vpc_subnets.%s: expected a mapping of subnets (10.33.1.0/24: {az: …, location: …})", c.Where("$.ec2_vpc_subnets."+pl.region), pl.region)
		}
		for _, cidr := range sortedKeys(m) {
			path := fmt.Sprintf("$.ec2_vpc_subnets.%s.'%s'", pl.region, cidr)
			where := c.Where(path)
			pfx, err := netip.ParsePrefix(cidr)
			if err != nil || !pfx.Addr().Is4() || pfx != pfx.Masked() {
				return nil, fmt.Errorf("%s: ec2_vpc_subnets: %q is not an IPv4 network (like 10.33.1.0/24)", where, cidr)
			}
			if !pl.vpcCIDR.Contains(pfx.Addr()) || pfx.Bits() < pl.vpcCIDR.Bits() || pfx.Bits() > 28 {
				return nil, fmt.Errorf("%s: ec2_vpc_subnets: %s is not a subnet (/28 or larger) of the VPC's %s", where, pfx, pl.vpcCIDR)
			}
			sp := subnetPlan{cidr: pfx}
			if attrs, ok := m[cidr].(map[string]any); ok {
				for k, v := range attrs {
					switch k {
					case "az":
						sp.az = fmt.Sprint(v)
						if !strings.HasPrefix(sp.az, pl.region) {
							return nil, fmt.Errorf("%s: ec2_vpc_subnets: availability zone %q is not in the region %s", c.Where(path+".az"), sp.az, pl.region)
						}
					case "location":
						sp.location = fmt.Sprint(v)
					default:
						return nil, fmt.Errorf("%s: ec2_vpc_subnets: %s: unknown key %q (known: az, location)", where, cidr, k)
					}
				}
			} else if m[cidr] != nil {
				return nil, fmt.Errorf("%s: ec2_vpc_subnets: %s: expected a mapping with az and location", where, cidr)
			}
			for _, o := range pl.subnets {
				if o.cidr.Overlaps(pfx) {
					return nil, fmt.Errorf("%s: ec2_vpc_subnets: %s overlaps %s", where, pfx, o.cidr)
				}
			}
			if _, dup := byLocation[sp.location]; !dup && sp.location != "" {
				byLocation[sp.location] = pfx
			}
			known[pfx] = true
			pl.subnets = append(pl.subnets, sp)
		}
	} else {
		// The i-th location gets the (i+1)-th /24 of the VPC.
		locs := []string{}
		seen := map[string]bool{}
		for _, l := range cfg.Locations {
			if !seen[l.Name] {
				seen[l.Name] = true
				locs = append(locs, l.Name)
			}
		}
		for _, in := range c.Instances {
			if !seen[in.Location] {
				seen[in.Location] = true
				locs = append(locs, in.Location)
			}
		}
		bits := max(pl.vpcCIDR.Bits(), 24)
		base := pl.vpcCIDR.Addr().As4()
		n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		size := uint32(1) << (32 - bits)
		for i, l := range locs {
			v := n + uint32(i+1)*size
			pfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits)
			if !pl.vpcCIDR.Contains(pfx.Addr()) {
				return nil, fmt.Errorf("%s: the VPC's %s is too small for a subnet per location: give ec2_vpc_subnets", c.Where("$.ec2_vpc"), pl.vpcCIDR)
			}
			byLocation[l] = pfx
			known[pfx] = true
			pl.subnets = append(pl.subnets, subnetPlan{cidr: pfx, location: l})
		}
	}

	// Instances: type, subnet, image.
	for _, in := range c.Instances {
		t := in.Type
		if t == "" {
			t = cfg.InstanceDefaults.Type
		}
		if t == "" {
			return nil, c.InstanceError(in, "type", "no instance type (set instance_defaults.type or the instance's type, like t3.medium)")
		}
		if !typeRE.MatchString(t) {
			return nil, c.InstanceError(in, "type", "%q is not an EC2 instance type (like t3.medium)", t)
		}
		pl.types[in.Name] = t
		switch {
		case in.Subnet != "":
			pfx, err := netip.ParsePrefix(in.Subnet)
			if err != nil || !known[pfx] {
				return nil, c.InstanceError(in, "subnet", "%q is not one of the subnets of ec2_vpc_subnets.%s", in.Subnet, pl.region)
			}
			pl.subnetOf[in.Name] = pfx
		case byLocation[in.Location].IsValid():
			pl.subnetOf[in.Name] = byLocation[in.Location]
		case len(pl.subnets) == 1:
			pl.subnetOf[in.Name] = pl.subnets[0].cidr
		default:
			return nil, c.InstanceError(in, "subnet", "no subnet: give the instance a subnet, or give its location %q one in ec2_vpc_subnets.%s", in.Location, pl.region)
		}
		if in.IPAddress != "" {
			a := netip.MustParseAddr(in.IPAddress)
			s := pl.subnetOf[in.Name]
			if !s.Contains(a) {
				return nil, c.InstanceError(in, "ip_address", "%s is not in the instance's subnet %s", a, s)
			}
			if off := u32(a) - u32(s.Addr()); off < 4 || a == lastAddr(s) {
				return nil, c.InstanceError(in, "ip_address", "%s is one of the addresses AWS keeps in %s (the first four and the last)", a, s)
			}
		}
		if in.Image != "" {
			if !amiRE.MatchString(in.Image) {
				return nil, c.InstanceError(in, "image", "%q is not an AMI id (ami-…); leave image out to use ec2_ami", in.Image)
			}
			pl.amiID[in.Name] = in.Image
		}
	}

	// AMI.
	pl.amiName, pl.amiOwner = DebianName, DebianOwner
	if m := cfg.EC2AMI; len(m) > 0 {
		if r, ok := m[pl.region].(map[string]any); ok {
			m = r
		}
		name, hasName := m["Name"]
		owner, hasOwner := m["Owner"]
		for k := range m {
			switch k {
			case "Name", "Owner":
			default:
				if _, isRegion := m[k].(map[string]any); !isRegion {
					return nil, fmt.Errorf("%s: ec2_ami: unknown key %q (known: Name, Owner)", c.Where("$.ec2_ami"), k)
				}
			}
		}
		if hasName {
			pl.amiName = fmt.Sprint(name)
			if amiRE.MatchString(pl.amiName) {
				pl.amiOwner = ""
			}
		}
		if hasOwner {
			pl.amiOwner = fmt.Sprint(owner)
		}
		if pl.amiName == "" {
			return nil, fmt.Errorf("%s: ec2_ami: Name is empty", c.Where("$.ec2_ami"))
		}
	}

	// Volumes.
	for i, v := range cfg.InstanceDefaults.Volumes {
		vol, err := parseVolume(v)
		if err != nil {
			return nil, fmt.Errorf("%s: instance_defaults.volumes[%d]: %w", c.Where(fmt.Sprintf("$.instance_defaults.volumes[%d]%s", i, keyPath(err))), i, err)
		}
		for _, o := range pl.volumes {
			if o.device == vol.device {
				return nil, fmt.Errorf("%s: instance_defaults.volumes[%d]: device %s is given twice", c.Where(fmt.Sprintf("$.instance_defaults.volumes[%d]", i)), i, vol.device)
			}
		}
		pl.volumes = append(pl.volumes, vol)
	}

	// Rules: cluster_rules, or SSH from anywhere and everything within the VPC.
	if len(cfg.ClusterRules) == 0 {
		pl.rules = []rule{{cidr: "0.0.0.0/0", proto: "tcp", from: 22, to: 22}, {cidr: pl.vpcCIDR.String(), proto: "-1", from: -1, to: -1}}
	}
	for i, r := range cfg.ClusterRules {
		ru, err := parseRule(r)
		if err != nil {
			return nil, fmt.Errorf("%s: cluster_rules[%d]: %w", c.Where(fmt.Sprintf("$.cluster_rules[%d]%s", i, keyPath(err))), i, err)
		}
		pl.rules = append(pl.rules, ru)
	}
	return pl, nil
}

// keyError is a problem with one key of a mapping.
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string { return e.err.Error() }

// keyPath is ".key" for a keyError, "" otherwise.
func keyPath(err error) string {
	if ke, ok := err.(*keyError); ok {
		return "." + ke.key
	}
	return ""
}

func parseVolume(v map[string]any) (vol volume, err error) {
	var key string
	defer func() {
		if err != nil && key != "" {
			err = &keyError{key, err}
		}
	}()
	for _, k := range sortedKeys(v) {
		key = k
		x := v[k]
		s := fmt.Sprint(x)
		switch k {
		case "device_name":
			switch {
			case s == "root":
			case deviceRE.MatchString(s):
			case deviceRE.MatchString("/dev/" + s):
				s = "/dev/" + s
			default:
				return vol, fmt.Errorf("device_name %q: use root or a device like /dev/xvdf", s)
			}
			vol.device = s
		case "volume_size":
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 65536 {
				return vol, fmt.Errorf("volume_size %q: a size in GiB from 1 to 65536", s)
			}
			vol.size = int32(n)
		case "volume_type":
			found := false
			for _, t := range volumeTypes {
				found = found || t == s
			}
			if !found {
				return vol, fmt.Errorf("volume_type %q: one of %s", s, strings.Join(volumeTypes, ", "))
			}
			vol.volumeType = s
		case "iops", "throughput":
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return vol, fmt.Errorf("%s %q: a positive number", k, s)
			}
			if k == "iops" {
				vol.iops = int32(n)
			} else {
				vol.throughput = int32(n)
			}
		case "encrypted":
			b, ok := x.(bool)
			if !ok {
				return vol, fmt.Errorf("encrypted %q: true or false", s)
			}
			vol.encrypted = b
		default:
			// TPA's volume keys for the filesystem (vars, mountpoint, …)
			// are the deploy's business.
		}
	}
	key = ""
	if vol.device == "" {
		return vol, fmt.Errorf("no device_name (root, or a device like /dev/xvdf)")
	}
	if vol.size == 0 {
		return vol, fmt.Errorf("no volume_size (in GiB)")
	}
	return vol, nil
}

func parseRule(r map[string]any) (ru rule, err error) {
	ru = rule{proto: "tcp"}
	var key string
	defer func() {
		if err != nil && key != "" {
			err = &keyError{key, err}
		}
	}()
	var hasFrom, hasTo bool
	port := func(k string, x any) (int32, error) {
		n, err := strconv.Atoi(fmt.Sprint(x))
		if err != nil || n < -1 || n > 65535 {
			return 0, fmt.Errorf("%s %v: a port number", k, x)
		}
		return int32(n), nil
	}
	for _, k := range sortedKeys(r) {
		key = k
		x := r[k]
		s := fmt.Sprint(x)
		switch k {
		case "cidr_ip":
			pfx, perr := netip.ParsePrefix(s)
			if perr != nil || !pfx.Addr().Is4() || pfx != pfx.Masked() {
				return ru, fmt.Errorf("cidr_ip %q: an IPv4 network like 0.0.0.0/0 or 10.33.0.0/16", s)
			}
			ru.cidr = s
		case "proto":
			switch s {
			case "tcp", "udp", "icmp":
			case "all", "-1":
				s = "-1"
			default:
				return ru, fmt.Errorf("proto %q: tcp, udp, icmp or all", s)
			}
			ru.proto = s
		case "from_port":
			ru.from, err = port(k, x)
			hasFrom = true
		case "to_port":
			ru.to, err = port(k, x)
			hasTo = true
		default:
			return ru, fmt.Errorf("unknown key %q (known: cidr_ip, proto, from_port, to_port)", k)
		}
		if err != nil {
			return ru, err
		}
	}
	key = ""
	if ru.cidr == "" {
		return ru, fmt.Errorf("no cidr_ip")
	}
	if ru.proto == "-1" {
		ru.from, ru.to = -1, -1
		return ru, nil
	}
	if !hasFrom {
		return ru, fmt.Errorf("no from_port")
	}
	if !hasTo {
		ru.to = ru.from
	}
	if ru.to < ru.from {
		return ru, fmt.Errorf("to_port %d is below from_port %d", ru.to, ru.from)
	}
	return ru, nil
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func lastAddr(p netip.Prefix) netip.Addr {
	v := u32(p.Addr())
	v |= uint32(1)<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

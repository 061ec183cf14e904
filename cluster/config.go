package cluster

// Config is a cluster's config.yml, in TPA's shape, so that a TPA user's
// file reads unchanged. Keys tpago does not know are ignored.
type Config struct {
	Architecture     string           `yaml:"architecture"`
	ClusterName      string           `yaml:"cluster_name"`
	ClusterTags      map[string]any   `yaml:"cluster_tags,omitempty"`
	ClusterVars      map[string]any   `yaml:"cluster_vars,omitempty"`
	Locations        []Location       `yaml:"locations,omitempty"`
	InstanceDefaults InstanceDefaults `yaml:"instance_defaults,omitempty"`
	// DockerNetworks are the docker platform's networks.
	DockerNetworks []DockerNetwork `yaml:"docker_networks,omitempty"`
	// EC2 settings for the aws platform.
	EC2VPC        map[string]any   `yaml:"ec2_vpc,omitempty"`
	EC2AMI        map[string]any   `yaml:"ec2_ami,omitempty"`
	EC2VPCSubnets map[string]any   `yaml:"ec2_vpc_subnets,omitempty"`
	ClusterRules  []map[string]any `yaml:"cluster_rules,omitempty"`
	Instances     []Instance       `yaml:"instances"`

	// Extra holds the top-level keys tpago does not know (TPA has many),
	// kept so that nothing a user wrote is lost.
	Extra map[string]any `yaml:"-"`

	// src is where the config was read from, for errors that point.
	src *configSource
}

// Location is one of the cluster's locations.
type Location struct {
	Name string `yaml:"Name"`
}

// InstanceDefaults apply to every instance unless it says otherwise.
type InstanceDefaults struct {
	Platform string           `yaml:"platform,omitempty"`
	Image    string           `yaml:"image,omitempty"`
	Type     string           `yaml:"type,omitempty"`
	Region   string           `yaml:"region,omitempty"`
	Volumes  []map[string]any `yaml:"volumes,omitempty"`
	Vars     map[string]any   `yaml:"vars,omitempty"`
}

// DockerNetwork is a Docker network with an explicit subnet.
type DockerNetwork struct {
	Name       string       `yaml:"name"`
	IPAMConfig []IPAMConfig `yaml:"ipam_config,omitempty"`
}

// IPAMConfig is one subnet of a Docker network.
type IPAMConfig struct {
	Subnet string `yaml:"subnet"`
}

// Instance is one host of the cluster.
type Instance struct {
	Name      string         `yaml:"Name"`
	Node      int            `yaml:"node"`
	Location  string         `yaml:"location,omitempty"`
	Role      []string       `yaml:"role,omitempty"`
	Upstream  string         `yaml:"upstream,omitempty"`
	Backup    string         `yaml:"backup,omitempty"`
	IPAddress string         `yaml:"ip_address,omitempty"`
	Platform  string         `yaml:"platform,omitempty"`
	Image     string         `yaml:"image,omitempty"`
	Type      string         `yaml:"type,omitempty"`
	Subnet    string         `yaml:"subnet,omitempty"` // aws: the instance's subnet (CIDR)
	Vars      map[string]any `yaml:"vars,omitempty"`
}

// PlatformOf returns the instance's platform, from the defaults when unset.
func (c *Config) PlatformOf(i *Instance) string {
	if i.Platform != "" {
		return i.Platform
	}
	return c.InstanceDefaults.Platform
}

package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/tpago/tpago/exitcode"
	"github.com/tpago/tpago/yamlx"
)

// Architectures tpago knows how to deploy.
var Architectures = []string{"M1"}

// Platforms an instance may live on.
var Platforms = []string{"aws", "bare", "docker"}

// FailoverManagers that cluster_vars.failover_manager may name.
var FailoverManagers = []string{"efm", "patroni", "repmgr"}

// Roles an instance of an M1 cluster may have.
var Roles = []string{"barman", "efm-witness", "etcd", "haproxy", "log-server", "pgbouncer", "primary", "replica", "witness"}

// postgresRoles are the roles that run a Postgres server.
var postgresRoles = []string{"primary", "replica", "witness"}

// configSource is the text a Config was read from, kept for errors.
type configSource struct {
	path string
	data []byte
	file *ast.File
	// early are the problems seen in the YAML itself, before decoding:
	// unknown keys, a node number that is not whole, a second document.
	early ConfigErrors
}

// ConfigError is one problem found in a config.yml. Line and Column are 0
// when the Config was made in memory.
type ConfigError struct {
	File         string
	Line, Column int
	// Path says where the problem is, as in "instances[2].upstream".
	Path string
	Msg  string
	// Snippet shows the lines around Line with a caret under Column.
	Snippet string
}

func (e *ConfigError) Error() string {
	ye := yamlx.Error{Pos: yamlx.Pos{File: e.File, Line: e.Line, Col: e.Column}, Msg: e.Msg, Snippet: e.Snippet}
	if e.Line == 0 {
		ye.Msg = e.Path + ": " + e.Msg
		if e.Path == "" {
			ye.Msg = e.Msg
		}
		ye.Snippet = ""
	}
	return ye.Error()
}

// ExitCode says that a config.yml with a problem is bad input.
func (e *ConfigError) ExitCode() int { return exitcode.BadInput }

// ConfigErrors are all the problems found in one config.yml, in file order.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find each ConfigError.
func (es ConfigErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// configKeys are the top-level keys Config decodes itself.
var configKeys = []string{
	"architecture", "cluster_name", "cluster_tags", "cluster_vars", "locations",
	"instance_defaults", "docker_networks", "ec2_vpc", "ec2_ami",
	"ec2_vpc_subnets", "cluster_rules", "instances",
}

// LoadConfig reads a cluster's config.yml and checks it. Every error names
// path:line:col, shows the line with a caret, and says what is wrong; all
// the problems found are reported at once (as ConfigErrors). Top-level keys
// tpago does not know are kept in Extra.
func LoadConfig(path string) (*Config, error) {
	data, err := ReadInput(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig for text already read; path names it in errors.
func ParseConfig(path string, data []byte) (*Config, error) {
	if e := tooWide(path, data); e != nil {
		return nil, e
	}
	f, err := yamlx.ParseAST(path, data)
	if err != nil {
		var ye *yamlx.Error
		if errors.As(err, &ye) {
			return nil, &ConfigError{File: path, Line: ye.Pos.Line, Column: ye.Pos.Col, Msg: strings.TrimPrefix(ye.Msg, "YAML syntax: "), Snippet: ye.Snippet}
		}
		return nil, err
	}
	var body ast.Node
	if len(f.Docs) > 0 {
		body = f.Docs[0].Body
	}
	if body == nil {
		return nil, positioned(path, data, 1, 1, "", "the file is empty: a config.yml needs at least architecture, cluster_name and instances")
	}
	if _, ok := unwrapNode(body).(*ast.MappingNode); !ok {
		tk := body.GetToken()
		return nil, positioned(path, data, tk.Position.Line, tk.Position.Column, "", "a config.yml must be a mapping of keys (architecture:, cluster_name:, instances:, …)")
	}
	var cfg Config
	if err := yaml.NodeToValue(body, &cfg); err != nil {
		return nil, yamlError(path, data, err)
	}
	var all map[string]any
	if err := yaml.NodeToValue(body, &all); err != nil {
		return nil, yamlError(path, data, err)
	}
	for _, k := range configKeys {
		delete(all, k)
	}
	if len(all) > 0 {
		cfg.Extra = all
	}
	cfg.src = &configSource{path: path, data: data, file: f}
	cfg.src.early = earlyProblems(path, data, f)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// yamlError turns a goccy/go-yaml error into a ConfigError that points.
func yamlError(path string, data []byte, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		tk := ye.GetToken()
		msg := ye.GetMessage()
		key := ""
		if tk.Prev != nil && tk.Prev.Prev != nil && tk.Prev.Value == ":" {
			key = tk.Prev.Prev.Value
		}
		var te *yaml.TypeError
		var ne *yaml.UnexpectedNodeTypeError
		switch {
		case errors.As(err, &te) && te.DstType != nil:
			if key == "" {
				key = "the value"
			}
			msg = fmt.Sprintf("%s: cannot use %q here: expected %s", key, tk.Value, kindName(te.DstType.Kind().String()))
		case errors.As(err, &ne) && key != "":
			msg = key + ": " + msg
		}
		return positioned(path, data, tk.Position.Line, tk.Position.Column, "", msg)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func kindName(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "a whole number"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "true or false"
	case k == "slice", k == "array":
		return "a list"
	case k == "map", k == "struct":
		return "a mapping (key: value)"
	}
	return k
}

func positioned(path string, data []byte, line, col int, p, msg string) *ConfigError {
	return &ConfigError{File: path, Line: line, Column: col, Path: p, Msg: msg, Snippet: snippet(data, line, col)}
}

// snippet shows the line before and the line itself, with a caret.
func snippet(data []byte, line, col int) string {
	return yamlx.SnippetOf(string(data), line, col)
}

// problem is one finding of Validate, at a path of keys and indexes.
type problem struct {
	path []any
	msg  string
	// first, when set, is where the duplicated thing was first seen.
	first []any
}

func pathString(p []any) string {
	var b strings.Builder
	for _, e := range p {
		switch v := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	if b.Len() == 0 {
		return "config"
	}
	return b.String()
}

var (
	versionRE  = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
)

// ValidName says whether s may be a cluster or location name.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ValidHostname says whether s may be an instance's Name (a DNS label).
func ValidHostname(s string) bool { return hostnameRE.MatchString(s) }

// Validate checks what a config.yml means: a known architecture, unique
// instance names, node numbers and addresses, known roles and platforms,
// upstream and backup that name instances, addresses inside the docker
// network. All problems are returned together as ConfigErrors; when the
// Config was read from a file each one points at its line and column.
func (c *Config) Validate() error {
	var ps []problem
	add := func(msg string, path ...any) { ps = append(ps, problem{path: path, msg: msg}) }

	switch {
	case c.Architecture == "":
		add("architecture is missing (tpago knows: "+strings.Join(Architectures, ", ")+")", "architecture")
	case !slices.Contains(Architectures, c.Architecture):
		add(fmt.Sprintf("unknown architecture %q (tpago knows: %s)", c.Architecture, strings.Join(Architectures, ", ")), "architecture")
	}
	switch {
	case c.ClusterName == "":
		add("cluster_name is missing", "cluster_name")
	case !ValidName(c.ClusterName):
		add(fmt.Sprintf("cluster_name %q is not a valid name (letters, digits, '.', '_' and '-', starting with a letter or digit)", c.ClusterName), "cluster_name")
	}
	if fm, ok := c.ClusterVars["failover_manager"]; ok {
		if s, _ := fm.(string); !slices.Contains(FailoverManagers, s) {
			add(fmt.Sprintf("unknown failover_manager %v (one of %s)", fm, strings.Join(FailoverManagers, ", ")), "cluster_vars", "failover_manager")
		}
	}

	if v, ok := c.ClusterVars["postgres_version"]; ok && !versionRE.MatchString(fmt.Sprint(v)) {
		add(fmt.Sprintf("postgres_version %v is not a version number such as 15 or \"16\"", v), "cluster_vars", "postgres_version")
	}
	settingsMaps := func(vars map[string]any, path ...any) {
		for _, k := range []string{"postgres_conf_settings", "repmgr_conf_settings", "patroni_conf_settings"} {
			if v, ok := vars[k]; ok && v != nil {
				if _, isMap := v.(map[string]any); !isMap {
					add(fmt.Sprintf("%s must be a mapping (name: value), not %s", k, describe(v)), append(append([]any{}, path...), k)...)
				}
			}
		}
	}
	settingsMaps(c.ClusterVars, "cluster_vars")
	settingsMaps(c.InstanceDefaults.Vars, "instance_defaults", "vars")
	for i := range c.Instances {
		settingsMaps(c.Instances[i].Vars, "instances", i, "vars")
	}

	locations := map[string]int{}
	for i, l := range c.Locations {
		switch {
		case l.Name == "":
			add("location has no Name", "locations", i)
		case !ValidName(l.Name):
			add(fmt.Sprintf("location Name %q is not a valid name", l.Name), "locations", i, "Name")
		default:
			if j, dup := locations[l.Name]; dup {
				ps = append(ps, problem{path: []any{"locations", i, "Name"}, msg: fmt.Sprintf("duplicate location Name %q", l.Name), first: []any{"locations", j, "Name"}})
			} else {
				locations[l.Name] = i
			}
		}
	}

	if p := c.InstanceDefaults.Platform; p != "" && !slices.Contains(Platforms, p) {
		add(fmt.Sprintf("unknown platform %q (one of %s)", p, strings.Join(Platforms, ", ")), "instance_defaults", "platform")
	}

	var subnets []netip.Prefix
	for i, n := range c.DockerNetworks {
		if n.Name == "" {
			add("docker network has no name", "docker_networks", i)
		}
		for j, ic := range n.IPAMConfig {
			pfx, err := netip.ParsePrefix(ic.Subnet)
			if err != nil {
				add(fmt.Sprintf("subnet %q is not a CIDR prefix such as 10.200.1.0/24", ic.Subnet), "docker_networks", i, "ipam_config", j, "subnet")
				continue
			}
			subnets = append(subnets, pfx.Masked())
		}
	}

	if len(c.Instances) == 0 {
		add("no instances: a cluster needs at least one", "instances")
	}
	byName := map[string]int{}
	byLower := map[string]int{}
	reserved := c.groupNames()
	byNode := map[int]int{}
	byIP := map[netip.Addr]int{}
	primaries := 0
	for i := range c.Instances {
		in := &c.Instances[i]
		at := func(k ...any) []any { return append([]any{"instances", i}, k...) }
		switch {
		case in.Name == "":
			add("instance has no Name", at()...)
		case !ValidHostname(in.Name):
			add(fmt.Sprintf("instance Name %q is not a valid hostname (letters, digits and '-')", in.Name), at("Name")...)
		case in.Name == "localhost":
			add("instance Name localhost is the machine tpago runs on: name the host something else", at("Name")...)
		case allDigits(in.Name):
			add(fmt.Sprintf("instance Name %q is all digits: a host name needs a letter (an address goes in ip_address)", in.Name), at("Name")...)
		case reserved[in.Name]:
			add(fmt.Sprintf("instance Name %q is the name of an inventory group: name the host something else", in.Name), at("Name")...)
		default:
			if j, dup := byName[in.Name]; dup {
				ps = append(ps, problem{path: at("Name"), msg: fmt.Sprintf("duplicate instance Name %q", in.Name), first: []any{"instances", j, "Name"}})
			} else if j, dup := byLower[strings.ToLower(in.Name)]; dup {
				ps = append(ps, problem{path: at("Name"), msg: fmt.Sprintf("instance Name %q differs from %q only by case: host names are not case-sensitive", in.Name, c.Instances[j].Name), first: []any{"instances", j, "Name"}})
			} else {
				byName[in.Name] = i
				byLower[strings.ToLower(in.Name)] = i
			}
		}
		if in.Node <= 0 {
			add(fmt.Sprintf("instance %s needs a node number (a positive integer)", in.Name), at("node")...)
		} else if j, dup := byNode[in.Node]; dup {
			ps = append(ps, problem{path: at("node"), msg: fmt.Sprintf("duplicate node number %d", in.Node), first: []any{"instances", j, "node"}})
		} else {
			byNode[in.Node] = i
		}
		switch p := c.PlatformOf(in); {
		case p == "":
			add(fmt.Sprintf("instance %s has no platform: set instance_defaults.platform (or the instance's platform) to one of %s", in.Name, strings.Join(Platforms, ", ")), at()...)
		case !slices.Contains(Platforms, p) && in.Platform != "":
			add(fmt.Sprintf("unknown platform %q (one of %s)", p, strings.Join(Platforms, ", ")), at("platform")...)
		}
		if in.Location != "" && len(c.Locations) > 0 {
			if _, ok := locations[in.Location]; !ok {
				add(fmt.Sprintf("location %q is not one of the locations (%s)", in.Location, strings.Join(c.LocationNames(), ", ")), at("location")...)
			}
		}
		if in.Role != nil && len(in.Role) == 0 {
			add(fmt.Sprintf("instance %s: role is an empty list: give its roles (one of %s) or leave role out", in.Name, strings.Join(Roles, ", ")), at("role")...)
		}
		for j, r := range in.Role {
			if !slices.Contains(Roles, r) {
				add(fmt.Sprintf("unknown role %q (one of %s)", r, strings.Join(Roles, ", ")), at("role", j)...)
			} else if k := slices.Index(in.Role, r); k < j {
				add(fmt.Sprintf("role %q is listed twice", r), at("role", j)...)
			}
		}
		if in.HasRole("primary") {
			primaries++
			if primaries > 1 {
				add(fmt.Sprintf("instance %s is a second primary: an M1 cluster has one", in.Name), at("role")...)
			}
		}
		if in.HasRole("replica") && in.Upstream == "" {
			add(fmt.Sprintf("replica %s needs an upstream (the instance it streams from)", in.Name), at()...)
		}
		if in.IPAddress != "" {
			ip, err := netip.ParseAddr(in.IPAddress)
			switch {
			case err != nil:
				add(fmt.Sprintf("ip_address %q is not an IP address", in.IPAddress), at("ip_address")...)
			default:
				if j, dup := byIP[ip]; dup {
					ps = append(ps, problem{path: at("ip_address"), msg: fmt.Sprintf("duplicate ip_address %s", ip), first: []any{"instances", j, "ip_address"}})
				} else {
					byIP[ip] = i
				}
				if c.PlatformOf(in) == "docker" {
					for _, sn := range subnets {
						if why := reservedAddress(sn, ip); why != "" {
							add(fmt.Sprintf("ip_address %s is %s of the docker network %s: use an address from .2 up (tpago configure starts at .11)", ip, why, sn), at("ip_address")...)
						}
					}
				}
				if c.PlatformOf(in) == "docker" && len(subnets) > 0 && !slices.ContainsFunc(subnets, func(p netip.Prefix) bool { return p.Contains(ip) }) {
					ss := make([]string, len(subnets))
					for k, s := range subnets {
						ss[k] = s.String()
					}
					add(fmt.Sprintf("ip_address %s is not in the docker_networks subnet %s", ip, strings.Join(ss, ", ")), at("ip_address")...)
				}
			}
		}
	}
	if len(c.Instances) > 0 && primaries == 0 && c.Architecture == "M1" {
		add("no instance has the role primary: an M1 cluster needs one", "instances")
	}

	// References between instances, once every name is known.
	for i := range c.Instances {
		in := &c.Instances[i]
		at := func(k ...any) []any { return append([]any{"instances", i}, k...) }
		if u := in.Upstream; u != "" {
			j, ok := byName[u]
			switch {
			case !ok:
				add(fmt.Sprintf("upstream %q names no instance", u), at("upstream")...)
			case u == in.Name:
				add(fmt.Sprintf("instance %s cannot be its own upstream", u), at("upstream")...)
			case !c.Instances[j].HasRole("primary") && !c.Instances[j].HasRole("replica"):
				add(fmt.Sprintf("upstream %q is not a Postgres primary or replica", u), at("upstream")...)
			default:
				if c.upstreamLoops(i, byName) {
					add(fmt.Sprintf("upstream %q makes a loop: following upstreams from %s never reaches the primary", u, in.Name), at("upstream")...)
				}
			}
		}
		if b := in.Backup; b != "" {
			j, ok := byName[b]
			switch {
			case !ok:
				add(fmt.Sprintf("backup %q names no instance", b), at("backup")...)
			case !c.Instances[j].HasRole("barman"):
				add(fmt.Sprintf("backup %q is not a barman instance", b), at("backup")...)
			}
		}
		if v, ok := in.Vars["haproxy_backend_servers"]; ok {
			l, isList := v.([]any)
			if ss, ok := v.([]string); ok {
				isList = true
				for _, x := range ss {
					l = append(l, x)
				}
			}
			if !isList {
				add("haproxy_backend_servers must be a list of instance names", at("vars", "haproxy_backend_servers")...)
			}
			for k, s := range l {
				name, _ := s.(string)
				if _, ok := byName[name]; !ok {
					add(fmt.Sprintf("haproxy_backend_servers entry %v names no instance", s), at("vars", "haproxy_backend_servers", k)...)
				}
			}
		}
	}

	var early ConfigErrors
	if c.src != nil {
		early = c.src.early
	}
	if len(ps) == 0 && len(early) == 0 {
		return nil
	}
	errs := make(ConfigErrors, 0, len(ps)+len(early))
	errs = append(errs, early...)
	for _, p := range ps {
		errs = append(errs, c.configError(p))
	}
	sort.SliceStable(errs, func(a, b int) bool {
		if errs[a].Line != errs[b].Line {
			return errs[a].Line < errs[b].Line
		}
		return errs[a].Column < errs[b].Column
	})
	return errs
}

// upstreamLoops says whether following upstreams from instance i comes back.
func (c *Config) upstreamLoops(i int, byName map[string]int) bool {
	seen := map[int]bool{i: true}
	for cur := i; ; {
		j, ok := byName[c.Instances[cur].Upstream]
		if !ok || c.Instances[cur].Upstream == "" {
			return false
		}
		if seen[j] {
			return true
		}
		seen[j] = true
		cur = j
	}
}

func (c *Config) configError(p problem) *ConfigError {
	e := &ConfigError{Path: pathString(p.path), Msg: p.msg}
	if c.src == nil {
		if p.first != nil {
			e.Msg += " (first at " + pathString(p.first) + ")"
		}
		return e
	}
	e.File = c.src.path
	n := locate(c.src.file, p.path)
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 {
		// A whole mapping (or one lacking a key): point at its first key.
		n = m.Values[0].Key
	}
	if n != nil && n.GetToken() != nil {
		e.Line, e.Column = n.GetToken().Position.Line, n.GetToken().Position.Column
	} else {
		e.Line, e.Column = 1, 1
	}
	if p.first != nil {
		if f := locate(c.src.file, p.first); f != nil && f.GetToken() != nil {
			e.Msg += fmt.Sprintf(" (first at line %d)", f.GetToken().Position.Line)
		}
	}
	e.Snippet = snippet(c.src.data, e.Line, e.Column)
	return e
}

// locate finds the node at path (keys and indexes), or the deepest node on
// the way when the path does not exist in full (a missing key points at
// the mapping that lacks it).
func locate(f *ast.File, path []any) ast.Node {
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil
	}
	var cur ast.Node = f.Docs[0].Body
	for _, e := range path {
		cur = unwrapNode(cur)
		var next ast.Node
		switch v := e.(type) {
		case string:
			if m, ok := cur.(*ast.MappingNode); ok {
				for _, mv := range m.Values {
					if keyString(mv.Key) == v {
						next = mv.Value
						if _, isNull := mv.Value.(*ast.NullNode); isNull {
							next = mv.Key
						}
						break
					}
				}
			}
		case int:
			if s, ok := cur.(*ast.SequenceNode); ok && v < len(s.Values) {
				next = s.Values[v]
			}
		}
		if next == nil {
			return cur
		}
		cur = next
	}
	return cur
}

func unwrapNode(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

func keyString(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	return k.String()
}

// HasRole says whether the instance has role r.
func (i *Instance) HasRole(r string) bool { return slices.Contains(i.Role, r) }

// IsPostgres says whether the instance runs a Postgres server (a primary,
// a replica, or a repmgr witness).
func (i *Instance) IsPostgres() bool {
	return slices.ContainsFunc(i.Role, func(r string) bool { return slices.Contains(postgresRoles, r) })
}

// Instance returns the instance called name, or nil.
func (c *Config) Instance(name string) *Instance {
	for i := range c.Instances {
		if c.Instances[i].Name == name {
			return &c.Instances[i]
		}
	}
	return nil
}

// LocationNames are the names of the cluster's locations, in order.
func (c *Config) LocationNames() []string {
	out := make([]string, 0, len(c.Locations))
	for _, l := range c.Locations {
		out = append(out, l.Name)
	}
	return out
}

// Path is the file the Config was read from ("" when made in memory).
func (c *Config) Path() string {
	if c.src == nil {
		return ""
	}
	return c.src.path
}

// Where returns "config.yml:line:col" for a YAML path such as
// "$.instances[2].ip_address" (a missing key points at the deepest value
// on the way), or "" for a Config made in memory.
func (c *Config) Where(path string) string {
	if c.src == nil {
		return ""
	}
	n := locate(c.src.file, parsePath(path))
	if n == nil || n.GetToken() == nil {
		return c.src.path
	}
	t := n.GetToken()
	return fmt.Sprintf("%s:%d:%d", c.src.path, t.Position.Line, t.Position.Column)
}

// parsePath splits "$.a.b[0].c" into keys and indexes.
func parsePath(p string) []any {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	var out []any
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
		case p[0] == '\'' || p[0] == '"':
			end := strings.IndexByte(p[1:], p[0])
			if end < 0 {
				return append(out, p[1:])
			}
			out = append(out, p[1:end+1])
			p = p[end+2:]
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return out
			}
			if n, err := strconv.Atoi(p[1:end]); err == nil {
				out = append(out, n)
			}
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			out = append(out, p[:end])
			p = p[end:]
		}
	}
	return out
}

// Position says where the problem is and what it is, for tools that list
// findings (tpago validate).
func (e *ConfigError) Position() (file string, line, col int, reason, snippet string) {
	reason = e.Msg
	if e.Path != "" {
		reason = e.Path + ": " + e.Msg
	}
	return e.File, e.Line, e.Column, reason, e.Snippet
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// describe names the kind of a YAML value for errors.
func describe(v any) string {
	switch v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%v", v)
}

// groupNames are the groups the cluster's inventory makes (see
// FromConfig), whatever roles the instances have: no host may be named
// like one, or patterns would not say which they mean.
func (c *Config) groupNames() map[string]bool {
	g := map[string]bool{"all": true, "ungrouped": true, "postgres": true}
	for _, r := range Roles {
		g[r] = true
		g["role_"+r] = true
	}
	for _, l := range c.Locations {
		g["location_"+l.Name] = true
	}
	return g
}

// reservedAddress says why ip may not be a container's address in the
// Docker subnet sn: its network address, its broadcast address, or the
// gateway Docker takes (the first address); "" when it may.
func reservedAddress(sn netip.Prefix, ip netip.Addr) string {
	if !sn.Contains(ip) || !ip.Is4() || sn.Bits() > 30 {
		return ""
	}
	network := sn.Masked().Addr()
	if ip == network {
		return "the network address"
	}
	if ip == network.Next() {
		return "the gateway"
	}
	b := network.As4()
	host := uint32(1)<<(32-sn.Bits()) - 1
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= host
	if ip == netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) {
		return "the broadcast address"
	}
	return ""
}

// instanceKeys and defaultsKeys are the keys an instance and
// instance_defaults may have: their fields' YAML names.
var (
	instanceKeys = yamlKeys(reflect.TypeOf(Instance{}))
	defaultsKeys = yamlKeys(reflect.TypeOf(InstanceDefaults{}))
)

func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// earlyProblems finds what decoding would hide: a second YAML document,
// unknown keys in instances and instance_defaults (a typo such as
// ip_adress would silently be dropped), node numbers that are not whole.
func earlyProblems(path string, data []byte, f *ast.File) ConfigErrors {
	var out ConfigErrors
	at := func(n ast.Node, msg string) {
		if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 {
			n = m.Values[0].Key
		}
		line, col := 1, 1
		if n != nil && n.GetToken() != nil {
			line, col = n.GetToken().Position.Line, n.GetToken().Position.Column
		}
		out = append(out, positioned(path, data, line, col, "", msg))
	}
	for _, d := range f.Docs[1:] {
		if d.Body != nil {
			at(d.Body, "a second YAML document: a config.yml is one document (remove the '---' line, or merge what follows it)")
			break
		}
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return out
	}
	top, ok := unwrapNode(f.Docs[0].Body).(*ast.MappingNode)
	if !ok {
		return out
	}
	unknownKeys := func(n ast.Node, known []string, where string) {
		m, ok := unwrapNode(n).(*ast.MappingNode)
		if !ok {
			return
		}
		for _, mv := range m.Values {
			k := keyString(mv.Key)
			if slices.Contains(known, k) {
				continue
			}
			msg := fmt.Sprintf("unknown key %q in %s", k, where)
			if s := closest(k, known); s != "" {
				msg += fmt.Sprintf("; did you mean %s?", s)
			} else {
				msg += fmt.Sprintf(" (known: %s; anything else goes under vars:)", strings.Join(known, ", "))
			}
			at(mv.Key, msg)
		}
	}
	for _, mv := range top.Values {
		switch keyString(mv.Key) {
		case "instance_defaults":
			unknownKeys(mv.Value, defaultsKeys, "instance_defaults")
		case "instances":
			seq, ok := unwrapNode(mv.Value).(*ast.SequenceNode)
			if !ok {
				continue
			}
			for _, in := range seq.Values {
				unknownKeys(in, instanceKeys, "an instance")
				m, ok := unwrapNode(in).(*ast.MappingNode)
				if !ok {
					continue
				}
				for _, kv := range m.Values {
					if keyString(kv.Key) != "node" {
						continue
					}
					switch v := unwrapNode(kv.Value).(type) {
					case *ast.IntegerNode, *ast.NullNode:
					case *ast.FloatNode:
						at(v, fmt.Sprintf("node: %s is not a whole number", v.GetToken().Value))
					}
				}
			}
		}
	}
	return out
}

// closest is the known key nearest to k (a typo, or the wrong case), or "".
func closest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if strings.EqualFold(c, k) {
			return c
		}
		if d := levenshtein(strings.ToLower(k), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

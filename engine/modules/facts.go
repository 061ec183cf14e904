package modules

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tpago/tpago/engine/facts"
	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&Setup{})
	module.Register(&PackageFacts{})
}

// Setup gathers the host's facts, as gather_facts: true does.
type Setup struct{}

// gatherSubsets are the names gather_subset takes (each may start with !).
var gatherSubsets = []string{"all", "min", "hardware", "network", "virtual", "ohai", "facter",
	"all_ipv4_addresses", "all_ipv6_addresses", "apparmor", "architecture", "caps", "cmdline", "date_time",
	"default_ipv4", "default_ipv6", "devices", "distribution", "distribution_major_version",
	"distribution_release", "distribution_version", "dns", "effective_group_ids", "effective_user_id",
	"env", "fips", "hardware", "interfaces", "is_chroot", "iscsi", "kernel", "kernel_version", "local",
	"lsb", "machine", "machine_id", "mounts", "network", "os_family", "pkg_mgr", "platform", "processor",
	"processor_cores", "processor_count", "python", "python_version", "real_user_id", "selinux",
	"service_mgr", "ssh_host_key_dsa_public", "ssh_host_key_ecdsa_public", "ssh_host_key_ed25519_public",
	"ssh_host_key_rsa_public", "ssh_host_pub_keys", "ssh_pub_keys", "system", "system_capabilities",
	"system_capabilities_enforced", "user", "user_dir", "user_gecos", "user_gid", "user_id", "user_shell",
	"user_uid", "virtual", "virtualization_role", "virtualization_type"}

// Spec implements module.Module.
func (*Setup) Spec() module.Spec {
	return module.Spec{
		Name:  "setup",
		Check: module.CheckReadOnly,
		Doc:   "Gather the host's facts (ansible_facts and the ansible_* variables) in one round trip, as gather_facts: true does",
		Args: []module.Arg{
			{Name: "gather_subset", Type: module.List, Default: []any{"all"},
				Doc: "accepted as in Ansible (all, min, hardware, network, virtual, !name…); every fact tpago knows is gathered, they come in one cheap round trip"},
			{Name: "filter", Type: module.List, Default: []any{},
				Doc: "keep only the facts whose ansible_ name matches one of these shell patterns (ansible_distribution*)"},
			{Name: "gather_timeout", Type: module.Int, Default: 10, Doc: "seconds the gathering may take"},
		},
	}
}

// Run implements module.Module.
func (*Setup) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	for _, s := range args.Strings("gather_subset") {
		name := strings.TrimPrefix(s, "!")
		if !contains(gatherSubsets, name) {
			return nil, fmt.Errorf("gather_subset: unknown subset %q (all, min, hardware, network, virtual…)", s)
		}
	}
	patterns := args.Strings("filter")
	for _, p := range patterns {
		if err := facts.ValidPattern(p); err != nil {
			return nil, err
		}
	}
	if rt.Remote == nil {
		return nil, fmt.Errorf("no connection to host %s", rt.Host)
	}
	tctx := ctx
	if n := args.Int("gather_timeout"); n > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, time.Duration(n)*time.Second)
		defer cancel()
	}
	out, err := rt.Remote.Run(tctx, facts.Script)
	if err != nil {
		if tctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("gathering facts took longer than gather_timeout (%d s)", args.Int("gather_timeout"))
		}
		return nil, err
	}
	f := facts.Filter(facts.Prefixed(facts.Parse(out.Stdout)), patterns)
	return &module.Result{HostFacts: f, Data: map[string]any{"ansible_facts": f}}, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// PackageFacts reports the packages installed on the host.
type PackageFacts struct{}

// Spec implements module.Module.
func (*PackageFacts) Spec() module.Spec {
	return module.Spec{
		Name:  "package_facts",
		Check: module.CheckReadOnly,
		Doc:   "Set ansible_facts.packages (and packages): each installed package's name, version, arch and source, read with dpkg-query",
		Args: []module.Arg{
			{Name: "manager", Type: module.List, Default: []any{"auto"}, Doc: "package manager to ask: auto or apt (tpago reads dpkg's database)"},
			{Name: "strategy", Type: module.String, Default: "first", Choices: []string{"first", "all"}, Doc: "accepted for compatibility: there is one manager"},
		},
	}
}

// Run implements module.Module.
func (*PackageFacts) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	for _, m := range args.Strings("manager") {
		if m != "auto" && m != "apt" {
			return nil, fmt.Errorf("manager: %q is not supported: tpago reads Debian's packages (auto or apt)", m)
		}
	}
	s := newScript(rt)
	s.line(`command -v dpkg-query >/dev/null 2>&1 || die "package_facts: dpkg-query not found: tpago reads Debian's packages (apt)"
dpkg-query -W -f '@P ${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${Section}\n' || die "dpkg-query failed"`)
	_, out, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	pkgs := map[string]any{}
	for _, l := range strings.Split(string(out.Stdout), "\n") {
		rest, ok := strings.CutPrefix(l, "@P ")
		if !ok {
			continue
		}
		f := strings.Split(rest, "\t")
		if len(f) != 5 || f[0] != "installed" {
			continue
		}
		p := map[string]any{"name": f[1], "version": f[2], "arch": f[3], "source": "apt", "category": f[4], "origin": ""}
		l, _ := pkgs[f[1]].([]any)
		pkgs[f[1]] = append(l, p)
	}
	hf := map[string]any{"packages": pkgs}
	return &module.Result{HostFacts: hf, Data: map[string]any{"ansible_facts": hf}}, nil
}

var (
	_ module.Module = (*Setup)(nil)
	_ module.Module = (*PackageFacts)(nil)
)

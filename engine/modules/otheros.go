package modules

import (
	"context"
	"fmt"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
)

// OtherOS is a module of another operating system (yum, win_service…).
// Public roles hold such tasks in per-OS task files, behind
// when: ansible_os_family == 'RedHat': they load and validate, so that
// the role does; a task that does run fails, saying what to use.
type OtherOS struct {
	name   string
	system string // the hosts the module is for, as said in messages
	family string // ansible_os_family of those hosts ("" for several)
	use    string // what to write instead on Debian
	free   bool   // takes free-form text (win_shell: dir)
}

var otherOS = []*OtherOS{
	{name: "yum", system: "Red Hat family", family: "RedHat", use: "use apt:"},
	{name: "dnf", system: "Red Hat family", family: "RedHat", use: "use apt:"},
	{name: "dnf5", system: "Red Hat family", family: "RedHat", use: "use apt:"},
	{name: "yum_repository", system: "Red Hat family", family: "RedHat", use: "write the apt source with copy: into /etc/apt/sources.list.d/"},
	{name: "rpm_key", system: "Red Hat family", family: "RedHat", use: "put the key with copy: into /etc/apt/keyrings/ and name it with signed-by= in the source"},
	{name: "selinux", system: "Red Hat family", family: "RedHat", use: "Debian hosts have no SELinux: leave it out"},
	{name: "seboolean", system: "Red Hat family", family: "RedHat", use: "Debian hosts have no SELinux: leave it out"},
	{name: "sefcontext", system: "Red Hat family", family: "RedHat", use: "Debian hosts have no SELinux: leave it out"},
	{name: "zypper", system: "SUSE", family: "Suse", use: "use apt:"},
	{name: "zypper_repository", system: "SUSE", family: "Suse", use: "write the apt source with copy: into /etc/apt/sources.list.d/"},
	{name: "apk", system: "Alpine", family: "Alpine", use: "use apt:"},
	{name: "pacman", system: "Arch Linux", family: "Archlinux", use: "use apt:"},
	{name: "portage", system: "Gentoo", family: "Gentoo", use: "use apt:"},
	{name: "pkgng", system: "FreeBSD", family: "FreeBSD", use: "use apt:"},
	{name: "openbsd_pkg", system: "OpenBSD", family: "OpenBSD", use: "use apt:"},
	{name: "homebrew", system: "macOS", family: "Darwin", use: "use apt:"},
	{name: "homebrew_cask", system: "macOS", family: "Darwin", use: "use apt:"},
	{name: "homebrew_tap", system: "macOS", family: "Darwin", use: "write the apt source with copy: into /etc/apt/sources.list.d/"},
	{name: "win_chocolatey", system: "Windows", family: "Windows", use: "use apt:"},
	{name: "win_package", system: "Windows", family: "Windows", use: "use apt:"},
	{name: "win_feature", system: "Windows", family: "Windows", use: "use apt:"},
	{name: "win_updates", system: "Windows", family: "Windows", use: "use apt: with upgrade"},
	{name: "win_service", system: "Windows", family: "Windows", use: "use service: or systemd:"},
	{name: "win_shell", system: "Windows", family: "Windows", use: "use shell:", free: true},
	{name: "win_command", system: "Windows", family: "Windows", use: "use command:", free: true},
	{name: "win_copy", system: "Windows", family: "Windows", use: "use copy:"},
	{name: "win_file", system: "Windows", family: "Windows", use: "use file:"},
	{name: "win_template", system: "Windows", family: "Windows", use: "use template:"},
	{name: "win_lineinfile", system: "Windows", family: "Windows", use: "use lineinfile:"},
	{name: "win_stat", system: "Windows", family: "Windows", use: "use stat:"},
	{name: "win_user", system: "Windows", family: "Windows", use: "use user:"},
	{name: "win_group", system: "Windows", family: "Windows", use: "use group:"},
	{name: "win_ping", system: "Windows", family: "Windows", use: "use ping:"},
	{name: "win_get_url", system: "Windows", family: "Windows", use: "use command: curl -fsSLo DEST URL with creates: DEST"},
	{name: "win_regedit", system: "Windows", family: "Windows", use: "Debian has no registry: write a configuration file with copy:"},
	{name: "win_environment", system: "Windows", family: "Windows", use: "use environment: on the task, or lineinfile: in /etc/environment"},
	{name: "win_path", system: "Windows", family: "Windows", use: "use environment: on the task"},
	{name: "win_firewall_rule", system: "Windows", family: "Windows", use: "use command: with nft and changed_when:"},
	{name: "win_reboot", system: "Windows", family: "Windows", use: "run shutdown -r with command: and wait_for: the SSH port"},
}

// OtherOSModules maps each module of another operating system to the
// hosts it is for ("Red Hat family", "Windows"…): such a task loads and
// validates, and fails if it runs on a Debian host.
func OtherOSModules() map[string]string {
	out := make(map[string]string, len(otherOS))
	for _, m := range otherOS {
		out[m.name] = m.system
	}
	return out
}

func init() {
	for _, m := range otherOS {
		module.Register(m)
	}
}

// Spec implements module.Module.
func (m *OtherOS) Spec() module.Spec {
	s := module.Spec{
		Name: m.name,
		Doc: fmt.Sprintf("For %s hosts: the task loads and validates (in a per-OS task file behind when:), "+
			"and fails if it runs on a Debian host: %s", m.system, m.use),
		FreeArgs: true,
		Local:    true, Check: module.CheckReadOnly,
	}
	if m.free {
		s.FreeForm = "_raw_params"
		s.Args = []module.Arg{{Name: "_raw_params", Type: module.Any, Doc: "the command (free form); accepted, never run"}}
	}
	return s
}

// Run implements module.Module: it fails, saying what the host is (from
// its facts) and what to use instead.
func (m *OtherOS) Run(_ context.Context, rt *module.Runtime, _ module.Args) (*module.Result, error) {
	fam := ""
	if v, ok := rt.Vars["ansible_os_family"]; ok {
		if r, ok := v.(expr.Raw); ok {
			v = r.Value
		}
		fam = fmt.Sprint(v)
	}
	switch {
	case fam == "":
		return nil, fmt.Errorf("%s is for %s hosts, which tpago does not manage (this host's facts were not gathered): %s", m.name, m.system, m.use)
	case fam == m.family:
		return nil, fmt.Errorf("%s is for %s hosts, which tpago does not manage: tpago manages Debian hosts", m.name, m.system)
	}
	return nil, fmt.Errorf("%s is for %s hosts; this host is %s: %s", m.name, m.system, fam, m.use)
}

var _ module.Module = (*OtherOS)(nil)

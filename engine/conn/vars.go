package conn

import (
	"fmt"
	"strconv"
	"strings"
)

// VarLookup returns a host variable's value as a string (rendered, when
// the caller renders templates) and whether it is set.
type VarLookup func(name string) (string, bool, error)

// MapVars looks variables up in a plain map (an inventory's host
// variables, already merged), as strings.
func MapVars(v map[string]any) VarLookup {
	return func(name string) (string, bool, error) {
		x, ok := v[name]
		if !ok || x == nil {
			return "", false, nil
		}
		switch s := x.(type) {
		case string:
			return s, true, nil
		case int, int64, uint64, float64, bool:
			return fmt.Sprint(s), true, nil
		}
		return "", false, fmt.Errorf("%s: expected a string or number, not %T", name, x)
	}
}

// SSHConfigFromVars reads Ansible's connection variables of host into an
// SSHConfig: ansible_host (or ansible_ssh_host; the inventory name when
// neither is set), ansible_port (or ansible_ssh_port), ansible_user (or
// ansible_ssh_user), ansible_ssh_private_key_file (or
// ansible_private_key_file), ansible_password (or ansible_ssh_pass),
// ansible_ssh_known_hosts_file, and tpago_host_key_policy (accept-new).
// The agent is used when no key file is named. ConnectTimeout and
// MaxSessions are left for the caller.
func SSHConfigFromVars(host string, get VarLookup) (SSHConfig, error) {
	first := func(names ...string) (string, error) {
		for _, n := range names {
			v, ok, err := get(n)
			if err != nil {
				return "", err
			}
			if ok {
				return v, nil
			}
		}
		return "", nil
	}
	cfg := SSHConfig{Host: host}
	var err error
	if h, err := first("ansible_host", "ansible_ssh_host"); err != nil {
		return cfg, err
	} else if h != "" {
		cfg.Host = h
	}
	if p, err := first("ansible_port", "ansible_ssh_port"); err != nil {
		return cfg, err
	} else if p = strings.TrimSpace(p); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return cfg, fmt.Errorf("ansible_port: %q is not a port number (1 to 65535)", p)
		}
		cfg.Port = n
	}
	if cfg.User, err = first("ansible_user", "ansible_ssh_user"); err != nil {
		return cfg, err
	}
	if k, err := first("ansible_ssh_private_key_file", "ansible_private_key_file"); err != nil {
		return cfg, err
	} else if k != "" {
		cfg.KeyFiles = []string{k}
	}
	cfg.UseAgent = len(cfg.KeyFiles) == 0
	if cfg.Password, err = first("ansible_password", "ansible_ssh_pass"); err != nil {
		return cfg, err
	}
	if cfg.KnownHostsFile, err = first("ansible_ssh_known_hosts_file"); err != nil {
		return cfg, err
	}
	pol, err := first("tpago_host_key_policy")
	if err != nil {
		return cfg, err
	}
	cfg.AcceptNew = pol == "accept-new"
	return cfg, nil
}

package inventory

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Match returns the hosts a pattern selects, in inventory order: names of
// hosts or groups, "all" or "*", globs (web*), unions (a:b or a,b),
// intersections (a:&b) and exclusions (a:!b), as in Ansible. A name that
// is neither a host nor a group matches nothing (as in Ansible, where a
// play for a group that a cluster lacks simply has no hosts); Unmatched
// lists such names.
func (inv *Inventory) Match(pattern string) ([]string, error) {
	groups := inv.GroupMap()
	parts := splitPattern(pattern)
	sel := map[string]bool{}
	var inter []map[string]bool
	var excl []map[string]bool
	for _, p := range parts {
		op := byte(0)
		if strings.HasPrefix(p, "!") || strings.HasPrefix(p, "&") {
			op, p = p[0], p[1:]
		}
		set, err := inv.atom(p, groups)
		if err != nil {
			return nil, err
		}
		switch op {
		case '!':
			excl = append(excl, set)
		case '&':
			inter = append(inter, set)
		default:
			for h := range set {
				sel[h] = true
			}
		}
	}
	var out []string
	for _, h := range inv.Order {
		if !sel[h] {
			continue
		}
		ok := true
		for _, s := range inter {
			ok = ok && s[h]
		}
		for _, s := range excl {
			ok = ok && !s[h]
		}
		if ok {
			out = append(out, h)
		}
	}
	if sel["localhost"] && inv.Hosts["localhost"] == nil {
		out = append(out, "localhost")
	}
	return out, nil
}

func splitPattern(p string) []string {
	var out []string
	for _, a := range strings.FieldsFunc(p, func(r rune) bool { return r == ':' || r == ',' }) {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (inv *Inventory) atom(p string, groups map[string][]string) (map[string]bool, error) {
	set := map[string]bool{}
	if p == "all" || p == "*" {
		for _, h := range inv.Order {
			set[h] = true
		}
		return set, nil
	}
	if hs, ok := groups[p]; ok {
		for _, h := range hs {
			set[h] = true
		}
		return set, nil
	}
	if _, ok := inv.Hosts[p]; ok {
		set[p] = true
		return set, nil
	}
	if strings.ContainsAny(p, "*?[") {
		for _, h := range inv.Order {
			if ok, _ := path.Match(p, h); ok {
				set[h] = true
			}
		}
		for g, hs := range groups {
			if ok, _ := path.Match(p, g); ok {
				for _, h := range hs {
					set[h] = true
				}
			}
		}
		return set, nil
	}
	if p == "localhost" || p == "127.0.0.1" {
		set["localhost"] = true // Ansible's implicit localhost
		return set, nil
	}
	return set, nil
}

// Unmatched returns the names in pattern that are neither hosts, groups,
// nor globs matching any of them.
func (inv *Inventory) Unmatched(pattern string) []string {
	groups := inv.GroupMap()
	var out []string
	for _, p := range splitPattern(pattern) {
		p = strings.TrimLeft(p, "!&")
		set, _ := inv.atom(p, groups)
		if len(set) == 0 && p != "localhost" && p != "127.0.0.1" {
			out = append(out, p)
		}
	}
	return out
}

// Limit returns the hosts a --limit pattern selects, as Match does; a
// limit that selects no host at all is an error, as in ansible-playbook
// (a typo must not make a run that does nothing and succeeds).
func (inv *Inventory) Limit(pattern string) ([]string, error) {
	hosts, err := inv.Match(pattern)
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		msg := fmt.Sprintf("--limit %q matches no host of the inventory", pattern)
		if un := inv.Unmatched(pattern); len(un) > 0 {
			msg += fmt.Sprintf(" (%s: neither a host nor a group)", strings.Join(un, ", "))
		}
		return nil, errors.New(msg)
	}
	return hosts, nil
}

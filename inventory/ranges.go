package inventory

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// maxRange bounds the hosts one name with ranges may stand for.
const maxRange = 100000

// ExpandHostRange expands Ansible's host ranges in an inventory host name:
// web[01:03] is web01, web02, web03 (a leading zero keeps the width),
// db-[a:c] is db-a, db-b, db-c, [1:10:3] takes every third, and a name
// may hold several ranges. A name without '[' is itself.
func ExpandHostRange(name string) ([]string, error) {
	open := strings.IndexByte(name, '[')
	if open < 0 {
		return []string{name}, nil
	}
	end := strings.IndexByte(name[open:], ']')
	if end < 0 {
		return nil, fmt.Errorf("host %q: '[' without ']'", name)
	}
	end += open
	head, spec, tail := name[:open], name[open+1:end], name[end+1:]
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("host %q: a range is [start:end] or [start:end:step]", name)
	}
	step := 1
	if len(parts) == 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("host %q: the step %q is not a positive whole number", name, parts[2])
		}
		step = n
	}
	var seq []string
	lo, hi := parts[0], parts[1]
	if a, errA := strconv.Atoi(lo); errA == nil {
		b, err := strconv.Atoi(hi)
		if err != nil || a > b || a < 0 {
			return nil, fmt.Errorf("host %q: [%s] is not a range from a smaller number to a larger one", name, spec)
		}
		if (b-a)/step+1 > maxRange {
			return nil, fmt.Errorf("host %q: the range has more than %d hosts", name, maxRange)
		}
		width := 0
		if len(lo) > 1 && lo[0] == '0' {
			width = len(lo)
		}
		for i := a; i <= b; i += step {
			seq = append(seq, fmt.Sprintf("%0*d", width, i))
		}
	} else {
		if len(lo) != 1 || len(hi) != 1 || !isLetter(lo[0]) || !isLetter(hi[0]) || lo[0] > hi[0] {
			return nil, fmt.Errorf("host %q: [%s] is neither a range of numbers nor of single letters", name, spec)
		}
		for c := int(lo[0]); c <= int(hi[0]); c += step {
			seq = append(seq, string(rune(c)))
		}
	}
	rest, err := ExpandHostRange(tail)
	if err != nil {
		return nil, fmt.Errorf("host %q: %w", name, err)
	}
	if len(seq)*len(rest) > maxRange {
		return nil, fmt.Errorf("host %q: the ranges make more than %d hosts", name, maxRange)
	}
	out := make([]string, 0, len(seq)*len(rest))
	for _, s := range seq {
		for _, r := range rest {
			out = append(out, head+s+r)
		}
	}
	return out, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// checkCycles refuses a group that is, through its children, its own
// descendant: Ansible refuses it too, and variables and patterns would
// have no order. The error shows the chain.
func (inv *Inventory) checkCycles() error {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(g string) error
	visit = func(g string) error {
		switch state[g] {
		case onPath:
			i := 0
			for path[i] != g {
				i++
			}
			return fmt.Errorf("groups make a cycle: %s", strings.Join(append(append([]string{}, path[i:]...), g), " → "))
		case done:
			return nil
		}
		state[g] = onPath
		path = append(path, g)
		if grp := inv.Groups[g]; grp != nil {
			for _, c := range grp.Children {
				if err := visit(c); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		state[g] = done
		return nil
	}
	for _, g := range inv.sortedGroupNames() {
		if err := visit(g); err != nil {
			return err
		}
	}
	return nil
}

func (inv *Inventory) sortedGroupNames() []string {
	names := make([]string, 0, len(inv.Groups))
	for n := range inv.Groups {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

package m1

import (
	_ "embed"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/tpago/tpago/cluster"
)

// words.txt is the built-in list of hostnames: short English words, one a
// line, sorted.
//
//go:embed words.txt
var wordsText string

// Words returns the built-in hostname list.
func Words() []string { return strings.Fields(wordsText) }

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// pickNames chooses n different words for cluster, the same ones for the
// same cluster name every time: the k-th name is the word at
// hash(cluster, k) in the list, or the next free one after it.
func pickNames(cluster string, n int, words []string) ([]string, error) {
	if n > len(words) {
		return nil, usagef("the cluster needs %d hostnames but the built-in list has %d: use --hostnames-from FILE", n, len(words))
	}
	used := make([]bool, len(words))
	out := make([]string, 0, n)
	for k := 0; len(out) < n; k++ {
		i := int(hash64(cluster+"\x00"+strconv.Itoa(k)) % uint64(len(words)))
		for used[i] {
			i = (i + 1) % len(words)
		}
		used[i] = true
		out = append(out, words[i])
	}
	return out, nil
}

// readHostnames reads a --hostnames-from file: one name a line, blank lines
// and lines starting with '#' ignored.
func readHostnames(path string, need int) ([]string, error) {
	data, err := cluster.ReadInput(path)
	if err != nil {
		return nil, usagef("--hostnames-from: %v", err)
	}
	var names []string
	seen := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		name := strings.TrimSpace(line)
		if name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		if !cluster.ValidHostname(name) {
			return nil, usagef("%s:%d: %q is not a valid hostname (letters, digits and '-')", path, i+1, name)
		}
		if prev, dup := seen[name]; dup {
			return nil, usagef("%s:%d: hostname %q is already on line %d", path, i+1, name, prev)
		}
		seen[name] = i + 1
		names = append(names, name)
	}
	if len(names) < need {
		return nil, usagef("%s has %d hostnames but the cluster needs %d", path, len(names), need)
	}
	return names[:need], nil
}

// hostnames returns the n instance names for o.
func hostnames(o Options, n int) ([]string, error) {
	switch {
	case len(o.Hostnames) > 0 && o.HostnamesFrom != "":
		return nil, usagef("give hostnames in one way: a list or --hostnames-from")
	case o.HostnamesFrom != "":
		return readHostnames(o.HostnamesFrom, n)
	case len(o.Hostnames) > 0:
		if len(o.Hostnames) < n {
			return nil, usagef("%d hostnames given but the cluster needs %d", len(o.Hostnames), n)
		}
		seen := map[string]bool{}
		for _, h := range o.Hostnames[:n] {
			if !cluster.ValidHostname(h) {
				return nil, usagef("%q is not a valid hostname (letters, digits and '-')", h)
			}
			if seen[h] {
				return nil, usagef("hostname %q is given twice", h)
			}
			seen[h] = true
		}
		return o.Hostnames[:n], nil
	}
	return pickNames(o.ClusterName, n, Words())
}

// dockerSubnet chooses the cluster's /24 from its name, within
// 10.200.0.0/16 … 10.239.0.0/16.
func dockerSubnet(cluster string) string {
	h := hash64(cluster)
	return fmt.Sprintf("10.%d.%d.0/24", 200+h%40, (h/40)%256)
}

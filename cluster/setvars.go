package cluster

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/tpago/tpago/atomicfile"
)

// SetClusterVars sets scalar cluster_vars in the config.yml at path,
// editing the text in place so that the user's comments, order and style
// stay: an existing key's value is replaced on its line, a new key is
// added as the mapping's first. The result is loaded and validated before
// it replaces the file (atomically); on any error the file is unchanged.
func SetClusterVars(path string, vals map[string]string) error {
	data, err := ReadInput(path)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		data, err = setClusterVar(path, data, k, vals[k])
		if err != nil {
			return err
		}
	}
	cfg, err := ParseConfig(path, data)
	if err != nil {
		return fmt.Errorf("%s: the edited file does not load (left unchanged): %w", path, err)
	}
	for k, v := range vals {
		if fmt.Sprint(cfg.ClusterVars[k]) != v {
			return fmt.Errorf("%s: could not set cluster_vars.%s (left unchanged): set it by hand", path, k)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, fi.Mode().Perm())
}

func setClusterVar(path string, data []byte, key, value string) ([]byte, error) {
	cfg, err := ParseConfig(path, data)
	if err != nil {
		return nil, err
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	quoted := strconv.Quote(value)
	cv := locate(cfg.src.file, []any{"cluster_vars"})
	m, ok := unwrapNode(cv).(*ast.MappingNode)
	if cv == nil || !ok || m.IsFlowStyle || len(m.Values) == 0 {
		return nil, fmt.Errorf("%s: cluster_vars is not a block mapping with keys: add %s: %s under it by hand", path, key, quoted)
	}
	for _, mv := range m.Values {
		if keyString(mv.Key) != key {
			continue
		}
		vt := mv.Value.GetToken()
		kt := mv.Key.GetToken()
		if vt == nil || kt == nil || vt.Position.Line != kt.Position.Line {
			return nil, fmt.Errorf("%s: cluster_vars.%s is not a one-line value: set it to %s by hand", path, key, quoted)
		}
		i := vt.Position.Line - 1
		line := string(lines[i])
		col := vt.Position.Column - 1
		if col > len(line) {
			return nil, fmt.Errorf("%s:%d: cannot edit cluster_vars.%s: set it by hand", path, i+1, key)
		}
		eol := "\n"
		if !strings.HasSuffix(line, "\n") {
			eol = ""
		}
		lines[i] = []byte(line[:col] + quoted + eol)
		return bytes.Join(lines, nil), nil
	}
	first := m.Values[0].Key.GetToken()
	i := first.Position.Line - 1
	indent := strings.Repeat(" ", first.Position.Column-1)
	out := append([][]byte{}, lines[:i]...)
	out = append(out, []byte(indent+key+": "+quoted+"\n"))
	out = append(out, lines[i:]...)
	return bytes.Join(out, nil), nil
}

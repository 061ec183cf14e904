package cluster

import (
	"fmt"

	yaml3 "go.yaml.in/yaml/v3"
)

// MaxMappingKeys bounds the keys of one mapping in config.yml. The YAML
// parser that keeps positions (goccy/go-yaml) takes time quadratic in the
// keys of one block mapping (10,000 keys: about 2 s; 40,000: about 40 s),
// so a hostile or generated file is refused before it is parsed, after a
// linear scan.
const MaxMappingKeys = 5000

// widestMapping scans data with a linear parser and returns where a
// mapping with more than MaxMappingKeys keys starts; ok is false when
// none has (or when the text does not parse: the real parser says why).
func widestMapping(data []byte) (line, col, keys int, ok bool) {
	var doc yaml3.Node
	if yaml3.Unmarshal(data, &doc) != nil {
		return 0, 0, 0, false
	}
	var walk func(n *yaml3.Node, depth int) bool
	walk = func(n *yaml3.Node, depth int) bool {
		if n == nil || depth > 200 {
			return false
		}
		if n.Kind == yaml3.MappingNode && len(n.Content)/2 > MaxMappingKeys {
			line, col, keys = n.Line, n.Column, len(n.Content)/2
			return true
		}
		for _, c := range n.Content {
			if walk(c, depth+1) {
				return true
			}
		}
		return false
	}
	return line, col, keys, walk(&doc, 0)
}

func tooWide(path string, data []byte) *ConfigError {
	line, col, keys, ok := widestMapping(data)
	if !ok {
		return nil
	}
	return positioned(path, data, line, col, "", fmt.Sprintf("this mapping has %d keys, more than the %d tpago reads in one mapping: split it, or keep such data in files the roles read", keys, MaxMappingKeys))
}

package yamlx

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Limits on the YAML tpago reads (README, "Limits").
const (
	// MaxFileSize is the largest YAML file tpago reads.
	MaxFileSize = 16 << 20
	// AliasBase and AliasPerByte bound what aliases may add to a file:
	// at most AliasBase values plus AliasPerByte per byte of the file.
	// A file that uses anchors as people do stays far below; a "billion
	// laughs" (aliases of aliases, each level multiplying the one below)
	// is stopped before it is expanded.
	AliasBase    = 100_000
	AliasPerByte = 1
	// MaxDepth is how deeply mappings and lists may nest.
	MaxDepth = 1000
)

// knownTags are the tags Ansible's YAML uses that tpago reads: YAML's
// standard ones, and Ansible's !unsafe (read as a plain string).
var knownTags = map[string]bool{
	"!!str": true, "!!int": true, "!!bool": true, "!!float": true, "!!null": true,
	"!!map": true, "!!seq": true, "!!binary": true, "!!timestamp": true,
	"!unsafe": true,
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, tooBig(path)
	}
	return data, nil
}

func tooBig(name string) *Error {
	return At(Pos{File: name}, "the file is larger than %d MiB, the most tpago reads", MaxFileSize>>20)
}

var errPos = regexp.MustCompile(`^\[(\d+):(\d+)\] (.*)`)

// ParseAST parses data, read from the file name, into goccy/go-yaml's
// syntax tree, refusing what tpago does not read safely: files over
// MaxFileSize, unknown tags, a tag without a value, aliases that expand
// past their budget, nesting past MaxDepth. Every error is an *Error at
// file:line:col, a panic of the parser included. Code that decodes YAML
// with goccy/go-yaml parses it with ParseAST.
func ParseAST(name string, data []byte) (f *ast.File, err error) {
	if len(data) > MaxFileSize {
		return nil, tooBig(name)
	}
	src := newSource(data)
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, At(Pos{File: name, src: src}, "YAML: the parser failed on this file (%v)", r)
		}
	}()
	f, err = parser.ParseBytes(data, 0)
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		if m := errPos.FindStringSubmatch(first); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			return nil, At(Pos{File: name, Line: line, Col: col, src: src}, "YAML syntax: %s", m[3])
		}
		return nil, At(Pos{File: name, src: src}, "YAML syntax: %s", first)
	}
	c := &checker{file: name, src: src, sizes: map[string]int{}, budget: AliasBase + AliasPerByte*len(data)}
	for _, d := range f.Docs {
		if _, err := c.walk(d.Body, 0, 0); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// checker walks a syntax tree: it checks tags and counts the values each
// anchor stands for, so that aliases are bounded before anything expands
// them (the converter, a decoder, a deep copy of variables).
type checker struct {
	file   string
	src    *source
	sizes  map[string]int // anchor → values it stands for
	added  int            // values added by aliases so far
	budget int
}

func (c *checker) pos(n ast.Node) Pos {
	if n == nil {
		return Pos{File: c.file, src: c.src}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{File: c.file, src: c.src}
	}
	return Pos{File: c.file, Line: tk.Position.Line, Col: tk.Position.Column, src: c.src}
}

// walk returns how many values n stands for once its aliases are
// expanded. keyCol is the column of the mapping key n is the value of (0
// when none).
func (c *checker) walk(n ast.Node, keyCol, depth int) (int, error) {
	if n == nil {
		return 0, nil
	}
	if depth > MaxDepth {
		return 0, At(c.pos(n), "YAML nested more than %d levels deep", MaxDepth)
	}
	switch x := n.(type) {
	case *ast.DocumentNode:
		return c.walk(x.Body, keyCol, depth)
	case *ast.AnchorNode:
		size, err := c.walk(x.Value, keyCol, depth)
		if err != nil {
			return 0, err
		}
		if x.Name != nil {
			c.sizes[x.Name.String()] = size
		}
		return size, nil
	case *ast.AliasNode:
		size := 1
		if x.Value != nil {
			if s, ok := c.sizes[x.Value.String()]; ok {
				size = s
			}
		}
		c.added += size
		if c.added > c.budget {
			e := At(c.pos(n), "YAML aliases expand to more than %d values here: refusing to expand them (an alias bomb?)", c.budget)
			e.Hint = fmt.Sprintf("aliases may add at most %d values plus %d per byte of the file; write the values out, or use fewer levels of aliases", AliasBase, AliasPerByte)
			return 0, e
		}
		return size, nil
	case *ast.TagNode:
		if err := c.tag(x, keyCol); err != nil {
			return 0, err
		}
		return c.walk(x.Value, keyCol, depth)
	case *ast.MappingNode:
		total := 1
		for _, mv := range x.Values {
			s, err := c.walk(mv, keyCol, depth+1)
			if err != nil {
				return 0, err
			}
			total += s
		}
		return total, nil
	case *ast.MappingValueNode:
		ks, err := c.walk(x.Key, keyCol, depth+1)
		if err != nil {
			return 0, err
		}
		col := keyCol
		if tk := x.Key.GetToken(); tk != nil && tk.Position != nil {
			col = tk.Position.Column
		}
		vs, err := c.walk(x.Value, col, depth+1)
		if err != nil {
			return 0, err
		}
		return ks + vs, nil
	case *ast.MappingKeyNode:
		return c.walk(x.Value, keyCol, depth+1)
	case *ast.SequenceNode:
		total := 1
		for _, it := range x.Values {
			s, err := c.walk(it, keyCol, depth+1)
			if err != nil {
				return 0, err
			}
			total += s
		}
		return total, nil
	}
	return 1, nil
}

// tag refuses tags tpago does not read, and a tag whose value is missing:
// goccy/go-yaml then takes the next keys as the tag's value (and its
// decoder may crash on them).
func (c *checker) tag(x *ast.TagNode, keyCol int) error {
	name := ""
	if x.Start != nil {
		name = x.Start.Value
	}
	switch {
	case name == "!vault":
		e := At(c.pos(x), "vault-encrypted values are not supported")
		e.Hint = "keep secrets in files of mode 0600 and read them with lookup('file', PATH)"
		return e
	case !knownTags[name]:
		e := At(c.pos(x), "unknown YAML tag %s", name)
		e.Hint = "tpago reads the tags !!str, !!int, !!bool, !!float, !!null, !!map, !!seq, !!binary, !!timestamp and Ansible's !unsafe; quote the value if it is text"
		return e
	}
	var first ast.Node
	switch v := x.Value.(type) {
	case *ast.MappingNode:
		if len(v.Values) > 0 {
			first = v.Values[0].Key
		}
	case *ast.MappingValueNode:
		first = v.Key
	}
	if first != nil && keyCol > 0 {
		if tk := first.GetToken(); tk != nil && tk.Position != nil && tk.Position.Column <= keyCol {
			return At(c.pos(x), "the tag %s has no value", name)
		}
	}
	return nil
}

// Package yamlx reads YAML into nodes that remember where they came from,
// so that every error about a playbook, a role or an inventory can point at
// file:line:col with a snippet of the source.
package yamlx

import (
	"fmt"
	"sort"

	"github.com/goccy/go-yaml/ast"
)

// Pos is a place in a file. A Pos of a parsed node also holds the text of
// its file, so that an error made at it can show the line.
type Pos struct {
	File string
	Line int
	Col  int

	src *source
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Kind is the kind of a node.
type Kind int

// Node kinds.
const (
	Null Kind = iota
	Scalar
	Map
	List
)

// Node is one YAML value with its position.
type Node struct {
	Kind  Kind
	Pos   Pos
	Value any     // scalars: string, int, float64, bool
	Keys  []*Node // maps: key nodes, in order
	Vals  []*Node // maps: values, aligned with Keys
	Items []*Node // lists
}

// Get returns the value of key in a map node (nil when absent).
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Map {
		return nil
	}
	for i, k := range n.Keys {
		if k.String() == key {
			return n.Vals[i]
		}
	}
	return nil
}

// KeyNode returns the key node of key in a map node (nil when absent).
func (n *Node) KeyNode(key string) *Node {
	if n == nil || n.Kind != Map {
		return nil
	}
	for _, k := range n.Keys {
		if k.String() == key {
			return k
		}
	}
	return nil
}

// String returns a scalar as a string ("" for null).
func (n *Node) String() string {
	if n == nil || n.Kind == Null {
		return ""
	}
	if n.Kind == Scalar {
		if s, ok := n.Value.(string); ok {
			return s
		}
		return fmt.Sprint(n.Value)
	}
	return fmt.Sprint(n.Plain())
}

// Plain converts the node to plain Go values: map[string]any, []any,
// string, int, float64, bool, nil.
func (n *Node) Plain() any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case Scalar:
		return n.Value
	case Map:
		m := make(map[string]any, len(n.Keys))
		for i, k := range n.Keys {
			m[k.String()] = n.Vals[i].Plain()
		}
		return m
	case List:
		l := make([]any, len(n.Items))
		for i, it := range n.Items {
			l[i] = it.Plain()
		}
		return l
	}
	return nil
}

// FromPlain makes a node (without positions but pos) from a plain value.
func FromPlain(v any, pos Pos) *Node {
	switch x := v.(type) {
	case nil:
		return &Node{Kind: Null, Pos: pos}
	case map[string]any:
		n := &Node{Kind: Map, Pos: pos}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.Keys = append(n.Keys, &Node{Kind: Scalar, Pos: pos, Value: k})
			n.Vals = append(n.Vals, FromPlain(x[k], pos))
		}
		return n
	case []any:
		n := &Node{Kind: List, Pos: pos}
		for _, it := range x {
			n.Items = append(n.Items, FromPlain(it, pos))
		}
		return n
	default:
		return &Node{Kind: Scalar, Pos: pos, Value: v}
	}
}

// KindName names a node's kind for error messages.
func (n *Node) KindName() string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case Map:
		return "a mapping"
	case List:
		return "a list"
	case Null:
		return "null"
	}
	switch n.Value.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// ReadFile parses every document of a YAML file.
func ReadFile(path string) ([]*Node, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// ReadOne parses a YAML file that holds one document (an empty file gives a
// Null node).
func ReadOne(path string) (*Node, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return ParseOne(path, data)
}

// ParseOne parses data holding one document.
func ParseOne(name string, data []byte) (*Node, error) {
	docs, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return &Node{Kind: Null, Pos: Pos{File: name, Line: 1, Col: 1, src: newSource(data)}}, nil
	}
	if len(docs) > 1 {
		return nil, Errorf(docs[1], "expected one YAML document, found %d", len(docs))
	}
	return docs[0], nil
}

// Parse parses every document of data, read from the file name.
func Parse(name string, data []byte) (docs []*Node, err error) {
	f, err := ParseAST(name, data)
	if err != nil {
		return nil, err
	}
	src := newSource(data)
	c := &converter{file: name, src: src, anchors: map[string]*Node{}, merged: map[*Node]map[string]bool{}}
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, At(Pos{File: name, src: src}, "YAML: cannot read this file (%v)", r)
		}
	}()
	for _, d := range f.Docs {
		if d.Body == nil {
			continue
		}
		n, err := c.convert(d.Body)
		if err != nil {
			return nil, err
		}
		docs = append(docs, n)
	}
	return docs, nil
}

type converter struct {
	file    string
	src     *source
	anchors map[string]*Node
	// merged are the keys each mapping took from a merge (<<): a key
	// written in the mapping itself overrides them.
	merged map[*Node]map[string]bool
}

func (c *converter) pos(n ast.Node) Pos {
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{File: c.file, src: c.src}
	}
	return Pos{File: c.file, Line: tk.Position.Line, Col: tk.Position.Column, src: c.src}
}

func (c *converter) convert(n ast.Node) (*Node, error) {
	switch x := n.(type) {
	case nil:
		return &Node{Kind: Null, Pos: Pos{File: c.file, src: c.src}}, nil
	case *ast.DocumentNode:
		return c.convert(x.Body)
	case *ast.NullNode:
		return &Node{Kind: Null, Pos: c.pos(n)}, nil
	case *ast.AnchorNode:
		v, err := c.convert(x.Value)
		if err != nil {
			return nil, err
		}
		c.anchors[x.Name.String()] = v
		return v, nil
	case *ast.AliasNode:
		name := x.Value.String()
		v, ok := c.anchors[name]
		if !ok {
			return nil, At(c.pos(n), "unknown YAML alias *%s", name)
		}
		return v, nil
	case *ast.TagNode:
		tag := x.Start.Value
		v, err := c.convert(x.Value)
		if err != nil {
			return nil, err
		}
		if tag == "!!str" && v.Kind == Scalar {
			if tk := x.Value.GetToken(); tk != nil {
				v = &Node{Kind: Scalar, Pos: v.Pos, Value: tk.Value}
			}
		}
		return v, nil
	case *ast.LiteralNode:
		return &Node{Kind: Scalar, Pos: c.pos(n), Value: x.Value.Value}, nil
	case *ast.MappingNode:
		out := &Node{Kind: Map, Pos: c.pos(n)}
		for _, mv := range x.Values {
			if err := c.addPair(out, mv); err != nil {
				return nil, err
			}
		}
		if len(out.Keys) > 0 {
			out.Pos = out.Keys[0].Pos
		}
		return out, nil
	case *ast.MappingValueNode:
		out := &Node{Kind: Map, Pos: c.pos(n)}
		if err := c.addPair(out, x); err != nil {
			return nil, err
		}
		out.Pos = out.Keys[0].Pos
		return out, nil
	case *ast.SequenceNode:
		out := &Node{Kind: List, Pos: c.pos(n)}
		for _, it := range x.Values {
			v, err := c.convert(it)
			if err != nil {
				return nil, err
			}
			out.Items = append(out.Items, v)
		}
		return out, nil
	case *ast.StringNode:
		return &Node{Kind: Scalar, Pos: c.pos(n), Value: x.Value}, nil
	case *ast.IntegerNode:
		v := x.GetValue()
		switch i := v.(type) {
		case int64:
			v = int(i)
		case uint64:
			v = int(i)
		}
		return &Node{Kind: Scalar, Pos: c.pos(n), Value: v}, nil
	case ast.ScalarNode:
		return &Node{Kind: Scalar, Pos: c.pos(n), Value: x.GetValue()}, nil
	}
	return nil, At(c.pos(n), "unsupported YAML construct %s", n.Type())
}

func (c *converter) addPair(out *Node, mv *ast.MappingValueNode) error {
	if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
		v, err := c.convert(mv.Value)
		if err != nil {
			return err
		}
		srcs := []*Node{v}
		if v.Kind == List {
			srcs = v.Items
		}
		for _, s := range srcs {
			if s.Kind != Map {
				return At(v.Pos, "a YAML merge (<<) takes a mapping")
			}
			for i, k := range s.Keys {
				if out.Get(k.String()) == nil {
					out.Keys = append(out.Keys, k)
					out.Vals = append(out.Vals, s.Vals[i])
					if c.merged[out] == nil {
						c.merged[out] = map[string]bool{}
					}
					c.merged[out][k.String()] = true
				}
			}
		}
		return nil
	}
	k, err := c.convert(mv.Key)
	if err != nil {
		return err
	}
	if k.Kind != Scalar {
		return At(k.Pos, "a mapping key must be a plain value")
	}
	var v *Node
	if mv.Value == nil {
		v = &Node{Kind: Null, Pos: k.Pos}
	} else if v, err = c.convert(mv.Value); err != nil {
		return err
	}
	if v.Kind == Null && v.Pos.Line == 0 {
		v.Pos = k.Pos
	}
	for i, old := range out.Keys {
		if old.String() == k.String() {
			if c.merged[out][k.String()] {
				// A key written beside a merge overrides the merged one.
				delete(c.merged[out], k.String())
				out.Keys[i], out.Vals[i] = k, v
				return nil
			}
			// Later keys win, as in YAML loaders Ansible uses; an explicit
			// duplicate is nearly always a mistake, so say so.
			return At(k.Pos, "duplicate key %q (first at line %d)", k.String(), out.Keys[i].Pos.Line)
		}
	}
	out.Keys = append(out.Keys, k)
	out.Vals = append(out.Vals, v)
	return nil
}

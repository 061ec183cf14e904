// Package yamlx reads YAML into nodes that remember where they came from,
// so that every error about a playbook, a role or an inventory can point at
// file:line:col with a snippet of the source.
package yamlx

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Pos is a place in a file.
type Pos struct {
	File string
	Line int
	Col  int
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
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// ReadOne parses a YAML file that holds one document (an empty file gives a
// Null node).
func ReadOne(path string) (*Node, error) {
	data, err := os.ReadFile(path)
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
		return &Node{Kind: Null, Pos: Pos{File: name, Line: 1, Col: 1}}, nil
	}
	if len(docs) > 1 {
		return nil, Errorf(docs[1], "expected one YAML document, found %d", len(docs))
	}
	return docs[0], nil
}

var errPos = regexp.MustCompile(`^\[(\d+):(\d+)\] (.*)`)

// Parse parses every document of data, read from the file name.
func Parse(name string, data []byte) ([]*Node, error) {
	remember(name, data)
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		msg := err.Error()
		first, _, _ := strings.Cut(msg, "\n")
		if m := errPos.FindStringSubmatch(first); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			return nil, &Error{Pos: Pos{File: name, Line: line, Col: col}, Msg: "YAML syntax: " + m[3]}
		}
		return nil, &Error{Pos: Pos{File: name}, Msg: "YAML syntax: " + first}
	}
	c := &converter{file: name, anchors: map[string]*Node{}}
	var docs []*Node
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
	anchors map[string]*Node
}

func (c *converter) pos(n ast.Node) Pos {
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{File: c.file}
	}
	return Pos{File: c.file, Line: tk.Position.Line, Col: tk.Position.Column}
}

func (c *converter) convert(n ast.Node) (*Node, error) {
	switch x := n.(type) {
	case nil:
		return &Node{Kind: Null, Pos: Pos{File: c.file}}, nil
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
			return nil, &Error{Pos: c.pos(n), Msg: fmt.Sprintf("unknown YAML alias *%s", name)}
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
	return nil, &Error{Pos: c.pos(n), Msg: fmt.Sprintf("unsupported YAML construct %s", n.Type())}
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
				return &Error{Pos: v.Pos, Msg: "a YAML merge (<<) takes a mapping"}
			}
			for i, k := range s.Keys {
				if out.Get(k.String()) == nil {
					out.Keys = append(out.Keys, k)
					out.Vals = append(out.Vals, s.Vals[i])
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
		return &Error{Pos: k.Pos, Msg: "a mapping key must be a plain value"}
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
			// Later keys win, as in YAML loaders Ansible uses; an explicit
			// duplicate is nearly always a mistake, so say so.
			return &Error{Pos: k.Pos, Msg: fmt.Sprintf("duplicate key %q (first at line %d)", k.String(), out.Keys[i].Pos.Line)}
		}
	}
	out.Keys = append(out.Keys, k)
	out.Vals = append(out.Vals, v)
	return nil
}

// Error is an error at a place in a YAML file, printed as
// "file:line:col: message", a snippet with a caret, and the chain of
// includes that led there.
type Error struct {
	Pos   Pos
	Msg   string
	Hint  string
	Chain []string
}

// Errorf makes an Error at n's position.
func Errorf(n *Node, format string, args ...any) *Error {
	var p Pos
	if n != nil {
		p = n.Pos
	}
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// At makes an Error at pos.
func At(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if s := Snippet(e.Pos); s != "" {
		b.WriteString("\n")
		b.WriteString(s)
	}
	if e.Hint != "" {
		b.WriteString("\n  hint: ")
		b.WriteString(e.Hint)
	}
	for _, c := range e.Chain {
		b.WriteString("\n  ")
		b.WriteString(c)
	}
	return b.String()
}

// WithChain returns err with a line of context added ("in role x,
// included from y:12") when it is an *Error; other errors are wrapped.
func WithChain(err error, ctx string) error {
	var ye *Error
	if errors.As(err, &ye) {
		cp := *ye
		cp.Chain = append(append([]string(nil), ye.Chain...), ctx)
		return &cp
	}
	return fmt.Errorf("%w\n  %s", err, ctx)
}

var (
	srcMu sync.Mutex
	srcs  = map[string][]string{}
)

func remember(name string, data []byte) {
	srcMu.Lock()
	defer srcMu.Unlock()
	srcs[name] = strings.Split(string(data), "\n")
}

// Snippet returns the line at pos with the line before it and a caret under
// the column, or "" when the source is unknown.
func Snippet(pos Pos) string {
	srcMu.Lock()
	lines, ok := srcs[pos.File]
	srcMu.Unlock()
	if !ok {
		if data, err := os.ReadFile(pos.File); err == nil {
			remember(pos.File, data)
			lines = strings.Split(string(data), "\n")
		}
	}
	if pos.Line < 1 || pos.Line > len(lines) {
		return ""
	}
	var b strings.Builder
	w := len(strconv.Itoa(pos.Line))
	if pos.Line > 1 {
		fmt.Fprintf(&b, "   %*d | %s\n", w, pos.Line-1, lines[pos.Line-2])
	}
	fmt.Fprintf(&b, " > %*d | %s", w, pos.Line, lines[pos.Line-1])
	if pos.Col > 0 {
		fmt.Fprintf(&b, "\n   %*s   %s^", w, "", strings.Repeat(" ", pos.Col-1))
	}
	return b.String()
}

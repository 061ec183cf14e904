package expr

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// resolverVar is the one entry of the run-time environment: every variable
// reference is rewritten into a call that asks the resolver for it.
const resolverVar = "__r"

// Functions whose first argument may be undefined.
var guardFuncs = map[string]bool{
	"default": true, "defined": true, "undefined": true, "mandatory": true,
	"is_defined": true, "is_undefined": true, "d": true,
}

// Python method names Ansible authors write, and the function each means.
var methodAliases = map[string]string{
	"strip": "trim", "startswith": "startswith", "endswith": "endswith",
	"items": "items", "get": "get_", "format": "__strformat",
}

type ref struct {
	name     string
	optional bool // every use is guarded
}

type program struct {
	code string
	prog *vm.Program
	refs []ref
}

type compiled struct {
	p   *program
	err error
}

var (
	cache     sync.Map // code -> *compiled
	cacheSize atomic.Int64
)

// maxCached bounds the program cache; a run with more distinct
// expressions than this starts over rather than growing without end.
const maxCached = 50000

// Check compiles code without evaluating it; a bad expression gives a
// *SyntaxError.
func Check(code string) error {
	_, err := compile(code)
	return err
}

// Identifiers lists the free variables code refers to, sorted: not function
// names, not let-bound names nor predicate pointers such as #.
func Identifiers(code string) ([]string, error) {
	p, err := compile(code)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(p.refs))
	for i, r := range p.refs {
		names[i] = r.name
	}
	return names, nil
}

// Ref is a variable an expression refers to.
type Ref struct {
	Name string
	// Optional is true when every use of the variable tolerates it being
	// undefined (first argument of default(), defined(), undefined(),
	// left of ??).
	Optional bool
}

// Refs is Identifiers with the knowledge of which variables may be
// undefined without error.
func Refs(code string) ([]Ref, error) {
	p, err := compile(code)
	if err != nil {
		return nil, err
	}
	out := make([]Ref, len(p.refs))
	for i, r := range p.refs {
		out[i] = Ref{Name: r.name, Optional: r.optional}
	}
	return out, nil
}

func compile(code string) (*program, error) {
	if c, ok := cache.Load(code); ok {
		c := c.(*compiled)
		return c.p, c.err
	}
	p, err := compileUncached(code)
	if cacheSize.Add(1) > maxCached {
		cache.Clear()
		cacheSize.Store(0)
	}
	cache.Store(code, &compiled{p, err})
	return p, err
}

var baseOptions []expr.Option

func init() {
	baseOptions = append(baseOptions, expr.AllowUndefinedVariables())
	// tpago's repeat checks the size before building the string
	baseOptions = append(baseOptions, expr.DisableBuiltin("repeat"))
	for _, f := range allFuncs() {
		baseOptions = append(baseOptions, expr.Function(f.name, limited(f.fn)))
	}
}

func newConfig() *conf.Config {
	config := conf.CreateNew()
	for _, op := range baseOptions {
		op(config)
	}
	for name := range config.Disabled {
		delete(config.Builtins, name)
	}
	config.Check()
	return config
}

func compileUncached(code string) (p *program, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &SyntaxError{Expr: code, Msg: fmt.Sprint(r)}
		}
	}()
	if strings.TrimSpace(code) == "" {
		return nil, &SyntaxError{Expr: code, Msg: "empty expression"}
	}
	rw := rewriteJinja(code)
	if rw.err != nil {
		return nil, &SyntaxError{Expr: code, Msg: rw.err.Error()}
	}
	config := newConfig()
	tree, err := parser.ParseWithConfig(rw.code, config)
	if err != nil {
		return nil, syntaxErr(code, rw, err)
	}
	pt := &patcher{rw: rw, code: code, refs: map[string]bool{}}
	pt.node(&tree.Node, ctx{})
	if pt.err != nil {
		return nil, pt.err
	}
	if _, err := checker.Check(tree, config); err != nil {
		return nil, syntaxErr(code, rw, err)
	}
	if err := optimizer.Optimize(&tree.Node, config); err != nil {
		return nil, syntaxErr(code, rw, err)
	}
	prog, err := compiler.Compile(tree, config)
	if err != nil {
		return nil, syntaxErr(code, rw, err)
	}
	p = &program{code: code, prog: prog}
	for name, opt := range pt.refs {
		p.refs = append(p.refs, ref{name: name, optional: opt})
	}
	sort.Slice(p.refs, func(i, j int) bool { return p.refs[i].name < p.refs[j].name })
	return p, nil
}

func syntaxErr(code string, rw rewritten, err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &SyntaxError{Expr: code, Msg: err.Error()}
	}
	return &SyntaxError{Expr: code, Msg: fe.Message, Col: rw.column(code, fe.From)}
}

// column maps a rune offset in the rewritten code to a 1-based column in
// the original.
func (rw rewritten) column(code string, from int) int {
	if !rw.changed {
		return from + 1
	}
	if from >= len(rw.origPos) {
		from = len(rw.origPos) - 1
	}
	for k := from; k >= 0; k-- {
		if rw.origPos[k] >= 0 {
			return len([]rune(code[:rw.origPos[k]])) + 1
		}
	}
	return 0
}

type ctx struct {
	guarded bool // inside the access chain of default()'s first argument
	base    bool // the node is the object of a member access
	chain   bool // inside a ?. chain: missing keys give nil
	lets    map[string]bool
}

type patcher struct {
	rw   rewritten
	code string
	refs map[string]bool // name -> all uses optional
	err  error
	lets int // let-bound names made so far
}

func (pt *patcher) ref(name string, optional bool) {
	if prev, ok := pt.refs[name]; ok {
		pt.refs[name] = prev && optional
	} else {
		pt.refs[name] = optional
	}
}

func call(name string, args ...ast.Node) *ast.CallNode {
	return &ast.CallNode{Callee: &ast.IdentifierNode{Value: name}, Arguments: args}
}

func (pt *patcher) node(n *ast.Node, c ctx) {
	if *n == nil || pt.err != nil {
		return
	}
	plain := ctx{lets: c.lets}
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if c.lets[x.Value] || x.Value == "$env" {
			return
		}
		pt.ref(x.Value, c.guarded)
		fn := "__v"
		switch {
		case c.guarded:
			fn = "__s"
		case c.base:
			fn = "__b"
		}
		ast.Patch(n, call(fn, &ast.IdentifierNode{Value: resolverVar}, &ast.StringNode{Value: x.Value}))
	case *ast.MemberNode:
		if x.Method {
			pt.node(&x.Node, plain)
			return
		}
		path := x.String()
		pt.node(&x.Node, ctx{guarded: c.guarded, base: true, chain: c.chain || x.Optional, lets: c.lets})
		pt.node(&x.Property, plain)
		fn := "__g"
		switch {
		case c.chain || x.Optional:
			fn = "__og"
		case c.guarded:
			fn = "__sg"
		}
		if c.base {
			fn += "l"
		}
		ast.Patch(n, call(fn, x.Node, x.Property, &ast.StringNode{Value: path}))
	case *ast.ChainNode:
		pt.node(&x.Node, ctx{guarded: c.guarded, base: c.base, chain: true, lets: c.lets})
	case *ast.CallNode:
		if m, isMember := x.Callee.(*ast.MemberNode); isMember && m.Method {
			// Python-style method call: s.split(",") is split(s, ",")
			if prop, isStr := m.Property.(*ast.StringNode); isStr {
				name := prop.Value
				if alias, ok := methodAliases[name]; ok {
					name = alias
				}
				if _, known := funcIndex[name]; !known {
					pt.err = &SyntaxError{Expr: pt.code, Msg: fmt.Sprintf("unknown method %q", prop.Value), Col: pt.rw.column(pt.code, m.Property.Location().From)}
					return
				}
				x.Callee = &ast.IdentifierNode{Value: name}
				if name == "join" && len(x.Arguments) == 1 {
					// Python's sep.join(list)
					x.Arguments = []ast.Node{x.Arguments[0], m.Node}
				} else {
					x.Arguments = append([]ast.Node{m.Node}, x.Arguments...)
				}
			}
		}
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok {
			pt.node(&x.Callee, plain)
		} else if _, known := funcIndex[id.Value]; !known && !c.lets[id.Value] {
			what := "function"
			name := id.Value
			if strings.HasPrefix(name, "is_") {
				what, name = "test", strings.TrimPrefix(name, "is_")
			}
			pt.err = &SyntaxError{Expr: pt.code, Msg: fmt.Sprintf("unknown %s %q", what, name), Col: pt.rw.column(pt.code, x.Location().From)}
			return
		}
		isLookup := ok && (id.Value == "lookup" || id.Value == "query" || id.Value == "q")
		if isLookup {
			if len(x.Arguments) == 0 {
				pt.err = &SyntaxError{Expr: pt.code, Msg: id.Value + "() needs the lookup's name", Col: pt.rw.column(pt.code, x.Location().From)}
				return
			}
			if name, isStr := x.Arguments[0].(*ast.StringNode); isStr {
				if _, known := lookups[lookupName(name.Value)]; !known {
					pt.err = &SyntaxError{Expr: pt.code, Msg: fmt.Sprintf("unknown lookup %q (%s)", name.Value, strings.Join(LookupNames(), ", ")), Col: pt.rw.column(pt.code, x.Arguments[0].Location().From)}
					return
				}
			}
			// the lookup runs with the role's and the playbook's folders
			// (relative paths are searched there, as Ansible does) and
			// the variables (for template and varnames)
			x.Callee = &ast.IdentifierNode{Value: "__lookup"}
			x.Arguments = append([]ast.Node{&ast.BoolNode{Value: id.Value != "lookup"},
				&ast.IdentifierNode{Value: "role_path"}, &ast.IdentifierNode{Value: "playbook_dir"}}, x.Arguments...)
		}
		for i := range x.Arguments {
			ac := plain
			if i == 0 && ok && guardFuncs[id.Value] || isLookup && (i == 1 || i == 2) {
				ac.guarded = true
			}
			pt.node(&x.Arguments[i], ac)
		}
		if isLookup {
			x.Arguments = append(x.Arguments[:3], append([]ast.Node{&ast.IdentifierNode{Value: resolverVar}}, x.Arguments[3:]...)...)
		}
	case *ast.BinaryNode:
		if x.Operator == "??" {
			pt.node(&x.Left, ctx{guarded: true, lets: c.lets})
			pt.node(&x.Right, plain)
			x.Left = call("__opt", x.Left)
			return
		}
		pt.node(&x.Left, plain)
		pt.node(&x.Right, plain)
		switch x.Operator {
		case "and", "&&", "or", "||":
			// Python's and/or give an operand, not a bool: x or [] is x
			// when x is true. Evaluated once, and b only when needed.
			pt.lets++
			name := fmt.Sprintf("__and%d", pt.lets)
			val := &ast.IdentifierNode{Value: name}
			cond := &ast.ConditionalNode{Cond: call("__truthy", val), Exp1: x.Right, Exp2: val}
			if x.Operator == "or" || x.Operator == "||" {
				cond = &ast.ConditionalNode{Cond: call("__truthy", val), Exp1: val, Exp2: x.Right}
			}
			ast.Patch(n, &ast.VariableDeclaratorNode{Name: name, Value: x.Left, Expr: cond})
			return
		}
		switch {
		case x.Operator == ".." && pt.rw.concat[x.Location().From]:
			ast.Patch(n, call("__concat", x.Left, x.Right))
		case x.Operator == "contains":
			ast.Patch(n, call("contains_", x.Left, x.Right))
		case x.Operator == "in":
			ast.Patch(n, call("is_in", x.Left, x.Right))
		case x.Operator == "/" && pt.rw.floorDiv[x.Location().From]:
			ast.Patch(n, call("__floordiv", x.Left, x.Right))
		case x.Operator == "/":
			ast.Patch(n, call("__div", x.Left, x.Right))
		case x.Operator == "%":
			ast.Patch(n, call("__mod", x.Left, x.Right))
		case x.Operator == "+":
			ast.Patch(n, call("__add", x.Left, x.Right))
		case x.Operator == "**" || x.Operator == "^":
			ast.Patch(n, call("__pow", x.Left, x.Right))
		}
	case *ast.VariableDeclaratorNode:
		pt.node(&x.Value, plain)
		lets := map[string]bool{x.Name: true}
		for k := range c.lets {
			lets[k] = true
		}
		pt.node(&x.Expr, ctx{lets: lets})
	case *ast.UnaryNode:
		pt.node(&x.Node, plain)
		if x.Operator == "not" || x.Operator == "!" {
			ast.Patch(n, call("__not", x.Node))
		}
	case *ast.SliceNode:
		pt.node(&x.Node, plain)
		pt.node(&x.From, plain)
		pt.node(&x.To, plain)
	case *ast.BuiltinNode:
		for i := range x.Arguments {
			pt.node(&x.Arguments[i], plain)
		}
	case *ast.PredicateNode:
		pt.node(&x.Node, plain)
	case *ast.ConditionalNode:
		pt.node(&x.Cond, plain)
		pt.node(&x.Exp1, plain)
		pt.node(&x.Exp2, plain)
		x.Cond = call("__truthy", x.Cond) // Jinja's a if c else b reads c's truth
	case *ast.SequenceNode:
		for i := range x.Nodes {
			pt.node(&x.Nodes[i], plain)
		}
	case *ast.ArrayNode:
		for i := range x.Nodes {
			pt.node(&x.Nodes[i], plain)
		}
	case *ast.MapNode:
		for i := range x.Pairs {
			pt.node(&x.Pairs[i], plain)
		}
	case *ast.PairNode:
		pt.node(&x.Key, plain)
		pt.node(&x.Value, plain)
	}
}

package expr

import (
	"fmt"
	"strings"
)

// UndefinedError reports a variable (or a key of a map) that an expression
// needs but that has no value. Name is the variable, or the access path
// such as "item.port" when Key is set.
type UndefinedError struct {
	Name string // variable name, or access path like "item.port"
	Key  string // the missing key, when a map lacked it
	Expr string // the expression being evaluated
}

func (e *UndefinedError) Error() string {
	var b strings.Builder
	if e.Key != "" {
		fmt.Fprintf(&b, "undefined key %q in %s", e.Key, e.Name)
	} else {
		fmt.Fprintf(&b, "undefined variable %q", e.Name)
	}
	if e.Expr != "" {
		fmt.Fprintf(&b, " in expression %q", e.Expr)
	}
	if e.Key == "" {
		b.WriteString(" (use default(" + e.Name + ", ...) if it is optional)")
	}
	return b.String()
}

// SyntaxError reports an expression that does not compile. Col is the
// 1-based column in Expr (0 when unknown).
type SyntaxError struct {
	Expr string
	Msg  string
	Col  int
}

func (e *SyntaxError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("syntax error in expression %q at column %d: %s", e.Expr, e.Col, e.Msg)
	}
	return fmt.Sprintf("syntax error in expression %q: %s", e.Expr, e.Msg)
}

// CycleError reports variables whose values refer to each other.
type CycleError struct {
	Chain []string // a, b, a
}

func (e *CycleError) Error() string {
	return "variable cycle: " + strings.Join(e.Chain, " -> ")
}

// EvalError is any other failure while evaluating an expression: a
// function given the wrong kind of value, a type mismatch, mandatory()
// failing.
type EvalError struct {
	Expr string
	Msg  string
	Err  error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("%s in expression %q", e.Msg, e.Expr)
}

func (e *EvalError) Unwrap() error { return e.Err }

// VarError is a failure while rendering the value of a variable that an
// expression used: Name is that variable.
type VarError struct {
	Name string
	Err  error
}

func (e *VarError) Error() string {
	return fmt.Sprintf("variable %q: %v", e.Name, e.Err)
}

func (e *VarError) Unwrap() error { return e.Err }

// Package expr evaluates tpago's expression language: expr-lang/expr
// (https://expr-lang.org) with the spellings Ansible authors know.
//
// Everything that is evaluated goes through here: when, changed_when,
// failed_when, until, {{ }} in task arguments and inventory values, and
// the expressions inside file templates (package engine/template).
//
// Ansible spellings accepted on top of expr:
//
//	x | f(a)            filter: f(x, a); binds to its operand only, as in Jinja
//	x | f               f(x)
//	x | f(name=v)       keyword arguments of the common filters
//	x is defined        tests (also: is not); see Tests
//	a ~ b               string concatenation
//	a if c else b       inline if (expr's c ? a : b works too)
//	True False None     true false nil
//	s.upper() s.split(',') m.items() m.get(k, d) ', '.join(l)   Python methods
//	list.0              list[0]
//
// Variables are resolved lazily: only those an expression uses are looked
// up, and a value that is itself a template ("{{ cluster }}-db") is
// rendered first, recursively, with the same variables; a cycle is an
// error naming the chain. Wrap a value in Raw to keep it as it is
// (registered results, command output). The variable hostvars maps host
// names to that host's variables, rendered with that host's own variables
// when read.
//
// An undefined variable, or a missing key (item.nokey), is an
// *UndefinedError naming it, except in the first argument of default(),
// d(), defined(), undefined(), mandatory() and on the left of ??, where
// the whole access chain (default(a.b.c, 1)) may be missing or nil.
//
// Render keeps the native type of a string that is exactly one {{ expr }};
// otherwise the parts are joined as text (nil as "", lists and maps as
// JSON). Strings with {% %} tags are rendered by the template engine when
// package engine/template is linked in.
package expr

// Package module defines what a tpago module is and keeps the registry of
// modules. A module declares its arguments (Spec) so that the loader can
// check a task before any host is contacted, and runs on one host at a time.
package module

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/tpago/tpago/engine/conn"
)

// Module is one task action: apt, copy, template…
type Module interface {
	// Spec describes the module and its arguments. It is called once, at
	// registration.
	Spec() Spec
	// Run applies the module on one host. Args are already templated,
	// checked against the Spec, coerced to their declared types and
	// defaulted. Returning an error fails the task with the error's text;
	// a Result with Failed set fails it with the result's data kept.
	// In check mode (rt.Check) Run must change nothing and predict Changed.
	Run(ctx context.Context, rt *Runtime, args Args) (*Result, error)
}

// Runtime is what a module sees of the host it runs on and of the run.
type Runtime struct {
	// Host is the inventory name of the host.
	Host string
	// Remote runs scripts on the host (privilege escalation, environment and
	// delegation already applied).
	Remote conn.Runner
	// Check is true in check mode: predict, change nothing.
	Check bool
	// Diff is true when the user asked for diffs.
	Diff bool
	// Eval evaluates an expression with the task's variables (for modules
	// whose arguments are expressions, such as assert's `that`).
	Eval func(expr string) (any, error)
	// Render renders a file template (Jinja-shaped) with the task's
	// variables; name is used in error messages.
	Render func(name, text string) (string, error)
	// Find locates a file (or folder) on the control machine for kind
	// "files", "templates" or "vars": in the current role's folder of that
	// kind, then beside the playbook. Absolute paths are returned as they
	// are.
	Find func(kind, name string) (string, error)
	// Vars are the task's variables, for reading (debug var=…).
	Vars map[string]any
	// Logf writes a line to the verbose log (-vvv).
	Logf func(format string, args ...any)
}

// Result is what a module reports.
type Result struct {
	Changed bool
	Failed  bool
	Skipped bool
	Msg     string
	// RC, Stdout, Stderr for modules that run commands (HasRC says RC is set).
	HasRC  bool
	RC     int
	Stdout string
	Stderr string
	// Diff is shown with --diff.
	Diff []Diff
	// Data holds the module's own fields, registered with the result.
	Data map[string]any
	// Facts are host facts to set (set_fact).
	Facts map[string]any
	// HostFacts are facts gathered on the host (setup, package_facts),
	// named as Ansible's modules return them: each becomes a variable of
	// the host and, without its ansible_ prefix, a key of ansible_facts.
	HostFacts map[string]any
	// IncludedVars are variables the host gets at include_vars precedence:
	// above play and role variables, below set_fact and register.
	IncludedVars map[string]any
}

// Diff is one before/after pair.
type Diff struct {
	BeforeHeader string
	AfterHeader  string
	Before       string
	After        string
}

var (
	regMu    sync.RWMutex
	registry = map[string]Module{}
	specs    = map[string]Spec{}
)

// Register adds a module under its Spec's name and aliases. It panics on a
// duplicate name: that is a programming error.
func Register(m Module) {
	s := m.Spec()
	if err := s.check(); err != nil {
		panic(fmt.Sprintf("module %s: %v", s.Name, err))
	}
	regMu.Lock()
	defer regMu.Unlock()
	for _, n := range append([]string{s.Name}, s.Aliases...) {
		if _, dup := registry[n]; dup {
			panic("module registered twice: " + n)
		}
		registry[n] = m
		specs[n] = s
	}
}

// Lookup returns the module registered under name.
func Lookup(name string) (Module, Spec, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	m, ok := registry[name]
	return m, specs[name], ok
}

// Names lists the registered module names (aliases included), sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

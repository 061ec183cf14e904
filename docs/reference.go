// Package docs holds tpago's guides and the references generated from the
// code: the module reference from the module registry and the function
// reference from the expression language, the role variables from the
// built-in roles' defaults, the guide for TPA users from a curated list of
// TPA's variables and what the built-in roles read. `go test ./docs` fails when the
// committed references differ from the code; `go generate ./docs` (or
// `go test ./docs -update`) writes them again.
package docs

//go:generate go test -run TestReferences -update .

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	_ "github.com/tpago/tpago/engine/modules" // registers the built-in modules
	"github.com/tpago/tpago/roles"
)

// References maps each generated file (relative to docs/) to its content.
func References() map[string]string {
	return map[string]string{
		"modules.md":             Modules(),
		"functions.md":           Functions(),
		"ansible-equivalents.md": AnsibleEquivalents(),
		"role-variables.md":      RoleVariables(),
		"coming-from-tpa.md":     ComingFromTPA(),
	}
}

const generated = "<!-- Generated from the code by `go generate ./docs`; do not edit. -->\n\n"

func cell(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func code(s string) string {
	if s == "" {
		return ""
	}
	if strings.Contains(s, "`") {
		return "``" + s + "``"
	}
	return "`" + s + "`"
}

func defaultText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if x == "" {
			return `""`
		}
		return code(x)
	case []string:
		return code(strings.Join(x, ", "))
	}
	return code(fmt.Sprint(v))
}

// specs returns each module once (not once per alias), by name.
func specs() []module.Spec {
	seen := map[string]bool{}
	var out []module.Spec
	for _, n := range module.Names() {
		_, s, ok := module.Lookup(n)
		if !ok || seen[s.Name] {
			continue
		}
		seen[s.Name] = true
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Modules is the module reference, docs/modules.md.
func Modules() string {
	var b strings.Builder
	b.WriteString("# Modules\n\n")
	b.WriteString(generated)
	b.WriteString("Every module tpago has, with its arguments, from the module registry (`tpago modules NAME` prints the same).\n")
	b.WriteString("A task may also name a module with an Ansible collection prefix (`ansible.builtin.copy`).\n")
	b.WriteString("Argument values are coerced as Ansible does: `yes` is a bool, `\"8\"` an int, `a,b` a list.\n")
	b.WriteString("*Check-safe* modules only read, and run as usual in check mode; the others predict and change nothing.\n")
	b.WriteString("*Local* modules run on the control machine, without connecting to the host.\n\n")
	b.WriteString("| module | what it does |\n|---|---|\n")
	all := specs()
	for _, s := range all {
		fmt.Fprintf(&b, "| [%s](#%s) | %s |\n", s.Name, s.Name, cell(s.Doc))
	}
	for _, s := range all {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n", s.Name, strings.TrimSpace(s.Doc))
		var notes []string
		if len(s.Aliases) > 0 {
			notes = append(notes, "also named "+strings.Join(mapStrings(s.Aliases, code), ", "))
		}
		if s.FreeForm != "" {
			notes = append(notes, fmt.Sprintf("takes free-form text (`%s: TEXT`) as %s", s.Name, code(s.FreeForm)))
		}
		if s.FreeArgs {
			notes = append(notes, "takes any argument name")
		}
		if s.Check == module.CheckReadOnly {
			notes = append(notes, "check-safe")
		}
		if s.Local {
			notes = append(notes, "local")
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, "\n%s.\n", capitalize(strings.Join(notes, "; ")))
		}
		var args []module.Arg
		for _, a := range s.Args {
			if !strings.HasPrefix(a.Name, "_") {
				args = append(args, a)
			}
		}
		if len(args) > 0 {
			b.WriteString("\n| argument | type | required | default | meaning |\n|---|---|---|---|---|\n")
			for _, a := range args {
				req := ""
				if a.Required {
					req = "yes"
				}
				meaning := a.Doc
				if len(a.Choices) > 0 {
					meaning += " (one of: " + strings.Join(a.Choices, ", ") + ")"
				}
				if len(a.Aliases) > 0 {
					meaning += " (also: " + strings.Join(a.Aliases, ", ") + ")"
				}
				if a.NoLog {
					meaning += " (a secret: never printed)"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", code(a.Name), a.Type, req, cell(defaultText(a.Default)), cell(meaning))
			}
		}
		for _, g := range s.OneOf {
			fmt.Fprintf(&b, "\nOne of %s is required.\n", strings.Join(mapStrings(g, code), ", "))
		}
		for _, g := range s.Exclusive {
			fmt.Fprintf(&b, "\nAt most one of %s may be given.\n", strings.Join(mapStrings(g, code), ", "))
		}
		if len(s.Refused) > 0 {
			b.WriteString("\nAnsible's arguments that tpago refuses when the playbook is loaded:\n\n")
			for _, k := range slices.Sorted(maps.Keys(s.Refused)) {
				fmt.Fprintf(&b, "- %s: %s\n", code(k), strings.TrimSpace(s.Refused[k]))
			}
		}
	}
	return b.String()
}

// Functions is the function reference of the expression language,
// docs/functions.md.
func Functions() string {
	var b strings.Builder
	b.WriteString("# Functions of the expression language\n\n")
	b.WriteString(generated)
	b.WriteString("Every function an expression may call, in `when:`, in `{{ }}` and in templates. ")
	b.WriteString("A function can be called (`upper(name)`) or written as a Jinja filter (`name | upper`, ")
	b.WriteString("`users | map(attribute='name')`); tests are written `x is defined`. ")
	b.WriteString("See [expressions.md](expressions.md) for the language itself and the Jinja2 → tpago table.\n\n")
	b.WriteString("| function | what it returns |\n|---|---|\n")
	for _, f := range expr.Functions() {
		fmt.Fprintf(&b, "| %s | %s |\n", cell(code(f.Signature)), cell(f.Doc))
	}
	return b.String()
}

func mapStrings(l []string, f func(string) string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = f(s)
	}
	return out
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// RoleVariables is the reference of the built-in roles' variables,
// docs/role-variables.md, read from each role's defaults/main.yml: every
// group of variables with the comment written above it.
func RoleVariables() string {
	var b strings.Builder
	b.WriteString("# Variables of the built-in roles\n\n" + generated)
	b.WriteString("Every variable below can be set in `config.yml`'s `cluster_vars` (for the\n" +
		"whole cluster) or in an instance's `vars`; the default is what the role\n" +
		"uses otherwise. Values may be templates.\n\n")
	dirs, _ := fs.ReadDir(roles.FS, ".")
	for _, d := range dirs {
		data, err := fs.ReadFile(roles.FS, d.Name()+"/defaults/main.yml")
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n", d.Name())
		for _, g := range defaultGroups(string(data)) {
			if g.doc != "" {
				b.WriteString(g.doc + "\n\n")
			}
			if len(g.vars) == 0 {
				continue
			}
			b.WriteString("| variable | default |\n|---|---|\n")
			for _, v := range g.vars {
				fmt.Fprintf(&b, "| `%s` | %s |\n", v[0], cell(code(v[1])))
			}
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// defaultGroup is a comment of a defaults file and the variables under it.
type defaultGroup struct {
	doc  string
	vars [][2]string // name, default as written
}

// defaultGroups splits a role's defaults file into its commented groups: a
// comment starts a group, a blank line ends one.
func defaultGroups(src string) []defaultGroup {
	var out []defaultGroup
	var comment []string
	open := false // the last group takes more variables
	for _, line := range strings.Split(src, "\n") {
		switch {
		case line == "---":
		case strings.TrimSpace(line) == "":
			if len(comment) > 0 {
				out = append(out, defaultGroup{doc: strings.Join(comment, " ")})
				comment = nil
			}
			open = false
		case strings.HasPrefix(line, "#"):
			comment = append(comment, strings.TrimSpace(strings.TrimPrefix(line, "#")))
		case line[0] != ' ' && strings.Contains(line, ":"):
			name, value, _ := strings.Cut(line, ":")
			if len(comment) > 0 || !open {
				out = append(out, defaultGroup{doc: strings.Join(comment, " ")})
				comment = nil
				open = true
			}
			g := &out[len(out)-1]
			g.vars = append(g.vars, [2]string{name, strings.TrimSpace(value)})
		}
	}
	if len(comment) > 0 {
		out = append(out, defaultGroup{doc: strings.Join(comment, " ")})
	}
	return out
}

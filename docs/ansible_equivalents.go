package docs

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/tpago/tpago/engine/executor"
	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/facts"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/modules"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/validate"
)

// ansibleYAML is the curated list of Ansible's own names,
// docs/ansible_builtin.yml.
//
//go:embed ansible_builtin.yml
var ansibleYAML []byte

// AnsibleNames are Ansible's own names (ansible-core 2.14 to 2.19, and the
// collections public roles use): what an Ansible author may write.
type AnsibleNames struct {
	PlayKeywords   []string            `yaml:"play_keywords"`
	BlockKeywords  []string            `yaml:"block_keywords"`
	TaskKeywords   []string            `yaml:"task_keywords"`
	Modules        map[string][]string `yaml:"modules"` // by collection
	Filters        []string            `yaml:"filters"`
	Tests          []string            `yaml:"tests"`
	Lookups        []string            `yaml:"lookups"`
	MagicVariables []string            `yaml:"magic_variables"`
	Facts          []string            `yaml:"facts"`
	Features       []FeatureSection    `yaml:"features"`
}

// FeatureSection is a part of Ansible with no table in tpago's code (the
// command line, inventories, vault, roles), each row with its status.
type FeatureSection struct {
	Section string    `yaml:"section"`
	Rows    []Feature `yaml:"rows"`
}

// Feature is one row of a FeatureSection: a command-line option
// ("--long,-s") or a named feature.
type Feature struct {
	Option string `yaml:"option"`
	Name   string `yaml:"name"`
	Status string `yaml:"status"`
	Note   string `yaml:"note"`
}

// Label is how the row is written in the page.
func (f Feature) Label() string {
	if f.Option == "" {
		return f.Name
	}
	return strings.Join(mapStrings(strings.Split(f.Option, ","), code), ", ")
}

// LoadAnsibleNames reads docs/ansible_builtin.yml.
func LoadAnsibleNames() (*AnsibleNames, error) {
	var n AnsibleNames
	if err := yaml.UnmarshalWithOptions(ansibleYAML, &n, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("docs/ansible_builtin.yml: %w", err)
	}
	return &n, nil
}

// The statuses of the page.
const (
	Supported     = "supported"
	Partly        = "partly"
	Refused       = "refused"
	NotApplicable = "not applicable"
	// Unexplained is a name tpago lacks and the code does not explain:
	// `go test ./docs` fails on it.
	Unexplained = "unexplained"
)

// Row is one Ansible name with what tpago does with it.
type Row struct {
	Name   string
	Status string
	Note   string // what is missing, or what to write instead
}

// Section is a table of the page.
type Section struct {
	Title string
	Intro string
	What  string // the first column's heading
	Rows  []Row
}

func keywordRows(names []string, level string, known []string) []Row {
	var rows []Row
	for _, k := range names {
		r := Row{Name: code(k + ":"), Status: Supported}
		lookupLevel := level
		if level == "block" {
			lookupLevel = "task"
		}
		if h, ok := playbook.Unsupported(lookupLevel, k); ok {
			r.Status, r.Note = Refused, h
		} else if kind, isWith := strings.CutPrefix(k, "with_"); isWith && level == "task" && slices.Contains(playbook.WithLoops, kind) {
			r.Note = "as in Ansible; loop: is the same"
		} else if !slices.Contains(known, k) {
			r.Status = Unexplained
		} else if n, ok := playbook.KeywordNotes[level+":"+k]; ok {
			r.Status, r.Note = Partly, n
		} else if n, ok := playbook.KeywordNotes[k]; ok {
			r.Status, r.Note = Partly, n
		}
		rows = append(rows, r)
	}
	return rows
}

func moduleRow(name string) Row {
	r := Row{Name: code(name)}
	otherOS := modules.OtherOSModules()
	_, s, ok := module.Lookup(name)
	hint, refused := validate.AnsibleModules[name]
	switch {
	case ok && otherOS[name] != "":
		r.Status, r.Note = NotApplicable, fmt.Sprintf("for %s hosts: loads and validates (behind when:), fails if it runs on a Debian host", otherOS[name])
	case ok && len(s.Refused) > 0:
		r.Status = Partly
		r.Note = fmt.Sprintf("[%s](modules.md#%s); refuses %s", s.Name, s.Name, strings.Join(mapStrings(slices.Sorted(maps.Keys(s.Refused)), code), ", "))
	case ok:
		r.Status, r.Note = Supported, fmt.Sprintf("[%s](modules.md#%s)", s.Name, s.Name)
	case slices.Contains(playbook.LoaderModules, name) && refused:
		r.Status, r.Note = Partly, hint
	case slices.Contains(playbook.LoaderModules, name):
		r.Status = Supported
		if name == "meta" {
			r.Note = "actions: " + strings.Join(playbook.MetaActions, ", ")
		}
	case refused:
		r.Status, r.Note = Refused, hint
	default:
		r.Status = Unexplained
	}
	return r
}

// functionRows gives the rows of filters or tests: supported when the
// expression language has it (partly when validate also has a note on
// how it differs), refused when validate says what to write instead.
func functionRows(names []string, has func(string) bool, notes map[string]string, wrap func(string) string) []Row {
	var rows []Row
	for _, n := range names {
		r := Row{Name: wrap(n), Status: Supported}
		note, explained := notes[n]
		switch {
		case has(n) && explained:
			r.Status, r.Note = Partly, note
		case has(n):
		case explained:
			r.Status, r.Note = Refused, note
		default:
			r.Status = Unexplained
		}
		rows = append(rows, r)
	}
	return rows
}

// factNames are the facts tpago gathers, as variables (ansible_NAME):
// what facts.Parse makes of the output of a Debian host.
func factNames() []string {
	sample := "hostname=db1\nfqdn=db1.example.com\nuname=Linux db1 6.1.0 x86_64\nos_name=Debian GNU/Linux\n" +
		"os_pretty=Debian GNU/Linux 12 (bookworm)\ndistribution_version=12.5\ndistribution_release=bookworm\n" +
		"os_family_id= debian\nuser_id=root\nmemtotal_mb=2048\nmemfree_mb=1024\nswaptotal_mb=0\nswapfree_mb=0\n" +
		"cpu=4 2 2 2\nuptime=123.45\ndate=1704200645 123456789 +0100 CET\ndefault_ipv4=10.0.0.2\n" +
		"all_ipv4_addresses=10.0.0.2\ninterface=eth0\nservice_mgr=systemd\npkg_mgr=apt\nvirt=docker\n" +
		"lsb=Debian|12|bookworm|Debian GNU/Linux 12 (bookworm)\npython=/usr/bin/python3\npython_version=3.11.2\n" +
		"mount=/dev/sda1 / ext4 rw\nmountsize=4096 100 50 60 1000 900 /\n__tpago_env__\nPATH=/bin\x00"
	return slices.Sorted(maps.Keys(facts.Prefixed(facts.Parse([]byte(sample)))))
}

// AnsibleSections is the content of docs/ansible-equivalents.md: every
// name of docs/ansible_builtin.yml with what tpago does with it.
func AnsibleSections() ([]Section, error) {
	n, err := LoadAnsibleNames()
	if err != nil {
		return nil, err
	}
	var out []Section
	out = append(out,
		Section{Title: "Play keywords", What: "keyword", Rows: keywordRows(n.PlayKeywords, "play", playbook.PlayKeywords())},
		Section{Title: "Block keywords", What: "keyword", Rows: keywordRows(n.BlockKeywords, "block", playbook.TaskKeywords())},
		Section{Title: "Task keywords", What: "keyword", Intro: "Handlers take the same keywords, and `listen:`.",
			Rows: keywordRows(n.TaskKeywords, "task", playbook.TaskKeywords())})
	for _, c := range slices.Sorted(maps.Keys(n.Modules)) {
		var rows []Row
		for _, m := range n.Modules[c] {
			rows = append(rows, moduleRow(m))
		}
		out = append(out, Section{Title: "Modules: " + c, What: "module",
			Intro: "A task may name these with or without the `" + c + ".` prefix.", Rows: rows})
	}
	out = append(out,
		Section{Title: "Filters", What: "filter", Intro: "Written `x | name(args)` or called `name(x, args)`; [functions.md](functions.md) lists every function tpago has.",
			Rows: functionRows(n.Filters, expr.IsFilter, validate.AnsibleFilters, code)},
		Section{Title: "Tests", What: "test", Intro: "Written `x is name(args)` or `x is not name(args)`.",
			Rows: functionRows(n.Tests, expr.IsTest, validate.AnsibleTests, code)},
		Section{Title: "Lookups", What: "lookup", Intro: "Called `lookup('name', …)`, `query('name', …)` or `q('name', …)`; they run on the control machine.",
			Rows: functionRows(n.Lookups, func(s string) bool { return slices.Contains(expr.LookupNames(), s) }, validate.AnsibleLookups, code)},
		Section{Title: "Magic variables", What: "variable",
			Rows: functionRows(n.MagicVariables, func(s string) bool { return slices.Contains(executor.MagicVariables, s) }, validate.AnsibleVariables, code)},
		Section{Title: "Facts", What: "fact", Intro: "Gathered in one round trip by `gather_facts: true` (the default) and the `setup` module; also under `ansible_facts` without the `ansible_` prefix.",
			Rows: functionRows(n.Facts, func(s string) bool { return slices.Contains(factNames(), s) }, validate.AnsibleVariables, code)})
	for _, f := range n.Features {
		var rows []Row
		for _, r := range f.Rows {
			rows = append(rows, Row{Name: r.Label(), Status: r.Status, Note: r.Note})
		}
		out = append(out, Section{Title: f.Section, What: "Ansible", Rows: rows})
	}
	return out, nil
}

// AnsibleEquivalents is docs/ansible-equivalents.md: every Ansible
// keyword, module, filter, test, lookup, variable, option and format,
// supported, partly, refused or not applicable, with what to write
// instead; and the Jinja2 template tags tpago lacks.
func AnsibleEquivalents() string {
	sections, err := AnsibleSections()
	if err != nil {
		panic(err) // the embedded list is part of the build
	}
	var b strings.Builder
	b.WriteString("# Ansible, feature by feature, in tpago\n\n" + generated)
	b.WriteString("Every keyword, module, filter, test, lookup, variable, command-line option and inventory format of Ansible " +
		"(ansible-core 2.14 to 2.19, and the collections public roles use), with what tpago does with it:\n\n" +
		"- **supported**: works as in Ansible;\n" +
		"- **partly**: accepted, with the difference said;\n" +
		"- **refused**: `tpago validate` (and loading the playbook) reports it at its `file:line:col`, with what to write instead;\n" +
		"- **not applicable**: for hosts other than Debian; the task loads and validates, and fails if it runs.\n\n" +
		"The statuses come from the code (the module registry, the expression language, the loader's keyword tables); " +
		"the names from [ansible_builtin.yml](ansible_builtin.yml). " +
		"See [migrating-from-ansible.md](migrating-from-ansible.md) for the whole picture.\n\n")
	b.WriteString("| section | supported | partly | refused | not applicable |\n|---|---|---|---|---|\n")
	for _, s := range sections {
		c := countStatuses(s.Rows)
		fmt.Fprintf(&b, "| [%s](#%s) | %d | %d | %d | %d |\n", s.Title, anchor(s.Title), c[Supported], c[Partly], c[Refused], c[NotApplicable])
	}
	for _, s := range sections {
		fmt.Fprintf(&b, "\n## %s\n\n", s.Title)
		if s.Intro != "" {
			b.WriteString(s.Intro + "\n\n")
		}
		fmt.Fprintf(&b, "| %s | status | notes |\n|---|---|---|\n", s.What)
		for _, r := range s.Rows {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(r.Name), r.Status, cell(r.Note))
		}
	}
	b.WriteString("\n## Template tags\n\nTemplates take `if`, `elif`, `else`, `for`, `set` and `raw`, and comments; these Jinja2 tags are refused:\n\n")
	b.WriteString("| Jinja2 tag | status | notes |\n|---|---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(validate.AnsibleTags)) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(code("{% "+k+" %}")), Refused, cell(validate.AnsibleTags[k]))
	}
	return b.String()
}

func countStatuses(rows []Row) map[string]int {
	c := map[string]int{}
	for _, r := range rows {
		c[r.Status]++
	}
	return c
}

// anchor is the link target GitHub gives a heading.
func anchor(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

package docs

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/tpago/tpago/architectures/m1"
)

// tpaKeysYAML is the curated list of TPA's variables, docs/tpa_keys.yml.
//
//go:embed tpa_keys.yml
var tpaKeysYAML []byte

// TPAKey is a variable of TPA's config.yml (cluster_vars or an
// instance's vars).
type TPAKey struct {
	Key string `yaml:"key"`
	// TPA is what it means in TPA, in one line.
	TPA string `yaml:"tpa"`
	// Tpago names the variable tpago reads for the same purpose, when it
	// does not read Key itself.
	Tpago string `yaml:"tpago"`
	// Note is a short remark on how tpago takes it.
	Note string `yaml:"note"`
}

// TPAGroup is a group of TPA's variables (Postgres, Barman…).
type TPAGroup struct {
	Group string   `yaml:"group"`
	Keys  []TPAKey `yaml:"keys"`
}

// TPAKeys returns the curated list of TPA's variables, in groups.
func TPAKeys() ([]TPAGroup, error) {
	var groups []TPAGroup
	if err := yaml.UnmarshalWithOptions(tpaKeysYAML, &groups, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("docs/tpa_keys.yml: %w", err)
	}
	return groups, nil
}

// Status words of the tpago column.
const (
	tpaSupported = "supported"
	tpaIgnored   = "ignored (validate warns)"
)

// tpaStatus is what tpago does with a TPA variable, given what the
// built-in playbooks and roles read.
func tpaStatus(k TPAKey, read map[string]bool) string {
	s := tpaIgnored
	if read[k.Key] {
		s = tpaSupported
	} else if k.Tpago != "" {
		s += "; set " + code(k.Tpago) + " instead"
	}
	if k.Note != "" {
		s += ": " + k.Note
	}
	return s
}

// ComingFromTPA is the guide for TPA users, docs/coming-from-tpa.md: what
// carries over, and TPA's variables one by one, each marked supported when
// a built-in playbook or role reads it (m1.BuiltinReads, what `tpago
// validate` checks config.yml against).
func ComingFromTPA() string {
	groups, err := TPAKeys()
	if err != nil {
		panic(err) // the embedded list is part of the build
	}
	read, err := m1.BuiltinReads()
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	b.WriteString("# Coming from TPA\n\n" + generated)
	b.WriteString(`tpago deploys the M1 architecture the way TPA (` + "`tpaexec`" + `) does, and
reads the same cluster directory. What carries over:

- **The cluster directory and config.yml.** ` + "`cluster_name`, `architecture`, `cluster_vars`,\n" +
		"  `instance_defaults`, `locations` and `instances`" + ` have TPA's shape; each
  instance has its ` + "`Name`, `node`, `location`, `role` (primary, replica, barman,\n" +
		"  witness, etcd, haproxy…), `upstream` for a replica and `backup`" + ` naming its
  Barman server, and its ` + "`vars`" + `. Variables work as in TPA: ` + "`cluster_vars`" + ` for
  every host, an instance's ` + "`vars`" + ` for that one, the instance winning.
- **The flow.** ` + "`tpago configure DIR`" + ` (the options of ` + "`tpaexec configure`" + ` for M1),
  then ` + "`provision`, `deploy` and `test`" + `; ` + "`deploy`" + ` again applies what changed in
  config.yml and otherwise changes nothing.
- **Hooks.** ` + "`DIR/hooks/*.yml`" + ` task files run at the same points of the deploy
  (see [hooks.md](hooks.md)), and ` + "`DIR/roles/`" + ` holds roles of your own.

What does not carry over is every setting: tpago's roles read a subset of
TPA's variables. ` + "`tpago validate DIR`" + ` checks a cluster directory without
contacting any host and warns of each variable in config.yml that no
playbook, role or other setting reads: a TPA setting tpago does not act on,
or a typo (with a did-you-mean). ` + "`tpago validate DIR --strict`" + ` makes those
warnings errors, for CI.

The tables below list the variables of TPA that an M1 cluster commonly
sets, with what they mean in TPA and what tpago does with them:
*supported* when a built-in playbook or role reads the variable (the same
set ` + "`tpago validate`" + ` checks against), *ignored* otherwise, with the variable
to set instead when tpago has one. The built-in roles' own variables and
defaults are in [role-variables.md](role-variables.md).
`)
	for _, g := range groups {
		fmt.Fprintf(&b, "\n## %s\n\n| variable | in TPA | tpago |\n|---|---|---|\n", g.Group)
		for _, k := range g.Keys {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", code(k.Key), cell(k.TPA), cell(tpaStatus(k, read)))
		}
	}
	return b.String()
}

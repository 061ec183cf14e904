package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/architectures/m1"
	"github.com/tpago/tpago/cluster"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/engine/validate"
	"github.com/tpago/tpago/exitcode"
)

func init() { commands = append(commands, newValidateCmd) }

func newValidateCmd() *cobra.Command {
	var inv string
	var extra []string
	var asJSON, strict bool
	c := &cobra.Command{
		Use:   "validate PLAYBOOK|CLUSTER_DIR|ROLE_DIR",
		Short: "Check a playbook, a cluster directory or a role without contacting any host",
		Long: `Validate loads everything a run would load and checks it, and more, without
contacting any host: YAML, module names and arguments, expressions, includes
and roles, handlers, templates (found and parsed), and variables that nothing
(inventory, play, role, vars, register, set_fact, -e) could define.

  tpago validate site.yml -i inventory.yml
  tpago validate ~/clusters/m1      # config.yml, the deploy and test playbooks, hooks/, roles/
  tpago validate roles/pgaudit      # one role on its own

Each problem is printed as file:line:col with the line, a caret and a hint.
A variable of config.yml that no playbook, role or other setting reads is a
warning (it does nothing: a typo, or a TPA setting tpago does not act on);
--strict makes warnings problems.
Exit status: 0 when no problem is found, 2 otherwise.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ev, err := parseExtraVars(extra)
			if err != nil {
				return exitcode.Bad(err)
			}
			findings, err := validateTarget(args[0], inv, ev)
			if err != nil {
				return exitcode.Bad(err)
			}
			return reportFindings(c.OutOrStdout(), args[0], findings, asJSON, strict)
		},
	}
	c.Flags().BoolVar(&strict, "strict", false, "count warnings (settings that do nothing) as problems")
	c.Flags().StringVarP(&inv, "inventory", "i", "", "inventory file or folder (YAML), or a comma-separated host list")
	c.Flags().StringArrayVarP(&extra, "extra-vars", "e", nil, "extra variables: k=v, YAML/JSON, or @file.yml")
	c.Flags().BoolVar(&asJSON, "json", false, "print the findings as JSON")
	return c
}

// validateTarget checks a playbook file, a cluster directory (it has a
// config.yml) or a role folder (it has tasks/).
func validateTarget(target, invSpec string, extra map[string]any) ([]validate.Finding, error) {
	st, err := os.Stat(target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if !st.IsDir() {
		inv, err := loadInventory(invSpec)
		if err != nil {
			return nil, err
		}
		res := validate.Playbook(newLoader(nil), target, nil, validate.Options{Inventory: inv, ExtraVars: extra})
		return res.Findings, nil
	}
	if _, err := os.Stat(filepath.Join(target, "config.yml")); err == nil {
		return validateCluster(target, extra), nil
	}
	if _, err := os.Stat(filepath.Join(target, "tasks")); err == nil {
		inv, err := loadInventory(invSpec)
		if err != nil {
			return nil, err
		}
		return validateRole(newLoader(nil), target, validate.Options{Inventory: inv, ExtraVars: extra}), nil
	}
	return nil, fmt.Errorf("%s is a folder with neither config.yml (a cluster directory) nor tasks/ (a role)", target)
}

// validateRole checks a role on its own, as a play that uses it would.
func validateRole(ld *playbook.Loader, dir string, opts validate.Options) []validate.Finding {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	play := fmt.Sprintf("- hosts: all\n  gather_facts: false\n  roles:\n    - %q\n", abs)
	file := filepath.Join(filepath.Dir(abs), "(validate "+filepath.Base(abs)+").yml")
	return validate.Playbook(ld, file, []byte(play), opts).Findings
}

// validateCluster checks a cluster directory: config.yml, the deploy
// and test playbooks with the cluster's inventory, hooks/*.yml and roles/.
func validateCluster(dir string, extra map[string]any) []validate.Finding {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	cfg, err := cluster.LoadConfig(filepath.Join(abs, "config.yml"))
	if err != nil {
		return validate.FromError(err)
	}
	if err := cfg.UndefinedInTemplates(roleDefaults(abs)); err != nil {
		return validate.FromError(err)
	}
	inv, err := (&cluster.Cluster{Dir: abs, Config: cfg}).Inventory()
	if err != nil {
		return validate.FromError(err)
	}
	cl := &clusterDir{dir: abs, cfg: cfg, inv: inv}
	pbPath, data, err := cl.architecturePlaybook(m1.Operations[0])
	if err != nil {
		return validate.FromError(err)
	}
	rolePaths := []string{filepath.Join(abs, "roles")}
	ld := newLoader(rolePaths)
	ld.PlaybookFS = m1.Playbooks
	opts := validate.Options{Inventory: inv, ExtraVars: extra}
	res := validate.Playbook(ld, pbPath, data, opts)
	findings := res.Findings
	if res.Playbook == nil {
		return findings
	}
	used := map[string]bool{} // the variables the playbooks read
	for _, n := range res.Used {
		used[n] = true
	}
	// The test, status and switchover playbooks run on the same inventory;
	// tpago switchover gives the candidate as an extra variable. What they
	// all read is m1.BuiltinReads when the cluster has nothing of its own.
	for _, name := range m1.Operations[1:] {
		path, data, err := cl.architecturePlaybook(name)
		if err != nil {
			continue
		}
		o := opts
		if name == "switchover.yml" {
			o.ExtraVars = maps.Clone(extra)
			if o.ExtraVars == nil {
				o.ExtraVars = map[string]any{}
			}
			o.ExtraVars["candidate"] = "a-replica"
		}
		tld := newLoader(rolePaths)
		tld.PlaybookFS = m1.Playbooks
		r := validate.Playbook(tld, path, data, o)
		findings = append(findings, r.Findings...)
		for _, n := range r.Used {
			used[n] = true
		}
	}

	// Hooks: task files the deploy includes by name.
	hooks := hookNames(res.Playbook)
	files, _ := filepath.Glob(filepath.Join(abs, "hooks", "*.yml"))
	yamls, _ := filepath.Glob(filepath.Join(abs, "hooks", "*.yaml"))
	files = append(files, yamls...)
	sort.Strings(files)
	for _, f := range files {
		base := filepath.Base(f)
		name := strings.TrimSuffix(base, filepath.Ext(base))
		if !hooks[name] || filepath.Ext(base) != ".yml" {
			findings = append(findings, unknownHook(f, name, hooks))
			continue
		}
		known := append(append([]string(nil), res.Defined...), "hook", "hook_file", "role_name", "role_path")
		hr := validate.Tasks(newLoader(rolePaths), f, validate.Options{Inventory: inv, ExtraVars: extra,
			Known: known, Handlers: res.Handlers, Dir: abs})
		findings = append(findings, hr.Findings...)
		for _, n := range hr.Used {
			used[n] = true
		}
	}

	// Roles in roles/ that the deploy does not use are checked on their own.
	usedRoles := map[string]bool{}
	for _, p := range res.Playbook.Plays {
		for _, r := range p.AllRoles {
			usedRoles[r.Path] = true
		}
	}
	roleDirs, _ := filepath.Glob(filepath.Join(abs, "roles", "*"))
	sort.Strings(roleDirs)
	for _, rd := range roleDirs {
		if st, err := os.Stat(rd); err != nil || !st.IsDir() || usedRoles[rd] {
			continue
		}
		findings = append(findings, validateRole(newLoader(rolePaths), rd, validate.Options{Inventory: inv,
			ExtraVars: extra, Known: res.Defined})...)
	}
	// config.yml's variables that nothing reads do nothing: say so.
	defaults := roleVarNames(abs)
	known := make([]string, 0, len(defaults)+len(used))
	for n := range defaults {
		known = append(known, n)
	}
	for n := range used {
		known = append(known, n)
	}
	for _, f := range validate.FromError(cfg.UnreadVars(func(n string) bool { return used[n] || defaults[n] }, known)) {
		f.Warning = true
		f.Hint = "remove it, or check its spelling; docs/role-variables.md lists what the built-in roles read"
		findings = append(findings, f)
	}
	return validate.Sorted(findings)
}

// hookNames finds the hooks a playbook runs: the vars hook: NAME of each
// use of the hook role.
func hookNames(pb *playbook.Playbook) map[string]bool {
	out := map[string]bool{}
	var walk func(ts []*playbook.Task)
	walk = func(ts []*playbook.Task) {
		for _, t := range ts {
			if h, ok := t.Vars["hook"].(string); ok {
				out[h] = true
			}
			walk(t.Block)
			walk(t.Rescue)
			walk(t.Always)
			if t.Include != nil {
				walk(t.Include.Loaded)
				if t.Include.LoadedRole != nil {
					walk(t.Include.LoadedRole.Tasks)
				}
			}
		}
	}
	for _, p := range pb.Plays {
		walk(p.PreTasks)
		walk(p.Tasks)
		walk(p.PostTasks)
	}
	return out
}

func unknownHook(file, name string, hooks map[string]bool) validate.Finding {
	var names []string
	for h := range hooks {
		names = append(names, h)
	}
	sort.Strings(names)
	best, bd := "", 4
	for _, h := range names {
		if d := module.Distance(name, h); d < bd {
			best, bd = h, d
		}
	}
	f := validate.Finding{File: file,
		Reason: fmt.Sprintf("hooks/%s is not a hook the deploy runs, so it never runs; the hooks are %s.yml",
			filepath.Base(file), strings.Join(names, ".yml, "))}
	if best != "" {
		f.Hint = fmt.Sprintf("did you mean hooks/%s.yml?", best)
	}
	return f
}

func reportFindings(out io.Writer, target string, findings []validate.Finding, asJSON, strict bool) error {
	problems := 0
	for _, f := range findings {
		if !f.Warning || strict {
			problems++
		}
	}
	if asJSON {
		if findings == nil {
			findings = []validate.Finding{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"target": target, "ok": problems == 0, "findings": findings}); err != nil {
			return err
		}
		if problems > 0 {
			return exitcode.With(exitcode.BadInput, nil)
		}
		return nil
	}
	for _, f := range findings {
		fmt.Fprintln(out, f.String())
		fmt.Fprintln(out)
	}
	warnings := ""
	if n := len(findings) - problems; n > 0 {
		warnings = fmt.Sprintf(", %d warning%s", n, plural(n))
	}
	if problems == 0 {
		fmt.Fprintf(out, "%s: ok, no problem found%s (no host was contacted)\n", target, warnings)
		return nil
	}
	return exitcode.Bad(fmt.Errorf("%s: %d problem%s found (no host was contacted)", target, problems, plural(problems)))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/exitcode"
)

func init() { commands = append(commands, newModulesCmd) }

// moduleSpecNone parses -e key=value pairs: no free form, any key.
var moduleSpecNone = module.Spec{Name: "extra-vars"}

func newModulesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "modules [NAME]",
		Short: "List the modules with their arguments and defaults",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			out := c.OutOrStdout()
			if len(args) == 1 {
				_, spec, ok := module.Lookup(args[0])
				if !ok {
					return exitcode.Bad(fmt.Errorf("no module named %q (`tpago modules` lists them)", args[0]))
				}
				printModule(out, spec)
				return nil
			}
			seen := map[string]bool{}
			for _, n := range module.Names() {
				_, spec, _ := module.Lookup(n)
				if seen[spec.Name] {
					continue
				}
				seen[spec.Name] = true
				alias := ""
				if len(spec.Aliases) > 0 {
					alias = " (also " + strings.Join(spec.Aliases, ", ") + ")"
				}
				fmt.Fprintf(out, "%-16s %s%s\n", spec.Name, firstLine(spec.Doc), alias)
			}
			return nil
		},
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func printModule(out io.Writer, spec module.Spec) {
	fmt.Fprintf(out, "%s — %s\n\n", spec.Name, strings.TrimSpace(spec.Doc))
	if spec.FreeForm != "" {
		fmt.Fprintf(out, "Takes free-form text as %s.\n\n", spec.FreeForm)
	}
	for _, a := range spec.Args {
		if strings.HasPrefix(a.Name, "_") {
			continue
		}
		var meta []string
		meta = append(meta, a.Type.String())
		if a.Required {
			meta = append(meta, "required")
		}
		if a.Default != nil {
			meta = append(meta, fmt.Sprintf("default: %v", a.Default))
		}
		if len(a.Choices) > 0 {
			meta = append(meta, "one of: "+strings.Join(a.Choices, ", "))
		}
		if len(a.Aliases) > 0 {
			meta = append(meta, "aliases: "+strings.Join(a.Aliases, ", "))
		}
		fmt.Fprintf(out, "  %-20s %s\n  %-20s (%s)\n", a.Name, a.Doc, "", strings.Join(meta, "; "))
	}
	for _, g := range spec.OneOf {
		fmt.Fprintf(out, "\n  one of these is required: %s", strings.Join(g, ", "))
	}
	for _, g := range spec.Exclusive {
		fmt.Fprintf(out, "\n  at most one of: %s", strings.Join(g, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Refused)) {
		fmt.Fprintf(out, "\n  not supported: %s (%s)", k, spec.Refused[k])
	}
	fmt.Fprintln(out)
}

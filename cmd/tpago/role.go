package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tpago/tpago/exitcode"
)

func init() { commands = append(commands, newRoleCmd) }

func newRoleCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "role",
		Short: "Work with roles (role init makes a new one)",
	}
	c.AddCommand(&cobra.Command{
		Use:   "init ROLE_DIR",
		Short: "Make a role skeleton that runs as it is: a task, a handler, a template, defaults",
		Long: `role init makes a new role folder with tasks/, handlers/, defaults/,
templates/, meta/ and a README. The skeleton runs as generated: it makes a
folder, writes a configuration file from a template and notifies a handler,
so that an author starts from a role that works and changes it step by step.
An existing folder is never overwritten.

  tpago role init roles/pgaudit
  tpago validate roles/pgaudit`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			files, err := initRole(args[0])
			if err != nil {
				return exitcode.Bad(err)
			}
			out := c.OutOrStdout()
			for _, f := range files {
				fmt.Fprintf(out, "created %s\n", f)
			}
			name := filepath.Base(filepath.Clean(args[0]))
			fmt.Fprintf(out, "\nNext: tpago validate %s\n", args[0])
			fmt.Fprintf(out, "Use it from a playbook beside the roles/ folder:\n\n  - hosts: all\n    roles:\n      - %s\n", name)
			return nil
		},
	})
	return c
}

var roleNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]*$`)

// initRole writes a role skeleton into dir, which must not exist; it
// returns the files made.
func initRole(dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	name := filepath.Base(dir)
	if !roleNameRE.MatchString(name) {
		return nil, fmt.Errorf("role name %q: use letters, digits, - and _ (starting with a letter)", name)
	}
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("%s already exists: role init never overwrites; choose another folder or remove it", dir)
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	// Make the folder first, so that two runs cannot both write into it.
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	v := strings.ReplaceAll(name, "-", "_")
	r := strings.NewReplacer("NAME", name, "VAR", v)
	var made []string
	for _, f := range roleSkeleton {
		p := filepath.Join(dir, r.Replace(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return made, err
		}
		if err := os.WriteFile(p, []byte(r.Replace(f.text)), 0o644); err != nil {
			return made, err
		}
		made = append(made, p)
	}
	return made, nil
}

// roleSkeleton is the new role: NAME is the role's name, VAR its name as a
// variable prefix.
var roleSkeleton = []struct{ path, text string }{
	{"README.md", `# NAME

What this role does, in one or two sentences.

## Variables

| variable | default | meaning |
|---|---|---|
| VAR_dir | /etc/NAME | where the configuration file is written |
| VAR_settings | enabled: true, level: info | the settings written into NAME.conf |

Override them in the inventory, in the play's vars, or with -e.

## Use

    - hosts: all
      become: true
      roles:
        - NAME

Check it without contacting a host: tpago validate roles/NAME
`},
	{"defaults/main.yml", `---
# Defaults of the NAME role: the lowest precedence of all variables, so
# the inventory, play vars and -e override them. Prefix every variable
# with the role's name so that roles do not step on each other.
VAR_dir: /etc/NAME
VAR_settings:
  enabled: true
  level: info
`},
	{"tasks/main.yml", `---
# The NAME role's tasks, run in order on every host of the play.
- name: Make the NAME configuration folder
  file:
    path: "{{ VAR_dir }}"
    state: directory
    mode: "0755"

- name: Write the NAME configuration
  template:
    src: NAME.conf.j2
    dest: "{{ VAR_dir }}/NAME.conf"
    mode: "0644"
  notify: NAME configuration changed
`},
	{"handlers/main.yml", `---
# Handlers run once, at the end of the play, when a task that notified
# them changed something. Replace the message with what reloads the
# service, e.g.:  service: {name: NAME, state: reloaded}
- name: NAME configuration changed
  debug:
    msg: "{{ VAR_dir }}/NAME.conf changed on {{ inventory_hostname }}"
`},
	{"templates/NAME.conf.j2", `# Written by tpago from the NAME role: changes made here are overwritten.
{% for key, value in VAR_settings.items() %}
{{ key }} = {{ value }}
{% endfor %}
`},
	{"meta/main.yml", `---
# Roles this role needs; they run before it, once per play.
dependencies: []
`},
}

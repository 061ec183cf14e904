package validate

import "regexp"

// AnsibleFilters says, for Jinja2 filters and Ansible functions that tpago
// does not have, what to write instead.
var AnsibleFilters = map[string]string{
	"to_uuid":         "there is no to_uuid: use hash(s, 'sha256') for a stable identifier",
	"ipaddr":          "there are no IP address filters: use split(), regex_search() or regex_replace()",
	"ipv4":            "there are no IP address filters: use split(), regex_search() or regex_replace()",
	"ipv6":            "there are no IP address filters: use split(), regex_search() or regex_replace()",
	"random":          "runs are repeatable: there is no random; derive a value with hash(inventory_hostname) if needed",
	"shuffle":         "runs are repeatable: there is no shuffle",
	"password_hash":   "there is no password_hash; for Postgres use password_scram(password, salt_seed)",
	"urlsplit":        "use regex_search(url, '^[a-z]+://([^/:]+)', '\\\\1')",
	"to_datetime":     "dates are not supported in expressions: compute them with a command and register",
	"strftime":        "dates are not supported in expressions: compute them with a command (date +%F) and register",
	"product":         "build the combinations with map(): flatten(map(a, map(b, [#, ...]))) or list them",
	"subelements":     "flatten the list with an expression (flatten(), map()) and loop: over it",
	"type_debug":      "use type(v)",
	"expanduser":      "write the path in full (~ is not expanded on the control machine)",
	"realpath":        "write the path in full",
	"splitext":        "use regex_replace(path, '\\\\.[^.]*$', '') for the stem",
	"checksum":        "use sha1(s)",
	"title":           "use capitalize(s) (first letter only) or upper(s)",
	"wordcount":       "use len(split(s))",
	"truncate":        "use s[:N]",
	"urlencode":       "there is no urlencode: replace() the few characters that need it",
	"batch":           "there is no batch: slice the list, l[0:N]",
	"groupby":         "use groupBy(list, .attr) (a map from each key to its elements)",
	"attr":            "use x.name or x['name']",
	"log":             "there is no log function",
	"pow":             "use x ** y",
	"root":            "use x ** (1.0 / n)",
	"human_readable":  "there is no human_readable: format the number with format('%.1f', n / 1024)",
	"human_to_bytes":  "write the number of bytes",
	"version_compare": "use version(a, b, '>=') or a is version(b, '>=')",
	"regex":           "use x is search(pattern) or x is match(pattern)",
	"to_nice_xml":     "there is no XML support",
	"vault":           "vault is not supported: keep secrets in files of mode 0600 and read them with slurp or lookup('file', PATH)",
	"unvault":         "vault is not supported: keep secrets in files of mode 0600 and read them with slurp or lookup('file', PATH)",
}

// AnsibleModules says, for Ansible modules that tpago does not have, what
// to use instead.
var AnsibleModules = map[string]string{
	"gather_facts":        "facts are gathered with gather_facts: true on the play",
	"git":                 "use command: git clone … with creates: the checkout's folder",
	"script":              "copy: the script to the host, then command: it",
	"raw":                 "use command: or shell:",
	"add_host":            "put every host in the inventory (or config.yml)",
	"group_by":            "put the groups in the inventory (or config.yml)",
	"reboot":              "reboot is not supported: run shutdown -r with command: and wait_for: the SSH port",
	"wait_for_connection": "use ping: with retries: and until:",
	"synchronize":         "use copy: (files) or fetch: (from the host)",
	"import_playbook":     "import_playbook belongs at the top level of a playbook, not in a task list",
	"include_playbook":    "use import_playbook: at the top level of a playbook",
	"known_hosts":         "tpago keeps the cluster's known_hosts itself; for other hosts use lineinfile:",
	"firewalld":           "tpago deploys to Debian: use command: with nft or ufw and creates:/changed_when:",
	"ufw":                 "use command: ufw … with changed_when: on its output",
	"docker_container":    "use command: docker … with changed_when:",
}

// AnsibleTags says, for Jinja2 template tags that tpago does not have,
// what to write instead.
var AnsibleTags = map[string]string{
	"macro":    "write the text out, or build it in a variable with {% set %}",
	"include":  "render the other template with its own template: task, or paste it in",
	"import":   "macros are not supported: write the text out",
	"with":     "use {% set %}",
	"filter":   "apply the function to an expression: {{ upper(x) }}",
	"block":    "template inheritance is not supported: write one template",
	"extends":  "template inheritance is not supported: write one template",
	"break":    "filter the list instead: {% for x in l if cond %}",
	"continue": "filter the list instead: {% for x in l if cond %}",
	"do":       "compute the value with {% set x = … %} instead of changing a list",
}

var (
	unknownFunc   = regexp.MustCompile(`unknown (?:function|filter|test) "([A-Za-z_][A-Za-z0-9_.]*)"`)
	unknownModule = regexp.MustCompile(`^unknown module or keyword "(?:ansible\.builtin\.|community\.[a-z_]+\.|ansible\.posix\.)?([A-Za-z0-9_.]+)"`)
	unknownTag    = regexp.MustCompile(`unknown tag "([a-z_]+)"`)
	noModule      = regexp.MustCompile(`^this task runs no module \(keys: .*\b(local_action|action)\b`)
	strOp         = regexp.MustCompile(`invalid operation: ([%*]) \(mismatched types string`)
)

// explainAnsible adds to a finding what an Ansible author should write
// instead of a construct tpago does not have.
func explainAnsible(f Finding) Finding {
	if m := unknownModule.FindStringSubmatch(f.Reason); m != nil {
		if h, ok := AnsibleModules[m[1]]; ok {
			f.Hint = h
		}
		return f
	}
	if m := unknownFunc.FindStringSubmatch(f.Reason); m != nil {
		if h, ok := AnsibleFilters[m[1]]; ok {
			f.Hint = h
		} else if f.Hint == "" {
			f.Hint = "docs/functions.md lists the functions; docs/migrating-from-ansible.md the Jinja2 equivalents"
		}
		return f
	}
	if m := noModule.FindStringSubmatch(f.Reason); m != nil {
		if m[1] == "local_action" {
			f.Hint = "local_action is not supported: write the module as the task's key and add delegate_to: localhost"
		} else {
			f.Hint = "action: is not supported: write the module name as the task's key (copy: …)"
		}
		return f
	}
	if m := strOp.FindStringSubmatch(f.Reason); m != nil {
		if m[1] == "%" {
			f.Hint = "Python's 'fmt' % args is written format('fmt', args...)"
		} else {
			f.Hint = "Python's 's' * n is written repeat('s', n)"
		}
		return f
	}
	if m := unknownTag.FindStringSubmatch(f.Reason); m != nil {
		if h, ok := AnsibleTags[m[1]]; ok {
			f.Hint = h
		}
	}
	return f
}

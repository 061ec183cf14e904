package validate

import (
	"regexp"
	"strings"
)

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
	"combinations":    "list the combinations, or build them with map() and flatten()",
	"commonpath":      "compare the paths with split(p, '/') and take the common start",
	"e":               "templates are not HTML: nothing is escaped; use replace() where needed",
	"escape":          "templates are not HTML: nothing is escaped; use replace() where needed",
	"expandvars":      "write the value in full, or read it from ansible_env",
	"fileglob":        "use find: on the control machine (delegate_to: localhost) and register it",
	"filesizeformat":  "format the number with format('%.1f MB', n / 1048576)",
	"forceescape":     "templates are not HTML: nothing is escaped; use replace() where needed",
	"from_yaml_all":   "keep one YAML document per file and use from_yaml",
	"normpath":        "write the path in full",
	"permutations":    "list the permutations",
	"pprint":          "use to_nice_json or to_nice_yaml",
	"rekey_on_member": "build the map with an expression: groupBy(list, .key) or a dict from map()",
	"safe":            "templates are not HTML: nothing is escaped, so the value is used as it is",
	"slice":           "slice the list, l[i:j]",
	"striptags":       "there is no HTML support: use regex_replace(s, '<[^>]*>', '')",
	"tojson":          "use to_json",
	"urldecode":       "there is no urldecode: replace() the escapes that occur",
	"urlize":          "there is no HTML support",
	"win_basename":    "for Windows paths: tpago manages Debian hosts; use basename",
	"win_dirname":     "for Windows paths: tpago manages Debian hosts; use dirname",
	"win_splitdrive":  "for Windows paths: tpago manages Debian hosts",
	"wordwrap":        "there is no wordwrap: write the lines as they should be",
	"xmlattr":         "there is no XML support: build the text with format()",
	"zip_longest":     "pad the shorter list first, then zip",
}

// AnsibleModules says, for Ansible modules that tpago does not have, what
// to use instead.
var AnsibleModules = map[string]string{
	"gather_facts":                  "facts are gathered with gather_facts: true on the play",
	"git":                           "use command: git clone … with creates: the checkout's folder",
	"script":                        "copy: the script to the host, then command: it",
	"raw":                           "use command: or shell:",
	"add_host":                      "put every host in the inventory (or config.yml)",
	"group_by":                      "put the groups in the inventory (or config.yml)",
	"reboot":                        "reboot is not supported: run shutdown -r with command: and wait_for: the SSH port",
	"wait_for_connection":           "use ping: with retries: and until:",
	"synchronize":                   "use copy: (files) or fetch: (from the host)",
	"import_playbook":               "import_playbook belongs at the top level of a playbook, not in a task list",
	"include_playbook":              "use import_playbook: at the top level of a playbook",
	"known_hosts":                   "tpago keeps the cluster's known_hosts itself; for other hosts use lineinfile:",
	"firewalld":                     "tpago deploys to Debian: use command: with nft or ufw and creates:/changed_when:",
	"ufw":                           "use command: ufw … with changed_when: on its output",
	"docker_container":              "use command: docker … with changed_when:",
	"acl":                           "use command: setfacl … with changed_when: on getfacl's output",
	"alternatives":                  "use command: update-alternatives --set NAME PATH with changed_when:",
	"archive":                       "use command: tar -czf DEST … with creates: DEST",
	"assemble":                      "concatenate the fragments with shell: cat DIR/* > DEST and creates:/changed_when:, or template: one file",
	"at":                            "use command: at with the job on stdin, or a cron: entry",
	"capabilities":                  "use command: setcap with changed_when: on getcap's output",
	"cronvar":                       "use cron: with env: true, or lineinfile: in the crontab file",
	"deb822_repository":             "use apt_repository: (one-line sources) or copy: the .sources file into /etc/apt/sources.list.d/",
	"debconf":                       "use command: debconf-set-selections with the answer on stdin and changed_when:",
	"dpkg_selections":               "use command: apt-mark hold NAME (or unhold) with changed_when: on its output",
	"expect":                        "interactive answers are not supported: give the program its input on the command line or stdin (command: with stdin:)",
	"filesystem":                    "use command: mkfs.TYPE DEV with creates:, after checking blkid",
	"firewalld_info":                "tpago deploys to Debian: use command: nft list ruleset and register it",
	"gem":                           "use command: gem install … with creates:/changed_when:",
	"git_config":                    "use command: git config … with changed_when:, or lineinfile: in the config file",
	"htpasswd":                      "use command: htpasswd -b … with changed_when:, the password from a file (never on the command line)",
	"ini_file":                      "use lineinfile: with a regexp anchored in the section, or template: the whole file",
	"iptables":                      "use command: with iptables or nft and changed_when:, or copy: a rules file and restore it",
	"lvg":                           "use command: vgcreate with creates: or changed_when: on vgs",
	"lvol":                          "use command: lvcreate with changed_when: on lvs",
	"make":                          "use command: make TARGET chdir=DIR with creates:/changed_when:",
	"modprobe":                      "use command: modprobe NAME, and copy: a file into /etc/modules-load.d/ to keep it loaded",
	"mount_facts":                   "use the ansible_mounts fact (gather_facts: true)",
	"nmcli":                         "use command: nmcli … with changed_when:, or copy: the connection file",
	"npm":                           "use command: npm install … with creates: node_modules/NAME",
	"parted":                        "use command: parted -s … with changed_when:",
	"patch":                         "use command: patch -p1 -N … with changed_when:, or copy: the patched file",
	"postgresql_copy":               "use postgresql_query: with COPY … FROM/TO a file the server reads",
	"postgresql_idx":                "use postgresql_query: with CREATE INDEX IF NOT EXISTS",
	"postgresql_info":               "use postgresql_query: with the catalog query wanted, and register it",
	"postgresql_lang":               "use postgresql_ext: (languages are extensions since PostgreSQL 9.1)",
	"postgresql_membership":         "use postgresql_query: with GRANT role TO user (or REVOKE)",
	"postgresql_owner":              "use postgresql_query: with ALTER … OWNER TO",
	"postgresql_pg_hba":             "use template: or lineinfile: on pg_hba.conf and a reload handler",
	"postgresql_ping":               "use postgresql_query: with SELECT 1 (or command: pg_isready) and retries:/until:",
	"postgresql_publication":        "use postgresql_query: with CREATE PUBLICATION",
	"postgresql_script":             "use postgresql_query: with the script's SQL (or command: psql -f FILE)",
	"postgresql_sequence":           "use postgresql_query: with CREATE SEQUENCE IF NOT EXISTS",
	"postgresql_subscription":       "use postgresql_query: with CREATE SUBSCRIPTION",
	"postgresql_table":              "use postgresql_query: with CREATE TABLE IF NOT EXISTS",
	"postgresql_tablespace":         "use file: for the folder and postgresql_query: with CREATE TABLESPACE",
	"postgresql_user_obj_stat_info": "use postgresql_query: on pg_stat_user_functions and pg_stat_user_tables",
	"rhel_facts":                    "for Red Hat family hosts; Debian hosts need no such facts",
	"rhel_rpm_ostree":               "for Red Hat family hosts: use apt: on Debian",
	"rpm_ostree_upgrade":            "for Red Hat family hosts: use apt: with upgrade on Debian",
	"seport":                        "Debian hosts have no SELinux: leave it out",
	"service_facts":                 "use command: systemctl show NAME -p ActiveState and register it",
	"set_stats":                     "there are no custom stats: use debug: to print the values",
	"snap":                          "use command: snap install NAME with creates: /snap/NAME",
	"subversion":                    "use command: svn checkout … with creates: the checkout's folder",
	"sysvinit":                      "use service: (it drives systemd and SysV scripts alike)",
	"tempfile":                      "use command: mktemp (or mktemp -d) and register its stdout",
	"timezone":                      "use file: to link /etc/localtime to /usr/share/zoneinfo/ZONE and copy: /etc/timezone",
	"validate_argument_spec":        "check the arguments with assert:",
	"xml":                           "there is no XML support: template: the whole file",
	"yarn":                          "use command: yarn install with creates: node_modules",
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
	unknownFunc   = regexp.MustCompile(`unknown (function|filter|test) "([A-Za-z_][A-Za-z0-9_.]*)"`)
	unknownLookup = regexp.MustCompile(`unknown lookup "([A-Za-z_][A-Za-z0-9_.]*)"`)
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
	if m := unknownLookup.FindStringSubmatch(f.Reason); m != nil {
		if h, ok := AnsibleLookups[strings.TrimPrefix(m[1], "ansible.builtin.")]; ok {
			f.Hint = h
		}
		return f
	}
	if m := unknownFunc.FindStringSubmatch(f.Reason); m != nil {
		if h, ok := AnsibleTests[m[2]]; ok && m[1] == "test" {
			f.Hint = h
		} else if h, ok := AnsibleFilters[m[2]]; ok {
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

// AnsibleTests says, for Jinja2 and Ansible tests that tpago does not
// have, what to write instead; for a test it has, how it differs.
var AnsibleTests = map[string]string{
	"abs":             "use startswith(p, '/')",
	"all":             "use all(list, #) (the function)",
	"any":             "use any(list, #) (the function)",
	"callable":        "there are no callables in expressions",
	"change":          "use is changed",
	"directory":       "tests run on the control machine: stat: the path on the host and test st.stat.isdir",
	"escaped":         "templates are not HTML: nothing is escaped",
	"exists":          "tests run on the control machine: stat: the path on the host and test st.stat.exists",
	"failure":         "use is failed",
	"file":            "tests run on the control machine: stat: the path on the host and test st.stat.isreg",
	"filter":          "the filters are fixed: see functions.md",
	"is_abs":          "use startswith(p, '/')",
	"is_dir":          "tests run on the control machine: stat: the path on the host and test st.stat.isdir",
	"is_file":         "tests run on the control machine: stat: the path on the host and test st.stat.isreg",
	"is_link":         "tests run on the control machine: stat: the path on the host and test st.stat.islnk",
	"is_mount":        "use the ansible_mounts fact: selectattr('mount', 'equalto', PATH)",
	"is_same_file":    "stat: both paths and compare st.stat.inode and st.stat.dev",
	"isnan":           "there is no NaN in expressions",
	"issubset":        "use is subset",
	"issuperset":      "use is superset",
	"link":            "tests run on the control machine: stat: the path on the host and test st.stat.islnk",
	"link_exists":     "tests run on the control machine: stat: the path on the host and test st.stat.islnk",
	"lower":           "use s == lower(s)",
	"mount":           "use the ansible_mounts fact: selectattr('mount', 'equalto', PATH)",
	"nan":             "there is no NaN in expressions",
	"reachable":       "an unreachable host leaves the play: a registered result of a host that runs is reachable",
	"regex":           "use x is search(pattern) or x is match(pattern)",
	"same_file":       "stat: both paths and compare st.stat.inode and st.stat.dev",
	"skip":            "use is skipped",
	"successful":      "use is success (or is succeeded)",
	"test":            "the tests are fixed: see this table",
	"unreachable":     "an unreachable host leaves the play: a registered result of a host that runs is reachable",
	"upper":           "use s == upper(s)",
	"uri":             "use x is match('^[a-z][a-z0-9+.-]*:')",
	"url":             "use x is match('^[a-z]+://')",
	"urn":             "use x is match('^urn:')",
	"vault_encrypted": "vault is not supported",
	"version_compare": "use version(a, b, '>=') or a is version(b, '>=')",
}

// AnsibleLookups says, for Ansible lookups that tpago does not have, what
// to write instead.
var AnsibleLookups = map[string]string{
	"config":              "Ansible's configuration does not apply: write the value",
	"csvfile":             "read the file with lookup('file', PATH) and split() it",
	"fileglob":            "use find: on the control machine (delegate_to: localhost) and register it",
	"indexed_items":       "use loop: with loop_control: index_var:",
	"ini":                 "read the file with lookup('file', PATH) and regex_search() it",
	"inventory_hostnames": "use groups['NAME'] (or groups['all'])",
	"items":               "use the list itself (loop: LIST)",
	"lines":               "use lookup('pipe', CMD) and split(s, '\\n'), or splitlines()",
	"list":                "use the list itself",
	"nested":              "use with_nested:, or build the product with map() and flatten()",
	"random_choice":       "runs are repeatable: there is no random choice",
	"sequence":            "use range(start, end)",
	"subelements":         "use with_subelements:",
	"together":            "use zip(a, b), or with_together:",
	"unvault":             "vault is not supported: keep secrets in files of mode 0600 and read them with lookup('file', PATH)",
	"url":                 "fetch it on the host with uri: (return_content: true) or get_url:, and register it",
	"vars":                "use the variable itself, or hostvars[inventory_hostname][NAME] for a computed name",
}

// AnsibleVariables says, for Ansible's magic variables and facts that
// tpago does not set, what to use instead.
var AnsibleVariables = map[string]string{
	"ansible_all_ipv6_addresses":   "not gathered: use command: hostname -I and register it",
	"ansible_apparmor":             "not gathered: use command: aa-status --enabled and register it",
	"ansible_bios_version":         "not gathered: read /sys/class/dmi/id/bios_version with slurp:",
	"ansible_cmdline":              "not gathered: read /proc/cmdline with slurp:",
	"ansible_collection_name":      "tpago has no collections",
	"ansible_config_file":          "there is no ansible.cfg",
	"ansible_default_ipv6":         "not gathered: use command: ip -6 route get and register it",
	"ansible_dependent_role_names": "use role_name in the role itself",
	"ansible_devices":              "not gathered: use command: lsblk -J and from_json",
	"ansible_dns":                  "not gathered: read /etc/resolv.conf with slurp:",
	"ansible_domain":               "not gathered: use ansible_fqdn, or command: hostname -d",
	"ansible_forks":                "not set: --forks is the command line's",
	"ansible_index_var":            "not set: the name is the one written in loop_control: index_var:",
	"ansible_inventory_sources":    "use inventory_dir",
	"ansible_kernel_version":       "not gathered: use command: uname -v and register it",
	"ansible_limit":                "not set: pass the value with -e as well",
	"ansible_local":                "local facts (facts.d) are not read: read the file with slurp: and register it",
	"ansible_parent_role_names":    "not set: pass the name as a role parameter",
	"ansible_parent_role_paths":    "not set: pass the path as a role parameter",
	"ansible_play_name":            "not set: write the name in a variable of the play",
	"ansible_play_role_names":      "not set: list the roles in a variable of the play",
	"ansible_playbook_python":      "there is no Python on the control machine",
	"ansible_processor":            "not gathered: use ansible_processor_vcpus and the other processor_ counts",
	"ansible_product_name":         "not gathered: read /sys/class/dmi/id/product_name with slurp:",
	"ansible_role_name":            "use role_name",
	"ansible_role_names":           "not set: list the roles in a variable of the play",
	"ansible_search_path":          "not set: lookups and file modules search the role's and the playbook's folders",
	"ansible_selinux":              "Debian hosts have no SELinux",
	"ansible_user_dir":             "not gathered: use ansible_env.HOME",
	"ansible_user_gid":             "not gathered: use command: id -g and register it",
	"ansible_user_shell":           "not gathered: use ansible_env.SHELL, or getent: passwd",
	"ansible_user_uid":             "not gathered: use command: id -u and register it",
	"ansible_version":              "not set: tpago is not Ansible; test the features instead",
	"inventory_file":               "use inventory_dir",
	"role_names":                   "not set: list the roles in a variable of the play",
}

package executor

// MagicVariables are the variables of Ansible's that tpago sets itself on
// every host (and, for some, only where they mean something: role_name in
// a role, item and ansible_loop in a loop, ansible_failed_task in a
// rescue). magic_test.go checks that each is defined where it should be.
var MagicVariables = []string{
	"inventory_hostname", "inventory_hostname_short", "group_names", "groups", "hostvars",
	"ansible_play_hosts", "play_hosts", "ansible_play_batch", "ansible_play_hosts_all",
	"ansible_check_mode", "ansible_diff_mode", "ansible_verbosity", "ansible_run_tags", "ansible_skip_tags",
	"playbook_dir", "inventory_dir", "omit", "ansible_facts",
	"role_name", "role_path",
	"item", "ansible_loop", "ansible_loop_var",
	"ansible_failed_task", "ansible_failed_result",
}

package playbook

import "slices"

// UnsupportedKeywords are Ansible's play and task keywords that tpago
// refuses when the playbook is loaded, each with what to write instead. A
// key "play:NAME" is refused on plays only.
var UnsupportedKeywords = map[string]string{
	"play:timeout":             "write timeout: on the tasks, or give tpago play --task-timeout",
	"with_lines":               "run the command in a task, register it, and loop: over its stdout_lines",
	"with_file":                "loop: over the paths and read each with lookup('file', item)",
	"with_random_choice":       "runs are repeatable: there is no random choice",
	"with_inventory_hostnames": "loop: over groups['NAME'] (or groups['all'])",
	"with_flattened":           "loop: over flatten(LIST)",
	"with_fileglob":            "not supported; list the files, or use find-like command with register",
	"local_action":             "use delegate_to: localhost with the module as usual",
	"vars_prompt":              "pass the values with -e name=value",
	"become_exe":               "tpago escalates with the sudo found in the host's PATH",
	"become_flags":             "tpago runs sudo with its own flags; configure sudo on the host (sudoers) instead",
	"port":                     "set ansible_port in the inventory",
	"fact_path":                "local facts (facts.d) are not read: read the file with slurp: or command: and register it",
	"gather_timeout":           "facts are gathered in one command, bounded by the connection's timeout",
}

// KeywordNotes says, for the keywords the loader accepts that do not act
// as in Ansible, how they differ: a keyword listed here is accepted but
// only partly supported (often it has no effect). A key "play:NAME" or
// "block:NAME" is about that keyword on plays or blocks only.
var KeywordNotes = map[string]string{
	"play:run_once":        "accepted on a play, no effect: write it on the tasks",
	"block:delegate_to":    "accepted on a block, not passed to its tasks: write it on each task",
	"block:delegate_facts": "accepted on a block, not passed to its tasks: write it on each task",
	"block:run_once":       "accepted on a block, not passed to its tasks: write it on each task",
	"block:notify":         "accepted on a block, not passed to its tasks: write it on each task",
	"block:timeout":        "accepted on a block, not passed to its tasks: write it on each task, or give tpago play --task-timeout",
	"remote_user":          "accepted, no effect: set ansible_user in the inventory",
	"connection":           "accepted, no effect: set ansible_connection (ssh or local) in the inventory",
	"collections":          "accepted, no effect: write module names bare or with their collection prefix",
	"module_defaults":      "accepted, no effect: give the arguments on each task",
	"throttle":             "accepted, no effect: --forks bounds how many hosts run at once",
	"debugger":             "accepted, no effect: there is no task debugger",
	"order":                "accepted, no effect: hosts run in inventory order",
	"max_fail_percentage":  "accepted, no effect: a failed host leaves the play, the others go on (any_errors_fatal stops all)",
	"force_handlers":       "accepted, no effect: handlers notified before a failure do not run on the failed host",
	"gather_subset":        "accepted, no effect: the same fixed set of facts is always gathered",
	"become_method":        "sudo only; any other method is refused",
	"loop_control":         "loop_var, label, index_var; extended is always on (ansible_loop is set); pause is accepted and ignored",
	"strategy":             "linear and free; other strategies (mitogen_*, debug, host_pinned) are refused",
	"async":                "any module in the foreground within async: seconds; in the background (poll: 0) command and shell only",
	"poll":                 "poll: 0 (background) for command and shell only",
}

// PlayKeywords are the keys a play may have.
func PlayKeywords() []string { return slices.Clone(playKeys) }

// TaskKeywords are the keys a task (or a block) may have besides its
// module, with_* loops excepted (WithLoops); action: names the module.
func TaskKeywords() []string { return append(slices.Clone(taskKeywords), "action") }

// Unsupported returns what to write instead of keyword key on a play
// (level "play") or a task or block (level "task"), when tpago refuses it.
func Unsupported(level, key string) (string, bool) {
	if h, ok := UnsupportedKeywords[level+":"+key]; ok {
		return h, true
	}
	h, ok := UnsupportedKeywords[key]
	return h, ok
}

// LoaderModules are the Ansible modules the loader itself handles rather
// than the module registry: includes, imports and meta.
var LoaderModules = []string{"include_tasks", "import_tasks", "include_role", "import_role", "include", "meta", "import_playbook"}

// MetaActions are the actions meta: takes.
var MetaActions = []string{"flush_handlers", "noop", "end_play", "end_host", "clear_host_errors", "refresh_inventory", "clear_facts", "end_batch"}

// Package playbook is the playbook language: plays, tasks, blocks, roles
// and includes, loaded from YAML with their positions and checked before
// any host is contacted.
package playbook

import (
	"io/fs"

	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/yamlx"
)

// Playbook is a loaded playbook file.
type Playbook struct {
	Path  string
	Dir   string
	Plays []*Play
}

// Play is one play of a playbook.
type Play struct {
	Pos         yamlx.Pos
	Name        string
	Hosts       string
	Vars        map[string]any
	VarsFiles   []map[string]any
	Roles       []*Role
	PreTasks    []*Task
	Tasks       []*Task // the roles' tasks come first, as blocks
	PostTasks   []*Task
	Handlers    []*Task // the play's handlers and its roles'
	GatherFacts bool
	Serial      []any // batch sizes: ints or "N%" strings
	Strategy    string
	// Keywords are the play's settings of what its tasks inherit.
	Keywords
	// AllRoles lists every role the play uses (dependencies and includes
	// too), each once: their defaults and vars are visible to the play.
	AllRoles []*Role
}

// Role is a loaded role instance.
type Role struct {
	Name     string
	Path     string // folder, for role_path and messages
	FS       fs.FS  // the role's files, rooted at its folder
	OnDisk   bool   // Path is a real folder (not embedded)
	Defaults map[string]any
	Vars     map[string]any
	// Params are the variables given where the role is used.
	Params   map[string]any
	Tasks    []*Task
	Handlers []*Task
	Deps     []*Role
	// AllowDuplicates (meta/main.yml's allow_duplicates) lets a play's
	// roles: run the role again with the same parameters.
	AllowDuplicates bool
}

// Task is a task, a block, or an include. Exactly one of Module, Block or
// Include is set.
type Task struct {
	Pos  yamlx.Pos
	Name string

	// A module call.
	Module string
	Spec   module.Spec
	Args   map[string]any
	// ArgPos maps argument keys to where they were written.
	ArgPos map[string]yamlx.Pos

	// A block (also how import_tasks and import_role appear: Static set).
	Block  []*Task
	Rescue []*Task
	Always []*Task
	Static bool

	// A dynamic include (include_tasks, include_role).
	Include *Include

	When    []Cond
	Loop    any
	HasLoop bool
	// LoopWith is the kind of a with_* loop ("items", "dict"…; see
	// WithLoops); "" for loop:.
	LoopWith      string
	LoopVar       string
	LoopLabel     string
	IndexVar      string
	Register      string
	Notify        []string
	Listen        []string
	ChangedWhen   []Cond
	FailedWhen    []Cond
	HasChanged    bool
	HasFailed     bool
	DelegateTo    string
	DelegateFacts bool
	RunOnce       bool
	// Retries and Delay are whole numbers, or templates decided per host.
	Retries    any
	HasRetries bool
	Until      []Cond
	Delay      any
	// Timeout bounds one run of the task's module, in seconds (0: none).
	Timeout int
	// Async bounds the task's run, in seconds (0: not async). With Poll 0
	// (HasPoll set) the task starts in the background and registers a job
	// for async_status; otherwise it runs in the foreground within Async.
	Async   int
	Poll    int
	HasPoll bool
	Vars    map[string]any
	// Keywords are what the task sets itself of what blocks, roles and
	// the play also set; a block's are inherited by its tasks.
	Keywords

	// Role is the role the task belongs to (nil for play tasks).
	Role *Role
	// Handler is true for handlers.
	Handler bool
	// Dir is the folder of the file the task was read from (for relative
	// include paths).
	Dir string
	// FS reads files relative to Dir's root (the role's FS for role tasks).
	FS fs.FS
}

// Keywords are the keywords plays, blocks, role entries and tasks share,
// decoded by one function. Nil is "not set here": the innermost setting
// wins (Tags and Environment add up instead). A flag is a bool, or a
// template decided for each host at run time.
type Keywords struct {
	Become         any // flag
	BecomeUser     string
	NoLog          any // flag
	IgnoreErrors   any // flag
	CheckMode      *bool
	Diff           *bool
	IgnoreUnreach  *bool
	AnyErrorsFatal *bool
	Tags           []string
	// Environment is a mapping, or a template that gives one.
	Environment any
}

// Cond is one condition expression with its position.
type Cond struct {
	Expr string
	Pos  yamlx.Pos
}

// Include is a dynamic include.
type Include struct {
	Kind string // "tasks" or "role"
	// File is the task file to include (may hold a template).
	File string
	// Role include: role name and its entry points.
	RoleName     string
	TasksFrom    string
	VarsFrom     string
	DefaultsFrom string
	HandlersFrom string
	Public       bool
	// Params are the include's variables (include parameters).
	Params map[string]any
	// Loaded is the content, loaded statically when the file name holds no
	// template; nil otherwise (loaded at run time).
	Loaded []*Task
	// LoadedRole is the role, loaded statically.
	LoadedRole *Role
	// Apply holds keywords to apply to the included tasks.
	Apply map[string]any
}

// Label is the task's display name: its name, or its module and arguments.
func (t *Task) Label() string {
	if t.Name != "" {
		return t.Name
	}
	switch {
	case t.Module != "":
		return t.Module
	case t.Include != nil && t.Include.Kind == "role":
		return "include_role : " + t.Include.RoleName
	case t.Include != nil:
		return "include_tasks"
	}
	return "block"
}

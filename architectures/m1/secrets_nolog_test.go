package m1

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/roles"
)

// secretRef is how the M1 playbooks and roles name a password.
var secretRef = regexp.MustCompile(`(?i)secret|pgpass|password`)

// A task that passes a password in its environment is no_log: at -vvv the
// trace of any other task shows its environment.
func TestSecretsInEnvironmentAreNoLog(t *testing.T) {
	n := 0
	for name, fsys := range map[string]fs.FS{"architectures/m1": Playbooks, "roles": roles.FS} {
		require.NoError(t, fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yml") {
				return err
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			var doc any
			if yaml.Unmarshal(data, &doc) != nil {
				return nil
			}
			walkTasks(doc, false, func(task map[string]any, noLog bool) {
				env, ok := task["environment"].(map[string]any)
				if !ok {
					return
				}
				for k, v := range env {
					if secretRef.MatchString(k + "=" + fmt.Sprint(v)) {
						n++
						assert.True(t, noLog, "%s/%s: task %q passes %s in its environment without no_log: true", name, p, task["name"], k)
					}
				}
			})
			return nil
		}))
	}
	assert.Greater(t, n, 0, "the playbooks pass passwords through environment: somewhere")
}

// A task that gives a module a secret argument (a password of
// postgresql_user…) is no_log: the module hides the argument, but the
// task's loop items and the trace at -vvv would not.
func TestSecretArgumentsAreNoLog(t *testing.T) {
	n := 0
	for name, fsys := range map[string]fs.FS{"architectures/m1": Playbooks, "roles": roles.FS} {
		require.NoError(t, fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yml") {
				return err
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			var doc any
			if yaml.Unmarshal(data, &doc) != nil {
				return nil
			}
			walkTasks(doc, false, func(task map[string]any, noLog bool) {
				for key, v := range task {
					args, ok := v.(map[string]any)
					if !ok {
						continue
					}
					_, spec, found := module.Lookup(key)
					if !found {
						continue
					}
					for k := range args {
						if a, ok := spec.Arg(k); ok && a.NoLog {
							n++
							assert.True(t, noLog, "%s/%s: task %q gives %s its secret argument %s without no_log: true", name, p, task["name"], key, k)
						}
					}
				}
			})
			return nil
		}))
	}
	assert.Greater(t, n, 0, "the roles give postgresql_user passwords somewhere")
}

// walkTasks calls fn for every mapping of v that looks like a task, with
// whether it or a block around it is no_log.
func walkTasks(v any, noLog bool, fn func(map[string]any, bool)) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			walkTasks(e, noLog, fn)
		}
	case map[string]any:
		if b, ok := x["no_log"].(bool); ok {
			noLog = b
		}
		fn(x, noLog)
		for _, k := range []string{"tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"} {
			if l, ok := x[k]; ok {
				walkTasks(l, noLog, fn)
			}
		}
	}
}

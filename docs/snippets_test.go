package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/playbook"
	"github.com/tpago/tpago/yamlx"
)

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// Every YAML example of the guides that is a playbook or a task list loads:
// its modules, arguments, keywords and expressions are what tpago accepts.
func TestGuideExamplesLoad(t *testing.T) {
	guides, err := filepath.Glob("*.md")
	require.NoError(t, err)
	n := 0
	for _, g := range guides {
		if _, generated := References()[g]; generated {
			continue
		}
		data, err := os.ReadFile(g)
		require.NoError(t, err)
		for i, m := range yamlBlock.FindAllStringSubmatch(string(data), -1) {
			text := m[1]
			node, err := yamlx.ParseOne(g, []byte(text))
			require.NoError(t, err, "%s block %d:\n%s", g, i+1, text)
			if node.Kind != yamlx.List {
				continue // defaults, meta: mappings of variables
			}
			isPlay := len(node.Items) > 0 && node.Items[0].Get("hosts") != nil
			if !isPlay {
				text = "- hosts: all\n  tasks:\n" + indent(text, "    ")
			}
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "user.yml"), []byte("- debug: msg=hi\n"), 0o644))
			file := filepath.Join(dir, "site.yml")
			require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
			ld := &playbook.Loader{RolePaths: []string{"../examples/roles", "../examples/cluster/roles"}}
			_, err = ld.LoadPlaybook(file)
			for _, e := range splitErrors(err) {
				// The examples notify handlers that other examples define.
				if strings.Contains(e, "notify: no handler") {
					continue
				}
				assert.Fail(t, "a guide's example does not load", "%s block %d: %s\n%s", g, i+1, e, text)
			}
			n++
		}
	}
	assert.Greater(t, n, 10, "examples checked")
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func splitErrors(err error) []string {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

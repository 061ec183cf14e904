package modules

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/module"
)

func findPaths(res *module.Result) []string {
	var out []string
	for _, f := range res.Data["files"].([]any) {
		out = append(out, f.(map[string]any)["path"].(string))
	}
	sort.Strings(out)
	return out
}

func TestFindMatchesLikeAnsible(t *testing.T) {
	dir := t.TempDir()
	w := func(p, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644))
	}
	w("a.log", "error: disk\n")
	w("b.log", "all fine\n")
	w("c.txt", "error: x\n")
	w(".hidden.log", "x\n")
	w("sub/d.log", "big "+string(make([]byte, 2048))+"\n")
	w("sub/deeper/e.log", "e\n")
	require.NoError(t, os.Symlink(filepath.Join(dir, "a.log"), filepath.Join(dir, "link.log")))
	old := time.Now().Add(-3 * 24 * time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "b.log"), old, old))
	rt := localRT(t, dir)
	find := func(args map[string]any) []string {
		t.Helper()
		args["paths"] = dir
		res := mustRun(t, with(rt, true, false), "find", args)
		assert.Equal(t, len(res.Data["files"].([]any)), res.Data["matched"])
		return findPaths(res)
	}
	p := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, filepath.Join(dir, n))
		}
		sort.Strings(out)
		return out
	}
	assert.Equal(t, p("a.log", "b.log", "c.txt"), find(map[string]any{}))
	assert.Equal(t, p("a.log", "b.log"), find(map[string]any{"patterns": "*.log"}))
	assert.Equal(t, p(".hidden.log", "a.log", "b.log"), find(map[string]any{"patterns": "*.log", "hidden": true}))
	assert.Equal(t, p("a.log", "b.log", "sub/d.log", "sub/deeper/e.log"), find(map[string]any{"patterns": "*.log", "recurse": true}))
	assert.Equal(t, p("a.log", "b.log", "sub/d.log"), find(map[string]any{"patterns": "*.log", "recurse": true, "depth": 2}))
	assert.Equal(t, p("a.log"), find(map[string]any{"patterns": []any{"*.log"}, "excludes": "b*", "recurse": false}))
	assert.Equal(t, p("a.log", "c.txt"), find(map[string]any{"contains": "error"}))
	assert.Equal(t, p("a.log", "c.txt"), find(map[string]any{"contains": "disk|x", "read_whole_file": true}))
	assert.Equal(t, p("b.log"), find(map[string]any{"age": "2d"}))
	assert.Equal(t, p("a.log", "c.txt"), find(map[string]any{"age": "-1d"}))
	assert.Equal(t, p("sub/d.log"), find(map[string]any{"size": "1k", "recurse": true}))
	assert.Equal(t, p("sub", "sub/deeper"), find(map[string]any{"file_type": "directory", "recurse": true}))
	assert.Equal(t, p("link.log"), find(map[string]any{"file_type": "link"}))
	assert.Equal(t, p("a.log", "b.log"), find(map[string]any{"patterns": `^[ab]\.log$`, "use_regex": true}))

	res := mustRun(t, rt, "find", map[string]any{"paths": []any{dir, filepath.Join(dir, "nope")}, "patterns": "a.log", "get_checksum": true})
	f := res.Data["files"].([]any)[0].(map[string]any)
	assert.Equal(t, "0644", f["mode"])
	assert.Equal(t, 12, f["size"])
	assert.Equal(t, true, f["isreg"])
	assert.NotEmpty(t, f["checksum"])
	assert.Contains(t, res.Data["skipped_paths"], filepath.Join(dir, "nope"))
	assert.Equal(t, 6, res.Data["examined"], "the entries of the path, hidden ones too")

	_, err := runMod(t, rt, "find", map[string]any{"paths": dir, "age": "3y"})
	require.ErrorContains(t, err, "age")
	_, err = runMod(t, rt, "find", map[string]any{"paths": dir, "patterns": "(", "use_regex": true})
	require.ErrorContains(t, err, "bad regular expression")
}

package modules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/module"
)

func normalize(t *testing.T, name string, raw map[string]any) module.Args {
	t.Helper()
	_, spec, ok := module.Lookup(name)
	require.True(t, ok)
	args, err := spec.Normalize(raw)
	require.NoError(t, err)
	return args
}

func TestLineInFileSemantics(t *testing.T) {
	const base = "# comment\nport = 5432\nlisten = localhost\n"
	for _, tc := range []struct {
		name string
		in   string
		args map[string]any
		want string
	}{
		{"append at EOF by default", base, map[string]any{"line": "max = 10"}, base + "max = 10\n"},
		{"exact line present: no change", base, map[string]any{"line": "port = 5432"}, base},
		{"regexp replaces the matching line", base, map[string]any{"regexp": "^port", "line": "port = 5433"}, "# comment\nport = 5433\nlisten = localhost\n"},
		{"regexp replaces only the last match", "a=1\na=2\nb\n", map[string]any{"regexp": "^a=", "line": "a=3"}, "a=1\na=3\nb\n"},
		{"regexp no match: append", base, map[string]any{"regexp": "^max", "line": "max = 1"}, base + "max = 1\n"},
		{"regexp no match: insertafter regex", base, map[string]any{"regexp": "^max", "line": "max = 1", "insertafter": "^port"}, "# comment\nport = 5432\nmax = 1\nlisten = localhost\n"},
		{"insertafter uses the last match", "x\nport\nport\ny\n", map[string]any{"line": "new", "insertafter": "^port"}, "x\nport\nport\nnew\ny\n"},
		{"insertafter firstmatch", "x\nport\nport\ny\n", map[string]any{"line": "new", "insertafter": "^port", "firstmatch": true}, "x\nport\nnew\nport\ny\n"},
		{"insertbefore regex", base, map[string]any{"line": "new", "insertbefore": "^listen"}, "# comment\nport = 5432\nnew\nlisten = localhost\n"},
		{"insertbefore BOF", base, map[string]any{"line": "first", "insertbefore": "BOF"}, "first\n" + base},
		{"insertafter regex without match: EOF", base, map[string]any{"line": "new", "insertafter": "^nothing"}, base + "new\n"},
		{"missing final newline is added", "a\nb", map[string]any{"line": "c"}, "a\nb\nc\n"},
		{"backrefs expands groups", "port = 5432\n", map[string]any{"regexp": `^port = (\d+)$`, "line": `port = \1 # was \1`, "backrefs": true}, "port = 5432 # was 5432\n"},
		{"backrefs named group", "user=bob\n", map[string]any{"regexp": `^user=(?P<u>\w+)`, "line": `owner=\g<u>`, "backrefs": true}, "owner=bob\n"},
		{"backrefs without match: no change", base, map[string]any{"regexp": "^nothing(.*)", "line": `x\1`, "backrefs": true}, base},
		{"search_string replaces", base, map[string]any{"search_string": "listen =", "line": "listen = '*'"}, "# comment\nport = 5432\nlisten = '*'\n"},
		{"absent by regexp removes every match", "a=1\nb\na=2\n", map[string]any{"regexp": "^a=", "state": "absent"}, "b\n"},
		{"absent by line", base, map[string]any{"line": "port = 5432", "state": "absent"}, "# comment\nlisten = localhost\n"},
		{"absent without match", base, map[string]any{"line": "nope", "state": "absent"}, base},
		{"empty file", "", map[string]any{"line": "x"}, "x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]any{"path": "/x"}
			for k, v := range tc.args {
				raw[k] = v
			}
			e, err := newLineEdit(normalize(t, "lineinfile", raw))
			require.NoError(t, err)
			got, _ := e.apply(splitLines([]byte(tc.in)))
			assert.Equal(t, tc.want, strings.Join(got, ""))
		})
	}
}

func TestBlockInFileSemantics(t *testing.T) {
	const base = "a\nb\n"
	blk := "# BEGIN ANSIBLE MANAGED BLOCK\nx\ny\n# END ANSIBLE MANAGED BLOCK\n"
	for _, tc := range []struct {
		name string
		in   string
		args map[string]any
		want string
	}{
		{"append at EOF", base, map[string]any{"block": "x\ny"}, base + blk},
		{"already there: no change", base + blk, map[string]any{"block": "x\ny\n"}, base + blk},
		{"update in place", "a\n" + blk + "b\n", map[string]any{"block": "z"}, "a\n# BEGIN ANSIBLE MANAGED BLOCK\nz\n# END ANSIBLE MANAGED BLOCK\nb\n"},
		{"insertbefore BOF", base, map[string]any{"block": "x\ny", "insertbefore": "BOF"}, blk + base},
		{"insertafter regex", base, map[string]any{"block": "x\ny", "insertafter": "^a"}, "a\n" + blk + "b\n"},
		{"insertbefore regex", base, map[string]any{"block": "x\ny", "insertbefore": "^b"}, "a\n" + blk + "b\n"},
		{"custom markers", base, map[string]any{"block": "x", "marker": "<!-- {mark} -->", "marker_begin": "start", "marker_end": "stop"}, base + "<!-- start -->\nx\n<!-- stop -->\n"},
		{"state absent removes", "a\n" + blk + "b\n", map[string]any{"state": "absent"}, base},
		{"empty block removes", "a\n" + blk + "b\n", map[string]any{"block": ""}, base},
		{"no final newline", "a", map[string]any{"block": "x\ny"}, "a\n" + blk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]any{"path": "/x"}
			for k, v := range tc.args {
				raw[k] = v
			}
			got, _, err := blockEdit(normalize(t, "blockinfile", raw), splitLines([]byte(tc.in)))
			require.NoError(t, err)
			assert.Equal(t, tc.want, strings.Join(got, ""))
		})
	}
}

func TestLineInFileOnDisk(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	p := filepath.Join(dir, "pg.conf")
	require.NoError(t, os.WriteFile(p, []byte("port = 5432\n"), 0o644))
	args := map[string]any{"path": p, "regexp": "^port", "line": "port = 5433", "mode": "0600"}
	first := idempotent(t, rt, "lineinfile", args, func(applied bool) {
		want := "port = 5432\n"
		if applied {
			want = "port = 5433\n"
		}
		assert.Equal(t, want, readFile(t, p))
	})
	assert.Equal(t, os.FileMode(0o600), modeOf(t, p))
	require.Len(t, first.Diff, 2)
	assert.Equal(t, "port = 5432\n", first.Diff[0].Before)
	assert.Equal(t, "port = 5433\n", first.Diff[0].After)
	assert.Equal(t, "mode: 0644\n", first.Diff[1].Before)

	// Missing file: error without create, created with it.
	np := filepath.Join(dir, "new.conf")
	_, err := runMod(t, rt, "lineinfile", map[string]any{"path": np, "line": "x"})
	require.ErrorContains(t, err, "does not exist")
	idempotent(t, rt, "lineinfile", map[string]any{"path": np, "line": "x", "create": true}, func(applied bool) {
		assert.Equal(t, applied, exists(np))
	})
	assert.Equal(t, "x\n", readFile(t, np))
	res := mustRun(t, rt, "lineinfile", map[string]any{"path": filepath.Join(dir, "nope"), "line": "x", "state": "absent"})
	assert.False(t, res.Changed)
}

func TestBlockInFileOnDisk(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	p := filepath.Join(dir, "hosts")
	require.NoError(t, os.WriteFile(p, []byte("127.0.0.1 localhost\n"), 0o644))
	args := map[string]any{"path": p, "block": "10.0.0.1 a\n10.0.0.2 b\n"}
	first := idempotent(t, rt, "blockinfile", args, nil)
	assert.Equal(t, "127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 a\n10.0.0.2 b\n# END ANSIBLE MANAGED BLOCK\n", readFile(t, p))
	require.Len(t, first.Diff, 1)
	assert.Equal(t, "127.0.0.1 localhost\n", first.Diff[0].Before)
	idempotent(t, rt, "blockinfile", map[string]any{"path": p, "state": "absent"}, nil)
	assert.Equal(t, "127.0.0.1 localhost\n", readFile(t, p))
}

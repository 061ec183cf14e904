package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplaceSemantics(t *testing.T) {
	const conf = "# listen_addresses = 'localhost'\nport = 5432\nmax_connections = 100\n"
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
		n    int
	}{
		{"every match, multi-line anchors", map[string]any{"regexp": `^(\w+) = (\d+)$`, "replace": `\1 = \2 # set`},
			"# listen_addresses = 'localhost'\nport = 5432 # set\nmax_connections = 100 # set\n", 2},
		{"named group", map[string]any{"regexp": `^#\s*(?P<k>listen_addresses)`, "replace": `\g<k>`},
			"listen_addresses = 'localhost'\nport = 5432\nmax_connections = 100\n", 1},
		{"empty replace removes", map[string]any{"regexp": `^port.*\n`}, "# listen_addresses = 'localhost'\nmax_connections = 100\n", 1},
		{"after limits the section", map[string]any{"regexp": `\d+`, "replace": "N", "after": "^port.*$"},
			"# listen_addresses = 'localhost'\nport = 5432\nmax_connections = N\n", 1},
		{"before limits the section", map[string]any{"regexp": `= `, "replace": "=", "before": "^max"},
			"# listen_addresses ='localhost'\nport =5432\nmax_connections = 100\n", 2},
		{"no match", map[string]any{"regexp": "nothing"}, conf, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]any{"path": "/x"}
			for k, v := range tc.args {
				raw[k] = v
			}
			got, n, err := replaceEdit(normalize(t, "replace", raw), conf)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.n, n)
		})
	}
}

func TestReplaceOnDisk(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	p := filepath.Join(dir, "pg.conf")
	require.NoError(t, os.WriteFile(p, []byte("port = 5432\n"), 0o644))
	first := idempotent(t, rt, "replace", map[string]any{"path": p, "regexp": `^port = \d+`, "replace": "port = 5433"}, nil)
	assert.Equal(t, "port = 5433\n", readFile(t, p))
	assert.Equal(t, "1 replacements made", first.Msg)
	_, err := runMod(t, rt, "replace", map[string]any{"path": filepath.Join(dir, "none"), "regexp": "x"})
	require.ErrorContains(t, err, "does not exist")
}

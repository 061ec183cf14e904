package template

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lookup('template') renders a file with {% %} tags with the variables of
// the template that asks; varnames sees the template's own names too.
func TestTemplateLookup(t *testing.T) {
	role := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(role, "templates"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(role, "templates", "hosts.j2"), []byte("{% for h in hosts %}{{ h }};{% endfor %}\n"), 0o644))
	vars := map[string]any{"role_path": role, "hosts": []any{"a", "b"}, "host_count": 2}
	got, err := RenderString("t.j2", "[{{ lookup('template', 'hosts.j2') | trim }}]\n{% set host_extra = 1 %}{{ lookup('varnames', '^host') }}", vars)
	require.NoError(t, err)
	assert.Equal(t, "[a;b;]\nhost_count,host_extra,hosts", got)
}

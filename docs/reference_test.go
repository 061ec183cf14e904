package docs

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "write the generated references")

// The committed references must be what the code generates now.
func TestReferences(t *testing.T) {
	for name, want := range References() {
		t.Run(name, func(t *testing.T) {
			if *update {
				require.NoError(t, os.WriteFile(name, []byte(want), 0o644))
				return
			}
			got, err := os.ReadFile(name)
			require.NoError(t, err, "run `go generate ./docs` to write it")
			assert.Equal(t, want, string(got), "docs/%s is out of date with the code: run `go generate ./docs`", name)
		})
	}
}

func TestReferencesCoverEverything(t *testing.T) {
	m := Modules()
	for _, s := range specs() {
		assert.Contains(t, m, "\n## "+s.Name+"\n")
	}
	assert.Contains(t, m, "| `state` |")
	f := Functions()
	assert.Contains(t, f, "`default(v, fallback, [falsy])`")
}

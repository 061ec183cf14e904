package docs

import (
	"flag"
	"fmt"
	"os"
	"strings"
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
			if string(got) != want {
				t.Errorf("docs/%s is out of date with the code: run `go generate ./docs`\n%s", name, firstDifference(string(got), want))
			}
		})
	}
}

// firstDifference shows the first line where the committed file and the
// generated one differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  committed: %s\n  generated: %s", i+1, gl, wl)
		}
	}
	return ""
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

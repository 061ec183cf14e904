package template

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A template error keeps the template's line with a caret, taken when it
// is made; its message stays on one line.
func TestErrorKeepsItsSnippet(t *testing.T) {
	tests := []struct {
		name, text, msg, snippet string
		render                   bool
	}{
		{"parse", "a\n{% if %}\n", "conf.j2:2:1: ", "  1 | a\n> 2 | {% if %}\n    | ^", false},
		{"render", "a\n{{ nokey.x }}\n", "conf.j2:2: ", "  1 | a\n> 2 | {{ nokey.x }}", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := Parse("conf.j2", tt.text)
			if tt.render {
				require.NoError(t, err)
				_, err = tp.Render(map[string]any{"nokey": map[string]any{}})
			}
			var te *Error
			require.True(t, errors.As(err, &te), "%v", err)
			assert.Equal(t, tt.snippet, te.Snippet)
			assert.Contains(t, te.Error(), tt.msg)
			assert.NotContains(t, te.Error(), "\n")
		})
	}
}

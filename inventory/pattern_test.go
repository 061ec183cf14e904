package inventory

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimit(t *testing.T) {
	inv := New()
	inv.AddHost("web1", "web")
	inv.AddHost("db1", "db")
	inv.Finish()
	tests := []struct {
		pattern string
		want    []string
		err     string
	}{
		{"web", []string{"web1"}, ""},
		{"all:!db", []string{"web1"}, ""},
		{"web*", []string{"web1"}, ""},
		{"nosuchhost", nil, `--limit "nosuchhost" matches no host of the inventory (nosuchhost: neither a host nor a group)`},
		{"web:&db", nil, `--limit "web:&db" matches no host`},
	}
	for _, tt := range tests {
		got, err := inv.Limit(tt.pattern)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, tt.pattern)
			continue
		}
		require.NoError(t, err, tt.pattern)
		assert.Equal(t, tt.want, got, tt.pattern)
	}
}

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/docs"
)

// docs/ansible-equivalents.md says which of ansible-playbook's options
// `tpago play` has: the supported and partly ones are there, under the
// same long and short names, and the refused ones are not.
func TestAnsiblePlaybookOptions(t *testing.T) {
	n, err := docs.LoadAnsibleNames()
	require.NoError(t, err)
	play := newPlayCmd()
	checked := 0
	for _, s := range n.Features {
		for _, r := range s.Rows {
			if r.Option == "" {
				continue
			}
			checked++
			long, short, _ := strings.Cut(r.Option, ",")
			f := play.Flags().Lookup(strings.TrimPrefix(long, "--"))
			if r.Status == docs.Supported || r.Status == docs.Partly {
				if assert.NotNil(t, f, "tpago play has no %s, which docs/ansible_builtin.yml calls %s", long, r.Status) && short != "" {
					assert.Equal(t, strings.TrimPrefix(short, "-"), f.Shorthand, long)
				}
			} else {
				assert.Nil(t, f, "tpago play has %s, which docs/ansible_builtin.yml calls %s: mark it supported", long, r.Status)
			}
		}
	}
	assert.GreaterOrEqual(t, checked, 20)
}

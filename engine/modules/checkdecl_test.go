package modules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tpago/tpago/engine/module"
)

// Every built-in module says what it does in check mode.
func TestEveryModuleDeclaresCheckSupport(t *testing.T) {
	for _, n := range module.Names() {
		_, spec, _ := module.Lookup(n)
		t.Logf("%-16s %s", n, spec.Check)
		assert.NotEqual(t, module.CheckUnsupported, spec.Check, "module %s", n)
		if spec.Local {
			assert.Equal(t, module.CheckReadOnly, spec.Check, "local module %s", n)
		}
	}
}

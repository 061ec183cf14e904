package inventory

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse: no inventory text makes the loader panic or take long; what
// it accepts, patterns and variables can be asked of.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("all:\n  hosts:\n    web[01:03]:\n      a: 1\n  children:\n    db:\n      hosts:\n        db1:\n"))
	f.Add([]byte("all:\n  children:\n    a:\n      children:\n        b:\n    b:\n      children:\n        a:\n"))
	f.Add([]byte("a: &x {hosts: {h: *x}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		start := time.Now()
		inv, err := Parse("inventory.yml", data)
		if err == nil {
			for _, p := range []string{"all", "ungrouped", "a:!b", "*"} {
				_, _ = inv.Match(p)
			}
			for _, h := range inv.Order {
				_ = inv.HostVars(h)
				_ = inv.GroupsOf(h)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%d bytes took %s", len(data), d)
		}
	})
}

package cluster

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseConfig: no config.yml makes the loader panic or take long;
// what it accepts turns into an inventory.
func FuzzParseConfig(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/config/*.yml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(goodConfig))
	f.Add([]byte(goodConfig + "---\nfoo: 1\n"))
	f.Add([]byte("instances:\n- Name: a\n  node: 2.5\n  role: []\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		start := time.Now()
		cfg, err := ParseConfig("config.yml", data)
		if err == nil {
			if _, err := fromConfig(cfg, "/clusters/fuzz"); err != nil {
				t.Fatalf("a valid config.yml makes no inventory: %v", err)
			}
			_ = cfg.Where("$.instances[0].ip_address")
		} else {
			_ = err.Error()
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%d bytes took %s", len(data), d)
		}
	})
}

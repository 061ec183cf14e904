package modules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file written with mode 0600 is never readable by others, not even
// while it is being written: a poller watching the destination's folder
// never sees content in a temporary file open to group or others.
func TestPrivateFileNeverReadableWhileWritten(t *testing.T) {
	for _, tc := range []struct {
		module string
		args   func(dest string, i int) map[string]any
	}{
		{"copy", func(dest string, i int) map[string]any {
			return map[string]any{"content": fmt.Sprintf("secret-%d\n%s", i, strings.Repeat("x", 64<<10)), "dest": dest, "mode": "0600"}
		}},
		{"copy", func(dest string, i int) map[string]any {
			return map[string]any{"content": fmt.Sprintf("secret-%d\n%s", i, strings.Repeat("x", 64<<10)), "dest": dest, "mode": "u=rw,go="}
		}},
	} {
		t.Run(tc.module+" "+tc.args("", 0)["mode"].(string), func(t *testing.T) {
			dir := t.TempDir()
			rt := localRT(t, dir)
			var seen, leaked atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					ents, _ := os.ReadDir(dir)
					for _, e := range ents {
						if !strings.HasPrefix(e.Name(), ".tpago.") {
							continue
						}
						fi, err := os.Lstat(filepath.Join(dir, e.Name()))
						if err != nil || fi.Size() == 0 {
							continue
						}
						seen.Add(1)
						if fi.Mode().Perm()&0o077 != 0 {
							leaked.Add(1)
						}
					}
				}
			}()
			const n = 60
			for i := range n {
				dest := filepath.Join(dir, fmt.Sprintf("secret-%d", i))
				mustRun(t, rt, tc.module, tc.args(dest, i))
				require.Equal(t, os.FileMode(0o600), modeOf(t, dest))
			}
			close(stop)
			wg.Wait()
			t.Logf("%d writes, %d glimpses of a temporary file with content, %d of them readable by others", n, seen.Load(), leaked.Load())
			assert.Zero(t, leaked.Load(), "a temporary file held content while readable by group or others")
		})
	}
}

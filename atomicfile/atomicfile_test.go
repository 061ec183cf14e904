package atomicfile

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

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	require.NoError(t, Write(p, []byte("one"), 0o600))
	require.NoError(t, Write(p, []byte("two"), 0o640))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "two", string(b))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "no temporary file left")
	assert.Error(t, Write(filepath.Join(dir, "missing", "f"), nil, 0o600))
}

// A poller watching the folder never sees data in a temporary file that
// others may read when the file is private.
func TestWritePrivateWhileWritten(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 256<<10)
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
				fi, err := os.Lstat(filepath.Join(dir, e.Name()))
				if err != nil || fi.Size() == 0 || !strings.Contains(e.Name(), ".tmp-") {
					continue
				}
				seen.Add(1)
				if fi.Mode().Perm()&0o077 != 0 {
					leaked.Add(1)
				}
			}
		}
	}()
	for i := range 200 {
		require.NoError(t, Write(filepath.Join(dir, fmt.Sprint("s", i)), data, 0o600))
	}
	close(stop)
	wg.Wait()
	t.Logf("%d glimpses of a temporary file with data, %d readable by others", seen.Load(), leaked.Load())
	assert.Zero(t, leaked.Load())
}

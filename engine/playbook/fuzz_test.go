package playbook_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/playbook"
)

// FuzzLoadPlaybook feeds the loader arbitrary playbooks: it must never
// panic and must end quickly, whatever it is given. The seeds are in
// testdata/fuzz-seeds; `go test` runs them, `go test -fuzz
// FuzzLoadPlaybook` explores further.
func FuzzLoadPlaybook(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz-seeds", "*.yml"))
	require.NoError(f, err)
	require.NotEmpty(f, seeds)
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		require.NoError(f, err)
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			ld := &playbook.Loader{}
			_, _ = ld.LoadPlaybookData(filepath.Join(dir, "pb.yml"), data)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("loading did not end within 10s:\n%s", data)
		}
	})
}

// Every prefix of every seed loads or fails without panic: a brief,
// deterministic exploration that runs in the ordinary suite.
func TestLoaderSurvivesTruncatedSeeds(t *testing.T) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz-seeds", "*.yml"))
	require.NoError(t, err)
	dir := t.TempDir()
	start := time.Now()
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		require.NoError(t, err)
		for i := range len(data) + 1 {
			ld := &playbook.Loader{}
			_, _ = ld.LoadPlaybookData(filepath.Join(dir, "pb.yml"), data[:i])
		}
	}
	require.Less(t, time.Since(start), time.Minute)
}

package modules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
)

// httpServer serves a few fixed paths on 127.0.0.1 for the HTTP modules,
// counting the requests it answers.
func httpServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/file.txt", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("hello\n"))
	})
	mux.HandleFunc("/file.txt.sha256", func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.Sum256([]byte("hello\n"))
		_, _ = w.Write([]byte(hex.EncodeToString(sum[:]) + "  file.txt\n0000  other.txt\n"))
	})
	mux.HandleFunc("/named", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="real-name.bin"`)
		_, _ = w.Write([]byte("named\n"))
	})
	mux.HandleFunc("/private", func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "alice" || p != "s3cr'et" {
			w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("private\n"))
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Method", r.Method)
		body := make([]byte, 1024)
		n, _ := r.Body.Read(body)
		_, _ = w.Write([]byte(`{"method": "` + r.Method + `", "got": ` + string(orJSON(body[:n])) + `, "ct": "` + r.Header.Get("Content-Type") + `"}`))
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &hits
}

func orJSON(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	q, _ := json.Marshal(string(b))
	return q
}

func TestGetURLDownloadsOnceAndKeepsAnExistingFile(t *testing.T) {
	srv, hits := httpServer(t)
	dir := t.TempDir()
	rt := localRT(t, dir)
	dest := filepath.Join(dir, "f.txt")
	args := map[string]any{"url": srv.URL + "/file.txt", "dest": dest, "mode": "0640"}
	first := idempotent(t, rt, "get_url", args, func(applied bool) { assert.Equal(t, applied, exists(dest)) })
	assert.Equal(t, "hello\n", readFile(t, dest))
	assert.Equal(t, os.FileMode(0o640), modeOf(t, dest))
	assert.Equal(t, 200, first.Data["status_code"])
	assert.Equal(t, 6, first.Data["size"])
	assert.Equal(t, "f572d396fae9206628714fb2ce00f72e94f2258f", first.Data["checksum_src"])
	assert.Equal(t, int32(1), hits.Load(), "an existing dest is not downloaded again without force")

	// force: downloaded again, unchanged when the content is the same,
	// replaced when it differs.
	args["force"] = true
	res := mustRun(t, rt, "get_url", args)
	assert.False(t, res.Changed)
	require.NoError(t, os.WriteFile(dest, []byte("old\n"), 0o600))
	res = mustRun(t, with(rt, true, true), "get_url", args)
	assert.True(t, res.Changed, "check mode predicts the replacement")
	assert.NotEmpty(t, res.Diff)
	assert.Equal(t, "old\n", readFile(t, dest))
	res = mustRun(t, rt, "get_url", args)
	assert.True(t, res.Changed)
	assert.Equal(t, "hello\n", readFile(t, dest))
	assert.Equal(t, os.FileMode(0o640), modeOf(t, dest))
	left, _ := filepath.Glob(filepath.Join(dir, ".tpago-download.*"))
	assert.Empty(t, left, "no temporary file is left behind")
}

func TestGetURLChecksum(t *testing.T) {
	srv, hits := httpServer(t)
	dir := t.TempDir()
	rt := localRT(t, dir)
	sum := sha256.Sum256([]byte("hello\n"))
	good := "sha256:" + hex.EncodeToString(sum[:])
	dest := filepath.Join(dir, "c.txt")
	mustRun(t, rt, "get_url", map[string]any{"url": srv.URL + "/file.txt", "dest": dest, "checksum": good})
	assert.Equal(t, "hello\n", readFile(t, dest))

	// A dest that does not match the checksum is downloaded again.
	require.NoError(t, os.WriteFile(dest, []byte("tampered\n"), 0o644))
	n := hits.Load()
	res := mustRun(t, rt, "get_url", map[string]any{"url": srv.URL + "/file.txt", "dest": dest, "checksum": good})
	assert.True(t, res.Changed)
	assert.Equal(t, n+1, hits.Load())

	// The checksum from a checksum file, by the URL's file name.
	dest2 := filepath.Join(dir, "c2.txt")
	mustRun(t, rt, "get_url", map[string]any{"url": srv.URL + "/file.txt", "dest": dest2, "checksum": "sha256:" + srv.URL + "/file.txt.sha256"})
	assert.Equal(t, "hello\n", readFile(t, dest2))

	// A download that does not match fails and leaves nothing.
	dest3 := filepath.Join(dir, "c3.txt")
	_, err := runMod(t, rt, "get_url", map[string]any{"url": srv.URL + "/file.txt", "dest": dest3, "checksum": "sha256:" + hex.EncodeToString(make([]byte, 32))})
	require.ErrorContains(t, err, "did not match")
	assert.False(t, exists(dest3))
	left, _ := filepath.Glob(filepath.Join(dir, ".tpago-download.*"))
	assert.Empty(t, left)

	_, err = runMod(t, rt, "get_url", map[string]any{"url": srv.URL + "/file.txt", "dest": dest3, "checksum": "sha257:abc"})
	require.ErrorContains(t, err, "is not ALGORITHM:HEX")
}

func TestGetURLIntoADirectoryAuthAndErrors(t *testing.T) {
	srv, _ := httpServer(t)
	dir := t.TempDir()
	rt := localRT(t, dir)
	res := mustRun(t, rt, "get_url", map[string]any{"url": srv.URL + "/named", "dest": dir})
	assert.Equal(t, filepath.Join(dir, "real-name.bin"), res.Data["dest"])
	assert.Equal(t, "named\n", readFile(t, filepath.Join(dir, "real-name.bin")))
	res = mustRun(t, rt, "get_url", map[string]any{"url": srv.URL + "/file.txt", "dest": dir + "/"})
	assert.Equal(t, filepath.Join(dir, "file.txt"), res.Data["dest"])
	res = mustRun(t, rt, "get_url", map[string]any{"url": srv.URL + "/file.txt", "dest": dir})
	assert.False(t, res.Changed, "a directory dest is downloaded again, and unchanged content changes nothing")

	var traced string
	sh := rt.Remote.(*conn.Shell)
	sh.Trace = func(cmd, script string) { traced += cmd + script }
	res = mustRun(t, rt, "get_url", map[string]any{"url": srv.URL + "/private", "dest": filepath.Join(dir, "p"), "url_username": "alice", "url_password": "s3cr'et"})
	assert.True(t, res.Changed)
	assert.Equal(t, "private\n", readFile(t, filepath.Join(dir, "p")))
	assert.Contains(t, traced, "\ns3cr'et\n", "the password travels as it is on its own line, for the masker to find")
	assert.NotContains(t, sh.Command(), "s3cr")

	_, err := runMod(t, rt, "get_url", map[string]any{"url": srv.URL + "/missing", "dest": filepath.Join(dir, "m")})
	require.ErrorContains(t, err, "404")
	_, err = runMod(t, rt, "get_url", map[string]any{"url": "http://127.0.0.1:1/x", "dest": filepath.Join(dir, "m")})
	require.ErrorContains(t, err, "Request failed")
	_, err = runMod(t, rt, "get_url", map[string]any{"url": srv.URL + "/file.txt", "dest": filepath.Join(dir, "no/such/dir/f")})
	require.ErrorContains(t, err, "does not exist")
}

// httptestFile serves data at every path on 127.0.0.1 and returns the
// server's URL.
func httptestFile(t *testing.T, data []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(data) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

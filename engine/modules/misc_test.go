package modules

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStat(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	f := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(f, []byte("abc"), 0o640))
	require.NoError(t, os.Symlink(f, filepath.Join(dir, "l")))

	st := mustRun(t, rt, "stat", map[string]any{"path": f}).Data["stat"].(map[string]any)
	assert.Equal(t, true, st["exists"])
	assert.Equal(t, true, st["isreg"])
	assert.Equal(t, false, st["isdir"])
	assert.Equal(t, "0640", st["mode"])
	assert.Equal(t, int64(3), st["size"])
	assert.Equal(t, "a9993e364706816aba3e25717850c26c9cd0d89d", st["checksum"])
	assert.Equal(t, int64(os.Getuid()), st["uid"])
	assert.NotEmpty(t, st["pw_name"])

	st = mustRun(t, rt, "stat", map[string]any{"path": filepath.Join(dir, "l"), "checksum_algorithm": "sha256"}).Data["stat"].(map[string]any)
	assert.Equal(t, true, st["islnk"])
	assert.Equal(t, f, st["lnk_source"])
	st = mustRun(t, rt, "stat", map[string]any{"path": filepath.Join(dir, "l"), "follow": true, "checksum_algorithm": "sha256"}).Data["stat"].(map[string]any)
	assert.Equal(t, true, st["isreg"])
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", st["checksum"])

	st = mustRun(t, rt, "stat", map[string]any{"path": dir}).Data["stat"].(map[string]any)
	assert.Equal(t, true, st["isdir"])
	st = mustRun(t, rt, "stat", map[string]any{"path": filepath.Join(dir, "none")}).Data["stat"].(map[string]any)
	assert.Equal(t, map[string]any{"exists": false}, st)
}

func TestSlurpFetchPing(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	f := filepath.Join(dir, "remote", "data.bin")
	require.NoError(t, os.MkdirAll(filepath.Dir(f), 0o755))
	content := []byte("bin\x00ary\n")
	require.NoError(t, os.WriteFile(f, content, 0o600))

	res := mustRun(t, rt, "slurp", map[string]any{"src": f})
	assert.Equal(t, base64.StdEncoding.EncodeToString(content), res.Data["content"])
	assert.Equal(t, "base64", res.Data["encoding"])
	_, err := runMod(t, rt, "slurp", map[string]any{"src": filepath.Join(dir, "none")})
	require.ErrorContains(t, err, "file not found")

	out := filepath.Join(dir, "fetched")
	local := filepath.Join(out, "local", f)
	idempotent(t, rt, "fetch", map[string]any{"src": f, "dest": out}, func(applied bool) {
		assert.Equal(t, applied, exists(local))
	})
	assert.Equal(t, content, []byte(readFile(t, local)))
	flat := filepath.Join(dir, "flat") + "/"
	mustRun(t, rt, "fetch", map[string]any{"src": f, "dest": flat, "flat": true})
	assert.Equal(t, content, []byte(readFile(t, filepath.Join(flat, "data.bin"))))
	_, err = runMod(t, rt, "fetch", map[string]any{"src": filepath.Join(dir, "none"), "dest": out})
	require.ErrorContains(t, err, "does not exist")
	res = mustRun(t, rt, "fetch", map[string]any{"src": filepath.Join(dir, "none"), "dest": out, "fail_on_missing": false})
	assert.False(t, res.Changed)

	res = mustRun(t, rt, "ping", map[string]any{})
	assert.Equal(t, "pong", res.Data["ping"])
}

func TestLocalModules(t *testing.T) {
	rt := localRT(t, t.TempDir())
	rt.Remote = nil // local modules never touch the host
	vars := map[string]any{"x": 3, "name": "db1", "empty": []any{}}
	rt.Eval = func(e string) (any, error) {
		switch e {
		case "x == 3", "name":
			if e == "name" {
				return vars["name"], nil
			}
			return true, nil
		case "x > 5":
			return false, nil
		case "empty":
			return vars["empty"], nil
		}
		return nil, fmt.Errorf("unknown expression %s", e)
	}

	res, err := runMod(t, rt, "set_fact", map[string]any{"cacheable": true})
	require.ErrorContains(t, err, "at least one")
	m, _, _ := lookup("set_fact")
	res, err = m.Run(t.Context(), rt, map[string]any{"a": 1, "b": []any{"x"}, "cacheable": false})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": 1, "b": []any{"x"}}, res.Facts)

	res = mustRun(t, rt, "debug", map[string]any{"msg": "hi"})
	assert.Equal(t, "hi", res.Msg)
	res = mustRun(t, rt, "debug", map[string]any{})
	assert.Equal(t, "Hello world!", res.Msg)
	res = mustRun(t, rt, "debug", map[string]any{"var": "name"})
	assert.Equal(t, "db1", res.Data["name"])

	res = mustRun(t, rt, "assert", map[string]any{"that": []any{"x == 3"}, "success_msg": "fine"})
	assert.Equal(t, "fine", res.Msg)
	res, err = runMod(t, rt, "assert", map[string]any{"that": []any{"x == 3", "x > 5"}, "fail_msg": "too small"})
	require.NoError(t, err)
	assert.True(t, res.Failed)
	assert.Equal(t, "too small", res.Msg)
	assert.Equal(t, "x > 5", res.Data["assertion"])
	// a condition must be true or false, as in when: (ansible-core 2.19)
	_, err = runMod(t, rt, "assert", map[string]any{"that": "empty"})
	require.ErrorContains(t, err, "conditional result was [] of type list")
	_, err = runMod(t, rt, "assert", map[string]any{"that": "name"})
	require.ErrorContains(t, err, `conditional result was "db1" of type string`)
	_, err = runMod(t, rt, "assert", map[string]any{"that": "nope"})
	require.ErrorContains(t, err, "unknown expression")

	res, err = runMod(t, rt, "fail", map[string]any{"msg": "stop here"})
	require.NoError(t, err)
	assert.True(t, res.Failed)
	assert.Equal(t, "stop here", res.Msg)

	start := time.Now()
	mustRun(t, rt, "pause", map[string]any{"seconds": 1})
	assert.GreaterOrEqual(t, time.Since(start), time.Second)
	_, err = runMod(t, rt, "pause", map[string]any{"prompt": "press enter"})
	require.ErrorContains(t, err, "not supported")

	for _, tc := range []struct {
		v    any
		want bool
	}{{nil, false}, {false, false}, {0, false}, {"", false}, {[]any{}, false}, {map[string]any{}, false},
		{true, true}, {1, true}, {"x", true}, {[]any{1}, true}, {0.5, true}, {int64(0), false}} {
		assert.Equal(t, tc.want, Truthy(tc.v), "%#v", tc.v)
	}
}

func TestWaitFor(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-test\n"))
			c.Close()
		}
	}()
	res := mustRun(t, rt, "wait_for", map[string]any{"port": port, "timeout": 5})
	assert.Equal(t, 0, res.Data["elapsed"])
	mustRun(t, rt, "wait_for", map[string]any{"port": port, "timeout": 5, "search_regex": "^SSH-2"})
	ln.Close()
	mustRun(t, rt, "wait_for", map[string]any{"port": port, "state": "stopped", "timeout": 5})
	res, err = runMod(t, rt, "wait_for", map[string]any{"port": port, "timeout": 1})
	require.NoError(t, err)
	assert.True(t, res.Failed)
	assert.Equal(t, fmt.Sprintf("Timeout when waiting for 127.0.0.1:%d", port), res.Msg)

	p := filepath.Join(dir, "ready")
	go func() {
		time.Sleep(1200 * time.Millisecond)
		_ = os.WriteFile(p, []byte("status: ready\n"), 0o644)
	}()
	res = mustRun(t, rt, "wait_for", map[string]any{"path": p, "search_regex": "ready", "timeout": 10})
	assert.GreaterOrEqual(t, res.Data["elapsed"], 1)
	mustRun(t, rt, "wait_for", map[string]any{"path": filepath.Join(dir, "gone"), "state": "absent", "timeout": 2})
}

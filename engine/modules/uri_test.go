package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestURIReturnsStatusHeadersAndJSON(t *testing.T) {
	srv, _ := httpServer(t)
	rt := localRT(t, t.TempDir())
	res := mustRun(t, rt, "uri", map[string]any{"url": srv.URL + "/json", "method": "POST", "body_format": "json",
		"body": map[string]any{"a": 1}, "status_code": []any{200, "201"}, "return_content": true})
	assert.False(t, res.Changed, "uri changes nothing without dest")
	assert.Equal(t, 200, res.Data["status"])
	assert.Equal(t, "POST", res.Data["x_request_method"], "response headers are keys, lowercased, - as _")
	assert.Equal(t, "application/json", res.Data["content_type"])
	js, ok := res.Data["json"].(map[string]any)
	require.True(t, ok, "a JSON body is parsed: %v", res.Data)
	assert.Equal(t, `{"a":1}`, js["got"])
	assert.Equal(t, "application/json", js["ct"])
	assert.Contains(t, res.Data["content"], `"method": "POST"`)

	res = mustRun(t, rt, "uri", map[string]any{"url": srv.URL + "/json", "method": "PUT", "body_format": "form-urlencoded",
		"body": map[string]any{"name": "a b", "x": "1"}})
	js = res.Data["json"].(map[string]any)
	assert.Equal(t, "name=a+b&x=1", js["got"])
	assert.Equal(t, "application/x-www-form-urlencoded", js["ct"])
	assert.NotContains(t, res.Data, "content", "content only with return_content")

	// A status outside status_code fails, with the result kept.
	res, err := runMod(t, rt, "uri", map[string]any{"url": srv.URL + "/missing"})
	require.NoError(t, err)
	assert.True(t, res.Failed)
	assert.Contains(t, res.Msg, "Status code was 404 and not [200]")
	assert.Equal(t, 404, res.Data["status"])
	res = mustRun(t, rt, "uri", map[string]any{"url": srv.URL + "/missing", "status_code": "200,404"})
	assert.Equal(t, 404, res.Data["status"])

	res, err = runMod(t, rt, "uri", map[string]any{"url": "http://127.0.0.1:1/"})
	require.NoError(t, err)
	assert.True(t, res.Failed)
	assert.Contains(t, res.Msg, "Status code was -1")

	res = mustRun(t, rt, "uri", map[string]any{"url": srv.URL + "/private", "url_username": "alice", "url_password": "s3cr'et", "force_basic_auth": true, "return_content": true})
	assert.Equal(t, "private\n", res.Data["content"])
}

func TestURICheckModeAndDest(t *testing.T) {
	srv, hits := httpServer(t)
	dir := t.TempDir()
	rt := localRT(t, dir)
	n := hits.Load()
	res := mustRun(t, with(rt, true, false), "uri", map[string]any{"url": srv.URL + "/json", "method": "DELETE"})
	assert.True(t, res.Skipped, "a request that may change the server is not sent in check mode")
	res = mustRun(t, with(rt, true, false), "uri", map[string]any{"url": srv.URL + "/file.txt"})
	assert.Equal(t, 200, res.Data["status"], "a GET is sent in check mode")
	assert.Equal(t, n+1, hits.Load())

	dest := filepath.Join(dir, "body.txt")
	args := map[string]any{"url": srv.URL + "/file.txt", "dest": dest, "mode": "0600"}
	idempotent(t, rt, "uri", args, func(applied bool) { assert.Equal(t, applied, exists(dest)) })
	assert.Equal(t, "hello\n", readFile(t, dest))
	assert.Equal(t, os.FileMode(0o600), modeOf(t, dest))

	res = mustRun(t, rt, "uri", map[string]any{"url": srv.URL + "/json", "method": "POST", "creates": dest})
	assert.Contains(t, res.Msg, "skipped, since")
	assert.False(t, res.Changed)
	res = mustRun(t, rt, "uri", map[string]any{"url": srv.URL + "/json", "method": "POST", "removes": dest + ".nope"})
	assert.Contains(t, res.Msg, "does not exist")

	_, err := runMod(t, rt, "uri", map[string]any{"url": srv.URL + "/json", "body": map[string]any{"a": 1}})
	require.ErrorContains(t, err, "needs body_format json")
}

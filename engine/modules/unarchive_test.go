package modules

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var archiveFiles = []struct{ name, body string }{{"app/", ""}, {"app/bin/", ""}, {"app/bin/run", "#!/bin/sh\n"}, {"app/README", "read me\n"}}

func tarGz(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	mt := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, f := range archiveFiles {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: mt, Typeflag: tar.TypeReg}
		if f.body == "" {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		require.NoError(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(f.body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return b.Bytes()
}

func zipped(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range archiveFiles {
		w, err := zw.Create(f.name)
		require.NoError(t, err)
		_, err = w.Write([]byte(f.body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestUnarchiveTarFromTheControlMachine(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "files"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "app.tar.gz"), tarGz(t), 0o644))
	dest := filepath.Join(dir, "dest")
	require.NoError(t, os.Mkdir(dest, 0o755))
	rt := localRT(t, dir)
	args := map[string]any{"src": "app.tar.gz", "dest": dest, "list_files": true}
	first := idempotent(t, rt, "unarchive", args, func(applied bool) { assert.Equal(t, applied, exists(filepath.Join(dest, "app/README"))) })
	assert.Equal(t, "read me\n", readFile(t, filepath.Join(dest, "app/README")))
	assert.Equal(t, []any{"app", "app/bin", "app/bin/run", "app/README"}, first.Data["files"])
	assert.Equal(t, "TgzArchive", first.Data["handler"])

	// A changed file is put back.
	require.NoError(t, os.WriteFile(filepath.Join(dest, "app/README"), []byte("edited\n"), 0o644))
	res := mustRun(t, rt, "unarchive", args)
	assert.True(t, res.Changed)
	assert.Equal(t, "read me\n", readFile(t, filepath.Join(dest, "app/README")))

	// extra_opts reach tar (in the comparison too), mode goes to every member.
	dest2 := filepath.Join(dir, "dest2")
	require.NoError(t, os.Mkdir(dest2, 0o755))
	args2 := map[string]any{"src": filepath.Join(dir, "files", "app.tar.gz"), "remote_src": true, "dest": dest2,
		"extra_opts": []any{"--strip-components=1"}, "mode": "u+rwX,go-rwx"}
	idempotent(t, rt, "unarchive", args2, nil)
	assert.Equal(t, "#!/bin/sh\n", readFile(t, filepath.Join(dest2, "bin/run")))
	assert.Equal(t, os.FileMode(0o600), modeOf(t, filepath.Join(dest2, "README")))
	assert.Equal(t, os.FileMode(0o700), modeOf(t, filepath.Join(dest2, "bin")))

	res = mustRun(t, rt, "unarchive", map[string]any{"src": "app.tar.gz", "dest": dest2, "creates": filepath.Join(dest2, "README")})
	assert.False(t, res.Changed)
	assert.Contains(t, res.Msg, "skipped, since")
	_, err := runMod(t, rt, "unarchive", map[string]any{"src": "app.tar.gz", "dest": filepath.Join(dir, "nope")})
	require.ErrorContains(t, err, "must be an existing dir")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "junk.tgz"), []byte("not an archive at all"), 0o644))
	_, err = runMod(t, rt, "unarchive", map[string]any{"src": "junk.tgz", "dest": dest})
	require.ErrorContains(t, err, "cannot read junk.tgz as a tar archive")
}

func TestUnarchiveZipFromAURL(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "files"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "app.zip"), zipped(t), 0o644))
	dest := filepath.Join(dir, "dest")
	require.NoError(t, os.Mkdir(dest, 0o755))
	rt := localRT(t, dir)
	res := idempotent(t, rt, "unarchive", map[string]any{"src": "app.zip", "dest": dest, "exclude": "*/bin/*", "list_files": true},
		func(applied bool) { assert.Equal(t, applied, exists(filepath.Join(dest, "app/README"))) })
	assert.Equal(t, "ZipArchive", res.Data["handler"])
	assert.False(t, exists(filepath.Join(dest, "app/bin/run")), "excluded")
	assert.Contains(t, res.Data["files"], "app/README")

	// The host downloads a URL src.
	zsrv := httptestFile(t, zipped(t))
	dest2 := filepath.Join(dir, "dest2")
	require.NoError(t, os.Mkdir(dest2, 0o755))
	idempotent(t, rt, "unarchive", map[string]any{"src": zsrv + "/app.zip", "dest": dest2, "remote_src": true}, nil)
	assert.Equal(t, "#!/bin/sh\n", readFile(t, filepath.Join(dest2, "app/bin/run")))
}

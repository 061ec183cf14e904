package modules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCopyContent(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	dest := filepath.Join(dir, "a.conf")
	args := map[string]any{"content": "hello\n", "dest": dest, "mode": "0600"}
	first := idempotent(t, rt, "copy", args, func(applied bool) {
		assert.Equal(t, applied, exists(dest))
	})
	assert.Equal(t, "hello\n", readFile(t, dest))
	assert.Equal(t, os.FileMode(0o600), modeOf(t, dest))
	require.Len(t, first.Diff, 1)
	assert.Equal(t, "", first.Diff[0].Before)
	assert.Equal(t, "hello\n", first.Diff[0].After)
	assert.Equal(t, "dynamically generated", first.Diff[0].AfterHeader)

	// A content change: diff shows the old content, backup keeps it.
	args = map[string]any{"content": "bye\n", "dest": dest, "backup": true}
	first = idempotent(t, rt, "copy", args, func(applied bool) {
		want := "hello\n"
		if applied {
			want = "bye\n"
		}
		assert.Equal(t, want, readFile(t, dest))
	})
	require.Len(t, first.Diff, 1)
	assert.Equal(t, "hello\n", first.Diff[0].Before)
	assert.Equal(t, "bye\n", first.Diff[0].After)
	assert.Equal(t, os.FileMode(0o600), modeOf(t, dest), "mode of the replaced file is kept")
	bk, _ := first.Data["backup_file"].(string)
	require.NotEmpty(t, bk)
	assert.Equal(t, "hello\n", readFile(t, bk))

	// Mode only.
	args = map[string]any{"content": "bye\n", "dest": dest, "mode": "u=rw,g=r,o=r"}
	first = idempotent(t, rt, "copy", args, func(applied bool) {
		want := os.FileMode(0o600)
		if applied {
			want = 0o644
		}
		assert.Equal(t, want, modeOf(t, dest))
	})
	require.Len(t, first.Diff, 1)
	assert.Equal(t, "mode: 0600\n", first.Diff[0].Before)
	assert.Equal(t, "mode: 0644\n", first.Diff[0].After)
}

func TestCopySrc(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "files", "tree", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "motd"), []byte("welcome\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "tree", "sub", "x"), []byte("x\n"), 0o644))
	out := filepath.Join(dir, "out")
	require.NoError(t, os.Mkdir(out, 0o755))

	// dest is a directory: the file lands under src's name.
	idempotent(t, rt, "copy", map[string]any{"src": "motd", "dest": out}, nil)
	assert.Equal(t, "welcome\n", readFile(t, filepath.Join(out, "motd")))

	// remote_src copies a file already on the host.
	idempotent(t, rt, "copy", map[string]any{"src": filepath.Join(out, "motd"), "remote_src": true, "dest": filepath.Join(out, "motd2")}, nil)
	assert.Equal(t, "welcome\n", readFile(t, filepath.Join(out, "motd2")))

	// A directory is copied recursively, in one script.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "tree", "y"), []byte("y\n"), 0o644))
	idempotent(t, rt, "copy", map[string]any{"src": "tree", "dest": out + "/"}, nil)
	assert.Equal(t, "x\n", readFile(t, filepath.Join(out, "tree", "sub", "x")))
	assert.Equal(t, "y\n", readFile(t, filepath.Join(out, "tree", "y")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "files", "tree", "y"), []byte("y2\n"), 0o644))
	first := idempotent(t, rt, "copy", map[string]any{"src": "tree/", "dest": out + "/tree"}, nil)
	require.Len(t, first.Diff, 1, "only the changed file has a diff")
	assert.Equal(t, "y\n", first.Diff[0].Before)
	assert.Equal(t, "y2\n", readFile(t, filepath.Join(out, "tree", "y")))

	// force=no leaves an existing file alone.
	res := mustRun(t, rt, "copy", map[string]any{"content": "other\n", "dest": filepath.Join(out, "motd"), "force": false})
	assert.False(t, res.Changed)
	assert.Equal(t, "welcome\n", readFile(t, filepath.Join(out, "motd")))

	// A missing directory is a clear error.
	_, err := runMod(t, rt, "copy", map[string]any{"content": "x", "dest": filepath.Join(dir, "nope", "f")})
	require.ErrorContains(t, err, "Destination directory")
}

func TestTemplate(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "templates"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "templates", "hello.j2"), []byte("hello {{ who }}\n"), 0o644))
	dest := filepath.Join(dir, "hello.txt")
	first := idempotent(t, rt, "template", map[string]any{"src": "hello.j2", "dest": dest, "mode": "0640"}, func(applied bool) {
		assert.Equal(t, applied, exists(dest))
	})
	assert.Equal(t, "hello world\n", readFile(t, dest))
	assert.Equal(t, os.FileMode(0o640), modeOf(t, dest))
	require.Len(t, first.Diff, 1)
	assert.Equal(t, "hello world\n", first.Diff[0].After)
}

func TestCopyValidate(t *testing.T) {
	dir := t.TempDir()
	rt := localRT(t, dir)
	dest := filepath.Join(dir, "sudoers")
	mustRun(t, rt, "copy", map[string]any{"content": "ok\n", "dest": dest, "validate": "grep -q ok %s"})
	_, err := runMod(t, rt, "copy", map[string]any{"content": "bad\n", "dest": dest, "validate": "grep -q ok %s"})
	require.ErrorContains(t, err, "failed to validate")
	assert.Equal(t, "ok\n", readFile(t, dest), "a file that fails validation is not put in place")
	_, err = runMod(t, rt, "copy", map[string]any{"content": "bad\n", "dest": dest, "validate": "true"})
	require.ErrorContains(t, err, "validate must contain %s")
	_, err = runMod(t, rt, "lineinfile", map[string]any{"path": dest, "line": "bad", "validate": "grep -q nothing-like-this %s"})
	require.ErrorContains(t, err, "failed to validate")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file is left behind")
}

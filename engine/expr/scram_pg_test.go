package expr

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/internal/testenv/need"
)

// Verifiers computed by Postgres 15 itself (CREATE ROLE ... PASSWORD with
// password_encryption = scram-sha-256, random salt), read from pg_authid.
// Recomputing them with Postgres's salt must give the same string.
var postgresVerifiers = []struct{ password, verifier string }{
	{"secret", "SCRAM-SHA-256$4096:B7wNq8dXU5IXShD1mZ+QmA==$VD8NkY+GP05AxHFfWXqkGXoGtq6LoNQRMaQSHf7Iuss=:RZH/8xlDm/39VUEm/Lba0UwkvpvweZ/p19PRdnPVct8="},
}

func TestScramMatchesPostgres(t *testing.T) {
	for _, v := range postgresVerifiers {
		rest := strings.TrimPrefix(v.verifier, "SCRAM-SHA-256$")
		iterSalt, _, _ := strings.Cut(rest, "$")
		iter, salt64, _ := strings.Cut(iterSalt, ":")
		n, err := strconv.Atoi(iter)
		require.NoError(t, err)
		salt, err := base64.StdEncoding.DecodeString(salt64)
		require.NoError(t, err)
		assert.Equal(t, v.verifier, ScramVerifier(v.password, salt, n))
	}
}

// TestScramLoginPostgres starts a throwaway Postgres on a unix socket, sets
// a role's password to our verifier, and logs in with the password over
// scram-sha-256. It needs the postgresql-15 package and root (to run the
// server as the postgres user): sh scripts/setup.sh installs it.
func TestScramLoginPostgres(t *testing.T) {
	need.Require(t, need.Root|need.Postgres)
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(bins) == 0 {
		t.Fatal("Postgres's server binaries are missing: run sh scripts/setup.sh (it installs postgresql-15 without starting a cluster)")
	}
	bin := bins[len(bins)-1]
	pgUser, err := user.Lookup("postgres")
	require.NoError(t, err, "the postgres user is missing: apt-get install -y postgresql-15")

	dir, err := os.MkdirTemp("", "tpago-scram-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	require.NoError(t, os.Chown(dir, uid, gid))
	data := filepath.Join(dir, "data")
	asPG := func(name string, args ...string) ([]byte, error) {
		cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	out, err := asPG("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
	require.NoError(t, err, string(out))
	hba := "local all postgres trust\nlocal all all scram-sha-256\n"
	require.NoError(t, os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(hba), 0o600))
	require.NoError(t, os.Chown(filepath.Join(data, "pg_hba.conf"), uid, gid))
	out, err = asPG("pg_ctl", "-D", data, "-w", "-l", filepath.Join(dir, "log"), "-o", fmt.Sprintf("-k %s -c listen_addresses='' -p 55432", dir), "start")
	require.NoError(t, err, string(out))
	t.Cleanup(func() { _, _ = asPG("pg_ctl", "-D", data, "-m", "immediate", "stop") })

	psql := func(user, password, sql string) (string, error) {
		cmd := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(bin, "psql"), "-h", dir, "-p", "55432", "-U", user, "-d", "postgres", "-XAtc", sql)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=5")
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		err := cmd.Run()
		return strings.TrimSpace(b.String()), err
	}
	password := "s3cret pass'word"
	verifier, err := Eval("password_scram(pw, 'cluster-m1')", map[string]any{"pw": password})
	require.NoError(t, err)
	sql := fmt.Sprintf("CREATE ROLE app LOGIN PASSWORD '%s'", verifier)
	out2, err := psql("postgres", "", sql)
	require.NoError(t, err, out2)
	stored, err := psql("postgres", "", "SELECT rolpassword FROM pg_authid WHERE rolname = 'app'")
	require.NoError(t, err, stored)
	assert.Equal(t, verifier, stored, "Postgres must store the verifier as given")

	deadline := time.Now().Add(10 * time.Second)
	got, err := psql("app", password, "SELECT current_user")
	for err != nil && time.Now().Before(deadline) && strings.Contains(got, "starting up") {
		time.Sleep(200 * time.Millisecond)
		got, err = psql("app", password, "SELECT current_user")
	}
	require.NoError(t, err, got)
	assert.Equal(t, "app", got)
	got, err = psql("app", "wrong", "SELECT 1")
	require.Error(t, err)
	assert.Contains(t, got, "password authentication failed")

	// and a verifier Postgres makes itself agrees with our computation
	out2, err = psql("postgres", "", "SET password_encryption = 'scram-sha-256'; CREATE ROLE pgmade PASSWORD 'secret'")
	require.NoError(t, err, out2)
	pgMade, err := psql("postgres", "", "SELECT rolpassword FROM pg_authid WHERE rolname = 'pgmade'")
	require.NoError(t, err)
	t.Logf("verifier made by Postgres: %s", pgMade)
	_, rest, _ := strings.Cut(pgMade, ":")
	salt64, _, _ := strings.Cut(rest, "$")
	salt, err := base64.StdEncoding.DecodeString(salt64)
	require.NoError(t, err)
	assert.Equal(t, pgMade, ScramVerifier("secret", salt, 4096))
}

package modules

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
	"github.com/tpago/tpago/internal/testenv/need"
)

// asPostgres runs scripts on this machine as the postgres user (runuser),
// the way a task with become_user: postgres runs them on a host.
type asPostgres struct{}

func (asPostgres) Run(ctx context.Context, script string) (conn.Output, error) {
	var stdout, stderr bytes.Buffer
	rc, err := conn.Local{}.Exec(ctx, `cd / && runuser -u postgres -- /bin/sh -c 'eval "$(cat)"'`, strings.NewReader(script), &stdout, &stderr)
	return conn.Output{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), RC: rc}, err
}

// localPG is a throwaway Postgres server on its own socket folder and
// port, for the postgresql_* modules.
type localPG struct {
	dir  string
	port int
	bin  string
}

// startLocalPG starts a Postgres server as the
// postgres user, listening only on a unix socket in a temporary folder;
// it is stopped and removed when the test that started it ends. It needs
// root and the postgresql-15 package (sh scripts/setup.sh installs it).
func startLocalPG(t *testing.T) *localPG {
	t.Helper()
	need.Require(t, need.Root|need.Postgres)
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	require.NotEmpty(t, bins, "Postgres's server binaries are missing: run sh scripts/setup.sh")
	pgUser, err := user.Lookup("postgres")
	require.NoError(t, err, "the postgres user is missing: apt-get install -y postgresql-15")
	dir, err := os.MkdirTemp("", "tpago-pgmod-")
	require.NoError(t, err)
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	require.NoError(t, os.Chown(dir, uid, gid))
	s := &localPG{dir: dir, port: 55400 + os.Getpid()%500, bin: bins[len(bins)-1]}
	data := filepath.Join(dir, "data")
	out, err := s.pg("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C")
	require.NoError(t, err, string(out))
	out, err = s.pg("pg_ctl", "-D", data, "-w", "-l", filepath.Join(dir, "log"), "-o",
		fmt.Sprintf("-k %s -c listen_addresses='' -p %d -c fsync=off -c wal_level=logical", dir, s.port), "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		_, _ = s.pg("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	})
	return s
}

func (s *localPG) pg(name string, args ...string) ([]byte, error) {
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(s.bin, name)}, args...)...)
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// psql runs SQL as postgres on the server and returns its output (-At).
func (s *localPG) psql(t *testing.T, db, sql string) string {
	t.Helper()
	cmd := exec.Command("runuser", "-u", "postgres", "--", "psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-h", s.dir, "-p", strconv.Itoa(s.port), "-d", db)
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s", sql, out)
	return strings.TrimSpace(string(out))
}

// args are a module's arguments with the connection to the local server.
func (s *localPG) args(a map[string]any) map[string]any {
	out := map[string]any{"login_unix_socket": s.dir, "port": s.port}
	for k, v := range a {
		out[k] = v
	}
	return out
}

func (s *localPG) rt(t *testing.T) *module.Runtime {
	rt := localRT(t, t.TempDir())
	rt.Remote = asPostgres{}
	return rt
}

// pgCycle runs a module the way the contract wants: check mode predicts a
// change and changes nothing (state is the observed state), the run
// changes, a second run and a second check change nothing.
func pgCycle(t *testing.T, rt *module.Runtime, name string, args map[string]any, state func() string) *module.Result {
	t.Helper()
	before := state()
	res := mustRun(t, with(rt, true, true), name, args)
	require.True(t, res.Changed, "check mode should predict a change")
	require.Equal(t, before, state(), "check mode changed the server")
	first := mustRun(t, with(rt, false, true), name, args)
	require.True(t, first.Changed, "the run should change")
	after := state()
	require.NotEqual(t, before, after, "the run changed nothing visible")
	res = mustRun(t, rt, name, args)
	require.False(t, res.Changed, "the second run should change nothing: %v", res.Data)
	res = mustRun(t, with(rt, true, true), name, args)
	require.False(t, res.Changed, "check mode after the run should predict nothing: %v", res.Data)
	require.Equal(t, after, state())
	return first
}

// The postgresql_* modules against a real server: each one creates,
// changes nothing the second time, predicts in check mode without
// changing, and removes.
func TestPostgresModulesOnARealServer(t *testing.T) {
	pg := startLocalPG(t)
	rt := pg.rt(t)

	t.Run("postgresql_user", func(t *testing.T) {
		name := `app "o'ne"; ü`
		role := func() string {
			return pg.psql(t, "postgres", "SELECT rolname, rolcreatedb, rolsuper, rolconnlimit, rolvaliduntil, rolpassword FROM pg_authid WHERE rolname = "+pgLiteral(name))
		}
		args := pg.args(map[string]any{"name": name, "password": "s3cret'pw", "role_attr_flags": "CREATEDB,NOSUPERUSER", "conn_limit": 5, "expires": "infinity"})
		res := pgCycle(t, rt, "postgresql_user", args, role)
		require.NotContains(t, fmt.Sprint(res.Data), "s3cret")
		require.Contains(t, role(), "SCRAM-SHA-256$4096:")
		// the password a login can use
		out := pg.psql(t, "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = "+pgLiteral(name))
		require.Equal(t, newPgUserPassword(name, module.Args{"password": "s3cret'pw"}).stored, out)

		// a change of one attribute only
		args["conn_limit"] = 7
		res = pgCycle(t, rt, "postgresql_user", args, role)
		require.Equal(t, []any{"ALTER USER " + pgIdent(name) + " CONNECTION LIMIT 7"}, res.Data["queries"])

		// a password Postgres hashed itself (another salt) is recognised
		pg.psql(t, "postgres", "ALTER ROLE "+pgIdent(name)+" PASSWORD 's3cret''pw'")
		require.False(t, mustRun(t, rt, "postgresql_user", args).Changed)
		// and so is the one the roles stored before they used this module
		// (password_scram, its salt seeded by cluster/user)
		old := expr.ScramSHA256("s3cret'pw", "cluster/"+name)
		pg.psql(t, "postgres", "ALTER ROLE "+pgIdent(name)+" PASSWORD "+pgLiteral(old))
		require.False(t, mustRun(t, rt, "postgresql_user", args).Changed)
		require.Equal(t, old, pg.psql(t, "postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = "+pgLiteral(name)))
		args["password"] = "other"
		res = pgCycle(t, rt, "postgresql_user", args, role)
		require.NotContains(t, fmt.Sprint(res.Data), "other")

		args["update_password"] = "on_create"
		args["password"] = "third"
		require.False(t, mustRun(t, rt, "postgresql_user", args).Changed)

		absent := pg.args(map[string]any{"name": name, "state": "absent"})
		res = pgCycle(t, rt, "postgresql_user", absent, role)
		require.Equal(t, true, res.Data["user_removed"])
		require.Empty(t, role())
	})

	t.Run("postgresql_db", func(t *testing.T) {
		name := `shop; DROP "x" ü`
		db := func() string {
			return pg.psql(t, "postgres", "SELECT datname, pg_get_userbyid(datdba), datconnlimit FROM pg_database WHERE datname = "+pgLiteral(name))
		}
		pg.psql(t, "postgres", `CREATE ROLE "db owner"`)
		args := pg.args(map[string]any{"name": name, "owner": "db owner", "encoding": "UTF-8", "template": "template0", "conn_limit": "10"})
		res := pgCycle(t, rt, "postgresql_db", args, db)
		require.Equal(t, name, res.Data["db"])
		args["conn_limit"] = "20"
		pgCycle(t, rt, "postgresql_db", args, db)
		_, err := runMod(t, rt, "postgresql_db", pg.args(map[string]any{"name": name, "encoding": "LATIN1"}))
		require.ErrorContains(t, err, "Changing the ENCODING of a database is not supported")
		_, err = runMod(t, rt, "postgresql_db", pg.args(map[string]any{"name": name, "state": "dump", "target": "/tmp/x"}))
		require.ErrorContains(t, err, "not supported")
		pgCycle(t, rt, "postgresql_db", pg.args(map[string]any{"name": name, "state": "absent"}), db)
		require.Empty(t, db())
	})

	t.Run("postgresql_schema", func(t *testing.T) {
		name := "Sales 'q'"
		schema := func() string {
			return pg.psql(t, "postgres", "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = "+pgLiteral(name))
		}
		pg.psql(t, "postgres", `CREATE ROLE "schema owner"`)
		pgCycle(t, rt, "postgresql_schema", pg.args(map[string]any{"name": name}), schema)
		res := pgCycle(t, rt, "postgresql_schema", pg.args(map[string]any{"name": name, "owner": "schema owner"}), schema)
		require.Equal(t, []any{"ALTER SCHEMA " + pgIdent(name) + ` OWNER TO "schema owner"`}, res.Data["queries"])
		pg.psql(t, "postgres", "CREATE TABLE "+pgIdent(name)+".t ()")
		_, err := runMod(t, rt, "postgresql_schema", pg.args(map[string]any{"name": name, "state": "absent"}))
		require.ErrorContains(t, err, "depend")
		pgCycle(t, rt, "postgresql_schema", pg.args(map[string]any{"name": name, "state": "absent", "cascade_drop": true}), schema)
	})

	t.Run("postgresql_ext", func(t *testing.T) {
		ext := func() string {
			return pg.psql(t, "postgres", "SELECT extname, extversion, extnamespace::regnamespace FROM pg_extension WHERE extname = 'hstore'")
		}
		pg.psql(t, "postgres", `CREATE SCHEMA "ext s"`)
		res := pgCycle(t, rt, "postgresql_ext", pg.args(map[string]any{"name": "hstore", "db": "postgres", "version": "1.7"}), ext)
		require.Equal(t, "1.7", res.Data["version"])
		res = pgCycle(t, rt, "postgresql_ext", pg.args(map[string]any{"name": "hstore", "db": "postgres", "version": "latest", "schema": "ext s"}), ext)
		require.Equal(t, "1.7", res.Data["prev_version"])
		require.Contains(t, ext(), `"ext s"`)
		_, err := runMod(t, rt, "postgresql_ext", pg.args(map[string]any{"name": "no_such_ext", "db": "postgres"}))
		require.ErrorContains(t, err, "not available")
		pgCycle(t, rt, "postgresql_ext", pg.args(map[string]any{"name": "hstore", "db": "postgres", "state": "absent"}), ext)
	})

	t.Run("postgresql_slot", func(t *testing.T) {
		slots := func() string {
			return pg.psql(t, "postgres", "SELECT slot_name, slot_type, plugin FROM pg_replication_slots ORDER BY 1")
		}
		pgCycle(t, rt, "postgresql_slot", pg.args(map[string]any{"name": "phys1", "immediately_reserve": true}), slots)
		pgCycle(t, rt, "postgresql_slot", pg.args(map[string]any{"name": "logi1", "slot_type": "logical", "db": "postgres"}), slots)
		_, err := runMod(t, rt, "postgresql_slot", pg.args(map[string]any{"name": "phys1", "slot_type": "logical"}))
		require.ErrorContains(t, err, "is not logical")
		pgCycle(t, rt, "postgresql_slot", pg.args(map[string]any{"name": "phys1", "state": "absent"}), slots)
		pgCycle(t, rt, "postgresql_slot", pg.args(map[string]any{"name": "logi1", "state": "absent", "db": "postgres"}), slots)
		require.Empty(t, slots())
	})

	t.Run("postgresql_set", func(t *testing.T) {
		auto := func() string {
			return pg.psql(t, "postgres", "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%auto.conf' ORDER BY 1")
		}
		res := pgCycle(t, rt, "postgresql_set", pg.args(map[string]any{"name": "work_mem", "value": "64MB"}), auto)
		require.Equal(t, "4MB", res.Data["prev_val_pretty"])
		require.Equal(t, false, res.Data["restart_required"])
		require.Equal(t, map[string]any{"value": "65536", "unit": "kB"}, res.Data["value"])
		// the same value written otherwise is no change
		require.False(t, mustRun(t, rt, "postgresql_set", pg.args(map[string]any{"name": "work_mem", "value": "65536kB"})).Changed)
		res = pgCycle(t, rt, "postgresql_set", pg.args(map[string]any{"name": "max_connections", "value": "120"}), auto)
		require.Equal(t, true, res.Data["restart_required"])
		pgCycle(t, rt, "postgresql_set", pg.args(map[string]any{"name": "log_checkpoints", "value": "off"}), auto)
		pgCycle(t, rt, "postgresql_set", pg.args(map[string]any{"name": "shared_preload_libraries", "value": "pg_stat_statements, auto_explain"}), auto)
		require.Contains(t, auto(), "pg_stat_statements, auto_explain")
		pgCycle(t, rt, "postgresql_set", pg.args(map[string]any{"name": "statement_timeout", "value": "5min"}), auto)
		pgCycle(t, rt, "postgresql_set", pg.args(map[string]any{"name": "work_mem", "reset": true}), auto)
		_, err := runMod(t, rt, "postgresql_set", pg.args(map[string]any{"name": "no_such_thing", "value": "1"}))
		require.ErrorContains(t, err, "does not exist")
		_, err = runMod(t, rt, "postgresql_set", pg.args(map[string]any{"name": "work_mem", "value": "lots"}))
		require.ErrorContains(t, err, "is not a number")
	})

	t.Run("postgresql_privs", func(t *testing.T) {
		pg.psql(t, "postgres", `CREATE ROLE "reader ü"; CREATE SCHEMA "app data"; CREATE TABLE "app data"."t 1" (); CREATE TABLE "app data".t2 (); CREATE SEQUENCE "app data".s`)
		acl := func() string {
			return pg.psql(t, "postgres", `SELECT relname, relacl FROM pg_class WHERE relnamespace = '"app data"'::regnamespace ORDER BY 1;
SELECT nspacl FROM pg_namespace WHERE nspname = 'app data'; SELECT datacl FROM pg_database WHERE datname = 'postgres'; SELECT defaclacl FROM pg_default_acl`)
		}
		base := func(a map[string]any) map[string]any {
			a["database"] = "postgres"
			a["roles"] = "reader ü"
			return pg.args(a)
		}
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "database", "privs": "CONNECT,TEMP"}), acl)
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "schema", "objs": "app data", "privs": "USAGE"}), acl)
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "table", "schema": "app data", "objs": "t 1", "privs": "SELECT,INSERT"}), acl)
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "table", "schema": "app data", "objs": "ALL_IN_SCHEMA", "privs": "SELECT", "grant_option": true}), acl)
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "table", "schema": "app data", "objs": "ALL_IN_SCHEMA", "privs": "SELECT", "grant_option": false}), acl)
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "sequence", "schema": "app data", "objs": "s", "privs": "USAGE"}), acl)
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "default_privs", "schema": "app data", "objs": "TABLES", "privs": "SELECT", "target_roles": "postgres"}), acl)
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "table", "schema": "app data", "objs": "ALL_IN_SCHEMA", "privs": "ALL", "state": "absent"}), acl)
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "default_privs", "schema": "app data", "objs": "TABLES", "privs": "SELECT", "target_roles": "postgres", "state": "absent"}), acl)
		pgCycle(t, rt, "postgresql_privs", base(map[string]any{"type": "database", "privs": "CONNECT,TEMP", "state": "absent"}), acl)
		_, err := runMod(t, rt, "postgresql_privs", pg.args(map[string]any{"database": "postgres", "roles": "nobody here", "type": "schema", "objs": "public", "privs": "USAGE"}))
		require.ErrorContains(t, err, "Role nobody here does not exist")
		require.False(t, mustRun(t, rt, "postgresql_privs", pg.args(map[string]any{"database": "postgres", "roles": "nobody here", "type": "schema", "objs": "public", "privs": "USAGE", "fail_on_role": false})).Changed)
		_, err = runMod(t, rt, "postgresql_privs", base(map[string]any{"type": "function", "objs": "f()", "privs": "EXECUTE"}))
		require.ErrorContains(t, err, "not supported")
	})

	t.Run("postgresql_query", func(t *testing.T) {
		pg.psql(t, "postgres", `CREATE TABLE items (id int, name text, price numeric, ok boolean, doc jsonb)`)
		table := func() string { return pg.psql(t, "postgres", "SELECT * FROM items ORDER BY id") }
		ins := pg.args(map[string]any{"db": "postgres", "query": "INSERT INTO items VALUES (%s, %s, %s, %s, %s) RETURNING id, name",
			"positional_args": []any{1, "it's; DROP TABLE items; --\\", 2.5, true, `{"a": [1]}`}})
		before := table()
		res := mustRun(t, with(rt, true, true), "postgresql_query", ins)
		require.True(t, res.Changed)
		require.Equal(t, before, table(), "check mode rolled back")
		res = mustRun(t, rt, "postgresql_query", ins)
		require.True(t, res.Changed)
		require.Equal(t, "INSERT 0 1", res.Data["statusmessage"])
		require.Equal(t, []any{map[string]any{"id": int64(1), "name": "it's; DROP TABLE items; --\\"}}, res.Data["query_result"])

		sel := pg.args(map[string]any{"db": "postgres", "query": "SELECT id, name, price, ok, doc, NULL AS n, '' AS e FROM items WHERE name = %(n)s;", "named_args": map[string]any{"n": "it's; DROP TABLE items; --\\"}})
		res = mustRun(t, rt, "postgresql_query", sel)
		require.False(t, res.Changed)
		require.Equal(t, 1, res.Data["rowcount"])
		require.Equal(t, []any{map[string]any{"id": int64(1), "name": "it's; DROP TABLE items; --\\", "price": 2.5, "ok": true,
			"doc": map[string]any{"a": []any{float64(1)}}, "n": nil, "e": ""}}, res.Data["query_result"])

		upd := pg.args(map[string]any{"db": "postgres", "query": "UPDATE items SET price = 3 WHERE id = 99"})
		require.False(t, mustRun(t, rt, "postgresql_query", upd).Changed)
		res = mustRun(t, rt, "postgresql_query", pg.args(map[string]any{"db": "postgres", "query": "CREATE TABLE q2 (a text)"}))
		require.True(t, res.Changed)
		require.Equal(t, "CREATE TABLE", res.Data["statusmessage"])
		res = mustRun(t, rt, "postgresql_query", pg.args(map[string]any{"db": "postgres", "query": "VACUUM q2", "autocommit": true}))
		require.True(t, res.Changed)
		for _, bad := range []string{"SELECT 1; SELECT 2", `SELECT 1 \\! id`} {
			_, err := runMod(t, rt, "postgresql_query", pg.args(map[string]any{"db": "postgres", "query": bad}))
			require.Error(t, err, bad)
		}
		_, err := runMod(t, with(rt, true, false), "postgresql_query", pg.args(map[string]any{"db": "postgres", "query": "VACUUM", "autocommit": true}))
		require.ErrorContains(t, err, "check mode")
	})
}

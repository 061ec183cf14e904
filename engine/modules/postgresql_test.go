package modules

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
)

func TestPgQuoting(t *testing.T) {
	for _, tc := range []struct{ in, ident, lit string }{
		{"app", `"app"`, `'app'`},
		{"My Role", `"My Role"`, `'My Role'`},
		{`a"b`, `"a""b"`, `'a"b'`},
		{"o'neil", `"o'neil"`, `'o''neil'`},
		{`x"; DROP ROLE postgres; --`, `"x""; DROP ROLE postgres; --"`, `'x"; DROP ROLE postgres; --'`},
		{`back\slash'`, `"back\slash'"`, `E'back\\slash'''`},
		{"ünï ☃", `"ünï ☃"`, `'ünï ☃'`},
		{":var", `":var"`, `':var'`},
	} {
		assert.Equal(t, tc.ident, pgIdent(tc.in), tc.in)
		assert.Equal(t, tc.lit, pgLiteral(tc.in), tc.in)
	}
	assert.Error(t, pgCheckName("name", ""))
	assert.Error(t, pgCheckName("name", "a\x00b"))
	assert.Error(t, pgCheckName("name", strings.Repeat("é", 32)), "64 bytes: Postgres would truncate it")
	assert.NoError(t, pgCheckName("name", strings.Repeat("a", 63)))
	assert.Equal(t, `'a b'`, pgConninfoValue("a b"))
	assert.Equal(t, `'it\'s \\'`, pgConninfoValue(`it's \`))
}

func TestPgConninfo(t *testing.T) {
	_, spec, _ := module.Lookup("postgresql_db")
	args, err := spec.Normalize(map[string]any{"name": "x", "login_unix_socket": "/run/pg", "login_user": "admin", "connect_params": map[string]any{"application_name": "tpago"}})
	require.NoError(t, err)
	ci, err := pgConninfo(args, "postgres")
	require.NoError(t, err)
	assert.Equal(t, "host='/run/pg' port='5432' user='admin' dbname='postgres' sslmode='prefer' application_name='tpago'", ci)
	args["connect_params"] = map[string]any{"password": "x"}
	_, err = pgConninfo(args, "")
	assert.ErrorContains(t, err, "login_password")
}

func norm(t *testing.T, name string, raw map[string]any) module.Args {
	t.Helper()
	_, spec, _ := module.Lookup(name)
	args, err := spec.Normalize(raw)
	require.NoError(t, err)
	return args
}

func TestPgUserPlan(t *testing.T) {
	p, pw, err := userPlan(norm(t, "postgresql_user", map[string]any{"name": `we"ird`, "password": "pw", "role_attr_flags": "createdb, NOSUPERUSER", "conn_limit": 3}))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(pw.stored, "SCRAM-SHA-256$4096:"))
	create := p.steps[0]
	assert.Equal(t, `CREATE USER "we""ird" WITH CREATEDB NOSUPERUSER PASSWORD '********' CONNECTION LIMIT 3`, create.show)
	assert.Contains(t, create.stmt, pw.stored)
	sql := p.sql(&pgSQL{}, false)
	assert.NotContains(t, sql, "'pw'", "the clear password never reaches SQL")
	assert.Contains(t, sql, `ALTER USER "we""ird" CREATEDB`)
	assert.Contains(t, sql, `\gexec`)
	assert.NotContains(t, p.sql(&pgSQL{}, true), `\gexec`, "check mode runs nothing")

	_, _, err = userPlan(norm(t, "postgresql_user", map[string]any{"name": "a", "role_attr_flags": "CREATEDB,SUPERPOWER"}))
	assert.ErrorContains(t, err, `"SUPERPOWER" is not a role attribute`)
	_, _, err = userPlan(norm(t, "postgresql_user", map[string]any{"name": "a", "role_attr_flags": "CREATEDB,NOCREATEDB"}))
	assert.ErrorContains(t, err, "both ways")

	// an md5 hash is given as it is
	_, pw, err = userPlan(norm(t, "postgresql_user", map[string]any{"name": "a", "password": "md5" + strings.Repeat("0", 32)}))
	require.NoError(t, err)
	assert.Equal(t, "md5"+strings.Repeat("0", 32), pw.stored)
}

func TestPgPlansRefuse(t *testing.T) {
	_, err := dbPlan(norm(t, "postgresql_db", map[string]any{"name": "x", "state": "dump", "target": "/tmp/x.sql"}))
	assert.ErrorContains(t, err, "state=dump is not supported")
	_, err = privsPlan(norm(t, "postgresql_privs", map[string]any{"database": "d", "roles": "r", "type": "function", "objs": "f()", "privs": "EXECUTE"}))
	assert.ErrorContains(t, err, "type function is not supported")
	_, err = privsPlan(norm(t, "postgresql_privs", map[string]any{"database": "d", "roles": "r", "type": "table", "objs": "t", "privs": "SELECT; DROP TABLE t"}))
	assert.ErrorContains(t, err, "is not a privilege")
	_, err = setPlan(norm(t, "postgresql_set", map[string]any{"name": "work_mem; x", "value": "1"}))
	assert.ErrorContains(t, err, "is not a parameter name")

	p, err := privsPlan(norm(t, "postgresql_privs", map[string]any{"database": "d", "roles": "PUBLIC,r 1", "schema": "S", "objs": "ALL_IN_SCHEMA", "privs": "select", "grant_option": false}))
	require.NoError(t, err)
	var stmts []string
	for _, s := range p.steps {
		stmts = append(stmts, s.stmt)
	}
	assert.Equal(t, []string{
		`REVOKE GRANT OPTION FOR SELECT ON ALL TABLES IN SCHEMA "S" FROM PUBLIC`, `GRANT SELECT ON ALL TABLES IN SCHEMA "S" TO PUBLIC`,
		`REVOKE GRANT OPTION FOR SELECT ON ALL TABLES IN SCHEMA "S" FROM "r 1"`, `GRANT SELECT ON ALL TABLES IN SCHEMA "S" TO "r 1"`,
	}, stmts)
}

// Default privileges are set as Ansible sets them: in schema public unless
// told otherwise, exactly privs (what was there is revoked first), with
// USAGE on types; absent revokes all on tables, sequences and types.
func TestDefaultPrivsLikeAnsible(t *testing.T) {
	stmts := func(a map[string]any) []string {
		a["database"], a["roles"], a["type"] = "d", "reader", "default_privs"
		p, err := privsPlan(norm(t, "postgresql_privs", a))
		require.NoError(t, err)
		var out []string
		for _, s := range p.steps {
			out = append(out, s.stmt)
		}
		return out
	}
	assert.Equal(t, []string{
		`ALTER DEFAULT PRIVILEGES FOR ROLE "app" IN SCHEMA "public" REVOKE ALL ON TABLES FROM "reader"`,
		`ALTER DEFAULT PRIVILEGES FOR ROLE "app" IN SCHEMA "public" GRANT SELECT ON TABLES TO "reader"`,
		`ALTER DEFAULT PRIVILEGES FOR ROLE "app" IN SCHEMA "public" GRANT USAGE ON TYPES TO "reader"`,
	}, stmts(map[string]any{"objs": "TABLES", "privs": "SELECT", "target_roles": "app"}))
	assert.Equal(t, []string{
		`ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM "reader"`,
		`ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO "reader"`,
	}, stmts(map[string]any{"objs": "SEQUENCES", "privs": "USAGE", "schema": "not-specified", "usage_on_types": false}))
	assert.Equal(t, []string{
		`ALTER DEFAULT PRIVILEGES IN SCHEMA "S" REVOKE ALL ON TABLES FROM "reader"`,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA "S" REVOKE ALL ON SEQUENCES FROM "reader"`,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA "S" REVOKE ALL ON TYPES FROM "reader"`,
	}, stmts(map[string]any{"objs": "TABLES", "privs": "SELECT", "schema": "S", "state": "absent"}))
}

func TestPrepareQuery(t *testing.T) {
	q, err := prepareQuery("SELECT * FROM t WHERE a = %s AND b = %(b)s AND c LIKE 'x%%';", []any{"it's"}, nil)
	assert.ErrorContains(t, err, "named_args has no")
	assert.Empty(t, q)
	q, err = prepareQuery("SELECT %s, %s, %s, %s, '%%s' AS lit, 100 %% 7;", []any{"it's", 3, nil, []any{true, `a\b`}}, nil)
	require.NoError(t, err)
	assert.Equal(t, `SELECT 'it''s', 3, NULL, ARRAY[TRUE, E'a\\b'], '%%s' AS lit, 100 % 7`, q,
		"inside quotes the text is left alone, outside %% is a percent sign")
	q, err = prepareQuery("SELECT 'a;b', $x$ ; \\ $x$, \"c;\" -- ;\n", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "SELECT 'a;b', $x$ ; \\ $x$, \"c;\" -- ;", q)
	_, err = prepareQuery("SELECT 1; SELECT 2", nil, nil)
	assert.ErrorContains(t, err, "several statements")
	_, err = prepareQuery(`SELECT 1 \! id`, nil, nil)
	assert.ErrorContains(t, err, "meta-command")
	_, err = prepareQuery("SELECT %s", []any{1, 2}, nil)
	assert.ErrorContains(t, err, "2 given for 1")
	assert.True(t, queryChanged("INSERT 0 2"))
	assert.False(t, queryChanged("UPDATE 0"))
	assert.False(t, queryChanged("SELECT 3"))
	assert.True(t, queryChanged("CREATE TABLE"))
}

// secretRunner records the scripts sent, for the secret test.
type secretRunner struct{ scripts []string }

func (s *secretRunner) Run(_ context.Context, script string) (conn.Output, error) {
	s.scripts = append(s.scripts, script)
	return conn.Output{}, nil
}

// A clear password never travels: only its SCRAM verifier does, inside
// the script on stdin; the login password is in the script's environment
// line (masked by the executor as a no_log argument), never on psql's
// command line.
func TestPgSecretsStayOffCommandLines(t *testing.T) {
	sr := &secretRunner{}
	rt := &module.Runtime{Host: "h", Remote: sr}
	m, spec, _ := module.Lookup("postgresql_user")
	args, err := spec.Normalize(map[string]any{"name": "app", "password": "clear-pw", "login_password": "login-pw"})
	require.NoError(t, err)
	_, _ = m.Run(context.Background(), rt, args)
	require.Len(t, sr.scripts, 1)
	s := sr.scripts[0]
	assert.NotContains(t, s, "clear-pw")
	assert.Contains(t, s, "PGPASSWORD=login-pw\nexport PGPASSWORD")
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "psql -XAtq") {
			assert.NotContains(t, l, "login-pw")
		}
	}
}

// verifierRunner answers a postgresql_user plan as psql would for a role
// that exists and whose stored verifier is stored (a SCRAM verifier with
// another salt than the module's), and records the scripts sent.
type verifierRunner struct {
	stored  string
	scripts []string
}

func (v *verifierRunner) Run(_ context.Context, script string) (conn.Output, error) {
	v.scripts = append(v.scripts, script)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	out := "@T exists=" + b64("true") + "\n" +
		"@T pw_iter_salt=" + b64(scramIterSalt(v.stored)) + "\n" +
		"@T pw_md5=" + b64(fmt.Sprintf("%x", md5.Sum([]byte(v.stored)))) + "\n"
	return conn.Output{Stdout: []byte(out)}, nil
}

// A password whose stored verifier has another salt — the one the roles'
// password_scram filter gave it (seeded by cluster/user), or Postgres's
// own random one — is recognised as unchanged: the task is ok and sends
// nothing more. Another password is set, in check mode only reported.
func TestPgUserKeepsVerifiersWithOtherSalts(t *testing.T) {
	const pw = "app-secret-1"
	// Made by Postgres 15 itself (ALTER ROLE app PASSWORD 'app-secret-1').
	byPostgres := "SCRAM-SHA-256$4096:nY22Bh3/fbKiMvFnO/iTsQ==$DS5iGkMbGF/51qz97bK1YFqaBrjM7t0Jg+hKhjlVMmc=:2UbzPzG7uBNtTRI4OOnlQqxnNZFvyF+WylRqq6qeQ/U="
	byFilter := expr.ScramSHA256(pw, "mycluster/app")
	require.NotEqual(t, scramIterSalt(byFilter), scramIterSalt(newPgUserPassword("app", module.Args{"password": pw}).stored))
	m, spec, _ := module.Lookup("postgresql_user")
	for name, stored := range map[string]string{"postgres": byPostgres, "password_scram": byFilter} {
		t.Run(name, func(t *testing.T) {
			args, err := spec.Normalize(map[string]any{"name": "app", "password": pw})
			require.NoError(t, err)
			vr := &verifierRunner{stored: stored}
			res, err := m.Run(context.Background(), &module.Runtime{Host: "h", Remote: vr}, args)
			require.NoError(t, err)
			assert.False(t, res.Changed, "the same password with another salt")
			assert.Len(t, vr.scripts, 1, "nothing is sent to change it")

			args["password"] = "another"
			vr = &verifierRunner{stored: stored}
			res, err = m.Run(context.Background(), &module.Runtime{Host: "h", Remote: vr}, args)
			require.NoError(t, err)
			assert.True(t, res.Changed)
			assert.Equal(t, []any{`ALTER USER "app" PASSWORD '********'`}, res.Data["queries"])
			require.Len(t, vr.scripts, 2, "the new verifier is set")
			_, data, _ := strings.Cut(vr.scripts[1], "<<'__TPAGO_DATA__'\n")
			data, _, _ = strings.Cut(data, "__TPAGO_DATA__")
			sql, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(data, "\n", ""))
			require.NoError(t, err)
			assert.Contains(t, string(sql), newPgUserPassword("app", args).stored, "the module's own verifier is set")
			assert.NotContains(t, vr.scripts[1]+string(sql), "another", "never the clear password")

			vr = &verifierRunner{stored: stored}
			res, err = m.Run(context.Background(), &module.Runtime{Host: "h", Remote: vr, Check: true}, args)
			require.NoError(t, err)
			assert.True(t, res.Changed, "check mode predicts the change")
			assert.Len(t, vr.scripts, 1, "check mode changes nothing")
		})
	}
}

package modules

// The community.postgresql modules (postgresql_user, postgresql_db…) run
// psql on the host: one sh script per task that feeds one SQL script to
// psql on stdin. The SQL script reads the catalogs, decides and applies in
// the same session, and prints "@T key=value" lines like the shell modules.
//
// Most modules describe their work as a plan: statements built here, in Go,
// with every name and value quoted by pgIdent and pgLiteral, each guarded by
// a SQL condition on the current state. psql prints which statements the
// conditions select (that is the check-mode prediction and the `queries`
// result) and, unless in check mode, runs them with \gexec.

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tpago/tpago/engine/conn"
	"github.com/tpago/tpago/engine/module"
)

// pgIdent quotes a SQL identifier (a role, database, schema… name):
// always in double quotes, a double quote doubled, so that any name —
// spaces, quotes, semicolons, capitals, unicode — stays one identifier
// with its case kept.
func pgIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// pgLiteral quotes a SQL string literal. A backslash makes it an escape
// string (E'…', backslashes doubled), so the literal means the same
// whatever standard_conforming_strings is, and psql's lexer, which knows
// both forms, never sees a meta-command inside it.
func pgLiteral(s string) string {
	q := strings.ReplaceAll(s, `'`, `''`)
	if strings.Contains(s, `\`) {
		return `E'` + strings.ReplaceAll(q, `\`, `\\`) + `'`
	}
	return `'` + q + `'`
}

// pgCheckName refuses a name Postgres cannot hold as given: empty, with a
// NUL byte, not UTF-8, or longer than NAMEDATALEN-1 (63) bytes, which
// Postgres would silently truncate (and the next run would not find it).
func pgCheckName(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s: the name is empty", what)
	case strings.ContainsRune(s, 0):
		return fmt.Errorf("%s: %q holds a NUL byte", what, s)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s: %q is not valid UTF-8", what, s)
	case len(s) > 63:
		return fmt.Errorf("%s: %q is %d bytes long; Postgres names are at most 63 bytes (it would truncate it)", what, s, len(s))
	}
	return nil
}

// pgCheckText refuses a value Postgres cannot hold in a text literal.
func pgCheckText(what, s string) error {
	if strings.ContainsRune(s, 0) {
		return fmt.Errorf("%s: the value holds a NUL byte", what)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s: the value is not valid UTF-8", what)
	}
	return nil
}

// pgB64 is a SQL expression that encodes the text expression e in base64
// on one line, so that any value travels back in an "@T" line.
func pgB64(e string) string {
	return `translate(encode(convert_to(coalesce((` + e + `)::text, ''), 'UTF8'), 'base64'), E'\n', '')`
}

// pgSay is a SQL statement that reports the value of the text expression
// e under key (base64: read it back with pgValue).
func pgSay(key, e string) string {
	return fmt.Sprintf("SELECT concat('@T %s=', %s);\n", key, pgB64(e))
}

// pgValue decodes a value reported with pgSay.
func pgValue(r kv, key string) string {
	b, _ := base64.StdEncoding.DecodeString(r.get(key))
	return string(b)
}

// pgConnArgs are the connection arguments every postgresql_* module takes.
// db names the module's own "database to connect to" argument and its
// aliases (postgresql_privs calls it database, the others db or login_db).
func pgConnArgs(db module.Arg) []module.Arg {
	return []module.Arg{
		db,
		{Name: "login_user", Type: module.String, Default: "postgres", Aliases: []string{"login"}, Doc: "role to connect as"},
		{Name: "login_password", Type: module.String, NoLog: true, Doc: "password to connect with (given to psql in PGPASSWORD, never on a command line)"},
		{Name: "login_host", Type: module.String, Aliases: []string{"host"}, Doc: "host to connect to; empty: the local unix socket"},
		{Name: "login_unix_socket", Type: module.String, Aliases: []string{"unix_socket"}, Doc: "folder of the unix socket to connect through"},
		{Name: "port", Type: module.Int, Default: 5432, Aliases: []string{"login_port"}, Doc: "server port"},
		{Name: "ssl_mode", Type: module.String, Default: "prefer", Choices: []string{"allow", "disable", "prefer", "require", "verify-ca", "verify-full"}, Doc: "libpq sslmode"},
		{Name: "ca_cert", Type: module.String, Aliases: []string{"ssl_rootcert"}, Doc: "file of certificate authorities to check the server's certificate with"},
		{Name: "ssl_cert", Type: module.String, Doc: "client certificate file"},
		{Name: "ssl_key", Type: module.String, Doc: "client key file"},
		{Name: "connect_params", Type: module.Dict, Doc: "further libpq connection parameters (name: value)"},
		{Name: "session_role", Type: module.String, Doc: "role to switch to (SET ROLE) after connecting"},
		{Name: "trust_input", Type: module.Bool, Default: true, Doc: "accepted for compatibility: tpago always quotes names and values"},
	}
}

// pgConninfoValue quotes a libpq connection-string value.
func pgConninfoValue(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// pgConninfo builds the libpq connection string for args, connecting to
// database dbname ("" for libpq's default).
func pgConninfo(args module.Args, dbname string) (string, error) {
	type kvp struct{ k, v string }
	var ps []kvp
	host := args.String("login_host")
	if host == "" {
		host = args.String("login_unix_socket")
	}
	if host != "" {
		ps = append(ps, kvp{"host", host})
	}
	ps = append(ps, kvp{"port", strconv.Itoa(args.Int("port"))}, kvp{"user", args.String("login_user")})
	if dbname != "" {
		ps = append(ps, kvp{"dbname", dbname})
	}
	ps = append(ps, kvp{"sslmode", args.String("ssl_mode")})
	for _, a := range [][2]string{{"ca_cert", "sslrootcert"}, {"ssl_cert", "sslcert"}, {"ssl_key", "sslkey"}} {
		if v := args.String(a[0]); v != "" {
			ps = append(ps, kvp{a[1], v})
		}
	}
	extra := args.Map("connect_params")
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz_") != "" {
			return "", fmt.Errorf("connect_params: %q is not a libpq parameter name", k)
		}
		if k == "password" {
			return "", fmt.Errorf("connect_params: give the password in login_password (it travels in PGPASSWORD, not in the connection string)")
		}
		ps = append(ps, kvp{k, fmt.Sprint(extra[k])})
	}
	var b strings.Builder
	for i, p := range ps {
		if err := pgCheckText(p.k, p.v); err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.k + "=" + pgConninfoValue(p.v))
	}
	return b.String(), nil
}

// pgSQL is a SQL script being built for psql.
type pgSQL struct{ b strings.Builder }

func (q *pgSQL) add(s string) *pgSQL {
	q.b.WriteString(s)
	if !strings.HasSuffix(s, "\n") {
		q.b.WriteByte('\n')
	}
	return q
}

func (q *pgSQL) String() string { return q.b.String() }

// newPgSQL starts a script: SET ROLE when session_role is given.
func newPgSQL(args module.Args) (*pgSQL, error) {
	q := &pgSQL{}
	if r := args.String("session_role"); r != "" {
		if err := pgCheckName("session_role", r); err != nil {
			return nil, err
		}
		q.add("SET ROLE " + pgIdent(r) + ";")
	}
	return q, nil
}

// runPsql sends sql to psql on the host, connected to dbname with args'
// connection arguments, and parses what the script reported. A psql
// error, or a failure the SQL reported ("@T fail=…"), is returned as the
// error.
func runPsql(ctx context.Context, rt *module.Runtime, args module.Args, dbname string, sql string) (kv, error) {
	r, _, err := runPsqlOut(ctx, rt, args, dbname, sql)
	return r, err
}

// runPsqlOut is runPsql that also returns psql's whole output.
func runPsqlOut(ctx context.Context, rt *module.Runtime, args module.Args, dbname string, sql string) (kv, conn.Output, error) {
	ci, err := pgConninfo(args, dbname)
	if err != nil {
		return nil, conn.Output{}, err
	}
	s := newScript(rt)
	s.line(`command -v psql >/dev/null 2>&1 || die "psql was not found on the host: install the Postgres client (apt: postgresql-client)"`)
	if pw := args.String("login_password"); pw != "" {
		s.set("PGPASSWORD", pw).line("export PGPASSWORD")
	}
	s.line("PGCLIENTENCODING=UTF8; PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}; export PGCLIENTENCODING PGCONNECT_TIMEOUT")
	s.set("conninfo", ci)
	s.line(`err=$(mktemp) || die "cannot create a temporary file"
trap 'rm -f "$err"' EXIT`)
	s.line("{ " + conn.Heredoc([]byte(sql)) + "\n} | psql -XAtq -v ON_ERROR_STOP=1 -d \"$conninfo\" 2>\"$err\"")
	s.line(`rc=$?
if [ $rc -ne 0 ]; then
  msg=$(sed -e 's/^psql:<stdin>:[0-9]*: //' -e 's/^psql: //' "$err" | grep -v '^$' | head -n 5 | tr '\n' ' ')
  die "psql failed (status $rc): ${msg:-no message}"
fi`)
	logf(rt, "psql on %s: %s", rt.Host, dbname)
	r, out, err := run(ctx, rt, s)
	if err != nil {
		return r, out, err
	}
	if r.has("fail64") {
		return r, out, fmt.Errorf("%s", pgValue(r, "fail64"))
	}
	return r, out, nil
}

// pgStep is one statement of a plan: run when cond (a SQL boolean
// expression on the current state) holds. show is the statement as
// reported in `queries` (the statement itself unless it holds a secret).
type pgStep struct {
	cond string
	stmt string
	show string
}

// pgPlan is what a module wants done: checks that fail the task, facts to
// report, and guarded statements.
type pgPlan struct {
	// fail is a SQL text expression: NULL when all is well, else the
	// message the task fails with (nothing is changed then).
	fail  []string
	facts [][2]string
	steps []pgStep
	// after are facts read once the statements ran.
	after [][2]string
	// tolerate: a failing statement does not fail the task; the report
	// says exec_error=1 (postgresql_user's fail_on_user: false).
	tolerate bool
	// txn runs the plan in one transaction, committed, or rolled back in
	// check mode: the statements run in check mode too, so that their
	// effect can be measured (postgresql_privs compares ACLs).
	txn bool
}

func (p *pgPlan) step(cond, stmt string) { p.steps = append(p.steps, pgStep{cond: cond, stmt: stmt}) }

func (p *pgPlan) fact(key, expr string) { p.facts = append(p.facts, [2]string{key, expr}) }

func (p *pgPlan) failIf(cond, msg string) {
	p.fail = append(p.fail, fmt.Sprintf("CASE WHEN %s THEN %s END", cond, msg))
}

// sql renders the plan as a psql script: in check mode the statements are
// chosen and reported but not run.
func (p *pgPlan) sql(q *pgSQL, check bool) string {
	failExpr := "NULL::text"
	if len(p.fail) > 0 {
		failExpr = "coalesce(" + strings.Join(p.fail, ", ") + ")"
	}
	q.add("SELECT " + pgB64(failExpr) + " AS tpago_fail64, (" + failExpr + ") IS NULL AS tpago_ok \\gset")
	q.add(`\if :tpago_ok`)
	if p.txn {
		q.add("BEGIN;")
	}
	for _, f := range p.facts {
		q.add(pgSay(f[0], f[1]))
	}
	if len(p.steps) > 0 {
		var rows []string
		for i, s := range p.steps {
			rows = append(rows, fmt.Sprintf("(%d, CASE WHEN %s THEN %s END)", i, s.cond, pgLiteral(s.stmt)))
		}
		plan := "SELECT o, q FROM (VALUES " + strings.Join(rows, ", ") + ") AS p(o, q) WHERE q IS NOT NULL ORDER BY o"
		q.add("SELECT concat('@T run=', o) FROM (" + plan + ") AS s;")
		if !check || p.txn {
			if p.tolerate {
				q.add(`\set ON_ERROR_STOP 0`)
			}
			q.add("SELECT q FROM (" + plan + ") AS s \\gexec")
			if p.tolerate {
				q.add(`\if :ERROR`)
				q.add(`\echo '@T exec_error=1'`)
				q.add(`\endif`)
				q.add(`\set ON_ERROR_STOP 1`)
			}
		}
	}
	for _, f := range p.after {
		q.add(pgSay(f[0], f[1]))
	}
	if p.txn && check {
		q.add("ROLLBACK;")
	} else if p.txn {
		q.add("COMMIT;")
	}
	q.add(`\else`)
	q.add(`SELECT concat('@T fail64=', :'tpago_fail64');`)
	q.add(`\endif`)
	return q.String()
}

// ran returns the steps the script chose (and ran, unless in check mode),
// as shown in `queries`.
func (p *pgPlan) ran(r kv) []string {
	out := []string{}
	for _, v := range r["run"] {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= len(p.steps) {
			continue
		}
		s := p.steps[i]
		if s.show != "" {
			out = append(out, s.show)
		} else {
			out = append(out, s.stmt)
		}
	}
	return out
}

// runPlan runs a plan on the host and returns its report and the queries
// chosen.
func runPlan(ctx context.Context, rt *module.Runtime, args module.Args, dbname string, p *pgPlan) (kv, []string, error) {
	q, err := newPgSQL(args)
	if err != nil {
		return nil, nil, err
	}
	r, err := runPsql(ctx, rt, args, dbname, p.sql(q, rt.Check))
	if err != nil {
		return nil, nil, err
	}
	return r, p.ran(r), nil
}

// pgExists is a SQL condition: the query returns a row.
func pgExists(query string) string { return "EXISTS (" + query + ")" }

package modules

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/expr"
	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&PostgresUser{}) }

// PostgresUser is community.postgresql.postgresql_user: a login role, its
// attributes and its password.
type PostgresUser struct{}

// Spec implements module.Module.
func (*PostgresUser) Spec() module.Spec {
	return module.Spec{
		Name:  "postgresql_user",
		Check: module.CheckPredicts,
		Doc:   "Create, change or drop a Postgres user (a role that can log in): attributes, password, expiry, connection limit (community.postgresql.postgresql_user)",
		Args: append([]module.Arg{
			{Name: "name", Type: module.String, Required: true, Aliases: []string{"user"}, Doc: "name of the role"},
			{Name: "password", Type: module.String, NoLog: true, Doc: "password: clear text (tpago turns it into a SCRAM-SHA-256 verifier itself, so Postgres never sees it), or already hashed ('SCRAM-SHA-256$…', 'md5…'); an empty string removes the password"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present: the role exists as described; absent: it is dropped"},
			{Name: "role_attr_flags", Type: module.String, Default: "", Doc: "comma-separated role attributes: [NO]SUPERUSER, [NO]CREATEROLE, [NO]CREATEDB, [NO]INHERIT, [NO]LOGIN, [NO]REPLICATION, [NO]BYPASSRLS"},
			{Name: "expires", Type: module.String, Doc: "when the password expires (a timestamp, or 'infinity')"},
			{Name: "conn_limit", Type: module.Int, Doc: "connection limit (-1: none)"},
			{Name: "comment", Type: module.String, Doc: "comment on the role"},
			{Name: "no_password_changes", Type: module.Bool, Default: false, Doc: "never change the password of an existing role"},
			{Name: "update_password", Type: module.String, Default: "always", Choices: []string{"always", "on_create"}, Doc: "always: set the password when it differs; on_create: only when creating the role"},
			{Name: "encrypted", Type: module.Bool, Default: true, Doc: "accepted for compatibility: Postgres 10 and later always store a hash"},
			{Name: "fail_on_user", Type: module.Bool, Default: true, Aliases: []string{"fail_on_role"}, Doc: "with state=absent, fail when the role cannot be dropped (false: report user_removed=false instead)"},
			{Name: "priv", Type: module.String, Doc: "not supported (deprecated in Ansible): use postgresql_privs"},
			{Name: "groups", Type: module.List, Doc: "not supported (deprecated in Ansible): use postgresql_membership-style GRANT with postgresql_query"},
		}, pgConnArgs(module.Arg{Name: "db", Type: module.String, Aliases: []string{"login_db"}, Doc: "database to connect to (default: libpq's, the login user's name)"})...),
	}
}

// pgRoleFlags maps role_attr_flags words to pg_roles columns.
var pgRoleFlags = []struct{ word, col string }{
	{"SUPERUSER", "rolsuper"}, {"CREATEROLE", "rolcreaterole"}, {"CREATEDB", "rolcreatedb"}, {"INHERIT", "rolinherit"},
	{"LOGIN", "rolcanlogin"}, {"REPLICATION", "rolreplication"}, {"BYPASSRLS", "rolbypassrls"},
}

// parseRoleFlags reads role_attr_flags into column → wanted value, and the
// words as written (upper case) for the statements.
func parseRoleFlags(s string) (map[string]bool, []string, error) {
	want := map[string]bool{}
	var words []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		w = strings.ToUpper(w)
		base, on := w, true
		if strings.HasPrefix(w, "NO") {
			if _, ok := pgFlagCol(w[2:]); ok {
				base, on = w[2:], false
			}
		}
		col, ok := pgFlagCol(base)
		if !ok {
			var all []string
			for _, f := range pgRoleFlags {
				all = append(all, f.word)
			}
			return nil, nil, fmt.Errorf("role_attr_flags: %q is not a role attribute (%s, each optionally with NO in front)", w, strings.Join(all, ", "))
		}
		if prev, dup := want[col]; dup && prev != on {
			return nil, nil, fmt.Errorf("role_attr_flags: %s is given both ways", base)
		}
		want[col] = on
		words = append(words, w)
	}
	return want, words, nil
}

func pgFlagCol(word string) (string, bool) {
	for _, f := range pgRoleFlags {
		if f.word == word {
			return f.col, true
		}
	}
	return "", false
}

var md5Hash = regexp.MustCompile(`^md5[0-9a-f]{32}$`)

// pgUserPassword is the password part of a user plan.
type pgUserPassword struct {
	given  bool
	clear  string // the clear-text password ("" when given hashed)
	stored string // what Postgres should store ("" for no password)
}

func newPgUserPassword(name string, args module.Args) pgUserPassword {
	if !args.Has("password") {
		return pgUserPassword{}
	}
	pw := args.String("password")
	switch {
	case pw == "":
		return pgUserPassword{given: true}
	case strings.HasPrefix(pw, "SCRAM-SHA-256$") || md5Hash.MatchString(pw):
		return pgUserPassword{given: true, stored: pw}
	}
	// The salt is derived from the role's name and the password, so that
	// every run computes the same verifier and the next run finds it.
	return pgUserPassword{given: true, clear: pw, stored: expr.ScramSHA256(pw, "tpago postgresql_user "+name)}
}

// scramIterSalt is the "iterations:salt" part of a SCRAM verifier.
func scramIterSalt(v string) string {
	parts := strings.Split(v, "$")
	if len(parts) < 3 {
		return ""
	}
	return parts[1]
}

// matchesClear reports whether a SCRAM verifier with the given
// "iterations:salt" and md5 digest (as reported by the plan) was made from
// the clear password.
func scramMatches(clear, iterSalt, storedMD5 string) bool {
	it, salt64, ok := strings.Cut(iterSalt, ":")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(it)
	if err != nil || n <= 0 || n > 10_000_000 {
		return false
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil {
		return false
	}
	sum := md5.Sum([]byte(expr.ScramVerifier(clear, salt, n)))
	return hex.EncodeToString(sum[:]) == storedMD5
}

// userPlan builds the plan of postgresql_user.
func userPlan(args module.Args) (*pgPlan, pgUserPassword, error) {
	name := args.String("name")
	if err := pgCheckName("name", name); err != nil {
		return nil, pgUserPassword{}, err
	}
	if args.String("priv") != "" {
		return nil, pgUserPassword{}, fmt.Errorf("priv is not supported (it is deprecated in Ansible too): grant privileges with postgresql_privs")
	}
	if len(args.List("groups")) > 0 {
		return nil, pgUserPassword{}, fmt.Errorf("groups is not supported (it is deprecated in Ansible too): grant role membership with postgresql_query (GRANT group TO user)")
	}
	for _, k := range []string{"password", "comment", "expires"} {
		if err := pgCheckText(k, args.String(k)); err != nil {
			return nil, pgUserPassword{}, err
		}
	}
	L, I := pgLiteral(name), pgIdent(name)
	exists := pgExists("SELECT 1 FROM pg_roles WHERE rolname = " + L)
	col := func(c string) string { return "(SELECT " + c + " FROM pg_roles WHERE rolname = " + L + ")" }
	p := &pgPlan{}
	p.fact("exists", exists+"::text")
	for _, f := range pgRoleFlags {
		p.fact(f.col, col(f.col+"::text"))
	}
	p.fact("rolconnlimit", col("rolconnlimit::text"))
	p.fact("rolvaliduntil", col("rolvaliduntil::text"))
	p.fact("comment", col("shobj_description(oid, 'pg_authid')"))
	if args.String("state") == "absent" {
		p.step(exists, "DROP USER "+I)
		p.tolerate = !args.Bool("fail_on_user")
		return p, pgUserPassword{}, nil
	}
	want, words, err := parseRoleFlags(args.String("role_attr_flags"))
	if err != nil {
		return nil, pgUserPassword{}, err
	}
	pw := newPgUserPassword(name, args)
	create := []string{"CREATE USER " + I}
	show := []string{"CREATE USER " + I}
	if len(words) > 0 {
		create = append(create, "WITH "+strings.Join(words, " "))
		show = append(show, "WITH "+strings.Join(words, " "))
	}
	if pw.stored != "" {
		create = append(create, "PASSWORD "+pgLiteral(pw.stored))
		show = append(show, "PASSWORD '********'")
	}
	if args.Has("expires") {
		create = append(create, "VALID UNTIL "+pgLiteral(args.String("expires")))
		show = append(show, "VALID UNTIL "+pgLiteral(args.String("expires")))
	}
	if args.Has("conn_limit") {
		create = append(create, fmt.Sprintf("CONNECTION LIMIT %d", args.Int("conn_limit")))
		show = append(show, fmt.Sprintf("CONNECTION LIMIT %d", args.Int("conn_limit")))
	}
	p.steps = append(p.steps, pgStep{cond: "NOT " + exists, stmt: strings.Join(create, " "), show: strings.Join(show, " ")})
	for _, f := range pgRoleFlags {
		on, ok := want[f.col]
		if !ok {
			continue
		}
		word := f.word
		if !on {
			word = "NO" + word
		}
		p.step(fmt.Sprintf("%s AND %s IS DISTINCT FROM %t", exists, col(f.col), on), "ALTER USER "+I+" "+word)
	}
	if args.Has("expires") {
		e := pgLiteral(args.String("expires"))
		p.step(fmt.Sprintf("%s AND %s IS DISTINCT FROM %s::timestamptz", exists, col("rolvaliduntil"), e), "ALTER USER "+I+" VALID UNTIL "+e)
	}
	if args.Has("conn_limit") {
		n := args.Int("conn_limit")
		p.step(fmt.Sprintf("%s AND %s IS DISTINCT FROM %d", exists, col("rolconnlimit"), n), fmt.Sprintf("ALTER USER %s CONNECTION LIMIT %d", I, n))
	}
	if pw.given && !args.Bool("no_password_changes") && args.String("update_password") == "always" {
		stored := "(SELECT rolpassword FROM pg_authid WHERE rolname = " + L + ")"
		switch {
		case pw.stored == "":
			p.steps = append(p.steps, pgStep{cond: exists + " AND " + stored + " IS NOT NULL", stmt: "ALTER USER " + I + " PASSWORD NULL"})
		case pw.clear == "":
			p.steps = append(p.steps, pgStep{cond: exists + " AND " + stored + " IS DISTINCT FROM " + pgLiteral(pw.stored),
				stmt: "ALTER USER " + I + " PASSWORD " + pgLiteral(pw.stored), show: "ALTER USER " + I + " PASSWORD '********'"})
		default:
			// Differs for sure: no password, another md5, or a SCRAM
			// verifier with our salt. A SCRAM verifier with another salt
			// may still be of the same password: the plan reports its salt
			// and digest, and Run decides.
			md5ours := fmt.Sprintf("md5%x", md5.Sum([]byte(pw.clear+name)))
			cond := fmt.Sprintf("%s AND (%[2]s IS NULL OR (%[2]s <> %[3]s AND %[2]s <> %[4]s AND (%[2]s NOT LIKE 'SCRAM-SHA-256$%%' OR split_part(%[2]s, '$', 2) = %[5]s)))",
				exists, stored, pgLiteral(pw.stored), pgLiteral(md5ours), pgLiteral(scramIterSalt(pw.stored)))
			p.steps = append(p.steps, pgStep{cond: cond, stmt: "ALTER USER " + I + " PASSWORD " + pgLiteral(pw.stored), show: "ALTER USER " + I + " PASSWORD '********'"})
			other := fmt.Sprintf("%[1]s LIKE 'SCRAM-SHA-256$%%' AND split_part(%[1]s, '$', 2) <> %[2]s", stored, pgLiteral(scramIterSalt(pw.stored)))
			p.fact("pw_iter_salt", "CASE WHEN "+other+" THEN split_part("+stored+", '$', 2) END")
			p.fact("pw_md5", "CASE WHEN "+other+" THEN md5("+stored+") END")
		}
	}
	if args.Has("comment") {
		c := args.String("comment")
		p.step(fmt.Sprintf("coalesce(%s, '') <> %s", col("shobj_description(oid, 'pg_authid')"), pgLiteral(c)), "COMMENT ON ROLE "+I+" IS "+pgLiteral(c))
	}
	return p, pw, nil
}

// Run implements module.Module.
func (*PostgresUser) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	p, pw, err := userPlan(args)
	if err != nil {
		return nil, err
	}
	dbname := args.String("db")
	r, queries, err := runPlan(ctx, rt, args, dbname, p)
	if err != nil {
		return nil, err
	}
	name := args.String("name")
	existed := pgValue(r, "exists") == "true"
	pwChanged := false
	for _, q := range queries {
		if strings.Contains(q, " PASSWORD ") && strings.HasPrefix(q, "ALTER") {
			pwChanged = true
		}
	}
	// A SCRAM verifier of another salt: same password or not?
	if iterSalt := pgValue(r, "pw_iter_salt"); iterSalt != "" && pw.clear != "" && !scramMatches(pw.clear, iterSalt, pgValue(r, "pw_md5")) {
		stmt := "ALTER USER " + pgIdent(name) + " PASSWORD " + pgLiteral(pw.stored)
		if !rt.Check {
			q, err := newPgSQL(args)
			if err != nil {
				return nil, err
			}
			if _, err := runPsql(ctx, rt, args, dbname, q.add(stmt+";").String()); err != nil {
				return nil, err
			}
		}
		queries = append(queries, "ALTER USER "+pgIdent(name)+" PASSWORD '********'")
		pwChanged = true
	}
	res := &module.Result{Changed: len(queries) > 0, Data: map[string]any{"user": name, "queries": strs(queries)}}
	if args.String("state") == "absent" {
		removed := existed && !r.flag("exec_error")
		res.Data["user_removed"] = removed
		if r.flag("exec_error") {
			res.Changed = false
			res.Msg = fmt.Sprintf("Unable to remove user %s (fail_on_user is false)", name)
		}
	}
	if res.Changed && rt.Diff {
		res.Diff = []module.Diff{userDiff(r, args, existed, pwChanged)}
	}
	return res, nil
}

// userDiff shows the role's attributes before and after.
func userDiff(r kv, args module.Args, existed, pwChanged bool) module.Diff {
	name := args.String("name")
	header := "role " + name
	if args.String("state") == "absent" {
		return stateDiff(header, "present", "absent")
	}
	want, _, _ := parseRoleFlags(args.String("role_attr_flags"))
	var before, after strings.Builder
	line := func(k, b, a string) {
		if existed {
			fmt.Fprintf(&before, "%s: %s\n", k, b)
		}
		fmt.Fprintf(&after, "%s: %s\n", k, a)
	}
	if !existed {
		before.WriteString("absent\n")
	}
	for _, f := range pgRoleFlags {
		b := pgValue(r, f.col)
		a := b
		if on, ok := want[f.col]; ok {
			a = strconv.FormatBool(on)
		} else if !existed {
			a = "(default)"
		}
		line(strings.ToLower(f.word), b, a)
	}
	b := pgValue(r, "rolconnlimit")
	a := b
	if args.Has("conn_limit") {
		a = strconv.Itoa(args.Int("conn_limit"))
	}
	line("conn_limit", b, a)
	b = pgValue(r, "rolvaliduntil")
	a = b
	if args.Has("expires") {
		a = args.String("expires")
	}
	line("expires", b, a)
	if args.Has("comment") {
		line("comment", pgValue(r, "comment"), args.String("comment"))
	}
	if pwChanged {
		line("password", "********", "(changed)")
	}
	return module.Diff{BeforeHeader: header, AfterHeader: header, Before: before.String(), After: after.String()}
}

var _ module.Module = (*PostgresUser)(nil)

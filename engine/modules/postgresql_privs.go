package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&PostgresPrivs{}) }

// PostgresPrivs is community.postgresql.postgresql_privs for databases,
// schemas, tables, sequences and default privileges. Like Ansible's, it
// runs the GRANT or REVOKE in a transaction and compares the ACLs before
// and after: changed when they differ; check mode rolls back.
type PostgresPrivs struct{}

// Spec implements module.Module.
func (*PostgresPrivs) Spec() module.Spec {
	return module.Spec{
		Name:  "postgresql_privs",
		Check: module.CheckPredicts,
		Doc:   "Grant or revoke privileges on Postgres databases, schemas, tables, sequences and default privileges (community.postgresql.postgresql_privs; other object types are refused)",
		Args: append([]module.Arg{
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present: GRANT; absent: REVOKE"},
			{Name: "privs", Type: module.List, Aliases: []string{"priv"}, Doc: "privileges (SELECT, INSERT, USAGE, CONNECT, ALL…), a list or comma-separated"},
			{Name: "type", Type: module.String, Default: "table", Choices: []string{"table", "sequence", "function", "procedure", "database", "schema", "language", "tablespace", "group", "default_privs", "foreign_data_wrapper", "foreign_server", "type", "parameter"},
				Doc: "kind of object: table, sequence, database, schema or default_privs (the others are refused)"},
			{Name: "objs", Type: module.List, Aliases: []string{"obj"}, Doc: "objects, a list or comma-separated; ALL_IN_SCHEMA for every table or sequence of the schema; for default_privs: TABLES, SEQUENCES, FUNCTIONS, TYPES, SCHEMAS or ALL_DEFAULT; for database: default the database connected to"},
			{Name: "schema", Type: module.String, Doc: "schema of the tables or sequences (default public); for default_privs, the schema they apply in (default public; not-specified, or objs SCHEMAS: every schema)"},
			{Name: "roles", Type: module.List, Required: true, Aliases: []string{"role"}, Doc: "roles to grant to or revoke from, a list or comma-separated; PUBLIC for everyone"},
			{Name: "target_roles", Type: module.List, Doc: "default_privs: roles whose future objects get the privileges (FOR ROLE)"},
			{Name: "grant_option", Type: module.Bool, Aliases: []string{"admin_option"}, Doc: "with state=present: true grants WITH GRANT OPTION, false removes the grant option; unset leaves it"},
			{Name: "fail_on_role", Type: module.Bool, Default: true, Doc: "fail when a role does not exist (false: skip it)"},
			{Name: "usage_on_types", Type: module.Bool, Default: true, Doc: "default_privs with state=present: also grant USAGE on types, as Ansible does"},
		}, pgConnArgs(module.Arg{Name: "database", Type: module.String, Required: true, Aliases: []string{"db", "login_db"}, Doc: "database to connect to, where the objects are"})...),
	}
}

var privsAllowed = map[string][]string{
	"table":         {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "ALL"},
	"sequence":      {"SELECT", "UPDATE", "USAGE", "ALL"},
	"database":      {"CREATE", "CONNECT", "TEMPORARY", "TEMP", "ALL"},
	"schema":        {"CREATE", "USAGE", "ALL"},
	"default_privs": {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "USAGE", "EXECUTE", "CREATE", "ALL"},
}

var defaultPrivObjs = map[string]bool{"TABLES": true, "SEQUENCES": true, "FUNCTIONS": true, "TYPES": true, "SCHEMAS": true}

func privsPlan(args module.Args) (*pgPlan, error) {
	typ := args.String("type")
	allowed, ok := privsAllowed[typ]
	if !ok {
		return nil, fmt.Errorf("type %s is not supported by tpago's postgresql_privs (table, sequence, database, schema, default_privs are): write the GRANT with postgresql_query", typ)
	}
	var privs []string
	for _, pr := range args.Strings("privs") {
		pr = strings.ToUpper(strings.TrimSpace(pr))
		if pr == "ALL PRIVILEGES" {
			pr = "ALL"
		}
		found := false
		for _, a := range allowed {
			found = found || a == pr
		}
		if !found {
			return nil, fmt.Errorf("privs: %q is not a privilege on a %s (%s)", pr, typ, strings.Join(allowed, ", "))
		}
		privs = append(privs, pr)
	}
	if len(privs) == 0 {
		return nil, fmt.Errorf("privs: give the privileges to grant or revoke (role membership, type group, is not supported: use postgresql_query)")
	}
	schema := args.String("schema")
	onSchemas := false
	for _, o := range args.Strings("objs") {
		onSchemas = onSchemas || strings.EqualFold(o, "SCHEMAS")
	}
	switch {
	case typ == "default_privs" && schema == "not-specified":
		// Ansible's word for default privileges in every schema.
		schema = ""
	case schema == "" && (typ == "table" || typ == "sequence" || (typ == "default_privs" && !onSchemas)):
		schema = "public"
	}
	if schema != "" {
		if err := pgCheckName("schema", schema); err != nil {
			return nil, err
		}
	}
	objs := args.Strings("objs")
	if typ == "database" && len(objs) == 0 {
		objs = []string{args.String("database")}
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("objs: give the objects to grant on")
	}
	// on is what follows ON in GRANT; snap reads the ACLs it changes.
	var on []string
	var snap string
	switch typ {
	case "table", "sequence":
		kw, kinds := "TABLE", "'r', 'v', 'm', 'f', 'p'"
		if typ == "sequence" {
			kw, kinds = "SEQUENCE", "'S'"
		}
		if len(objs) == 1 && objs[0] == "ALL_IN_SCHEMA" {
			on = []string{"ALL " + kw + "S IN SCHEMA " + pgIdent(schema)}
		} else {
			var names []string
			for _, o := range objs {
				if err := pgCheckName("objs", o); err != nil {
					return nil, err
				}
				names = append(names, pgIdent(schema)+"."+pgIdent(o))
			}
			on = []string{kw + " " + strings.Join(names, ", ")}
		}
		snap = "SELECT string_agg(c.relname || '=' || coalesce(c.relacl::text, ''), E'\n' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = " + pgLiteral(schema) + " AND c.relkind IN (" + kinds + ")"
	case "database", "schema":
		var names, lits []string
		for _, o := range objs {
			if err := pgCheckName("objs", o); err != nil {
				return nil, err
			}
			names = append(names, pgIdent(o))
			lits = append(lits, pgLiteral(o))
		}
		on = []string{strings.ToUpper(typ) + " " + strings.Join(names, ", ")}
		if typ == "database" {
			snap = "SELECT string_agg(datname || '=' || coalesce(datacl::text, ''), E'\n' ORDER BY datname) FROM pg_database WHERE datname IN (" + strings.Join(lits, ", ") + ")"
		} else {
			snap = "SELECT string_agg(nspname || '=' || coalesce(nspacl::text, ''), E'\n' ORDER BY nspname) FROM pg_namespace WHERE nspname IN (" + strings.Join(lits, ", ") + ")"
		}
	case "default_privs":
		for _, o := range objs {
			o = strings.ToUpper(o)
			if o == "ALL_DEFAULT" {
				on = append(on, "TABLES", "SEQUENCES", "FUNCTIONS", "TYPES")
				continue
			}
			if !defaultPrivObjs[o] {
				return nil, fmt.Errorf("objs: %q is not a kind of default privileges (TABLES, SEQUENCES, FUNCTIONS, TYPES, SCHEMAS, ALL_DEFAULT)", o)
			}
			on = append(on, o)
		}
		snap = "SELECT string_agg(defaclrole::regrole::text || ':' || defaclnamespace::text || ':' || defaclobjtype::text || '=' || defaclacl::text, E'\n' ORDER BY 1) FROM pg_default_acl"
	}
	p := &pgPlan{txn: true}
	p.fact("before", "coalesce(("+snap+"), '')")
	p.after = append(p.after, [2]string{"after", "coalesce((" + snap + "), '')"})
	prefix := ""
	if typ == "default_privs" {
		prefix = "ALTER DEFAULT PRIVILEGES "
		if tr := args.Strings("target_roles"); len(tr) > 0 {
			var q []string
			for _, r := range tr {
				if err := pgCheckName("target_roles", r); err != nil {
					return nil, err
				}
				q = append(q, pgIdent(r))
			}
			prefix += "FOR ROLE " + strings.Join(q, ", ") + " "
		}
		if schema != "" {
			prefix += "IN SCHEMA " + pgIdent(schema) + " "
		}
	}
	plist := strings.Join(privs, ", ")
	for _, role := range args.Strings("roles") {
		role = strings.TrimSpace(role)
		grantee, cond := "PUBLIC", "true"
		if !strings.EqualFold(role, "PUBLIC") {
			if err := pgCheckName("roles", role); err != nil {
				return nil, err
			}
			grantee = pgIdent(role)
			cond = pgExists("SELECT 1 FROM pg_roles WHERE rolname = " + pgLiteral(role))
			if args.Bool("fail_on_role") {
				p.failIf("NOT "+cond, fmt.Sprintf("concat('Role ', %s, ' does not exist')", pgLiteral(role)))
			}
		}
		if typ == "default_privs" {
			// As Ansible: absent revokes everything on tables, sequences
			// and types; present first revokes what is on each kind, so
			// that the privileges become exactly privs, and grants USAGE
			// on types too unless usage_on_types is false.
			if args.String("state") == "absent" {
				for _, o := range []string{"TABLES", "SEQUENCES", "TYPES"} {
					p.step(cond, prefix+"REVOKE ALL ON "+o+" FROM "+grantee)
				}
				continue
			}
			for _, o := range on {
				p.step(cond, prefix+"REVOKE ALL ON "+o+" FROM "+grantee)
			}
		}
		for _, o := range on {
			switch {
			case args.String("state") == "absent":
				p.step(cond, prefix+"REVOKE "+plist+" ON "+o+" FROM "+grantee)
			case args.Has("grant_option") && args.Bool("grant_option"):
				p.step(cond, prefix+"GRANT "+plist+" ON "+o+" TO "+grantee+" WITH GRANT OPTION")
			case args.Has("grant_option"):
				p.step(cond, prefix+"REVOKE GRANT OPTION FOR "+plist+" ON "+o+" FROM "+grantee)
				p.step(cond, prefix+"GRANT "+plist+" ON "+o+" TO "+grantee)
			default:
				p.step(cond, prefix+"GRANT "+plist+" ON "+o+" TO "+grantee)
			}
		}
		if typ == "default_privs" && args.Bool("usage_on_types") {
			p.step(cond, prefix+"GRANT USAGE ON TYPES TO "+grantee)
		}
	}
	return p, nil
}

// Run implements module.Module.
func (*PostgresPrivs) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	p, err := privsPlan(args)
	if err != nil {
		return nil, err
	}
	r, queries, err := runPlan(ctx, rt, args, args.String("database"), p)
	if err != nil {
		return nil, err
	}
	before, after := pgValue(r, "before"), pgValue(r, "after")
	res := &module.Result{Changed: before != after, Data: map[string]any{"queries": strs(queries)}}
	if res.Changed && rt.Diff {
		h := "privileges (" + args.String("type") + ")"
		res.Diff = []module.Diff{{BeforeHeader: h, AfterHeader: h, Before: before + "\n", After: after + "\n"}}
	}
	return res, nil
}

var _ module.Module = (*PostgresPrivs)(nil)

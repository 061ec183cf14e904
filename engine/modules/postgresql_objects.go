package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() {
	module.Register(&PostgresDB{})
	module.Register(&PostgresSchema{})
	module.Register(&PostgresExt{})
	module.Register(&PostgresSlot{})
}

// planResult runs a plan and makes the usual result: changed when a
// statement was chosen, the statements under key, a state diff.
func planResult(ctx context.Context, rt *module.Runtime, args module.Args, dbname string, p *pgPlan, key, header string) (*module.Result, kv, error) {
	r, queries, err := runPlan(ctx, rt, args, dbname, p)
	if err != nil {
		return nil, nil, err
	}
	res := &module.Result{Changed: len(queries) > 0, Data: map[string]any{key: strs(queries)}}
	if res.Changed && rt.Diff {
		res.Diff = []module.Diff{{BeforeHeader: header, AfterHeader: header, Before: pgValue(r, "before") + "\n", After: afterText(args, r, queries) + "\n"}}
	}
	return res, r, nil
}

// afterText is the state after the run, for the diff: absent, or present
// with the statements run.
func afterText(args module.Args, r kv, queries []string) string {
	if args.String("state") == "absent" {
		return "absent"
	}
	return pgValue(r, "before") + "\n" + "-- then:\n" + strings.Join(queries, ";\n") + ";"
}

// PostgresDB is community.postgresql.postgresql_db.
type PostgresDB struct{}

// Spec implements module.Module.
func (*PostgresDB) Spec() module.Spec {
	return module.Spec{
		Name:  "postgresql_db",
		Check: module.CheckPredicts,
		Doc:   "Create or drop a Postgres database, and keep its owner, connection limit and tablespace (community.postgresql.postgresql_db; dump, restore and rename are refused)",
		Args: append([]module.Arg{
			{Name: "name", Type: module.String, Required: true, Aliases: []string{"db"}, Doc: "name of the database"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent", "dump", "restore", "rename"}, Doc: "present or absent (dump, restore and rename are not supported)"},
			{Name: "owner", Type: module.String, Doc: "role that owns the database"},
			{Name: "template", Type: module.String, Doc: "template to create the database from"},
			{Name: "encoding", Type: module.String, Doc: "encoding of a new database (an existing one with another encoding is an error)"},
			{Name: "lc_collate", Type: module.String, Doc: "collation order of a new database (LC_COLLATE)"},
			{Name: "lc_ctype", Type: module.String, Doc: "character classification of a new database (LC_CTYPE)"},
			{Name: "conn_limit", Type: module.String, Doc: "connection limit (-1: none)"},
			{Name: "tablespace", Type: module.String, Doc: "default tablespace of the database"},
			{Name: "force", Type: module.Bool, Default: false, Doc: "with state=absent, end the database's sessions to drop it (DROP DATABASE … WITH (FORCE), Postgres 13+)"},
			{Name: "target", Type: module.String, Doc: "not supported: dump and restore are refused"},
			{Name: "target_opts", Type: module.String, Doc: "not supported: dump and restore are refused"},
		}, pgConnArgs(module.Arg{Name: "maintenance_db", Type: module.String, Default: "postgres", Aliases: []string{"login_db"}, Doc: "database to connect to"})...),
	}
}

func dbPlan(args module.Args) (*pgPlan, error) {
	name := args.String("name")
	if err := pgCheckName("name", name); err != nil {
		return nil, err
	}
	switch st := args.String("state"); st {
	case "dump", "restore", "rename":
		return nil, fmt.Errorf("state=%s is not supported by tpago's postgresql_db: run pg_dump, pg_restore or ALTER DATABASE … RENAME with command: (become_user: postgres)", st)
	}
	L, I := pgLiteral(name), pgIdent(name)
	exists := pgExists("SELECT 1 FROM pg_database WHERE datname = " + L)
	col := func(c string) string { return "(SELECT " + c + " FROM pg_database WHERE datname = " + L + ")" }
	p := &pgPlan{}
	p.fact("before", "CASE WHEN "+exists+" THEN "+col("concat_ws(E'\\n', 'database: ' || datname, 'owner: ' || pg_get_userbyid(datdba), 'encoding: ' || pg_encoding_to_char(encoding), 'lc_collate: ' || datcollate, 'lc_ctype: ' || datctype, 'conn_limit: ' || datconnlimit)")+" ELSE 'absent' END")
	if args.String("state") == "absent" {
		stmt := "DROP DATABASE " + I
		if args.Bool("force") {
			stmt += " WITH (FORCE)"
		}
		p.step(exists, stmt)
		return p, nil
	}
	var opts []string
	for _, o := range []struct{ arg, kw string }{{"owner", "OWNER"}, {"template", "TEMPLATE"}, {"tablespace", "TABLESPACE"}} {
		if v := args.String(o.arg); v != "" {
			if err := pgCheckName(o.arg, v); err != nil {
				return nil, err
			}
			opts = append(opts, o.kw+" "+pgIdent(v))
		}
	}
	for _, o := range []struct{ arg, kw, col string }{{"encoding", "ENCODING", "pg_encoding_to_char(encoding)"}, {"lc_collate", "LC_COLLATE", "datcollate"}, {"lc_ctype", "LC_CTYPE", "datctype"}} {
		v := args.String(o.arg)
		if v == "" {
			continue
		}
		if err := pgCheckText(o.arg, v); err != nil {
			return nil, err
		}
		opts = append(opts, o.kw+" "+pgLiteral(v))
		cur := col(o.col)
		cond := cur + " <> " + pgLiteral(v)
		if o.arg == "encoding" {
			// UTF8, utf8 and UTF-8 are one encoding.
			cond = "upper(replace(" + cur + ", '-', '')) <> upper(replace(" + pgLiteral(v) + ", '-', ''))"
		}
		p.failIf(exists+" AND "+cond, fmt.Sprintf("concat('Changing the %s of a database is not supported: database ', %s, ' has %s ', %s, ', not ', %s)", strings.ToUpper(o.arg), L, o.arg, cur, pgLiteral(v)))
	}
	limit := args.String("conn_limit")
	if limit != "" {
		n := 0
		if _, err := fmt.Sscanf(limit, "%d", &n); err != nil || fmt.Sprint(n) != strings.TrimSpace(limit) {
			return nil, fmt.Errorf("conn_limit: %q is not a number", limit)
		}
		opts = append(opts, fmt.Sprintf("CONNECTION LIMIT %d", n))
		p.step(fmt.Sprintf("%s AND %s <> %d", exists, col("datconnlimit"), n), fmt.Sprintf("ALTER DATABASE %s CONNECTION LIMIT %d", I, n))
	}
	create := "CREATE DATABASE " + I
	if len(opts) > 0 {
		create += " WITH " + strings.Join(opts, " ")
	}
	p.steps = append([]pgStep{{cond: "NOT " + exists, stmt: create}}, p.steps...)
	if o := args.String("owner"); o != "" {
		p.step(exists+" AND "+col("pg_get_userbyid(datdba)")+" <> "+pgLiteral(o), "ALTER DATABASE "+I+" OWNER TO "+pgIdent(o))
	}
	if ts := args.String("tablespace"); ts != "" {
		p.step(exists+" AND "+col("(SELECT spcname FROM pg_tablespace WHERE oid = dattablespace)")+" <> "+pgLiteral(ts), "ALTER DATABASE "+I+" SET TABLESPACE "+pgIdent(ts))
	}
	return p, nil
}

// Run implements module.Module.
func (*PostgresDB) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	p, err := dbPlan(args)
	if err != nil {
		return nil, err
	}
	res, _, err := planResult(ctx, rt, args, args.String("maintenance_db"), p, "executed_commands", "database "+args.String("name"))
	if err != nil {
		return nil, err
	}
	res.Data["db"] = args.String("name")
	return res, nil
}

// PostgresSchema is community.postgresql.postgresql_schema.
type PostgresSchema struct{}

// Spec implements module.Module.
func (*PostgresSchema) Spec() module.Spec {
	return module.Spec{
		Name:  "postgresql_schema",
		Check: module.CheckPredicts,
		Doc:   "Create or drop a schema in a Postgres database and keep its owner (community.postgresql.postgresql_schema)",
		Args: append([]module.Arg{
			{Name: "name", Type: module.String, Required: true, Aliases: []string{"schema"}, Doc: "name of the schema"},
			{Name: "owner", Type: module.String, Doc: "role that owns the schema"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present or absent"},
			{Name: "cascade_drop", Type: module.Bool, Default: false, Doc: "with state=absent, drop the objects in the schema too (CASCADE)"},
		}, pgConnArgs(module.Arg{Name: "database", Type: module.String, Default: "postgres", Aliases: []string{"db", "login_db"}, Doc: "database to connect to, where the schema is"})...),
	}
}

func schemaPlan(args module.Args) (*pgPlan, error) {
	name := args.String("name")
	if err := pgCheckName("name", name); err != nil {
		return nil, err
	}
	L, I := pgLiteral(name), pgIdent(name)
	exists := pgExists("SELECT 1 FROM pg_namespace WHERE nspname = " + L)
	p := &pgPlan{}
	p.fact("before", "CASE WHEN "+exists+" THEN (SELECT concat_ws(E'\\n', 'schema: ' || nspname, 'owner: ' || pg_get_userbyid(nspowner)) FROM pg_namespace WHERE nspname = "+L+") ELSE 'absent' END")
	if args.String("state") == "absent" {
		stmt := "DROP SCHEMA " + I
		if args.Bool("cascade_drop") {
			stmt += " CASCADE"
		}
		p.step(exists, stmt)
		return p, nil
	}
	create := "CREATE SCHEMA " + I
	if o := args.String("owner"); o != "" {
		if err := pgCheckName("owner", o); err != nil {
			return nil, err
		}
		create += " AUTHORIZATION " + pgIdent(o)
		p.step("NOT "+exists, create)
		p.step(exists+" AND (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = "+L+") <> "+pgLiteral(o), "ALTER SCHEMA "+I+" OWNER TO "+pgIdent(o))
		return p, nil
	}
	p.step("NOT "+exists, create)
	return p, nil
}

// Run implements module.Module.
func (*PostgresSchema) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	p, err := schemaPlan(args)
	if err != nil {
		return nil, err
	}
	res, _, err := planResult(ctx, rt, args, args.String("database"), p, "queries", "schema "+args.String("name"))
	if err != nil {
		return nil, err
	}
	res.Data["schema"] = args.String("name")
	return res, nil
}

// PostgresExt is community.postgresql.postgresql_ext.
type PostgresExt struct{}

// Spec implements module.Module.
func (*PostgresExt) Spec() module.Spec {
	return module.Spec{
		Name:  "postgresql_ext",
		Check: module.CheckPredicts,
		Doc:   "Install, update or remove an extension in a Postgres database (community.postgresql.postgresql_ext)",
		Args: append([]module.Arg{
			{Name: "name", Type: module.String, Required: true, Aliases: []string{"ext"}, Doc: "name of the extension"},
			{Name: "schema", Type: module.String, Doc: "schema to install the extension into (an installed one is moved)"},
			{Name: "version", Type: module.String, Doc: "version to install or update to; 'latest': the default version the server offers"},
			{Name: "cascade", Type: module.Bool, Default: false, Doc: "install the extensions it needs / drop the objects that depend on it (CASCADE)"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present or absent"},
		}, pgConnArgs(module.Arg{Name: "db", Type: module.String, Required: true, Aliases: []string{"login_db", "database"}, Doc: "database to connect to, where the extension is"})...),
	}
}

func extPlan(args module.Args) (*pgPlan, error) {
	name := args.String("name")
	if err := pgCheckName("name", name); err != nil {
		return nil, err
	}
	L, I := pgLiteral(name), pgIdent(name)
	exists := pgExists("SELECT 1 FROM pg_extension WHERE extname = " + L)
	installed := "(SELECT extversion FROM pg_extension WHERE extname = " + L + ")"
	p := &pgPlan{}
	p.fact("prev_version", installed)
	p.fact("before", "CASE WHEN "+exists+" THEN (SELECT concat_ws(E'\\n', 'extension: ' || extname, 'version: ' || extversion, 'schema: ' || extnamespace::regnamespace::text) FROM pg_extension WHERE extname = "+L+") ELSE 'absent' END")
	cascade := ""
	if args.Bool("cascade") {
		cascade = " CASCADE"
	}
	if args.String("state") == "absent" {
		p.step(exists, "DROP EXTENSION "+I+cascade)
		p.after = append(p.after, [2]string{"version", installed})
		return p, nil
	}
	p.failIf("NOT "+exists+" AND NOT "+pgExists("SELECT 1 FROM pg_available_extensions WHERE name = "+L),
		fmt.Sprintf("concat('Extension ', %s, ' is not available on the server (is its package installed?)')", L))
	create := "CREATE EXTENSION " + I
	if s := args.String("schema"); s != "" {
		if err := pgCheckName("schema", s); err != nil {
			return nil, err
		}
		create += " SCHEMA " + pgIdent(s)
	}
	v := args.String("version")
	if err := pgCheckText("version", v); err != nil {
		return nil, err
	}
	if v != "" && v != "latest" {
		create += " VERSION " + pgLiteral(v)
		p.failIf(pgExists("SELECT 1 FROM pg_available_extensions WHERE name = "+L)+" AND NOT "+pgExists("SELECT 1 FROM pg_available_extension_versions WHERE name = "+L+" AND version = "+pgLiteral(v)),
			fmt.Sprintf("concat('Extension ', %s, ' has no version ', %s, ' on the server')", L, pgLiteral(v)))
	}
	p.step("NOT "+exists, create+cascade)
	switch v {
	case "":
	case "latest":
		p.step(exists+" AND "+installed+" <> (SELECT default_version FROM pg_available_extensions WHERE name = "+L+")", "ALTER EXTENSION "+I+" UPDATE")
	default:
		p.step(exists+" AND "+installed+" <> "+pgLiteral(v), "ALTER EXTENSION "+I+" UPDATE TO "+pgLiteral(v))
	}
	if s := args.String("schema"); s != "" {
		p.step(exists+" AND (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = "+L+") <> "+pgLiteral(pgIdentIfNeeded(s)), "ALTER EXTENSION "+I+" SET SCHEMA "+pgIdent(s))
	}
	p.after = append(p.after, [2]string{"version", installed})
	return p, nil
}

// pgIdentIfNeeded is a name as regnamespace::text shows it: quoted only
// when it is not a plain lower-case identifier.
func pgIdentIfNeeded(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == "" && (s[0] < '0' || s[0] > '9') {
		return s
	}
	return pgIdent(s)
}

// Run implements module.Module.
func (*PostgresExt) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	p, err := extPlan(args)
	if err != nil {
		return nil, err
	}
	res, r, err := planResult(ctx, rt, args, args.String("db"), p, "query", "extension "+args.String("name"))
	if err != nil {
		return nil, err
	}
	res.Data["prev_version"] = pgValue(r, "prev_version")
	res.Data["version"] = pgValue(r, "version")
	return res, nil
}

// PostgresSlot is community.postgresql.postgresql_slot.
type PostgresSlot struct{}

// Spec implements module.Module.
func (*PostgresSlot) Spec() module.Spec {
	return module.Spec{
		Name:  "postgresql_slot",
		Check: module.CheckPredicts,
		Doc:   "Create or drop a physical or logical replication slot (community.postgresql.postgresql_slot)",
		Args: append([]module.Arg{
			{Name: "name", Type: module.String, Required: true, Aliases: []string{"slot_name"}, Doc: "name of the slot"},
			{Name: "slot_type", Type: module.String, Default: "physical", Choices: []string{"physical", "logical"}, Doc: "physical or logical"},
			{Name: "immediately_reserve", Type: module.Bool, Default: false, Doc: "physical slots: reserve WAL from now on at once"},
			{Name: "output_plugin", Type: module.String, Default: "test_decoding", Doc: "logical slots: the output plugin"},
			{Name: "state", Type: module.String, Default: "present", Choices: []string{"present", "absent"}, Doc: "present or absent"},
		}, pgConnArgs(module.Arg{Name: "db", Type: module.String, Aliases: []string{"login_db"}, Doc: "database to connect to (a logical slot belongs to it)"})...),
	}
}

func slotPlan(args module.Args) (*pgPlan, error) {
	name := args.String("name")
	if err := pgCheckName("name", name); err != nil {
		return nil, err
	}
	L := pgLiteral(name)
	exists := pgExists("SELECT 1 FROM pg_replication_slots WHERE slot_name = " + L)
	p := &pgPlan{}
	p.fact("before", "coalesce((SELECT concat_ws(E'\\n', 'slot: ' || slot_name, 'slot_type: ' || slot_type, 'plugin: ' || plugin) FROM pg_replication_slots WHERE slot_name = "+L+"), 'absent')")
	if args.String("state") == "absent" {
		p.step(exists, "SELECT pg_drop_replication_slot("+L+")")
		return p, nil
	}
	kind := args.String("slot_type")
	p.failIf(pgExists("SELECT 1 FROM pg_replication_slots WHERE slot_name = "+L+" AND slot_type <> "+pgLiteral(kind)),
		fmt.Sprintf("concat('Replication slot ', %s, ' exists but is not %s: drop it first (state: absent)')", L, kind))
	if kind == "logical" {
		plugin := args.String("output_plugin")
		if err := pgCheckName("output_plugin", plugin); err != nil {
			return nil, err
		}
		p.step("NOT "+exists, "SELECT pg_create_logical_replication_slot("+L+", "+pgLiteral(plugin)+")")
	} else {
		p.step("NOT "+exists, fmt.Sprintf("SELECT pg_create_physical_replication_slot(%s, %t)", L, args.Bool("immediately_reserve")))
	}
	return p, nil
}

// Run implements module.Module.
func (*PostgresSlot) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	p, err := slotPlan(args)
	if err != nil {
		return nil, err
	}
	res, _, err := planResult(ctx, rt, args, args.String("db"), p, "queries", "replication slot "+args.String("name"))
	if err != nil {
		return nil, err
	}
	res.Data["name"] = args.String("name")
	return res, nil
}

var (
	_ module.Module = (*PostgresDB)(nil)
	_ module.Module = (*PostgresSchema)(nil)
	_ module.Module = (*PostgresExt)(nil)
	_ module.Module = (*PostgresSlot)(nil)
)

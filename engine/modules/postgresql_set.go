package modules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&PostgresSet{}) }

// PostgresSet is community.postgresql.postgresql_set: ALTER SYSTEM.
type PostgresSet struct{}

// Spec implements module.Module.
func (*PostgresSet) Spec() module.Spec {
	return module.Spec{
		Name:  "postgresql_set",
		Check: module.CheckPredicts,
		Doc:   "Set or reset a Postgres server parameter with ALTER SYSTEM and reload the configuration; says when a restart is needed (community.postgresql.postgresql_set)",
		Args: append([]module.Arg{
			{Name: "name", Type: module.String, Required: true, Doc: "parameter name (work_mem, shared_buffers…)"},
			{Name: "value", Type: module.String, Doc: "value, with a unit where the parameter has one ('64MB', '5min'); 'default' resets it"},
			{Name: "reset", Type: module.Bool, Default: false, Doc: "remove the parameter from postgresql.auto.conf (back to postgresql.conf's value or the default)"},
		}, pgConnArgs(module.Arg{Name: "db", Type: module.String, Aliases: []string{"login_db"}, Doc: "database to connect to"})...),
		OneOf: [][]string{{"value", "reset"}},
	}
}

var gucName = regexp.MustCompile(`^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$`)

// listGUCs are the parameters whose value is a list: each element is its
// own literal in ALTER SYSTEM.
var listGUCs = map[string]bool{"shared_preload_libraries": true, "session_preload_libraries": true, "local_preload_libraries": true,
	"search_path": true, "temp_tablespaces": true, "unix_socket_directories": false}

// pgUnitFactor is a SQL expression: the size of a memory or time unit in
// bytes or milliseconds (NULL for no unit).
func pgUnitFactor(u string) string {
	return "(CASE " + u + " WHEN 'B' THEN 1 WHEN 'kB' THEN 1024 WHEN '8kB' THEN 8192 WHEN '16kB' THEN 16384 WHEN 'MB' THEN 1048576 WHEN '16MB' THEN 16777216 " +
		"WHEN 'GB' THEN 1073741824 WHEN 'TB' THEN 1099511627776 WHEN 'us' THEN 0.001 WHEN 'ms' THEN 1 WHEN 's' THEN 1000 WHEN 'min' THEN 60000 " +
		"WHEN 'h' THEN 3600000 WHEN 'd' THEN 86400000 END)"
}

// pgNormNumber is a SQL expression: the text value v (say '64MB') as a
// number in the parameter's unit (say kB: 65536); NULL when it does not
// read as a number with a known unit.
func pgNormNumber(v, unit string) string {
	return fmt.Sprintf("(SELECT CASE WHEN m IS NULL THEN NULL WHEN m[2] = '' THEN m[1]::numeric "+
		"ELSE m[1]::numeric * %s / coalesce(%s, 1) END FROM regexp_match(btrim(%s), '^(-?[0-9]+(?:\\.[0-9]+)?)\\s*([a-zA-Z]*)$') AS m)",
		pgUnitFactor("m[2]"), pgUnitFactor(unit), v)
}

// pgBoolNorm is a SQL expression: a boolean setting as 'on' or 'off' (NULL
// when it is not one), without a cast that would fail while Postgres
// plans the other branches of a CASE.
func pgBoolNorm(e string) string {
	return "(CASE WHEN lower(btrim(" + e + ")) IN ('on', 'true', 'yes', '1', 't', 'tr', 'tru', 'y', 'ye') THEN 'on' " +
		"WHEN lower(btrim(" + e + ")) IN ('off', 'false', 'no', '0', 'f', 'fa', 'fal', 'fals', 'n', 'of') THEN 'off' END)"
}

func setPlan(args module.Args) (*pgPlan, error) {
	name := strings.ToLower(args.String("name"))
	if !gucName.MatchString(name) {
		return nil, fmt.Errorf("name: %q is not a parameter name", args.String("name"))
	}
	value := args.String("value")
	if err := pgCheckText("value", value); err != nil {
		return nil, err
	}
	reset := args.Bool("reset") || strings.EqualFold(value, "default")
	N := pgLiteral(name)
	row := "(SELECT %s FROM pg_settings WHERE name = " + N + ")"
	col := func(c string) string { return fmt.Sprintf(row, c) }
	auto := pgExists("SELECT 1 FROM pg_file_settings WHERE name = " + N + " AND sourcefile LIKE '%postgresql.auto.conf'")
	p := &pgPlan{}
	p.failIf("NOT "+pgExists("SELECT 1 FROM pg_settings WHERE name = "+N), fmt.Sprintf("concat('Parameter ', %s, ' does not exist on the server')", N))
	p.fact("context", col("context"))
	p.fact("unit", col("unit"))
	p.fact("prev_val_pretty", "current_setting("+N+")")
	p.fact("boot_val", col("boot_val"))
	if reset {
		p.fact("before", "concat("+N+", ' = ', current_setting("+N+"), CASE WHEN "+auto+" THEN ' (postgresql.auto.conf)' END)")
		p.step(auto, "ALTER SYSTEM RESET "+name)
		p.step(auto, "SELECT pg_reload_conf()")
		return p, nil
	}
	// What the server will run with: the last line for the parameter in
	// its configuration files, else its current value.
	cur := "coalesce((SELECT setting FROM pg_file_settings WHERE name = " + N + " ORDER BY seqno DESC LIMIT 1), " + col("setting") + ")"
	unit := col("unit")
	D := pgLiteral(value)
	listNorm := func(e string) string { return "regexp_replace(btrim(" + e + "), '\\s*,\\s*', ',', 'g')" }
	same := "(CASE " + col("vartype") +
		" WHEN 'integer' THEN " + pgNormNumber(cur, unit) + " = " + pgNormNumber(D, unit) +
		" WHEN 'real' THEN " + pgNormNumber(cur, unit) + " = " + pgNormNumber(D, unit) +
		" WHEN 'bool' THEN " + pgBoolNorm(cur) + " = " + pgBoolNorm(D) +
		" WHEN 'enum' THEN lower(" + cur + ") = lower(" + D + ")" +
		" ELSE " + listNorm(cur) + " = " + listNorm(D) + " END)"
	p.failIf(col("vartype")+" IN ('integer', 'real') AND "+pgNormNumber(D, unit)+" IS NULL",
		fmt.Sprintf("concat('Parameter ', %s, ': ', %s, ' is not a number with a unit it takes (', coalesce(%s, 'no unit'), ')')", N, D, unit))
	p.fact("before", "concat("+N+" , ' = ', "+cur+", coalesce(' ' || "+unit+", ''))")
	p.fact("value_norm", "CASE WHEN "+col("vartype")+" IN ('integer', 'real') THEN trim_scale("+pgNormNumber(D, unit)+")::text ELSE "+D+" END")
	lit := D
	if listGUCs[name] {
		var parts []string
		for _, e := range strings.Split(value, ",") {
			if e = strings.TrimSpace(e); e != "" {
				parts = append(parts, pgLiteral(strings.Trim(e, `"`)))
			}
		}
		if len(parts) == 0 {
			parts = []string{"''"}
		}
		lit = strings.Join(parts, ", ")
	}
	p.step("NOT coalesce("+same+", false)", "ALTER SYSTEM SET "+name+" TO "+lit)
	p.step("NOT coalesce("+same+", false)", "SELECT pg_reload_conf()")
	return p, nil
}

// Run implements module.Module.
func (*PostgresSet) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	p, err := setPlan(args)
	if err != nil {
		return nil, err
	}
	r, queries, err := runPlan(ctx, rt, args, args.String("db"), p)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(args.String("name"))
	changed := len(queries) > 0
	context := pgValue(r, "context")
	valuePretty := args.String("value")
	reset := args.Bool("reset") || strings.EqualFold(valuePretty, "default")
	if reset {
		valuePretty = pgValue(r, "boot_val")
	}
	norm := pgValue(r, "value_norm")
	if reset {
		norm = pgValue(r, "boot_val")
	}
	res := &module.Result{Changed: changed, Data: map[string]any{
		"name": name, "context": context, "restart_required": changed && context == "postmaster",
		"prev_val_pretty": pgValue(r, "prev_val_pretty"), "value_pretty": valuePretty,
		"value": map[string]any{"value": norm, "unit": pgValue(r, "unit")},
	}}
	if changed && rt.Diff {
		after := name + " = " + args.String("value")
		if reset {
			after = name + " = (reset: postgresql.conf's value or the default)"
		}
		res.Diff = []module.Diff{{BeforeHeader: "postgresql.auto.conf", AfterHeader: "postgresql.auto.conf", Before: pgValue(r, "before") + "\n", After: after + "\n"}}
	}
	return res, nil
}

var _ module.Module = (*PostgresSet)(nil)

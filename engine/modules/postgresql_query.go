package modules

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&PostgresQuery{}) }

// PostgresQuery is community.postgresql.postgresql_query: one SQL
// statement, its rows returned typed.
type PostgresQuery struct{}

// Spec implements module.Module.
func (*PostgresQuery) Spec() module.Spec {
	return module.Spec{
		Name:  "postgresql_query",
		Check: module.CheckPredicts,
		Doc:   "Run one SQL statement and return its rows (community.postgresql.postgresql_query); check mode runs it in a transaction that is rolled back",
		Args: append([]module.Arg{
			{Name: "query", Type: module.String, Required: true, Doc: "one SQL statement; %s / %(name)s placeholders take positional_args / named_args (%% is a percent sign then)"},
			{Name: "positional_args", Type: module.List, Doc: "values for the %s placeholders, in order (quoted as SQL literals)"},
			{Name: "named_args", Type: module.Dict, Doc: "values for the %(name)s placeholders (quoted as SQL literals)"},
			{Name: "autocommit", Type: module.Bool, Default: false, Doc: "run outside a transaction (needed for VACUUM, CREATE DATABASE…); not possible in check mode"},
			{Name: "search_path", Type: module.List, Doc: "schemas to set search_path to first"},
			{Name: "encoding", Type: module.String, Doc: "client encoding (default UTF8)"},
			{Name: "as_single_query", Type: module.Bool, Default: true, Doc: "accepted for compatibility: the query is always one statement"},
			{Name: "path_to_script", Type: module.String, Doc: "not supported: read the file with lookup('file', …) into query"},
		}, pgConnArgs(module.Arg{Name: "login_db", Type: module.String, Aliases: []string{"db"}, Doc: "database to connect to"})...),
		Exclusive: [][]string{{"positional_args", "named_args"}},
	}
}

var dollarTag = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)?\$`)

var namedPlaceholder = regexp.MustCompile(`^%\(([^)]+)\)s`)

// pgArgLiteral is a placeholder value as a SQL literal.
func pgArgLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case bool:
		return strings.ToUpper(strconv.FormatBool(x)), nil
	case int, int64, uint64:
		return fmt.Sprint(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case string:
		if err := pgCheckText("argument", x); err != nil {
			return "", err
		}
		return pgLiteral(x), nil
	case []any:
		var parts []string
		for _, e := range x {
			l, err := pgArgLiteral(e)
			if err != nil {
				return "", err
			}
			parts = append(parts, l)
		}
		return "ARRAY[" + strings.Join(parts, ", ") + "]", nil
	}
	return "", fmt.Errorf("a value of type %T cannot be a query argument", v)
}

// prepareQuery checks that query is one SQL statement without psql
// meta-commands, strips its final semicolon, and puts the arguments in
// place of its placeholders (as psycopg does, when there are arguments).
func prepareQuery(query string, positional []any, named map[string]any) (string, error) {
	if err := pgCheckText("query", query); err != nil {
		return "", err
	}
	subst := positional != nil || named != nil
	var out strings.Builder
	next := 0
	rest := func(i int) bool { return strings.TrimSpace(strings.Trim(query[i:], "; \t\r\n")) == "" }
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c {
						j += 2
						continue
					}
					break
				}
				if c == '\'' && query[j] == '\\' && i > 0 && (query[i-1] == 'E' || query[i-1] == 'e') {
					j++
				}
				j++
			}
			if j >= len(query) {
				return "", fmt.Errorf("query: unterminated quoted string")
			}
			out.WriteString(query[i : j+1])
			i = j + 1
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			out.WriteString(query[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				return "", fmt.Errorf("query: unterminated /* comment")
			}
			out.WriteString(query[i : i+2+j+2])
			i += 2 + j + 2
		case c == '$':
			m := dollarTag.FindString(query[i:])
			if m == "" {
				out.WriteByte(c)
				i++
				continue
			}
			j := strings.Index(query[i+len(m):], m)
			if j < 0 {
				return "", fmt.Errorf("query: unterminated %s-quoted string", m)
			}
			end := i + len(m) + j + len(m)
			out.WriteString(query[i:end])
			i = end
		case c == '\\':
			return "", fmt.Errorf("query: a backslash outside a string would be a psql meta-command: not allowed")
		case c == ';':
			if !rest(i) {
				return "", fmt.Errorf("query: holds several statements: give one per task (tpago runs the query as one statement)")
			}
			i = len(query)
		case c == '%' && subst:
			switch {
			case strings.HasPrefix(query[i:], "%%"):
				out.WriteByte('%')
				i += 2
			case strings.HasPrefix(query[i:], "%s"):
				if next >= len(positional) {
					return "", fmt.Errorf("query: more %%s placeholders than positional_args (%d)", len(positional))
				}
				l, err := pgArgLiteral(positional[next])
				if err != nil {
					return "", fmt.Errorf("positional_args[%d]: %v", next, err)
				}
				next++
				out.WriteString(l)
				i += 2
			default:
				m := namedPlaceholder.FindStringSubmatch(query[i:])
				if m == nil {
					return "", fmt.Errorf("query: %q at offset %d is not a placeholder (write %%%% for a percent sign when there are arguments)", query[i:min(i+3, len(query))], i)
				}
				v, ok := named[m[1]]
				if !ok {
					return "", fmt.Errorf("query: named_args has no %q", m[1])
				}
				l, err := pgArgLiteral(v)
				if err != nil {
					return "", fmt.Errorf("named_args.%s: %v", m[1], err)
				}
				out.WriteString(l)
				i += len(m[0])
			}
		default:
			out.WriteByte(c)
			i++
		}
	}
	if positional != nil && next != len(positional) {
		return "", fmt.Errorf("positional_args: %d given for %d %%s placeholders", len(positional), next)
	}
	q := strings.TrimSpace(out.String())
	if q == "" {
		return "", fmt.Errorf("query: empty")
	}
	return q, nil
}

// pgTyped converts a value psql printed to the JSON-like value Ansible
// returns for its type.
func pgTyped(typ, v string) any {
	switch {
	case typ == "integer" || typ == "smallint" || typ == "bigint" || typ == "oid":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	case strings.HasPrefix(typ, "numeric") || typ == "real" || typ == "double precision":
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	case typ == "boolean":
		return v == "t"
	case typ == "json" || typ == "jsonb":
		var x any
		if json.Unmarshal([]byte(v), &x) == nil {
			return x
		}
	}
	return v
}

// queryChanged is Ansible's rule: a statement that returns rows changes
// nothing; INSERT, UPDATE and DELETE change when they touched a row; any
// other statement changes.
func queryChanged(status string) bool {
	if strings.Contains(status, "SELECT") {
		return false
	}
	f := strings.Fields(status)
	if len(f) > 0 && (f[0] == "INSERT" || f[0] == "UPDATE" || f[0] == "DELETE") {
		return len(f) < 2 || f[len(f)-1] != "0"
	}
	return true
}

func randomMarker() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "@TPAGO" + hex.EncodeToString(b)
}

// querySQL is the psql script: describe the statement (\gdesc: column
// names and types), then run it with CSV output in a transaction (rolled
// back in check mode) unless autocommit, and print the row count.
func querySQL(q *pgSQL, query string, args module.Args, check bool, marker string) (string, error) {
	if sp := args.Strings("search_path"); len(sp) > 0 {
		var ids []string
		for _, s := range sp {
			if err := pgCheckName("search_path", s); err != nil {
				return "", err
			}
			ids = append(ids, pgIdent(s))
		}
		q.add("SET search_path TO " + strings.Join(ids, ", ") + ";")
	}
	if e := args.String("encoding"); e != "" {
		if err := pgCheckText("encoding", e); err != nil {
			return "", err
		}
		q.add("SET client_encoding TO " + pgLiteral(e) + ";")
	}
	q.add(`\pset format csv`).add(`\pset tuples_only off`).add(`\pset footer off`).add(`\pset null ` + marker + "N")
	q.add(`\echo ` + marker + "desc")
	q.add(query).add(`\gdesc`)
	q.add(`\echo ` + marker + "exec")
	if !args.Bool("autocommit") {
		q.add("BEGIN;")
	}
	q.add(`\set QUIET off`).add(query).add(";").add(`\set QUIET on`)
	q.add(`\echo ` + marker + "end :ROW_COUNT")
	switch {
	case args.Bool("autocommit"):
	case check:
		q.add("ROLLBACK;")
	default:
		q.add("COMMIT;")
	}
	return q.String(), nil
}

// Run implements module.Module.
func (*PostgresQuery) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	if args.String("path_to_script") != "" {
		return nil, fmt.Errorf("path_to_script is not supported: read the file into query with lookup('file', …)")
	}
	if args.Bool("autocommit") && rt.Check {
		return nil, fmt.Errorf("autocommit cannot be used in check mode: the statement could not be rolled back")
	}
	var positional []any
	if args.Has("positional_args") {
		positional = args.List("positional_args")
		if positional == nil {
			positional = []any{}
		}
	}
	query, err := prepareQuery(args.String("query"), positional, args.Map("named_args"))
	if err != nil {
		return nil, err
	}
	q, err := newPgSQL(args)
	if err != nil {
		return nil, err
	}
	marker := randomMarker()
	sql, err := querySQL(q, query, args, rt.Check, marker)
	if err != nil {
		return nil, err
	}
	_, out, err := runPsqlOut(ctx, rt, args, args.String("login_db"), sql)
	if err != nil {
		return nil, err
	}
	rows, rowcount, status, err := parseQueryOutput(out.Stdout, marker)
	if err != nil {
		return nil, err
	}
	return &module.Result{Changed: queryChanged(status), Data: map[string]any{
		"query": query, "query_list": []any{query}, "query_result": rows, "query_all_results": []any{rows},
		"rowcount": rowcount, "statusmessage": status,
	}}, nil
}

// parseQueryOutput reads the sections querySQL printed.
func parseQueryOutput(out []byte, marker string) ([]any, int, string, error) {
	section := func(from, to string) ([]byte, bool) {
		i := bytes.Index(out, []byte(marker+from+"\n"))
		j := bytes.Index(out, []byte(marker+to))
		if i < 0 || j < i {
			return nil, false
		}
		return out[i+len(marker)+len(from)+1 : j], true
	}
	desc, ok1 := section("desc", "exec")
	exec, ok2 := section("exec", "end")
	if !ok1 || !ok2 {
		return nil, 0, "", fmt.Errorf("unexpected psql output: %q", string(out))
	}
	var cols, types []string
	if recs, err := csv.NewReader(bytes.NewReader(desc)).ReadAll(); err == nil && len(recs) > 1 && len(recs[0]) == 2 {
		for _, r := range recs[1:] {
			if len(r) == 2 {
				cols, types = append(cols, r[0]), append(types, r[1])
			}
		}
	}
	endLine := out[bytes.Index(out, []byte(marker+"end")):]
	endLine, _, _ = bytes.Cut(endLine, []byte("\n"))
	rowcount, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(string(endLine), marker+"end")))
	rows := []any{}
	tag := strings.TrimSpace(string(exec))
	if len(cols) > 0 {
		rd := csv.NewReader(bytes.NewReader(exec))
		rd.FieldsPerRecord = -1
		if _, err := rd.Read(); err != nil && err != io.EOF {
			return nil, 0, "", fmt.Errorf("reading the query's columns: %v", err)
		}
		for range rowcount {
			rec, err := rd.Read()
			if err != nil {
				return nil, 0, "", fmt.Errorf("reading the query's rows: %v", err)
			}
			row := map[string]any{}
			for i, v := range rec {
				if i >= len(cols) {
					break
				}
				if v == marker+"N" {
					row[cols[i]] = nil
				} else {
					row[cols[i]] = pgTyped(types[i], v)
				}
			}
			rows = append(rows, row)
		}
		tag = strings.TrimSpace(string(exec[rd.InputOffset():]))
	}
	if tag == "" {
		tag = "SELECT " + strconv.Itoa(rowcount)
	}
	return rows, rowcount, tag, nil
}

var _ module.Module = (*PostgresQuery)(nil)

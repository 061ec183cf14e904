package modules

import (
	"context"
	"fmt"
	"strings"

	"github.com/tpago/tpago/engine/module"
)

func init() { module.Register(&Getent{}) }

// Getent reads a name-service database (passwd, group, hosts…) on the host
// and sets it as the fact getent_DATABASE.
type Getent struct{}

// Spec implements module.Module.
func (*Getent) Spec() module.Spec {
	return module.Spec{
		Name:  "getent",
		Check: module.CheckReadOnly,
		Doc:   "Read a database with getent (passwd, group, shadow, hosts, services…) and set the fact getent_DATABASE: each key → its other fields",
		Args: []module.Arg{
			{Name: "database", Type: module.String, Required: true, Doc: "the database (passwd, group, shadow, hosts, services, …)"},
			{Name: "key", Type: module.String, Doc: "only this entry (default: the whole database)"},
			{Name: "split", Type: module.String, Doc: "field separator (default: ':' for passwd, shadow, group and gshadow, blanks for the others)"},
			{Name: "fail_key", Type: module.Bool, Default: true, Doc: "fail when key is not in the database"},
			{Name: "service", Type: module.String, Doc: "the NSS service to read from (getent -s), e.g. files"},
		},
	}
}

// getentFacts parses getent's output as Ansible does: each line's first
// field is the key, the others its value; a key seen more than once holds
// the list of its values.
func getentFacts(out, database, split string) map[string]any {
	if split == "" {
		switch database {
		case "passwd", "shadow", "group", "gshadow":
			split = ":"
		}
	}
	res := map[string]any{}
	seen := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var rec []string
		if split == "" {
			rec = strings.Fields(line)
		} else {
			rec = strings.Split(line, split)
		}
		k, vals := rec[0], strs(rec[1:])
		switch seen[k] {
		case 0:
			res[k] = vals
		case 1:
			res[k] = []any{res[k], vals}
		default:
			res[k] = append(res[k].([]any), vals)
		}
		seen[k]++
	}
	return res
}

// Run implements module.Module.
func (*Getent) Run(ctx context.Context, rt *module.Runtime, args module.Args) (*module.Result, error) {
	db := args.String("database")
	if db == "" || strings.ContainsAny(db, " \t\n/") {
		return nil, fmt.Errorf("database: %q is not a database name", db)
	}
	s := newScript(rt).set("db", db).set("key", args.String("key")).set("svc", args.String("service"))
	s.line(`command -v getent >/dev/null 2>&1 || die "getent is not installed on the host"
set -- "$db"
[ -n "$key" ] && set -- "$@" "$key"
[ -n "$svc" ] && set -- -s "$svc" "$@"
out=$(getent "$@"); rc=$?
say rc "$rc"
printf '@T out=%s\n' "$(printf '%s' "$out" | base64 -w0)"`)
	r, _, err := run(ctx, rt, s)
	if err != nil {
		return nil, err
	}
	raw, err := r.bytes("out")
	if err != nil {
		return nil, fmt.Errorf("getent: bad report from the host: %w", err)
	}
	switch rc := r.int("rc"); rc {
	case 0:
	case 1:
		return nil, fmt.Errorf("getent %s: missing arguments, or database unknown", db)
	case 2:
		if args.Bool("fail_key") {
			return nil, fmt.Errorf("getent %s: one or more supplied key could not be found in the database (%s)", db, args.String("key"))
		}
		res := &module.Result{Msg: "One or more supplied key could not be found in the database."}
		res.Facts = map[string]any{"getent_" + db: map[string]any{args.String("key"): nil}}
		res.Data = map[string]any{"ansible_facts": res.Facts}
		return res, nil
	case 3:
		return nil, fmt.Errorf("getent %s: enumeration not supported on this database", db)
	default:
		return nil, fmt.Errorf("getent %s: unexpected exit status %d", db, rc)
	}
	facts := map[string]any{"getent_" + db: getentFacts(string(raw), db, args.String("split"))}
	return &module.Result{Facts: facts, Data: map[string]any{"ansible_facts": facts}}, nil
}

var _ module.Module = (*Getent)(nil)

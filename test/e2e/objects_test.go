package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/internal/clitest"
)

// userObjects is what a TPA user's config.yml asks of Postgres: users,
// databases with extensions, preloaded libraries, a repmgr setting and
// a backup schedule, in TPA's keys.
const userObjects = `  postgres_users:
    - username: app
    - username: report
      role_attrs: [createdb, nosuperuser]
      granted_roles: [pg_read_all_data]
  postgres_databases:
    - name: appdb
      owner: app
      extensions:
        - name: hstore
    - name: reportdb
      owner: report
      encoding: UTF8
      extensions:
        - name: pgaudit
  extra_postgres_extensions: [pg_stat_statements]
  preload_extensions: [pg_stat_statements, pgaudit]
  repmgr_conf_settings:
    log_status_interval: 120
  barman_backup_interval: "30 2 * * *"
`

// addUserObjects writes userObjects into a configured cluster's
// cluster_vars.
func addUserObjects(t *testing.T, dir string) {
	t.Helper()
	cfgPath := filepath.Join(dir, "config.yml")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	edited := strings.Replace(string(cfg), "\ncluster_vars:\n", "\ncluster_vars:\n"+userObjects, 1)
	require.NotEqual(t, string(cfg), edited, "config.yml has no cluster_vars")
	require.NoError(t, os.WriteFile(cfgPath, []byte(edited), 0o644))
	out, code := clitest.Run(t, "validate", dir, "--strict")
	require.Equal(t, 0, code, "validate --strict knows every key:\n%s", out)
}

// checkUserObjects checks, with psql on the primary and on a replica,
// what deploy made of userObjects, and that the users log in over the
// network with the passwords deploy generated into secrets/.
func checkUserObjects(t *testing.T, dir string) {
	t.Helper()
	cfg, byNode := nodeNames(t, dir)
	primary, replica := byNode[1], byNode[2]
	for _, host := range []string{primary, replica} {
		out, code := psql(t, dir, host, "select string_agg(rolname || ':' || rolcanlogin || rolcreatedb || rolsuper, ',' order by rolname) from pg_roles where rolname in ('app', 'report')")
		require.Equal(t, 0, code, out)
		assert.Equal(t, "app:truefalsefalse,report:truetruefalse", out, "users on %s", host)
		out, _ = psql(t, dir, host, "select pg_has_role('report', 'pg_read_all_data', 'member')")
		assert.Equal(t, "t", out, "report is granted pg_read_all_data on %s", host)
		out, _ = psql(t, dir, host, "select string_agg(datname || ':' || pg_get_userbyid(datdba), ',' order by datname) from pg_database where datname in ('appdb', 'reportdb')")
		assert.Equal(t, "appdb:app,reportdb:report", out, "databases on %s", host)
		out, _ = psql(t, dir, host, "show shared_preload_libraries")
		assert.Equal(t, "repmgr,pg_stat_statements,pgaudit", out, "preloaded on %s", host)
		for db, want := range map[string]string{"appdb": "hstore,pg_stat_statements,plpgsql", "reportdb": "pg_stat_statements,pgaudit,plpgsql", "postgres": "pg_stat_statements,plpgsql"} {
			out, _ := clitest.Run(t, "cmd", dir, host, "--become-user", "postgres", "psql -XAt -d "+db+" -c "+shellQuote("select string_agg(extname, ',' order by extname) from pg_extension"))
			assert.Contains(t, out, want, "extensions of %s on %s", db, host)
		}
	}
	// The pass-through setting and the schedule.
	for _, host := range []string{primary, replica} {
		out := clitest.Must(t, "cmd", dir, host, "grep -c '^log_status_interval *= *120$' /etc/repmgr.conf")
		assert.Equal(t, "1", strings.TrimSpace(out[strings.Index(out, ">>")+2:]), "repmgr_conf_settings once in /etc/repmgr.conf on %s:\n%s", host, out)
	}
	out := clitest.Must(t, "cmd", dir, "barman", "cat /etc/cron.d/barman-"+primary)
	assert.Regexp(t, `30 2 \* \* \* +barman +.*barman -q backup `+primary, out, "the backup schedule")

	// And through PgBouncer, to the primary.
	throughPgBouncer(t, dir, "app", "appdb", primary)
	throughPgBouncer(t, dir, "report", "reportdb", primary)

	// The users log in from another host with their generated passwords
	// (given to psql in PGPASSWORD by this test).
	for _, user := range []string{"app", "report"} {
		pw := strings.TrimSpace(clitest.Must(t, "show-password", dir, user))
		require.Len(t, pw, 48, "a generated password in secrets/%s", user)
		db := map[string]string{"app": "appdb", "report": "reportdb"}[user]
		out, code := clitest.Run(t, "cmd", dir, replica, "--become-user", "postgres",
			"PGPASSWORD="+pw+" psql -XAt -h "+cfgAddress(cfg, primary)+" -U "+user+" -d "+db+" -c 'select current_user'")
		assert.Equal(t, 0, code, out)
		assert.Contains(t, out, user, "%s logs in to %s with its password", user, db)
	}
}

// throughPgBouncer connects as user to db through the cluster's PgBouncer
// node (from that node, with the user's generated password) and checks
// the answer comes from the primary named want, not in recovery, within
// a few seconds (the follower moves PgBouncer after a switchover).
func throughPgBouncer(t *testing.T, dir, user, db, want string) {
	t.Helper()
	cfg, _ := nodeNames(t, dir)
	var bouncer string
	for _, in := range cfg.Instances {
		if slices.Contains(in.Role, "pgbouncer") {
			bouncer = in.Name
		}
	}
	require.NotEmpty(t, bouncer, "the cluster has a pgbouncer instance")
	pw := strings.TrimSpace(clitest.Must(t, "show-password", dir, user))
	query := "select current_user || ' ' || pg_is_in_recovery()::text || ' ' || host(inet_server_addr())"
	wantOut := user + " false " + cfgAddress(cfg, want)
	var out string
	for i := 0; i < 10; i++ {
		out, _ = clitest.Run(t, "cmd", dir, bouncer, "PGPASSWORD="+pw+" psql -XAt -h 127.0.0.1 -p 6432 -U "+user+" -d "+db+" -c "+shellQuote(query))
		if strings.Contains(out, wantOut) {
			return
		}
		time.Sleep(time.Second)
	}
	t.Errorf("through PgBouncer on %s as %s to %s: want %q, got:\n%s", bouncer, user, db, wantOut, out)
}

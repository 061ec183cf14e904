package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/internal/clitest"
)

// userObjects is what a TPA user's config.yml asks of Postgres: users,
// databases with extensions, preloaded libraries, in TPA's keys.
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

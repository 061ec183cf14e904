package roles_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tpago/tpago/internal/clitest"
)

// TestPostgresObjectsCheck runs the checks deploy makes of the user's
// postgres_users, postgres_databases and extensions (init, before any
// host is touched) on localhost: a name that would be unsafe as an SQL
// identifier or a file name under secrets/ is refused with what is
// wrong; a sound list passes.
func TestPostgresObjectsCheck(t *testing.T) {
	run := func(vars string) (string, int) {
		dir := t.TempDir()
		pb := filepath.Join(dir, "check.yml")
		body := "- hosts: localhost\n  gather_facts: false\n  vars:\n" + vars +
			"  tasks:\n    - import_role:\n        name: postgres_objects\n        tasks_from: check\n"
		assert.NoError(t, os.WriteFile(pb, []byte(body), 0o644))
		return clitest.Run(t, "play", pb)
	}
	bad := map[string]string{
		"quote in a user name":  "    postgres_users: [{username: \"x'; drop role postgres; --\"}]\n",
		"path in a user name":   "    postgres_users: [{username: ../../etc/passwd}]\n",
		"a user deploy manages": "    postgres_users: [{username: repmgr}]\n",
		"not a role attribute":  "    postgres_users: [{username: app, role_attrs: [createdb, 'password x']}]\n",
		"no username":           "    postgres_users: [{name: app}]\n",
		"users not a list":      "    postgres_users: app\n",
		"generate_password":     "    postgres_users: [{username: app, generate_password: 'no'}]\n",
		"database name":         "    postgres_databases: [{name: 'a b'}]\n",
		"the postgres database": "    postgres_databases: [{name: postgres}]\n",
		"encoding":              "    postgres_databases: [{name: appdb, encoding: \"UTF8'\"}]\n",
		"extension name":        "    extra_postgres_extensions: [\"x; drop\"]\n",
		"package name":          "    extra_postgres_packages: [\"x y\"]\n",
	}
	for name, vars := range bad {
		t.Run(name, func(t *testing.T) {
			out, code := run(vars)
			assert.Equal(t, 2, code, out)
			assert.Contains(t, out, "FAILED!", out)
		})
	}
	out, code := run("    postgres_users: [{username: app}, {username: report, role_attrs: [createdb, nologin, 'connection limit 5'], granted_roles: [pg_read_all_data]}]\n" +
		"    postgres_databases: [{name: appdb, owner: app, extensions: [{name: hstore}, citext]}]\n" +
		"    extra_postgres_extensions: [pg_stat_statements]\n    preload_extensions: [pgaudit]\n")
	assert.Equal(t, 0, code, out)
}

package modules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tpago/tpago/engine/module"
)

// The CLI's module list and the docs reference come from the registry:
// every module and argument must be documented.
func TestRegistryDocumented(t *testing.T) {
	want := []string{"apt", "apt_key", "apt_repository", "assert", "authorized_key", "blockinfile", "command", "copy", "debug", "fail", "fetch",
		"file", "group", "hostname", "lineinfile", "locale_gen", "mount", "pam_limits", "pause", "ping", "pip", "service", "set_fact", "shell", "slurp", "stat",
		"sysctl", "systemd", "systemd_service", "template", "user", "wait_for",
		"get_url", "uri", "unarchive", "find", "getent", "cron",
		"postgresql_user", "postgresql_db", "postgresql_ext", "postgresql_query", "postgresql_set", "postgresql_privs", "postgresql_schema", "postgresql_slot"}
	names := module.Names()
	for _, n := range want {
		assert.Contains(t, names, n)
	}
	for _, n := range names {
		_, spec, _ := module.Lookup(n)
		assert.NotEmpty(t, spec.Doc, "module %s has no doc", n)
		for _, a := range spec.Args {
			assert.NotEmpty(t, a.Doc, "argument %s of %s has no doc", a.Name, n)
		}
	}
	_, spec, _ := module.Lookup("user")
	pw, _ := spec.Arg("password")
	assert.True(t, pw.NoLog, "user password is a secret")
	for _, n := range []string{"postgresql_user", "postgresql_db", "postgresql_query", "postgresql_privs"} {
		_, spec, _ = module.Lookup(n)
		pw, _ = spec.Arg("login_password")
		assert.True(t, pw.NoLog, "%s login_password is a secret", n)
	}
	_, spec, _ = module.Lookup("postgresql_user")
	pw, _ = spec.Arg("password")
	assert.True(t, pw.NoLog, "postgresql_user password is a secret")
	_, spec, _ = module.Lookup("copy")
	c, _ := spec.Arg("content")
	assert.False(t, c.NoLog)
	for _, n := range []string{"get_url", "uri"} {
		_, spec, _ = module.Lookup(n)
		pw, _ := spec.Arg("url_password")
		assert.True(t, pw.NoLog, "%s url_password is a secret", n)
	}
}

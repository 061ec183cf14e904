package cluster

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnreadVars(t *testing.T) {
	text := `architecture: M1
cluster_name: c
cluster_vars:
  failover_manager: repmgr
  postgres_userz: []
  ansible_python_interpreter: /usr/bin/python3
  app_port: 6432
  app_dsn: "port={{ app_port }}"
instance_defaults:
  platform: bare
  vars:
    ansible_user: admin
instances:
- Name: one
  node: 1
  role: [primary]
  ip_address: 10.1.0.11
  vars:
    postgres_conf_setings: {}
`
	cfg, err := ParseConfig("config.yml", []byte(text))
	require.NoError(t, err)
	read := map[string]bool{"failover_manager": true, "postgres_users": true, "postgres_conf_settings": true}
	errs := cfg.UnreadVars(func(n string) bool { return read[n] }, []string{"failover_manager", "postgres_users", "postgres_conf_settings"})
	require.Len(t, errs, 3, errs.Error())
	assert.Contains(t, errs[0].Error(), `config.yml:5:3: cluster_vars: no playbook or role reads "postgres_userz", so it does nothing; did you mean postgres_users?`)
	// app_dsn is read by nothing; app_port is read by app_dsn.
	assert.Contains(t, errs[1].Error(), `config.yml:8:3: cluster_vars: no playbook or role reads "app_dsn"`)
	assert.Contains(t, errs[2].Error(), `config.yml:19:5: instances[0].vars: no playbook or role reads "postgres_conf_setings", so it does nothing; did you mean postgres_conf_settings?`)
}

package playbook_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tpago/tpago/engine/playbook"
)

// The system modules public roles use load under their collection names.
func TestSystemModulesLoadUnderTheirCollectionNames(t *testing.T) {
	yml := play +
		"    - ansible.builtin.apt_repository: {repo: 'deb http://x.example/ stable main'}\n" +
		"    - ansible.builtin.apt_key: {url: 'https://x.example/key.asc', id: ABCD1234}\n" +
		"    - ansible.builtin.pip: {name: [flask>=2], virtualenv: /opt/v}\n" +
		"    - ansible.posix.mount: {path: /mnt/x, src: tmpfs, fstype: tmpfs, state: mounted}\n" +
		"    - community.general.locale_gen: {name: en_US.UTF-8}\n" +
		"    - community.general.pam_limits: {domain: '*', limit_type: soft, limit_item: nofile, value: 1024}\n"
	pb, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
	require.NoError(t, err)
	var got []string
	for _, task := range pb.Plays[0].Tasks {
		got = append(got, task.Module)
	}
	assert.Equal(t, []string{"apt_repository", "apt_key", "pip", "mount", "locale_gen", "pam_limits"}, got)
}

// An argument tpago refuses fails at load time, where it is written, with
// the reason.
func TestRefusedArgumentIsReportedWhereWritten(t *testing.T) {
	yml := play + "    - apt_key:\n        keyserver: keyserver.ubuntu.com\n        id: ABCD1234\n"
	_, err := (&playbook.Loader{}).LoadPlaybookData("pb.yml", []byte(yml))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pb.yml:4:9: apt_key: argument keyserver: not supported by tpago's apt_key: keyservers are not used")
}

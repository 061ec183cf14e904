package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --list-tasks, --list-tags and --list-hosts print what a run would do, as
// ansible-playbook does, without contacting a host: static includes are
// expanded, an include whose file is known only at run time is listed as
// itself, and a play without a name is named by its hosts.
func TestPlayLists(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("inventory.yml", "all:\n  hosts:\n    web1:\n      ansible_host: 192.0.2.1\n    web2:\n      ansible_host: 192.0.2.2\n")
	write("a.yml", "- name: in a\n  debug: msg=a\n")
	write("b.yml", "- name: in b\n  debug: msg=b\n  tags: [bee]\n")
	write("site.yml", `- hosts: all
  gather_facts: false
  tags: [play]
  vars:
    which: a
  tasks:
    - name: first
      debug: msg=hi
    - name: dynamic include
      include_tasks: "{{ which }}.yml"
    - include_tasks: b.yml
`)
	inv := filepath.Join(dir, "inventory.yml")
	site := filepath.Join(dir, "site.yml")

	out, code, err := runCLI(t, "play", site, "-i", inv, "--list-tasks")
	require.NoError(t, err, out)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "play #1 (all): all\tTAGS: [play]\n")
	assert.Contains(t, out, "      first\tTAGS: [play]\n      dynamic include\tTAGS: [play]\n      in b\tTAGS: [play,bee]\n")

	out, _, err = runCLI(t, "play", site, "-i", inv, "--list-tags")
	require.NoError(t, err, out)
	assert.Contains(t, out, "TASK TAGS: [bee, play]")

	out, _, err = runCLI(t, "play", site, "-i", inv, "--list-tasks", "--tags", "bee")
	require.NoError(t, err, out)
	assert.Contains(t, out, "in b")
	assert.NotContains(t, out, "first")

	out, _, err = runCLI(t, "play", site, "-i", inv, "--list-hosts", "--limit", "web2")
	require.NoError(t, err, out)
	assert.Contains(t, out, "hosts (1):\n      web2\n")
}

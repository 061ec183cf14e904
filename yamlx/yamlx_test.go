package yamlx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tpago/tpago/exitcode"
)

// bomb is a "billion laughs": levels of anchors, each a list of n aliases
// of the one before, under key.
func bomb(key string, levels, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  l0: &l0 [lol]\n", key)
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [", i, i)
		for j := 0; j < n; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestAliasesAreBounded(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		at      string
	}{
		{"billion laughs in cluster_vars", "architecture: M1\n" + bomb("cluster_vars", 9, 9), "YAML aliases expand to more than", "x.yml:8:42:"},
		{"a bomb in play vars", "- hosts: all\n  " + strings.ReplaceAll(bomb("vars", 9, 9), "\n", "\n  "), "YAML aliases expand to more than", "x.yml:"},
		{"a small bomb is fine", bomb("vars", 3, 9), "", ""},
		{"anchors as people use them", "defaults: &d {port: 5432, user: postgres}\na: *d\nb:\n  <<: *d\n  port: 5433\nc: [*d, *d, *d]\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yml", []byte(tt.yaml))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.True(t, strings.HasPrefix(err.Error(), tt.at), err.Error())
			assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
			assert.Less(t, len(tt.yaml), 2500, "the bomb is a small file")
		})
	}
}

func TestTags(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    any
		wantErr string
	}{
		{"standard tags", "a: !!str 5\nb: !!int 6\nc: !!bool true\nd: !!float 1.5\ne: !!null ~\nf: !!map {x: 1}\ng: !!seq [1]\n",
			map[string]any{"a": "5", "b": 6, "c": true, "d": 1.5, "e": nil, "f": map[string]any{"x": 1}, "g": []any{1}}, ""},
		{"ansible's unsafe", "a: !unsafe '{{ x }}'\n", map[string]any{"a": "{{ x }}"}, ""},
		{"a tag on a nested mapping", "a: !!map\n  b: 1\n", map[string]any{"a": map[string]any{"b": 1}}, ""},
		{"unknown tag", "a: !foo bar\n", nil, "x.yml:1:4: unknown YAML tag !foo"},
		{"unknown tag without a value, then a key (crashed goccy/go-yaml)", "instances:\n- Name: one\n  role: !foo\n  node: 1\n", nil, "x.yml:3:9: unknown YAML tag !foo"},
		{"a tag without a value at the top", "x:\n  a: !!map\n  b: 1\n", nil, "x.yml:2:6: the tag !!map has no value"},
		{"vault", "password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3131\n", nil, "x.yml:1:11: vault-encrypted values are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseOne("x.yml", []byte(tt.yaml))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.True(t, strings.HasPrefix(err.Error(), tt.wantErr), err.Error())
				var ye *Error
				require.True(t, errors.As(err, &ye))
				assert.Contains(t, ye.Snippet, "^")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, n.Plain())
		})
	}
}

// The AST is what decoders (config.yml) get: the same checks apply.
func TestParseASTRefusesWhatParseRefuses(t *testing.T) {
	for _, y := range []string{bomb("cluster_vars", 9, 9), "a: !foo\nb: 1\n", "a: [1\n", strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5)} {
		_, err := ParseAST("config.yml", []byte(y))
		var ye *Error
		require.True(t, errors.As(err, &ye), "%v", err)
		assert.Equal(t, "config.yml", ye.Pos.File)
	}
}

func TestErrorSnippetIsTakenWhenMade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.yml")
	require.NoError(t, os.WriteFile(path, []byte("- hosts: all\n  tasks:\n  - debug: {msg: hi}\n"), 0o644))
	n, err := ReadOne(path)
	require.NoError(t, err)
	e := Errorf(n.Items[0].Get("tasks").Items[0], "bad task")
	// The file changes (or goes) after it was read: the error shows what was read.
	require.NoError(t, os.Remove(path))
	assert.Equal(t, path+":3:5: bad task\n  2 |   tasks:\n> 3 |   - debug: {msg: hi}\n    |     ^", e.Error())
	assert.Equal(t, exitcode.BadInput, e.ExitCode())

	// A chain keeps the snippet.
	c := WithChain(e, "in role x")
	assert.True(t, strings.HasSuffix(c.Error(), "^\n  in role x"), c.Error())
}

func TestSnippetOf(t *testing.T) {
	tests := []struct {
		text      string
		line, col int
		want      string
	}{
		{"a\nb: x\n", 2, 4, "  1 | a\n> 2 | b: x\n    |    ^"},
		{"a: x\r\n", 1, 1, "> 1 | a: x\n    | ^"},
		{"\tb: x", 1, 2, "> 1 | \tb: x\n    | \t^"},
		{"a", 1, 0, "> 1 | a"},
		{"a", 3, 1, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, SnippetOf(tt.text, tt.line, tt.col), "%q", tt.text)
	}
}

func TestReadFileRefusesHugeFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yml")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(MaxFileSize+1))
	require.NoError(t, f.Close())
	_, err = ReadFile(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than 16 MiB")
	assert.Equal(t, exitcode.BadInput, exitcode.Of(err))
}

func TestMergeKeyIsOverriddenByKeysBesideIt(t *testing.T) {
	n, err := ParseOne("x.yml", []byte("d: &d {port: 5432, user: postgres}\nb:\n  <<: *d\n  port: 5433\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"port": 5433, "user": "postgres"}, n.Get("b").Plain())
	_, err = ParseOne("x.yml", []byte("b:\n  port: 1\n  port: 2\n"))
	assert.ErrorContains(t, err, "mapping key \"port\" already defined")
}

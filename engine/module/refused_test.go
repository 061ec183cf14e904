package module

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An argument Ansible's module takes and tpago's refuses says so, with the
// advice, at load time (CheckStatic) and at run time (Normalize); other
// unknown arguments still get a did-you-mean.
func TestRefusedArgumentsSayWhatToDo(t *testing.T) {
	s := Spec{Name: "get_url", Args: []Arg{{Name: "url", Type: String, Doc: "u"}},
		Refused: map[string]string{"client_cert": "use command: curl --cert"}}
	require.NoError(t, s.check())
	errs := s.CheckStatic(map[string]any{"url": "http://x", "client_cert": "/c.pem", "urll": "y"})
	require.Len(t, errs, 2)
	assert.Equal(t, "argument client_cert: not supported by tpago's get_url: use command: curl --cert", errs[0].Error())
	assert.Contains(t, errs[1].Error(), "did you mean url")
	_, err := s.Normalize(map[string]any{"url": "http://x", "client_cert": "/c.pem"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not supported by tpago's get_url: use command: curl --cert")

	bad := Spec{Name: "m", Args: []Arg{{Name: "a", Doc: "a"}}, Refused: map[string]string{"a": "no"}}
	assert.Error(t, bad.check(), "an argument cannot be declared and refused")
	assert.Error(t, Spec{Name: "m", Refused: map[string]string{"b": ""}}.check(), "a refusal must say what to do")
}

package output

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An event whose values JSON cannot hold is still written, with the
// values as text and the encoding error named.
func TestJSONNeverDropsAnEvent(t *testing.T) {
	var buf bytes.Buffer
	j := &JSON{W: &buf}
	j.emit(map[string]any{"event": "host_result", "host": "a", "result": map[string]any{"v": math.Inf(1), "l": []any{math.NaN()}, "c": make(chan int)}})
	var ev map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &ev), buf.String())
	assert.Equal(t, "host_result", ev["event"])
	assert.Equal(t, "a", ev["host"])
	res := ev["result"].(map[string]any)
	assert.Equal(t, "+Inf", res["v"])
	assert.Equal(t, []any{"NaN"}, res["l"])
	assert.Contains(t, ev["encode_error"], "unsupported")
}

package yamlx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds the loader arbitrary bytes: it must return nodes or an
// *Error, never panic, hang or blow up (seeds in testdata/fuzz/FuzzParse,
// plus every YAML file in testdata).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a: !foo\nb: 1\n"))
	f.Add([]byte("- role: !foo\n  x: 1\n"))
	f.Add([]byte(bomb("vars", 9, 9)))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Parse("fuzz.yml", data)
		if err != nil {
			var ye *Error
			if !errors.As(err, &ye) {
				t.Fatalf("not a positioned error: %T %v", err, err)
			}
			_ = ye.Error()
			return
		}
		for _, d := range docs {
			_ = d.Plain()
		}
	})
}

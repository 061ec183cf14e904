package roles

import (
	"io/fs"

	"github.com/goccy/go-yaml"
)

// VarFiles are the files, below a folder of roles, whose variables every
// play that uses the role sees.
var VarFiles = []string{"*/defaults/main.yml", "*/vars/main.yml"}

// AddVarNames adds to names the variables that a defaults or vars file
// (its content) defines; a file that is not a YAML mapping adds none.
func AddVarNames(names map[string]bool, data []byte) {
	var m map[string]any
	if yaml.Unmarshal(data, &m) == nil {
		for k := range m {
			names[k] = true
		}
	}
}

// BuiltinVarNames are the variables that the built-in roles define in
// their defaults and vars.
func BuiltinVarNames() map[string]bool {
	names := map[string]bool{}
	for _, pat := range VarFiles {
		files, _ := fs.Glob(FS, pat)
		for _, f := range files {
			if data, err := fs.ReadFile(FS, f); err == nil {
				AddVarNames(names, data)
			}
		}
	}
	return names
}

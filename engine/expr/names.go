package expr

import "strings"

// IsFilter reports whether `x | name` calls a function of the language
// (a Jinja2 or Ansible filter tpago has, under the same name).
func IsFilter(name string) bool {
	if name == "contains" {
		name = "contains_"
	}
	f, ok := funcIndex[name]
	return ok && !strings.HasPrefix(f.name, "__") && !strings.HasPrefix(name, "is_")
}

// IsTest reports whether `x is name` is a test of the language.
func IsTest(name string) bool {
	name = strings.ToLower(name)
	if name == "nil" {
		name = "none"
	}
	if alias, ok := testAliases[name]; ok {
		name = alias
	}
	_, ok := funcIndex["is_"+name]
	return ok
}

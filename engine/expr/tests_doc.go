package expr

// Tests lists the tests usable as "x is NAME" (or "x is not NAME"), with
// their one-line docs, for the reference documentation.
func Tests() []FuncDoc {
	return []FuncDoc{
		{"defined", "x is defined", "x has a value (nil counts as a value); x may be undefined"},
		{"undefined", "x is undefined", "x has no value"},
		{"none", "x is none", "x is nil"},
		{"failed", "r is failed", "the registered result r failed"},
		{"succeeded", "r is succeeded", "the registered result r did not fail (also: success)"},
		{"changed", "r is changed", "the registered result r changed something"},
		{"skipped", "r is skipped", "the task that registered r was skipped"},
		{"finished", "job is finished", "the background job that async_status reported on has ended"},
		{"started", "job is started", "the background job (a task with poll: 0) was started"},
		{"string", "x is string", "x is a string"},
		{"number", "x is number", "x is an integer or a float"},
		{"integer", "x is integer", "x is an integer"},
		{"float", "x is float", "x is a float"},
		{"boolean", "x is boolean", "x is true or false"},
		{"mapping", "x is mapping", "x is a map"},
		{"sequence", "x is sequence", "x is a list or a string"},
		{"iterable", "x is iterable", "x is a list, a string or a map"},
		{"true", "x is true", "x is the boolean true"},
		{"false", "x is false", "x is the boolean false"},
		{"truthy", "x is truthy", "x counts as true in a condition"},
		{"falsy", "x is falsy", "x counts as false in a condition"},
		{"even", "x is even", "x is an even integer"},
		{"odd", "x is odd", "x is an odd integer"},
		{"divisibleby", "x is divisibleby(n)", "x is an integer multiple of n (also without brackets: x is divisibleby 3)"},
		{"eq", "x is eq(y)", "x equals y (also: equalto, ==, sameas); ne, gt, ge, lt, le (and !=, >, >=, <, <=) compare too"},
		{"match", "s is match(re)", "the regular expression matches at the start of s"},
		{"search", "s is search(re)", "the regular expression matches somewhere in s"},
		{"in", "x is in(list)", "list contains x"},
		{"contains", "list is contains(x)", "list contains x"},
		{"version", "v is version(w, [op])", "compares dotted versions, e.g. '15.4' is version('15', '>=')"},
		{"subset", "a is subset(b)", "every element of a is in b"},
		{"superset", "a is superset(b)", "every element of b is in a"},
	}
}

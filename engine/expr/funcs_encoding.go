package expr

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/jmespath/go-jmespath"
	"github.com/tpago/tpago/yamlx"
)

// encodingFuncs registers JSON, YAML and base64.
func encodingFuncs(r *registry) {
	add, addN := r.add, r.addN
	addN("to_json", "to_json(v)", "v as JSON on one line", 1, 1, func(a ...any) (any, error) {
		var b bytes.Buffer
		if err := pyJSON(&b, a[0], "", 0); err != nil {
			return nil, argErr("to_json", "%v", err)
		}
		return b.String(), nil
	})
	addN("to_nice_json", "to_nice_json(v, [indent])", "v as indented JSON with sorted keys (indent 4)", 1, 2, func(a ...any) (any, error) {
		n := 4
		if len(a) > 1 {
			n, _ = toInt(a[1])
		}
		if err := fits("to_nice_json", n*64); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if err := pyJSON(&b, a[0], strings.Repeat(" ", n), 0); err != nil {
			return nil, argErr("to_nice_json", "%v", err)
		}
		return b.String(), nil
	})
	addN("from_json", "from_json(s)", "the value the JSON text s holds", 1, 1, func(a ...any) (any, error) {
		var v any
		dec := json.NewDecoder(strings.NewReader(str(a[0])))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, argErr("from_json", "%v", err)
		}
		return fromJSONNumbers(v), nil
	})
	toYAML := func(name string, opts ...yaml.EncodeOption) func(...any) (any, error) {
		return func(a ...any) (any, error) {
			if err := nargs(name, a, 1, 1); err != nil {
				return nil, err
			}
			b, err := yaml.MarshalWithOptions(jsonable(materialize(a[0])), opts...)
			if err != nil {
				return nil, argErr(name, "%v", err)
			}
			return string(b), nil
		}
	}
	add("to_yaml", "to_yaml(v)", "v as YAML", toYAML("to_yaml", yaml.Indent(2)))
	add("to_nice_yaml", "to_nice_yaml(v)", "v as block-style YAML indented by 4", toYAML("to_nice_yaml", yaml.Indent(4), yaml.IndentSequence(true)))
	addN("from_yaml", "from_yaml(s)", "the value the YAML text s holds", 1, 1, func(a ...any) (any, error) {
		// Through yamlx: the same bounds on aliases, depth and size as
		// every YAML file tpago reads.
		s := str(a[0])
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		n, err := yamlx.ParseOne("from_yaml", []byte(s))
		if err != nil {
			return nil, argErr("from_yaml", "%v", err)
		}
		return n.Plain(), nil
	})
	add("b64encode", "b64encode(s)", "s in base64", str1("b64encode", func(s string) any { return base64.StdEncoding.EncodeToString([]byte(s)) }))
	addN("b64decode", "b64decode(s)", "the text that base64 s encodes", 1, 1, func(a ...any) (any, error) {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(str(a[0])))
		if err != nil {
			return nil, argErr("b64decode", "%v", err)
		}
		return string(b), nil
	})
	addN("json_query", "json_query(v, query)", "the JMESPath query applied to v, as Ansible's json_query (e.g. '[?state==`up`].name')", 2, 2, func(a ...any) (any, error) {
		b, err := json.Marshal(jsonable(materialize(a[0])))
		if err != nil {
			return nil, argErr("json_query", "%v", err)
		}
		var data any
		if err := json.Unmarshal(b, &data); err != nil {
			return nil, argErr("json_query", "%v", err)
		}
		out, err := jmespath.Search(jmesLiterals(str(a[1])), data)
		if err != nil {
			return nil, argErr("json_query", "%v", err)
		}
		return intsFromJSON(out), nil
	})
}

// pyJSON writes v as Python's json.dumps does: ", " and ": " separators
// (compact false), or indented with sorted keys.
func pyJSON(buf *bytes.Buffer, v any, indent string, depth int) error {
	v = materialize(v)
	nl := func(d int) {
		if indent != "" {
			buf.WriteByte('\n')
			buf.WriteString(strings.Repeat(indent, d))
		}
	}
	itemSep := ", "
	if indent != "" {
		itemSep = ","
	}
	if m, ok := v.(map[string]any); ok || isMapValue(v) {
		if !ok {
			m, _ = toMap(v)
		}
		if len(m) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteByte('{')
		for i, k := range sortedKeys(m) {
			if i > 0 {
				buf.WriteString(itemSep)
			}
			nl(depth + 1)
			kb, _ := jsonMarshal(k)
			buf.Write(kb)
			buf.WriteString(": ")
			if err := pyJSON(buf, m[k], indent, depth+1); err != nil {
				return err
			}
		}
		nl(depth)
		buf.WriteByte('}')
		return nil
	}
	if _, isStr := v.(string); !isStr {
		if l, ok := toList(v); ok && v != nil {
			if _, isBytes := v.([]byte); !isBytes {
				if len(l) == 0 {
					buf.WriteString("[]")
					return nil
				}
				buf.WriteByte('[')
				for i, e := range l {
					if i > 0 {
						buf.WriteString(itemSep)
					}
					nl(depth + 1)
					if err := pyJSON(buf, e, indent, depth+1); err != nil {
						return err
					}
				}
				nl(depth)
				buf.WriteByte(']')
				return nil
			}
		}
	}
	b, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

func jsonMarshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonable(v)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func fromJSONNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i, e := range x {
			x[i] = fromJSONNumbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSONNumbers(e)
		}
	}
	return v
}

// intsFromJSON turns the whole floats JSON decoding gave back into ints.
func intsFromJSON(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x)
		}
	case []any:
		for i, e := range x {
			x[i] = intsFromJSON(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = intsFromJSON(e)
		}
	}
	return v
}

var jmesLiteral = regexp.MustCompile("`((?:[^`\\\\]|\\\\.)*)`")

// jmesLiterals quotes the `literals` that are not JSON (`up`), as the
// Python library Ansible uses accepts them.
func jmesLiterals(q string) string {
	return jmesLiteral.ReplaceAllStringFunc(q, func(m string) string {
		body := m[1 : len(m)-1]
		if json.Valid([]byte(strings.ReplaceAll(body, "\\`", "`"))) {
			return m
		}
		b, _ := json.Marshal(strings.ReplaceAll(body, "\\`", "`"))
		return "`" + strings.ReplaceAll(string(b), "`", "\\`") + "`"
	})
}

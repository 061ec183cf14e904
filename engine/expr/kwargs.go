package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// Jinja keyword arguments (x | sort(attribute='name'), x | map(attribute='a'))
// become positional ones, in the order each function takes them. The first
// parameter is the piped value.
var keywordParams = map[string][]string{
	"sort":          {"", "reverse", "attribute"},
	"map_attr":      {"", "attribute", "default"},
	"default":       {"", "default_value", "boolean"},
	"d":             {"", "default_value", "boolean"},
	"join":          {"", "d"},
	"int":           {"", "default"},
	"float":         {"", "default"},
	"indent":        {"", "width", "first"},
	"to_nice_json":  {"", "indent"},
	"ternary":       {"", "true_val", "false_val", "none_val"},
	"dict2items":    {"", "key_name", "value_name"},
	"items2dict":    {"", "key_name", "value_name"},
	"flatten":       {"", "levels"},
	"regex_replace": {"", "pattern", "replacement", "ignorecase"},
	"regex_findall": {"", "pattern", "ignorecase"},
	"unique":        {""},
	"mandatory":     {"", "msg"},
	"split":         {"", "sep", "maxsplit"},
	"trim":          {"", "chars"},
	"round":         {"", "precision", "method"},
	"dictsort":      {"", "case_sensitive", "by", "reverse"},
	"relpath":       {"", "start"},
	"comment":       {"", "style", "decoration", "beginning", "prefix", "prefix_count", "postfix", "postfix_count", "end", "newline"},
}

// rewriteKeywords rewrites every call in toks that uses name=value
// arguments. ok reports a change; err an unknown keyword.
func rewriteKeywords(toks []token) ([]token, bool, error) {
	has := false
	for k := 1; k+1 < len(toks); k++ {
		if toks[k].kind == tkIdent && toks[k+1].kind == tkOp && toks[k+1].text == "=" &&
			(toks[k-1].text == "(" || toks[k-1].text == ",") {
			has = true
			break
		}
	}
	if !has {
		return toks, false, nil
	}
	out, err := keywordGroup(toks)
	return out, true, err
}

func keywordGroup(toks []token) ([]token, error) {
	var out []token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !(t.kind == tkIdent && i+1 < len(toks) && toks[i+1].text == "(") {
			out = append(out, t)
			continue
		}
		// find the call's closing bracket
		depth, end := 0, -1
		for j := i + 1; j < len(toks); j++ {
			if toks[j].kind == tkOpen {
				depth++
			} else if toks[j].kind == tkClose {
				depth--
				if depth == 0 {
					end = j
					break
				}
			}
		}
		if end < 0 {
			out = append(out, t)
			continue
		}
		var args [][]token
		var cur []token
		depth = 0
		for _, a := range toks[i+2 : end] {
			switch {
			case a.kind == tkOpen:
				depth++
			case a.kind == tkClose:
				depth--
			case depth == 0 && a.kind == tkOp && a.text == ",":
				args = append(args, cur)
				cur = nil
				continue
			}
			cur = append(cur, a)
		}
		if len(cur) > 0 {
			args = append(args, cur)
		}
		for k := range args {
			fixed, err := keywordGroup(args[k])
			if err != nil {
				return nil, err
			}
			args[k] = fixed
		}
		name := t.text
		var positional [][]token
		kw := map[string][]token{}
		var kwOrder []string
		for _, a := range args {
			if len(a) >= 2 && a[0].kind == tkIdent && a[1].kind == tkOp && a[1].text == "=" {
				kw[a[0].text] = a[2:]
				kwOrder = append(kwOrder, a[0].text)
				continue
			}
			positional = append(positional, a)
		}
		if len(kw) > 0 {
			if name == "map" {
				if _, ok := kw["attribute"]; ok {
					name = "map_attr"
				}
			}
			if name == "combine" {
				if v, ok := kw["recursive"]; ok && len(kw) == 1 {
					positional = append(positional, v)
					kw = nil
				}
			}
		}
		if len(kw) > 0 && (name == "lookup" || name == "query" || name == "q" || name == "dict") {
			// keyword arguments of lookups pass as a map; dict(k=v) is {'k': v}
			kwMap := []token{{tkOpen, "{", -1}}
			for n, k := range kwOrder {
				if n > 0 {
					kwMap = append(kwMap, token{tkOp, ",", -1})
				}
				kwMap = append(kwMap, token{tkString, strconv.Quote(k), -1}, token{tkOp, ":", -1})
				kwMap = append(kwMap, kw[k]...)
			}
			kwMap = append(kwMap, token{tkClose, "}", -1})
			if name == "dict" && len(positional) == 0 {
				out = append(out, kwMap...)
				i = end
				continue
			}
			if name == "dict" {
				name = "combine"
				positional = append(positional, kwMap)
			} else {
				positional = append(positional, append(append([]token{{tkIdent, "__kwargs", -1}, {tkOpen, "(", -1}}, kwMap...), token{tkClose, ")", -1}))
			}
			kw = nil
		}
		if len(kw) > 0 {
			params, known := keywordParams[name]
			if !known {
				return nil, fmt.Errorf("%s() takes no keyword arguments (%s=)", t.text, kwOrder[0])
			}
			for _, k := range kwOrder {
				pos := -1
				for p, pn := range params {
					if pn == k && p > 0 {
						pos = p
					}
				}
				if pos < 0 {
					return nil, fmt.Errorf("%s() has no argument %s (it takes %s)", t.text, k, strings.Join(params[1:], ", "))
				}
				for len(positional) <= pos {
					positional = append(positional, []token{{tkIdent, "nil", -1}})
				}
				positional[pos] = kw[k]
			}
		}
		out = append(out, token{tkIdent, name, t.pos}, toks[i+1])
		for k, a := range positional {
			if k > 0 {
				out = append(out, token{tkOp, ",", -1})
			}
			out = append(out, a...)
		}
		out = append(out, toks[end])
		i = end
	}
	return out, nil
}

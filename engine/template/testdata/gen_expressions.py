# Regenerates testdata/expressions.json: expressions written the same way
# in Jinja and in tpago, each rendered as "{{ expr }}" by real Jinja2 with
# the variables of golden/vars.json. python3 gen_expressions.py
import json, os
import jinja2
here = os.path.dirname(os.path.abspath(__file__))
env = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
vars = json.load(open(os.path.join(here, "golden", "vars.json")))
exprs = [
  "1 + 2 * 3", "port // 1000", "-7 // 2", "7.5 // 2", "(1 + 2) * 3", "7 / 2", "8 / 2", "7 % 3", "2 ** 8", "-port", "port - 32 * 2", "ratio * 4", "big + 1", "0.1 + 0.2",
  "1 < 2", "port >= 5432 and port < 6000", "not enabled", "enabled or disabled", "port == 5432.0", "'a' < 'b'", "nothing == None",
  "'x' ~ port ~ 'y'", "cluster_name ~ '-' ~ names[0]", "names[1]", "names[-1]", "hosts[1].name", "hosts[2]['ip']", "settings.max_connections + 1",
  "'alpha' in names", "'zeta' not in names", "'10.0' in hosts[0].ip", "'max_connections' in settings",
  "names | join(', ')", "names | join", "nums | sort", "nums | sort | reverse | list", "nums | max", "nums | min", "nums | sum", "nums | length", "names | first", "names | last",
  "text | trim", "text | upper", "text | lower", "cluster_name | replace('1', 'one')", "'%05d' | format(port)", "'%s=%s' | format('a', 1)", "'%.2f' | format(ratio)",
  "'42' | int", "'x' | int", "'4.5' | float", "3 | float", "port | string", "true | string", "nothing | string", "names | length > 2",
  "missing | default('dflt')", "nothing | default('dflt')", "'' | default('dflt', true)", "missing is defined", "port is defined", "nothing is none", "port is number", "names is string", "settings is mapping",
  "'yes' if enabled else 'no'", "'yes' if disabled else 'no'", "[1, 2] + [3]", "[1, 'a', none, true, 1.5]", "{'k': 'v'}", "[[1, 2], ['x']]",
  "names | map('upper') | list", "hosts | map(attribute='name') | list", "hosts | selectattr('role', 'equalto', 'replica') | map(attribute='ip') | list",
  "hosts | rejectattr('tags') | map(attribute='name') | list", "hosts | selectattr('tags') | list | length", "[3, 1, 3, 2] | unique | list", "range(5) | list", "range(1, 10, 3) | list",
  "multiline | indent(2)", "'hello' | capitalize", "-3 | abs", "2.5 | round", "2.567 | round(2)", "[1, 2, 3, 4] | select('odd') | list", "names | select('string') | list | length", "[0, 1, '', 'x'] | select | list", "[0, 1, '', 'x'] | reject | list",
  # precedence of not, tuples, tests without brackets, and/or giving an operand
  "not port == 5432", "not port == 1", "not 'alpha' in names", "not 'zeta' in names", "not names | length > 1", "not enabled and disabled", "not not enabled",
  "'yes' if not port == 1 else 'no'", "[not enabled, not disabled]", "port in (5432, 6432)", "'x' not in ('yes', 'no')", "port not in (257, 0)", "('a',) | list", "() | length",
  "'alpha' is in names", "'zeta' is not in names", "enabled is sameas true", "port is divisibleby 3", "port is not divisibleby 2",
  "nothing or []", "empty or 'fallback'", "cluster_name or 'x'", "names and names[0]", "empty and empty[0]", "0 or nothing", "disabled or 0 or 'last'",
  # Python string escapes and formatting
  "'a\\.b'", "'\\*'", "'\\\\1'", "'\\\",\\\"'", "'x\\ty'", "'\\x41\\u00e9'", "'a\nb'.split('\n')", "'%d items' % port", "'%s-%s' % (cluster_name, port)", "'%05.1f' % ratio",
  "'{}:{}'.format(cluster_name, port)", "'{0}/{1}/{0}'.format('a', 'b')", "{'k': {'n': 1}}",
  "-7 % 3", "7 % -3", "7.5 % 2",
  "hosts[0].tags | join('+')", "(port | string) ~ '!'", "settings.values() | list | length", "quote_str", "[quote_str]", "'tab\\there'", "['a\\nb']", "1e3", "1.0e-7",
]
cases = []
for e in exprs:
    out = env.from_string("{{ " + e + " }}").render(**vars)
    cases.append({"expr": e, "out": out})
with open(os.path.join(here, "expressions.json"), "w") as f:
    json.dump(cases, f, indent=1)
print(len(cases))

# Regenerates testdata/whitespace.json: random sequences of tags, text and
# whitespace controls, rendered once by real Jinja2 configured as Ansible's
# template module. python3 gen_whitespace.py
import json, os, random
import jinja2
random.seed(7)
parts = ["a", " ", "  ", "\n", "\n\n", "\t", "x\n", " \n ",
  "{{ v }}", "{{- v }}", "{{ v -}}", "{{- v -}}",
  "{% if t %}", "{%- if t %}", "{% if t -%}", "{% if f %}", "{% else %}", "{%- else -%}", "{% endif %}", "{%- endif %}", "{% endif -%}",
  "{# c #}", "{#- c #}", "{# c -#}", "{% for i in l %}", "{%- for i in l -%}", "{{ i }}", "{% endfor %}", "{%- endfor %}", "{% endfor -%}",
  "{% set s = 1 %}", "{%- set s = 2 -%}", "{% raw %}{{ r }}{% endraw %}", "{%- raw -%} q {%- endraw -%}", "{% if t +%}", "{% endif +%}",
  "{{ l }}", "{{ n }}", "{{ b }}"]
env = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
cases = []
while len(cases) < 600:
    src = "".join(random.choice(parts) for _ in range(random.randint(1, 12)))
    try:
        out = env.from_string(src).render(v="V", t=True, f=False, l=[1, 2], n=None, b=1.0)
    except Exception:
        continue  # unbalanced or undefined: not a valid case
    cases.append({"src": src, "out": out})
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "whitespace.json")
with open(path, "w") as f:
    json.dump(cases, f, indent=0)
print(len(cases))

# Regenerates the expected outputs of the golden tests with real Jinja2,
# configured as Ansible's template module: python3 gen_golden.py
import glob, json, os
import jinja2
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
env = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
vars = json.load(open(os.path.join(here, "vars.json")))
for path in sorted(glob.glob(os.path.join(here, "*.j2"))):
    src = open(path, newline="").read()
    out = env.from_string(src).render(**vars)
    with open(path[:-3] + ".out", "w", newline="") as f:
        f.write(out)
    print(os.path.basename(path))

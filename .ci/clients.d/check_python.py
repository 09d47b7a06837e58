"""Imports the generated Python client and exercises it, in the virtualenv it is installed in.

    python check_python.py PACKAGE OPERATIONS.txt SAMPLES.json

- every API class of PACKAGE.api imports, and together they have a method per operationId
  listed in OPERATIONS.txt (one a line);
- every discriminated union of SAMPLES.json (from discriminator_samples.py) parses each
  member's sample into the member class its mapping names, and refuses a wrong tag.
Exits 1 on any problem, after printing them all.
"""

import importlib
import inspect
import json
import sys

package, operations_path, samples_path = sys.argv[1:4]
problems = []

api = importlib.import_module(f"{package}.api")
classes = [obj for _, obj in inspect.getmembers(api, inspect.isclass) if obj.__module__.startswith(f"{package}.api.")]
methods = {name for cls in classes for name, _ in inspect.getmembers(cls, inspect.isfunction)}
wanted = [line.strip() for line in open(operations_path, encoding="utf-8") if line.strip()]
missing = [op for op in wanted if op not in methods]
print(f"python: import {package}.api: {len(classes)} API classes; {len(wanted) - len(missing)} of {len(wanted)} operations callable")
problems += [f"{package}.api has no method {op}" for op in missing]

models = importlib.import_module(f"{package}.models")
for union, cases in json.load(open(samples_path, encoding="utf-8")).items():
    cls = getattr(models, union, None)
    if cls is None:
        problems.append(f"{package}.models has no {union}")
        continue
    for value, case in cases.items():
        try:
            got = type(cls.from_dict(case["sample"]).actual_instance).__name__
        except Exception as e:  # noqa: BLE001 - reported below
            got = f"an error: {str(e).splitlines()[0]}"
        if got != case["schema"]:
            problems.append(f"{union}.from_dict({case['property']}={value!r}) gave {got}, not {case['schema']}")
    # A tag that names another member must not pass (each member fixes its own tag).
    value, case = next(iter(cases.items()))
    other = next((v for v in cases if v != value), None)
    if other is not None:
        wrong = dict(case["sample"], **{case["property"]: other})
        try:
            got = type(cls.from_dict(wrong).actual_instance).__name__
            problems.append(f"{union}.from_dict accepted a {case['schema']} tagged {other!r} (as {got})")
        except Exception:  # noqa: BLE001 - refusing is the expected outcome
            pass
    print(f"python: {union}: {len(cases)} discriminator values ({cases[value]['property']}) parse into their member")

for problem in problems:
    print(f"  problem: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)

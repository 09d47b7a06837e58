"""Minimal valid instances of every member of the spec's discriminated oneOf unions.

    python3 discriminator_samples.py SPEC.json > samples.json

For each component schema with `oneOf` and `discriminator.mapping`, and each mapping value,
writes {"<union>": {"<value>": {"schema": "<member>", "property": "<propertyName>",
"sample": {...}}}}: required properties only, the first enum value, null wherever null is
allowed, the shortest string matching a pattern. The generated clients' checks parse each
sample through the union and expect the member the mapping names.
"""

import json
import re
import sys

try:  # Python >= 3.11
    import re._constants as sre_constants
    import re._parser as sre_parse
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

spec = json.load(open(sys.argv[1], encoding="utf-8"))
schemas = spec.get("components", {}).get("schemas", {})


def regex_example(pattern):
    """The shortest string matching one of the simple regexes an API uses."""
    c = sre_constants

    def walk(items):
        out = ""
        for op, av in items:
            if op == c.LITERAL:
                out += chr(av)
            elif op == c.IN:
                kind, value = av[0]
                if kind == c.LITERAL:
                    out += chr(value)
                elif kind == c.RANGE:
                    out += chr(value[0])
                elif kind == c.CATEGORY:
                    out += "0" if "DIGIT" in str(value) else "a"
                else:
                    raise ValueError(f"unsupported character class in {pattern!r}")
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                low, _high, sub = av
                out += walk(sub) * low
            elif op == c.SUBPATTERN:
                out += walk(av[-1])
            elif op == c.BRANCH:
                out += walk(av[1][0])
            elif op == c.AT:
                pass
            elif op == c.ANY:
                out += "a"
            else:
                raise ValueError(f"unsupported regex construct {op} in {pattern!r}")
        return out

    text = walk(sre_parse.parse(pattern))
    if not re.search(pattern, text):
        raise ValueError(f"could not build a string matching {pattern!r}")
    return text


def sample(schema, depth=0):
    if depth > 50:
        raise ValueError("schema nested too deep (recursive?)")
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/components/schemas/"):
            raise ValueError(f"unsupported $ref {ref}")
        return sample(schemas[ref.rsplit("/", 1)[1]], depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            alternatives = schema[key]
            if any(alt.get("type") == "null" for alt in alternatives):
                return None
            return sample(alternatives[0], depth + 1)
    if "allOf" in schema:
        merged = {}
        for part in schema["allOf"]:
            merged.update(sample(part, depth + 1))
        return merged
    types = schema.get("type", "object")
    types = types if isinstance(types, list) else [types]
    if "null" in types:
        return None
    kind = types[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: sample(props[k], depth + 1) for k in schema.get("required", []) if k in props}
    if kind == "array":
        return [sample(schema.get("items", {}), depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "uuid":
            return "00000000-0000-4000-8000-000000000001"
        if fmt == "date-time":
            # Milliseconds and Z: what JavaScript's Date#toISOString gives back.
            return "2024-01-02T03:04:05.000Z"
        if fmt == "date":
            return "2024-01-02"
        if fmt in ("uri", "url"):
            return "https://example.invalid/"
        if fmt == "email":
            return "a@example.invalid"
        if "pattern" in schema:
            return regex_example(schema["pattern"])
        return "x" * max(1, schema.get("minLength", 1))
    raise ValueError(f"unsupported type {kind!r}")


out = {}
for name, schema in sorted(schemas.items()):
    discriminator = schema.get("discriminator")
    if "oneOf" not in schema or not discriminator or "mapping" not in discriminator:
        continue
    cases = {}
    for value, ref in discriminator["mapping"].items():
        case = {
            "schema": ref.rsplit("/", 1)[1],
            "property": discriminator["propertyName"],
            "sample": sample({"$ref": ref}),
        }
        if case["sample"].get(case["property"]) != value:
            # Legal OpenAPI, but then only the discriminator tells the members apart: say so,
            # and let the clients' checks show whether they dispatch on it.
            print(
                f"note: {name}: the member {case['schema']} mapped from {value!r} does not fix "
                f"{case['property']} to {value!r} (no enum or const of that one value)",
                file=sys.stderr,
            )
            case["sample"][case["property"]] = value
        cases[value] = case
    out[name] = cases
json.dump(out, sys.stdout, indent=1)

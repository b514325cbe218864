"""An older spec, for the forward-compatibility check of .ci/clients.

`python3 older_spec.py SPEC KIND CODE > OLD.json` writes SPEC as it would
have been before section kind KIND and problem code CODE were added (API.md's
compatibility policy allows both in /v1): KIND goes from every enum and every
discriminated union (its section, item and write schemas go), CODE from every
enum. A client generated from OLD.json is a client built yesterday, reading
today's server.
"""

import json
import sys


def main():
    spec_path, kind, code = sys.argv[1:4]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    removed = {"enum values": 0, "union members": 0}
    gone_refs = set()

    def walk(node):
        if isinstance(node, dict):
            enum = node.get("enum")
            if isinstance(enum, list) and (kind in enum or code in enum):
                node["enum"] = [v for v in enum if v not in (kind, code)]
                removed["enum values"] += len(enum) - len(node["enum"])
            mapping = node.get("discriminator", {}).get("mapping", {})
            if kind in mapping:
                gone = mapping.pop(kind)
                gone_refs.add(gone)
                node["oneOf"] = [m for m in node.get("oneOf", []) if m.get("$ref") != gone]
                removed["union members"] += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    # The kind's own schemas (RisksSection, RisksItem, their writes) go too.
    schemas = spec["components"]["schemas"]
    for ref in gone_refs:
        del schemas[ref.rsplit("/", 1)[-1]]
    text = json.dumps(spec)
    left = [ref for ref in gone_refs if f'"{ref}"' in text]
    if left:
        sys.exit(f"older_spec: still referenced after removal: {left}")
    if not removed["enum values"] or not removed["union members"]:
        sys.exit(f"older_spec: {kind!r} or {code!r} not found in {spec_path}: {removed}")
    print(f"older_spec: without {kind!r} and {code!r}: {removed}", file=sys.stderr)
    json.dump(spec, sys.stdout, indent=1)


if __name__ == "__main__":
    main()

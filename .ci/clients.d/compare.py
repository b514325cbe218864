"""Deep, field-by-field comparison of two JSON documents.

`python3 compare.py LABEL BASE_URL CLIENT.json` reads CLIENT.json, a client's
parsed objects as {path: object}, fetches the raw answer of every path with
curl (no generated code involved), prints every difference with its path
(`GET /v1/articles/x $.sections[3].items[0].phase: lost`) and exits 1 if there
is any.

Strict: a field missing on either side, an extra field, a changed value or
type (1 vs 1.0 vs "1", null vs absent) is a difference. The only leniency:
two strings that are both RFC 3339 timestamps of the same instant are equal
("...T10:00:00Z" and "...T10:00:00+00:00"), because a client that parses
timestamps into datetime objects may print them back in another form.
"""

import datetime
import json
import os
import re
import subprocess
import sys

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _instant(s):
    if not _RFC3339.match(s):
        return None
    try:
        return datetime.datetime.fromisoformat(s.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None


def _same_scalar(a, b):
    if type(a) is not type(b):  # bool is not int, int is not float, None is not ""
        return False
    if a == b:
        return True
    if isinstance(a, str):
        ia, ib = _instant(a), _instant(b)
        return ia is not None and ib is not None and ia == ib
    return False


def _show(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 120 else s[:117] + "..."


def diff(expected, actual, path="$"):
    out = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in expected:
            p = f"{path}.{k}"
            if k not in actual:
                out.append(f"{p}: lost (was {_show(expected[k])})")
            else:
                out.extend(diff(expected[k], actual[k], p))
        for k in actual:
            if k not in expected:
                out.append(f"{path}.{k}: added ({_show(actual[k])}), not in the server's answer")
    elif isinstance(expected, list) and isinstance(actual, list):
        for i, (e, a) in enumerate(zip(expected, actual)):
            out.extend(diff(e, a, f"{path}[{i}]"))
        if len(expected) != len(actual):
            out.append(f"{path}: {len(expected)} elements in the server's answer, {len(actual)} in the client's")
    elif isinstance(expected, (dict, list)) or isinstance(actual, (dict, list)):
        out.append(f"{path}: changed from {_show(expected)} to {_show(actual)}")
    elif not _same_scalar(expected, actual):
        out.append(f"{path}: changed from {_show(expected)} to {_show(actual)}")
    return out


def raw(base_url, path):
    # An asset's metadata is the editors': read it with CLIENTS_TOKEN.
    token = os.environ.get("CLIENTS_TOKEN")
    auth = ["-H", f"Authorization: Bearer {token}"] if token and path.startswith("/v1/assets/") else []
    body = subprocess.run(["curl", "-sSf", "-H", "Accept: application/json", *auth, base_url + path],
                          check=True, capture_output=True).stdout
    return json.loads(body)


def main():
    label, base_url, client_path = sys.argv[1:4]
    with open(client_path, encoding="utf-8") as f:
        parsed = json.load(f)
    problems = []
    for path, actual in parsed.items():
        problems.extend(f"GET {path} {p}" for p in diff(raw(base_url, path), actual))
    if problems:
        print(f"{label}: {len(problems)} difference(s) between the server's raw JSON and the client's objects:")
        for p in problems:
            print(f"  {p}")
        return 1
    print(f"{label}: {len(parsed)} answers; each client object equals the server's raw JSON, field by field")
    return 0


if __name__ == "__main__":
    sys.exit(main())

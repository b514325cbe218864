"""A mobile/Python view of lamina through a generated client.

Run with the virtualenv where .ci/clients installed the client that
openapi-python-client generated from openapi/openapi.json:

    python roundtrip.py BASE_URL SLUG OUT.json
    python roundtrip.py write BASE_URL SLUG TOKEN   # an item written and read back

Reads the seeded article, its section list, every section and every item,
the article and its steps in German (.ci/clients writes a translation), and
with CLIENTS_ASSET and CLIENTS_TOKEN the asset its images show,
through the client's typed models, and writes what the client understood,
`{path: model.to_dict()}`, to OUT.json for compare.py to check field by field
against the raw answers. Also fails (exit 1) when a value survived only as an
untyped `additional_properties` entry of a model (or as a bare dict where a
model was expected): such a field is not lost on the wire, but the client's
types do not know it, which is a loss for its users.
"""

import importlib
import json
import os
import pkgutil
import sys
from uuid import UUID

import lamina_client
import lamina_client.api
from lamina_client import Client
from lamina_client.types import Unset


def operation(op_id):
    """The generated module of an operationId, whatever tag it was filed under."""
    for tag in pkgutil.iter_modules(lamina_client.api.__path__):
        name = f"lamina_client.api.{tag.name}.{op_id}"
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
    raise SystemExit(f"python: the generated client has no operation {op_id!r}")


def section_kind(kind):
    try:
        from lamina_client.models.section_kind import SectionKind
    except ImportError:
        return kind
    return SectionKind(kind)


def untyped(value, path, out):
    """Paths where the parsed object holds data its models do not declare."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            untyped(v, f"{path}[{i}]", out)
    elif isinstance(value, dict):
        out.append(f"{path}: a bare dict, not a model ({', '.join(value)})")
    elif hasattr(value, "to_dict") and hasattr(value, "__attrs_attrs__"):
        extra = getattr(value, "additional_properties", None) or {}
        declared = [a.name for a in value.__attrs_attrs__ if a.name != "additional_properties"]
        if not declared:
            # A map (`additionalProperties` with a schema, e.g. `fallbacks`):
            # its entries are its data, typed by that schema.
            for k, v in extra.items():
                untyped(v, f"{path}[{k!r}]", out)
            return
        if extra:
            out.append(f"{path}: {type(value).__name__} keeps {', '.join(sorted(extra))} only as untyped additional properties")
        for a in value.__attrs_attrs__:
            if a.name != "additional_properties":
                v = getattr(value, a.name)
                if not isinstance(v, Unset):
                    untyped(v, f"{path}.{a.name}", out)


def write_item(base_url, slug, token):
    """Edits one step through the client's typed write model (`StepsItemWrite`,
    `put_item` with If-Match) and reads it back: the write path of the client."""
    from lamina_client import AuthenticatedClient
    from lamina_client.models.steps_item_write import StepsItemWrite

    put_item = operation("put_item")
    get_item = operation("get_item")
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    raw = json.loads(operation("get_section").sync_detailed(client=client, slug=slug, kind=section_kind("steps")).content)
    item = raw["items"][0]
    item_id = UUID(item["id"])
    title = item["title"] + " (edited through the Python client)"
    body = StepsItemWrite.from_dict({"kind": "steps", "title": title, "body": item["body"]})
    written = put_item.sync_detailed(client=client, slug=slug, kind=section_kind("steps"), id=item_id,
                                     body=body, if_match="*")
    if written.status_code != 200 or written.parsed is None or written.parsed.title != title:
        raise SystemExit(f"python: put_item: HTTP {int(written.status_code)}: {written.content[:300]!r}")
    read = get_item.sync_detailed(client=client, slug=slug, kind=section_kind("steps"), id=item_id)
    if read.parsed is None or read.parsed.title != title or str(read.parsed.id) != item["id"]:
        raise SystemExit(f"python: the item read back is not the one written: {read.content[:300]!r}")
    print(f"python: wrote {type(body).__name__} through put_item and read {type(read.parsed).__name__} back", file=sys.stderr)


def main():
    if sys.argv[1] == "write":
        write_item(*sys.argv[2:5])
        return
    base_url, slug, out_path = sys.argv[1:4]
    client = Client(base_url=base_url, raise_on_unexpected_status=True)
    get_article = operation("get_article")
    list_sections = operation("list_sections")
    get_section = operation("get_section")
    get_item = operation("get_item")

    parsed = {}

    def read(path, response):
        if response.status_code != 200 or response.parsed is None:
            raise SystemExit(f"python: {path}: HTTP {int(response.status_code)}: {response.content[:300]!r}")
        parsed[path] = response.parsed
        return response.parsed

    base = f"/v1/articles/{slug}"
    article = read(base, get_article.sync_detailed(client=client, slug=slug))
    read(f"{base}/sections", list_sections.sync_detailed(client=client, slug=slug))
    print(f"python: {article.title}: " + ", ".join(f"{s.kind} as {type(s).__name__}" for s in article.sections), file=sys.stderr)
    for raw_section in json.loads(get_article.sync_detailed(client=client, slug=slug).content)["sections"]:
        # Walk the raw answer, not the parsed one, so an item the client
        # dropped or misread is still fetched and compared on its own.
        kind = raw_section["kind"]
        path = f"{base}/sections/{kind}"
        read(path, get_section.sync_detailed(client=client, slug=slug, kind=section_kind(kind)))
        classes = []
        for item in raw_section.get("items", []):
            one = read(f"{path}/items/{item['id']}",
                       get_item.sync_detailed(client=client, slug=slug, kind=section_kind(kind), id=UUID(item["id"])))
            classes.append(type(one).__name__)
        if classes:
            print(f"python: GET {path}/items/{{id}}: {kind} items read as "
                  + ", ".join(f"{c} x{classes.count(c)}" for c in sorted(set(classes))), file=sys.stderr)

    # The same article and its steps in German (API.md §13).
    german = read(f"{base}?locale=de", get_article.sync_detailed(client=client, slug=slug, locale="de"))
    print(f"python: {german.locale}: {german.title}", file=sys.stderr)
    read(f"{base}/sections/steps?locale=de",
         get_section.sync_detailed(client=client, slug=slug, kind=section_kind("steps"), locale="de"))

    # Only some kinds: `sections` is a list of SectionKind, sent comma-separated
    # (the union/endpoint templates in py/templates; upstream repeats the key).
    picked = read(f"{base}?sections=steps,risks",
                  get_article.sync_detailed(client=client, slug=slug,
                                            sections=[section_kind("steps"), section_kind("risks")]))
    print(f"python: ?sections=steps,risks: {', '.join(str(s.kind) for s in picked.sections)}", file=sys.stderr)

    # The asset the article's images show (.ci/clients uploads it), as an editor.
    asset_id, token = os.environ.get("CLIENTS_ASSET"), os.environ.get("CLIENTS_TOKEN")
    if asset_id and token:
        from lamina_client import AuthenticatedClient

        editor = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
        asset = read(f"/v1/assets/{asset_id}", operation("get_asset").sync_detailed(client=editor, id=UUID(asset_id)))
        print(f"python: asset {asset.filename}: {asset.width}x{asset.height}, used by {len(asset.used_by)}", file=sys.stderr)

    problems = []
    for path, value in parsed.items():
        untyped(value, path, problems)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({p: (v.to_dict() if hasattr(v, "to_dict") else [x.to_dict() for x in v]) for p, v in parsed.items()}, f)
    if problems:
        print(f"python: {len(problems)} value(s) the client's models do not type:")
        for p in problems:
            print(f"  {p}")
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Forward compatibility, Python: a client generated from an older spec
(older_spec.py: one section kind and one problem code removed) reads today's
server, with the README's client settings (config.yaml and the union template
in templates/).

    PYTHONPATH=OLD_CLIENT_DIR python forward.py BASE_URL SLUG KIND CODE

Passes when the whole article decodes: every section of a kind the client
knows into its model, the section of KIND kept as the dict the server sent;
and an unknown slug's 404 decodes into Problem with `code` CODE, a code the
client's Code enum does not have, kept as a string.
"""

import json
import sys

from lamina_client import Client
from lamina_client.api.articles import get_article
from lamina_client.models.problem import Problem


def main():
    base_url, slug, kind, code = sys.argv[1:5]
    client = Client(base_url=base_url, raise_on_unexpected_status=True)
    failures = []

    response = get_article.sync_detailed(client=client, slug=slug)
    raw = json.loads(response.content)["sections"]
    decoded, kept = [], []
    for section, raw_section in zip(response.parsed.sections, raw):
        if isinstance(section, dict):
            kept.append(section["kind"])
            if section != raw_section:
                failures.append(f"the {section['kind']} section was kept, but changed")
        else:
            decoded.append(f"{raw_section['kind']} as {type(section).__name__}")
    print(f"python (older client): {len(decoded)} sections decoded ({', '.join(decoded)}); kept raw: {kept}")
    if kept != [kind]:
        failures.append(f"expected only {kind!r} kept raw, got {kept}")
    if len(response.parsed.sections) != len(raw):
        failures.append(f"{len(raw)} sections sent, {len(response.parsed.sections)} read")

    response = get_article.sync_detailed(client=client, slug="no-such-article-forward-compat")
    problem = response.parsed
    print(f"python (older client): HTTP {int(response.status_code)} read as {type(problem).__name__}, "
          f"code {problem.code!r} ({type(problem.code).__name__})" if problem is not None else "nothing parsed")
    if not isinstance(problem, Problem) or problem.code != code or not isinstance(problem.code, str):
        failures.append(f"the 404 did not decode into Problem with code {code!r}")

    for failure in failures:
        print(f"python (older client): {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

// Forward compatibility, TypeScript: types generated from an older spec
// (../older_spec.py: one section kind and one problem code removed) read
// today's server. The switch on `kind` is exhaustive for the kinds the client
// knows (the compiler checks it) and its default skips a kind added since, so
// the article still renders; an unknown problem code is still a string.
//
//   node build/forward.js BASE_URL SLUG KIND CODE

import createClient from "openapi-fetch";
import type { components, paths } from "./gen/old/lamina.js";

type Section = components["schemas"]["Section"];

const [baseUrl, slug, newKind, newCode] = process.argv.slice(2);
if (baseUrl === undefined || slug === undefined || newKind === undefined || newCode === undefined) {
  throw new Error("usage: node build/forward.js BASE_URL SLUG KIND CODE");
}
const client = createClient<paths>({ baseUrl });

// The heading of a section of a kind this client knows; undefined (skip it)
// for a kind added after the client was generated.
function heading(section: Section): string | undefined {
  switch (section.kind) {
    case "overview":
    case "steps":
    case "benefits":
    case "expectations":
    case "aftercare_tips":
    case "target_audiences":
    case "conclusion":
      return section.heading;
    default: {
      // `section` is `never` here for the compiler; at run time it is a kind
      // added since: skip it (or keep it raw).
      const added: { kind?: unknown } = section;
      process.stderr.write(`typescript (older client): skipped a section of kind ${String(added.kind)}\n`);
      return undefined;
    }
  }
}

const failures: string[] = [];
const { data, error, response } = await client.GET("/v1/articles/{slug}", { params: { path: { slug } } });
if (data === undefined) {
  throw new Error(`HTTP ${response.status} ${JSON.stringify(error)}`);
}
const headings = data.sections.map(heading);
const skipped = data.sections.filter((_, i) => headings[i] === undefined).map((s) => (s as { kind: string }).kind);
process.stderr.write(
  `typescript (older client): ${headings.filter((h) => h !== undefined).length} of ${data.sections.length} sections rendered; skipped: ${JSON.stringify(skipped)}\n`,
);
if (JSON.stringify(skipped) !== JSON.stringify([newKind])) {
  failures.push(`expected only ${newKind} skipped, got ${JSON.stringify(skipped)}`);
}

const missing = await client.GET("/v1/articles/{slug}", { params: { path: { slug: "no-such-article-forward-compat" } } });
// `code` is Code | string in the spec: a code added since is still a string.
const code: string | undefined = missing.error?.code;
process.stderr.write(`typescript (older client): HTTP ${missing.response.status}, code ${JSON.stringify(code)}\n`);
if (missing.response.status !== 404 || code !== newCode) {
  failures.push(`the 404's code is not ${newCode}`);
}
for (const failure of failures) {
  process.stderr.write(`typescript (older client): ${failure}\n`);
}
process.exit(failures.length === 0 ? 0 : 1);

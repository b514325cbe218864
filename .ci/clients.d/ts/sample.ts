// A front-end's view of lamina through a generated client: `paths` types from
// openapi-typescript (gen/lamina.ts, generated from openapi/openapi.json by
// .ci/clients) and openapi-fetch. It reads the seeded article, every section
// and every item of it, renders each section by switching on its `kind` (no
// casts: the compiler checks every kind's own fields and that no kind is
// forgotten), reads the article and a section in German and (with
// CLIENTS_ASSET and CLIENTS_TOKEN) the asset its images show, and prints what the client parsed as {path: object} JSON on
// stdout, for .ci/clients to compare field by field with the raw answers.
//
//   node build/sample.js http://127.0.0.1:8080 explore-micro-needling-for-flawless-skin-today

import createClient from "openapi-fetch";
import type { components, paths } from "./gen/lamina.js";

type Section = components["schemas"]["Section"];
type Kind = Section["kind"];

const [baseUrl, slug] = process.argv.slice(2);
if (baseUrl === undefined || slug === undefined) {
  throw new Error("usage: node build/sample.js BASE_URL SLUG");
}

// `sections` is an array sent comma-separated (`style: form, explode: false`
// in the spec); openapi-fetch repeats the key unless told.
const client = createClient<paths>({ baseUrl, querySerializer: { array: { style: "form", explode: false } } });

// One line per section, touching the fields only its kind has.
function render(section: Section): string {
  switch (section.kind) {
    case "overview":
      return `${section.heading}\n${section.body}`;
    case "steps":
      return [section.heading, ...section.items.map((step, i) => `${i + 1}. ${step.title}: ${step.body}`)].join("\n");
    case "benefits":
    case "aftercare_tips":
    case "risks":
      return [section.heading, ...section.items.map((item) => `- ${item.title}: ${item.body}`)].join("\n");
    case "expectations": {
      const headings = section.phase_headings;
      const lines = section.items.map((item) => {
        const over = headings?.[item.phase] ?? item.phase;
        return `[${over}] ${item.title}: ${item.body}`;
      });
      return [section.heading, ...lines].join("\n");
    }
    case "target_audiences":
      return [
        section.heading,
        ...section.items.map((audience) => `- ${audience.description}`),
        section.note ?? "",
      ].join("\n");
    case "conclusion":
      return [section.heading, section.body, section.call_to_action ?? ""].join("\n");
    default: {
      const unhandled: never = section;
      throw new Error(`unhandled section kind: ${JSON.stringify(unhandled)}`);
    }
  }
}

function expectOk<T>(what: string, result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined || result.response.status !== 200) {
    throw new Error(`${what}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

const parsed: Record<string, unknown> = {};
const base = `/v1/articles/${slug}`;

const article = expectOk(
  base,
  await client.GET("/v1/articles/{slug}", { params: { path: { slug } } }),
);
parsed[base] = article;
const rendered = article.sections.map(render);
process.stderr.write(`typescript: rendered ${article.title}: ${rendered.length} sections, ${rendered.join("\n").length} characters\n`);

parsed[`${base}/sections`] = expectOk(
  `${base}/sections`,
  await client.GET("/v1/articles/{slug}/sections", { params: { path: { slug } } }),
);

for (const section of article.sections) {
  const kind: Kind = section.kind;
  const path = `${base}/sections/${kind}`;
  const one = expectOk(path, await client.GET("/v1/articles/{slug}/sections/{kind}", { params: { path: { slug, kind } } }));
  render(one);
  parsed[path] = one;
  if ("items" in section) {
    for (const item of section.items) {
      const itemPath = `${path}/items/${item.id}`;
      parsed[itemPath] = expectOk(
        itemPath,
        await client.GET("/v1/articles/{slug}/sections/{kind}/items/{id}", {
          params: { path: { slug, kind, id: item.id } },
        }),
      );
    }
  }
}

// The same article and its steps in German (API.md §13): `locale`, and the
// pointer of every text that fell back to English in `fallbacks`.
const germanPath = `${base}?locale=de`;
const german = expectOk(
  germanPath,
  await client.GET("/v1/articles/{slug}", { params: { path: { slug }, query: { locale: "de" } } }),
);
const fellBack = Object.keys(german.fallbacks ?? {}).length;
process.stderr.write(`typescript: ${german.locale}: ${german.title} (${fellBack} texts from ${german.fallbacks?.["/summary"] ?? "-"})\n`);
parsed[germanPath] = german;
const germanSteps = `${base}/sections/steps?locale=de`;
parsed[germanSteps] = expectOk(
  germanSteps,
  await client.GET("/v1/articles/{slug}/sections/{kind}", {
    params: { path: { slug, kind: "steps" }, query: { locale: "de" } },
  }),
);

// Only some kinds: `?sections=steps,risks`, typed as SectionKind[].
const pickedPath = `${base}?sections=steps,risks`;
const picked = expectOk(
  pickedPath,
  await client.GET("/v1/articles/{slug}", { params: { path: { slug }, query: { sections: ["steps", "risks"] } } }),
);
process.stderr.write(`typescript: ?sections=steps,risks: ${picked.sections.map((s) => s.kind).join(", ")}\n`);
parsed[pickedPath] = picked;

// The asset the article's images show (.ci/clients uploads it), as an editor.
const assetId = process.env["CLIENTS_ASSET"];
const token = process.env["CLIENTS_TOKEN"];
if (assetId !== undefined && token !== undefined) {
  const assetPath = `/v1/assets/${assetId}`;
  const asset = expectOk(
    assetPath,
    await client.GET("/v1/assets/{id}", {
      params: { path: { id: assetId } },
      headers: { Authorization: `Bearer ${token}` },
    }),
  );
  process.stderr.write(`typescript: asset ${asset.filename}: ${asset.width}x${asset.height}\n`);
  parsed[assetPath] = asset;
}
const hero = article.hero_image;
process.stderr.write(`typescript: hero image ${hero ? `${hero.width}x${hero.height} "${hero.alt}"` : "none"}\n`);

process.stdout.write(JSON.stringify(parsed));

// Revisions of an article: who wrote what and when, a readable diff between a
// revision and the current article, and restoring one (If-Match of the article).

import { articlePath, get, post, session } from "./api.js";
import { confirmDialog, h, listTable, replace, say, when } from "./dom.js";
import { imageDiff } from "./media.js";
import { ORDER_SEPARATOR, differences, toWrite } from "./model.js";
import { diffText } from "./render.js";

/** What a revision's action did, in the past tense ("replace" → "replaced"). */
const DONE = { create: "created", replace: "replaced", delete: "deleted", restore: "restored" };
const done = (action) => DONE[action] || action;

const show = (value) => (value === undefined ? "(not there)" : value === null ? "" : String(value));

/** A table of what differs from `before` to `after`, under `caption` and the column `column`. */
function diffTable(before, after, caption = "What changed from this revision to the current article (removed text struck through, added underlined)", column = "From this revision to now", same = "This revision is identical to the current article.") {
  const rows = differences(before, after);
  if (rows.length === 0) return h("p", {}, same);
  return h("div", { class: "table-scroll" }, h("table", { class: "diff-table" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, column))),
    h("tbody", {}, rows.map((row) => h("tr", {},
      h("th", { scope: "row" }, row.label),
      h("td", {}, row.image ? imageDiff(row) : row.a === undefined ? h("ins", {}, show(row.b)) : row.b === undefined ? h("del", {}, show(row.a)) : diffText(show(row.a), show(row.b), /order/.test(row.key) ? ORDER_SEPARATOR : undefined)))))));
}

/** Release ids → titles, fetched once per page: writes by a release read as its title. */
let releaseTitles = null;
async function actorName(actor) {
  const id = /^release:(.+)$/.exec(actor)?.[1];
  if (!id) return actor;
  if (!releaseTitles) {
    releaseTitles = get("/v1/releases").then(({ data }) => new Map(data.items.map((r) => [r.id, r.title]))).catch(() => new Map());
  }
  const title = (await releaseTitles).get(id);
  return title ? `release “${title}”` : actor;
}

export async function openRevisions(main, slug) {
  releaseTitles = null;
  /** What `summary` itself changed: the revision before it against it. */
  const changedIn = async (summary, revisionWrite) => {
    const before = previousOf(summary);
    const heading = h("h3", {}, "What this revision changed");
    if (summary.action === "create") return [heading, h("p", {}, "It created the article.")];
    const beforeWrite = before ? await snapshotOf(before) : null;
    if (!beforeWrite) return [heading, h("p", {}, "The revision before it is not loaded: load older revisions to compare.")];
    return [heading, diffTable(beforeWrite, revisionWrite, `What version ${summary.article_version} changed (removed text struck through, added underlined)`, `From version ${before.article_version} to ${summary.article_version}`, "Nothing in the text changed.")];
  };
  replace(main, h("h1", {}, "Revisions"), h("p", { class: "loading" }, "Loading…"));
  let current = await get(articlePath(slug));
  const list = h("tbody", {});
  const detail = h("section", { class: "revision-detail", "aria-live": "polite", "aria-labelledby": "detail-title" });
  const more = h("button", { type: "button", hidden: true }, "Load older revisions");
  let cursor = null;
  // Every revision loaded, newest first, with its "What" cell; and each one's snapshot once fetched.
  const loaded = [];
  const snapshots = new Map();
  const snapshotOf = (r) => {
    if (!snapshots.has(r.id)) {
      snapshots.set(r.id, get(`${articlePath(slug)}/revisions/${encodeURIComponent(r.id)}`)
        .then(({ data }) => (data.snapshot ? toWrite(data.snapshot) : null))
        .catch(() => null));
    }
    return snapshots.get(r.id);
  };
  /** The revision before `r` (older), if loaded. */
  const previousOf = (r) => {
    const at = loaded.findIndex((entry) => entry.r.id === r.id);
    return at < 0 ? null : loaded[at + 1]?.r || null;
  };
  /** What a revision changed, said as the fields it changed against the one before ("Risks › Title; …"). */
  const summarize = async ({ r, cell }) => {
    if (r.action === "create") return;
    const before = previousOf(r);
    if (!before || cell.dataset.summarized) return;
    const [a, b] = await Promise.all([snapshotOf(before), snapshotOf(r)]);
    if (!a || !b) return;
    const labels = differences(a, b).map((row) => row.label);
    cell.dataset.summarized = "true";
    cell.append(h("br", {}), h("span", { class: "hint" }, labels.length === 0
      ? "no change to the text"
      : `${labels.slice(0, 3).join("; ")}${labels.length > 3 ? ` (and ${labels.length - 3} more)` : ""}`));
  };
  /** A cell naming who wrote: a release by its title once known. */
  const actorCell = (actor) => {
    const cell = h("td", {}, actor);
    actorName(actor).then((name) => { cell.textContent = name; });
    return cell;
  };
  /** Appends the next page; resolves to its first row. */
  const load = async () => {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    const { data } = await get(`${articlePath(slug)}/revisions${query}`);
    const first = list.rows.length;
    for (const r of data.items) {
      const what = r.target === "article" ? "the whole article" : r.target === "section" ? `section ${r.section_kind}` : `an item of ${r.section_kind}`;
      const cell = h("td", {}, `${done(r.action)} ${what}`);
      loaded.push({ r, cell });
      list.append(h("tr", {},
        h("td", {}, when(r.created_at)),
        actorCell(r.actor),
        cell,
        h("td", { class: "num" }, r.article_version),
        h("td", {}, h("button", { type: "button", onclick: () => showRevision(r) }, `Compare version ${r.article_version}`))));
    }
    cursor = data.next_cursor;
    more.hidden = !cursor;
    // Summaries fill in as the snapshots arrive, a few at a time (the page is usable meanwhile).
    const pending = loaded.filter((entry) => !entry.cell.dataset.summarized);
    (async () => {
      for (let i = 0; i < pending.length; i += 4) await Promise.all(pending.slice(i, i + 4).map(summarize));
      list.dataset.summarized = "true";
    })();
    return list.rows[first];
  };
  const showRevision = async (summary) => {
    let data;
    try {
      ({ data } = await get(`${articlePath(slug)}/revisions/${encodeURIComponent(summary.id)}`));
    } catch (error) {
      say(`Could not load version ${summary.article_version}: ${error.message}`, "error");
      return;
    }
    if (!data.snapshot) {
      replace(detail, h("h2", { id: "detail-title" }, `Version ${summary.article_version}`), h("p", {}, "This revision has no snapshot to compare."));
      return;
    }
    const revisionWrite = toWrite(data.snapshot);
    const currentWrite = toWrite(current.data);
    replace(detail,
      h("h2", { id: "detail-title", tabindex: "-1" }, `Version ${summary.article_version}: ${done(summary.action)} by ${await actorName(summary.actor)}, ${when(summary.created_at)}`),
      await changedIn(summary, revisionWrite),
      h("h3", {}, "From this revision to now"),
      diffTable(revisionWrite, currentWrite),
      session.canEdit
        ? h("button", {
          type: "button",
          class: "primary",
          onclick: async () => {
            if (!(await confirmDialog(`Restore version ${summary.article_version}?`, "The article becomes what it was then, as a new revision; nothing is deleted from the history.", "Restore"))) return;
            try {
              const restored = await post(`${articlePath(slug)}/revisions/${encodeURIComponent(summary.id)}/restore`, undefined, { ifMatch: current.etag });
              current = { data: restored.data, etag: restored.etag };
              say(`Restored version ${summary.article_version} as version ${restored.data.version}.`);
              list.replaceChildren();
              loaded.length = 0;
              cursor = null;
              await load();
              replace(detail, h("h2", { id: "detail-title", tabindex: "-1" }, `Restored as version ${restored.data.version}`),
                h("p", {}, h("a", { href: `#/a/${encodeURIComponent(slug)}` }, "Open the article")));
              detail.querySelector("h2").focus();
            } catch (error) {
              say(error.status === 412 ? "Not restored: the article changed meanwhile. Reload and try again." : `Not restored: ${error.message}`, "error");
            }
          },
        }, `Restore version ${summary.article_version}`)
        : null);
    detail.querySelector("h2").focus();
  };
  // Focus moves on to the first revision loaded (the button hides once none is left).
  more.addEventListener("click", () => load()
    .then((row) => row?.querySelector("button")?.focus())
    .catch((error) => say(`Could not load older revisions: ${error.message}`, "error")));
  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Articles"), " › ", h("a", { href: `#/a/${encodeURIComponent(slug)}` }, current.data.title), " › Revisions"),
    h("h1", {}, `Revisions of “${current.data.title}”`),
    listTable("list", "Every write, newest first", ["When", "Who", "What", "Version", "Diff"], list),
    more,
    detail);
  await load();
}

// Revisions of an article: who wrote what and when, a readable diff between a
// revision and the current article, and restoring one (If-Match of the article).

import { articlePath, get, post, session } from "./api.js";
import { confirmDialog, h, replace, say, when } from "./dom.js";
import { ORDER_SEPARATOR, differences, toWrite } from "./model.js";
import { diffText } from "./render.js";

/** What a revision's action did, in the past tense ("replace" → "replaced"). */
const DONE = { create: "created", replace: "replaced", delete: "deleted", restore: "restored" };
const done = (action) => DONE[action] || action;

const show = (value) => (value === undefined ? "(not there)" : value === null ? "" : String(value));

/** A table of what differs between a revision's snapshot and the current article. */
function diffTable(revisionWrite, currentWrite) {
  const rows = differences(revisionWrite, currentWrite);
  if (rows.length === 0) return h("p", {}, "This revision is identical to the current article.");
  return h("div", { class: "table-scroll" }, h("table", { class: "diff-table" },
    h("caption", {}, "What changed from this revision to the current article (removed text struck through, added underlined)"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "From this revision to now"))),
    h("tbody", {}, rows.map((row) => h("tr", {},
      h("th", { scope: "row" }, row.label),
      h("td", {}, row.a === undefined ? h("ins", {}, show(row.b)) : row.b === undefined ? h("del", {}, show(row.a)) : diffText(show(row.a), show(row.b), /order/.test(row.key) ? ORDER_SEPARATOR : undefined)))))));
}

export async function openRevisions(main, slug) {
  replace(main, h("h1", {}, "Revisions"), h("p", { class: "loading" }, "Loading…"));
  let current = await get(articlePath(slug));
  const list = h("tbody", {});
  const detail = h("section", { class: "revision-detail", "aria-live": "polite", "aria-labelledby": "detail-title" });
  const more = h("button", { type: "button", hidden: true }, "Load older revisions");
  let cursor = null;
  /** Appends the next page; resolves to its first row. */
  const load = async () => {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    const { data } = await get(`${articlePath(slug)}/revisions${query}`);
    const first = list.rows.length;
    for (const r of data.items) {
      const what = r.target === "article" ? "the whole article" : r.target === "section" ? `section ${r.section_kind}` : `an item of ${r.section_kind}`;
      list.append(h("tr", {},
        h("td", {}, when(r.created_at)),
        h("td", {}, r.actor),
        h("td", {}, `${done(r.action)} ${what}`),
        h("td", { class: "num" }, r.article_version),
        h("td", {}, h("button", { type: "button", onclick: () => showRevision(r) }, `Compare version ${r.article_version}`))));
    }
    cursor = data.next_cursor;
    more.hidden = !cursor;
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
      h("h2", { id: "detail-title", tabindex: "-1" }, `Version ${summary.article_version}: ${done(summary.action)} by ${summary.actor}, ${when(summary.created_at)}`),
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
    h("div", { class: "table-scroll" }, h("table", { class: "list" },
      h("caption", {}, "Every write, newest first"),
      h("thead", {}, h("tr", {}, ["When", "Who", "What", "Version", "Diff"].map((t) => h("th", { scope: "col" }, t)))),
      list)),
    more,
    detail);
  await load();
}

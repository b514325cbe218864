// The Trash (API.md §3): deleted articles an editor can still restore, most
// recently deleted first. Restoring re-creates the article from its last
// revision (the delete's snapshot); lamina purges them after
// LAMINA_TRASH_KEEP_DAYS (30 unless configured otherwise).

import { articlePath, get, post } from "./api.js";
import { h, listTable, replace, say, when } from "./dom.js";

export async function openTrash(main) {
  replace(main, h("h1", {}, "Trash"), h("p", { class: "loading" }, "Loading…"));
  const rows = h("tbody", {});
  const more = h("button", { type: "button", hidden: true }, "Load more");
  let cursor = null;
  /** Appends the next page of deleted articles; resolves to its first row. */
  const load = async () => {
    const query = `?deleted=true&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const { data } = await get(`/v1/articles${query}`);
    const first = rows.rows.length;
    for (const a of data.items) {
      const restore = h("button", {
        type: "button",
        "aria-label": `Restore “${a.title}”`,
        onclick: async () => {
          restore.disabled = true;
          try {
            const { data: article } = await post(articlePath(a.slug, `/revisions/${encodeURIComponent(a.deleted.revision_id)}/restore`));
            row.replaceWith(h("tr", {}, h("td", { colspan: 4 },
              `Restored “${article.title}” as version ${article.version}: `,
              h("a", { href: `#/a/${encodeURIComponent(article.slug)}` }, "open it"), ".")));
            say(`Restored “${article.title}” as version ${article.version}.`);
          } catch (error) {
            restore.disabled = false;
            say(error.status === 409 || error.status === 412
              ? `Not restored: an article with the address ${a.slug} exists again.`
              : `Not restored: ${error.message}`, "error");
          }
        },
      }, "Restore");
      const row = h("tr", {},
        h("td", {}, a.title, h("br", {}), h("span", { class: "slug" }, a.slug)),
        h("td", {}, when(a.deleted.at)),
        h("td", {}, a.deleted.by),
        h("td", {}, restore));
      rows.append(row);
    }
    cursor = data.next_cursor;
    more.hidden = !cursor;
    return rows.rows[first];
  };
  more.addEventListener("click", () => load()
    .then((row) => row?.querySelector("button")?.focus())
    .catch((error) => say(`Could not load more: ${error.message}`, "error")));
  replace(main,
    h("h1", {}, "Trash"),
    h("p", {}, "Deleted articles stay here, with their revisions, for 30 days (unless lamina is configured otherwise); restoring one brings it back as it was when it was deleted."),
    listTable("list", "Deleted articles, most recently deleted first", ["Article", "Deleted", "By", "Restore"], rows),
    more);
  await load();
  if (rows.rows.length === 0) rows.append(h("tr", {}, h("td", { colspan: 4 }, "The trash is empty.")));
}

// The studio's entry: sign-in, the header, and the routes (in the address's
// fragment, which never holds the token):
//   #/                       articles
//   #/new                    new article
//   #/a/{slug}[?release=id]  editor (with a release preview)
//   #/a/{slug}?locale=de     editor of the German translation
//   #/a/{slug}/revisions     revisions, diff, restore
//   #/releases[/{id}]        releases
//   #/media[/{id}]           uploaded images: upload, alt text, focal point, delete
//   #/trash                  deleted articles, to restore
//   #/webhooks[/{id}]        webhook endpoints and deliveries (admin)

import { ApiError, get, roleOf, session } from "./api.js";
import { clearOldNews, field, formError, h, listTable, replace, say, showError, submitForm, when } from "./dom.js";

// The editor and every other screen load when first opened: the sign-in
// screen and the list need only this module, api.js and dom.js.
let editorModule = null;
const leaveEditor = async () => (editorModule ? editorModule.leaveEditor() : true);

const main = document.getElementById("main");

function showChrome() {
  const signedIn = Boolean(session.token);
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("who").hidden = !signedIn;
  document.getElementById("role").textContent = signedIn ? `${session.role} token` : "";
  for (const element of document.querySelectorAll("[data-needs=editor]")) element.hidden = !session.canEdit;
  for (const element of document.querySelectorAll("[data-needs=admin]")) element.hidden = session.role !== "admin";
}

function signIn() {
  // Text, masked by the stylesheet: a password field would make browsers offer to store the token.
  const token = h("input", { type: "text", class: "secret", autocomplete: "off", autocapitalize: "off", spellcheck: "false", required: true });
  const error = formError();
  const form = submitForm({ class: "sign-in", "aria-labelledby": "sign-in-title" }, error, async () => {
    const secret = token.value.trim();
    if (!secret) {
      showError(error, "Paste a token first.", token);
      return;
    }
    try {
      const role = await roleOf(secret);
      session.start(secret, role);
      token.value = "";
      showChrome();
      say(`Signed in with ${/^[aeiou]/.test(role) ? "an" : "a"} ${role} token.`);
      await route();
      settleFocus();
    } catch (failure) {
      const message = failure.status === 401
        ? "That token is not valid (unknown, expired or revoked)."
        : `Could not sign in: ${failure.message}`;
      showError(error, message, token);
    }
  },
  h("h1", { id: "sign-in-title" }, "Sign in"),
  h("p", {}, "Paste a token made with ", h("code", {}, "lamina token create"), ". It is kept in this tab only and forgotten when you sign out or close the tab."),
  field("API token", token),
  error,
  h("button", { type: "submit", class: "primary" }, "Sign in"));
  replace(main, form);
  token.focus();
}

/** The article list's search, filters and sort, kept while the tab lives. */
const listView = { text: "", status: "", author: "", sort: "published" };

const SORTS = {
  published: { label: "Publication date, newest first", compare: null },
  updated: { label: "Last updated, newest first", compare: (a, b) => (b.updated_at || "").localeCompare(a.updated_at || "") },
  title: { label: "Title, A to Z", compare: (a, b) => a.title.localeCompare(b.title) },
};

async function articles() {
  replace(main, h("h1", {}, "Articles"), h("p", { class: "loading" }, "Loading…"));
  const table = h("tbody", {});
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const shown = h("p", { class: "hint", role: "status" });
  const all = [];
  const pending = new Map();
  let cursor = null;
  /** Fetches the next page into `all`. */
  const fetchPage = async () => {
    const query = cursor ? `?limit=100&cursor=${encodeURIComponent(cursor)}` : "?limit=50";
    const { data } = await get(`/v1/articles${query}`);
    all.push(...data.items);
    cursor = data.next_cursor;
  };
  const filtering = () => Boolean(listView.text.trim() || listView.status || listView.author || listView.sort !== "published");
  /** Draws the rows that match the search and filters, in the chosen order. */
  const draw = () => {
    const words = listView.text.trim().toLowerCase().split(/\s+/).filter(Boolean);
    let rows = all.filter((a) => (!listView.status || a.status === listView.status)
      && (!listView.author || a.author === listView.author)
      && words.every((word) => a.title.toLowerCase().includes(word) || a.slug.includes(word)));
    if (SORTS[listView.sort]?.compare) rows = [...rows].sort(SORTS[listView.sort].compare);
    table.replaceChildren(...rows.map((a) => h("tr", {},
      h("td", {}, h("a", { href: `#/a/${encodeURIComponent(a.slug)}` }, a.title), h("br", {}), h("span", { class: "slug" }, a.slug),
        pending.has(a.slug) ? [" ", h("span", { class: "badge scheduled" }, `pending in ${pending.get(a.slug).map((t) => `“${t}”`).join(", ")}`)] : null),
      h("td", {}, h("span", { class: `badge ${a.status}` }, a.status)),
      h("td", {}, a.author),
      h("td", {}, a.published_on),
      h("td", {}, when(a.updated_at)),
      h("td", { class: "num" }, a.reading_time_minutes))));
    more.hidden = !cursor || filtering();
    shown.textContent = filtering()
      ? `${rows.length} of ${all.length} articles match.`
      : `${all.length} articles${cursor ? " so far" : ""}.`;
    return rows.length;
  };
  /** Searching or filtering looks at every article: the remaining pages are fetched first (at most 2,000 articles). */
  const refilter = async () => {
    if (filtering()) {
      while (cursor && all.length < 2000) await fetchPage();
      fillAuthors();
    }
    draw();
  };
  const search = h("input", { type: "search", id: "list-search", value: listView.text, autocomplete: "off", spellcheck: "false" });
  const status = h("select", { id: "list-status" },
    [["", "Any status"], ["draft", "Drafts"], ["published", "Published"]].map(([value, label]) => h("option", { value, selected: value === listView.status }, label)));
  const author = h("select", { id: "list-author" });
  const sort = h("select", { id: "list-sort" },
    Object.entries(SORTS).map(([value, { label }]) => h("option", { value, selected: value === listView.sort }, label)));
  const fillAuthors = () => {
    const authors = [...new Set(all.map((a) => a.author))].sort((a, b) => a.localeCompare(b));
    replace(author, h("option", { value: "" }, "Any author"),
      authors.map((name) => h("option", { value: name, selected: name === listView.author }, name)));
  };
  let typing = 0;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      listView.text = search.value;
      refilter().catch(failed);
    }, 150);
  });
  for (const [control, key] of [[status, "status"], [author, "author"], [sort, "sort"]]) {
    control.addEventListener("change", () => {
      listView[key] = control.value;
      refilter().catch(failed);
    });
  }
  // Focus moves on to the first article loaded (the button hides once none is left).
  more.addEventListener("click", () => {
    const first = table.rows.length;
    fetchPage().then(() => {
      fillAuthors();
      draw();
      table.rows[first]?.querySelector("a")?.focus();
    }).catch(failed);
  });
  replace(main,
    h("div", { class: "page-head" },
      h("h1", {}, "Articles"),
      session.canEdit ? h("a", { class: "button primary", href: "#/new" }, "New article") : null),
    h("form", { class: "list-tools", role: "search", "aria-label": "Find articles", onsubmit: (event) => event.preventDefault() },
      field("Search title or slug", search),
      field("Status", status),
      field("Author", author),
      field("Sort by", sort)),
    shown,
    listTable("list", "Every article, drafts included",
      ["Title", "Status", "Author", "Published on", "Updated", { text: "Minutes", class: "num" }],
      table),
    more);
  // Articles staged in an open or scheduled release are marked "pending in …" (editors list releases).
  if (session.canEdit) {
    try {
      for (const r of (await get("/v1/releases")).data.items) {
        if (r.state !== "open" && r.state !== "scheduled") continue;
        for (const item of r.items) {
          const titles = pending.get(item.slug) || [];
          if (!titles.includes(r.title)) titles.push(r.title);
          pending.set(item.slug, titles);
        }
      }
    } catch {
      // The mark is a help; the list works without it.
    }
  }
  await fetchPage();
  fillAuthors();
  await refilter();
}

/**
 * Imports a module on demand. A page loaded before lamina was upgraded asks
 * for assets of the old version, which are gone: reload once to get the new ones.
 */
async function load(module) {
  try {
    const loaded = await import(module);
    sessionStorage.removeItem("lamina.studio.reloaded");
    return loaded;
  } catch (error) {
    if (!sessionStorage.getItem("lamina.studio.reloaded")) {
      sessionStorage.setItem("lamina.studio.reloaded", "1");
      say("lamina was updated: reloading the studio…");
      location.reload();
      await new Promise(() => {});
    }
    throw error;
  }
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) {
    session.end();
    showChrome();
    say("Your token is no longer valid; sign in again.", "error");
    signIn();
    return;
  }
  say(error.message || String(error), "error");
  replace(main, h("h1", {}, "Something went wrong"), h("p", {}, error.message || String(error)), h("a", { href: "#/" }, "Back to the articles"));
}

/** After a screen is drawn: focus stays where the screen put it (a field, a dialog), else goes to the main region. */
function settleFocus() {
  const active = document.activeElement;
  if (active && active !== document.body && active !== main && (main.contains(active) || active.closest("dialog"))) return;
  main.focus({ preventScroll: true });
}

async function route() {
  showChrome();
  clearOldNews();
  if (!session.token) {
    signIn();
    document.body.dataset.ready = "true";
    return;
  }
  try {
    const hash = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
    const [path, query] = hash.split("?");
    const params = new URLSearchParams(query || "");
    const parts = path.split("/").filter(Boolean);
    if (parts.length === 0) await articles();
    else if (parts[0] === "new") (await load("./new-article.js")).newArticle(main);
    else if (parts[0] === "a" && parts.length === 2) {
      editorModule = await load("./editor.js");
      await editorModule.openEditor(main, parts[1], params.get("release"), params.get("locale"));
    }
    else if (parts[0] === "a" && parts[2] === "revisions") {
      const { openRevisions } = await load("./revisions.js");
      await openRevisions(main, parts[1]);
    } else if (parts[0] === "media") {
      const { openMedia } = await load("./media.js");
      await openMedia(main, parts[1]);
    } else if (parts[0] === "trash") {
      const { openTrash } = await load("./trash.js");
      await openTrash(main);
    } else if (parts[0] === "releases") {
      const { openReleases } = await load("./releases.js");
      await openReleases(main, parts[1]);
    } else if (parts[0] === "webhooks") {
      const { openWebhooks } = await load("./webhooks.js");
      await openWebhooks(main, parts[1]);
    } else replace(main, h("h1", {}, "Not found"), h("a", { href: "#/" }, "Back to the articles"));
  } catch (error) {
    failed(error);
  }
  document.body.dataset.ready = "true";
}

document.getElementById("sign-out").addEventListener("click", async () => {
  if (!(await leaveEditor())) return;
  // Signing out (not a token that expired) also forgets the edits kept in this browser.
  (await load("./drafts.js")).forgetAllDrafts();
  session.end();
  showChrome();
  location.hash = "#/";
  signIn();
  say("Signed out: the token is forgotten.");
});

// The skip link moves focus, not the route.
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

// Leaving an editor with unsaved changes asks first; staying puts the address back.
// Fragments that are not routes (#/…) are not navigation.
let shown = location.href;
window.addEventListener("hashchange", async () => {
  if (location.hash !== "" && !location.hash.startsWith("#/")) {
    history.replaceState(null, "", shown);
    return;
  }
  if (!(await leaveEditor())) {
    history.replaceState(null, "", shown);
    return;
  }
  shown = location.href;
  await route();
  settleFocus();
});
route().then(() => performance.mark("studio-interactive"));

// Releases: changes staged together, previewed, scheduled or published at
// once. Stage from the editor; here: create, schedule, publish, unstage,
// see conflicts.

import { articlePath, del, get, post, put } from "./api.js";
import { confirmDialog, field, h, listTable, replace, say, uid, when } from "./dom.js";
import { KINDS, differences, toWrite } from "./model.js";
import { diffText } from "./render.js";

/** What publishing `releaseId` would change in `slug`: the live article against the release's preview of it. */
async function againstLive(slug, releaseId, target) {
  replace(target, h("p", { class: "loading" }, "Comparing…"));
  try {
    const [live, staged] = await Promise.all([
      get(articlePath(slug)).then(({ data }) => toWrite(data)).catch((error) => (error.status === 404 ? { sections: [] } : Promise.reject(error))),
      get(`${articlePath(slug)}?release=${encodeURIComponent(releaseId)}`).then(({ data }) => toWrite(data)),
    ]);
    const rows = differences(live, staged);
    const show = (value) => (value === undefined || value === null ? "" : String(value));
    replace(target, rows.length === 0
      ? h("p", {}, "Publishing changes nothing in it: live already reads the same.")
      : h("div", { class: "table-scroll" }, h("table", { class: "diff-table" },
        h("caption", {}, `What publishing changes in ${slug} (removed text struck through, added underlined)`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "From live to the release"))),
        h("tbody", {}, rows.map((row) => h("tr", {},
          h("th", { scope: "row" }, row.label),
          h("td", {}, diffText(show(row.a), show(row.b)))))))));
  } catch (error) {
    replace(target, h("p", { class: "field-error" }, `Could not compare: ${error.message}`));
  }
}

const releasePath = (id, rest = "") => `/v1/releases/${encodeURIComponent(id)}${rest}`;

function conflictList(conflicts) {
  if (!conflicts?.length) return null;
  return h("section", { class: "conflicts", "aria-labelledby": "conflicts-title" },
    h("h2", { id: "conflicts-title" }, "Conflicts: changed live since staged"),
    h("ul", {}, conflicts.map((c) => h("li", {},
      h("a", { href: `#/a/${encodeURIComponent(c.slug)}` }, c.slug),
      c.kind ? ` › ${KINDS[c.kind]?.label || c.kind}` : " (whole article)",
      `: staged on version ${c.staged_base_version ?? "none"}, live is now version ${c.current_version ?? "deleted"}. Stage it again from the editor to publish.`))));
}

/** A datetime-local value for an RFC 3339 time, in the browser's zone. */
function localInput(value) {
  if (!value) return "";
  const date = new Date(value);
  const offset = date.getTimezoneOffset() * 60000;
  return new Date(date.getTime() - offset).toISOString().slice(0, 16);
}

async function list(main) {
  const { data } = await get("/v1/releases");
  const title = h("input", { type: "text", required: true, maxlength: 200, autocomplete: "off" });
  const create = h("form", {
    class: "inline-form",
    "aria-label": "New release",
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const created = await post("/v1/releases", { title: title.value, publish_at: null });
        say(`Created the release “${created.data.title}”.`);
        location.hash = `#/releases/${created.data.id}`;
      } catch (error) {
        say(`Not created: ${error.errors?.[0]?.message || error.message}`, "error");
        title.setAttribute("aria-invalid", "true");
        title.focus();
      }
    },
  }, field("Title of a new release", title), h("button", { type: "submit", class: "primary" }, "Create release"));
  replace(main,
    h("h1", {}, "Releases"),
    h("p", {}, "A release gathers edits that go live together, by hand or at a set time. Stage edits from an article’s editor."),
    create,
    data.items.length === 0
      ? h("p", {}, "No releases yet.")
      : listTable("list", "Every release, newest first", ["Title", "State", "Publishes at", "Staged"],
        h("tbody", {}, data.items.map((r) => h("tr", {},
          h("td", {}, h("a", { href: `#/releases/${r.id}` }, r.title)),
          h("td", {}, h("span", { class: `badge ${r.state}` }, r.state)),
          h("td", {}, r.published_at ? `published ${when(r.published_at)}` : when(r.publish_at)),
          h("td", { class: "num" }, r.items.length))))));
}

async function detail(main, id) {
  let { data: release, etag } = await get(releasePath(id));
  /** The release as stored now; on failure the page keeps what it shows. */
  const reload = async () => {
    try {
      ({ data: release, etag } = await get(releasePath(id)));
    } catch (error) {
      say(`Could not reload the release: ${error.message}`, "error");
    }
  };
  // While the release waits for its time, its state follows the server without a reload.
  const screen = h("span", { hidden: true });
  const watch = async () => {
    if (!screen.isConnected) return;
    if (release.state === "scheduled") {
      const was = release.state;
      try {
        const fresh = await get(releasePath(id));
        if (!screen.isConnected) return;
        if (fresh.data.state !== was) {
          ({ data: release, etag } = fresh);
          render();
          say(release.state === "published" ? `“${release.title}” was published ${when(release.published_at)}.` : `“${release.title}” is now ${release.state}.`);
        }
      } catch {
        // The next look may work.
      }
    }
    setTimeout(watch, 2000);
  };
  setTimeout(watch, 2000);
  const render = () => {
    const editable = release.state === "open" || release.state === "scheduled";
    const title = h("input", { type: "text", value: release.title, maxlength: 200, readonly: !editable });
    const at = h("input", { type: "datetime-local", value: localInput(release.publish_at), readonly: !editable });
    const atField = field("Publish at (your time zone)", at);
    /** A problem with the time, at its field. */
    const atProblem = (message) => {
      const error = document.getElementById(`${at.id}-error`);
      error.textContent = message;
      error.hidden = false;
      at.setAttribute("aria-invalid", "true");
      at.setAttribute("aria-describedby", error.id);
      at.focus();
      say(`Not scheduled: ${message}`, "error");
    };
    const change = async (publishAt) => {
      if (publishAt && new Date(publishAt).getTime() <= Date.now()) {
        atProblem("That time has passed: choose one in the future.");
        return;
      }
      try {
        const saved = await put(releasePath(id), { title: title.value, publish_at: publishAt }, { ifMatch: etag });
        release = saved.data;
        etag = saved.etag;
        say(release.publish_at ? `Scheduled for ${when(release.publish_at)}.` : "Saved; publishes by hand.");
        render();
      } catch (error) {
        const atError = error.status === 422 && error.errors.find((e) => e.pointer === "/publish_at");
        if (atError) {
          atProblem(atError.message);
          return;
        }
        say(error.status === 412 ? "Someone changed the release meanwhile; it was reloaded." : `Not saved: ${error.errors?.[0]?.message || error.message}`, "error");
        if (error.status === 412) await reload();
        render();
      }
    };
    const publish = async (event) => {
      if (!(await confirmDialog(`Publish “${release.title}” now?`, `Its ${release.items.length} staged change(s) go live together.`, "Publish now"))) return;
      event.target.disabled = true;
      try {
        const published = await post(releasePath(id, "/publish"), undefined, { ifMatch: etag });
        release = published.data;
        etag = published.etag;
        say(`Published “${release.title}”.`);
      } catch (error) {
        if (error.status === 409 && error.problem.conflicts) {
          release = { ...release, conflicts: error.problem.conflicts };
          say("Not published: some staged changes conflict with live edits. Nothing was applied.", "error");
        } else {
          say(`Not published: ${error.message}`, "error");
          await reload();
        }
      }
      render();
    };
    const empty = release.items.length === 0;
    replace(main,
      screen,
      h("p", { class: "crumbs" }, h("a", { href: "#/releases" }, "Releases"), " › ", release.title),
      h("h1", {}, release.title, " ", h("span", { class: `badge ${release.state}` }, release.state)),
      h("p", {}, release.state === "published" ? `Published ${when(release.published_at)}.` : release.publish_at ? `Publishes by itself at ${when(release.publish_at)}.` : "Publishes when someone presses Publish."),
      conflictList(release.conflicts),
      editable
        ? h("form", { class: "release-form", "aria-label": "Release settings", onsubmit: (event) => { event.preventDefault(); change(release.publish_at); } },
          field("Title", title),
          atField,
          h("div", { class: "toolbar" },
            h("button", { type: "submit" }, "Save title"),
            h("button", {
              type: "button",
              onclick: () => {
                if (!at.value) {
                  say("Choose a time first.", "error");
                  at.focus();
                  return;
                }
                change(new Date(at.value).toISOString());
              },
            }, "Schedule"),
            release.publish_at ? h("button", { type: "button", onclick: () => change(null) }, "Unschedule") : null,
            // Disabled, it says why (next to it, and to screen readers).
            h("button", { type: "button", class: "primary", onclick: publish, disabled: empty, "aria-describedby": empty ? "publish-why" : null }, "Publish now"),
            empty ? h("span", { id: "publish-why", class: "hint" }, "Nothing is staged yet, so there is nothing to publish.") : null,
            h("button", {
              type: "button",
              class: "danger quiet",
              onclick: async () => {
                if (!(await confirmDialog(`Delete “${release.title}”?`, "Its staged changes are dropped; live articles are not touched.", "Delete release"))) return;
                try {
                  await del(releasePath(id), { ifMatch: etag });
                  say("Release deleted.");
                  location.hash = "#/releases";
                } catch (error) {
                  say(`Not deleted: ${error.message}`, "error");
                }
              },
            }, "Delete release")))
        : null,
      h("h2", {}, "Staged changes"),
      release.items.length === 0
        ? h("p", {}, "Nothing staged yet: open an article and use “Stage in a release…”.")
        : h("ul", { class: "staged" }, release.items.map((item) => {
          const what = item.kind ? `section ${KINDS[item.kind]?.label || item.kind} of ` : "";
          const path = item.kind ? `/articles/${encodeURIComponent(item.slug)}/sections/${item.kind}` : `/articles/${encodeURIComponent(item.slug)}`;
          const compared = h("div", { id: uid("against-live"), class: "against-live" });
          return h("li", {},
            `${what}${item.slug}`,
            ` — staged ${when(item.staged_at)} on ${item.base_version === null || item.base_version === undefined ? "a new article" : `version ${item.base_version}`}. `,
            editable ? h("a", { href: `#/a/${encodeURIComponent(item.slug)}?release=${release.id}` }, `Preview ${item.slug}`) : null,
            editable
              ? h("button", {
                type: "button",
                class: "quiet",
                "aria-label": `Compare with live: ${what}${item.slug}`,
                "aria-controls": compared.id,
                onclick: () => againstLive(item.slug, release.id, compared),
              }, "Compare with live")
              : null,
            editable
              ? h("button", {
                type: "button",
                class: "quiet",
                "aria-label": `Unstage ${what}${item.slug}`,
                onclick: async () => {
                  try {
                    const after = await del(releasePath(id, path));
                    release = after.data;
                    etag = after.etag;
                    say("Unstaged.");
                    render();
                  } catch (error) {
                    say(`Not unstaged: ${error.message}`, "error");
                  }
                },
              }, "Unstage")
              : null,
            compared);
        })));
  };
  render();
}

export async function openReleases(main, id) {
  replace(main, h("h1", {}, "Releases"), h("p", { class: "loading" }, "Loading…"));
  if (id) await detail(main, id);
  else await list(main);
}

// The conflict view (a 412, or a staged copy older than the live article):
// the server's version beside the unsaved edit, field by field, with who
// changed what and what applying mine on top of theirs gives.

import { articlePath, get } from "./api.js";
import { h, say, uid } from "./dom.js";
import { clone, differences, mergeOnTop, setByKey, withoutItemIds } from "./model.js";
import { imageDiff, imageValue } from "./media.js";
import { diffText } from "./render.js";
import { applyRead, ed, localePath, readWrite, redrawAll } from "./editing.js";

/**
 * Theirs beside mine and what applying mine on top gives; apply (then
 * `then`, the save or stage that met the conflict), or discard mine (kept,
 * to bring back).
 */
export async function conflict(then) {
  const owner = ed;
  let theirs;
  try {
    theirs = await get(localePath());
  } catch (error) {
    if (ed !== owner) return;
    if (error.status === 404) {
      // Saving creates it again: as new items, since the old ids went with it.
      ed.draft = withoutItemIds(ed.draft);
      ed.base = withoutItemIds(ed.base);
      ed.etag = null;
      ed.article = null;
      redrawAll();
      say("Someone deleted this article while you edited it. Your edit is still here: save (or stage) to create it again.", "error");
      return;
    }
    say(`Could not load the current version: ${error.message}`, "error");
    return;
  }
  let who = "";
  try {
    const { data } = await get(`${articlePath(ed.slug)}/revisions?limit=1`);
    const last = data.items[0];
    if (last) who = ` by ${last.actor}`;
  } catch {
    // The name is a courtesy; the view works without it.
  }
  if (ed !== owner) return;
  const theirsWrite = readWrite(theirs.data);
  const mine = clone(ed.draft);
  const base = ed.base;
  const rows = differences(theirsWrite, mine);
  const mineChanged = new Set(differences(base, mine).map((r) => r.key));
  const theirsChanged = new Set(differences(base, theirsWrite).map((r) => r.key));
  const merged = mergeOnTop(base, mine, theirsWrite);
  const result = new Map(differences(theirsWrite, merged).map((r) => [r.key, r.b]));
  const titleId = uid("conflict");
  const dialog = h("dialog", { class: "conflict", "aria-labelledby": titleId });
  const show = (value) => (value === undefined ? h("em", {}, "(not there)") : value === null || value === "" ? h("em", {}, "(empty)") : String(value));
  const close = () => {
    dialog.close();
    dialog.remove();
    if (ed === owner) document.getElementById("save")?.focus();
  };
  // Each value's cell names its column too: the stylesheet shows that name where the columns stack (a phone).
  const columns = [
    ["theirs", `On the server now (version ${theirs.data.version})`],
    ["mine", "Your unsaved edit"],
    ["merged", "After “apply mine on top”"],
  ];
  // Where both changed one text: mine as a word diff against theirs (their words mine would drop are struck
  // through), and a choice of theirs, mine, or a merged text edited in place. Mine by default.
  const choices = new Map();
  const choice = (row) => {
    const name = uid("take");
    const box = h("textarea", { rows: 3, class: "merged-text", "aria-label": `Merged text of ${row.label}`, hidden: true }, row.b ?? "");
    const pick = { take: "mine", box };
    choices.set(row.key, { row, pick });
    const option = (value, label) => h("label", { class: "take" },
      h("input", {
        type: "radio",
        name,
        value,
        checked: value === "mine",
        onchange: () => {
          pick.take = value;
          box.hidden = value !== "edit";
          if (value === "edit") box.focus();
        },
      }), ` ${label}`);
    return h("fieldset", { class: "take-group" }, h("legend", { class: "sr-only" }, `Keep for ${row.label}`),
      option("theirs", "Theirs"), option("mine", "Mine"), option("edit", "Edit a merged text"), box);
  };
  const textual = (row) => typeof row.a === "string" && typeof row.b === "string";
  const table = h("table", {},
    h("caption", {}, "Fields that differ between the server and your edit"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Field"),
      columns.map(([, name]) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows.map((row) => {
      const both = mineChanged.has(row.key) && theirsChanged.has(row.key);
      const note = both ? "both changed" : mineChanged.has(row.key) ? "you changed" : "they changed";
      // What applying gives: theirs unless the merge differs from theirs there.
      const values = { theirs: row.a, mine: row.b, merged: result.has(row.key) ? result.get(row.key) : row.a };
      return h("tr", { class: both ? "both" : mineChanged.has(row.key) ? "mine" : "theirs" },
        h("th", { scope: "row" }, row.label, h("span", { class: "why" }, ` (${note})`)),
        columns.map(([kind, name]) => {
          let cell = row.image && values[kind] !== undefined ? imageValue(values[kind]) : show(values[kind]);
          if (row.image && kind === "mine") cell = imageDiff(row);
          if (both && textual(row) && kind === "mine") cell = diffText(row.a, row.b);
          if (both && textual(row) && kind === "merged") cell = choice(row);
          return h("td", { class: kind, dataset: { label: name } }, cell);
        }));
    })));
  const apply = h("button", {
    type: "button",
    class: "primary",
    onclick: async () => {
      close();
      if (ed !== owner) return;
      ed.stale = false;
      ed.baseVersion = null;
      for (const { row, pick } of choices.values()) {
        if (pick.take === "theirs") setByKey(merged, row.key, row.a);
        if (pick.take === "edit") setByKey(merged, row.key, pick.box.value);
      }
      ed.draft = merged;
      ed.article = theirs.data;
      ed.base = theirsWrite;
      ed.etag = theirs.etag;
      redrawAll();
      say("Your changes were applied on top of theirs…");
      await then();
    },
  }, "Apply my changes on top of theirs");
  const discard = h("button", {
    type: "button",
    class: "danger",
    onclick: () => {
      close();
      if (ed !== owner) return;
      ed.stale = false;
      ed.baseVersion = null;
      ed.discarded = { base, draft: mine };
      applyRead(theirs.data, theirs.etag);
      redrawAll();
      document.getElementById("save")?.focus();
      say("You now see their version. Your discarded edit can be brought back with “Bring back my discarded edit”.");
    },
  }, "Discard mine");
  dialog.append(
    h("h2", { id: titleId }, "Someone else saved this article meanwhile"),
    h("p", {}, `Version ${theirs.data.version} was saved${who} after ${ed.baseVersion ? `the version ${ed.baseVersion} this edit was made from` : `you opened version ${ed.article?.version ?? "?"}`}. Nothing is lost: compare, then choose.`),
    h("div", { class: "table-scroll" }, table),
    h("div", { class: "actions" }, apply, discard, h("button", { type: "button", onclick: close }, "Keep editing")),
  );
  dialog.addEventListener("cancel", close);
  document.body.append(dialog);
  dialog.showModal();
  apply.focus();
}

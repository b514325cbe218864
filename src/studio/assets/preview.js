// The reader's preview beside the editor (below it on a phone): this edit as
// it is typed, the live article, or the article as a release will make it.

import { articlePath, get } from "./api.js";
import { field, h, replace } from "./dom.js";
import { toWrite } from "./model.js";
import { renderArticle } from "./render.js";
import { ed, withFallbacks } from "./editing.js";

/** The preview pane; `release` (an id) is shown first when given. */
export function previewPane(release) {
  const modes = [h("option", { value: "edit" }, "This edit (unsaved changes included)"), h("option", { value: "live" }, "Live (as saved)")];
  const known = new Set();
  for (const r of ed.releases) {
    if (r.state === "open" || r.state === "scheduled") {
      known.add(r.id);
      modes.push(h("option", { value: r.id }, `Release “${r.title}”`));
    }
  }
  if (release && !known.has(release)) modes.push(h("option", { value: release }, "The release in the address"));
  const modeSelect = h("select", { id: "preview-mode", onchange: renderPreview }, modes);
  if (release) modeSelect.value = release;
  following = null;
  return h("aside", { class: "preview", "aria-labelledby": "preview-title" },
    h("h2", { id: "preview-title" }, "Reader’s preview"),
    field("Show", modeSelect),
    h("div", { id: "preview-body", class: "preview-body" }));
}

/** Draws the preview in the chosen mode. */
export async function renderPreview() {
  const target = document.getElementById("preview-body");
  const mode = document.getElementById("preview-mode")?.value || "edit";
  if (!target || !ed) return;
  if (mode === "edit") {
    // A translation's untranslated texts show as its readers get them: the default locale's.
    replace(target, renderArticle(ed.locale && ed.source ? withFallbacks(ed.draft, toWrite(ed.source)) : ed.draft, 3));
    if (following) follow(following);
    return;
  }
  if (mode === "live") {
    replace(target, ed.article ? renderArticle(toWrite(ed.article), 3) : h("p", {}, "Not live yet."));
    return;
  }
  try {
    const { data } = await get(`${articlePath(ed.slug)}?release=${encodeURIComponent(mode)}`);
    replace(target, h("p", { class: "note" }, "As it will be when the release is published:"), renderArticle(toWrite(data), 3));
  } catch (error) {
    replace(target, h("p", { class: "field-error" }, `No preview: ${error.message}`));
  }
}

/** The part being edited: the section kind of the focused field (null for the article's own fields). */
let following = null;

/**
 * The preview follows the part being edited: where the preview scrolls on its
 * own (beside the form), it brings that section's heading to its top.
 */
export function follow(kind) {
  following = kind;
  const pane = document.querySelector(".preview");
  if (!pane || pane.scrollHeight <= pane.clientHeight || getComputedStyle(pane).overflowY === "visible") return;
  const target = kind ? pane.querySelector(`.preview-body [data-section="${CSS.escape(kind)}"]`) : null;
  const top = target ? target.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop - 8 : 0;
  pane.scrollTo({ top });
}

/** Shows the article as release `releaseId` will make it (after staging into it). */
export function previewRelease(releaseId) {
  const mode = document.getElementById("preview-mode");
  if (!mode) return;
  mode.value = releaseId;
  renderPreview();
}

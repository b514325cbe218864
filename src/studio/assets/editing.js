// The article being edited, shared by every part of the editor: its state,
// whether it holds changes neither saved nor staged, writes in flight (the
// form inert meanwhile), focus across redraws, and how a part asks for the
// page to be drawn again. Nothing here draws: editor.js hands over the
// drawing functions (drawWith), so the parts need not import the page.

import { clone, readingTime, toBody, toWrite, wordCount } from "./model.js";
import { forgetDraft, keepDraft } from "./drafts.js";
import { articlePath } from "./api.js";

/**
 * The editor's state, one article at a time (null when no editor is open):
 * the saved article and its ETag, the base and the draft of the edit, and
 * what releases and conflicts know of it (see editor.js's openEditor).
 */
export let ed = null;

/** Opens the editor's state (see editor.js's openEditor). */
export function beginEditing(state) {
  ed = state;
}

/** No article is being edited (the editor was left, or the article deleted). */
export function endEditing() {
  ed = null;
}

/** Whether the edit holds changes that are neither saved nor staged in a release. */
export function dirty() {
  if (!ed) return false;
  const draft = JSON.stringify(toBody(ed.draft));
  return draft !== JSON.stringify(toBody(ed.base)) && draft !== ed.staged;
}

/** The article's address in the locale being edited (`?locale=` unless it is the default). */
export function localePath() {
  return ed.locale ? `${articlePath(ed.slug)}?locale=${encodeURIComponent(ed.locale)}` : articlePath(ed.slug);
}

/**
 * A server read as the edit's shape. In a translation, a text the read
 * served from another locale (its pointer in `fallbacks`) is untranslated:
 * null, so saving does not copy the fallback's text into this locale.
 */
export function readWrite(data) {
  const write = toWrite(data);
  if (!ed?.locale) return write;
  for (const pointer of Object.keys(data.fallbacks || {})) {
    const path = pointer.split("/").slice(1);
    const parent = path.slice(0, -1).reduce((value, key) => (value == null ? undefined : value[key]), write);
    if (parent && typeof parent === "object" && path.length) parent[path[path.length - 1]] = null;
  }
  for (const section of write.sections || []) {
    if (section.phase_headings && !Object.values(section.phase_headings).some((v) => v !== null)) section.phase_headings = null;
  }
  return write;
}

/** `draft` with each untranslated (null) text filled from `source`: what a reader of the locale sees. */
export function withFallbacks(draft, source) {
  if (draft === null || draft === undefined) return source ?? draft;
  if (Array.isArray(draft)) return draft.map((value, i) => withFallbacks(value, source?.[i]));
  if (typeof draft === "object") {
    return Object.fromEntries(Object.entries(draft).map(([key, value]) => [key, withFallbacks(value, source?.[key])]));
  }
  return draft;
}

/** Takes a server read as the saved article, its ETag, and a fresh edit of it. */
export function applyRead(data, etag) {
  ed.article = data;
  ed.etag = etag;
  ed.base = readWrite(data);
  ed.draft = clone(ed.base);
}

/** The page's parts that are drawn from the state; set once by editor.js. */
const parts = { head() {}, form() {}, preview() {} };

/** Hands over the functions that draw the head, the form and the preview. */
export function drawWith(drawers) {
  Object.assign(parts, drawers);
}

/** The counts line: saved and edited words and reading time, and whether the edit is saved (kept in the browser until it is). */
export function updateCounts() {
  const counts = document.getElementById("counts");
  if (!counts || !ed) return;
  const words = wordCount(ed.draft);
  const server = ed.article
    ? `Saved: ${ed.article.word_count} words · ${ed.article.reading_time_minutes} min read (version ${ed.article.version}).`
    : "";
  const staged = ed.staged && ed.staged === JSON.stringify(toBody(ed.draft));
  const changedText = staged ? "staged in a release, not live" : "not saved";
  const edit = dirty() || staged ? ` This edit: ${words} words · ${readingTime(words)} min read — ${changedText}.` : " No unsaved changes.";
  counts.textContent = server + edit;
  const state = document.getElementById("save-state");
  if (state) state.textContent = dirty() ? "Unsaved changes" : staged ? "Staged in a release" : "Everything saved";
  document.getElementById("editor-root")?.classList.toggle("is-dirty", Boolean(dirty()));
  keepOrForget();
}

/**
 * Keeps the edit in this browser while it holds unsaved changes, forgets it
 * once saved, staged or discarded. A kept edit still on offer (not yet
 * restored or discarded) is left alone.
 */
export function keepOrForget() {
  if (!ed?.draftKey || ed.offer) return;
  if (dirty()) {
    keepDraft(ed.draftKey, { version: ed.article?.version ?? null, base: ed.base, draft: ed.draft, at: new Date().toISOString() });
  } else {
    forgetDraft(ed.draftKey);
  }
}

let previewTimer = 0;
/** After an edit of the draft: the counts (and the kept copy) now, the preview shortly. */
export function changed() {
  updateCounts();
  clearTimeout(previewTimer);
  previewTimer = setTimeout(parts.preview, 120);
}

/** Re-renders the form, keeping focus on the control it was on (by its focus key). */
export function rerender(focusKey) {
  const key = focusKey ?? document.activeElement?.dataset?.focus;
  parts.form();
  changed();
  focusByKey(key);
}

/** After the article itself changed (saved, merged, discarded): the head and the form. */
export function redrawAll() {
  parts.head();
  rerender();
}

/** Focuses the control with `key`; a disabled one (moved to the end) hands focus to its item's or section's first enabled button. */
function focusByKey(key) {
  if (!key) return;
  let target = document.querySelector(`[data-focus="${CSS.escape(key)}"]`);
  if (target?.disabled) target = target.closest(".item, .section-editor")?.querySelector("button:not(:disabled)");
  target?.focus();
}

/** Where focus goes once a write in flight ends (an inert form takes none meanwhile). */
let focusAfterWrite = null;

/** Focuses `element`, now or, while a write keeps the form inert, once it ends. */
export function focusSoon(element) {
  if (!element) return;
  if (ed?.busy) focusAfterWrite = element;
  element.focus();
}

/**
 * Runs a write with the form inert (nothing can be typed while the request is
 * in flight, so nothing typed is lost when the answer re-renders it) and
 * refuses a second one meanwhile.
 */
export async function busy(work) {
  if (!ed || ed.busy) return;
  const mine = ed;
  mine.busy = true;
  focusAfterWrite = null;
  const root = document.getElementById("editor-root");
  const focused = document.activeElement;
  const focusId = focused?.id;
  const focusKey = focused?.dataset?.focus;
  root?.setAttribute("aria-busy", "true");
  if (root) root.inert = true;
  try {
    await work();
  } finally {
    mine.busy = false;
    if (root) {
      root.inert = false;
      root.removeAttribute("aria-busy");
    }
    // To what the write chose (a field's error), else back to where the editor was
    // (the same element, or its re-rendered twin), unless focus moved on purpose (a dialog).
    if (ed === mine && focusAfterWrite?.isConnected) {
      focusAfterWrite.focus();
    } else if (ed === mine && document.activeElement === document.body) {
      const again = focused?.isConnected
        ? focused
        : (focusKey && document.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`)) || (focusId && document.getElementById(focusId));
      (again || document.getElementById("save"))?.focus();
    }
    focusAfterWrite = null;
  }
}

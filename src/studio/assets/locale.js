// Editing a translation (API.md §13): the language switcher, the default
// locale's text beside each field, missing and outdated marks with a jump to
// the next one, and publishing the translation on its own. Structure (items,
// order, status, dates) is the default locale's: a translation edits text only.

import { articlePath, get, put, session } from "./api.js";
import { h, say } from "./dom.js";
import { applyRead, ed, redrawAll } from "./editing.js";

/** The configured locales (GET /v1/locales, public), fetched each time an editor opens. */
let known = [];
export async function locales() {
  try {
    known = (await get("/v1/locales")).data;
  } catch {
    known = [];
  }
  return known;
}

/** The default locale's code. */
export const defaultLocale = () => known.find((l) => l.default)?.code || "en";
const nameOf = (code) => known.find((l) => l.code === code)?.name || code;

/**
 * Loads what editing `ed.locale` needs: the default locale's text (shown
 * beside each field, and what a reader gets for an untranslated text) and
 * where the translation stands (missing and outdated texts).
 */
export async function loadTranslation() {
  if (!ed.locale) return;
  const [source, report] = await Promise.all([
    get(`${articlePath(ed.slug)}?locale=${encodeURIComponent(defaultLocale())}`),
    get(articlePath(ed.slug, "/translations")).catch(() => ({ data: [] })),
  ]);
  ed.source = source.data;
  ed.report = report.data.find((r) => r.locale === ed.locale) || null;
}

/** Which mark the text at `pointer` has in the translation: "missing", "outdated" or null. */
export function markOf(pointer) {
  if (!ed?.locale || !ed.report) return null;
  if (ed.report.missing_pointers.includes(pointer)) return "missing";
  if (ed.report.outdated_pointers.includes(pointer)) return "outdated";
  return null;
}

/** The default locale's text at `path` (an array of keys), or null. */
export function sourceText(path) {
  if (!ed?.locale || !ed.source) return null;
  const value = path.reduce((v, key) => (v == null ? undefined : v[key]), ed.source);
  return typeof value === "string" ? value : null;
}

/** Moves focus to the next field still marked missing or outdated after the focused one (wrapping), unfolding its section. */
export function nextUntranslated() {
  const marked = [...document.querySelectorAll("#article-form [data-mark]")];
  if (!marked.length) {
    say("Nothing left to translate: every text has a translation that is up to date.");
    return;
  }
  const active = document.activeElement;
  const next = marked.find((element) => active && (active.compareDocumentPosition(element) & Node.DOCUMENT_POSITION_FOLLOWING)) || marked[0];
  const body = next.closest(".section-body");
  if (body?.hidden) {
    body.hidden = false;
    ed.collapsed.delete(body.closest(".section-editor")?.dataset.kind);
    body.closest(".section-editor")?.querySelector(".fold")?.setAttribute("aria-expanded", "true");
  }
  next.focus();
  say(`${marked.length} text${marked.length === 1 ? "" : "s"} left to translate or check.`);
}

/** The language bar of the editor's head: switch locale; in a translation, its status, the jump and publishing. */
export function localeBar() {
  if (known.length < 2) return null;
  const current = ed.locale || defaultLocale();
  const select = h("select", {
    id: "edit-locale",
    onchange: () => {
      const code = select.value;
      location.hash = `#/a/${encodeURIComponent(ed.slug)}${code === defaultLocale() ? "" : `?locale=${encodeURIComponent(code)}`}`;
    },
  }, known.map((l) => h("option", { value: l.code, selected: l.code === current }, `${l.name} (${l.code})${l.default ? " — default" : ""}`)));
  const label = h("label", { for: "edit-locale" }, "Language");
  if (!ed.locale) return h("div", { class: "toolbar locale-bar" }, h("div", { class: "field" }, label, select));
  const report = ed.report;
  const published = report?.status === "published";
  return h("div", { class: "toolbar locale-bar" },
    h("div", { class: "field" }, label, select),
    h("p", { id: "translation-status", class: "counts" }, report
      ? `${nameOf(ed.locale)}: ${report.translated} translated, ${report.missing} missing, ${report.outdated} outdated · translation ${report.status}.`
      : `${nameOf(ed.locale)}: translation status unknown.`),
    h("button", { type: "button", id: "next-untranslated", onclick: nextUntranslated }, "Next untranslated"),
    session.canEdit
      ? h("button", { type: "button", id: "publish-translation", onclick: () => publishTranslation(!published) },
        published ? `Unpublish the ${nameOf(ed.locale)} translation` : `Publish the ${nameOf(ed.locale)} translation`)
      : null);
}

/** Publishes (or takes back to draft) the translation: PUT /v1/articles/{slug}/translations/{locale} with If-Match. */
async function publishTranslation(publish) {
  if (ed.busy) return;
  try {
    const { data, etag } = await put(articlePath(ed.slug, `/translations/${encodeURIComponent(ed.locale)}`), { status: publish ? "published" : "draft" }, { ifMatch: ed.etag });
    const draft = ed.draft;
    const base = ed.base;
    applyRead(data, etag);
    // Unsaved text stays: publishing changes no text.
    if (JSON.stringify(draft) !== JSON.stringify(base)) ed.draft = draft;
    await loadTranslation();
    redrawAll();
    document.getElementById("publish-translation")?.focus();
    say(publish ? `The ${nameOf(ed.locale)} translation is published: readers get it.` : `The ${nameOf(ed.locale)} translation is a draft again: readers get the fallback.`);
  } catch (error) {
    say(error.status === 412 ? "Not changed: someone saved the article meanwhile; save or reload first." : `Not changed: ${error.message}`, "error");
  }
}

/** After a save in a translation: the marks and counts as they now stand. */
export async function refreshTranslation() {
  if (!ed?.locale) return;
  const owner = ed;
  await loadTranslation().catch(() => {});
  if (ed === owner) redrawAll();
}

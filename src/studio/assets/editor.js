// The article editor: the page that puts its parts together. Its head holds
// the counts and the actions (save with If-Match, delete, bring back a
// discarded edit, stage into a release); beside the form is the reader's
// preview. Each part has a module of its own:
//   editing.js     the state every part shares, writes in flight, redraws
//   fields.js      controls bound to the draft; 422 problems at their fields
//   form.js        the metadata and the sections
//   items.js       a section's items: add, remove, reorder, drag, Alt+Arrow
//   preview.js     the reader's preview
//   conflict.js    the 412 view: theirs beside mine, apply or discard
//   staging.js     staging into a release, opening what a release stages

import { articlePath, del, get, put, session } from "./api.js";
import { confirmDialog, h, replace, say, when } from "./dom.js";
import { clone, mergeOnTop, toBody, toWrite } from "./model.js";
import {
  applyRead, beginEditing, busy, dirty, drawWith, ed, endEditing, focusSoon, keepOrForget, localePath, redrawAll, updateCounts,
} from "./editing.js";
import { defaultLocale, loadTranslation, localeBar, locales, refreshTranslation } from "./locale.js";
import { draftKey, forgetDraft, keptDraft } from "./drafts.js";
import { clearErrors, showFieldErrors } from "./fields.js";
import { renderForm } from "./form.js";
import { follow, previewPane, renderPreview } from "./preview.js";
import { conflict } from "./conflict.js";
import { openStaged, stageDialog, unstageAll } from "./staging.js";

drawWith({ head: renderHead, form: renderForm, preview: renderPreview });

/** Leaves the editor: asks first when there are unsaved changes; resolves false to stay. */
export async function leaveEditor() {
  if (ed?.busy) {
    say("A save is under way: wait for its answer before leaving.", "error");
    return false;
  }
  if (dirty() && !(await confirmDialog("Leave without saving?", "Your changes to this article are neither saved nor staged in a release; they will be lost.", "Leave", "Stay"))) {
    return false;
  }
  for (const dialog of document.querySelectorAll("dialog.conflict")) dialog.remove();
  endEditing();
  return true;
}

window.addEventListener("beforeunload", (event) => {
  if (dirty()) event.preventDefault();
});

// Ctrl+S (Cmd+S on a Mac) saves from anywhere in the editor, as in any editor.
document.addEventListener("keydown", (event) => {
  if (!ed || !(event.ctrlKey || event.metaKey) || event.altKey || event.key.toLowerCase() !== "s") return;
  event.preventDefault();
  if (session.canEdit && !ed.busy && !document.querySelector("dialog[open]")) save({ fromKeyboard: true });
});

/** The offer of an edit kept in this browser (drafts.js), until it is restored or discarded. */
function draftOffer() {
  const kept = ed.offer;
  if (!kept) return null;
  const current = ed.article?.version ?? null;
  const from = kept.version === current
    ? ""
    : ` It was made from version ${kept.version}; version ${current} is current, so restoring applies it on top (their changes stay).`;
  const done = (message) => {
    ed.offer = null;
    redrawAll();
    keepOrForget();
    document.getElementById("save")?.focus();
    say(message);
  };
  return h("div", { class: "draft-offer", role: "region", "aria-label": "Unsaved edit kept in this browser" },
    h("p", {}, `An unsaved edit of this article from ${when(kept.at)} was kept in this browser.${from}`),
    h("div", { class: "toolbar" },
      h("button", {
        type: "button",
        class: "primary",
        onclick: () => {
          ed.draft = kept.version === current ? kept.draft : mergeOnTop(kept.base, kept.draft, ed.base);
          done("Your unsaved edit is back (not saved yet).");
        },
      }, "Restore my unsaved edit"),
      h("button", {
        type: "button",
        onclick: () => {
          forgetDraft(ed.draftKey);
          done("The kept edit is discarded.");
        },
      }, "Discard it")));
}

function renderHead() {
  const head = document.getElementById("editor-head");
  const bar = document.getElementById("save-bar");
  if (!head) return;
  const editable = session.canEdit;
  replace(head,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Articles"), " › ", ed.slug),
    h("h1", { id: "editor-title" }, ed.draft.title || ed.slug),
    h("p", { id: "counts", class: "counts" }),
    draftOffer(),
    localeBar());
  // The save bar stays on screen (sticky) however far down the form the editor is.
  if (bar) {
    replace(bar,
      editable ? h("button", { type: "button", id: "save", class: "primary", "aria-keyshortcuts": "Control+S", title: "Save (Ctrl+S)", onclick: save }, "Save") : h("span", { class: "badge" }, "Read only (preview token)"),
      h("span", { id: "save-state", class: "save-state" }),
      editable && !ed.locale ? h("button", { type: "button", id: "stage-open", onclick: stageDialog }, "Stage in a release…") : null,
      editable ? h("a", { class: "button", href: `#/a/${encodeURIComponent(ed.slug)}/revisions` }, "Revisions") : null,
      ed.discarded
        ? h("button", {
          type: "button",
          onclick: () => {
            // Mine again, on top of what is current now (their changes stay).
            ed.draft = mergeOnTop(ed.discarded.base, ed.discarded.draft, ed.draft);
            ed.discarded = null;
            redrawAll();
            document.getElementById("save")?.focus();
            say("Your discarded edit is back, on top of the current one (not saved).");
          },
        }, "Bring back my discarded edit")
        : null,
      editable ? h("button", { type: "button", class: "danger quiet", onclick: deleteArticle }, "Delete article") : null);
  }
  updateCounts();
}

/** Saves the edit; from Ctrl+S, focus stays where the editor was typing. */
async function save({ fromKeyboard = false } = {}) {
  if (ed?.release && !(await confirmDialog(
    "Make this live now?",
    `You are editing what the release “${ed.release.title}” stages. Saving makes it live now and takes it out of the release.`,
    "Save live", "Cancel",
  ))) {
    document.getElementById("save")?.focus();
    return;
  }
  // Nothing changed since the saved version: nothing to send (the API would record nothing either).
  if (ed && ed.article && !ed.stale && !ed.release && JSON.stringify(toBody(ed.draft)) === JSON.stringify(toBody(ed.base))) {
    clearErrors();
    say(`No changes to save: version ${ed.article.version} is current.`);
    return;
  }
  return busy(async () => {
    const mine = ed;
    clearErrors();
    if (mine.stale) {
      await conflict(save);
      return;
    }
    try {
      const { data, etag } = await put(localePath(), toBody(mine.draft), { ifMatch: mine.etag || undefined });
      if (ed !== mine) return;
      applyRead(data, etag);
      ed.staged = null;
      let note = "";
      if (ed.release) {
        note = await unstageAll(ed.release) ? ` It left the release “${ed.release.title}”.` : ` It is still staged in “${ed.release.title}”: unstage it there.`;
        ed.release = null;
      }
      redrawAll();
      if (!fromKeyboard) focusSoon(document.getElementById("save"));
      say(`Saved version ${data.version}.${note}`);
      refreshTranslation();
    } catch (error) {
      if (ed !== mine) return;
      if (error.status === 422 || error.status === 409) showFieldErrors(error.errors.length ? error.errors : [{ pointer: "", message: error.message }]);
      else if (error.status === 412) await conflict(save);
      else say(`Not saved: ${error.message}`, "error");
    }
  });
}

async function deleteArticle() {
  if (!(await confirmDialog(`Delete “${ed.draft.title || ed.slug}”?`, "The article leaves the API for everyone. It goes to the Trash, where it can be restored (with its revisions) for 30 days.", "Delete article"))) return;
  try {
    await del(articlePath(ed.slug), { ifMatch: ed.etag });
    endEditing();
    say("Deleted.");
    location.hash = "#/";
  } catch (error) {
    say(error.status === 412 ? "Not deleted: someone changed the article meanwhile; reload it first." : `Not deleted: ${error.message}`, "error");
  }
}

/** Opens the editor on `slug` in `main`; `release` preselects a release preview; `locale` edits a translation. */
export async function openEditor(main, slug, release, locale) {
  replace(main, h("p", { class: "loading" }, "Loading…"));
  const configured = await locales();
  // A translation is edited live, outside releases; an unknown locale or the default edits the article itself.
  const translating = locale && !release && locale !== defaultLocale() && configured.some((l) => l.code === locale) ? locale : null;
  let read = null;
  try {
    read = await get(translating ? `${articlePath(slug)}?locale=${encodeURIComponent(translating)}` : articlePath(slug));
  } catch (error) {
    if (!(error.status === 404 && release)) {
      replace(main, h("h1", {}, "Article not found"), h("p", {}, error.message), h("a", { href: "#/" }, "Back to the articles"));
      return;
    }
  }
  beginEditing({
    slug, article: null, etag: null, base: null, draft: null, discarded: null, staged: null,
    busy: false, releases: [], release: null, stale: false, baseVersion: null,
    draftKey: null, offer: null, collapsed: new Set(), locale: translating, source: null, report: null,
  });
  if (read) applyRead(read.data, read.etag);
  if (translating) await loadTranslation();
  let notice = null;
  if (release && session.canEdit) notice = await openStaged(slug, release, read);
  if (!ed.draft) {
    ed.base = toWrite({ sections: [] });
    ed.draft = clone(ed.base);
  }
  if (session.canEdit) {
    try {
      ed.releases = (await get("/v1/releases")).data.items;
    } catch {
      ed.releases = [];
    }
  }
  // An edit kept in this browser (a reload, a crashed tab) is offered back if it differs from this one.
  ed.draftKey = draftKey(slug, ed.release?.id, ed.locale);
  if (session.canEdit) {
    const kept = keptDraft(ed.draftKey);
    if (kept && JSON.stringify(toBody(kept.draft)) !== JSON.stringify(toBody(ed.draft))) ed.offer = kept;
    else if (kept) forgetDraft(ed.draftKey);
  }
  replace(main,
    h("div", { class: "editor-layout", id: "editor-root" },
      h("section", { class: "editor", "aria-labelledby": "editor-title" },
        h("div", { id: "editor-head", class: "editor-head" }),
        h("nav", { id: "outline", class: "outline", "aria-label": "Outline" }),
        h("div", { id: "form-errors", class: "form-errors", tabindex: "-1", hidden: true, role: "alert" }),
        h("form", {
          id: "article-form",
          novalidate: true,
          "aria-labelledby": "editor-title",
          onsubmit: (event) => { event.preventDefault(); save(); },
          // The preview follows the section being edited.
          onfocusin: (event) => {
            const kind = event.target.closest?.(".section-editor")?.dataset.kind || null;
            if (kind !== undefined) follow(kind);
          },
        }),
        h("div", { id: "save-bar", class: "save-bar" })),
      previewPane(release)));
  renderHead();
  renderForm();
  updateCounts();
  renderPreview();
  if (notice) say(notice);
  if (ed.stale) await conflict(() => say("Merged: “Stage this edit” puts it in the release."));
}

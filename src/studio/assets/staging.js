// Staging the edit into a release instead of saving it live, opening what a
// release stages, and taking an article out of a release again.

import { articlePath, del, get, post, put } from "./api.js";
import { field, formError, h, say, showError, uid, when } from "./dom.js";
import { keepKnownIds, toBody, toWrite } from "./model.js";
import { busy, ed, updateCounts } from "./editing.js";
import { clearErrors, showFieldErrors } from "./fields.js";
import { conflict } from "./conflict.js";
import { previewRelease } from "./preview.js";

const stagedPath = (releaseId, slug) => `/v1/releases/${encodeURIComponent(releaseId)}/articles/${encodeURIComponent(slug)}`;

/**
 * "Stage in a release…": a dialog that picks an open or scheduled release,
 * or names a new one (so there is always somewhere to stage), then stages.
 */
export function stageDialog() {
  const open = (ed.releases || []).filter((r) => r.state === "open" || r.state === "scheduled");
  const titleId = uid("stage");
  const name = uid("release");
  const dialog = h("dialog", { class: "confirm staging", "aria-labelledby": titleId });
  const newTitle = h("input", { type: "text", id: uid("new-release"), autocomplete: "off" });
  const error = formError();
  const preselected = ed.release?.id && open.some((r) => r.id === ed.release.id) ? ed.release.id : open[0]?.id || "new";
  const radio = (value, label, hint) => h("label", { class: "take" },
    h("input", { type: "radio", name, value, checked: value === preselected, onchange: () => { newBox.hidden = value !== "new"; } }),
    ` ${label}`, hint ? h("span", { class: "hint" }, ` ${hint}`) : null);
  const newBox = h("div", { hidden: preselected !== "new" }, field("Title of the new release", newTitle));
  const close = () => {
    dialog.close();
    dialog.remove();
    document.getElementById("stage-open")?.focus();
  };
  const go = async () => {
    const chosen = dialog.querySelector(`input[name="${name}"]:checked`)?.value;
    error.hidden = true;
    let releaseId = chosen;
    if (chosen === "new") {
      const title = newTitle.value.trim();
      if (!title) {
        showError(error, "Name the new release first.", newTitle);
        return;
      }
      try {
        const { data } = await post("/v1/releases", { title, publish_at: null });
        ed.releases = [...(ed.releases || []), data];
        releaseId = data.id;
      } catch (failure) {
        showError(error, `The release was not created: ${failure.message}`);
        return;
      }
    }
    dialog.close();
    dialog.remove();
    await stage(releaseId);
  };
  dialog.append(
    h("h2", { id: titleId }, "Stage this edit in a release"),
    h("p", {}, "The live article stays as it is until the release is published."),
    h("fieldset", { class: "take-group" },
      h("legend", {}, "Release"),
      open.map((r) => radio(r.id, `${r.title} (${r.state})`, r.publish_at ? `publishes ${when(r.publish_at)}` : null)),
      radio("new", "A new release")),
    newBox,
    error,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: go }, "Stage this edit in the release"),
      h("button", { type: "button", onclick: close }, "Cancel")));
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    close();
  });
  document.body.append(dialog);
  dialog.showModal();
  (dialog.querySelector("input:checked") || newTitle).focus();
}

/** Stages the edit in release `releaseId` (the form inert meanwhile). */
export function stage(releaseId) {
  if (!releaseId) return Promise.resolve();
  const again = () => stage(releaseId);
  return busy(async () => {
    clearErrors();
    await stageNow(releaseId, again);
  });
}

async function stageNow(releaseId, again) {
  const mine = ed;
  const release = ed.releases.find((r) => r.id === releaseId);
  const body = toBody(ed.draft);
  if (ed.stale) {
    await conflict(again);
    return;
  }
  try {
    // The release records the live version at staging as its base: an edit of
    // an older version would undo, unseen, what changed since. With If-Match
    // the server refuses it (412), and the conflict view resolves it first.
    await put(stagedPath(releaseId, ed.slug), body, { ifMatch: ed.etag || undefined });
    if (ed !== mine) return;
    ed.staged = JSON.stringify(body);
    // The whole article now holds the sections this release staged apart (they
    // were in the copy opened from it): those would otherwise override it.
    if (ed.release?.id === releaseId && ed.release.sections.length) {
      await unstageAll(ed.release, { sectionsOnly: true });
      ed.release.sections = [];
    }
    if (ed.release?.id === releaseId) ed.release.whole = true;
    updateCounts();
    say(`Staged in “${release?.title}”. The live article is unchanged until the release is published.`);
    previewRelease(releaseId);
  } catch (error) {
    if (ed !== mine) return;
    if (error.status === 422) showFieldErrors(error.errors, "Not staged");
    else if (error.status === 412) await conflict(again);
    else say(`Not staged: ${error.message}`, "error");
  }
}

/** Takes the article (and its sections) out of `release`; true if all went. */
export async function unstageAll(release, { sectionsOnly = false } = {}) {
  const base = stagedPath(release.id, ed.slug);
  const paths = release.sections.map((kind) => `${base}/sections/${kind}`);
  if (!sectionsOnly && release.whole) paths.push(base);
  let ok = true;
  for (const path of paths) {
    try {
      await del(path);
    } catch (error) {
      if (error.status !== 404) ok = false;
    }
  }
  return ok;
}

/**
 * Opened from a release that stages this article: the editor holds the staged
 * copy (items new in the release carry ids of a preview only: they go as new
 * items). If the live article changed since it was staged, the copy's base is
 * the revision it was staged on, and the conflict view comes first. Returns
 * what to tell the editor.
 */
export async function openStaged(slug, releaseId, read) {
  let release;
  try {
    release = (await get(`/v1/releases/${encodeURIComponent(releaseId)}`)).data;
  } catch {
    return null;
  }
  const staged = release.items.filter((item) => item.slug === slug);
  if (staged.length === 0) return `The release “${release.title}” does not stage this article: you edit the live one.`;
  if (release.state !== "open" && release.state !== "scheduled") return `The release “${release.title}” is ${release.state}: you edit the live article.`;
  const whole = staged.find((item) => !item.kind);
  const sections = staged.filter((item) => item.kind);
  const liveSection = (kind) => read?.data.sections.find((s) => s.kind === kind)?.version ?? null;
  if (!whole && sections.some((item) => item.base_version !== liveSection(item.kind))) {
    return `Sections staged in “${release.title}” changed live since: you edit the live article; publishing the release will list the conflict.`;
  }
  let preview;
  try {
    preview = await get(`${articlePath(slug)}?release=${encodeURIComponent(releaseId)}`);
  } catch {
    return null;
  }
  ed.draft = keepKnownIds(toWrite(preview.data), read ? read.data : null);
  ed.staged = JSON.stringify(toBody(ed.draft));
  ed.release = { id: releaseId, title: release.title, whole: Boolean(whole), sections: sections.map((item) => item.kind) };
  if (!read) {
    ed.base = toWrite({ sections: [] });
    return "This article exists only in the release so far: you edit what it stages.";
  }
  if (whole && whole.base_version !== null && whole.base_version !== read.data.version) {
    // Staged on an older version: that version is the base of a three-way merge.
    ed.stale = true;
    ed.baseVersion = whole.base_version;
    const snapshot = await revisionAt(slug, whole.base_version).catch(() => null);
    if (snapshot) {
      ed.base = toWrite(snapshot);
      return `The live article changed since this was staged (on version ${whole.base_version}): compare first.`;
    }
    return `The live article changed since this was staged (on version ${whole.base_version}), and that version is no longer kept: where the two differ, applying keeps the staged text. Compare first.`;
  }
  return `You edit what “${release.title}” stages: “Stage this edit” replaces it, “Save” makes it live now.`;
}

/** The article as revision `version` left it, if that revision is still kept. */
async function revisionAt(slug, version) {
  let cursor = null;
  for (let page = 0; page < 20; page += 1) {
    const { data } = await get(`${articlePath(slug)}/revisions?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    const found = data.items.find((r) => r.article_version === version);
    if (found) return (await get(`${articlePath(slug)}/revisions/${encodeURIComponent(found.id)}`)).data.snapshot;
    if (!data.next_cursor) return null;
    cursor = data.next_cursor;
  }
  return null;
}

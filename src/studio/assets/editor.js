// The article editor: every section kind with its own fields, items added,
// removed and reordered (buttons, Alt+Arrow keys, or drag and drop), saved
// with If-Match; 422 problems shown at their fields, a 412 resolved in the
// conflict view; staging into a release; the reader's preview beside it.

import { articlePath, del, get, put, session } from "./api.js";
import { confirmDialog, field, h, replace, say, uid } from "./dom.js";
import {
  KINDS, META, PHASES, PHASE_LABELS, clone, differences, emptyItem, emptySection, keepKnownIds, keyOf,
  mergeOnTop, readingTime, toBody, toWrite, withoutItemIds, wordCount,
} from "./model.js";
import { renderArticle } from "./render.js";

/** The editor's state; one article at a time. */
let ed = null;

/** Where focus goes once a write in flight ends (an inert form takes none meanwhile). */
let focusAfterWrite = null;

/** Focuses `element`, now or, while a write keeps the form inert, once it ends. */
function focusSoon(element) {
  if (!element) return;
  if (ed?.busy) focusAfterWrite = element;
  element.focus();
}

const pointerOf = (path) => `/${path.join("/")}`;

function getAt(object, path) {
  return path.reduce((value, key) => (value == null ? undefined : value[key]), object);
}

function setAt(object, path, value) {
  const parent = getAt(object, path.slice(0, -1));
  parent[path[path.length - 1]] = value;
}

/** Whether the edit holds changes that are neither saved nor staged in a release. */
function dirty() {
  if (!ed) return false;
  const draft = JSON.stringify(toBody(ed.draft));
  return draft !== JSON.stringify(toBody(ed.base)) && draft !== ed.staged;
}

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
  ed = null;
  return true;
}

window.addEventListener("beforeunload", (event) => {
  if (dirty()) event.preventDefault();
});

/** A form control bound to `path` in the draft. */
function control(path, spec, value) {
  const readOnly = !session.canEdit;
  let element;
  const common = {
    dataset: { pointer: pointerOf(path), focus: path.join(".") },
    name: path.join("."),
  };
  if (spec.type === "text") {
    element = h("textarea", { ...common, rows: spec.name === "body" || spec.name === "summary" ? 4 : 2, readonly: readOnly }, value ?? "");
  } else if (spec.type === "phase") {
    element = h("select", { ...common, disabled: readOnly }, PHASES.map((p) => h("option", { value: p, selected: p === value }, PHASE_LABELS[p])));
  } else if (spec.type === "status") {
    element = h("select", { ...common, disabled: readOnly },
      h("option", { value: "draft", selected: value === "draft" }, "Draft (only token holders see it)"),
      h("option", { value: "published", selected: value === "published" }, "Published (public)"));
  } else {
    element = h("input", { ...common, type: spec.type === "date" ? "date" : "text", value: value ?? "", readonly: readOnly, autocomplete: "off" });
  }
  element.addEventListener(spec.type === "phase" || spec.type === "status" ? "change" : "input", () => {
    let next = element.value;
    if (spec.optional && next.trim() === "") next = null;
    setAt(ed.draft, path, next);
    changed();
  });
  return field(spec.optional ? `${spec.label} (optional)` : spec.label, element);
}

/** A phase heading control; `phase_headings` is null when all three are empty. */
function phaseHeading(sectionIndex, phase) {
  const section = ed.draft.sections[sectionIndex];
  const path = ["sections", sectionIndex, "phase_headings", phase];
  const input = h("input", {
    type: "text",
    value: section.phase_headings?.[phase] ?? "",
    readonly: !session.canEdit,
    dataset: { pointer: pointerOf(path), focus: path.join(".") },
    autocomplete: "off",
  });
  input.addEventListener("input", () => {
    const headings = ed.draft.sections[sectionIndex].phase_headings || { before: null, during: null, after: null };
    headings[phase] = input.value.trim() === "" ? null : input.value;
    ed.draft.sections[sectionIndex].phase_headings = PHASES.some((p) => headings[p] !== null) ? headings : null;
    changed();
  });
  return field(`${PHASE_LABELS[phase]} heading (optional)`, input);
}

let previewTimer = 0;
function changed() {
  updateCounts();
  clearTimeout(previewTimer);
  previewTimer = setTimeout(renderPreview, 120);
}

function updateCounts() {
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
  document.getElementById("editor-root")?.classList.toggle("is-dirty", Boolean(dirty()));
}

function move(list, from, to) {
  if (to < 0 || to >= list.length || from === to) return false;
  const [item] = list.splice(from, 1);
  list.splice(to, 0, item);
  return true;
}

/** Re-renders the form, keeping focus on the control it was on (by its focus key). */
function rerender(focusKey) {
  const key = focusKey ?? document.activeElement?.dataset?.focus;
  renderForm();
  changed();
  focusByKey(key);
}

/** Focuses the control with `key`; a disabled one (moved to the end) hands focus to its item's or section's first enabled button. */
function focusByKey(key) {
  if (!key) return;
  let target = document.querySelector(`[data-focus="${CSS.escape(key)}"]`);
  if (target?.disabled) target = target.closest(".item, .section-editor")?.querySelector("button:not(:disabled)");
  target?.focus();
}

function moveItem(sectionIndex, from, to) {
  const section = ed.draft.sections[sectionIndex];
  const item = section.items[from];
  const spec = KINDS[section.kind].items;
  if (!move(section.items, from, to)) return;
  // Focus follows the item: its buttons' focus keys hold its key, its fields' its index.
  const focus = document.activeElement?.dataset?.focus || "";
  const fieldPrefix = `sections.${sectionIndex}.items.${from}.`;
  let next = `item:${keyOf(item)}:handle`;
  if (focus.startsWith(`item:${keyOf(item)}:`)) next = focus;
  else if (focus.startsWith(fieldPrefix)) next = `sections.${sectionIndex}.items.${to}.${focus.slice(fieldPrefix.length)}`;
  rerender(next);
  say(`Moved ${spec.label.toLowerCase()} “${item.title || item.description || ""}” to position ${to + 1} of ${section.items.length}.`);
}

function itemEditor(sectionIndex, itemIndex) {
  const section = ed.draft.sections[sectionIndex];
  const spec = KINDS[section.kind].items;
  const item = section.items[itemIndex];
  const key = keyOf(item);
  const count = section.items.length;
  const base = ["sections", sectionIndex, "items", itemIndex];
  const headingId = uid("item");
  const editable = session.canEdit;
  const li = h("li", {
    class: "item",
    dataset: { pointer: pointerOf(base), key },
    draggable: editable ? "true" : null,
  });
  const tools = editable
    ? h("div", { class: "item-tools" },
      h("button", {
        type: "button",
        class: "handle",
        title: "Drag to reorder, or press Alt+Arrow Up / Alt+Arrow Down",
        "aria-label": `Reorder ${spec.label.toLowerCase()} ${itemIndex + 1} (Alt+Arrow Up or Down)`,
        dataset: { focus: `item:${key}:handle` },
      }, "⠿"),
      h("button", {
        type: "button",
        disabled: itemIndex === 0,
        dataset: { focus: `item:${key}:up` },
        "aria-label": `Move ${spec.label.toLowerCase()} ${itemIndex + 1} up`,
        onclick: () => moveItem(sectionIndex, itemIndex, itemIndex - 1),
      }, "↑ Up"),
      h("button", {
        type: "button",
        disabled: itemIndex === count - 1,
        dataset: { focus: `item:${key}:down` },
        "aria-label": `Move ${spec.label.toLowerCase()} ${itemIndex + 1} down`,
        onclick: () => moveItem(sectionIndex, itemIndex, itemIndex + 1),
      }, "↓ Down"),
      h("button", {
        type: "button",
        class: "danger quiet",
        "aria-label": `Remove ${spec.label.toLowerCase()} ${itemIndex + 1}`,
        onclick: () => {
          section.items.splice(itemIndex, 1);
          const next = section.items[Math.min(itemIndex, section.items.length - 1)];
          rerender(next ? `item:${keyOf(next)}:handle` : `section:${section.kind}:add-item`);
          say(`Removed ${spec.label.toLowerCase()} ${itemIndex + 1}.`);
        },
      }, "Remove"))
    : null;
  replace(li,
    h("div", { role: "group", "aria-labelledby": headingId },
      h("div", { class: "item-head" }, h("h3", { id: headingId }, `${spec.label} ${itemIndex + 1}`), tools),
      h("p", { class: "field-error", dataset: { errorFor: pointerOf(base) }, hidden: true }),
      spec.fields.map((f) => control([...base, f.name], f, item[f.name]))));
  if (editable) {
    li.addEventListener("keydown", (event) => {
      if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
      event.preventDefault();
      moveItem(sectionIndex, itemIndex, itemIndex + (event.key === "ArrowUp" ? -1 : 1));
    });
    li.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/x-lamina-item", `${sectionIndex}:${itemIndex}`);
      event.dataTransfer.effectAllowed = "move";
      li.classList.add("dragging");
    });
    li.addEventListener("dragend", () => li.classList.remove("dragging"));
    li.addEventListener("dragover", (event) => {
      if (event.dataTransfer.types.includes("text/x-lamina-item")) {
        event.preventDefault();
        li.classList.add("drop-target");
      }
    });
    li.addEventListener("dragleave", () => li.classList.remove("drop-target"));
    li.addEventListener("drop", (event) => {
      event.preventDefault();
      li.classList.remove("drop-target");
      const [fromSection, from] = (event.dataTransfer.getData("text/x-lamina-item") || "").split(":").map(Number);
      if (fromSection === sectionIndex && Number.isInteger(from)) moveItem(sectionIndex, from, itemIndex);
    });
  }
  return li;
}

function sectionEditor(sectionIndex) {
  const section = ed.draft.sections[sectionIndex];
  const spec = KINDS[section.kind];
  const path = ["sections", sectionIndex];
  const headingId = uid("section");
  const editable = session.canEdit;
  const count = ed.draft.sections.length;
  const moveSection = (to) => {
    if (move(ed.draft.sections, sectionIndex, to)) {
      rerender(`section:${section.kind}:${to < sectionIndex ? "up" : "down"}`);
      say(`Moved “${spec.label}” to position ${to + 1} of ${count}.`);
    }
  };
  const tools = editable
    ? h("div", { class: "section-tools" },
      h("button", { type: "button", disabled: sectionIndex === 0, dataset: { focus: `section:${section.kind}:up` }, "aria-label": `Move section ${spec.label} up`, onclick: () => moveSection(sectionIndex - 1) }, "↑ Up"),
      h("button", { type: "button", disabled: sectionIndex === count - 1, dataset: { focus: `section:${section.kind}:down` }, "aria-label": `Move section ${spec.label} down`, onclick: () => moveSection(sectionIndex + 1) }, "↓ Down"),
      h("button", {
        type: "button",
        class: "danger quiet",
        "aria-label": `Remove section ${spec.label}`,
        onclick: async () => {
          if (!(await confirmDialog(`Remove “${spec.label}”?`, "The section and its items leave the article when you save.", "Remove section"))) return;
          ed.draft.sections.splice(sectionIndex, 1);
          rerender("add-section");
        },
      }, "Remove section"))
    : null;
  const items = spec.items
    ? [
      h("ol", { class: "items", dataset: { pointer: pointerOf([...path, "items"]) }, "aria-label": `${spec.items.label}s` },
        section.items.map((_, i) => itemEditor(sectionIndex, i))),
      h("p", { class: "field-error", dataset: { errorFor: pointerOf([...path, "items"]) }, hidden: true }),
      editable
        ? h("button", {
          type: "button",
          dataset: { focus: `section:${section.kind}:add-item` },
          onclick: () => {
            const item = emptyItem(section.kind);
            section.items.push(item);
            rerender(`${["sections", sectionIndex, "items", section.items.length - 1, spec.items.fields[spec.items.fields[0].type === "phase" ? 1 : 0].name].join(".")}`);
          },
        }, `Add ${spec.items.label.toLowerCase()}`)
        : null,
    ]
    : null;
  return h("section", {
    class: "section-editor",
    dataset: { pointer: pointerOf(path), kind: section.kind },
    "aria-labelledby": headingId,
  },
  h("div", { class: "section-head" }, h("h2", { id: headingId }, spec.label), tools),
  h("p", { class: "field-error", dataset: { errorFor: pointerOf(path) }, hidden: true }),
  spec.fields.map((f) => control([...path, f.name], f, section[f.name])),
  spec.phaseHeadings ? h("fieldset", { class: "phase-headings" }, h("legend", {}, "Phase headings"), PHASES.map((p) => phaseHeading(sectionIndex, p))) : null,
  items);
}

function renderForm() {
  const form = document.getElementById("article-form");
  if (!form) return;
  const present = new Set(ed.draft.sections.map((s) => s.kind));
  const missing = Object.keys(KINDS).filter((k) => !present.has(k));
  const kindSelect = h("select", { id: "add-section-kind" }, missing.map((k) => h("option", { value: k }, KINDS[k].label)));
  replace(
    form,
    h("fieldset", { class: "meta" },
      h("legend", {}, "Article"),
      field("Slug (URL name)", h("input", { type: "text", value: ed.slug, readonly: true })),
      META.map((f) => control([f.name], f, ed.draft[f.name]))),
    h("p", { class: "field-error", dataset: { errorFor: "/sections" }, hidden: true }),
    ed.draft.sections.map((_, i) => sectionEditor(i)),
    session.canEdit && missing.length > 0
      ? h("div", { class: "add-section" },
        field("Section kind to add", kindSelect),
        h("button", {
          type: "button",
          dataset: { focus: "add-section" },
          onclick: () => {
            ed.draft.sections.push(emptySection(kindSelect.value));
            rerender(`sections.${ed.draft.sections.length - 1}.heading`);
          },
        }, "Add section"))
      : null,
  );
}

async function renderPreview() {
  const target = document.getElementById("preview-body");
  const mode = document.getElementById("preview-mode")?.value || "edit";
  if (!target || !ed) return;
  if (mode === "edit") {
    replace(target, renderArticle(ed.draft, 3));
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

function clearErrors() {
  for (const element of document.querySelectorAll("[aria-invalid]")) {
    element.removeAttribute("aria-invalid");
    const described = (element.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-error"));
    if (described.length) element.setAttribute("aria-describedby", described.join(" "));
    else element.removeAttribute("aria-describedby");
  }
  for (const element of document.querySelectorAll(".field-error")) {
    element.hidden = true;
    element.textContent = "";
  }
  const summary = document.getElementById("form-errors");
  if (summary) {
    summary.hidden = true;
    summary.replaceChildren();
  }
}

/** Shows each problem at the field its pointer names (or the nearest enclosing part) and focuses the first. */
export function showFieldErrors(errors, title = "The article was not saved") {
  clearErrors();
  const summary = document.getElementById("form-errors");
  const list = h("ul", {});
  let first = null;
  for (const { pointer, message } of errors) {
    let at = pointer;
    let target = null;
    for (;;) {
      target = document.querySelector(`[data-pointer="${CSS.escape(at)}"]`);
      if (target || at === "") break;
      at = at.slice(0, at.lastIndexOf("/"));
    }
    let focusable = null;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
      const error = document.getElementById(`${target.id}-error`);
      error.textContent = message;
      error.hidden = false;
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", [target.getAttribute("aria-describedby"), error.id].filter(Boolean).join(" "));
      focusable = target;
    } else if (target) {
      const slot = document.querySelector(`[data-error-for="${CSS.escape(at)}"]`);
      if (slot) {
        slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
        slot.hidden = false;
      }
      focusable = target.querySelector("input, textarea, select, button");
    }
    if (focusable && (!first || (first.compareDocumentPosition(focusable) & Node.DOCUMENT_POSITION_PRECEDING))) first = focusable;
    const label = focusable?.id ? document.querySelector(`label[for="${focusable.id}"]`)?.textContent : null;
    list.append(h("li", {}, focusable
      ? h("a", { href: `#${focusable.id}`, onclick: (event) => { event.preventDefault(); focusable.focus(); } }, `${label || pointer}: ${message}`)
      : `${pointer || "The article"}: ${message}`));
  }
  if (summary) {
    summary.append(h("h2", {}, `${title}: ${errors.length} problem${errors.length === 1 ? "" : "s"}`), list);
    summary.hidden = false;
  }
  focusSoon(first || summary);
  say(`${title}: fix the marked fields.`, "error");
}

/**
 * Runs a write with the form inert (nothing can be typed while the request is
 * in flight, so nothing typed is lost when the answer re-renders it) and
 * refuses a second one meanwhile.
 */
async function busy(work) {
  if (!ed || ed.busy) return;
  const mine = ed;
  mine.busy = true;
  focusAfterWrite = null;
  const root = document.getElementById("editor-root");
  const focused = document.activeElement;
  const focus = focused?.id || focused?.dataset?.focus;
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
        : focus && (document.getElementById(focus) || document.querySelector(`[data-focus="${CSS.escape(focus)}"]`));
      (again || document.getElementById("save"))?.focus();
    }
    focusAfterWrite = null;
  }
}

function applyRead(data, etag) {
  ed.article = data;
  ed.etag = etag;
  ed.base = toWrite(data);
  ed.draft = clone(ed.base);
}

async function save() {
  if (ed?.release && !(await confirmDialog(
    "Make this live now?",
    `You are editing what the release “${ed.release.title}” stages. Saving makes it live now and takes it out of the release.`,
    "Save live", "Cancel",
  ))) {
    document.getElementById("save")?.focus();
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
      const { data, etag } = await put(articlePath(mine.slug), toBody(mine.draft), { ifMatch: mine.etag || undefined });
      if (ed !== mine) return;
      applyRead(data, etag);
      ed.staged = null;
      let note = "";
      if (ed.release) {
        note = await unstageAll(ed.release) ? ` It left the release “${ed.release.title}”.` : ` It is still staged in “${ed.release.title}”: unstage it there.`;
        ed.release = null;
      }
      renderHead();
      rerender();
      focusSoon(document.getElementById("save"));
      say(`Saved version ${data.version}.${note}`);
    } catch (error) {
      if (ed !== mine) return;
      if (error.status === 422 || error.status === 409) showFieldErrors(error.errors.length ? error.errors : [{ pointer: "", message: error.message }]);
      else if (error.status === 412) await conflict(save);
      else say(`Not saved: ${error.message}`, "error");
    }
  });
}

/** Takes the article (and its sections) out of `release`; true if all went. */
async function unstageAll(release, { sectionsOnly = false } = {}) {
  const base = `/v1/releases/${encodeURIComponent(release.id)}/articles/${encodeURIComponent(ed.slug)}`;
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
 * The 412 view: theirs beside mine, field by field, and what applying mine on
 * top gives; apply (then `then`, the save or stage that met the conflict), or
 * discard mine (kept, to bring back).
 */
async function conflict(then) {
  const owner = ed;
  let theirs;
  try {
    theirs = await get(articlePath(ed.slug));
  } catch (error) {
    if (ed !== owner) return;
    if (error.status === 404) {
      // Saving creates it again: as new items, since the old ids went with it.
      ed.draft = withoutItemIds(ed.draft);
      ed.base = withoutItemIds(ed.base);
      ed.etag = null;
      ed.article = null;
      renderHead();
      rerender();
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
  const theirsWrite = toWrite(theirs.data);
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
  const table = h("table", {},
    h("caption", {}, "Fields that differ between the server and your edit"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Field"),
      h("th", { scope: "col" }, `On the server now (version ${theirs.data.version})`),
      h("th", { scope: "col" }, "Your unsaved edit"),
      h("th", { scope: "col" }, "After “apply mine on top”"))),
    h("tbody", {}, rows.map((row) => {
      const both = mineChanged.has(row.key) && theirsChanged.has(row.key);
      const note = both ? "both changed" : mineChanged.has(row.key) ? "you changed" : "they changed";
      // What applying gives: theirs unless the merge differs from theirs there.
      const after = result.has(row.key) ? result.get(row.key) : row.a;
      return h("tr", { class: both ? "both" : mineChanged.has(row.key) ? "mine" : "theirs" },
        h("th", { scope: "row" }, row.label, h("span", { class: "why" }, ` (${note})`)),
        h("td", { class: "theirs" }, show(row.a)),
        h("td", { class: "mine" }, show(row.b)),
        h("td", { class: "merged" }, show(after)));
    })));
  const apply = h("button", {
    type: "button",
    class: "primary",
    onclick: async () => {
      close();
      if (ed !== owner) return;
      ed.stale = false;
      ed.baseVersion = null;
      ed.draft = merged;
      ed.article = theirs.data;
      ed.base = theirsWrite;
      ed.etag = theirs.etag;
      renderHead();
      rerender();
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
      renderHead();
      rerender();
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

function renderHead() {
  const head = document.getElementById("editor-head");
  if (!head) return;
  const editable = session.canEdit;
  const releaseSelect = h("select", { id: "stage-release" },
    (ed.releases || []).filter((r) => r.state === "open" || r.state === "scheduled").map((r) => h("option", { value: r.id, selected: r.id === ed.release?.id }, `${r.title} (${r.state})`)));
  replace(head,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Articles"), " › ", ed.slug),
    h("h1", { id: "editor-title" }, ed.draft.title || ed.slug),
    h("p", { id: "counts", class: "counts" }),
    h("div", { class: "toolbar" },
      editable ? h("button", { type: "button", id: "save", class: "primary", onclick: save }, "Save") : h("span", { class: "badge" }, "Read only (preview token)"),
      editable ? h("a", { class: "button", href: `#/a/${encodeURIComponent(ed.slug)}/revisions` }, "Revisions") : null,
      ed.discarded
        ? h("button", {
          type: "button",
          onclick: () => {
            // Mine again, on top of what is current now (their changes stay).
            ed.draft = mergeOnTop(ed.discarded.base, ed.discarded.draft, ed.draft);
            ed.discarded = null;
            renderHead();
            rerender();
            document.getElementById("save")?.focus();
            say("Your discarded edit is back, on top of the current one (not saved).");
          },
        }, "Bring back my discarded edit")
        : null,
      editable ? h("button", { type: "button", class: "danger quiet", onclick: deleteArticle }, "Delete article") : null),
    editable && ed.releases?.length
      ? h("div", { class: "toolbar release-bar" },
        field("Release", releaseSelect),
        h("button", { type: "button", id: "stage", onclick: () => stage(releaseSelect.value) }, "Stage this edit in the release"))
      : null);
  updateCounts();
}

function stage(releaseId) {
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
    await put(`/v1/releases/${encodeURIComponent(releaseId)}/articles/${encodeURIComponent(ed.slug)}`, body, { ifMatch: ed.etag || undefined });
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
    const mode = document.getElementById("preview-mode");
    if (mode) {
      mode.value = releaseId;
      renderPreview();
    }
  } catch (error) {
    if (ed !== mine) return;
    if (error.status === 422) showFieldErrors(error.errors, "Not staged");
    else if (error.status === 412) await conflict(again);
    else say(`Not staged: ${error.message}`, "error");
  }
}

async function deleteArticle() {
  if (!(await confirmDialog(`Delete “${ed.draft.title || ed.slug}”?`, "The article leaves the API for everyone. Its revisions stay and can restore it.", "Delete article"))) return;
  try {
    await del(articlePath(ed.slug), { ifMatch: ed.etag });
    ed = null;
    say("Deleted.");
    location.hash = "#/";
  } catch (error) {
    say(error.status === 412 ? "Not deleted: someone changed the article meanwhile; reload it first." : `Not deleted: ${error.message}`, "error");
  }
}

/** Opens the editor on `slug` in `main`; `release` preselects a release preview. */
export async function openEditor(main, slug, release) {
  replace(main, h("p", { class: "loading" }, "Loading…"));
  let read = null;
  try {
    read = await get(articlePath(slug));
  } catch (error) {
    if (!(error.status === 404 && release)) {
      replace(main, h("h1", {}, "Article not found"), h("p", {}, error.message), h("a", { href: "#/" }, "Back to the articles"));
      return;
    }
  }
  ed = {
    slug, article: null, etag: null, base: null, draft: null, discarded: null, staged: null,
    busy: false, releases: [], release: null, stale: false, baseVersion: null,
  };
  if (read) applyRead(read.data, read.etag);
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
  replace(main,
    h("div", { class: "editor-layout", id: "editor-root" },
      h("section", { class: "editor", "aria-labelledby": "editor-title" },
        h("div", { id: "editor-head", class: "editor-head" }),
        h("div", { id: "form-errors", class: "form-errors", tabindex: "-1", hidden: true, role: "alert" }),
        h("form", { id: "article-form", novalidate: true, "aria-labelledby": "editor-title", onsubmit: (event) => { event.preventDefault(); save(); } })),
      h("aside", { class: "preview", "aria-labelledby": "preview-title" },
        h("h2", { id: "preview-title" }, "Reader’s preview"),
        field("Show", modeSelect),
        h("div", { id: "preview-body", class: "preview-body" }))));
  renderHead();
  renderForm();
  updateCounts();
  renderPreview();
  if (notice) say(notice);
  if (ed.stale) await conflict(() => say("Merged: “Stage this edit” puts it in the release."));
}

/**
 * Opened from a release that stages this article: the editor holds the staged
 * copy (items new in the release carry ids of a preview only: they go as new
 * items). If the live article changed since it was staged, the copy's base is
 * the revision it was staged on, and the conflict view comes first. Returns
 * what to tell the editor.
 */
async function openStaged(slug, releaseId, read) {
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

/** The "new article" form: creates a draft with no sections (PUT without If-Match), then opens it. */
export function newArticle(main) {
  const today = new Date().toISOString().slice(0, 10);
  const inputs = {
    slug: h("input", { type: "text", dataset: { pointer: "/slug" }, autocomplete: "off", pattern: "[a-z0-9]+(-[a-z0-9]+)*", required: true }),
    title: h("input", { type: "text", dataset: { pointer: "/title" }, autocomplete: "off", required: true }),
    author: h("input", { type: "text", dataset: { pointer: "/author" }, autocomplete: "off", required: true }),
    published_on: h("input", { type: "date", dataset: { pointer: "/published_on" }, value: today, required: true }),
    summary: h("textarea", { dataset: { pointer: "/summary" }, rows: 3, required: true }),
  };
  const form = h("form", {
    class: "new-article",
    novalidate: true,
    "aria-labelledby": "new-title",
    onsubmit: async (event) => {
      event.preventDefault();
      const slug = inputs.slug.value.trim();
      const body = {
        title: inputs.title.value,
        author: inputs.author.value,
        published_on: inputs.published_on.value,
        status: "draft",
        summary: inputs.summary.value,
        sections: [],
      };
      clearErrors();
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug) || slug.length > 100) {
        showFieldErrors([{ pointer: "/slug", message: "lower-case letters, digits and single hyphens, at most 100 characters" }], "Not created");
        return;
      }
      try {
        await put(articlePath(slug), body);
        say(`Created the draft “${body.title}”.`);
        location.hash = `#/a/${encodeURIComponent(slug)}`;
      } catch (error) {
        if (error.status === 428 || error.status === 412) showFieldErrors([{ pointer: "/slug", message: "an article with this slug exists already" }], "Not created");
        else if (error.status === 422) showFieldErrors(error.errors, "Not created");
        else say(`Not created: ${error.message}`, "error");
      }
    },
  },
  h("div", { id: "form-errors", class: "form-errors", tabindex: "-1", hidden: true, role: "alert" }),
  field("Slug (URL name)", inputs.slug, "Lower-case letters, digits and hyphens, e.g. chemical-peels-explained."),
  field("Title", inputs.title),
  field("Author", inputs.author),
  field("Publication date", inputs.published_on),
  field("Summary (lead paragraph)", inputs.summary),
  h("div", { class: "toolbar" }, h("button", { type: "submit", class: "primary" }, "Create draft"), h("a", { class: "button", href: "#/" }, "Cancel")));
  replace(main, h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Articles"), " › New"), h("h1", { id: "new-title" }, "New article"), form);
  inputs.slug.focus();
  ed = null;
}


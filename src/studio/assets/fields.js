// The form's fields: a control bound to a place in the draft (by its JSON
// pointer, which is also where the server's 422 problems point), and those
// problems shown at their fields with a summary at the top.

import { session } from "./api.js";
import { field, h, say } from "./dom.js";
import { PHASES, PHASE_LABELS } from "./model.js";
import { changed, ed, focusSoon, rerender } from "./editing.js";
import { markOf, sourceText } from "./locale.js";

/** Fields that hold the same value in every locale (API.md §13): read only in a translation. */
const SHARED = new Set(["author"]);

/**
 * In a translation: the hint under a text field, the default locale's text
 * and whether this one is missing or outdated (the mark "Next untranslated" jumps to).
 */
function translationHint(element, path) {
  if (!ed?.locale) return null;
  const mark = markOf(pointerOf(path));
  const source = sourceText(path);
  if (mark) element.dataset.mark = mark;
  // Typing a translation takes the mark off.
  element.addEventListener("input", () => element.removeAttribute("data-mark"), { once: true });
  if (!mark && source === null) return null;
  const note = mark === "missing" ? "Untranslated." : mark === "outdated" ? "Outdated: the original changed since this was translated." : "";
  return h("span", {}, note ? h("strong", { class: `mark ${mark}` }, note) : null, note && source !== null ? " " : null,
    source !== null ? ["Original: ", h("span", { lang: ed.source?.locale || null, class: "source-text" }, source)] : null);
}

/** The JSON pointer of `path` (["sections", 2, "heading"] → "/sections/2/heading"). */
export const pointerOf = (path) => `/${path.join("/")}`;

/** The value at `path` in `object` (undefined where the path leaves it). */
export function getAt(object, path) {
  return path.reduce((value, key) => (value == null ? undefined : value[key]), object);
}

/** Sets the value at `path` in `object`. */
export function setAt(object, path, value) {
  const parent = getAt(object, path.slice(0, -1));
  parent[path[path.length - 1]] = value;
}

/**
 * A one-line text box that wraps a long line instead of cutting it off (a
 * textarea the stylesheet sizes to its text). As in a text input, Enter adds
 * no line break (it submits a form that has a submit button), and pasted line
 * breaks become spaces.
 */
export function lineBox(attributes, value) {
  const box = h("textarea", { ...attributes, class: "line", rows: 1, autocomplete: "off" }, value ?? "");
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    [...(box.form?.elements || [])].find((element) => element.type === "submit" && !element.disabled)?.click();
  });
  box.addEventListener("input", () => {
    if (/[\r\n]/.test(box.value)) box.value = box.value.replace(/\r\n?|\n/g, " ");
  });
  return box;
}

/** A form control bound to `path` in the draft. */
export function control(path, spec, value) {
  const translating = Boolean(ed?.locale);
  const textual = spec.type === "text" || spec.type === "line";
  const readOnly = !session.canEdit || (translating && (!textual || SHARED.has(spec.name)));
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
  } else if (spec.type === "line") {
    element = lineBox({ ...common, readonly: readOnly }, value);
  } else {
    element = h("input", { ...common, type: "date", value: value ?? "", readonly: readOnly, autocomplete: "off" });
  }
  element.addEventListener(spec.type === "phase" || spec.type === "status" ? "change" : "input", () => {
    let next = element.value;
    // In a translation, an emptied text is untranslated (null: it falls back).
    if ((spec.optional || translating) && next.trim() === "") next = null;
    setAt(ed.draft, path, next);
    // An item's new phase moves it to that phase's group.
    if (spec.type === "phase") rerender(path.join("."));
    else changed();
  });
  const hint = translating && textual && !SHARED.has(spec.name) ? translationHint(element, path) : null;
  // Required fields are marked (the stylesheet's mark; screen readers hear aria-required).
  if (!spec.optional && !translating && !readOnly) element.setAttribute("aria-required", "true");
  return field(spec.optional && !translating ? `${spec.label} (optional)` : spec.label, element, hint);
}

/** A phase heading control; `phase_headings` is null when all three are empty. */
export function phaseHeading(sectionIndex, phase) {
  const section = ed.draft.sections[sectionIndex];
  const path = ["sections", sectionIndex, "phase_headings", phase];
  const input = lineBox({
    readonly: !session.canEdit,
    dataset: { pointer: pointerOf(path), focus: path.join(".") },
  }, section.phase_headings?.[phase]);
  const hint = translationHint(input, path);
  input.addEventListener("input", () => {
    const headings = ed.draft.sections[sectionIndex].phase_headings || { before: null, during: null, after: null };
    headings[phase] = input.value.trim() === "" ? null : input.value;
    ed.draft.sections[sectionIndex].phase_headings = PHASES.some((p) => headings[p] !== null) ? headings : null;
    changed();
  });
  return field(`${PHASE_LABELS[phase]} heading (optional)`, input, hint);
}

/** Takes every problem off the fields and the summary. */
export function clearErrors() {
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
    // A folded section holding a problem unfolds.
    const body = target?.closest(".section-body");
    if (body?.hidden) {
      body.hidden = false;
      const kind = body.closest(".section-editor")?.dataset.kind;
      ed.collapsed?.delete(kind);
      body.closest(".section-editor")?.querySelector(".fold")?.setAttribute("aria-expanded", "true");
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
    // Named where it is: "Risks › Avoid the sun › Title", not "Title" among 25.
    const label = focusable?.id ? document.querySelector(`label[for="${focusable.id}"]`)?.textContent : null;
    const where = [
      target?.closest(".section-editor")?.querySelector(".fold")?.firstChild?.textContent,
      target?.closest("li.item")?.querySelector("h3")?.textContent,
      label,
    ].filter(Boolean).join(" › ");
    list.append(h("li", {}, focusable
      ? h("a", { href: `#${focusable.id}`, onclick: (event) => { event.preventDefault(); focusable.focus(); } }, `${where || pointer}: ${message}`)
      : `${pointer || "The article"}: ${message}`));
  }
  if (summary) {
    summary.append(h("h2", {}, `${title}: ${errors.length} problem${errors.length === 1 ? "" : "s"}`), list);
    summary.hidden = false;
  }
  focusSoon(first || summary);
  say(`${title}: fix the marked fields.`, "error");
}

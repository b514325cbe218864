// The article's form: its metadata, then each section with its own fields,
// phase headings and items; sections added, removed and reordered.

import { session } from "./api.js";
import { confirmDialog, field, h, replace, say, uid } from "./dom.js";
import { KINDS, META, PHASES, emptySection } from "./model.js";
import { ed, rerender } from "./editing.js";
import { control, lineBox, phaseHeading, pointerOf } from "./fields.js";
import { itemList, move } from "./items.js";

function sectionEditor(sectionIndex) {
  const section = ed.draft.sections[sectionIndex];
  const spec = KINDS[section.kind];
  const path = ["sections", sectionIndex];
  const headingId = uid("section");
  const count = ed.draft.sections.length;
  const moveSection = (to) => {
    if (move(ed.draft.sections, sectionIndex, to)) {
      rerender(`section:${section.kind}:${to < sectionIndex ? "up" : "down"}`);
      say(`Moved “${spec.label}” to position ${to + 1} of ${count}.`);
    }
  };
  const tools = session.canEdit
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
  return h("section", {
    class: "section-editor",
    dataset: { pointer: pointerOf(path), kind: section.kind },
    "aria-labelledby": headingId,
  },
  h("div", { class: "section-head" }, h("h2", { id: headingId }, spec.label), tools),
  h("p", { class: "field-error", dataset: { errorFor: pointerOf(path) }, hidden: true }),
  spec.fields.map((f) => control([...path, f.name], f, section[f.name])),
  spec.phaseHeadings ? h("fieldset", { class: "phase-headings" }, h("legend", {}, "Phase headings"), PHASES.map((p) => phaseHeading(sectionIndex, p))) : null,
  itemList(sectionIndex));
}

/** Draws the form (#article-form) from the draft. */
export function renderForm() {
  const form = document.getElementById("article-form");
  if (!form) return;
  const present = new Set(ed.draft.sections.map((s) => s.kind));
  const missing = Object.keys(KINDS).filter((k) => !present.has(k));
  const kindSelect = h("select", { id: "add-section-kind" }, missing.map((k) => h("option", { value: k }, KINDS[k].label)));
  replace(
    form,
    h("fieldset", { class: "meta" },
      h("legend", {}, "Article"),
      field("Slug (URL name)", lineBox({ readonly: true }, ed.slug)),
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

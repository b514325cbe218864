// The article's form: its metadata, then each section with its own fields,
// phase headings and items; sections added, removed and reordered.

import { session } from "./api.js";
import { confirmDialog, field, h, replace, say, uid } from "./dom.js";
import { KINDS, META, PHASES, emptySection } from "./model.js";
import { ed, rerender } from "./editing.js";
import { control, lineBox, phaseHeading, pointerOf } from "./fields.js";
import { addItemButton, itemList, move } from "./items.js";
import { imageField } from "./image-picker.js";

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
  const bodyId = `section-body-${section.kind}`;
  const collapsed = ed.collapsed.has(section.kind);
  // A translation edits text only: the structure is the default locale's.
  const tools = session.canEdit && !ed.locale
    ? h("div", { class: "section-tools" },
      addItemButton(sectionIndex),
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
  const items = section.items?.length;
  // The heading is a button that folds the section away (its fields stay in the draft).
  const toggle = h("button", {
    type: "button",
    class: "fold",
    "aria-expanded": String(!collapsed),
    "aria-controls": bodyId,
    dataset: { focus: `section:${section.kind}:fold` },
    onclick: () => {
      if (ed.collapsed.has(section.kind)) ed.collapsed.delete(section.kind);
      else ed.collapsed.add(section.kind);
      const folded = ed.collapsed.has(section.kind);
      toggle.setAttribute("aria-expanded", String(!folded));
      document.getElementById(bodyId).hidden = folded;
    },
  }, spec.label, items ? h("span", { class: "count" }, ` (${items})`) : null);
  return h("section", {
    class: "section-editor",
    id: `section-${section.kind}`,
    tabindex: "-1",
    dataset: { pointer: pointerOf(path), kind: section.kind },
    "aria-labelledby": headingId,
  },
  h("div", { class: "section-head" }, h("h2", { id: headingId }, toggle), tools),
  h("div", { id: bodyId, class: "section-body", hidden: collapsed },
    h("p", { class: "field-error", dataset: { errorFor: pointerOf(path) }, hidden: true }),
    spec.fields.map((f) => control([...path, f.name], f, section[f.name])),
    spec.phaseHeadings ? h("fieldset", { class: "phase-headings" }, h("legend", {}, "Phase headings"), PHASES.map((p) => phaseHeading(sectionIndex, p))) : null,
    itemList(sectionIndex)));
}

/** Opens (unfolds) the section of `kind` and moves focus to it, as a jump from the outline. */
function jumpTo(kind) {
  ed.collapsed.delete(kind);
  const target = document.getElementById(kind ? `section-${kind}` : "article-meta");
  if (!target) return;
  const body = target.querySelector(".section-body");
  if (body) body.hidden = false;
  target.querySelector(".fold")?.setAttribute("aria-expanded", "true");
  target.focus();
}

/** The outline (#outline): a link to each part of the form, and folding all sections at once. */
function renderOutline() {
  const outline = document.getElementById("outline");
  if (!outline) return;
  const link = (kind, label) => h("li", {}, h("a", {
    href: `#${kind ? `section-${kind}` : "article-meta"}`,
    onclick: (event) => {
      event.preventDefault();
      jumpTo(kind);
    },
  }, label));
  const fold = (collapse) => () => {
    for (const s of ed.draft.sections) {
      if (collapse) ed.collapsed.add(s.kind);
      else ed.collapsed.delete(s.kind);
    }
    rerender(collapse ? "outline:fold" : "outline:unfold");
  };
  replace(outline,
    h("h2", { class: "outline-title" }, "Outline"),
    h("ol", {},
      link(null, "Article"),
      ed.draft.sections.map((s) => link(s.kind, `${KINDS[s.kind].label}${s.items?.length ? ` (${s.items.length})` : ""}`))),
    h("div", { class: "outline-tools" },
      h("button", { type: "button", class: "quiet", dataset: { focus: "outline:fold" }, onclick: fold(true) }, "Collapse all"),
      h("button", { type: "button", class: "quiet", dataset: { focus: "outline:unfold" }, onclick: fold(false) }, "Expand all")));
}

/** Draws the form (#article-form) from the draft. */
export function renderForm() {
  const form = document.getElementById("article-form");
  if (!form) return;
  const present = new Set(ed.draft.sections.map((s) => s.kind));
  const missing = Object.keys(KINDS).filter((k) => !present.has(k));
  const kindSelect = h("select", { id: "add-section-kind" }, missing.map((k) => h("option", { value: k }, KINDS[k].label)));
  renderOutline();
  replace(
    form,
    session.canEdit && !ed.locale ? h("p", { class: "required-note" }, "Fields marked * are required.") : null,
    h("fieldset", { class: "meta", id: "article-meta", tabindex: "-1" },
      h("legend", {}, "Article"),
      field("Slug (URL name)", lineBox({ readonly: true }, ed.slug)),
      META.map((f) => control([f.name], f, ed.draft[f.name])),
      imageField(["hero_image"], "Hero image")),
    h("p", { class: "field-error", dataset: { errorFor: "/sections" }, hidden: true }),
    ed.draft.sections.map((_, i) => sectionEditor(i)),
    session.canEdit && !ed.locale && missing.length > 0
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

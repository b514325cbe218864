// A section's list of items: each item's fields, and adding, removing and
// reordering them with the buttons, Alt+Arrow Up / Alt+Arrow Down, or drag
// and drop. Focus follows the moved item and the move is announced.

import { session } from "./api.js";
import { dropTarget, h, replace, say, uid } from "./dom.js";
import { KINDS, PHASES, PHASE_LABELS, emptyItem, keyOf } from "./model.js";
import { ed, rerender } from "./editing.js";
import { control, pointerOf } from "./fields.js";
import { imageField } from "./image-picker.js";

/** Moves `list[from]` to `to`; false when there is nothing to move. */
export function move(list, from, to) {
  if (to < 0 || to >= list.length || from === to) return false;
  const [item] = list.splice(from, 1);
  list.splice(to, 0, item);
  return true;
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

/** What an item's heading says: its title (or the start of its text), else "Tip 3". */
function itemName(spec, item, itemIndex) {
  const text = (item.title || item.description || "").trim();
  if (!text) return `${spec.label} ${itemIndex + 1}`;
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Whether a kind's items are grouped by phase (expectations), as the reader sees them. */
const phased = (spec) => spec.fields.some((f) => f.type === "phase");

/**
 * The item before and after item `itemIndex` as the editor shows them: the
 * neighbours in the list, or, where items are grouped by phase, the
 * neighbours of the same phase (-1 when there is none).
 */
function neighbours(section, itemIndex) {
  const spec = KINDS[section.kind].items;
  const items = section.items;
  if (!phased(spec)) return { before: itemIndex - 1, after: itemIndex + 1 < items.length ? itemIndex + 1 : -1 };
  const phase = items[itemIndex].phase;
  let before = -1;
  for (let i = itemIndex - 1; i >= 0; i -= 1) if (items[i].phase === phase) { before = i; break; }
  const after = items.findIndex((item, i) => i > itemIndex && item.phase === phase);
  return { before, after };
}

function itemEditor(sectionIndex, itemIndex) {
  const section = ed.draft.sections[sectionIndex];
  const spec = KINDS[section.kind].items;
  const item = section.items[itemIndex];
  const key = keyOf(item);
  const near = neighbours(section, itemIndex);
  const base = ["sections", sectionIndex, "items", itemIndex];
  const headingId = uid("item");
  const editable = session.canEdit && !ed.locale;
  // Up or down one place (to `to`; disabled at the end of the list).
  const moveButton = (direction, to, text) => h("button", {
    type: "button",
    disabled: to < 0,
    dataset: { focus: `item:${key}:${direction}` },
    "aria-label": `Move ${spec.label.toLowerCase()} ${itemIndex + 1} ${direction}`,
    onclick: () => moveItem(sectionIndex, itemIndex, to),
  }, text);
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
      moveButton("up", near.before, "↑ Up"),
      moveButton("down", near.after, "↓ Down"),
      h("button", {
        type: "button",
        class: "danger quiet",
        "aria-label": `Remove ${spec.label.toLowerCase()} ${itemIndex + 1}`,
        onclick: () => {
          // Removed at once, with Undo in the status line (as a removed section can be brought back by not saving).
          const [removed] = section.items.splice(itemIndex, 1);
          const next = section.items[Math.min(itemIndex, section.items.length - 1)];
          rerender(next ? `item:${keyOf(next)}:handle` : `section:${section.kind}:add-item`);
          say(`Removed ${spec.label.toLowerCase()} ${itemIndex + 1}${removed.title ? ` “${removed.title}”` : ""}.`, "info", {
            label: "Undo",
            run: () => {
              const now = ed?.draft.sections.find((s) => s.kind === section.kind);
              if (!now) return;
              now.items.splice(Math.min(itemIndex, now.items.length), 0, removed);
              rerender(`item:${keyOf(removed)}:handle`);
              say(`${spec.label} ${itemIndex + 1} is back.`);
            },
          });
        },
      }, "Remove"))
    : null;
  // The heading follows the title as it is typed.
  li.addEventListener("input", (event) => {
    if (event.target.name?.endsWith(".title") || event.target.name?.endsWith(".description")) {
      document.getElementById(headingId).textContent = itemName(spec, item, itemIndex);
    }
  });
  replace(li,
    h("div", { role: "group", "aria-labelledby": headingId },
      h("div", { class: "item-head" }, h("h3", { id: headingId }, itemName(spec, item, itemIndex)), tools),
      h("p", { class: "field-error", dataset: { errorFor: pointerOf(base) }, hidden: true }),
      spec.fields.map((f) => control([...base, f.name], f, item[f.name])),
      spec.image ? imageField([...base, "image"], "Image") : null));
  if (editable) {
    li.addEventListener("keydown", (event) => {
      if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
      event.preventDefault();
      const to = event.key === "ArrowUp" ? near.before : near.after;
      if (to >= 0) moveItem(sectionIndex, itemIndex, to);
    });
    li.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/x-lamina-item", `${sectionIndex}:${itemIndex}`);
      event.dataTransfer.effectAllowed = "move";
      li.classList.add("dragging");
    });
    li.addEventListener("dragend", () => li.classList.remove("dragging"));
    dropTarget(li, "text/x-lamina-item", (data) => {
      const [fromSection, from] = (data.getData("text/x-lamina-item") || "").split(":").map(Number);
      if (fromSection !== sectionIndex || !Number.isInteger(from) || !section.items[from]) return;
      // Dropped among another phase's items, it takes that phase.
      if (phased(spec) && section.items[from].phase !== item.phase) {
        section.items[from].phase = item.phase;
        if (from === itemIndex) return rerender();
      }
      moveItem(sectionIndex, from, itemIndex);
    });
  }
  return li;
}

/** The items of section `sectionIndex` and their problems' slot; null for a kind without items. Expectations come grouped by phase, each group with its own "Add". */
export function itemList(sectionIndex) {
  const section = ed.draft.sections[sectionIndex];
  const spec = KINDS[section.kind].items;
  if (!spec) return null;
  const path = ["sections", sectionIndex, "items"];
  const all = section.items.map((_, i) => i);
  const list = (indices, label) => h("ol", { class: "items", dataset: { pointer: pointerOf(path) }, "aria-label": label },
    indices.map((i) => itemEditor(sectionIndex, i)));
  if (!phased(spec)) {
    return [list(all, `${spec.label}s`), h("p", { class: "field-error", dataset: { errorFor: pointerOf(path) }, hidden: true })];
  }
  return [
    PHASES.map((phase) => h("div", { class: "phase-group", dataset: { phase } },
      h("h3", { class: "phase-title" }, PHASE_LABELS[phase]),
      list(all.filter((i) => section.items[i].phase === phase), `${spec.label}s: ${PHASE_LABELS[phase].toLowerCase()}`),
      session.canEdit && !ed.locale ? addItemButton(sectionIndex, phase) : null)),
    h("p", { class: "field-error", dataset: { errorFor: pointerOf(path) }, hidden: true }),
  ];
}

/**
 * "Add …" for section `sectionIndex`; null without items. Given a `phase`,
 * the new item takes it and goes after that phase's last item; without one,
 * the button sits in the section's head (a few Tabs from the outline).
 */
export function addItemButton(sectionIndex, phase) {
  const section = ed.draft.sections[sectionIndex];
  const spec = KINDS[section.kind].items;
  if (!spec || !session.canEdit || ed.locale) return null;
  if (phased(spec) && !phase) return null;
  const path = ["sections", sectionIndex, "items"];
  const label = phase ? `Add ${spec.label.toLowerCase()} ${PHASE_LABELS[phase].toLowerCase()}` : `Add ${spec.label.toLowerCase()}`;
  return h("button", {
    type: "button",
    dataset: { focus: `section:${section.kind}:add-item${phase ? `:${phase}` : ""}` },
    onclick: () => {
      const item = emptyItem(section.kind);
      let at = section.items.length;
      if (phase) {
        item.phase = phase;
        // After the last item of its phase, or before the first of a later phase.
        const last = section.items.map((i) => i.phase).lastIndexOf(phase);
        const later = section.items.findIndex((i) => PHASES.indexOf(i.phase) > PHASES.indexOf(phase));
        at = last >= 0 ? last + 1 : later >= 0 ? later : section.items.length;
      }
      section.items.splice(at, 0, item);
      ed.collapsed.delete(section.kind);
      // Focus goes to the new item's first text field (past an expectation's phase).
      const first = spec.fields[spec.fields[0].type === "phase" ? 1 : 0].name;
      rerender([...path, at, first].join("."));
      say(`Added ${spec.label.toLowerCase()} ${at + 1} to “${KINDS[section.kind].label}”${phase ? `, ${PHASE_LABELS[phase].toLowerCase()}` : ""}.`);
    },
  }, label);
}

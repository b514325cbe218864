// A section's list of items: each item's fields, and adding, removing and
// reordering them with the buttons, Alt+Arrow Up / Alt+Arrow Down, or drag
// and drop. Focus follows the moved item and the move is announced.

import { session } from "./api.js";
import { h, replace, say, uid } from "./dom.js";
import { KINDS, emptyItem, keyOf } from "./model.js";
import { ed, rerender } from "./editing.js";
import { control, pointerOf } from "./fields.js";

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

function itemEditor(sectionIndex, itemIndex) {
  const section = ed.draft.sections[sectionIndex];
  const spec = KINDS[section.kind].items;
  const item = section.items[itemIndex];
  const key = keyOf(item);
  const count = section.items.length;
  const base = ["sections", sectionIndex, "items", itemIndex];
  const headingId = uid("item");
  const editable = session.canEdit && !ed.locale;
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

/** The items of section `sectionIndex` and their problems' slot; null for a kind without items. */
export function itemList(sectionIndex) {
  const section = ed.draft.sections[sectionIndex];
  const spec = KINDS[section.kind].items;
  if (!spec) return null;
  const path = ["sections", sectionIndex, "items"];
  return [
    h("ol", { class: "items", dataset: { pointer: pointerOf(path) }, "aria-label": `${spec.label}s` },
      section.items.map((_, i) => itemEditor(sectionIndex, i))),
    h("p", { class: "field-error", dataset: { errorFor: pointerOf(path) }, hidden: true }),
  ];
}

/** "Add …" for section `sectionIndex` (in its head, a few Tabs from the outline); null without items. */
export function addItemButton(sectionIndex) {
  const section = ed.draft.sections[sectionIndex];
  const spec = KINDS[section.kind].items;
  if (!spec || !session.canEdit || ed.locale) return null;
  const path = ["sections", sectionIndex, "items"];
  return h("button", {
    type: "button",
    dataset: { focus: `section:${section.kind}:add-item` },
    onclick: () => {
      section.items.push(emptyItem(section.kind));
      ed.collapsed.delete(section.kind);
      // Focus goes to the new item's first text field (past an expectation's phase).
      const first = spec.fields[spec.fields[0].type === "phase" ? 1 : 0].name;
      rerender([...path, section.items.length - 1, first].join("."));
      say(`Added ${spec.label.toLowerCase()} ${section.items.length} at the end of “${KINDS[section.kind].label}”.`);
    },
  }, `Add ${spec.label.toLowerCase()}`);
}

// Tiny DOM helpers: elements are built with h(), text is always text
// (never parsed as HTML), and the status line announces outcomes.

/** Creates an element: attributes, `on*` listeners, then children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      element.className = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "value" || name === "checked" || name === "selected") {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.appendChild(child);
    else element.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * A scrolling table of class `className` with its `caption`, a row of column
 * headings (text, or `{ text, class }` for a classed one) and then `body`.
 */
export function listTable(className, caption, columns, body) {
  const heading = (column) => typeof column === "string"
    ? h("th", { scope: "col" }, column)
    : h("th", { scope: "col", class: column.class }, column.text);
  return h("div", { class: "table-scroll" }, h("table", { class: className },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map(heading))),
    body));
}

/** Replaces an element's children. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let statusTimer = 0;
let saidAt = 0;

/** A new screen: what was said more than a moment ago (on the last screen) goes. */
export function clearOldNews() {
  const status = document.getElementById("status");
  if (status && performance.now() - saidAt > 1500) status.textContent = "";
}

/**
 * Says something in the status line (announced to screen readers). `action`
 * ({ label, run }) adds a button to it, e.g. Undo, for ten seconds.
 */
export function say(message, kind = "info", action = null) {
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = message;
  status.dataset.kind = kind;
  saidAt = performance.now();
  if (action) {
    status.append(" ", h("button", {
      type: "button",
      class: "quiet",
      onclick: () => {
        status.textContent = "";
        action.run();
      },
    }, action.label));
  }
  clearTimeout(statusTimer);
  if (kind !== "error") {
    statusTimer = setTimeout(() => {
      if (status.firstChild?.textContent === message) status.textContent = "";
    }, action ? 10000 : 6000);
  }
}

/** A unique id for label/aria wiring. */
let counter = 0;
export function uid(prefix = "f") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Makes `element` take drops of `type` (a drag data type, or "Files"), highlighted while one is over it. */
export function dropTarget(element, type, onDrop) {
  element.addEventListener("dragover", (event) => {
    if (!event.dataTransfer.types.includes(type)) return;
    event.preventDefault();
    element.classList.add("drop-target");
  });
  element.addEventListener("dragleave", () => element.classList.remove("drop-target"));
  element.addEventListener("drop", (event) => {
    event.preventDefault();
    element.classList.remove("drop-target");
    onDrop(event.dataTransfer);
  });
}

/** A form's error line, hidden until `showError` fills it. */
export function formError() {
  return h("p", { class: "field-error", role: "alert", hidden: true });
}

/**
 * A form that handles its own submit: the browser's is prevented, the form's `error` line (from
 * `formError`) is hidden, then `submit` runs. `children` are the form's content.
 */
export function submitForm(attributes, error, submit, ...children) {
  const onsubmit = async (event) => {
    event.preventDefault();
    error.hidden = true;
    await submit();
  };
  return h("form", { ...attributes, onsubmit }, ...children);
}

/** Shows `message` in a form's `error` line (from `formError`), and moves focus to `control` if given. */
export function showError(error, message, control) {
  error.textContent = message;
  error.hidden = false;
  control?.focus();
}

/** A labelled input, textarea or select; `attributes` go to the control. */
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const hintElement = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintElement, error);
}

/** Formats an RFC 3339 time for people, in their time zone. */
export function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * Opens a modal dialog of class `className` titled `title`; `build(done, cancel)`
 * returns its content below the title, `done(value)` closes it with that
 * value, and `cancel` (a button labelled `cancelLabel`, focused first) and
 * Escape close it with `dismissed`. Resolves to the value it closed with.
 */
export function modal(className, title, cancelLabel, dismissed, build) {
  return new Promise((resolve) => {
    const titleId = uid("dialog");
    const dialog = h("dialog", { class: className, "aria-labelledby": titleId });
    const done = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    const cancel = h("button", { type: "button", onclick: () => done(dismissed) }, cancelLabel);
    dialog.append(h("h2", { id: titleId }, title), ...build(done, cancel));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      done(dismissed);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** Asks a yes/no question in a modal dialog; resolves true for yes. */
export function confirmDialog(title, message, yes = "Yes", no = "Cancel") {
  return modal("confirm", title, no, false, (done, cancel) => [
    h("p", {}, message),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "danger", onclick: () => done(true) }, yes),
      cancel),
  ]);
}

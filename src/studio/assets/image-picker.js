// An image in the article form (API.md §15): the article's hero image and the
// image of an item (steps, benefits, expectations, aftercare tips, risks).
// Choosing one from the media list (or uploading it there) in a dialog, its
// thumbnail, this use's own alt text or "decorative", removing it. The field
// carries the pointers the server's 422 problems name (`/hero_image/alt`,
// `/sections/1/items/0/image/alt`), so fields.js shows them here.

import { get, session } from "./api.js";
import { field, h, modal, say, uid } from "./dom.js";
import { changed, ed, rerender } from "./editing.js";
import { getAt, lineBox, pointerOf, setAt } from "./fields.js";
import { defaultLocale } from "./locale.js";
import { size, srcsetOf, thumbnail, uploader } from "./media.js";

/** The use of `asset` as content reads give it (the asset's alt text stands until this use has its own). */
function useOf(asset) {
  return {
    asset_id: asset.id,
    url: asset.url,
    width: asset.width,
    height: asset.height,
    alt: asset.alt?.[defaultLocale()] ?? null,
    decorative: false,
    placeholder: asset.placeholder,
    srcset: srcsetOf(asset),
  };
}

/** Asks for an image in a modal dialog: the media list, newest first, and an uploader. Resolves to an asset, or null. */
export function chooseImage(title) {
  return modal("picker", title, "Cancel", null, (done, cancel) => {
    const grid = h("ul", { class: "picker-grid", "aria-label": "Uploaded images" });
    const more = h("button", { type: "button", hidden: true }, "Load more");
    let cursor = null;
    const choice = (asset) => h("li", {}, h("button", {
      type: "button",
      class: "pick",
      onclick: () => done(asset),
    }, thumbnail(asset), h("span", { class: "pick-name" }, asset.filename),
    h("span", { class: "hint" }, `${asset.width}×${asset.height}, ${size(asset.bytes)}`)));
    const fetchPage = async () => {
      try {
        const { data } = await get(`/v1/assets?limit=24${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        grid.append(...data.items.map(choice));
        cursor = data.next_cursor;
        more.hidden = !cursor;
        if (!grid.children.length) grid.append(h("li", { class: "hint" }, "No images yet: upload one."));
      } catch (error) {
        grid.append(h("li", { class: "field-error" }, `The images could not be listed: ${error.message}`));
      }
    };
    more.addEventListener("click", fetchPage);
    fetchPage();
    return [
      uploader((asset) => done(asset), "Upload a new image"),
      grid,
      h("div", { class: "actions" }, more, cancel),
    ];
  });
}

/** The image field at `path` of the draft (["hero_image"], ["sections", 1, "items", 0, "image"]), labelled `label`. */
export function imageField(path, label) {
  const pointer = pointerOf(path);
  const key = path.join(".");
  const image = getAt(ed.draft, path) || null;
  // A translation sets only this use's alt text (a text); which image is the default locale's.
  const structural = session.canEdit && !ed.locale;
  const choose = async () => {
    const asset = await chooseImage(`Choose the ${label.toLowerCase()}`);
    if (!asset) {
      document.querySelector(`[data-focus="${CSS.escape(`${key}:choose`)}"]`)?.focus();
      return;
    }
    setAt(ed.draft, path, useOf(asset));
    rerender(`${key}.alt`);
    say(`${label}: ${asset.filename} (not saved).`);
  };
  const parts = [];
  if (image) {
    const alt = lineBox({
      readonly: !session.canEdit || image.decorative,
      dataset: { pointer: `${pointer}/alt`, focus: `${key}.alt` },
    }, image.decorative ? "" : image.alt);
    alt.addEventListener("input", () => {
      image.alt = alt.value.trim() === "" ? null : alt.value;
      changed();
    });
    const decorativeId = uid("decorative");
    const decorative = h("input", {
      type: "checkbox",
      id: decorativeId,
      checked: Boolean(image.decorative),
      disabled: !structural,
      dataset: { pointer: `${pointer}/decorative`, focus: `${key}.decorative` },
      onchange: () => {
        image.decorative = decorative.checked;
        rerender(`${key}.decorative`);
      },
    });
    parts.push(
      h("div", { class: "image-chosen" }, thumbnail(image, 128, ""),
        h("span", { class: "hint" }, `${decodeURIComponent(image.url.split("/").pop())}, ${image.width}×${image.height}`)),
      field("Alt text of this use (empty: the image’s own)", alt,
        "What the image shows, for people who cannot see it. A published article needs alt text here or on the image, unless it is decorative."),
      h("div", { class: "field check" }, decorative, h("label", { for: decorativeId }, "Decorative (no alt text: screen readers skip it)")),
    );
  }
  if (structural) {
    parts.push(h("div", { class: "toolbar" },
      h("button", { type: "button", class: image ? null : "quiet", dataset: { focus: `${key}:choose` }, onclick: choose }, image ? "Change image…" : `Choose ${label.toLowerCase()}…`),
      image
        ? h("button", {
          type: "button",
          class: "danger quiet",
          dataset: { focus: `${key}:remove` },
          onclick: () => {
            setAt(ed.draft, path, null);
            rerender(`${key}:choose`);
            say(`${label} removed (not saved).`);
          },
        }, "Remove image")
        : null));
  } else if (!image) {
    parts.push(h("p", { class: "hint" }, "None."));
  }
  // Without an image the field is one button (its legend for screen readers): 29 items stay short.
  return h("fieldset", { class: image ? "image-field" : "image-field empty", dataset: { pointer } },
    h("legend", { class: image ? null : "sr-only" }, `${label} (optional)`),
    h("p", { class: "field-error", dataset: { errorFor: pointer }, hidden: true }),
    parts);
}

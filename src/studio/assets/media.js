// Media (API.md §15), for editor tokens: the uploaded images, newest first,
// with their thumbnails, sizes, alt text per locale and where they are used;
// uploading (file picker or drag and drop, with progress); editing one image's
// alt text and caption per locale, file name and focal point; deleting one,
// where an image still in use is refused (409 asset_in_use) and its uses shown.
// The image picker of the article editor (image-picker.js) uses the list's
// parts: thumbnails and the uploader.

import { assetPath, del, get, imageData, put, session, uploadAsset } from "./api.js";
import { confirmDialog, dropTarget, field, h, listTable, replace, say, when } from "./dom.js";
import { clearErrors, lineBox, showFieldErrors } from "./fields.js";
import { locales } from "./locale.js";
import { imageChanges } from "./model.js";

/** The widths lamina resizes to (`?w=`, API.md §15). */
const LADDER = [64, 128, 256, 320, 480, 640, 768, 960, 1280, 1600, 1920, 2560, 3840];

/** The URL of `image` ({url, width}) at most `w` pixels wide: a ladder width, or the original when it is narrower. */
export function sizedUrl(image, w) {
  const fit = LADDER.filter((step) => step <= w && step < image.width).pop();
  return fit ? `${image.url}?w=${fit}` : image.url;
}

/** `srcset` for an asset, as reads of content give it: the ladder's widths below the original's, then the original. */
export function srcsetOf(image) {
  return [...LADDER.filter((step) => step < image.width).map((step) => `${image.url}?w=${step} ${step}w`), `${image.url} ${image.width}w`].join(", ");
}

/**
 * A thumbnail of `image` ({url, width, height}) fitting `w` pixels, loaded with
 * the token (an unpublished image is not public); `alt` is empty where text
 * beside it names the image.
 */
export function thumbnail(image, w = 128, alt = "") {
  const scale = Math.min(1, w / Math.max(image.width || w, image.height || w));
  const img = h("img", {
    class: "thumb",
    alt,
    width: Math.max(1, Math.round((image.width || w) * scale)),
    height: Math.max(1, Math.round((image.height || w) * scale)),
  });
  imageData(sizedUrl(image, w)).then((data) => { img.src = data; }).catch(() => { img.alt = alt || "(image not available)"; });
  return img;
}

/**
 * An image use in a comparison (revision diff, conflict view): its thumbnail
 * (`?w=128`; the asset id where the value has no `url`, as in a write) and its
 * alt text, or that it is decorative.
 */
export function imageValue(image) {
  if (!image) return h("em", {}, "(no image)");
  const picture = image.url ? thumbnail(image, 128) : h("code", {}, image.asset_id);
  const alt = image.decorative ? h("em", {}, "decorative") : image.alt ? `alt: “${image.alt}”` : h("em", {}, "the image's own alt text");
  return h("span", { class: "image-value" }, picture, " ", alt);
}

/** An image use's change (a row of `differences`): what changed in words, then the image before (struck through) and after. */
export const imageDiff = (row) => h("span", { class: "image-diff" },
  h("span", { class: "why" }, imageChanges(row.a, row.b).join(", ")), " ",
  row.a ? h("del", {}, imageValue(row.a)) : "", " ",
  row.b ? h("ins", {}, imageValue(row.b)) : "");

/** A size in bytes for people. */
export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A problem document, said clearly: its message and the fields it names. */
function problemText(error) {
  const fields = (error.errors || []).map((e) => `${e.pointer || ""}: ${e.message || e.detail || ""}`);
  return [error.message, ...fields].filter(Boolean).join(" — ");
}

/**
 * The uploader: a file picker and a drop zone; each file is sent on its own
 * with its progress shown (a <progress> bar and the percentage, announced when
 * done). `onUploaded(asset)` receives each new asset.
 */
export function uploader(onUploaded, label = "Upload images") {
  const input = h("input", { type: "file", accept: "image/jpeg,image/png,image/webp,image/gif", multiple: true, id: "media-upload" });
  const progress = h("ul", { class: "uploads", "aria-label": "Uploads" });
  const send = async (files) => {
    for (const file of files) {
      const bar = h("progress", { max: 100, value: 0, "aria-label": `Uploading ${file.name}` });
      const state = h("span", { class: "upload-state" }, "0 %");
      const row = h("li", { dataset: { state: "uploading" } }, h("span", { class: "upload-name" }, file.name), " ", bar, " ", state);
      progress.append(row);
      try {
        const { data } = await uploadAsset(file, (loaded, total) => {
          const percent = Math.round((loaded / total) * 100);
          bar.value = percent;
          state.textContent = `${percent} %`;
        });
        bar.value = 100;
        row.dataset.state = "done";
        state.textContent = `uploaded (${data.width}×${data.height}, ${size(data.bytes)})`;
        say(`Uploaded ${data.filename}.`);
        await onUploaded(data);
      } catch (error) {
        row.dataset.state = "failed";
        bar.remove();
        state.textContent = `not uploaded: ${problemText(error)}`;
        state.setAttribute("role", "alert");
      }
    }
  };
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    send(files);
  });
  const zone = h("div", { class: "drop-zone" },
    field(label, input, "JPEG, PNG, WebP or GIF, up to 20 MB. Or drop image files here."),
    progress);
  dropTarget(zone, "Files", (data) => send([...data.files]));
  return zone;
}

/** Where an asset is used: links to the articles (and where in them). */
export function usesOf(asset) {
  if (!asset.used_by?.length) return h("span", { class: "hint" }, "Not used");
  return h("ul", { class: "uses" }, asset.used_by.map((use) => h("li", {},
    h("a", { href: `#/a/${encodeURIComponent(use.slug)}` }, use.slug), " ", h("span", { class: "slug" }, use.pointer))));
}

function altList(asset, configured) {
  const codes = configured.length ? configured.map((l) => l.code) : Object.keys(asset.alt || {});
  return h("ul", { class: "alts" }, codes.map((code) => h("li", {},
    h("span", { class: "slug" }, `${code}: `),
    asset.alt?.[code] ? asset.alt[code] : h("strong", { class: "mark missing" }, "no alt text"))));
}

/** Deletes `asset` after asking; an asset in use is refused (409): its uses are shown in `notice`. Resolves true when deleted. */
async function deleteAsset(asset, notice) {
  if (!(await confirmDialog(`Delete “${asset.filename}”?`, "The image and its resized copies are deleted for good.", "Delete image"))) return false;
  try {
    const fresh = await get(assetPath(asset.id));
    await del(assetPath(asset.id), { ifMatch: fresh.etag });
    say(`Deleted ${asset.filename}.`);
    return true;
  } catch (error) {
    if (error.code === "asset_in_use") {
      let uses = asset;
      try {
        uses = (await get(assetPath(asset.id))).data;
      } catch {
        // The problem's own text names the uses too.
      }
      replace(notice,
        h("h2", {}, `“${asset.filename}” is in use and was not deleted`),
        h("p", {}, "Remove the image from these articles first:"),
        usesOf(uses),
        h("p", { class: "hint" }, error.message));
      notice.hidden = false;
      notice.focus();
      say(`Not deleted: ${asset.filename} is in use.`, "error");
    } else {
      say(`Not deleted: ${problemText(error)}`, "error");
    }
    return false;
  }
}

async function list(main) {
  const configured = await locales();
  const rows = h("tbody", {});
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const shown = h("p", { class: "hint", role: "status" });
  const notice = h("div", { id: "media-problem", class: "form-errors", role: "alert", tabindex: "-1", hidden: true });
  const all = [];
  let cursor = null;
  const row = (asset) => h("tr", { dataset: { id: asset.id } },
    h("td", {}, thumbnail(asset)),
    h("td", {}, h("a", { href: `#/media/${encodeURIComponent(asset.id)}` }, asset.filename), h("br", {}), h("span", { class: "slug" }, asset.content_type)),
    h("td", { class: "num" }, size(asset.bytes), h("br", {}), `${asset.width}×${asset.height}`),
    h("td", {}, altList(asset, configured)),
    h("td", {}, usesOf(asset)),
    h("td", {}, when(asset.created_at)),
    h("td", {}, h("button", {
      type: "button",
      class: "danger quiet",
      "aria-label": `Delete ${asset.filename}`,
      onclick: async () => {
        notice.hidden = true;
        if (await deleteAsset(asset, notice)) {
          all.splice(all.indexOf(asset), 1);
          draw();
        }
      },
    }, "Delete")));
  const draw = () => {
    replace(rows, all.map(row));
    more.hidden = !cursor;
    shown.textContent = `${all.length} image${all.length === 1 ? "" : "s"}${cursor ? " so far" : ""}.`;
  };
  const fetchPage = async () => {
    const { data } = await get(`/v1/assets?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    all.push(...data.items);
    cursor = data.next_cursor;
  };
  more.addEventListener("click", () => fetchPage().then(draw).catch((error) => say(error.message, "error")));
  replace(main,
    h("div", { class: "page-head" }, h("h1", {}, "Media")),
    uploader(async (asset) => {
      all.unshift(asset);
      draw();
    }),
    notice,
    shown,
    listTable("list media-list", "Uploaded images, newest first",
      ["Image", "File", { text: "Size", class: "num" }, "Alt text", "Used by", "Uploaded", "Actions"],
      rows),
    more);
  await fetchPage();
  draw();
}

/** The focal point picker: a click on the image sets x and y (0..1); the two number fields set them by keyboard. */
function focalPicker(asset, point) {
  const marker = h("span", { class: "focal-marker", "aria-hidden": "true" });
  const image = thumbnail(asset, 640, `${asset.filename}: click to set the focal point`);
  const number = (axis) => h("input", {
    type: "number", min: 0, max: 1, step: 0.01, value: point[axis], id: `focal-${axis}`,
    dataset: { pointer: `/focal_point/${axis}` },
    oninput: (event) => {
      const value = Number.parseFloat(event.target.value);
      if (Number.isFinite(value) && value >= 0 && value <= 1) {
        point[axis] = value;
        place();
      }
    },
  });
  const x = number("x");
  const y = number("y");
  const place = () => {
    marker.style.left = `${point.x * 100}%`;
    marker.style.top = `${point.y * 100}%`;
  };
  const frame = h("div", { class: "focal-picker", id: "focal-picker" }, image, marker);
  image.addEventListener("click", (event) => {
    const box = image.getBoundingClientRect();
    const round = (value) => Math.round(Math.min(1, Math.max(0, value)) * 1000) / 1000;
    point.x = round((event.clientX - box.left) / box.width);
    point.y = round((event.clientY - box.top) / box.height);
    x.value = point.x;
    y.value = point.y;
    place();
    say(`Focal point set to ${point.x}, ${point.y} (not saved).`);
  });
  place();
  return h("fieldset", { class: "focal", dataset: { pointer: "/focal_point" } },
    h("legend", {}, "Focal point (crops keep it in view)"),
    frame,
    h("div", { class: "focal-numbers" }, field("From the left (0 to 1)", x), field("From the top (0 to 1)", y)));
}

async function edit(main, id) {
  const configured = await locales();
  let read;
  try {
    read = await get(assetPath(id));
  } catch (error) {
    if (error.status !== 404) throw error;
    replace(main, h("h1", {}, "Image not found"), h("p", {}, error.message), h("a", { href: "#/media" }, "Back to media"));
    return;
  }
  const { data: asset, etag } = read;
  const codes = configured.length ? configured.map((l) => l.code) : Object.keys(asset.alt || {});
  const nameOf = (code) => configured.find((l) => l.code === code)?.name || code;
  const point = { x: asset.focal_point?.x ?? 0.5, y: asset.focal_point?.y ?? 0.5 };
  const filename = h("input", { type: "text", value: asset.filename, autocomplete: "off", spellcheck: "false", dataset: { pointer: "/filename" } });
  const alts = codes.map((code) => [code, lineBox({ dataset: { pointer: `/alt/${code}` }, lang: code }, asset.alt?.[code] ?? "")]);
  const captions = codes.map((code) => [code, h("textarea", { rows: 2, dataset: { pointer: `/caption/${code}` }, lang: code }, asset.caption?.[code] ?? "")]);
  const notice = h("div", { id: "media-problem", class: "form-errors", role: "alert", tabindex: "-1", hidden: true });
  const texts = (pairs) => Object.fromEntries(pairs.map(([code, box]) => [code, box.value.trim()]).filter(([, text]) => text !== ""));
  const form = h("form", {
    id: "asset-form",
    class: "asset-form",
    novalidate: true,
    "aria-labelledby": "asset-title",
    onsubmit: async (event) => {
      event.preventDefault();
      clearErrors();
      const caption = texts(captions);
      try {
        await put(assetPath(id), {
          filename: filename.value.trim(),
          alt: texts(alts),
          caption: Object.keys(caption).length ? caption : null,
          focal_point: { x: point.x, y: point.y },
        }, { ifMatch: etag });
        say(`Saved ${filename.value.trim()}.`);
        await edit(main, id);
        document.getElementById("asset-save")?.focus();
      } catch (error) {
        if (error.status === 422) showFieldErrors(error.errors.length ? error.errors : [{ pointer: "", message: error.message }], "The image was not saved");
        else if (error.status === 412) say("Not saved: someone changed this image meanwhile. Reload it (your changes are lost).", "error");
        else say(`Not saved: ${problemText(error)}`, "error");
      }
    },
  },
  focalPicker(asset, point),
  field("File name (its URL changes with it)", filename),
  h("fieldset", {}, h("legend", {}, "Alt text (what the image shows, for people who cannot see it)"),
    alts.map(([code, box]) => field(`${nameOf(code)} (${code})`, box))),
  h("fieldset", {}, h("legend", {}, "Caption (optional)"),
    captions.map(([code, box]) => field(`${nameOf(code)} (${code})`, box))),
  h("div", { class: "toolbar" },
    h("button", { type: "submit", class: "primary", id: "asset-save" }, "Save"),
    h("button", {
      type: "button",
      class: "danger quiet",
      onclick: async () => {
        notice.hidden = true;
        if (await deleteAsset(asset, notice)) location.hash = "#/media";
      },
    }, "Delete image")));
  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/media" }, "Media"), " › ", asset.filename),
    h("h1", { id: "asset-title" }, asset.filename),
    h("div", { id: "form-errors", class: "form-errors", tabindex: "-1", hidden: true, role: "alert" }),
    notice,
    h("dl", { class: "asset-facts" },
      h("dt", {}, "Size"), h("dd", {}, `${asset.width}×${asset.height}, ${size(asset.bytes)}, ${asset.content_type}`),
      h("dt", {}, "Uploaded"), h("dd", {}, when(asset.created_at)),
      h("dt", {}, "Used by"), h("dd", {}, usesOf(asset))),
    form);
}

/** Opens the Media screen in `main`: the list, or image `id`. */
export async function openMedia(main, id) {
  if (!session.canEdit) {
    replace(main, h("h1", {}, "Media"), h("p", {}, "Images are managed with an editor or admin token; this is a preview token."));
    return;
  }
  replace(main, h("h1", {}, "Media"), h("p", { class: "loading" }, "Loading…"));
  if (id) await edit(main, id);
  else await list(main);
}

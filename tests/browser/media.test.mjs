// The studio's Media screen and images in the article editor, in a real
// browser (editor token): upload through the file input (a PNG made here)
// and by drag and drop, with progress; edit alt text and set the focal point
// by clicking the image; pick the image as the seeded article's hero image,
// save, and see it in the reader's preview with srcset, alt, width and height;
// an item image without alt text on the published article is a 422 shown at
// that image's field, "decorative" makes it pass; deleting an image in use
// is a 409 that names the article. axe-core checks every screen.
//
// Env: LAMINA_URL, LAMINA_EDITOR_TOKEN, CHROMIUM.

import { deflateSync } from "node:zlib";
import assert from "node:assert/strict";
import { BASE, api as request, accessible as axeClean, launch, signIn as signInWith, stepper } from "./studio-page.mjs";

const EDITOR = process.env.LAMINA_EDITOR_TOKEN;
const SLUG = "explore-micro-needling-for-flawless-skin-today";
assert.ok(EDITOR, "LAMINA_EDITOR_TOKEN is required");

/** The API as the editor (`token: null`: as an anonymous reader). */
const api = (method, path, { token = EDITOR, ...options } = {}) => request(method, path, { token, ...options });

/** A `width`×`height` RGB PNG, a gradient tinted by `tint` (different bytes: different assets). */
function png(width, height, tint) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(typed));
    return Buffer.concat([length, typed, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      raw[at] = Math.round((x * 255) / width);
      raw[at + 1] = Math.round((y * 255) / height);
      raw[at + 2] = tint;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

const started = Date.now();
const { browser, page, problems } = await launch();
const { step, results } = stepper({ browser, page, problems, screenshot: "/tmp/studio-media-failure.png" });
await page.addInitScript(() => {
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (event) => window.__csp.push(`${event.violatedDirective}: ${event.blockedURI}`));
});
const accessible = (screen) => axeClean(page, screen);
const signIn = (token) => signInWith(page, token);
const status = () => page.locator("#status");
async function openArticle() {
  await page.goto(`${BASE}/studio/#/a/${SLUG}`);
  await page.locator("#article-form").waitFor();
}

let faceId = "";
let before = 0;
await step("media: the screen from the nav, accessible", async () => {
  await signIn(EDITOR);
  await page.getByRole("link", { name: "Media" }).click();
  await page.getByRole("heading", { name: "Media", level: 1 }).waitFor();
  const shown = page.getByText(/^\d+ images?( so far)?\.$/);
  await shown.waitFor();
  before = Number.parseInt(await shown.textContent(), 10);
  await accessible("media");
});

await step("media: upload through the file input, with progress; the list shows the thumbnail, size and missing alt", async () => {
  await page.locator("#media-upload").setInputFiles({ name: "face.png", mimeType: "image/png", buffer: png(300, 200, 40) });
  const done = page.locator('.uploads li[data-state="done"]');
  await done.waitFor();
  assert.equal(await done.locator("progress").getAttribute("value"), "100");
  assert.match(await done.textContent(), /face\.png.*uploaded \(300×200/);
  const row = page.locator(".media-list tbody tr").filter({ hasText: "face.png" });
  await row.waitFor();
  faceId = await row.getAttribute("data-id");
  assert.ok(faceId, "the row names its asset");
  await page.waitForFunction((id) => document.querySelector(`tr[data-id="${id}"] img.thumb`)?.src.startsWith("data:image/"), faceId);
  assert.match(await row.textContent(), /300×200/);
  assert.match(await row.textContent(), /en: no alt text/);
  assert.match(await row.textContent(), /Not used/);
});

await step("media: upload by drag and drop", async () => {
  const bytes = [...png(96, 64, 200)];
  await page.evaluate((data) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(data)], "dropped.png", { type: "image/png" }));
    document.querySelector(".drop-zone").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, bytes);
  await page.locator(".media-list tbody tr").filter({ hasText: "dropped.png" }).waitFor();
  await page.getByText(new RegExp(`^${before + 2} images`)).waitFor();
  await accessible("media, with images");
});

await step("media: edit the alt text and set the focal point by clicking the image; the API has them", async () => {
  await page.getByRole("link", { name: "face.png" }).click();
  await page.getByRole("heading", { name: "face.png", level: 1 }).waitFor();
  await page.locator('[data-pointer="/alt/en"]').fill("A gradient from dark to light");
  const image = page.locator("#focal-picker img");
  await page.waitForFunction(() => document.querySelector("#focal-picker img")?.src.startsWith("data:image/"));
  const box = await image.boundingBox();
  await image.click({ position: { x: box.width * 0.25, y: box.height * 0.75 } });
  assert.ok(Math.abs(Number(await page.locator("#focal-x").inputValue()) - 0.25) < 0.02, "x follows the click");
  assert.ok(Math.abs(Number(await page.locator("#focal-y").inputValue()) - 0.75) < 0.02, "y follows the click");
  await accessible("media, one image");
  await page.getByRole("button", { name: "Save" }).click();
  await status().getByText("Saved face.png.").waitFor();
  const { json } = await api("GET", `/v1/assets/${faceId}`);
  assert.equal(json.alt.en, "A gradient from dark to light");
  assert.ok(Math.abs(json.focal_point.x - 0.25) < 0.02 && Math.abs(json.focal_point.y - 0.75) < 0.02, JSON.stringify(json.focal_point));
});

await step("editor: the image becomes the seeded article's hero image; saved, and shown in the preview with srcset, alt, width and height", async () => {
  await openArticle();
  const hero = page.locator('fieldset.image-field[data-pointer="/hero_image"]');
  await hero.getByRole("button", { name: "Choose hero image…" }).click();
  const dialog = page.locator("dialog.picker");
  await dialog.getByRole("heading", { name: "Choose the hero image" }).waitFor();
  await accessible("editor, image picker");
  await dialog.getByRole("button", { name: /face\.png/ }).click();
  await dialog.waitFor({ state: "detached" });
  assert.equal(await hero.getByLabel(/Alt text of this use/).inputValue(), "A gradient from dark to light", "the image's own alt text shows");
  await page.locator("#save").click();
  await status().getByText(/Saved version \d+/).waitFor();
  const { json } = await api("GET", `/v1/articles/${SLUG}`, { token: null });
  assert.equal(json.hero_image.asset_id, faceId);
  assert.equal(json.hero_image.alt, "A gradient from dark to light");
  // The preview is drawn again after the save; the image is public now (a published article shows it).
  await page.waitForFunction(() => {
    const shown = document.querySelector(".preview-body .reader-hero img");
    return shown?.getAttribute("srcset") && shown.complete && shown.naturalWidth > 0;
  });
  const img = page.locator(".preview-body .reader-hero img");
  assert.match(await img.getAttribute("srcset"), /\?w=128 128w, .*\?w=256 256w, .*face\.png 300w$/);
  assert.equal(await img.getAttribute("alt"), "A gradient from dark to light");
  assert.equal(await img.getAttribute("width"), "300");
  assert.equal(await img.getAttribute("height"), "200");
  await accessible("editor, with a hero image");
});

await step("editor: a step's image without alt text on the published article is a 422 at its field; decorative passes; removed again", async () => {
  const read = await api("GET", `/v1/articles/${SLUG}`);
  const steps = read.json.sections.findIndex((s) => s.kind === "steps");
  const item = page.locator('[data-kind="steps"] li.item').first();
  const field = item.locator(`fieldset.image-field[data-pointer="/sections/${steps}/items/0/image"]`);
  await field.getByRole("button", { name: "Choose image…" }).click();
  const dialog = page.locator("dialog.picker");
  await dialog.getByLabel("Upload a new image").setInputFiles({ name: "step.png", mimeType: "image/png", buffer: png(200, 150, 120) });
  await dialog.waitFor({ state: "detached" });
  await page.locator("#save").click();
  const alt = field.getByLabel(/Alt text of this use/);
  await page.waitForFunction(() => document.querySelector('fieldset.image-field textarea[aria-invalid="true"]'));
  assert.equal(await alt.getAttribute("aria-invalid"), "true", "the alt field is marked");
  const error = await alt.evaluate((box) => document.getElementById(`${box.id}-error`).textContent);
  assert.ok(error.length > 0, "the problem is said next to the field");
  assert.match(await page.locator("#form-errors").textContent(), /1 problem/);
  await field.getByLabel(/Decorative/).check();
  await page.locator("#save").click();
  await status().getByText(/Saved version \d+/).waitFor();
  let json = (await api("GET", `/v1/articles/${SLUG}`, { token: null })).json;
  assert.equal(json.sections[steps].items[0].image.decorative, true);
  assert.equal(json.sections[steps].items[0].image.alt, "");
  assert.equal(await page.locator(".preview-body .read-steps img").first().getAttribute("alt"), "");
  await field.getByRole("button", { name: "Remove image" }).click();
  await page.locator("#save").click();
  await status().getByText(/Saved version \d+/).waitFor();
  json = (await api("GET", `/v1/articles/${SLUG}`, { token: null })).json;
  assert.equal(json.sections[steps].items[0].image, null);
  assert.equal(json.hero_image.asset_id, faceId, "the hero image stays");
});

await step("revisions: the hero image, added since the newest revision without one, shows in the diff with its thumbnail and alt", async () => {
  // The newest revision (on the first page) whose snapshot has no hero image.
  const { json: list } = await api("GET", `/v1/articles/${SLUG}/revisions`);
  let before = null;
  for (const summary of list.items) {
    const { json: revision } = await api("GET", `/v1/articles/${SLUG}/revisions/${summary.id}`);
    if (revision.snapshot && !revision.snapshot.hero_image) {
      before = summary.article_version;
      break;
    }
  }
  assert.ok(before, "a revision before the hero image");
  await page.getByRole("link", { name: "Revisions" }).click();
  await page.getByRole("heading", { name: /^Revisions of/ }).waitFor();
  await page.getByRole("button", { name: `Compare version ${before}`, exact: true }).click();
  const row = page.locator(".diff-table tr", { has: page.getByRole("rowheader", { name: "Hero image", exact: true }) }).first();
  await row.locator(".image-diff .why", { hasText: "added" }).waitFor();
  const thumb = row.locator("ins img.thumb");
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle());
  assert.match(await row.textContent(), /A gradient from dark to light/);
  await accessible("revisions, with an image change");
});

await step("media: deleting the image in use is refused (409) and names the article; an unused one is deleted", async () => {
  await page.goto(`${BASE}/studio/#/media`);
  const row = page.locator(`tr[data-id="${faceId}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(`${SLUG}.*/hero_image`));
  await row.getByRole("button", { name: "Delete face.png" }).click();
  await page.locator("dialog.confirm").getByRole("button", { name: "Delete image" }).click();
  const notice = page.locator("#media-problem");
  await notice.getByText("“face.png” is in use and was not deleted").waitFor();
  assert.equal(await notice.getByRole("link", { name: SLUG }).getAttribute("href"), `#/a/${SLUG}`);
  assert.equal((await api("GET", `/v1/assets/${faceId}`)).status, 200, "still there");
  await accessible("media, delete refused");
  const dropped = page.locator(".media-list tbody tr").filter({ hasText: "dropped.png" });
  await dropped.getByRole("button", { name: "Delete dropped.png" }).click();
  await page.locator("dialog.confirm").getByRole("button", { name: "Delete image" }).click();
  await status().getByText("Deleted dropped.png.").waitFor();
  await dropped.waitFor({ state: "detached" });
});

await step("no console errors, page errors or CSP violations", async () => {
  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual([...problems, ...csp.map((v) => `CSP violation: ${v}`)], []);
});

await browser.close();
console.log(`studio media browser tests: ${results.filter((r) => r.ok).length}/${results.length} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

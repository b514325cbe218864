// Swagger UI's "Try it out" on every public read, as a reader meets it: open
// /docs/, and for each GET that an anonymous caller may make (the spec's
// `security` allows `{}`, or is empty), expand it, click "Try it out", then
// "Execute" with the values the page fills in from the spec's examples, and
// assert a 2xx answer (the network's and the one the page shows).
//
// The values no example can give are ids, made when content is stored: the
// test types in the first `steps` item's id, and for `GET
// /v1/assets/{id}/{filename}` the id of an image it uploads as `face.jpg`
// (800×600, so the examples `w=640&h=480&fit=cover&q=80` fit it). Images
// are public once published content uses them, which is not built yet
// (anonymous: 401), so that read goes last, after "Authorize" with an
// editor token in the page.
//
// Env: LAMINA_URL, LAMINA_EDITOR_TOKEN, CHROMIUM (default /usr/bin/chromium).

import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { chromium } from "playwright-core";

const BASE = process.env.LAMINA_URL || "http://127.0.0.1:8080";
const EDITOR = process.env.LAMINA_EDITOR_TOKEN;
assert.ok(EDITOR, "LAMINA_EDITOR_TOKEN is required (to upload the image an asset read serves)");

// A PNG of width × height (a gradient), without an image library.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
function png(width, height) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      rows.set([x % 256, y % 256, 128], at);
    }
  }
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

const spec = await (await fetch(`${BASE}/openapi.json`)).json();
const anonymous = (operation) =>
  !operation.security || operation.security.length === 0 || operation.security.some((requirement) => Object.keys(requirement).length === 0);
const reads = [];
for (const [path, item] of Object.entries(spec.paths)) {
  const operation = item.get;
  if (operation && anonymous(operation)) reads.push({ path, operation });
}
// Needs a token today (see above): last, once the page is authorized.
const NEEDS_TOKEN = "serve_asset";
reads.sort((a, b) => (a.operation.operationId === NEEDS_TOKEN) - (b.operation.operationId === NEEDS_TOKEN));
assert.ok(reads.length >= 10, `too few public reads in the spec: ${reads.length}`);

// Values the spec cannot give, read from the API as a reader would.
const seedSlug = reads
  .flatMap(({ operation }) => operation.parameters || [])
  .find((parameter) => parameter.name === "slug" && parameter.in === "path")?.example;
assert.ok(seedSlug, "the slug path parameter has no example");
const steps = await (await fetch(`${BASE}/v1/articles/${seedSlug}/sections/steps`)).json();
const item = steps.items[0].id;
const filenameExample = reads.find(({ operation }) => operation.operationId === "serve_asset")
  ?.operation.parameters.find((parameter) => parameter.name === "filename")?.example;
assert.ok(filenameExample, "serve_asset's filename has no example");
const upload = await fetch(`${BASE}/v1/assets?filename=${encodeURIComponent(filenameExample)}`, {
  method: "POST",
  headers: { Authorization: `Bearer ${EDITOR}`, "Content-Type": "image/png" },
  body: png(800, 600),
});
assert.equal(upload.status, 201, await upload.clone().text());
const asset = (await upload.json()).id;
// The path parameters without an example, by operation.
const typedIn = { get_item: { id: item }, serve_asset: { id: asset } };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.setDefaultTimeout(15_000);
const errors = [];
page.on("pageerror", (error) => errors.push(String(error)));

const results = [];
try {
  await page.goto(`${BASE}/docs/`);
  await page.locator(".opblock").first().waitFor();
  for (const { path, operation } of reads) {
    const id = operation.operationId;
    if (id === NEEDS_TOKEN) {
      await page.locator(".auth-wrapper button.authorize").click();
      const dialog = page.locator(".dialog-ux");
      await dialog.locator("input").first().fill(EDITOR);
      await dialog.locator("button.authorize").click();
      await dialog.locator("button.btn-done").click();
    }
    const tag = (operation.tags || ["default"])[0];
    const block = page.locator(`#operations-${tag}-${id}`);
    await block.scrollIntoViewIfNeeded();
    if (!(await block.locator(".opblock-body").count())) {
      await block.locator(".opblock-summary-control, .opblock-summary").first().click();
    }
    await block.locator("button.try-out__btn").click();
    const filled = [];
    for (const parameter of operation.parameters || []) {
      if (parameter.in !== "path" || parameter.example !== undefined) continue;
      const value = typedIn[id]?.[parameter.name];
      assert.ok(value, `${id}: path parameter ${parameter.name} has no example and no value to type in`);
      await block.locator(`tr[data-param-name="${parameter.name}"][data-param-in="path"] input`).fill(value);
      filled.push(parameter.name);
    }
    const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "GET" && pattern.test(new URL(r.url()).pathname)),
      block.locator("button.execute").click(),
    ]);
    const status = response.status();
    const shown = (await block.locator(".live-responses-table tbody .response-col_status").first().innerText()).trim();
    const query = new URL(response.url()).search;
    results.push({ id, status, shown, filled });
    console.log(`${status >= 200 && status < 300 ? "ok  " : "FAIL"} ${id}: GET ${new URL(response.url()).pathname}${query} -> ${status} (shown: ${shown})${filled.length ? ` typed in: ${filled.join(", ")}` : ""}`);
    // Collapse it again so the next block is where the page expects it.
    await block.locator(".opblock-summary-control, .opblock-summary").first().click();
  }
} finally {
  await browser.close();
}

const failed = results.filter((result) => !(result.status >= 200 && result.status < 300 && result.shown.startsWith(String(result.status))));
console.log(`${results.length - failed.length}/${results.length} public reads answered 2xx from Try it out`);
assert.equal(results.length, reads.length);
assert.deepEqual(errors, [], "the page raised errors");
assert.deepEqual(failed, [], "Try it out did not answer 2xx");

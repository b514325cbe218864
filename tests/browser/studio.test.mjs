// The studio in a real browser: Playwright drives Debian's Chromium against a
// running lamina (release build, private cluster). Every step asserts what a
// user sees and what the API stores afterwards; axe-core checks every screen;
// console errors and CSP violations fail the run. Screenshots go to docs/.
//
// Env: LAMINA_URL, LAMINA_EDITOR_TOKEN, LAMINA_PREVIEW_TOKEN, LAMINA_ADMIN_TOKEN,
//      CHROMIUM (default /usr/bin/chromium), SCREENSHOTS (default ../../docs).

import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { BASE, api, launch } from "./studio-page.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const EDITOR = process.env.LAMINA_EDITOR_TOKEN;
const PREVIEW = process.env.LAMINA_PREVIEW_TOKEN;
const ADMIN = process.env.LAMINA_ADMIN_TOKEN;
const SHOTS = resolve(process.env.SCREENSHOTS || join(here, "..", "..", "docs"));
const SLUG = "explore-micro-needling-for-flawless-skin-today";
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
assert.ok(EDITOR && PREVIEW && ADMIN, "LAMINA_EDITOR_TOKEN, LAMINA_PREVIEW_TOKEN and LAMINA_ADMIN_TOKEN are required");
mkdirSync(SHOTS, { recursive: true });

// ---- the API, as a second editor and as an anonymous reader ----
const publicArticle = async (slug = SLUG) => api("GET", `/v1/articles/${slug}`);
const section = (article, kind) => article.sections.find((s) => s.kind === kind);

// ---- the run's bookkeeping ----
const results = [];
const started = Date.now();
async function step(name, body) {
  const t0 = Date.now();
  try {
    await body();
    results.push({ name, ok: true, ms: Date.now() - t0 });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (error) {
    results.push({ name, ok: false, ms: Date.now() - t0 });
    console.log(`FAIL ${name}\n${error.stack || error}`);
    console.log(`problems so far: ${JSON.stringify(problems)}`);
    await page.screenshot({ path: "/tmp/studio-failure.png", fullPage: true }).catch(() => {});
    throw error;
  }
}

// Console errors and page errors are collected in `problems` (4xx answers
// are checked below against the answers the run provokes).
const { browser, context, page, problems } = await launch();
page.setDefaultTimeout(10_000);
await page.addInitScript(() => {
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__csp.push(`${event.violatedDirective}: ${event.blockedURI}`);
  });
});
// Every answer >= 400 the page got, to check against what the run provokes on purpose.
const failedResponses = [];
page.on("response", (response) => {
  if (response.status() >= 400) failedResponses.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
});
page.on("dialog", (dialog) => dialog.accept());

/** axe-core on the current screen: no serious or critical violations. */
const axeReport = [];
async function accessible(screen) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, target: v.nodes[0]?.target?.join(" ") }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeReport.push({ screen, violations: violations.length, serious: bad.length, ids: violations.map((v) => `${v.id}:${v.impact}`) });
  assert.deepEqual(bad, [], `axe on ${screen}: ${JSON.stringify(bad, null, 1)}`);
}
async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `studio-${name}.png`) });
}
const status = () => page.locator("#status");
async function openArticle(slug = SLUG) {
  await page.goto(`${BASE}/studio/#/a/${slug}`);
  await page.locator("#article-form").waitFor();
}
const stepItem = (index) => page.locator('[data-kind="steps"] li.item').nth(index);
/** The text boxes of `form` that hide part of their text (a long line cut off, or text below the box's edge). */
const cutBoxes = (form = "#article-form") => page.locator(form).evaluate((element) => [...element.querySelectorAll("input[type=text], textarea")]
  .filter((box) => box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1)
  .map((box) => box.name || box.id));

// ---- 1. first load: weight and time to interactive ----
let weight = 0;
let interactive = 0;
await step("first load: the sign-in screen, its weight and time to interactive", async () => {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.clearBrowserCache");
  let bytes = 0;
  cdp.on("Network.loadingFinished", (event) => { bytes += event.encodedDataLength; });
  const response = await page.goto(`${BASE}/studio`);
  assert.equal(new URL(page.url()).pathname, "/studio/", "/studio redirects to /studio/");
  const headers = response.headers();
  assert.match(headers["content-security-policy"], /script-src 'self'/);
  assert.doesNotMatch(headers["content-security-policy"], /unsafe-inline|unsafe-eval/);
  assert.equal(headers["x-content-type-options"], "nosniff");
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.waitForFunction(() => document.body.dataset.ready === "true");
  interactive = await page.evaluate(() => {
    const mark = performance.getEntriesByName("studio-interactive")[0];
    return Math.round(mark ? mark.startTime : performance.now());
  });
  await page.waitForLoadState("networkidle");
  weight = bytes;
  assert.ok(weight < 50_000, `first load ${weight} bytes`);
  await cdp.detach();
  const asset = await fetch(`${BASE}${await page.locator('link[rel="stylesheet"]').getAttribute("href")}`);
  assert.match(asset.headers.get("cache-control"), /immutable/);
  await shot("sign-in");
  await accessible("sign-in");
});

// ---- 2. sign in ----
await step("sign in: a bad token is refused, an editor token shows the articles and its role", async () => {
  await page.getByLabel("API token").fill("lamina_not-a-real-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("That token is not valid").waitFor();
  await page.getByLabel("API token").fill(EDITOR);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Explore Micro Needling for Flawless Skin Today" }).waitFor();
  assert.equal(await page.locator("#role").textContent(), "editor token");
  await status().getByText("Signed in with an editor token.").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "main", "focus moves on to the page, not lost with the form");
  const storage = await page.evaluate(() => ({ session: sessionStorage.getItem("lamina.studio.token"), local: localStorage.length }));
  assert.equal(storage.session, EDITOR, "the token is kept in sessionStorage");
  assert.equal(storage.local, 0, "nothing in localStorage");
  assert.ok(!page.url().includes(EDITOR), "the token is never in the URL");
  await shot("articles");
  await accessible("articles");
});

// ---- 3. edit a step's title and save ----
await step("edit a step's title and save: the public GET shows it", async () => {
  await page.getByRole("link", { name: "Explore Micro Needling for Flawless Skin Today" }).click();
  await page.locator("#article-form").waitFor();
  const title = stepItem(0).getByLabel("Title");
  assert.equal(await title.inputValue(), "Consultation");
  await title.fill("Consultation with a professional");
  await page.locator(".preview-body").getByText("Consultation with a professional").waitFor();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await status().getByText(/Saved version/).waitFor();
  const { json } = await publicArticle();
  assert.equal(section(json, "steps").items[0].title, "Consultation with a professional");
  // Scrolled to (as a link to it would), a section's heading shows below the sticky status line, not under it.
  const clear = await page.locator('[data-kind="steps"]').evaluate((element) => {
    element.scrollIntoView();
    return element.querySelector("h2").getBoundingClientRect().top - document.getElementById("status").getBoundingClientRect().bottom;
  });
  assert.ok(clear >= 0, `the heading is ${-clear} px under the status line`);
  await shot("editor");
  await accessible("editor");
});

// ---- 4. reorder by keyboard ----
await step("reorder items by keyboard (Alt+Arrow Up) and save: the API has the new order", async () => {
  const before = section((await publicArticle()).json, "steps").items.map((i) => i.id);
  await stepItem(1).getByRole("button", { name: /^Reorder step 2/ }).focus();
  await page.keyboard.press("Alt+ArrowUp");
  await status().getByText(/to position 1 of/).waitFor();
  const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
  assert.match(focused, /^Reorder step 1/, "focus stays on the moved item");
  await page.keyboard.press("Tab"); // Focus moves on as usual.
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await status().getByText(/Saved version/).waitFor();
  const after = section((await publicArticle()).json, "steps").items.map((i) => i.id);
  assert.deepEqual(after, [before[1], before[0], ...before.slice(2)]);
});

// ---- 4b. the mouse: add, remove, move, drag and drop ----
await step("add, remove and reorder items with the mouse (buttons, drag and drop): the API has the result", async () => {
  const before = section((await publicArticle()).json, "benefits").items.map((i) => i.id);
  const benefits = page.locator('[data-kind="benefits"]');
  const items = benefits.locator("li.item");
  await benefits.getByRole("button", { name: "Add benefit" }).click();
  const added = items.last();
  await added.getByLabel("Title").fill("Quick recovery");
  await added.getByLabel("Text").fill("Most people return to their day within 24 hours.");
  await added.getByRole("button", { name: /^Move benefit \d+ up$/ }).click();
  await items.nth(0).getByRole("button", { name: /^Remove benefit 1$/ }).click();
  // Both items on screen first: Chromium starts no drag when the page must scroll between press and release.
  await items.nth(0).evaluate((item) => item.scrollIntoView());
  await items.nth(0).locator(".handle").dragTo(items.nth(1));
  await status().getByText(/Moved benefit .* to position 2 of/).waitFor();
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await status().getByText(/Saved version/).waitFor();
  const after = section((await publicArticle()).json, "benefits").items;
  // [b0 b1 b2 b3 b4] + new → new up one → b0 removed → b1 dragged below b2.
  assert.deepEqual(after.map((i) => i.id).filter((id) => before.includes(id)), [before[2], before[1], before[3], before[4]]);
  assert.equal(after[3].title, "Quick recovery");
  assert.ok(!before.includes(after[3].id), "the added item got a new id");
});

// ---- 5. a 422 at its field ----
await step("a 422 is shown at its field and focuses it; nothing is stored", async () => {
  const version = (await publicArticle()).json.version;
  const title = stepItem(1).getByLabel("Title");
  await title.fill("   ");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.locator("#form-errors").getByText(/1 problem/).waitFor();
  assert.equal(await title.getAttribute("aria-invalid"), "true");
  const error = await title.evaluate((input) => document.getElementById(`${input.id}-error`).textContent);
  assert.ok(error.length > 0, "the message is next to the field");
  assert.ok(await title.evaluate((input) => document.activeElement === input), "the field has focus");
  await shot("validation");
  await accessible("validation");
  assert.equal((await publicArticle()).json.version, version, "nothing was stored");
  // Leaving with unsaved changes asks first; "Stay" keeps the edit and the address.
  const address = page.url();
  await page.getByRole("navigation").getByRole("link", { name: "Articles" }).click();
  const leave = page.getByRole("dialog", { name: "Leave without saving?" });
  await leave.getByRole("button", { name: "Stay" }).click();
  assert.equal(page.url(), address);
  assert.equal(await title.inputValue(), "   ", "the edit is still there");
  await title.fill("Consultation with a professional");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  // Back to the saved text: nothing to save, and the problem is gone.
  await status().getByText(/No changes to save/).waitFor();
  assert.equal(await title.getAttribute("aria-invalid"), null);
});

// ---- 6. a 412 resolved with "apply mine on top" ----
await step("a 412 from a concurrent API write: conflict view, apply mine on top, both stored", async () => {
  await openArticle();
  // A colleague changes the risks heading through the API meanwhile.
  const risks = await api("GET", `/v1/articles/${SLUG}/sections/risks`, { token: EDITOR });
  const theirs = { ...risks.json, heading: "Risks and side effects (reviewed)" };
  for (const key of ["id", "position", "version", "updated_at"]) delete theirs[key];
  theirs.items = theirs.items.map(({ id, title, body }) => ({ id, title, body }));
  const written = await api("PUT", `/v1/articles/${SLUG}/sections/risks`, { token: EDITOR, body: theirs, ifMatch: risks.etag });
  assert.equal(written.status, 200, JSON.stringify(written.json));
  // I change a benefit's text in the page, which still has the old ETag.
  const body = page.locator('[data-kind="benefits"] li.item').nth(0).getByLabel("Text");
  const mine = "Boosts collagen production, for firmer skin.";
  await body.fill(mine);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Someone else saved this article meanwhile" });
  await dialog.waitFor();
  // Each row: the server's value, mine, and what "apply mine on top" gives: both changes.
  const theirsRow = dialog.getByRole("row", { name: /Risks › Heading/ });
  assert.equal(await theirsRow.locator("td.theirs").textContent(), "Risks and side effects (reviewed)");
  assert.equal(await theirsRow.locator("td.merged").textContent(), "Risks and side effects (reviewed)");
  const mineRow = dialog.getByRole("row", { name: /Benefits › Benefit .* › Text/ });
  assert.equal(await mineRow.locator("td.mine").textContent(), mine);
  assert.equal(await mineRow.locator("td.merged").textContent(), mine);
  await shot("conflict");
  await accessible("conflict");
  await dialog.getByRole("button", { name: "Apply my changes on top of theirs" }).click();
  await status().getByText(/Saved version/).waitFor();
  const { json } = await publicArticle();
  assert.equal(section(json, "risks").heading, "Risks and side effects (reviewed)", "their change is kept");
  assert.equal(section(json, "benefits").items[0].body, mine, "my change is stored");
});

// ---- 7. revisions: diff and restore ----
await step("revisions: a readable diff, then restore", async () => {
  await page.getByRole("link", { name: "Revisions" }).click();
  await page.getByRole("heading", { name: /^Revisions of/ }).waitFor();
  // The seed's revision (version 1): the step title differs from now.
  // What each revision did, said as done: "replaced", not "replace".
  await page.getByRole("cell", { name: "replaced the whole article" }).first().waitFor();
  await page.getByRole("button", { name: "Compare version 1" }).click();
  await page.getByRole("heading", { name: /^Version 1: created by / }).waitFor();
  const diff = page.locator(".diff-table");
  await diff.waitFor();
  await diff.locator("ins", { hasText: "with a professional" }).first().waitFor();
  await shot("revisions");
  await accessible("revisions");
  await page.getByRole("button", { name: "Restore version 1" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Restore" }).click();
  await status().getByText(/Restored version 1 as version/).waitFor();
  const { json } = await publicArticle();
  assert.equal(section(json, "steps").items[0].title, "Consultation", "the seeded text is back");
  assert.equal(section(json, "risks").heading, "Potential Risks and Side Effects", "the colleague's later change is undone too");
});

// ---- 8. create a draft, publish it, delete it ----
const NEW = `chemical-peels-${Date.now().toString(36)}`;
await step("create a draft article, publish it, delete it", async () => {
  await page.goto(`${BASE}/studio/#/`);
  await page.getByRole("link", { name: "New article" }).click();
  await page.getByLabel("Slug (URL name)").fill(NEW);
  await page.getByLabel("Title").fill("Chemical Peels Explained: what a peel does to the skin, and who it is for");
  assert.deepEqual(await cutBoxes("form.new-article"), [], "a long title wraps rather than being cut off");
  await page.getByLabel("Author").fill("studio test");
  await page.getByLabel("Summary (lead paragraph)").fill("What a chemical peel does, and who it is for.");
  await page.getByRole("button", { name: "Create draft" }).click();
  await page.locator("#article-form").waitFor();
  assert.equal((await publicArticle(NEW)).status, 404, "a draft is hidden from anonymous readers");
  await page.getByLabel("Section kind to add").selectOption("overview");
  await page.getByRole("button", { name: "Add section" }).click();
  const overview = page.locator('[data-kind="overview"]');
  await overview.getByLabel("Heading").fill("What is a chemical peel?");
  await overview.getByLabel("Body").fill("A chemical solution removes the outer layers of the skin.");
  await page.getByLabel("Status").selectOption("published");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await status().getByText(/Saved version/).waitFor();
  const live = await publicArticle(NEW);
  assert.equal(live.status, 200);
  assert.equal(section(live.json, "overview").body, "A chemical solution removes the outer layers of the skin.");
  await page.getByRole("button", { name: "Delete article" }).click();
  const confirm = page.getByRole("dialog");
  await shot("delete");
  await accessible("delete confirmation");
  await confirm.getByRole("button", { name: "Delete article" }).click();
  await status().getByText("Deleted.").waitFor();
  assert.equal((await publicArticle(NEW)).status, 404);
});

// ---- 8b. the trash: a deleted article comes back ----
await step("trash: the deleted article is listed with who deleted it, and Restore brings it back", async () => {
  await page.getByRole("navigation").getByRole("link", { name: "Trash" }).click();
  await page.getByRole("heading", { name: "Trash" }).waitFor();
  const row = page.locator("table.list tbody tr", { hasText: NEW });
  await row.getByText("studio-editor").waitFor();
  await accessible("trash");
  await row.getByRole("button", { name: /^Restore “Chemical Peels Explained/ }).click();
  await status().getByText(/^Restored “Chemical Peels Explained.*” as version \d+\.$/).waitFor();
  const back = await publicArticle(NEW);
  assert.equal(back.status, 200, "published again, as it was");
  assert.equal(section(back.json, "overview").body, "A chemical solution removes the outer layers of the skin.");
  const trash = await api("GET", "/v1/articles?deleted=true", { token: EDITOR });
  assert.ok(!trash.json.items.some((a) => a.slug === NEW), "no longer in the trash");
  // Deleted again (the later steps count the articles).
  const gone = await api("DELETE", `/v1/articles/${NEW}`, { token: EDITOR, ifMatch: back.etag });
  assert.ok([200, 204].includes(gone.status), JSON.stringify(gone.json));
});

// ---- 9. releases: stage, preview, publish; schedule; conflicts ----
await step("releases: stage an edit, preview it, publish it", async () => {
  await page.getByRole("link", { name: "Releases" }).click();
  await page.getByLabel("Title of a new release").fill("Winter update");
  await page.getByRole("button", { name: "Create release" }).click();
  await page.getByRole("heading", { name: /Winter update/ }).waitFor();
  await openArticle();
  const staged = "Aftercare for the first week";
  await page.locator('[data-kind="aftercare_tips"]').getByLabel("Heading").fill(staged);
  // A colleague changes the conclusion live meanwhile: staging my older copy
  // would undo that when the release publishes, so staging opens the conflict view first.
  const conclusion = await api("GET", `/v1/articles/${SLUG}/sections/conclusion`, { token: EDITOR });
  const cta = "Book a consultation this week.";
  const { kind, heading, body } = conclusion.json;
  const live = await api("PUT", `/v1/articles/${SLUG}/sections/conclusion`, { token: EDITOR, body: { kind, heading, body, call_to_action: cta }, ifMatch: conclusion.etag });
  assert.equal(live.status, 200, JSON.stringify(live.json));
  await page.getByRole("button", { name: "Stage in a release…" }).click();
  const staging = page.getByRole("dialog", { name: "Stage this edit in a release" });
  await staging.getByRole("radio", { name: "Winter update (open)" }).check();
  await accessible("staging dialog");
  await staging.getByRole("button", { name: "Stage this edit in the release" }).click();
  await page.getByRole("dialog", { name: "Someone else saved this article meanwhile" })
    .getByRole("button", { name: "Apply my changes on top of theirs" }).click();
  await status().getByText(/Staged in/).waitFor();
  await page.locator(".preview-body").getByText("As it will be when the release is published").waitFor();
  await page.locator(".preview-body h4", { hasText: staged }).waitFor();
  assert.notEqual(section((await publicArticle()).json, "aftercare_tips").heading, staged, "live is unchanged");
  // Leave the page clean: the edit lives in the release, not live.
  await page.getByRole("link", { name: "Articles" }).first().click();
  await page.getByRole("link", { name: "Releases" }).click();
  await page.getByRole("link", { name: "Winter update" }).click();
  await page.getByText(/staged .* on version/).waitFor();
  // What publishing changes, against live.
  await page.getByRole("button", { name: `Compare with live: ${SLUG}` }).click();
  const against = page.locator(".against-live .diff-table");
  await against.getByRole("row", { name: /Aftercare tips › Heading/ }).locator("ins", { hasText: "Aftercare" }).first().waitFor();
  await shot("release");
  await accessible("release");
  // The benefits heading changes live after staging. Opened from the release, the
  // editor holds what the release stages, and, since live moved on, compares first.
  const benefits = await api("GET", `/v1/articles/${SLUG}/sections/benefits`, { token: EDITOR });
  const liveHeading = "Benefits, reviewed live";
  const benefitsBody = { kind: "benefits", heading: liveHeading, intro: benefits.json.intro, items: benefits.json.items.map(({ id, title, body: text }) => ({ id, title, body: text })) };
  assert.equal((await api("PUT", `/v1/articles/${SLUG}/sections/benefits`, { token: EDITOR, body: benefitsBody, ifMatch: benefits.etag })).status, 200);
  await page.getByRole("link", { name: `Preview ${SLUG}` }).click();
  const stale = page.getByRole("dialog", { name: "Someone else saved this article meanwhile" });
  await stale.getByText(/this edit was made from/).waitFor();
  await stale.getByRole("button", { name: "Apply my changes on top of theirs" }).click();
  assert.equal(await page.locator('[data-kind="aftercare_tips"]').getByLabel("Heading").inputValue(), staged, "the staged copy");
  assert.equal(await page.locator('[data-kind="benefits"]').getByLabel("Heading").inputValue(), liveHeading, "with the live change");
  await page.getByRole("button", { name: "Stage in a release…" }).click();
  assert.equal(await staging.getByRole("radio", { name: "Winter update (open)" }).isChecked(), true, "the release it was opened from");
  await staging.getByRole("button", { name: "Stage this edit in the release" }).click();
  await status().getByText(/Staged in/).waitFor();
  await page.getByText(/staged in a release, not live/).waitFor();
  await page.goBack();
  await page.getByRole("button", { name: "Publish now" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Publish now" }).click();
  await status().getByText(/Published/).waitFor();
  const published = (await publicArticle()).json;
  assert.equal(section(published, "aftercare_tips").heading, staged, "published");
  assert.equal(section(published, "conclusion").call_to_action, cta, "the colleague's live change survived the release");
  assert.equal(section(published, "benefits").heading, liveHeading, "and the one made after staging");
});

await step("releases: a conflict is listed and nothing applied; a scheduled release publishes by itself", async () => {
  // Stage the overview, change it live through the API, then publish: 409 shown.
  const created = await api("POST", "/v1/releases", { token: EDITOR, body: { title: "Conflicting", publish_at: null } });
  const live = await api("GET", `/v1/articles/${SLUG}/sections/overview`, { token: EDITOR });
  const { kind, heading, body } = live.json;
  await api("PUT", `/v1/releases/${created.json.id}/articles/${SLUG}/sections/overview`, { token: EDITOR, body: { kind, heading: `${heading} (staged)`, body } });
  const changed = await api("PUT", `/v1/articles/${SLUG}/sections/overview`, { token: EDITOR, body: { kind, heading: `${heading} (live)`, body }, ifMatch: live.etag });
  assert.equal(changed.status, 200);
  await page.goto(`${BASE}/studio/#/releases/${created.json.id}`);
  await page.getByRole("button", { name: "Publish now" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Publish now" }).click();
  await page.getByRole("heading", { name: /Conflicts/ }).waitFor();
  await page.getByText(/staged on version \d+, live is now version \d+/).waitFor();
  await accessible("release conflict");
  assert.equal(section((await publicArticle()).json, "overview").heading, `${heading} (live)`, "nothing applied");

  // Schedule: a release staged from the API, scheduled in the page 3 s ahead.
  const scheduled = await api("POST", "/v1/releases", { token: EDITOR, body: { title: "Scheduled", publish_at: null } });
  await api("PUT", `/v1/releases/${scheduled.json.id}/articles/${SLUG}/sections/overview`, { token: EDITOR, body: { kind, heading, body } });
  await page.goto(`${BASE}/studio/#/releases/${scheduled.json.id}`);
  // A time that has passed is refused at its field.
  const past = new Date(Date.now() - 3_600_000);
  const pastLocal = new Date(past.getTime() - past.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  await page.getByLabel("Publish at (your time zone)").fill(pastLocal);
  await page.getByRole("button", { name: "Schedule" }).click();
  const atBox = page.getByLabel("Publish at (your time zone)");
  assert.equal(await atBox.getAttribute("aria-invalid"), "true");
  assert.equal(await atBox.evaluate((box) => document.getElementById(`${box.id}-error`).textContent), "That time has passed: choose one in the future.");
  assert.ok(await atBox.evaluate((box) => document.activeElement === box), "focus at the field");
  const at = new Date(Date.now() + 65_000);
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  await page.getByLabel("Publish at (your time zone)").fill(local);
  await page.getByRole("button", { name: "Schedule" }).click();
  await status().getByText(/Scheduled for/).waitFor();
  const state = await api("GET", `/v1/releases/${scheduled.json.id}`, { token: EDITOR });
  assert.equal(state.json.state, "scheduled");
  // datetime-local has minute precision; move it to 2 s from now through the API to keep the run short.
  const soon = new Date(Date.now() + 2000).toISOString();
  const moved = await api("PUT", `/v1/releases/${scheduled.json.id}`, { token: EDITOR, body: { title: "Scheduled", publish_at: soon }, ifMatch: state.etag });
  assert.equal(moved.status, 200, JSON.stringify(moved.json));
  const deadline = Date.now() + 10_000;
  while ((await api("GET", `/v1/releases/${scheduled.json.id}`, { token: EDITOR })).json.state !== "published") {
    assert.ok(Date.now() < deadline, "the scheduled release published within 10 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  // The page follows without a reload.
  await page.getByText(/^Published /).waitFor();
  await status().getByText(/was published/).waitFor();
  assert.equal(section((await publicArticle()).json, "overview").heading, heading);
  // An empty release: "Publish now" is disabled and says why, readably.
  const empty = await api("POST", "/v1/releases", { token: EDITOR, body: { title: "Empty for now", publish_at: null } });
  await page.goto(`${BASE}/studio/#/releases/${empty.json.id}`);
  const publishNow = page.getByRole("button", { name: "Publish now" });
  assert.equal(await publishNow.isDisabled(), true);
  assert.equal(await publishNow.evaluate((button) => document.getElementById(button.getAttribute("aria-describedby"))?.textContent), "Nothing is staged yet, so there is nothing to publish.");
  await accessible("empty release");
});

// ---- 10. 390 px wide ----
await step("at 390 px wide: one column, nothing wider than the screen", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openArticle();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `page is ${overflow} px wide`);
  assert.deepEqual(await cutBoxes(), [], "text boxes show their whole text on a phone");
  await shot("mobile");
  await accessible("editor at 390 px");
  // The conflict view fits too: its columns stack, each value under its column's name.
  const risks = await api("GET", `/v1/articles/${SLUG}/sections/risks`, { token: EDITOR });
  const { kind, heading, intro, items } = risks.json;
  const theirs = { kind, heading: `${heading} (checked on a phone)`, intro, items: items.map(({ id, title, body }) => ({ id, title, body })) };
  assert.equal((await api("PUT", `/v1/articles/${SLUG}/sections/risks`, { token: EDITOR, body: theirs, ifMatch: risks.etag })).status, 200);
  await page.locator('[data-kind="benefits"] li.item').nth(0).getByLabel("Text").fill("Firmer skin within weeks, as collagen builds up again.");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Someone else saved this article meanwhile" });
  await dialog.waitFor();
  const fit = await dialog.evaluate((element) => {
    const scroller = element.querySelector(".table-scroll");
    const merged = [...element.querySelectorAll("td.merged")];
    return {
      overflow: scroller.scrollWidth - scroller.clientWidth,
      outside: merged.filter((cell) => cell.getBoundingClientRect().right > window.innerWidth).length,
      label: getComputedStyle(merged[0], "::before").content,
    };
  });
  assert.deepEqual(fit, { overflow: 0, outside: 0, label: '"After “apply mine on top”"' }, "every column within the screen");
  await accessible("conflict at 390 px");
  await dialog.getByRole("button", { name: "Discard mine" }).click();
  await page.getByText(/No unsaved changes/).waitFor();
  await page.setViewportSize({ width: 1280, height: 900 });
});

// ---- 10b. a long list: "Load more" ----
await step("articles: \"Load more\" appends the next page and moves focus to its first article", async () => {
  // 50 older drafts put the list past one page (50 a page).
  const writes = Array.from({ length: 50 }, (_, i) => api("PUT", `/v1/articles/older-draft-${i}`, {
    token: EDITOR,
    body: { title: `Older draft ${i}`, author: "studio test", published_on: "2001-01-01", status: "draft", summary: "An older draft.", sections: [] },
  }));
  for (const written of await Promise.all(writes)) assert.equal(written.status, 201, JSON.stringify(written.json));
  await page.goto(`${BASE}/studio/#/`);
  const rows = page.locator("table.list tbody tr");
  await rows.nth(49).waitFor();
  const firstPage = await rows.count();
  await page.getByRole("button", { name: "Load more" }).click();
  await rows.nth(firstPage).waitFor();
  const focused = await page.evaluate(() => ({ tag: document.activeElement.tagName, row: document.activeElement.closest("tr")?.rowIndex }));
  assert.deepEqual(focused, { tag: "A", row: firstPage + 1 }, "focus is on the first article loaded (row 0 is the header)");
  assert.equal(await page.getByRole("button", { name: "Load more" }).count(), 0, "nothing left to load");
});

// ---- 10b'. finding an article among many: search, filter, sort ----
await step("articles: search by title or slug, filter by status and author, sort; the seeded article is found past the first page", async () => {
  await page.goto(`${BASE}/studio/#/`);
  const rows = page.locator("table.list tbody tr");
  await rows.nth(49).waitFor();
  await page.getByRole("searchbox", { name: "Search title or slug" }).fill("flawless needling");
  await page.getByText(/^1 of \d+ articles match\.$/).waitFor();
  assert.equal(await rows.count(), 1);
  await rows.first().getByRole("link", { name: "Explore Micro Needling for Flawless Skin Today" }).waitFor();
  await page.getByRole("searchbox", { name: "Search title or slug" }).fill("older-draft-4");
  await page.getByText(/^11 of \d+ articles match\.$/).waitFor(); // older-draft-4 and 40–49
  await page.getByRole("searchbox", { name: "Search title or slug" }).fill("");
  await page.getByText(/^\d+ articles\.$/).waitFor();
  await page.getByLabel("Status").selectOption("published");
  await page.getByText(/^\d+ of \d+ articles match\.$/).waitFor();
  const statuses = await rows.locator("td:nth-child(2) .badge").allTextContents();
  assert.ok(statuses.length > 0 && statuses.every((s) => s === "published"), `${statuses}`);
  await page.getByLabel("Status").selectOption("");
  await page.getByLabel("Author").selectOption("studio test");
  await page.getByLabel("Sort by").selectOption("title");
  const titles = await rows.locator("td:first-child a").allTextContents();
  assert.equal(titles.length, 50, "the 50 older drafts");
  assert.equal(await rows.locator(".badge", { hasText: "pending in" }).count(), 0, "none is staged");
  assert.deepEqual(titles, [...titles].sort((a, b) => a.localeCompare(b)), "sorted by title");
  await accessible("articles, filtered");
  await page.getByLabel("Author").selectOption("");
  await page.getByLabel("Sort by").selectOption("published");
});

// ---- 10c. a long form: outline, folding, the save bar, Ctrl+S ----
const measured = {};
const risksOf = async () => section((await publicArticle()).json, "risks");
await step("a long article: outline to \"Add risk\" in ≤ 25 keys, folding, item headings, the save bar on screen, Ctrl+S saves", async () => {
  await page.goto(`${BASE}/studio/#/`);
  await page.getByRole("link", { name: "Explore Micro Needling for Flawless Skin Today" }).click();
  await page.locator("#article-form").waitFor();
  const t0 = Date.now();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "main", "opening an article starts from the page");
  // Keys from opening the article to "Add risk": Tab through the head to the outline, Enter on "Risks", Tab on.
  let keys = 0;
  for (;;) {
    await page.keyboard.press("Tab");
    keys += 1;
    const at = await page.evaluate(() => ({ text: document.activeElement?.textContent?.trim(), tag: document.activeElement?.tagName }));
    if (at.tag === "A" && /^Risks/.test(at.text)) {
      await page.keyboard.press("Enter");
      keys += 1;
    }
    if (at.text === "Add risk") break;
    assert.ok(keys < 25, `"Add risk" not reached in ${keys} keys (at ${JSON.stringify(at)})`);
  }
  measured.keysToAddRisk = keys;
  assert.ok(keys <= 25, `${keys} keys to "Add risk"`);
  // The tenth item of the article, edited: the outline's "Benefits" then its fields.
  await page.getByRole("navigation", { name: "Outline" }).getByRole("link", { name: /^Benefits/ }).click();
  await page.locator('[data-kind="benefits"] li.item').nth(1).getByLabel("Title").focus();
  measured.openToTenthItemMs = Date.now() - t0;
  // Item headings say the item's title.
  const risks = page.locator('[data-kind="risks"]');
  const live = await risksOf();
  assert.equal(await risks.locator("li.item h3").first().textContent(), live.items[0].title);
  // Folding: the risks' fields leave the page until unfolded; the outline unfolds what it jumps to.
  const fold = risks.getByRole("button", { name: /^Risks/ });
  await fold.click();
  assert.equal(await fold.getAttribute("aria-expanded"), "false");
  assert.equal(await risks.locator("li.item").first().isVisible(), false);
  await page.getByRole("navigation", { name: "Outline" }).getByRole("link", { name: /^Risks/ }).click();
  assert.equal(await fold.getAttribute("aria-expanded"), "true");
  await risks.locator("li.item").first().waitFor();
  // Page heights, unfolded and folded, at 1280 and 390 px.
  const height = () => page.evaluate(() => document.documentElement.scrollHeight);
  const outline = page.getByRole("navigation", { name: "Outline" });
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    measured[`height${width}`] = await height();
    await outline.getByRole("button", { name: "Collapse all" }).click();
    measured[`height${width}Folded`] = await height();
    await outline.getByRole("button", { name: "Expand all" }).click();
    // Far down the form, Save is on screen.
    await page.locator('[data-kind="conclusion"]').evaluate((element) => element.scrollIntoView());
    const box = await page.getByRole("button", { name: "Save", exact: true }).boundingBox();
    const viewport = page.viewportSize();
    assert.ok(box && box.y >= 0 && box.y + box.height <= viewport.height, `Save is on screen at ${width} px: ${JSON.stringify(box)}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot("outline");
  await accessible("editor with outline and save bar");
  // Ctrl+S saves from a field, wherever it is.
  const title = risks.locator("li.item").nth(1).getByLabel("Title");
  await title.fill("Redness and swelling for a day or two");
  assert.equal(await risks.locator("li.item h3").nth(1).textContent(), "Redness and swelling for a day or two", "the heading follows the title");
  await page.keyboard.press("Control+s");
  await status().getByText(/Saved version/).waitFor();
  assert.equal((await risksOf()).items[1].title, "Redness and swelling for a day or two");
  assert.equal(await title.evaluate((box) => document.activeElement === box), true, "focus stays in the field");
});

await step("saving with no changes sends nothing and says so; required fields are marked; the preview follows the section being edited", async () => {
  const version = (await publicArticle()).json.version;
  const puts = [];
  const count = (request) => { if (request.method() === "PUT") puts.push(request.url()); };
  page.on("request", count);
  await page.keyboard.press("Control+s");
  await status().getByText(`No changes to save: version ${version} is current.`).waitFor();
  page.off("request", count);
  assert.deepEqual(puts, [], "no request");
  assert.equal((await publicArticle()).json.version, version, "no new version");
  const heading = page.locator('[data-kind="risks"]').getByLabel("Heading");
  assert.equal(await heading.getAttribute("aria-required"), "true");
  assert.equal(await page.locator('[data-kind="risks"]').getByLabel("Introduction (optional)").getAttribute("aria-required"), null);
  await heading.focus();
  const shown = await page.evaluate(() => {
    const pane = document.querySelector(".preview");
    const target = pane.querySelector('.preview-body [data-section="risks"]');
    const top = target.getBoundingClientRect().top - pane.getBoundingClientRect().top;
    return { top, height: pane.clientHeight, scrolled: pane.scrollTop };
  });
  assert.ok(shown.scrolled > 0 && shown.top >= 0 && shown.top < shown.height, `the risks show in the preview: ${JSON.stringify(shown)}`);
});

await step("removing an item offers Undo, which brings it back where it was", async () => {
  const before = (await risksOf()).items.map((i) => i.id);
  const risks = page.locator('[data-kind="risks"]');
  await risks.getByRole("button", { name: "Remove risk 2" }).click();
  assert.equal(await risks.locator("li.item").count(), before.length - 1);
  await status().getByRole("button", { name: "Undo" }).click();
  await status().getByText(/is back/).waitFor();
  assert.deepEqual(await risks.locator("li.item").evaluateAll((items) => items.map((li) => li.dataset.key)), before);
  await page.locator("#save-state").getByText("Everything saved").waitFor();
});

await step("the error summary names the section and the item of each problem", async () => {
  const risks = page.locator('[data-kind="risks"]');
  const title = risks.locator("li.item").nth(2).getByLabel("Title");
  const kept = await title.inputValue();
  await title.fill("");
  await page.keyboard.press("Control+s");
  await page.locator("#form-errors").getByRole("link", { name: /^Risks › Risk 3 › Title: / }).waitFor();
  await title.fill(kept);
  await page.keyboard.press("Control+s");
  await status().getByText(/No changes to save/).waitFor();
  assert.equal(await page.locator("#form-errors").isVisible(), false, "the summary is gone");
});

await step("a reload keeps the unsaved edit: offered back, restored, saved, then forgotten", async () => {
  const body = page.locator('[data-kind="overview"]').getByLabel("Body");
  const mine = "Micro-needling makes tiny punctures that prompt the skin to repair itself.";
  await body.fill(mine);
  await page.waitForFunction(() => localStorage.length > 0);
  const stored = await page.evaluate(() => Object.keys(localStorage));
  assert.deepEqual(stored, [`lamina.studio.draft:${SLUG}||`], "one kept edit: nothing else was left behind (saved, staged or discarded edits are forgotten)");
  assert.ok(!(await page.evaluate(() => JSON.stringify({ ...localStorage }))).includes(EDITOR.slice(-12)), "never the token");
  await page.reload();
  const offer = page.getByRole("region", { name: "Unsaved edit kept in this browser" });
  await offer.waitFor();
  assert.notEqual(await body.inputValue(), mine, "not applied before asked");
  await accessible("kept edit offered");
  await offer.getByRole("button", { name: "Restore my unsaved edit" }).click();
  assert.equal(await body.inputValue(), mine);
  await page.keyboard.press("Control+s");
  await status().getByText(/Saved version/).waitFor();
  assert.equal(section((await publicArticle()).json, "overview").body, mine);
  assert.equal(await page.evaluate(() => localStorage.length), 0, "a saved edit is forgotten");
  // Made from an older version, a kept edit is applied on top of the current one.
  await body.fill(`${mine} Then it heals.`);
  await page.waitForFunction(() => localStorage.length === 1);
  const live = await api("GET", `/v1/articles/${SLUG}/sections/risks`, { token: EDITOR });
  const { kind, heading, intro, items } = live.json;
  const theirs = { kind, heading: `${heading} (while I was away)`, intro, items: items.map(({ id, title, body: text }) => ({ id, title, body: text })) };
  assert.equal((await api("PUT", `/v1/articles/${SLUG}/sections/risks`, { token: EDITOR, body: theirs, ifMatch: live.etag })).status, 200);
  await page.reload();
  await offer.getByText(/applies it on top/).waitFor();
  await offer.getByRole("button", { name: "Restore my unsaved edit" }).click();
  assert.equal(await body.inputValue(), `${mine} Then it heals.`);
  assert.equal(await page.locator('[data-kind="risks"]').getByLabel("Heading").inputValue(), theirs.heading, "their change stays");
  await page.locator("#save-bar").getByRole("button", { name: "Save", exact: true }).click();
  await status().getByText(/Saved version/).waitFor();
  assert.equal(section((await publicArticle()).json, "risks").heading, theirs.heading);
});

// ---- 10d. a translation (API.md §13) ----
await step("a translation: switch to German, the original beside each field, next untranslated, save in German, publish it", async () => {
  const created = await api("PUT", "/v1/locales/de", { token: ADMIN, body: { name: "Deutsch" } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  await page.goto(`${BASE}/studio/#/`);
  await openArticle();
  const english = (await publicArticle()).json;
  await page.getByLabel("Language").selectOption("de");
  await page.waitForURL(/locale=de/);
  await page.locator("#translation-status").getByText(/missing/).waitFor();
  const title = page.locator("#article-form fieldset.meta").getByLabel("Title");
  assert.equal(await title.inputValue(), "", "untranslated: empty, not the English text");
  const hint = await title.evaluate((box) => document.getElementById(box.getAttribute("aria-describedby")).textContent);
  assert.equal(hint, `Untranslated. Original: ${english.title}`);
  assert.equal(await page.getByRole("button", { name: "Add risk" }).count(), 0, "no structure changes in a translation");
  assert.equal(await page.getByLabel("Author").getAttribute("readonly"), "", "the author is the same in every locale");
  assert.equal(await page.locator(".preview-body h3, .preview-body h1, .preview-body h2").first().textContent(), english.title, "the preview falls back as readers will");
  await page.getByRole("button", { name: "Next untranslated" }).click();
  assert.ok(await title.evaluate((box) => document.activeElement === box), "the first untranslated text is the title");
  await page.keyboard.type("Microneedling für makellose Haut");
  await page.getByRole("button", { name: "Next untranslated" }).click();
  const summary = page.getByLabel("Summary (lead paragraph)");
  assert.ok(await summary.evaluate((box) => document.activeElement === box), "then the summary");
  await page.keyboard.type("Microneedling verjüngt die Haut.");
  await accessible("translation editor");
  await page.keyboard.press("Control+s");
  await status().getByText(/Saved version/).waitFor();
  const german = await api("GET", `/v1/articles/${SLUG}?locale=de`, { token: EDITOR });
  assert.equal(german.json.title, "Microneedling für makellose Haut");
  assert.equal(german.json.summary, "Microneedling verjüngt die Haut.");
  assert.equal(german.json.sections[0].heading, english.sections[0].heading, "untranslated texts are not copied");
  assert.equal(german.json.fallbacks["/sections/0/heading"], "en");
  assert.equal((await publicArticle()).json.title, english.title, "English is unchanged");
  assert.equal((await api("GET", `/v1/articles/${SLUG}?locale=de`)).json.title, english.title, "a draft translation: anonymous readers get the fallback");
  await page.getByRole("button", { name: "Publish the Deutsch translation" }).click();
  await status().getByText(/translation is published/).waitFor();
  assert.equal((await api("GET", `/v1/articles/${SLUG}?locale=de`)).json.title, "Microneedling für makellose Haut", "published: readers get it");
  await page.locator("#translation-status").getByText(/2 translated.*translation published/).waitFor();
  await page.getByLabel("Language").selectOption("en");
  await page.waitForURL((url) => !url.hash.includes("locale="));
  await page.locator("#article-form fieldset.meta").getByLabel("Title").waitFor();
  assert.equal(await page.locator("#article-form fieldset.meta").getByLabel("Title").inputValue(), english.title);
});

// ---- 10e. both changed one text: word diff, and theirs, mine or a merged text ----
await step("a same-field conflict: their words mine would drop are marked, and a merged text keeps both", async () => {
  await openArticle();
  const live = await api("GET", `/v1/articles/${SLUG}/sections/overview`, { token: EDITOR });
  const { kind, heading, body: original } = live.json;
  const theirs = `${original} Results build over several sessions.`;
  assert.equal((await api("PUT", `/v1/articles/${SLUG}/sections/overview`, { token: EDITOR, body: { kind, heading, body: theirs }, ifMatch: live.etag })).status, 200);
  const mine = `${original} It suits most skin types.`;
  await page.locator('[data-kind="overview"]').getByLabel("Body").fill(mine);
  await page.keyboard.press("Control+s");
  const dialog = page.getByRole("dialog", { name: "Someone else saved this article meanwhile" });
  const row = dialog.getByRole("row", { name: /Overview › Body \(both changed\)/ });
  await row.waitFor();
  // Mine, as a word diff against theirs: the colleague's sentence is struck through, mine underlined.
  const marked = (tag) => row.locator(`td.mine ${tag}`).evaluateAll((parts) => parts
    .map((part) => [...part.childNodes].filter((node) => !node.classList?.contains("sr-only")).map((node) => node.textContent).join(""))
    .join(" "));
  assert.equal(await marked("del"), "Results build over several sessions.");
  assert.equal(await marked("ins"), "It suits most skin types.");
  await accessible("conflict on one text");
  await row.getByRole("radio", { name: "Edit a merged text" }).check();
  const both = `${original} Results build over several sessions. It suits most skin types.`;
  await row.getByRole("textbox", { name: "Merged text of Overview › Body" }).fill(both);
  await dialog.getByRole("button", { name: "Apply my changes on top of theirs" }).click();
  await status().getByText(/Saved version/).waitFor();
  assert.equal(section((await publicArticle()).json, "overview").body, both, "both sentences stored");
  // Taking theirs keeps their text and drops mine.
  const again = await api("GET", `/v1/articles/${SLUG}/sections/overview`, { token: EDITOR });
  const theirsNow = `${both} Ask about downtime.`;
  assert.equal((await api("PUT", `/v1/articles/${SLUG}/sections/overview`, { token: EDITOR, body: { kind, heading, body: theirsNow }, ifMatch: again.etag })).status, 200);
  await page.locator('[data-kind="overview"]').getByLabel("Body").fill(`${both} Mine again.`);
  await page.keyboard.press("Control+s");
  await row.getByRole("radio", { name: "Theirs" }).check();
  await dialog.getByRole("button", { name: "Apply my changes on top of theirs" }).click();
  await page.locator("#save-state").getByText("Everything saved").waitFor();
  assert.equal(await page.locator('[data-kind="overview"]').getByLabel("Body").inputValue(), theirsNow);
});

// ---- 10f. staging into a new release from the editor ----
await step("staging offers a new release beside the open ones, and stages into it", async () => {
  await openArticle();
  await page.locator('[data-kind="conclusion"]').getByLabel("Heading").fill("In short");
  await page.getByRole("button", { name: "Stage in a release…" }).click();
  const staging = page.getByRole("dialog", { name: "Stage this edit in a release" });
  await staging.getByRole("radio", { name: "A new release" }).check();
  await staging.getByRole("button", { name: "Stage this edit in the release" }).click();
  await staging.getByText("Name the new release first.").waitFor();
  await staging.getByLabel("Title of the new release").fill("Spring update");
  await staging.getByRole("button", { name: "Stage this edit in the release" }).click();
  await status().getByText("Staged in “Spring update”", { exact: false }).waitFor();
  const releases = (await api("GET", "/v1/releases", { token: EDITOR })).json.items;
  const spring = releases.find((r) => r.title === "Spring update");
  assert.ok(spring, "the release was created");
  const staged = await api("GET", `/v1/articles/${SLUG}?release=${spring.id}`, { token: EDITOR });
  assert.equal(section(staged.json, "conclusion").heading, "In short", "the edit is staged in it");
  assert.notEqual(section((await publicArticle()).json, "conclusion").heading, "In short", "live is unchanged");
  // The list marks the article as pending in that release.
  await page.getByRole("navigation").getByRole("link", { name: "Articles" }).click();
  const row = page.locator("table.list tbody tr", { has: page.getByRole("link", { name: "Explore Micro Needling for Flawless Skin Today" }) });
  await row.getByText(/pending in .*“Spring update”/).waitFor();
});

// ---- 10g. revisions that explain themselves ----
await step("revisions: each says what it changed, a title change is no change of order, and one compares with the one before", async () => {
  await page.goto(`${BASE}/studio/#/`);
  await openArticle();
  const title = page.locator('[data-kind="risks"] li.item').nth(0).getByLabel("Title");
  const old = await title.inputValue();
  await title.fill("Mild redness");
  await page.keyboard.press("Control+s");
  await status().getByText(/Saved version/).waitFor();
  const version = (await publicArticle()).json.version;
  await page.locator("#save-bar").getByRole("link", { name: "Revisions" }).click();
  await page.waitForFunction(() => document.querySelector("table.list tbody")?.dataset.summarized === "true");
  const newest = page.locator("table.list tbody tr").first();
  assert.equal(await newest.locator("td .hint").textContent(), "Risks › Risk “Mild redness” › Title", "only the title: no change of order");
  await newest.getByRole("button", { name: `Compare version ${version}` }).click();
  await page.getByRole("heading", { name: "What this revision changed" }).waitFor();
  const changed = page.locator(".diff-table").first();
  await changed.locator("del", { hasText: old.split(" ")[0] }).first().waitFor();
  await changed.locator("ins", { hasText: "Mild" }).first().waitFor();
  await accessible("revision: what it changed");
});

// ---- 10h. expectations grouped by phase ----
await step("expectations are grouped by phase as readers see them; a new one goes to the phase it was added in", async () => {
  await page.goto(`${BASE}/studio/#/`);
  await openArticle();
  const expect = page.locator('[data-kind="expectations"]');
  for (const phase of ["before", "during", "after"]) {
    const phases = await expect.locator(`.phase-group[data-phase="${phase}"] li.item select`).evaluateAll((selects) => selects.map((s) => s.value));
    assert.ok(phases.every((p) => p === phase), `${phase}: ${phases}`);
  }
  await expect.getByRole("button", { name: "Add expectation during" }).click();
  const added = expect.locator('.phase-group[data-phase="during"] li.item').last();
  assert.ok(await added.getByLabel("Title").evaluate((box) => document.activeElement === box), "focus in the new item");
  await added.getByLabel("Title").fill("A warm feeling");
  await added.getByLabel("Text").fill("The skin feels warm, like a mild sunburn.");
  await page.keyboard.press("Control+s");
  await status().getByText(/Saved version/).waitFor();
  const items = section((await publicArticle()).json, "expectations").items;
  const at = items.findIndex((i) => i.title === "A warm feeling");
  assert.equal(items[at].phase, "during");
  assert.equal(items.map((i) => i.phase).lastIndexOf("during"), at, "after the last expectation during");
  // A new phase moves the item to that phase's group.
  const first = expect.locator('.phase-group[data-phase="before"] li.item').first();
  const moving = await first.getByLabel("Title").inputValue();
  await first.getByLabel("Phase").selectOption("after");
  await expect.locator('.phase-group[data-phase="after"] li.item h3', { hasText: moving }).waitFor();
  await accessible("expectations by phase");
  const saved = page.waitForResponse((response) => response.request().method() === "PUT" && response.url().includes(`/v1/articles/${SLUG}`));
  await page.keyboard.press("Control+s");
  assert.equal((await saved).status(), 200);
  assert.equal(section((await publicArticle()).json, "expectations").items.find((i) => i.title === moving).phase, "after");
});

// ---- 11. a preview token sees but cannot change ----
await step("sign out, then a preview token: read only, no releases, no save", async () => {
  // An edit kept in the browser is forgotten on signing out (a shared computer keeps no unpublished text).
  await openArticle();
  await page.locator('[data-kind="overview"]').getByLabel("Heading").fill("Kept until signing out");
  await page.waitForFunction(() => localStorage.length === 1);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("dialog", { name: "Leave without saving?" }).getByRole("button", { name: "Leave" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "signing out forgets the token");
  assert.equal(await page.evaluate(() => localStorage.length), 0, "and the kept edits");
  await page.getByLabel("API token").fill(PREVIEW);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Explore Micro Needling for Flawless Skin Today" }).waitFor();
  assert.equal(await page.locator("#role").textContent(), "preview token");
  await status().getByText("Signed in with a preview token.").waitFor();
  assert.equal(await page.getByRole("link", { name: "Releases" }).count(), 0, "releases are hidden");
  assert.equal(await page.getByRole("link", { name: "New article" }).count(), 0);
  await openArticle();
  assert.equal(await page.getByRole("button", { name: "Save", exact: true }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Revisions" }).count(), 0, "revisions need an editor");
  assert.equal(await stepItem(0).getByLabel("Title").getAttribute("readonly"), "");
  await accessible("editor, preview token");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

await step("no console errors, page errors or CSP violations during the run", async () => {
  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual([...problems, ...csp.map((v) => `CSP violation: ${v}`)], []);
  // The 4xx answers are the ones the run provokes: a bad token (401), the
  // role check of an editor token (403 from the admin-only webhook list), a
  // 422, a 412, a release conflict (409), and the deleted draft (404).
  const unexpected = failedResponses.filter((line) => !/^(401|403|404|409|412|422) /.test(line));
  assert.deepEqual(unexpected, [], "no 5xx and no other error answers");
  for (const code of ["401", "412", "422", "409"]) {
    assert.ok(failedResponses.some((line) => line.startsWith(code)), `the run saw its provoked ${code}`);
  }
  console.log(`error answers the run provoked: ${failedResponses.join(", ")}`);
});

await browser.close();
console.log(`\nfirst load: ${weight} bytes transferred, interactive at ${interactive} ms`);
console.log(`editor: ${JSON.stringify(measured)}`);
console.log(`axe: ${axeReport.map((r) => `${r.screen} ${r.serious}/${r.violations}${r.ids.length ? ` [${r.ids.join(" ")}]` : ""}`).join("; ")} (serious-or-critical/all)`);
console.log(`studio browser tests: ${results.filter((r) => r.ok).length}/${results.length} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

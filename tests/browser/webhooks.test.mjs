// The studio's Webhooks screen in a real browser (admin token): create an
// endpoint pointing at a local receiver (lamina runs with
// LAMINA_WEBHOOK_ALLOW_PRIVATE=true), see its secret once, ping it and see
// the delivery arrive with its attempt, make the receiver answer 500 and see
// the failed attempt, retry, rotate, delete; an editor token is told it
// cannot; server text is shown as text. axe-core checks every screen.
//
// Env: LAMINA_URL, LAMINA_EDITOR_TOKEN, LAMINA_ADMIN_TOKEN, CHROMIUM.

import { createServer } from "node:http";
import assert from "node:assert/strict";
import { BASE, accessible as axeClean, launch, signIn as signInWith, stepper } from "./studio-page.mjs";

const EDITOR = process.env.LAMINA_EDITOR_TOKEN;
const ADMIN = process.env.LAMINA_ADMIN_TOKEN;
assert.ok(EDITOR && ADMIN, "LAMINA_EDITOR_TOKEN and LAMINA_ADMIN_TOKEN are required");

// ---- the receiver: answers `answer.status` with `answer.body` ----
const answer = { status: 200, body: "thanks" };
const received = [];
const receiver = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => { body += chunk; });
  request.on("end", () => {
    received.push({ headers: request.headers, body });
    response.writeHead(answer.status, { "Content-Type": "text/plain" });
    response.end(answer.body);
  });
});
await new Promise((done) => receiver.listen(0, "127.0.0.1", done));
const HOOK_URL = `http://127.0.0.1:${receiver.address().port}/hook`;

const { browser, context, page, problems } = await launch();
const { step, results } = stepper({ browser, page, problems, screenshot: "/tmp/studio-webhooks-failure.png", cleanup: () => receiver.close() });
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
const accessible = (screen) => axeClean(page, screen);
const signIn = (token) => signInWith(page, token);
/** Presses Refresh until the deliveries table shows a row matching `state`. */
async function waitForRow(state, attempts = 1) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const row = page.locator(`tr[data-state="${state}"]`).first();
    if (await row.count()) {
      const summary = await row.locator("summary").textContent();
      if (Number.parseInt(summary, 10) >= attempts) return row;
    }
    assert.ok(Date.now() < deadline, `a ${state} delivery with ${attempts} attempt(s) shows`);
    await page.waitForTimeout(300);
    await page.getByRole("button", { name: "Refresh" }).click();
  }
}

let endpointId = "";
let secret = "";
await step("webhooks: an editor token is told the screen needs an admin token", async () => {
  await signIn(EDITOR);
  assert.equal(await page.getByRole("link", { name: "Webhooks" }).isVisible(), false, "the nav hides it");
  await page.goto(`${BASE}/studio/#/webhooks`);
  await page.getByText("Webhooks are managed with an admin token").waitFor();
  await accessible("webhooks, editor token");
});

await step("webhooks: an admin creates an endpoint and sees its secret once; a bad URL is a clear problem", async () => {
  await signIn(ADMIN);
  await page.getByRole("link", { name: "Webhooks" }).click();
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  await page.getByText("No endpoints yet.").waitFor();
  await accessible("webhooks, empty");
  await page.getByLabel("URL").fill("ftp://example.com/x");
  await page.getByLabel("URL").evaluate((input) => { input.type = "text"; });
  await page.getByRole("button", { name: "Create endpoint" }).click();
  await page.getByRole("alert").getByText(/^Not created: /).waitFor();
  await page.getByLabel("URL").fill(HOOK_URL);
  await page.getByLabel("Description").fill('<img src=x onerror="window.__xss=1">');
  await page.getByRole("button", { name: "Create endpoint" }).click();
  const box = page.getByLabel("Signing secret");
  await box.waitFor();
  secret = await box.inputValue();
  assert.match(secret, /^whsec_/);
  await page.getByText("Shown only now").waitFor();
  await page.getByRole("button", { name: "Copy secret" }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  // The description is text, not markup.
  await page.getByText('<img src=x onerror="window.__xss=1">').waitFor();
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await accessible("webhooks, secret shown");
  const list = (await (await fetch(`${BASE}/v1/webhooks`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json()).items;
  const created = list.find((w) => w.url === HOOK_URL);
  assert.ok(created, "stored");
  endpointId = created.id;
  assert.equal(JSON.stringify(created).includes(secret), false, "the list never shows the secret");
  // Gone once the screen is drawn again.
  await page.reload();
  await page.getByRole("link", { name: HOOK_URL }).waitFor();
  assert.equal(await page.getByLabel("Signing secret").count(), 0, "the secret is shown only once");
});

await step("webhooks: ping arrives, the delivery shows as delivered with its attempt", async () => {
  await page.getByRole("button", { name: `Ping ${HOOK_URL}` }).click();
  await page.locator("#status").getByText("Ping queued").waitFor();
  await page.getByRole("link", { name: HOOK_URL }).click();
  await page.getByRole("heading", { name: `Deliveries to ${HOOK_URL}` }).waitFor();
  const row = await waitForRow("delivered");
  assert.ok(received.some((r) => r.body.includes("webhook.ping")), "the receiver got the ping");
  await row.locator("summary").press("Enter");
  const attempts = row.locator("table.attempts tbody tr");
  assert.equal(await attempts.count(), 1);
  await attempts.first().getByText("HTTP 200").waitFor();
  await attempts.first().getByText("thanks").waitFor();
  await accessible("webhooks, deliveries");
});

await step("webhooks: a 500 shows as a failed attempt; Retry sends it again and it is delivered", async () => {
  answer.status = 500;
  answer.body = "<b>broken</b>";
  await page.getByRole("link", { name: "← All webhooks" }).click();
  await page.getByRole("button", { name: `Ping ${HOOK_URL}` }).click();
  await page.locator("#status").getByText("Ping queued").waitFor();
  await page.getByRole("link", { name: HOOK_URL }).click();
  await page.getByLabel("State").selectOption("pending");
  const row = await waitForRow("pending");
  await row.locator("summary").click();
  const attempt = row.locator("table.attempts tbody tr").first();
  await attempt.getByText("HTTP 500").waitFor();
  await attempt.getByText("<b>broken</b>").waitFor();
  answer.status = 200;
  answer.body = "fixed";
  await row.getByRole("button", { name: /^Retry / }).click();
  await page.locator("#status").getByText("queued again").waitFor();
  await page.getByLabel("State").selectOption("delivered");
  const done = page.locator('tr[data-state="delivered"]');
  const deadline = Date.now() + 60_000;
  while ((await done.count()) < 2) {
    assert.ok(Date.now() < deadline, "the retried delivery is delivered");
    await page.waitForTimeout(300);
    await page.getByRole("button", { name: "Refresh" }).click();
  }
  await accessible("webhooks, deliveries filtered");
});

await step("webhooks: disable shows the state, rotate shows a new secret once, delete asks first", async () => {
  await page.getByRole("link", { name: "← All webhooks" }).click();
  await page.getByRole("button", { name: `Disable ${HOOK_URL}` }).click();
  await page.getByRole("cell", { name: /^Disabled/ }).waitFor();
  await page.getByRole("button", { name: `Enable ${HOOK_URL}` }).click();
  await page.getByRole("cell", { name: "Enabled", exact: true }).waitFor();
  await page.getByRole("button", { name: `Rotate secret of ${HOOK_URL}` }).click();
  await page.getByRole("dialog", { name: "Rotate the secret?" }).getByRole("button", { name: "Rotate" }).click();
  const box = page.getByLabel("Signing secret");
  await box.waitFor();
  const rotated = await box.inputValue();
  assert.match(rotated, /^whsec_/);
  assert.notEqual(rotated, secret);
  await page.getByText("The previous secret still signs until").waitFor();
  await accessible("webhooks, rotated");
  await page.getByRole("button", { name: `Delete ${HOOK_URL}` }).click();
  await page.getByRole("dialog", { name: "Delete this endpoint?" }).getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("link", { name: HOOK_URL }).waitFor();
  await page.getByRole("button", { name: `Delete ${HOOK_URL}` }).click();
  await page.getByRole("dialog", { name: "Delete this endpoint?" }).getByRole("button", { name: "Delete" }).click();
  await page.getByText("No endpoints yet.").waitFor();
  const gone = await fetch(`${BASE}/v1/webhooks/${endpointId}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  assert.equal(gone.status, 404);
});

await step("webhooks: no page errors or console errors", async () => {
  assert.deepEqual(problems, []);
});

await browser.close();
receiver.close();
console.log(`studio webhooks browser tests: ${results.filter((r) => r.ok).length}/${results.length} passed`);

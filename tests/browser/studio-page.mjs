// What the studio's browser tests share: Chromium with the page's problems
// collected (console errors other than provoked 4xx answers, page errors),
// axe-core on a screen, and signing in with a token.
//
// Env: LAMINA_URL, CHROMIUM.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
export const BASE = process.env.LAMINA_URL || "http://127.0.0.1:8080";
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** Launches Chromium at 1280×900; `problems` collects console and page errors (4xx answers are provoked on purpose). */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) return;
    problems.push(`console error: ${message.text()}`);
  });
  return { browser, context, page, problems };
}

/** axe-core on the page's current screen: no serious or critical violations. */
export async function accessible(page, screen) {
  await page.evaluate(AXE);
  const bad = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, target: v.nodes[0]?.target?.join(" ") }));
  });
  assert.deepEqual(bad, [], `axe on ${screen}: ${JSON.stringify(bad, null, 1)}`);
}

/** Signs in with `token` from a fresh tab state. */
export async function signIn(page, token) {
  await page.goto(`${BASE}/studio/`);
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(`${BASE}/studio/#/`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#role").getByText(/token/).waitFor();
}

/**
 * The run's steps: each is timed and reported; the first failure is reported
 * with `problems`, screenshots the page to `screenshot`, calls `cleanup`, and
 * ends the run. `results` holds { name, ok } per step.
 */
export function stepper({ browser, page, problems, screenshot, cleanup = () => {} }) {
  const results = [];
  async function step(name, body) {
    const t0 = Date.now();
    try {
      await body();
      results.push({ name, ok: true });
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (error) {
      results.push({ name, ok: false });
      console.log(`FAIL ${name}\n${error.stack || error}`);
      console.log(`problems so far: ${JSON.stringify(problems)}`);
      await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
      await browser.close();
      cleanup();
      process.exit(1);
    }
  }
  return { step, results };
}

/** A request to the API as a client of it (another editor, an anonymous reader): { status, etag, json }. */
export async function api(method, path, { token, body, ifMatch } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (ifMatch) headers["If-Match"] = ifMatch;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, etag: response.headers.get("etag"), json: text ? JSON.parse(text) : null };
}

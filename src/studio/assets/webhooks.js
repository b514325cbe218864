// Webhooks (API.md §9), for admin tokens: endpoints (create with the secret
// shown once, enable/disable, ping, rotate the secret, delete) and each
// endpoint's deliveries with every attempt, retrying failed ones.
// Server text is always rendered as text (h() never parses HTML).

import { del, get, post, put, session } from "./api.js";
import { confirmDialog, field, formError, h, listTable, replace, say, showError, submitForm, when } from "./dom.js";

const EVENTS = ["*", "article.created", "article.updated", "article.deleted", "article.published",
  "article.unpublished", "release.published", "release.failed"];
const hookPath = (id, rest = "") => `/v1/webhooks/${encodeURIComponent(id)}${rest}`;

/** A problem document, said clearly: its title and detail, and the fields it names. */
function problemText(error) {
  const fields = (error.errors || []).map((e) => `${e.field || e.pointer || ""}: ${e.detail || e.message || ""}`);
  return [error.message, ...fields].filter(Boolean).join(" — ");
}

/** The secret, shown once in a read-only field with a copy button. */
function secretBox(secret, heading) {
  const input = h("input", { type: "text", readonly: true, value: secret, class: "webhook-secret", spellcheck: "false", autocomplete: "off" });
  const copy = h("button", {
    type: "button",
    onclick: async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(secret);
        say("Secret copied.");
      } catch {
        say("Select the secret and copy it (the browser refused the clipboard).", "error");
      }
    },
  }, "Copy secret");
  return h("section", { class: "secret-once", "aria-label": heading },
    h("h2", {}, heading),
    h("p", { class: "hint" }, "Shown only now: lamina keeps no readable copy. Store it in the receiver before you leave this screen."),
    field("Signing secret", input), copy);
}

function body(endpoint, changes) {
  return {
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    enabled: endpoint.enabled,
    slugs: endpoint.slugs ?? undefined,
    section_kinds: endpoint.section_kinds ?? undefined,
    status: endpoint.status ?? undefined,
    ...changes,
  };
}

async function list(main, shown = null) {
  const { data } = await get("/v1/webhooks");
  const url = h("input", { type: "url", required: true, autocomplete: "off", placeholder: "https://example.com/hooks" });
  const description = h("input", { type: "text", autocomplete: "off", maxlength: 500 });
  const boxes = EVENTS.map((event) => h("input", { type: "checkbox", value: event, checked: event === "*" }));
  const error = formError();
  const create = submitForm({ class: "webhook-form", "aria-label": "New webhook endpoint" }, error, async () => {
    const events = boxes.filter((b) => b.checked).map((b) => b.value);
    try {
      const { data: created } = await post("/v1/webhooks", { url: url.value.trim(), events, description: description.value });
      say(`Webhook endpoint created for ${created.url}.`);
      await list(main, secretBox(created.secret, `Secret of ${created.url}`));
    } catch (failure) {
      showError(error, `Not created: ${problemText(failure)}`, url);
    }
  },
  h("h2", {}, "New endpoint"),
  field("URL", url),
  field("Description", description),
  h("fieldset", {}, h("legend", {}, "Events"),
    boxes.map((b, i) => h("label", { class: "check" }, b, ` ${EVENTS[i] === "*" ? "All events (*)" : EVENTS[i]}`))),
  error,
  h("button", { type: "submit" }, "Create endpoint"));

  const rows = data.items.map((w) => {
    const state = w.enabled ? "Enabled" : `Disabled${w.disabled_reason ? `: ${w.disabled_reason}` : ""}`;
    const act = (label, aria, run) => h("button", {
      type: "button",
      "aria-label": aria,
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await run();
        } catch (failure) {
          say(`${label} failed: ${problemText(failure)}`, "error");
          event.target.disabled = false;
        }
      },
    }, label);
    return h("tr", {},
      h("td", {}, h("a", { href: `#/webhooks/${encodeURIComponent(w.id)}` }, w.url), w.description ? h("br", {}) : null, w.description || null),
      h("td", {}, w.events.join(", ")),
      h("td", { class: w.enabled ? "" : "disabled" }, state),
      h("td", { class: "actions" },
        act(w.enabled ? "Disable" : "Enable", `${w.enabled ? "Disable" : "Enable"} ${w.url}`, async () => {
          await put(hookPath(w.id), body(w, { enabled: !w.enabled }));
          say(`${w.url} ${w.enabled ? "disabled" : "enabled"}.`);
          await list(main);
        }),
        act("Ping", `Ping ${w.url}`, async () => {
          await post(hookPath(w.id, "/ping"));
          say(`Ping queued for ${w.url}: see its deliveries.`);
          await list(main);
        }),
        act("Rotate secret", `Rotate secret of ${w.url}`, async () => {
          if (!(await confirmDialog("Rotate the secret?", `A new secret for ${w.url}: the old one keeps signing deliveries for a while, then stops.`, "Rotate"))) {
            await list(main);
            return;
          }
          const { data: rotated } = await post(hookPath(w.id, "/rotate-secret"));
          say(`Secret of ${w.url} rotated.`);
          const box = secretBox(rotated.secret, `New secret of ${w.url}`);
          if (rotated.previous_secret_expires_at) box.append(h("p", {}, `The previous secret still signs until ${when(rotated.previous_secret_expires_at)}.`));
          await list(main, box);
        }),
        act("Delete", `Delete ${w.url}`, async () => {
          if (!(await confirmDialog("Delete this endpoint?", `${w.url} gets no more events, and its deliveries go.`, "Delete"))) {
            await list(main);
            return;
          }
          await del(hookPath(w.id));
          say(`${w.url} deleted.`);
          await list(main);
        })));
  });
  replace(main,
    h("h1", {}, "Webhooks"),
    shown,
    listTable("list", "Webhook endpoints, oldest first", ["Endpoint", "Events", "State", "Actions"],
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 4 }, "No endpoints yet.")))),
    create);
  shown?.querySelector("input")?.focus();
}

function attemptList(delivery) {
  if (!delivery.attempt_history?.length) return h("p", {}, "No attempt yet.");
  return h("table", { class: "list attempts" },
    h("caption", {}, `Attempts of ${delivery.event}`),
    h("thead", {}, h("tr", {}, ["Time", "Duration", "Outcome", "Start of the answer"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, delivery.attempt_history.map((a) => h("tr", {},
      h("td", {}, when(a.attempted_at)),
      h("td", {}, `${a.duration_ms} ms`),
      h("td", {}, a.status != null ? `HTTP ${a.status}` : `Error: ${a.error || "unknown"}`),
      h("td", {}, h("code", {}, (a.response || "").slice(0, 200)))))));
}

async function deliveries(main, id) {
  const { data: w } = await get(hookPath(id));
  const filter = h("select", {}, ["", "pending", "delivered", "failed"].map((s) => h("option", { value: s }, s || "All")));
  const rows = h("tbody", {});
  const more = h("button", { type: "button", hidden: true }, "Load more");
  let cursor = null;
  /** The next page's rows (the first page's once `cursor` is null). */
  const page = async () => {
    const query = new URLSearchParams({ limit: "25" });
    if (cursor) query.set("cursor", cursor);
    if (filter.value) query.set("state", filter.value);
    const { data } = await get(hookPath(id, `/deliveries?${query}`));
    cursor = data.next_cursor;
    more.hidden = !cursor;
    return data.items.map((d) => {
      const details = h("details", {}, h("summary", {}, `${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`), attemptList(d));
      const retry = d.state === "failed" || (d.state === "pending" && d.attempts > 0)
        ? h("button", {
          type: "button",
          "aria-label": `Retry ${d.event} of ${when(d.created_at)}`,
          onclick: async () => {
            retry.disabled = true;
            try {
              await post(hookPath(id, `/deliveries/${encodeURIComponent(d.id)}/retry`));
              say(`${d.event} queued again.`);
              await reload();
            } catch (failure) {
              retry.disabled = false;
              say(`Not retried: ${problemText(failure)}`, "error");
            }
          },
        }, "Retry")
        : null;
      return h("tr", { dataset: { state: d.state } },
        h("td", {}, d.event),
        h("td", {}, when(d.created_at)),
        h("td", {}, d.state, d.last_status != null ? ` (HTTP ${d.last_status})` : "", d.last_error ? ` — ${d.last_error}` : ""),
        h("td", {}, details),
        h("td", {}, retry));
    });
  };
  const load = async () => rows.append(...(await page()));
  // The table keeps its rows until the new ones are there: no empty flash while it loads.
  const reload = async () => {
    cursor = null;
    const fresh = await page();
    rows.replaceChildren(...(fresh.length ? fresh : [h("tr", {}, h("td", { colspan: 5 }, "No deliveries."))]));
  };
  filter.addEventListener("change", () => reload().catch((e) => say(`Could not load: ${problemText(e)}`, "error")));
  more.addEventListener("click", () => load().catch((e) => say(`Could not load more: ${problemText(e)}`, "error")));
  const refresh = h("button", { type: "button", onclick: () => reload().catch((e) => say(problemText(e), "error")) }, "Refresh");
  replace(main,
    h("p", {}, h("a", { href: "#/webhooks" }, "← All webhooks")),
    h("h1", {}, `Deliveries to ${w.url}`),
    h("p", {}, w.enabled ? "Enabled." : `Disabled${w.disabled_reason ? `: ${w.disabled_reason}` : ""}.`),
    h("div", { class: "inline-form" }, field("State", filter), refresh),
    h("div", { class: "table-scroll" }, h("table", { class: "list" },
      h("caption", {}, "Deliveries, newest first"),
      h("thead", {}, h("tr", {}, ["Event", "Created", "State", "Attempts", "Retry"].map((t) => h("th", { scope: "col" }, t)))),
      rows)),
    more);
  await reload();
}

export async function openWebhooks(main, id) {
  if (session.role !== "admin") {
    replace(main, h("h1", {}, "Webhooks"),
      h("p", {}, "Webhooks are managed with an admin token; this token's role cannot see or change them. Sign in with an admin token."));
    return;
  }
  replace(main, h("h1", {}, "Webhooks"), h("p", { class: "loading" }, "Loading…"));
  if (id) await deliveries(main, id);
  else await list(main);
}

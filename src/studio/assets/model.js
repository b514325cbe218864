// The article as the studio edits it: the API's write shape (ArticleWrite),
// what each section kind holds, word counts as the server makes them, and
// the field-by-field comparison and three-way merge behind the conflict view
// and the revision diff.

const line = (name, label, optional = false) => ({ name, label, type: "line", optional });
const text = (name, label, optional = false) => ({ name, label, type: "text", optional });
const titled = (label) => ({ label, image: true, fields: [line("title", "Title"), text("body", "Text")] });

/** Every section kind, in the order a new article offers them. */
export const KINDS = {
  overview: { label: "Overview", fields: [line("heading", "Heading"), text("body", "Body")] },
  steps: { label: "Procedure steps", fields: [line("heading", "Heading"), text("intro", "Introduction", true)], items: titled("Step") },
  benefits: { label: "Benefits", fields: [line("heading", "Heading"), text("intro", "Introduction", true)], items: titled("Benefit") },
  expectations: {
    label: "What to expect",
    fields: [line("heading", "Heading"), text("intro", "Introduction", true)],
    phaseHeadings: true,
    items: {
      label: "Expectation",
      image: true,
      fields: [{ name: "phase", label: "Phase", type: "phase" }, line("title", "Title"), text("body", "Text")],
    },
  },
  aftercare_tips: { label: "Aftercare tips", fields: [line("heading", "Heading"), text("intro", "Introduction", true)], items: titled("Tip") },
  target_audiences: {
    label: "Who it is for",
    fields: [line("heading", "Heading"), text("intro", "Introduction", true), text("note", "Closing note", true)],
    items: { label: "Audience", fields: [text("description", "Description")] },
  },
  risks: { label: "Risks", fields: [line("heading", "Heading"), text("intro", "Introduction", true)], items: titled("Risk") },
  conclusion: {
    label: "Conclusion",
    fields: [line("heading", "Heading"), text("body", "Body"), text("call_to_action", "Call to action", true)],
  },
};

export const PHASES = ["before", "during", "after"];
export const PHASE_LABELS = { before: "Before", during: "During", after: "After" };

/** The metadata an editor sets. */
export const META = [
  line("title", "Title"),
  line("author", "Author"),
  { name: "published_on", label: "Publication date", type: "date" },
  { name: "status", label: "Status", type: "status" },
  text("summary", "Summary (lead paragraph)"),
];

/** Joins names in the "order of …" rows of a comparison. */
export const ORDER_SEPARATOR = " · ";

let temporary = 0;
/** A key for an item that has no id yet (not sent to the server). */
export function newKey() {
  temporary += 1;
  return `new-${temporary}`;
}

/** An item's identity in the studio: its id, or its temporary key. */
export const keyOf = (item) => item.id || item._key;

/**
 * An image use as the studio keeps it: the read as it came (`url`, `srcset`,
 * `width`… for the preview; a write may send them, the API ignores them).
 */
const imageOf = (image) => (image && image.asset_id ? { ...image } : null);

const itemToWrite = (item, spec) => {
  const out = { id: item.id };
  for (const name of ["phase", "title", "body", "description"]) if (name in item) out[name] = item[name];
  if (spec?.image) out.image = imageOf(item.image);
  return out;
};

/** The write shape of a section read (server-owned fields dropped). */
export function sectionToWrite(section) {
  const spec = KINDS[section.kind];
  const out = { kind: section.kind };
  for (const f of spec.fields) out[f.name] = section[f.name] ?? null;
  if (spec.phaseHeadings) out.phase_headings = section.phase_headings ?? null;
  if (spec.items) out.items = (section.items || []).map((item) => itemToWrite(item, spec.items));
  return out;
}

/** The write shape of an article read (or of a revision snapshot). */
export function toWrite(article) {
  const out = {};
  for (const f of META) out[f.name] = article[f.name] ?? "";
  out.hero_image = imageOf(article.hero_image);
  out.sections = (article.sections || []).filter((s) => KINDS[s.kind]).map(sectionToWrite);
  return out;
}

/** An empty section of `kind`. */
export function emptySection(kind) {
  const spec = KINDS[kind];
  const out = { kind };
  for (const f of spec.fields) out[f.name] = f.optional ? null : "";
  if (spec.phaseHeadings) out.phase_headings = null;
  if (spec.items) out.items = [];
  return out;
}

/** An empty item for a section of `kind`. */
export function emptyItem(kind) {
  const item = { _key: newKey() };
  for (const f of KINDS[kind].items.fields) item[f.name] = f.type === "phase" ? "before" : "";
  if (KINDS[kind].items.image) item.image = null;
  return item;
}

/** The request body: temporary keys dropped, empty optional texts as null. */
export function toBody(write) {
  return JSON.parse(JSON.stringify(write, (name, value) => (name === "_key" ? undefined : value)));
}

export const clone = (value) => JSON.parse(JSON.stringify(value));

/** Unicode White_Space, as Rust's `split_whitespace` splits (JavaScript's `\s` differs: U+FEFF, U+0085). */
const WHITE_SPACE = /[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/;

/** Words as the server counts them: whitespace-separated, in the summary and every section text. */
export function wordCount(write) {
  const texts = [write.summary];
  for (const s of write.sections || []) {
    texts.push(s.heading, s.intro, s.body, s.note, s.call_to_action);
    if (s.phase_headings) texts.push(s.phase_headings.before, s.phase_headings.during, s.phase_headings.after);
    for (const item of s.items || []) texts.push(item.title, item.body, item.description);
  }
  return texts.reduce((sum, t) => sum + (typeof t === "string" ? t.split(WHITE_SPACE).filter(Boolean).length : 0), 0);
}

/** round(words / 238), at least 1: the server's reading time. */
export const readingTime = (words) => Math.max(1, Math.round(words / 238));

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * The article as a flat list of labelled values, keyed by identity (items by
 * id), for comparisons that people read: [{ key, label, value }].
 */
export function flatten(write) {
  const rows = [];
  for (const f of META) rows.push({ key: f.name, label: f.label, value: write[f.name] ?? null });
  rows.push(imageRow("hero_image", "Hero image", write.hero_image));
  rows.push({ key: "section-order", label: "Order of sections", value: (write.sections || []).map((s) => KINDS[s.kind]?.label || s.kind).join(ORDER_SEPARATOR) });
  for (const s of write.sections || []) {
    const spec = KINDS[s.kind];
    if (!spec) continue;
    const at = `${s.kind}`;
    for (const f of spec.fields) rows.push({ key: `${at}.${f.name}`, label: `${spec.label} › ${f.label}`, value: s[f.name] ?? null });
    if (spec.phaseHeadings) {
      for (const p of PHASES) rows.push({ key: `${at}.phase.${p}`, label: `${spec.label} › ${PHASE_LABELS[p]} heading`, value: s.phase_headings?.[p] ?? null });
    }
    if (spec.items) {
      const items = s.items || [];
      // Compared by the items' identities: a changed title is not a change of order.
      rows.push({ key: `${at}.order`, label: `${spec.label} › order of items`, value: items.map((item, i) => itemName(spec, item, i)).join(ORDER_SEPARATOR), identity: items.map(keyOf).join(" ") });
      items.forEach((item, i) => {
        for (const f of spec.items.fields) {
          rows.push({ key: `${at}.item.${keyOf(item)}.${f.name}`, label: `${spec.label} › ${spec.items.label} “${itemName(spec, item, i)}” › ${f.label}`, value: item[f.name] ?? null });
        }
        if (spec.items.image) rows.push(imageRow(`${at}.item.${keyOf(item)}.image`, `${spec.label} › ${spec.items.label} “${itemName(spec, item, i)}” › Image`, item.image));
      });
    }
  }
  return rows;
}

/**
 * An image use's row: the use as kept (for its thumbnail), compared by what a
 * write says (asset, alt, decorative), not by the read's `url` or `srcset`.
 */
function imageRow(key, label, image) {
  return { key, label, value: imageOf(image), image: true };
}

/**
 * Whether two image uses' alt texts differ. A read (it has a `url`) gives the
 * alt resolved (the asset's where the use has none); a write or a revision's
 * snapshot gives the use's own, null for the asset's: null beside a read's
 * alt is taken as the same (the asset's).
 */
function altChanged(a, b) {
  if ((a.url === undefined) !== (b.url === undefined) && (a.url === undefined ? a : b).alt == null) return false;
  return (a.alt ?? "") !== (b.alt ?? "");
}

/**
 * What changed from the image use `a` to `b`, in words: ["added"], ["removed"],
 * or any of "image replaced", "alt text changed", "marked decorative",
 * "no longer decorative"; [] when nothing did.
 */
export function imageChanges(a, b) {
  const [before, after] = [imageOf(a), imageOf(b)];
  if (!before) return after ? ["added"] : [];
  if (!after) return ["removed"];
  const out = [];
  if (before.asset_id !== after.asset_id) out.push("image replaced");
  if (altChanged(before, after)) out.push("alt text changed");
  if (Boolean(before.decorative) !== Boolean(after.decorative)) out.push(after.decorative ? "marked decorative" : "no longer decorative");
  return out;
}

function itemName(spec, item, index) {
  const name = item.title || item.description || "";
  return name.length > 40 ? `${name.slice(0, 40)}…` : name || `${spec.items.label} ${index + 1}`;
}

/**
 * Rows where `a` and `b` differ, by key: [{ key, label, a, b }] (`image:
 * true` where the values are image uses). A value missing on one side (a
 * section or item that is not there) is `undefined`.
 */
export function differences(a, b) {
  const left = new Map(flatten(a).map((r) => [r.key, r]));
  const right = new Map(flatten(b).map((r) => [r.key, r]));
  const keys = [...left.keys()];
  for (const key of right.keys()) if (!left.has(key)) keys.push(key);
  const rows = [];
  for (const key of keys) {
    const l = left.get(key);
    const r = right.get(key);
    if (l && r && (l.image ? imageChanges(l.value, r.value).length === 0 : l.identity !== undefined && r.identity !== undefined ? l.identity === r.identity : same(l.value, r.value))) continue;
    const row = { key, label: (r || l).label, a: l ? l.value : undefined, b: r ? r.value : undefined };
    if ((r || l).image) row.image = true;
    rows.push(row);
  }
  return rows;
}

/**
 * Sets the value that `flatten` keys `key` ("title", "risks.heading",
 * "risks.phase.before", "risks.item.<id>.body") in `write`; false when the
 * place is not there (order keys are not values).
 */
export function setByKey(write, key, value) {
  const [kind, ...rest] = key.split(".");
  if (rest.length === 0) {
    if (kind !== "hero_image" && !META.some((f) => f.name === kind)) return false;
    write[kind] = value;
    return true;
  }
  const section = (write.sections || []).find((s) => s.kind === kind);
  if (!section) return false;
  if (rest[0] === "phase" && rest.length === 2) {
    section.phase_headings = { before: null, during: null, after: null, ...section.phase_headings, [rest[1]]: value };
    return true;
  }
  if (rest[0] === "item" && rest.length === 3) {
    const item = (section.items || []).find((i) => keyOf(i) === rest[1]);
    if (!item) return false;
    item[rest[2]] = value;
    return true;
  }
  if (rest.length !== 1 || rest[0] === "order" || !KINDS[kind]?.fields.some((f) => f.name === rest[0])) return false;
  section[rest[0]] = value;
  return true;
}

/** `mine` if I changed it since `base`, otherwise `theirs`. */
const pick = (base, mine, theirs) => (same(mine, base) ? theirs : mine);

/**
 * Applies my changes (base → mine) on top of theirs: every field I changed
 * takes my value, every other keeps theirs, so both edits survive (where both
 * changed the same field, mine). Items and sections are matched by identity;
 * ones I added are added (where I put them), ones I removed are removed unless
 * they changed them meanwhile; items they deleted come back as new items if I
 * had changed them. The result shares no object with its inputs.
 */
export function mergeOnTop(base, mine, theirs) {
  const out = {};
  for (const f of META) out[f.name] = pick(base[f.name], mine[f.name], theirs[f.name]);
  if ([base, mine, theirs].some((w) => "hero_image" in w)) out.hero_image = pick(base.hero_image ?? null, mine.hero_image ?? null, theirs.hero_image ?? null);
  const byKind = (w) => new Map((w.sections || []).map((s) => [s.kind, s]));
  const [b, m, t] = [byKind(base), byKind(mine), byKind(theirs)];
  const merged = new Map();
  for (const kind of new Set([...m.keys(), ...t.keys()])) {
    const [bs, ms, ts] = [b.get(kind), m.get(kind), t.get(kind)];
    let section;
    if (!ms) section = bs && (!ts || same(ts, bs)) ? null : ts || null; // I removed it: gone, unless they changed it.
    else if (!ts) section = bs && same(ms, bs) ? null : withoutIds(ms); // They removed it: gone, unless I changed it.
    else section = mergeSection(bs || emptySection(kind), ms, ts); // Both have it (both may have added it).
    if (section) merged.set(kind, section);
  }
  const kinds = (w) => (w.sections || []).map((s) => s.kind);
  out.sections = mergeOrder(kinds(base), kinds(mine), kinds(theirs), merged).map((kind) => merged.get(kind));
  return clone(out);
}

/**
 * The order of the merged keys: mine if I reordered what was there, theirs
 * otherwise; each key the leading list lacks goes after its nearest
 * predecessor in the list it comes from.
 */
function mergeOrder(base, mine, theirs, merged) {
  const inBase = new Set(base);
  const inMine = new Set(mine);
  const reordered = !same(base.filter((k) => inMine.has(k)), mine.filter((k) => inBase.has(k)));
  const [lead, other] = reordered ? [mine, theirs] : [theirs, mine];
  const order = lead.filter((key, i) => merged.has(key) && lead.indexOf(key) === i);
  other.forEach((key, i) => {
    if (!merged.has(key) || order.includes(key)) return;
    let at = 0;
    for (let j = i - 1; j >= 0; j -= 1) {
      const found = order.indexOf(other[j]);
      if (found >= 0) {
        at = found + 1;
        break;
      }
    }
    order.splice(at, 0, key);
  });
  for (const key of merged.keys()) if (!order.includes(key)) order.push(key);
  return order;
}

function withoutIds(section) {
  const copy = clone(section);
  for (const item of copy.items || []) {
    delete item.id;
    item._key = newKey();
  }
  return copy;
}

/** The write with every item id dropped (its items become new ones), e.g. to create a deleted article again. */
export function withoutItemIds(write) {
  return { ...clone(write), sections: (write.sections || []).map(withoutIds) };
}

/**
 * `write` with the ids dropped of items that `live` does not have (e.g. a
 * release preview's items that are new in the release), so it can be sent.
 */
export function keepKnownIds(write, live) {
  const known = new Set();
  for (const s of live?.sections || []) for (const item of s.items || []) known.add(`${s.kind}:${item.id}`);
  const copy = clone(write);
  for (const s of copy.sections || []) {
    for (const item of s.items || []) {
      if (item.id && !known.has(`${s.kind}:${item.id}`)) {
        delete item.id;
        item._key = newKey();
      }
    }
  }
  return copy;
}

function mergeSection(b, m, t) {
  const spec = KINDS[m.kind];
  const out = { kind: m.kind };
  for (const f of spec.fields) out[f.name] = pick(b[f.name] ?? null, m[f.name] ?? null, t[f.name] ?? null);
  if (spec.phaseHeadings) {
    const headings = {};
    for (const p of PHASES) headings[p] = pick(b.phase_headings?.[p] ?? null, m.phase_headings?.[p] ?? null, t.phase_headings?.[p] ?? null);
    out.phase_headings = PHASES.some((p) => headings[p] !== null) ? headings : null;
  }
  if (spec.items) out.items = mergeItems(spec, b.items || [], m.items || [], t.items || []);
  return out;
}

function mergeItems(spec, base, mine, theirs) {
  const index = (list) => new Map(list.map((item) => [keyOf(item), item]));
  const [b, m, t] = [index(base), index(mine), index(theirs)];
  const merged = new Map();
  for (const item of theirs) {
    const key = keyOf(item);
    const bi = b.get(key);
    const mi = m.get(key);
    if (bi && !mi) {
      if (!same(item, bi)) merged.set(key, item); // I removed it, they changed it: keep theirs.
    } else if (bi && mi) {
      const out = { id: item.id };
      for (const f of spec.items.fields) out[f.name] = pick(bi[f.name], mi[f.name], item[f.name]);
      if ([bi, mi, item].some((i) => "image" in i)) out.image = pick(bi.image ?? null, mi.image ?? null, item.image ?? null);
      merged.set(key, out);
    } else {
      merged.set(key, item); // Theirs, new.
    }
  }
  for (const item of mine) {
    const key = keyOf(item);
    if (t.has(key)) continue;
    if (!item.id) merged.set(key, item); // Mine, new.
    else if (b.has(key) && !same(item, b.get(key))) {
      const copy = { ...item, _key: newKey() }; // They removed it, I changed it: keep mine, as a new item.
      delete copy.id;
      merged.set(key, copy);
    }
  }
  const keys = (list) => list.map(keyOf);
  return mergeOrder(keys(base), keys(mine), keys(theirs), merged).map((key) => merged.get(key));
}

/**
 * Marks what was removed and added between two texts (longest common
 * subsequence), by words and spaces, or by `separator`-joined parts (lists).
 */
export function wordDiff(before, after, separator) {
  const split = (value) => separator
    ? String(value ?? "").split(separator).flatMap((part, i) => (i === 0 ? [part] : [separator, part])).filter((t) => t !== "")
    : String(value ?? "").split(/(\s+)/).filter((t) => t !== "");
  const a = split(before);
  const b = split(after);
  if (a.length * b.length > 4_000_000) return [{ op: "del", text: a.join("") }, { op: "ins", text: b.join("") }];
  const rows = a.length + 1;
  const cols = b.length + 1;
  const table = new Uint32Array(rows * cols);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      table[i * cols + j] = a[i] === b[j] ? table[(i + 1) * cols + j + 1] + 1 : Math.max(table[(i + 1) * cols + j], table[i * cols + j + 1]);
    }
  }
  const parts = [];
  const push = (op, textPart) => {
    const last = parts[parts.length - 1];
    if (last && last.op === op) last.text += textPart;
    else parts.push({ op, text: textPart });
  };
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      push("same", a[i]);
      i += 1;
      j += 1;
    } else if (table[(i + 1) * cols + j] >= table[i * cols + j + 1]) {
      push("del", a[i]);
      i += 1;
    } else {
      push("ins", b[j]);
      j += 1;
    }
  }
  while (i < a.length) push("del", a[i++]);
  while (j < b.length) push("ins", b[j++]);
  return parts;
}

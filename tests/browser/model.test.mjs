// The studio's pure logic, run by Node against the very files the binary
// serves: the three-way merge behind "apply my changes on top of theirs",
// the comparison behind the conflict view and the revision diff, and the
// server's word count.

import { test } from "node:test";
import assert from "node:assert/strict";
import { clone, differences, imageChanges, keepKnownIds, mergeOnTop, readingTime, setByKey, toBody, toWrite, withoutItemIds, wordCount, wordDiff } from "../../src/studio/assets/model.js";

const base = {
  title: "Peels",
  author: "ann",
  published_on: "2024-01-01",
  status: "draft",
  summary: "About peels.",
  sections: [
    { kind: "overview", heading: "What", body: "A peel." },
    {
      kind: "steps",
      heading: "How",
      intro: null,
      items: [
        { id: "a", title: "One", body: "First." },
        { id: "b", title: "Two", body: "Second." },
        { id: "c", title: "Three", body: "Third." },
      ],
    },
  ],
};
const steps = (write) => write.sections.find((s) => s.kind === "steps");

test("fields each side changed are both kept; mine wins where both changed", () => {
  const mine = clone(base);
  const theirs = clone(base);
  mine.title = "Chemical peels";
  steps(mine).items[0].body = "First, cleanse.";
  theirs.summary = "All about peels.";
  steps(theirs).items[0].title = "Cleanse";
  steps(theirs).items[0].body = "Theirs.";
  const merged = mergeOnTop(base, mine, theirs);
  assert.equal(merged.title, "Chemical peels");
  assert.equal(merged.summary, "All about peels.");
  assert.deepEqual(steps(merged).items[0], { id: "a", title: "Cleanse", body: "First, cleanse." });
});

test("items: mine added and removed, theirs added; ids they deleted are not sent", () => {
  const mine = clone(base);
  const theirs = clone(base);
  steps(mine).items.splice(1, 1); // I remove b
  steps(mine).items.splice(1, 0, { _key: "new-x", title: "Mine", body: "New." }); // and add after a
  steps(theirs).items.push({ id: "d", title: "Four", body: "Theirs, new." });
  steps(theirs).items = steps(theirs).items.filter((i) => i.id !== "c"); // they remove c
  steps(mine).items.find((i) => i.id === "c").body = "Third, changed by me.";
  const merged = steps(mergeOnTop(base, mine, theirs));
  const titles = merged.items.map((i) => i.title);
  assert.deepEqual(titles, ["One", "Mine", "Three", "Four"]);
  const kept = merged.items.find((i) => i.title === "Three");
  assert.equal(kept.id, undefined, "c no longer exists: my changed copy goes as a new item");
  assert.equal(kept.body, "Third, changed by me.");
  assert.ok(!JSON.stringify(toBody({ items: merged.items })).includes("_key"), "temporary keys are not sent");
});

test("an item I removed but they changed is kept; one they did not change goes", () => {
  const mine = clone(base);
  const theirs = clone(base);
  steps(mine).items = steps(mine).items.filter((i) => i.id !== "a" && i.id !== "b");
  steps(theirs).items[0].body = "Changed by them.";
  const merged = steps(mergeOnTop(base, mine, theirs));
  assert.deepEqual(merged.items.map((i) => i.id), ["a", "c"]);
});

test("my reordering wins; their new item stays where they put it relative to its neighbours", () => {
  const mine = clone(base);
  const theirs = clone(base);
  steps(mine).items.reverse(); // c b a
  steps(theirs).items.splice(1, 0, { id: "d", title: "Between", body: "." }); // a d b c
  const merged = steps(mergeOnTop(base, mine, theirs));
  assert.deepEqual(merged.items.map((i) => i.id), ["c", "b", "a", "d"]);
});

test("sections: one I added is added, one they removed that I did not touch stays removed", () => {
  const mine = clone(base);
  const theirs = clone(base);
  mine.sections.push({ kind: "conclusion", heading: "End", body: "Done.", call_to_action: null });
  theirs.sections = theirs.sections.filter((s) => s.kind !== "overview");
  const merged = mergeOnTop(base, mine, theirs);
  assert.deepEqual(merged.sections.map((s) => s.kind), ["steps", "conclusion"]);
});

test("a section I add between others stays there; one both added keeps both sides' items", () => {
  const mine = clone(base);
  const theirs = clone(base);
  mine.sections.splice(1, 0, { kind: "benefits", heading: "Why", intro: null, items: [{ _key: "new-m", title: "Mine", body: "." }] });
  theirs.sections.push({ kind: "benefits", heading: "Why not", intro: "Theirs.", items: [{ id: "t1", title: "Theirs", body: "." }] });
  const alone = mergeOnTop(base, mine, { ...clone(base), title: "Theirs" });
  assert.deepEqual(alone.sections.map((s) => s.kind), ["overview", "benefits", "steps"], "where I put it");
  const merged = mergeOnTop(base, mine, theirs);
  const benefits = merged.sections.find((s) => s.kind === "benefits");
  assert.equal(benefits.heading, "Why", "mine, where both set it");
  assert.equal(benefits.intro, "Theirs.", "theirs, where I left it empty");
  assert.deepEqual(benefits.items.map((i) => i.title).sort(), ["Mine", "Theirs"]);
});

test("phase headings: I clear them all, they change one: theirs survives", () => {
  const withPhases = clone(base);
  withPhases.sections.push({ kind: "expectations", heading: "Expect", intro: null, phase_headings: { before: "Before", during: "During", after: null }, items: [] });
  const mine = clone(withPhases);
  const theirs = clone(withPhases);
  mine.sections[2].phase_headings = null;
  theirs.sections[2].phase_headings.after = "After";
  const merged = mergeOnTop(withPhases, mine, theirs);
  assert.deepEqual(merged.sections[2].phase_headings, { before: null, during: null, after: "After" });
});

test("the merge shares no object with theirs (later edits must not change the base)", () => {
  const mine = clone(base);
  const theirs = clone(base);
  mine.title = "Changed";
  const merged = mergeOnTop(base, mine, theirs);
  steps(merged).items[0].title = "Edited after the merge";
  merged.sections[0].heading = "Edited too";
  assert.equal(steps(theirs).items[0].title, "One");
  assert.equal(theirs.sections[0].heading, "What");
});

test("ids the live article lacks are dropped (a release preview's new items); all ids when re-creating", () => {
  const preview = clone(base);
  steps(preview).items.push({ id: "from-a-rolled-back-transaction", title: "New", body: "." });
  const sendable = keepKnownIds(preview, base);
  assert.deepEqual(steps(toBody(sendable)).items.map((i) => i.id), ["a", "b", "c", undefined]);
  assert.ok(steps(toBody(withoutItemIds(base))).items.every((i) => i.id === undefined));
});

test("differences name the fields that differ, items matched by id", () => {
  const other = clone(base);
  steps(other).items[1].title = "Second step";
  other.status = "published";
  const rows = differences(base, other);
  // A renamed item has not moved: no "order of items" row (issue 21).
  assert.deepEqual(rows.map((r) => r.key).sort(), ["status", "steps.item.b.title"].sort());
  assert.equal(rows.find((r) => r.key === "steps.item.b.title").a, "Two");
});

test("word count and reading time are the server's", () => {
  // summary 2 + overview heading 1 + body 2 + steps heading 1 + items 6 = 12
  assert.equal(wordCount(base), 12);
  assert.equal(readingTime(0), 1);
  assert.equal(readingTime(1052), 4);
  assert.equal(readingTime(357), 2);
  // Rust's split_whitespace: U+FEFF is not a space, U+0085 and U+3000 are.
  assert.equal(wordCount({ summary: "a\uFEFFb c\u0085d e\u3000f", sections: [] }), 5);
});

test("word diff marks removed and added words", () => {
  const parts = wordDiff("the quick fox", "the slow fox");
  assert.deepEqual(parts, [
    { op: "same", text: "the " },
    { op: "del", text: "quick" },
    { op: "ins", text: "slow" },
    { op: "same", text: " fox" },
  ]);
});

test("a conflict's choice lands where the comparison's key points (theirs, or a merged text)", () => {
  const write = clone(base);
  const rows = differences(base, { ...clone(base), title: "T", sections: [base.sections[0], { ...steps(base), items: [{ id: "a", title: "One", body: "Changed." }, ...steps(base).items.slice(1)] }] });
  for (const row of rows) assert.ok(setByKey(write, row.key, row.b), row.key);
  assert.equal(write.title, "T");
  assert.equal(steps(write).items[0].body, "Changed.");
  assert.ok(setByKey(write, "overview.body", "Merged."));
  assert.equal(write.sections[0].body, "Merged.");
  assert.equal(setByKey(write, "steps.order", "x"), false, "an order is not a value");
  assert.equal(setByKey(write, "steps.item.zzz.body", "x"), false, "an item that is not there");
  assert.equal(setByKey(write, "risks.heading", "x"), false, "a section that is not there");
  assert.equal(setByKey(write, "sections", []), false, "only the metadata's own fields");
});

test("a changed item title is no change of order; a move is", () => {
  const renamed = clone(base);
  steps(renamed).items[0].title = "Uno";
  assert.deepEqual(differences(base, renamed).map((r) => r.key), ["steps.item.a.title"]);
  const moved = clone(base);
  steps(moved).items.reverse();
  assert.deepEqual(differences(base, moved).map((r) => r.key), ["steps.order"]);
});

test("images: the write shape keeps the hero and item images as read; the merge takes a changed image as one value", () => {
  const image = (id, alt) => ({ asset_id: id, url: `/v1/assets/${id}/a.png`, width: 300, height: 200, alt, decorative: false, placeholder: "x", srcset: "" });
  const read = {
    title: "T", hero_image: image("h1", "Hero"),
    sections: [{ kind: "steps", heading: "S", intro: null, items: [{ id: "a", title: "A", body: "B", image: image("i1", "One") }, { id: "b", title: "C", body: "D", image: null }] }],
  };
  const base = toWrite(read);
  assert.equal(base.hero_image.asset_id, "h1");
  assert.deepEqual(base.sections[0].items.map((item) => item.image?.asset_id ?? null), ["i1", null]);
  assert.equal(toWrite({ title: "T", sections: [] }).hero_image, null, "none: null");
  const mine = clone(base);
  mine.hero_image = null;
  mine.sections[0].items[1].image = image("i2", null);
  const theirs = clone(base);
  theirs.sections[0].items[0].image.alt = "Their alt";
  const merged = mergeOnTop(base, mine, theirs);
  assert.equal(merged.hero_image, null, "my removal");
  assert.equal(merged.sections[0].items[0].image.alt, "Their alt", "their change");
  assert.equal(merged.sections[0].items[1].image.asset_id, "i2", "my choice");
});

test("images in differences: asset, alt and decorative changes, added and removed; the read's url is no change", () => {
  const image = (id, alt, decorative = false) => ({ asset_id: id, url: `/v1/assets/${id}/a.png`, width: 300, height: 200, alt, decorative, placeholder: "x", srcset: "" });
  const read = {
    title: "T", hero_image: image("h1", "Hero"),
    sections: [{ kind: "steps", heading: "S", intro: null, items: [{ id: "a", title: "A", body: "B", image: image("i1", "One") }, { id: "b", title: "C", body: "D", image: null }] }],
  };
  const base = toWrite(read);
  const same = clone(base);
  same.hero_image.srcset = "/v1/assets/h1/a.png?w=64 64w";
  same.hero_image.url = "/v1/assets/h1/b.png";
  assert.deepEqual(differences(base, same), [], "url/srcset are not what a write says");

  const changed = clone(base);
  changed.hero_image = image("h2", "Hero");
  changed.sections[0].items[0].image.decorative = true;
  changed.sections[0].items[0].image.alt = "";
  changed.sections[0].items[1].image = image("i3", null);
  const rows = differences(base, changed);
  assert.deepEqual(rows.map((r) => r.key), ["hero_image", "steps.item.a.image", "steps.item.b.image"]);
  assert.ok(rows.every((r) => r.image), "marked as images");
  assert.equal(rows[0].label, "Hero image");
  assert.deepEqual(rows.map((r) => imageChanges(r.a, r.b)), [["image replaced"], ["alt text changed", "marked decorative"], ["added"]]);
  assert.equal(rows[0].b.url, "/v1/assets/h2/a.png", "the value keeps the read's url for a thumbnail");

  const removed = clone(base);
  removed.hero_image = null;
  assert.deepEqual(differences(base, removed).map((r) => [r.key, imageChanges(r.a, r.b)]), [["hero_image", ["removed"]]]);
  assert.deepEqual(imageChanges(image("x", "A", true), image("x", "A")), ["no longer decorative"]);
  assert.deepEqual(imageChanges(null, undefined), []);
  // A revision's snapshot (write shape: the use's own alt, null for the asset's) beside a read.
  const snapshot = { asset_id: "h1", alt: null, decorative: false };
  assert.deepEqual(imageChanges(snapshot, image("h1", "The asset's alt")), [], "null: the asset's alt");
  assert.deepEqual(imageChanges({ ...snapshot, alt: "Old" }, image("h1", "New")), ["alt text changed"]);
  assert.deepEqual(imageChanges(snapshot, { ...snapshot, alt: "Own" }), ["alt text changed"], "two snapshots");

  // A conflict's "theirs" lands on the image too.
  const write = clone(base);
  assert.ok(setByKey(write, "hero_image", image("h9", "Theirs")));
  assert.ok(setByKey(write, "steps.item.b.image", image("i9", null)));
  assert.equal(write.hero_image.asset_id, "h9");
  assert.equal(write.sections[0].items[1].image.asset_id, "i9");
});

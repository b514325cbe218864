// The studio's pure logic, run by Node against the very files the binary
// serves: the three-way merge behind "apply my changes on top of theirs",
// the comparison behind the conflict view and the revision diff, and the
// server's word count.

import { test } from "node:test";
import assert from "node:assert/strict";
import { clone, differences, mergeOnTop, readingTime, toBody, wordCount, wordDiff } from "../../src/studio/assets/model.js";

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

test("differences name the fields that differ, items matched by id", () => {
  const other = clone(base);
  steps(other).items[1].title = "Second step";
  other.status = "published";
  const rows = differences(base, other);
  assert.deepEqual(rows.map((r) => r.key).sort(), ["status", "steps.item.b.title", "steps.order"].sort());
  assert.equal(rows.find((r) => r.key === "steps.item.b.title").a, "Two");
});

test("word count and reading time are the server's", () => {
  // summary 2 + overview heading 1 + body 2 + steps heading 1 + items 6 = 12
  assert.equal(wordCount(base), 12);
  assert.equal(readingTime(0), 1);
  assert.equal(readingTime(1052), 4);
  assert.equal(readingTime(357), 2);
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

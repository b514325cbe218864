// The article as a reader sees it, drawn from the write shape (the studio's
// unsaved edit or a server read). Text is always set as text, never as HTML.

import { imageData } from "./api.js";
import { h } from "./dom.js";
import { PHASES, readingTime, wordCount, wordDiff } from "./model.js";

/** Two texts' word diff: removed words in <del>, added ones in <ins>, named for screen readers too. */
export function diffText(before, after, separator) {
  return h("span", { class: "diff" }, wordDiff(before, after, separator).map((part) => {
    if (part.op === "same") return part.text;
    return h(part.op, {}, h("span", { class: "sr-only" }, part.op === "del" ? " [removed: " : " [added: "), part.text, h("span", { class: "sr-only" }, "] "));
  }));
}

const paragraphs = (value, attributes = {}) =>
  String(value ?? "")
    .split(/\n\s*\n/)
    .filter((p) => p.trim() !== "")
    .map((p) => h("p", attributes, p));

/**
 * An image as a reader's page shows it: `srcset` (with `sizes`), its alt text
 * ("" when decorative) and its size, so the page does not jump as it loads.
 * An image no published content uses yet is served only to tokens: the
 * preview then shows it from a token request instead (640 pixels wide at most, no srcset).
 */
export function picture(image, sizes, className) {
  if (!image?.url) return null;
  const img = h("img", {
    class: className,
    src: image.url,
    srcset: image.srcset || null,
    sizes: image.srcset ? sizes : null,
    alt: image.decorative ? "" : image.alt ?? "",
    width: image.width,
    height: image.height,
    decoding: "async",
  });
  img.addEventListener("error", () => {
    imageData(image.width > 640 ? `${image.url}?w=640` : image.url).then((data) => {
      img.dataset.srcset = img.getAttribute("srcset") || "";
      img.removeAttribute("srcset");
      img.src = data;
    }).catch(() => {});
  }, { once: true });
  return img;
}

function titledList(items, tag) {
  return h(tag, {}, items.map((item) => h("li", {},
    picture(item.image, "(min-width: 60em) 20em, 90vw", "reader-item-image"),
    h("strong", {}, item.title || "Untitled"), item.body ? [" ", item.body] : null)));
}

function renderSection(section, level) {
  const out = [h(`h${level}`, { class: "reader-section", dataset: { section: section.kind } }, section.heading || "(no heading)")];
  if (section.intro) out.push(...paragraphs(section.intro));
  switch (section.kind) {
    case "overview":
      out.push(...paragraphs(section.body));
      break;
    case "steps":
      out.push(titledList(section.items || [], "ol"));
      break;
    case "benefits":
    case "aftercare_tips":
    case "risks":
      out.push(titledList(section.items || [], "ul"));
      break;
    case "expectations":
      for (const phase of PHASES) {
        const items = (section.items || []).filter((item) => item.phase === phase);
        if (items.length === 0) continue;
        const heading = section.phase_headings?.[phase];
        if (heading) out.push(h(`h${level + 1}`, { class: "reader-phase" }, heading));
        out.push(titledList(items, "ul"));
      }
      break;
    case "target_audiences":
      out.push(h("ul", {}, (section.items || []).map((item) => h("li", {}, item.description))));
      if (section.note) out.push(...paragraphs(section.note));
      break;
    case "conclusion":
      out.push(...paragraphs(section.body));
      if (section.call_to_action) out.push(...paragraphs(section.call_to_action, { class: "cta" }));
      break;
    default:
      break;
  }
  return h("section", { class: `read-${section.kind}` }, out);
}

/** The reader's view of `write` (ArticleWrite shape); its title a heading of `level`. */
export function renderArticle(write, level = 1) {
  const words = wordCount(write);
  return h(
    "article",
    { class: "reader" },
    h(`h${level}`, { class: "reader-title" }, write.title || "(untitled)"),
    h("p", { class: "byline" }, [write.author, write.published_on, `${readingTime(words)} min read`].filter(Boolean).join(" · ")),
    write.hero_image ? h("figure", { class: "reader-hero" }, picture(write.hero_image, "(min-width: 60em) 40em, 100vw", "reader-hero-image")) : null,
    paragraphs(write.summary, { class: "lead" }),
    (write.sections || []).map((section) => renderSection(section, Math.min(level + 1, 6))),
  );
}

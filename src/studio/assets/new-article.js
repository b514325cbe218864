// The "new article" screen: a slug, a title, an author, a date and a summary
// make a draft with no sections; the editor then opens on it.

import { articlePath, put } from "./api.js";
import { field, h, replace, say } from "./dom.js";
import { endEditing } from "./editing.js";
import { clearErrors, lineBox, showFieldErrors } from "./fields.js";

/** The "new article" form: creates a draft with no sections (PUT without If-Match), then opens it. */
export function newArticle(main) {
  const today = new Date().toISOString().slice(0, 10);
  const inputs = {
    slug: h("input", { type: "text", dataset: { pointer: "/slug" }, autocomplete: "off", pattern: "[a-z0-9]+(-[a-z0-9]+)*", required: true }),
    title: lineBox({ dataset: { pointer: "/title" }, required: true }),
    author: lineBox({ dataset: { pointer: "/author" }, required: true }),
    published_on: h("input", { type: "date", dataset: { pointer: "/published_on" }, value: today, required: true }),
    summary: h("textarea", { dataset: { pointer: "/summary" }, rows: 3, required: true }),
  };
  const form = h("form", {
    class: "new-article",
    novalidate: true,
    "aria-labelledby": "new-title",
    onsubmit: async (event) => {
      event.preventDefault();
      const slug = inputs.slug.value.trim();
      const body = {
        title: inputs.title.value,
        author: inputs.author.value,
        published_on: inputs.published_on.value,
        status: "draft",
        summary: inputs.summary.value,
        sections: [],
      };
      clearErrors();
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug) || slug.length > 100) {
        showFieldErrors([{ pointer: "/slug", message: "lower-case letters, digits and single hyphens, at most 100 characters" }], "Not created");
        return;
      }
      try {
        await put(articlePath(slug), body);
        say(`Created the draft “${body.title}”.`);
        location.hash = `#/a/${encodeURIComponent(slug)}`;
      } catch (error) {
        if (error.status === 428 || error.status === 412) showFieldErrors([{ pointer: "/slug", message: "an article with this slug exists already" }], "Not created");
        else if (error.status === 422) showFieldErrors(error.errors, "Not created");
        else say(`Not created: ${error.message}`, "error");
      }
    },
  },
  h("div", { id: "form-errors", class: "form-errors", tabindex: "-1", hidden: true, role: "alert" }),
  field("Slug (URL name)", inputs.slug, "Lower-case letters, digits and hyphens, e.g. chemical-peels-explained."),
  field("Title", inputs.title),
  field("Author", inputs.author),
  field("Publication date", inputs.published_on),
  field("Summary (lead paragraph)", inputs.summary),
  h("div", { class: "toolbar" }, h("button", { type: "submit", class: "primary" }, "Create draft"), h("a", { class: "button", href: "#/" }, "Cancel")));
  replace(main, h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Articles"), " › New"), h("h1", { id: "new-title" }, "New article"), form);
  inputs.slug.focus();
  endEditing();
}


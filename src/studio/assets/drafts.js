// Unsaved edits kept in this browser, so a reload or a crashed tab loses
// nothing: one record per article (and release and locale being edited) in
// localStorage, with the version it was made from. The editor offers it back
// on return and forgets it on save or discard. This is the only module that
// writes to localStorage, and it never sees the token (it imports nothing).

const PREFIX = "lamina.studio.draft:";

/** The key of an edit: the article, the release it stages into, the locale. */
export const draftKey = (slug, release, locale) => `${slug}|${release || ""}|${locale || ""}`;

/** Keeps `record` ({ version, base, draft, at }) under `key`; a full storage keeps nothing. */
export function keepDraft(key, record) {
  try {
    localStorage.setItem(PREFIX + key, JSON.stringify(record));
  } catch {
    // Storage full or disabled: the page still works, only without a kept copy.
  }
}

/** The record kept under `key`, or null. */
export function keptDraft(key) {
  try {
    const record = JSON.parse(localStorage.getItem(PREFIX + key) || "null");
    return record && record.draft && record.base ? record : null;
  } catch {
    return null;
  }
}

/** Forgets the record under `key`. */
export function forgetDraft(key) {
  try {
    localStorage.removeItem(PREFIX + key);
  } catch {
    // Nothing kept.
  }
}

/** Forgets every kept edit (signing out on a shared computer leaves no unpublished text behind). */
export function forgetAllDrafts() {
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith(PREFIX)) localStorage.removeItem(key);
  } catch {
    // Nothing kept.
  }
}

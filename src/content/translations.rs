//! Translated texts (API.md §13): which text a translation is (its key),
//! the walk over every text of an article that reads, writes and reports
//! translations share, and resolving a read's texts along a locale's chain.
//!
//! The default locale's texts live in the content rows; a translation is a
//! row of `translations` keyed by which text it is, independent of positions:
//! `title`, `summary`, `<kind>.<field>`, `<kind>.phase_headings.<phase>`,
//! `<kind>.<item id>.<field>`.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::body::ItemWrite;
use super::kinds::{SectionField, SectionKind};
use super::locales::Locales;
use super::model::{Article, ArticleMeta, Fallbacks, Item, ItemContent, Localized, SectionContent};
use crate::db::schema::{article_locales, translations};

/// The locale a read is for, with its chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadLocale {
    /// The chain: the requested locale, its fallbacks, the default last.
    chain: Vec<String>,
}

impl ReadLocale {
    /// `code` (a configured locale) and its chain in `locales`.
    pub fn new(locales: &Locales, code: &str) -> ReadLocale {
        ReadLocale {
            chain: locales.chain(code),
        }
    }

    /// The requested locale's code.
    pub fn code(&self) -> &str {
        <[String]>::first(&self.chain).map_or("en", String::as_str)
    }

    /// The default locale's code.
    pub fn default_code(&self) -> &str {
        <[String]>::last(&self.chain).map_or("en", String::as_str)
    }

    /// Whether the read is in the default locale: its texts are the stored ones.
    pub fn is_default(&self) -> bool {
        self.chain.len() == 1
    }

    /// The locales other than the default whose texts the read may use, in order.
    fn translated(&self) -> &[String] {
        &self.chain[..self.chain.len().saturating_sub(1)]
    }
}

/// The key of the text `field` of the section of `kind`.
pub fn section_key(kind: SectionKind, field: &str) -> String {
    format!("{kind}.{field}")
}

/// The key of the text `field` of the item `id` of the section of `kind`.
pub fn item_key(kind: SectionKind, id: Uuid, field: &str) -> String {
    format!("{kind}.{id}.{field}")
}

/// An item of a read or of a write: what the walk over texts needs of it.
pub trait ItemTexts {
    /// Its id; `None` for a new item of a write (which has no translations).
    fn id(&self) -> Option<Uuid>;
    /// Its fields.
    fn content_mut(&mut self) -> &mut ItemContent;
}

impl ItemTexts for Item {
    fn id(&self) -> Option<Uuid> {
        Some(self.id)
    }
    fn content_mut(&mut self) -> &mut ItemContent {
        &mut self.content
    }
}

impl ItemTexts for ItemWrite {
    fn id(&self) -> Option<Uuid> {
        self.id
    }
    fn content_mut(&mut self) -> &mut ItemContent {
        &mut self.content
    }
}

/// What a walk over texts is shown of each text: its key, how to name its
/// JSON pointer, and the text (`None` where the body has none).
pub type Visit<'v> = dyn FnMut(&str, &dyn Fn() -> String, &mut Option<String>) + 'v;

/// Calls `visit` on a required text (a heading, title, summary).
fn required(text: &mut String, key: &str, pointer: &dyn Fn() -> String, visit: &mut Visit<'_>) {
    let mut slot = Some(std::mem::take(text));
    visit(key, pointer, &mut slot);
    *text = slot.unwrap_or_default();
}

/// Walks every text of `section` (pointers below `base`), in body order.
pub fn walk_section<I: ItemTexts>(section: &mut SectionContent<I>, base: &str, visit: &mut Visit<'_>) {
    let kind = section.kind;
    required(
        &mut section.heading,
        &section_key(kind, "heading"),
        &|| format!("{base}/heading"),
        visit,
    );
    for &field in kind.fields() {
        match field {
            SectionField::Items => {
                let shape = kind.item_shape().map_or(&[][..], |shape| shape.fields());
                for (index, item) in section.items.iter_mut().enumerate() {
                    let Some(id) = item.id() else { continue };
                    walk_item(
                        kind,
                        id,
                        item.content_mut(),
                        shape,
                        &|| format!("{base}/items/{index}"),
                        visit,
                    );
                }
            }
            SectionField::PhaseHeadings => {
                if let Some(headings) = &mut section.phase_headings {
                    for (phase, slot) in [
                        ("before", &mut headings.before),
                        ("during", &mut headings.during),
                        ("after", &mut headings.after),
                    ] {
                        let key = section_key(kind, &format!("phase_headings.{phase}"));
                        visit(&key, &|| format!("{base}/phase_headings/{phase}"), slot);
                    }
                }
            }
            _ => {
                if let Some(slot) = section.text_mut(field) {
                    visit(
                        &section_key(kind, field.name()),
                        &|| format!("{base}/{}", field.name()),
                        slot,
                    );
                }
            }
        }
    }
}

/// Walks the texts of the item `id` of a section of `kind` (pointers below `base`).
fn walk_item(
    kind: SectionKind,
    id: Uuid,
    content: &mut ItemContent,
    fields: &[super::kinds::ItemField],
    base: &dyn Fn() -> String,
    visit: &mut Visit<'_>,
) {
    for &field in fields {
        if let Some(slot) = content.text_mut(field) {
            visit(
                &item_key(kind, id, field.name()),
                &|| format!("{}/{}", base(), field.name()),
                slot,
            );
        }
    }
}

/// Walks the texts of an item read or written on its own (pointers from the root).
pub fn walk_lone_item<I: ItemTexts>(kind: SectionKind, item: &mut I, visit: &mut Visit<'_>) {
    let shape = kind.item_shape().map_or(&[][..], |shape| shape.fields());
    if let Some(id) = item.id() {
        walk_item(kind, id, item.content_mut(), shape, &String::new, visit);
    }
}

/// Walks an article's own texts (title, summary; pointers below `base`).
pub fn walk_meta(title: &mut String, summary: &mut String, base: &str, visit: &mut Visit<'_>) {
    required(title, "title", &|| format!("{base}/title"), visit);
    required(summary, "summary", &|| format!("{base}/summary"), visit);
}

/// The translations of articles a read may use: per article and key, the
/// text of each locale of the chain that has one (by its place in the chain).
#[derive(Debug, Default)]
pub struct Texts {
    by_key: HashMap<String, Vec<(usize, String)>>,
}

/// A translation row as a read uses it.
#[derive(Debug, Queryable)]
struct TextRow {
    article_id: Uuid,
    locale: String,
    key: String,
    text: String,
}

/// The translations of `articles` in the locales of `locale`'s chain,
/// of published translations only unless `drafts`; only `keys` if given.
pub async fn load_texts(
    conn: &mut AsyncPgConnection,
    articles: &[Uuid],
    locale: &ReadLocale,
    drafts: bool,
    keys: Option<&[&str]>,
) -> QueryResult<HashMap<Uuid, Texts>> {
    let mut by_article: HashMap<Uuid, Texts> = HashMap::new();
    if locale.is_default() || articles.is_empty() {
        return Ok(by_article);
    }
    let mut query = translations::table
        .left_join(
            article_locales::table.on(article_locales::article_id
                .eq(translations::article_id)
                .and(article_locales::locale.eq(translations::locale))),
        )
        .filter(translations::article_id.eq_any(articles))
        .filter(translations::locale.eq_any(locale.translated()))
        .select((
            translations::article_id,
            translations::locale,
            translations::key,
            translations::text,
        ))
        .into_boxed();
    if !drafts {
        query = query.filter(article_locales::status.eq("published"));
    }
    if let Some(keys) = keys {
        query = query.filter(translations::key.eq_any(keys));
    }
    let rows: Vec<TextRow> = query.load(conn).await?;
    for row in rows {
        let Some(place) = locale.chain.iter().position(|code| *code == row.locale) else {
            continue;
        };
        by_article
            .entry(row.article_id)
            .or_default()
            .by_key
            .entry(row.key)
            .or_default()
            .push((place, row.text));
    }
    Ok(by_article)
}

/// Resolves the texts of a read for its locale, noting the fallbacks.
pub struct Resolver<'a> {
    locale: &'a ReadLocale,
    texts: Option<&'a Texts>,
    /// The texts served from another locale than the requested one.
    pub fallbacks: Fallbacks,
}

impl<'a> Resolver<'a> {
    /// A resolver of texts for `locale` from `texts` (none: every text falls back to the default).
    pub fn new(locale: &'a ReadLocale, texts: Option<&'a Texts>) -> Resolver<'a> {
        Resolver {
            locale,
            texts,
            fallbacks: Fallbacks::default(),
        }
    }

    /// A visit resolving each text it is shown.
    pub fn visit(&mut self) -> impl FnMut(&str, &dyn Fn() -> String, &mut Option<String>) + '_ {
        move |key, pointer, slot| {
            let Some(text) = slot else { return };
            if self.locale.is_default() {
                return;
            }
            let found = self
                .texts
                .and_then(|texts| texts.by_key.get(key))
                .and_then(|found| found.iter().min_by_key(|(place, _)| *place));
            let from = match found {
                Some((place, translated)) => {
                    text.clone_from(translated);
                    *place
                }
                None => self.locale.chain.len() - 1,
            };
            if from != 0 {
                self.fallbacks.push(pointer(), &self.locale.chain[from]);
            }
        }
    }

    /// Resolves a whole article: its texts, and word count and reading time
    /// counted in the locale read (the reader reads one language).
    pub fn article(mut self, article: &mut Article) {
        if !self.locale.is_default() {
            let mut visit = self.visit();
            walk_meta(&mut article.meta.title, &mut article.meta.summary, "", &mut visit);
            for (index, section) in article.sections.iter_mut().enumerate() {
                walk_section(&mut section.content, &format!("/sections/{index}"), &mut visit);
            }
            let texts =
                std::iter::once(article.meta.summary.as_str()).chain(article.sections.iter().flat_map(|section| {
                    section
                        .content
                        .own_texts()
                        .chain(section.content.items.iter().flat_map(|item| item.content.texts()))
                }));
            article.meta.word_count = super::input::count_words(texts);
            article.meta.reading_time_minutes = super::input::reading_time_minutes(article.meta.word_count);
        }
        article.locale = self.locale.code().to_owned();
        article.fallbacks = self.fallbacks;
    }

    /// `body`, whose texts this resolver resolved, with its locale and fallbacks.
    pub fn localized<T>(self, body: T) -> Localized<T> {
        Localized {
            body,
            locale: self.locale.code().to_owned(),
            fallbacks: self.fallbacks,
        }
    }

    /// Resolves the title and summary of an article in a listing from its
    /// `texts` (pointers below `base`).
    pub fn meta(&mut self, meta: &mut ArticleMeta, texts: Option<&'a Texts>, base: &str) {
        if !self.locale.is_default() {
            self.texts = texts;
            walk_meta(&mut meta.title, &mut meta.summary, base, &mut self.visit());
        }
    }
}

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
use super::store;
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

    /// The chain: the requested locale, its fallbacks, the default last.
    pub fn chain(&self) -> &[String] {
        &self.chain
    }

    /// Whether the read is in the default locale: its texts are the stored ones.
    pub fn is_default(&self) -> bool {
        self.chain.len() == 1
    }

    /// The chain beneath the requested locale: what it falls back to.
    pub fn beneath(&self) -> ReadLocale {
        ReadLocale {
            chain: self.chain.iter().skip(1).cloned().collect(),
        }
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
    if let Some(image) = &mut content.image {
        visit(
            &item_key(kind, id, IMAGE_ALT),
            &|| format!("{}/image/alt", base()),
            &mut image.alt,
        );
    }
}

/// The key of an item's image's own alt text, after the item's (`<kind>.<id>.image.alt`).
pub const IMAGE_ALT: &str = "image.alt";
/// The key of the hero image's own alt text.
pub const HERO_ALT_KEY: &str = "hero_image.alt";

/// Whether `key` is an image's own alt text: a read resolves those with the
/// asset's alt texts ([`Resolver::image`]), not as other texts.
fn is_image_alt(key: &str) -> bool {
    key == HERO_ALT_KEY || key.ends_with(".image.alt")
}

/// Walks the texts of an item read or written on its own (pointers from the root).
pub fn walk_lone_item<I: ItemTexts>(kind: SectionKind, item: &mut I, visit: &mut Visit<'_>) {
    let shape = kind.item_shape().map_or(&[][..], |shape| shape.fields());
    if let Some(id) = item.id() {
        walk_item(kind, id, item.content_mut(), shape, &String::new, visit);
    }
}

/// Walks an article's own texts (title, summary, the hero image's own alt
/// text if given; pointers below `base`).
pub fn walk_meta(
    title: &mut String,
    summary: &mut String,
    hero_alt: Option<&mut Option<String>>,
    base: &str,
    visit: &mut Visit<'_>,
) {
    required(title, "title", &|| format!("{base}/title"), visit);
    required(summary, "summary", &|| format!("{base}/summary"), visit);
    if let Some(slot) = hero_alt {
        visit(HERO_ALT_KEY, &|| format!("{base}/hero_image/alt"), slot);
    }
}

/// The translations of articles a read may use: per article and key, the
/// text of each locale of the chain that has one (by its place in the chain).
#[derive(Debug, Clone, Default)]
pub struct Texts {
    by_key: HashMap<String, Vec<(usize, String)>>,
}

impl Texts {
    /// The text of `key` from the first locale of the chain that has one.
    pub fn text_of(&self, key: &str) -> Option<&str> {
        self.by_key
            .get(key)?
            .iter()
            .min_by_key(|(place, _)| *place)
            .map(|(_, text)| text.as_str())
    }
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
            if self.locale.is_default() || is_image_alt(key) {
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
            walk_meta(&mut article.meta.title, &mut article.meta.summary, None, "", &mut visit);
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
        if let Some(image) = &mut article.meta.hero_image {
            self.image(image, HERO_ALT_KEY, &|| "/hero_image/alt".to_owned());
        }
        for (index, section) in article.sections.iter_mut().enumerate() {
            self.images(&mut section.content, &format!("/sections/{index}"));
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
            walk_meta(&mut meta.title, &mut meta.summary, None, base, &mut self.visit());
        }
        if let Some(image) = &mut meta.hero_image {
            self.image(image, HERO_ALT_KEY, &|| format!("{base}/hero_image/alt"));
        }
    }

    /// Resolves the alt text an image shows (the use's own, under `key`, or
    /// the asset's) for the locale (its pointer: `pointer`).
    pub fn image(&mut self, image: &mut Image, key: &str, pointer: &dyn Fn() -> String) {
        let default = self.locale.chain.len().saturating_sub(1);
        let own = image.alt.is_some().then(|| {
            let translated = self
                .texts
                .filter(|_| !self.locale.is_default())
                .and_then(|texts| texts.by_key.get(key))
                .and_then(|found| found.iter().min_by_key(|(place, _)| *place));
            match translated {
                Some((place, text)) => {
                    image.alt = Some(text.clone());
                    *place
                }
                None => default,
            }
        });
        if let Some(locale) = image.resolve(&self.locale.chain, own) {
            self.fallbacks.push(pointer(), &locale);
        }
    }

    /// Resolves the images of the items of `section` (pointers below `base`).
    pub fn images(&mut self, section: &mut SectionContent<Item>, base: &str) {
        let kind = section.kind;
        for (index, item) in section.items.iter_mut().enumerate() {
            let id = item.id;
            if let Some(image) = &mut item.content.image {
                self.image(image, &item_key(kind, id, IMAGE_ALT), &|| {
                    format!("{base}/items/{index}/image/alt")
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Translation writes: a body of the read shape, in another locale.

use serde_json::{Map, Value};

use super::body::AS_READ;
use super::fields::{MAX_BODY_CHARS, MAX_TITLE_CHARS, Prose, Title};
use super::images::{AltText, Image, MAX_ALT_CHARS};
use super::input::FieldError;

/// What a translation write may give of a part: each text the default
/// locale has, by key: `Some` to store, `None` to remove (it falls back).
pub type TextsWrite = Vec<(String, Option<String>)>;

/// What a translation write is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole article.
    Article,
    /// One section.
    Section,
    /// One item of a section of this kind.
    Item(SectionKind),
}

/// Reads the texts of a translation write of `scope` from `body`, against
/// `stored`, the default locale's write body of the same part (with item
/// ids). Structure (kinds, ids, order, phases, status, dates, author, slug)
/// may be repeated as stored and must not differ: a write in another locale
/// changes text only. A text left out or `null` is removed.
pub fn parse_texts(body: &Value, stored: &Value, scope: Scope) -> Result<TextsWrite, Vec<FieldError>> {
    let mut parse = TextParse::default();
    match scope {
        Scope::Article => parse.article(body, stored),
        Scope::Section => parse.section(body, stored, ""),
        Scope::Item(kind) => parse.item(body, stored, kind, ""),
    }
    if parse.errors.is_empty() {
        Ok(parse.texts)
    } else {
        Err(parse.errors)
    }
}

#[derive(Default)]
struct TextParse {
    texts: TextsWrite,
    errors: Vec<FieldError>,
}

/// Structure fields of each level, shared by every locale.
const ARTICLE_STRUCTURE: &[&str] = &["slug", "author", "published_on", "status"];
const ITEM_STRUCTURE: &[&str] = &["id", "phase"];
use super::fields::{ARTICLE_SERVER_OWNED, SECTION_SERVER_OWNED};

impl TextParse {
    fn problem(&mut self, pointer: String, message: impl Into<String>) {
        self.errors.push(FieldError {
            pointer,
            message: message.into(),
        });
    }

    /// The object `value` at `pointer`, without what a read gives and the
    /// server owns (`server_owned`, `locale`, `fallbacks`): a translation
    /// write may send back what it read.
    fn object(&mut self, value: &Value, pointer: &str, server_owned: &[&str]) -> Option<Map<String, Value>> {
        match value.as_object() {
            Some(object) => {
                let mut object = object.clone();
                for key in AS_READ.iter().chain(server_owned) {
                    object.remove(*key);
                }
                Some(object)
            }
            None => {
                self.problem(pointer.to_owned(), "must be a JSON object");
                None
            }
        }
    }

    /// The text `field` of `given` (limit `max`), to store under `key`; the
    /// default locale must have a text there (`stored`).
    fn text(&mut self, key: String, pointer: String, given: Option<Value>, stored: Option<&Value>, max: usize) {
        let has_default = stored.is_some_and(|stored| !stored.is_null());
        match given {
            None | Some(Value::Null) => {
                if has_default {
                    self.texts.push((key, None));
                }
            }
            Some(_) if !has_default => self.problem(
                pointer,
                "has no text in the default locale: a translation translates the texts it has",
            ),
            Some(Value::String(text)) => {
                let parsed = if max == MAX_TITLE_CHARS {
                    Title::parse(text).map(Title::into_string)
                } else if max == MAX_ALT_CHARS {
                    AltText::parse(text).map(AltText::into_string)
                } else {
                    Prose::parse(text).map(Prose::into_string)
                };
                match parsed {
                    Ok(text) => self.texts.push((key, Some(text))),
                    Err(invalid) => self.problem(pointer, invalid.0),
                }
            }
            Some(_) => self.problem(pointer, "must be a string, or null to remove the translation"),
        }
    }

    /// A structure field: if given, it must be as stored.
    fn same(&mut self, pointer: String, given: Option<Value>, stored: Option<&Value>) {
        if let Some(given) = given
            && Some(&given) != stored
            && !(given.is_null() && stored.is_none())
        {
            let stored = stored.map_or_else(|| "absent".to_owned(), Value::to_string);
            self.problem(
                pointer,
                format!(
                    "is structure, the same in every locale: must be {stored} as in the default locale \
                     (change structure without ?locale)"
                ),
            );
        }
    }

    /// The array `field` of `object`, which must list as many elements as `stored`.
    fn list(&mut self, object: &mut Map<String, Value>, field: &str, stored: &Value, base: &str) -> Option<Vec<Value>> {
        let pointer = format!("{base}/{field}");
        let stored_len = stored.get(field).and_then(Value::as_array).map_or(0, Vec::len);
        match object.remove(field) {
            Some(Value::Array(elements)) if elements.len() == stored_len => Some(elements),
            Some(Value::Array(elements)) => {
                self.problem(
                    pointer,
                    format!(
                        "must list the {stored_len} {field} of the default locale in their order (got {}); \
                         adding or removing is a structure change, made without ?locale",
                        elements.len()
                    ),
                );
                None
            }
            _ => {
                self.problem(
                    pointer,
                    format!("is required: the {stored_len} {field} of the default locale, in their order"),
                );
                None
            }
        }
    }

    /// Any key left in `object` is unknown.
    fn unknown(&mut self, object: Map<String, Value>, base: &str) {
        for key in object.keys() {
            self.problem(
                format!("{base}/{}", key.replace('~', "~0").replace('/', "~1")),
                "unknown field",
            );
        }
    }

    fn article(&mut self, body: &Value, stored: &Value) {
        let Some(mut object) = self.object(body, "", ARTICLE_SERVER_OWNED) else {
            return;
        };
        for field in ARTICLE_STRUCTURE {
            self.same(format!("/{field}"), object.remove(*field), stored.get(*field));
        }
        for (field, max) in [("title", MAX_TITLE_CHARS), ("summary", MAX_BODY_CHARS)] {
            self.text(
                field.to_owned(),
                format!("/{field}"),
                object.remove(field),
                stored.get(field),
                max,
            );
        }
        self.image(
            object.remove("hero_image"),
            stored.get("hero_image"),
            HERO_ALT_KEY.to_owned(),
            "/hero_image".to_owned(),
        );
        if let Some(sections) = self.list(&mut object, "sections", stored, "") {
            let stored_sections = stored["sections"].as_array().cloned().unwrap_or_default();
            for (index, (section, stored)) in sections.iter().zip(&stored_sections).enumerate() {
                self.section(section, stored, &format!("/sections/{index}"));
            }
        }
        self.unknown(object, "");
    }

    fn section(&mut self, body: &Value, stored: &Value, base: &str) {
        let Some(mut object) = self.object(body, base, SECTION_SERVER_OWNED) else {
            return;
        };
        let Some(kind) = stored.get("kind").and_then(Value::as_str).and_then(SectionKind::parse) else {
            return;
        };
        self.same(format!("{base}/kind"), object.remove("kind"), stored.get("kind"));
        self.text(
            section_key(kind, "heading"),
            format!("{base}/heading"),
            object.remove("heading"),
            stored.get("heading"),
            MAX_TITLE_CHARS,
        );
        for &field in kind.fields() {
            let name = field.name();
            match field {
                SectionField::Items => {
                    if let Some(items) = self.list(&mut object, name, stored, base) {
                        let stored_items = stored["items"].as_array().cloned().unwrap_or_default();
                        for (index, (item, stored)) in items.iter().zip(&stored_items).enumerate() {
                            self.item(item, stored, kind, &format!("{base}/items/{index}"));
                        }
                    }
                }
                SectionField::PhaseHeadings => {
                    let pointer = format!("{base}/{name}");
                    let mut headings = match object.remove(name) {
                        None | Some(Value::Null) => Map::new(),
                        Some(given) => self.object(&given, &pointer, &[]).unwrap_or_default(),
                    };
                    for phase in ["before", "during", "after"] {
                        self.text(
                            section_key(kind, &format!("phase_headings.{phase}")),
                            format!("{pointer}/{phase}"),
                            headings.remove(phase),
                            stored.get(name).and_then(|stored| stored.get(phase)),
                            MAX_TITLE_CHARS,
                        );
                    }
                    self.unknown(headings, &pointer);
                }
                _ => self.text(
                    section_key(kind, name),
                    format!("{base}/{name}"),
                    object.remove(name),
                    stored.get(name),
                    MAX_BODY_CHARS,
                ),
            }
        }
        self.unknown(object, base);
    }

    fn item(&mut self, body: &Value, stored: &Value, kind: SectionKind, base: &str) {
        let Some(mut object) = self.object(body, base, &[]) else {
            return;
        };
        for field in ITEM_STRUCTURE {
            self.same(format!("{base}/{field}"), object.remove(*field), stored.get(*field));
        }
        self.same(
            format!("{base}/kind"),
            object.remove("kind"),
            Some(&Value::from(kind.as_str())),
        );
        let Some(id) = stored
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| Uuid::try_parse(id).ok())
        else {
            return;
        };
        for &field in kind.item_shape().map_or(&[][..], |shape| shape.fields()) {
            if field == super::kinds::ItemField::Phase {
                continue;
            }
            let max = if field == super::kinds::ItemField::Title {
                MAX_TITLE_CHARS
            } else {
                MAX_BODY_CHARS
            };
            self.text(
                item_key(kind, id, field.name()),
                format!("{base}/{}", field.name()),
                object.remove(field.name()),
                stored.get(field.name()),
                max,
            );
        }
        if kind.item_shape().is_some_and(super::kinds::ItemShape::has_image) {
            self.image(
                object.remove("image"),
                stored.get("image"),
                item_key(kind, id, IMAGE_ALT),
                format!("{base}/image"),
            );
        }
        self.unknown(object, base);
    }

    /// An image (`given`) against the default locale's (`stored`): which
    /// asset and whether decorative are structure; its own alt text, if the
    /// default locale gives one, is a text (`key`). A read's image sent back
    /// shows the asset's alt where the use has none: that is not translated.
    fn image(&mut self, given: Option<Value>, stored: Option<&Value>, key: String, pointer: String) {
        let stored = stored.filter(|stored| !stored.is_null());
        let stored_alt = stored.and_then(|stored| stored.get("alt")).filter(|alt| !alt.is_null());
        let Some(given) = given.filter(|given| !given.is_null()) else {
            if stored_alt.is_some() {
                self.texts.push((key, None));
            }
            return;
        };
        let Some(mut object) = self.object(&given, &pointer, &["url", "width", "height", "placeholder", "srcset"])
        else {
            return;
        };
        for field in ["asset_id", "decorative"] {
            self.same(
                format!("{pointer}/{field}"),
                object.remove(field),
                stored.and_then(|stored| stored.get(field)),
            );
        }
        let alt = object.remove("alt");
        if stored_alt.is_some() {
            self.text(key, format!("{pointer}/alt"), alt, stored_alt, MAX_ALT_CHARS);
        }
        self.unknown(object, &pointer);
    }
}

/// A short hash of a default-locale text: a translation written against it
/// keeps it, and is outdated once the default text hashes differently.
pub fn source_hash(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every default-locale text of an article by key, with its pointer in the article read.
pub fn default_texts(
    title: &str,
    summary: &str,
    hero_alt: Option<&str>,
    sections: &mut [SectionContent<Item>],
) -> Vec<(String, String, String)> {
    let mut texts = Vec::new();
    let mut visit = |key: &str, pointer: &dyn Fn() -> String, slot: &mut Option<String>| {
        if let Some(text) = slot {
            texts.push((key.to_owned(), pointer(), text.clone()));
        }
    };
    walk_meta(
        &mut title.to_owned(),
        &mut summary.to_owned(),
        Some(&mut hero_alt.map(str::to_owned)),
        "",
        &mut visit,
    );
    for (index, section) in sections.iter_mut().enumerate() {
        walk_section(section, &format!("/sections/{index}"), &mut visit);
    }
    texts
}

// ---------------------------------------------------------------------------
// Storage.

/// A stored translation.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = translations, check_for_backend(diesel::pg::Pg))]
pub struct TranslationRow {
    pub locale: String,
    pub key: String,
    pub text: String,
    pub source_hash: String,
}

/// Every translation of an article, and the status of each locale it has one in.
pub async fn load_all(
    conn: &mut AsyncPgConnection,
    article_id: Uuid,
) -> QueryResult<(Vec<TranslationRow>, Vec<(String, String)>)> {
    let rows = translations::table
        .filter(translations::article_id.eq(article_id))
        .order((translations::locale, translations::key))
        .select(TranslationRow::as_select())
        .load(conn)
        .await?;
    let statuses = article_locales::table
        .filter(article_locales::article_id.eq(article_id))
        .order(article_locales::locale)
        .select((article_locales::locale, article_locales::status))
        .load(conn)
        .await?;
    Ok((rows, statuses))
}

/// Every locale's text of an article, for a revision (`null` when it has none):
/// `{"de": {"status": "published", "texts": {"title": {"text", "source"}}}}`.
pub async fn snapshot(conn: &mut AsyncPgConnection, article_id: Uuid) -> QueryResult<Option<Value>> {
    let (rows, statuses) = load_all(conn, article_id).await?;
    if rows.is_empty() && statuses.is_empty() {
        return Ok(None);
    }
    let mut locales = Map::new();
    for (locale, status) in statuses {
        locales.insert(locale, serde_json::json!({"status": status, "texts": {}}));
    }
    for row in rows {
        let entry = locales
            .entry(row.locale)
            .or_insert_with(|| serde_json::json!({"status": "draft", "texts": {}}));
        entry["texts"][&row.key] = serde_json::json!({"text": row.text, "source": row.source_hash});
    }
    Ok(Some(Value::Object(locales)))
}

/// Replaces every translation of an article by those of a revision's
/// `snapshot` (locales no longer configured are left out).
pub async fn restore(
    conn: &mut AsyncPgConnection,
    article_id: Uuid,
    snapshot: Option<&Value>,
    locales: &Locales,
) -> QueryResult<()> {
    diesel::delete(translations::table.filter(translations::article_id.eq(article_id)))
        .execute(conn)
        .await?;
    diesel::delete(article_locales::table.filter(article_locales::article_id.eq(article_id)))
        .execute(conn)
        .await?;
    let Some(Value::Object(snapshot)) = snapshot else {
        return Ok(());
    };
    for (locale, entry) in snapshot.iter().filter(|(code, _)| locales.get(code).is_some()) {
        let status = entry["status"].as_str().unwrap_or("draft");
        diesel::insert_into(article_locales::table)
            .values((
                article_locales::article_id.eq(article_id),
                article_locales::locale.eq(locale),
                article_locales::status.eq(status),
            ))
            .execute(conn)
            .await?;
        for (key, text) in entry["texts"].as_object().into_iter().flatten() {
            let (Some(body), Some(source)) = (text["text"].as_str(), text["source"].as_str()) else {
                continue;
            };
            diesel::insert_into(translations::table)
                .values((
                    translations::article_id.eq(article_id),
                    translations::locale.eq(locale),
                    translations::key.eq(key),
                    translations::text.eq(body),
                    translations::source_hash.eq(source),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// Deletes the translations of texts the article no longer has (a removed
/// item's or section's go with it; an emptied optional text's too).
pub async fn prune(
    conn: &mut AsyncPgConnection,
    article_id: Uuid,
    sections: &[store::StoredSection],
) -> QueryResult<()> {
    // (A hero alt text's translation goes with the article, not with its hero image.)
    let mut keys: Vec<String> = vec!["title".to_owned(), "summary".to_owned(), HERO_ALT_KEY.to_owned()];
    for section in sections {
        let Ok(mut content) = section.to_input() else { continue };
        walk_section(
            &mut content,
            "",
            &mut |key: &str, _: &dyn Fn() -> String, slot: &mut Option<String>| {
                if slot.is_some() {
                    keys.push(key.to_owned());
                }
            },
        );
    }
    diesel::delete(
        translations::table
            .filter(translations::article_id.eq(article_id))
            .filter(translations::key.ne_all(keys)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// What translators need to know.

/// Where an article's translation into one locale stands.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TranslationStatus {
    /// The locale.
    #[schema(example = "de")]
    pub locale: String,
    /// Whether anonymous readers get it (`draft` until an editor publishes it).
    #[schema(example = "draft")]
    pub status: String,
    /// Texts translated into this locale.
    #[schema(example = 42)]
    pub translated: usize,
    /// Texts of the default locale with no translation into this locale (they fall back).
    #[schema(example = 3)]
    pub missing: usize,
    /// Translations written before the default locale's text last changed.
    #[schema(example = 1)]
    pub outdated: usize,
    /// The JSON pointer (in the article read) of each missing text.
    #[schema(example = json!(["/sections/4/items/2/body"]))]
    pub missing_pointers: Vec<String>,
    /// The JSON pointer of each outdated translation.
    #[schema(example = json!(["/summary"]))]
    pub outdated_pointers: Vec<String>,
}

/// Where the translation of `article` into each locale other than the default stands.
pub async fn report(
    conn: &mut AsyncPgConnection,
    article: &store::ArticleRow,
    sections: &[store::StoredSection],
    locales: &Locales,
) -> Result<Vec<TranslationStatus>, super::Error> {
    let mut contents = sections
        .iter()
        .map(|section| section.to_api().map(|section| section.content))
        .collect::<QueryResult<Vec<_>>>()?;
    let defaults = default_texts(
        &article.title,
        &article.summary,
        article.hero_alt.as_deref(),
        &mut contents,
    );
    let (rows, statuses) = load_all(conn, article.id).await?;
    Ok(locales
        .all()
        .iter()
        .filter(|locale| !locale.default)
        .map(|locale| {
            let mine: HashMap<&str, &TranslationRow> = rows
                .iter()
                .filter(|row| row.locale == locale.code)
                .map(|row| (row.key.as_str(), row))
                .collect();
            let mut status = TranslationStatus {
                locale: locale.code.clone(),
                status: statuses
                    .iter()
                    .find(|(code, _)| *code == locale.code)
                    .map_or_else(|| "draft".to_owned(), |(_, status)| status.clone()),
                translated: 0,
                missing: 0,
                outdated: 0,
                missing_pointers: Vec::new(),
                outdated_pointers: Vec::new(),
            };
            for (key, pointer, text) in &defaults {
                match mine.get(key.as_str()) {
                    None => status.missing_pointers.push(pointer.clone()),
                    Some(row) => {
                        status.translated += 1;
                        if row.source_hash != source_hash(text) {
                            status.outdated_pointers.push(pointer.clone());
                        }
                    }
                }
            }
            status.missing = status.missing_pointers.len();
            status.outdated = status.outdated_pointers.len();
            status
        })
        .collect())
}

// ---------------------------------------------------------------------------
// What a translation write is of.

/// What a translation write is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranslationOf {
    /// The whole article.
    Article,
    /// One section.
    Section(SectionKind),
    /// One item of a section.
    Item(SectionKind, Uuid),
}

/// The section of `kind`, or 404.
fn section_of<'a>(
    slug: &str,
    kind: SectionKind,
    sections: &'a [store::StoredSection],
) -> Result<&'a store::StoredSection, super::Error> {
    sections
        .iter()
        .find(|section| section.row.kind == kind.as_str())
        .ok_or_else(|| super::Error::SectionNotFound {
            slug: slug.to_owned(),
            kind,
        })
}

/// The default locale's write body of `of` in the article `slug` (with its
/// item ids), what kind of part it is, and the resource and version a
/// precondition on it names; 404 if the article lacks it.
pub fn part_of(
    slug: &str,
    article: &store::ArticleRow,
    sections: &[store::StoredSection],
    of: TranslationOf,
) -> Result<(Value, Scope, super::Resource, super::Version), super::Error> {
    Ok(match of {
        TranslationOf::Article => {
            let mut body = article.to_input(sections)?.to_body();
            body["slug"] = Value::from(slug);
            (body, Scope::Article, super::Resource::Article, article.version())
        }
        TranslationOf::Section(kind) => {
            let section = section_of(slug, kind, sections)?;
            (
                section.to_input()?.to_body(),
                Scope::Section,
                super::Resource::Section,
                section.row.version(),
            )
        }
        TranslationOf::Item(kind, id) => {
            let section = section_of(slug, kind, sections)?;
            let item = section
                .to_input()?
                .items
                .into_iter()
                .find(|item| item.id == Some(id))
                .ok_or(super::Error::ItemNotFound {
                    slug: slug.to_owned(),
                    kind,
                    id,
                })?;
            let version = section.item_version(id);
            (item.to_body(), Scope::Item(kind), super::Resource::Item, version)
        }
    })
}

/// Checks `body` as a write of `of`'s texts in another locale would (a
/// release stages a translation checked so), writing nothing.
pub async fn check_texts(
    conn: &mut AsyncPgConnection,
    slug: &str,
    of: TranslationOf,
    body: &Value,
) -> Result<(), super::Error> {
    let article = store::find_article(conn, slug, store::Visibility::All)
        .await?
        .ok_or_else(|| super::Error::ArticleNotFound { slug: slug.to_owned() })?;
    let sections = store::load_sections(conn, article.id, None).await?;
    let (stored, scope, ..) = part_of(slug, &article, &sections, of)?;
    parse_texts(body, &stored, scope).map_err(super::Error::Invalid)?;
    Ok(())
}

/// The same as [`store::load_article`], with the article's translations a read in
/// `locale` may use (drafts too if `drafts`), in the same snapshot.
pub async fn load_localized(
    conn: &mut AsyncPgConnection,
    slug: &str,
    visibility: store::Visibility,
    kinds: Option<&[SectionKind]>,
    locale: &ReadLocale,
) -> QueryResult<Option<(store::ArticleRow, Vec<store::StoredSection>, Texts)>> {
    if locale.is_default() {
        let loaded = store::load_article(conn, slug, visibility, kinds).await?;
        return Ok(loaded.map(|(row, sections)| (row, sections, Texts::default())));
    }
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async move |conn| {
            let Some(row) = store::find_article(conn, slug, visibility).await? else {
                return Ok(None);
            };
            let sections = store::load_sections(conn, row.id, kinds).await?;
            let drafts = visibility == store::Visibility::All;
            let texts = load_texts(conn, &[row.id], locale, drafts, None)
                .await?
                .remove(&row.id)
                .unwrap_or_default();
            Ok(Some((row, sections, texts)))
        })
        .await
}

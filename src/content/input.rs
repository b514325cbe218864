//! Write bodies: parsed from JSON, validated all at once, normalised.
//!
//! Every write (editor `PUT`s and the seed) goes through these functions, so
//! what is stored always satisfies the same rules. Problems are collected,
//! not returned on the first one, each with an RFC 6901 pointer into the body.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::kinds::{ArticleStatus, ItemShape, Phase, SectionKind};
use super::model::PhaseHeadings;

/// Longest title, heading, author name or phase heading, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, intro, note, summary, description or call to action, in characters.
pub const MAX_BODY_CHARS: usize = 5_000;
/// Most items in one section.
pub const MAX_ITEMS: usize = 50;
/// Longest slug, in characters.
pub const MAX_SLUG_CHARS: usize = 100;
/// Earliest `published_on` accepted.
pub const MIN_PUBLISHED_ON: NaiveDate = NaiveDate::from_ymd_opt(1000, 1, 1).expect("a valid date");
/// Latest `published_on` accepted.
pub const MAX_PUBLISHED_ON: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

/// Characters that take no space: text made only of these (and white space) is empty.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

/// Bidirectional embedding, override and isolate controls: they can make
/// text display differently from what it says (CVE-2021-42574), so are refused.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One problem with a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// RFC 6901 pointer to the offending value in the request body (`""` is the whole body).
    #[schema(example = "/items/2/title")]
    pub pointer: String,
    /// What is wrong, in plain words.
    #[schema(example = "must not be empty")]
    pub message: String,
}

/// A validated article write: everything an editor may set.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleInput {
    pub title: String,
    pub author: String,
    pub published_on: NaiveDate,
    pub status: ArticleStatus,
    pub summary: String,
    pub sections: Vec<SectionInput>,
}

/// A validated section write. Fields a kind does not have are `None`/empty.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionInput {
    pub kind: SectionKind,
    pub heading: String,
    pub intro: Option<String>,
    pub body: Option<String>,
    pub note: Option<String>,
    pub call_to_action: Option<String>,
    pub phase_headings: Option<PhaseHeadings>,
    pub items: Vec<ItemInput>,
}

/// A validated item write. `id` names an existing item to keep; `None` is a new item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemInput {
    pub id: Option<Uuid>,
    pub phase: Option<Phase>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub description: Option<String>,
}

/// Whether a slug is well formed.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_CHARS
        && slug
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Validates an article body (`PUT /v1/articles/{slug}`).
pub fn parse_article(body: &Value, slug: &str) -> Result<ArticleInput, Vec<FieldError>> {
    let mut v = Validator::default();
    let article = v.article(body, slug);
    v.finish(article)
}

/// Validates a section body (`PUT …/sections/{kind}`).
pub fn parse_section(body: &Value, kind: SectionKind) -> Result<SectionInput, Vec<FieldError>> {
    let mut v = Validator::default();
    let section = v.section(body, "", Some(kind));
    v.finish(section)
}

/// Validates an item body (`PUT …/items/{id}`) of a section of `kind`, which
/// has items of `shape`: its `kind` is required, as in the item read.
pub fn parse_item(body: &Value, kind: SectionKind, shape: ItemShape, id: Uuid) -> Result<ItemInput, Vec<FieldError>> {
    let mut v = Validator::default();
    let item = v.item(body, "", kind, shape, Some(id), Presence::Required);
    v.finish(item)
}

/// Escapes one reference token of a JSON pointer (RFC 6901 §3).
fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[derive(Default)]
struct Validator {
    errors: Vec<FieldError>,
}

/// Whether a text field may be left out.
#[derive(Clone, Copy, PartialEq)]
enum Presence {
    Required,
    Optional,
}

impl Validator {
    fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => Err(self.errors),
        }
    }

    fn error(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    fn object<'a>(&mut self, value: &'a Value, pointer: &str) -> Option<&'a Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.error(pointer, "must be a JSON object");
        }
        object
    }

    /// Reports every key that is not in `allowed`; `server_owned` keys get a hint.
    fn known_fields(&mut self, object: &Map<String, Value>, pointer: &str, allowed: &[&str], server_owned: &[&str]) {
        for key in object.keys() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let message = if server_owned.contains(&key.as_str()) {
                "is set by the server; leave it out".to_owned()
            } else {
                format!("unknown field; expected one of: {}", allowed.join(", "))
            };
            self.error(format!("{pointer}/{}", escape_token(key)), message);
        }
    }

    /// A text field: a string, trimmed, 1..=max characters, no control characters but `\n` and `\t`.
    fn text(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        key: &str,
        max: usize,
        presence: Presence,
    ) -> Option<String> {
        let pointer = format!("{pointer}/{key}");
        match object.get(key) {
            None | Some(Value::Null) => {
                if presence == Presence::Required {
                    self.error(pointer, "is required");
                }
                None
            }
            Some(Value::String(text)) => self.check_text(&pointer, text, max),
            Some(_) => {
                self.error(pointer, "must be a string");
                None
            }
        }
    }

    fn check_text(&mut self, pointer: &str, text: &str, max: usize) -> Option<String> {
        let trimmed = text.trim();
        let chars = trimmed.chars().count();
        if trimmed.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
            self.error(pointer, "must not be empty");
            None
        } else if chars > max {
            self.error(pointer, format!("must be at most {max} characters (got {chars})"));
            None
        } else if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            self.error(
                pointer,
                "must not contain control characters other than newline and tab",
            );
            None
        } else if trimmed.chars().any(is_bidi_control) {
            self.error(
                pointer,
                "must not contain bidirectional override or isolate characters (U+202A-U+202E, U+2066-U+2069)",
            );
            None
        } else {
            Some(trimmed.to_owned())
        }
    }

    fn article(&mut self, body: &Value, slug: &str) -> Option<ArticleInput> {
        const FIELDS: &[&str] = &[
            "slug",
            "title",
            "author",
            "published_on",
            "status",
            "summary",
            "sections",
        ];
        const SERVER_OWNED: &[&str] = &[
            "id",
            "version",
            "word_count",
            "reading_time_minutes",
            "created_at",
            "updated_at",
        ];
        let object = self.object(body, "")?;
        self.known_fields(object, "", FIELDS, SERVER_OWNED);
        match object.get("slug") {
            None => {}
            Some(Value::String(given)) if given == slug => {}
            Some(_) => self.error(
                "/slug",
                format!("must equal the slug in the path, {slug:?}, or be left out"),
            ),
        }
        let title = self.text(object, "", "title", MAX_TITLE_CHARS, Presence::Required);
        let author = self.text(object, "", "author", MAX_TITLE_CHARS, Presence::Required);
        let summary = self.text(object, "", "summary", MAX_BODY_CHARS, Presence::Required);
        let published_on = match object.get("published_on") {
            None | Some(Value::Null) => {
                self.error("/published_on", "is required");
                None
            }
            Some(Value::String(date)) => {
                match NaiveDate::parse_from_str(date, "%Y-%m-%d")
                    .ok()
                    .filter(|_| date.len() == 10)
                {
                    None => {
                        self.error("/published_on", "must be a calendar date, YYYY-MM-DD");
                        None
                    }
                    Some(day) if !(MIN_PUBLISHED_ON..=MAX_PUBLISHED_ON).contains(&day) => {
                        self.error("/published_on", "must lie between 1000-01-01 and 9999-12-31");
                        None
                    }
                    day => day,
                }
            }
            Some(_) => {
                self.error("/published_on", "must be a string, YYYY-MM-DD");
                None
            }
        };
        let status = match object.get("status") {
            Some(Value::String(status)) => {
                let parsed = ArticleStatus::parse(status);
                if parsed.is_none() {
                    self.error("/status", "must be \"draft\" or \"published\"");
                }
                parsed
            }
            None | Some(Value::Null) => {
                self.error("/status", "is required: \"draft\" or \"published\"");
                None
            }
            Some(_) => {
                self.error("/status", "must be \"draft\" or \"published\"");
                None
            }
        };
        let sections = match object.get("sections") {
            Some(Value::Array(sections)) => {
                let mut parsed = Vec::with_capacity(sections.len());
                let mut seen = Vec::new();
                for (index, section) in sections.iter().enumerate() {
                    let pointer = format!("/sections/{index}");
                    let Some(section) = self.section(section, &pointer, None) else {
                        continue;
                    };
                    if seen.contains(&section.kind) {
                        self.error(
                            format!("{pointer}/kind"),
                            format!("an article has at most one {} section", section.kind),
                        );
                    }
                    seen.push(section.kind);
                    parsed.push(section);
                }
                Some(parsed)
            }
            None | Some(Value::Null) => {
                self.error("/sections", "is required (an array, possibly empty)");
                None
            }
            Some(_) => {
                self.error("/sections", "must be an array");
                None
            }
        };
        Some(ArticleInput {
            title: title?,
            author: author?,
            published_on: published_on?,
            status: status?,
            summary: summary?,
            sections: sections?,
        })
    }

    /// A section body. `path_kind` is the kind named by the URL, if any.
    fn section(&mut self, body: &Value, pointer: &str, path_kind: Option<SectionKind>) -> Option<SectionInput> {
        const SERVER_OWNED: &[&str] = &["id", "position", "version", "updated_at"];
        let object = self.object(body, pointer)?;
        let kind = match (object.get("kind"), path_kind) {
            (Some(Value::String(name)), path_kind) => match (SectionKind::parse(name), path_kind) {
                (Some(kind), Some(expected)) if kind != expected => {
                    self.error(
                        format!("{pointer}/kind"),
                        format!("must be {:?}, the kind in the path", expected.as_str()),
                    );
                    None
                }
                (Some(kind), _) => Some(kind),
                (None, _) => {
                    self.error(
                        format!("{pointer}/kind"),
                        format!("unknown section kind; expected one of: {}", kind_names()),
                    );
                    None
                }
            },
            (None | Some(Value::Null), _) => {
                self.error(
                    format!("{pointer}/kind"),
                    format!("is required: one of {}", kind_names()),
                );
                None
            }
            (Some(_), _) => {
                self.error(format!("{pointer}/kind"), "must be a string");
                None
            }
        };
        let Some(kind) = kind else {
            // Without a kind the allowed fields are unknown; report the rest later.
            return None;
        };
        let heading = self.text(object, pointer, "heading", MAX_TITLE_CHARS, Presence::Required);
        let mut allowed = vec!["kind", "heading"];
        let mut section = SectionInput {
            kind,
            heading: String::new(),
            intro: None,
            body: None,
            note: None,
            call_to_action: None,
            phase_headings: None,
            items: Vec::new(),
        };
        let complete = match kind.item_shape() {
            None => {
                allowed.push("body");
                section.body = self.text(object, pointer, "body", MAX_BODY_CHARS, Presence::Required);
                if kind == SectionKind::Conclusion {
                    allowed.push("call_to_action");
                    section.call_to_action =
                        self.text(object, pointer, "call_to_action", MAX_BODY_CHARS, Presence::Optional);
                }
                section.body.is_some()
            }
            Some(shape) => {
                allowed.extend(["intro", "items"]);
                section.intro = self.text(object, pointer, "intro", MAX_BODY_CHARS, Presence::Optional);
                if kind == SectionKind::TargetAudiences {
                    allowed.push("note");
                    section.note = self.text(object, pointer, "note", MAX_BODY_CHARS, Presence::Optional);
                }
                if kind == SectionKind::Expectations {
                    allowed.push("phase_headings");
                    section.phase_headings = self.phase_headings(object, pointer);
                }
                let items = self.items(object, pointer, kind, shape);
                let complete = items.is_some();
                section.items = items.unwrap_or_default();
                complete
            }
        };
        // Unknown fields are reported even when other fields already failed.
        self.known_fields(object, pointer, &allowed, SERVER_OWNED);
        if !complete {
            return None;
        }
        section.heading = heading?;
        Some(section)
    }

    fn phase_headings(&mut self, object: &Map<String, Value>, pointer: &str) -> Option<PhaseHeadings> {
        let pointer = format!("{pointer}/phase_headings");
        let value = object.get("phase_headings").filter(|value| !value.is_null())?;
        let headings = self.object(value, &pointer)?;
        self.known_fields(headings, &pointer, &["before", "during", "after"], &[]);
        let parsed = PhaseHeadings {
            before: self.text(headings, &pointer, "before", MAX_TITLE_CHARS, Presence::Optional),
            during: self.text(headings, &pointer, "during", MAX_TITLE_CHARS, Presence::Optional),
            after: self.text(headings, &pointer, "after", MAX_TITLE_CHARS, Presence::Optional),
        };
        (parsed != PhaseHeadings::default()).then_some(parsed)
    }

    fn items(
        &mut self,
        object: &Map<String, Value>,
        pointer: &str,
        kind: SectionKind,
        shape: ItemShape,
    ) -> Option<Vec<ItemInput>> {
        let pointer = format!("{pointer}/items");
        let items = match object.get("items") {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => {
                self.error(pointer, "is required (an array, possibly empty)");
                return None;
            }
            Some(_) => {
                self.error(pointer, "must be an array");
                return None;
            }
        };
        if items.len() > MAX_ITEMS {
            self.error(
                &pointer,
                format!("must have at most {MAX_ITEMS} items (got {})", items.len()),
            );
        }
        let mut parsed = Vec::with_capacity(items.len());
        let mut ids = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let item_pointer = format!("{pointer}/{index}");
            if let Some(item) = self.item(item, &item_pointer, kind, shape, None, Presence::Optional) {
                if let Some(id) = item.id {
                    if ids.contains(&id) {
                        self.error(format!("{item_pointer}/id"), "appears twice in this section");
                    }
                    ids.push(id);
                }
                parsed.push(item);
            }
        }
        (parsed.len() == items.len()).then_some(parsed)
    }

    /// An item body. `path_id` is the id named by the URL, if any.
    /// An item body of a section of `kind`. `path_id` is the id named by the
    /// URL, if any; the item's `kind`, if given, must be the section's.
    fn item(
        &mut self,
        body: &Value,
        pointer: &str,
        kind: SectionKind,
        shape: ItemShape,
        path_id: Option<Uuid>,
        kind_presence: Presence,
    ) -> Option<ItemInput> {
        let object = self.object(body, pointer)?;
        let allowed: &[&str] = match shape {
            ItemShape::Titled => &["id", "kind", "title", "body"],
            ItemShape::Phased => &["id", "kind", "phase", "title", "body"],
            ItemShape::Described => &["id", "kind", "description"],
        };
        self.known_fields(object, pointer, allowed, &[]);
        match object.get("kind") {
            Some(Value::String(name)) if name == kind.as_str() => {}
            None if kind_presence == Presence::Optional => {}
            None => self.error(
                format!("{pointer}/kind"),
                format!("is required: {:?}, the kind of the item's section", kind.as_str()),
            ),
            Some(_) => self.error(
                format!("{pointer}/kind"),
                format!("must be {:?}, the kind of the item's section", kind.as_str()),
            ),
        }
        let id = match object.get("id") {
            None | Some(Value::Null) => Ok(path_id),
            Some(Value::String(text)) => match (Uuid::parse_str(text), path_id) {
                (Ok(id), Some(expected)) if id != expected => {
                    self.error(
                        format!("{pointer}/id"),
                        "must equal the item id in the path, or be left out",
                    );
                    Err(())
                }
                (Ok(id), _) => Ok(Some(id)),
                (Err(_), _) => {
                    self.error(format!("{pointer}/id"), "must be a UUID");
                    Err(())
                }
            },
            Some(_) => {
                self.error(format!("{pointer}/id"), "must be a UUID string");
                Err(())
            }
        };
        let mut item = ItemInput {
            id: None,
            phase: None,
            title: None,
            body: None,
            description: None,
        };
        let complete = match shape {
            ItemShape::Described => {
                item.description = self.text(object, pointer, "description", MAX_BODY_CHARS, Presence::Required);
                item.description.is_some()
            }
            ItemShape::Titled | ItemShape::Phased => {
                if shape == ItemShape::Phased {
                    item.phase = match object.get("phase") {
                        Some(Value::String(name)) if Phase::parse(name).is_some() => Phase::parse(name),
                        None | Some(Value::Null) => {
                            self.error(
                                format!("{pointer}/phase"),
                                "is required: \"before\", \"during\" or \"after\"",
                            );
                            None
                        }
                        Some(_) => {
                            self.error(
                                format!("{pointer}/phase"),
                                "must be \"before\", \"during\" or \"after\"",
                            );
                            None
                        }
                    };
                }
                item.title = self.text(object, pointer, "title", MAX_TITLE_CHARS, Presence::Required);
                item.body = self.text(object, pointer, "body", MAX_BODY_CHARS, Presence::Required);
                item.title.is_some() && item.body.is_some() && (shape == ItemShape::Titled || item.phase.is_some())
            }
        };
        item.id = id.ok()?;
        complete.then_some(item)
    }
}

fn kind_names() -> String {
    SectionKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl SectionInput {
    /// Every text of the section, for word counts.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        let headings = self
            .phase_headings
            .iter()
            .flat_map(|h| [&h.before, &h.during, &h.after]);
        [&self.intro, &self.body, &self.note, &self.call_to_action]
            .into_iter()
            .chain(headings)
            .flatten()
            .map(String::as_str)
            .chain(std::iter::once(self.heading.as_str()))
            .chain(self.items.iter().flat_map(|item| {
                [&item.title, &item.body, &item.description]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
            }))
    }
}

impl ArticleInput {
    /// Words in the summary and every text of every section.
    pub fn word_count(&self) -> i32 {
        let texts = std::iter::once(self.summary.as_str()).chain(self.sections.iter().flat_map(SectionInput::texts));
        count_words(texts)
    }
}

/// Counts whitespace-separated words.
pub fn count_words<'a>(texts: impl Iterator<Item = &'a str>) -> i32 {
    let words: usize = texts.map(|text| text.split_whitespace().count()).sum();
    i32::try_from(words).unwrap_or(i32::MAX)
}

/// round(words / 238), at least 1.
pub fn reading_time_minutes(word_count: i32) -> i32 {
    ((f64::from(word_count) / 238.0).round() as i32).max(1)
}

impl ItemInput {
    /// The item as a JSON write body.
    pub fn to_body(&self) -> Value {
        let mut object = Map::new();
        if let Some(id) = self.id {
            object.insert("id".into(), Value::String(id.to_string()));
        }
        if let Some(phase) = self.phase {
            object.insert("phase".into(), Value::String(phase.as_str().into()));
        }
        for (key, value) in [
            ("title", &self.title),
            ("body", &self.body),
            ("description", &self.description),
        ] {
            if let Some(value) = value {
                object.insert(key.into(), Value::String(value.clone()));
            }
        }
        Value::Object(object)
    }
}

impl SectionInput {
    /// The section as a JSON write body (what `parse_section` reads back).
    pub fn to_body(&self) -> Value {
        let mut object = Map::new();
        object.insert("kind".into(), Value::String(self.kind.as_str().into()));
        object.insert("heading".into(), Value::String(self.heading.clone()));
        let texts = [
            ("intro", &self.intro),
            ("body", &self.body),
            ("note", &self.note),
            ("call_to_action", &self.call_to_action),
        ];
        for (key, value) in texts {
            if let Some(value) = value {
                object.insert(key.into(), Value::String(value.clone()));
            }
        }
        if let Some(headings) = &self.phase_headings {
            object.insert(
                "phase_headings".into(),
                serde_json::to_value(headings).unwrap_or(Value::Null),
            );
        }
        if self.kind.item_shape().is_some() {
            object.insert(
                "items".into(),
                Value::Array(self.items.iter().map(ItemInput::to_body).collect()),
            );
        }
        Value::Object(object)
    }
}

impl ArticleInput {
    /// The article as a JSON write body (what `parse_article` reads back).
    pub fn to_body(&self) -> Value {
        serde_json::json!({
            "title": self.title,
            "author": self.author,
            "published_on": self.published_on.format("%Y-%m-%d").to_string(),
            "status": self.status.as_str(),
            "summary": self.summary,
            "sections": self.sections.iter().map(SectionInput::to_body).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugs() {
        assert!(is_valid_slug("explore-micro-needling-2"));
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "ä"] {
            assert!(!is_valid_slug(bad), "{bad:?}");
        }
        assert!(!is_valid_slug(&"a".repeat(101)));
    }

    #[test]
    fn reports_every_problem_with_pointers() {
        let body = json!({
            "kind": "steps", "heading": " ", "bogus": 1, "version": 3,
            "items": [{"title": "ok", "body": "ok"}, {"title": "x".repeat(201)}, {"id": "nope", "title": "t", "body": "b\u{7}"}]
        });
        let errors = parse_section(&body, SectionKind::Steps).unwrap_err();
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/heading",
                "/items/1/title",
                "/items/1/body",
                "/items/2/id",
                "/items/2/body",
                "/bogus",
                "/version"
            ]
        );
    }

    #[test]
    fn invisible_text_is_empty_and_bidi_controls_are_refused() {
        let pointers = |heading: &str| -> Vec<String> {
            let body = json!({"kind": "overview", "heading": heading, "body": "fine"});
            parse_section(&body, SectionKind::Overview)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| format!("{} {}", e.pointer, e.message))
                .collect()
        };
        assert_eq!(pointers("\u{200B}\u{200D} \u{FEFF}"), ["/heading must not be empty"]);
        assert!(pointers("abc\u{202E}cba")[0].contains("bidirectional"));
        assert!(pointers("a\u{2067}b")[0].contains("bidirectional"));
        assert!(pointers("Zero\u{200B}width inside is fine").is_empty());
    }

    #[test]
    fn published_on_is_bounded() {
        let article = |date: &str| json!({"title": "T", "author": "A", "published_on": date, "status": "draft", "summary": "S", "sections": []});
        for bad in ["0000-01-01", "0999-12-31", "-001-01-01", "+10000-01-01"] {
            let errors = parse_article(&article(bad), "a").unwrap_err();
            assert_eq!(errors[0].pointer, "/published_on", "{bad}");
        }
        for good in ["1000-01-01", "2024-11-24", "9999-12-31"] {
            assert!(parse_article(&article(good), "a").is_ok(), "{good}");
        }
    }

    #[test]
    fn kind_must_match_path() {
        let errors = parse_section(
            &json!({"kind": "risks", "heading": "h", "items": []}),
            SectionKind::Steps,
        )
        .unwrap_err();
        assert_eq!(errors[0].pointer, "/kind");
    }

    #[test]
    fn trims_text_and_counts_words() {
        let section = parse_section(
            &json!({"kind": "overview", "heading": "  Two words \n", "body": "three more words"}),
            SectionKind::Overview,
        )
        .unwrap();
        assert_eq!(section.heading, "Two words");
        assert_eq!(count_words(section.texts()), 5);
        assert_eq!(reading_time_minutes(0), 1);
        assert_eq!(reading_time_minutes(1042), 4);
        assert_eq!(reading_time_minutes(119 * 3), 2);
    }
}

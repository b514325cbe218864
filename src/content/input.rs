//! The entry points of every write: a JSON body in, a validated write out
//! (or every problem, each with an RFC 6901 pointer), plus what is derived
//! from a write (word counts) and the write back as JSON.
//!
//! Every write (editor `PUT`s, staged releases, restores, the seed) goes
//! through these functions, so what is stored always satisfies the same
//! rules. The shapes and their validation are `content::body`'s.

use serde_json::Value;
use uuid::Uuid;

use super::body::{AS_READ, ArticleWrite, ItemWrite, SectionWrite};
use super::fields::BodyErrors;
use super::kinds::{ItemShape, SectionKind};

pub use super::fields::{
    FieldError, MAX_BODY_CHARS, MAX_ITEMS, MAX_PUBLISHED_ON, MAX_SLUG_CHARS, MAX_TITLE_CHARS, MIN_PUBLISHED_ON,
    is_valid_slug,
};

/// A validated article write.
pub type ArticleInput = ArticleWrite;
/// A validated section write.
pub type SectionInput = SectionWrite;
/// A validated item write.
pub type ItemInput = ItemWrite;

/// `body` without what a read gives and a write ignores (`locale`,
/// `fallbacks`), at its top and, for an article, in its sections; an error
/// for each that is not of the shape a read gives (a string; an object of
/// strings), as the spec documents them.
fn without_read_only(body: &Value) -> Result<Value, Vec<FieldError>> {
    fn take(object: &mut serde_json::Map<String, Value>, at: &str, errors: &mut Vec<FieldError>) {
        for key in AS_READ {
            let fits = match object.remove(key) {
                None => true,
                Some(Value::String(_)) => key == "locale",
                Some(Value::Object(fallbacks)) => key == "fallbacks" && fallbacks.values().all(Value::is_string),
                Some(_) => false,
            };
            if !fits {
                let shape = if key == "locale" {
                    "a locale tag"
                } else {
                    "an object of JSON pointers to locale tags"
                };
                errors.push(FieldError {
                    pointer: format!("{at}/{key}"),
                    message: format!("must be {shape}, as a read gives it, or be left out"),
                });
            }
        }
    }
    let mut body = body.clone();
    let mut errors = Vec::new();
    if let Some(object) = body.as_object_mut() {
        take(object, "", &mut errors);
        if let Some(Value::Array(sections)) = object.get_mut("sections") {
            for (at, section) in sections.iter_mut().enumerate() {
                if let Some(section) = section.as_object_mut() {
                    take(section, &format!("/sections/{at}"), &mut errors);
                }
            }
        }
    }
    if errors.is_empty() { Ok(body) } else { Err(errors) }
}

/// Validates an article body (`PUT /v1/articles/{slug}`).
pub fn parse_article(body: &Value, slug: &str) -> Result<ArticleWrite, Vec<FieldError>> {
    let body = &without_read_only(body)?;
    // The slug in the body, if any, must be the one in the path.
    let mut errors = match body.get("slug") {
        Some(Value::String(given)) if given != slug && is_valid_slug(given) => BodyErrors::at(
            deserr::ValuePointerRef::Origin.push_key("slug"),
            format!("must equal the slug in the path, {slug:?}, or be left out"),
        ),
        _ => BodyErrors::default(),
    };
    match deserr::deserialize::<ArticleWrite, _, BodyErrors>(body.clone()) {
        Ok(article) if errors.is_empty() => Ok(article),
        Ok(_) => Err(errors.into_field_errors()),
        Err(problems) => {
            errors.extend(problems);
            Err(errors.into_field_errors())
        }
    }
}

/// Validates a section body (`PUT …/sections/{kind}`).
pub fn parse_section(body: &Value, kind: SectionKind) -> Result<SectionWrite, Vec<FieldError>> {
    let body = &without_read_only(body)?;
    // A kind other than the path's: the other fields would be judged by the wrong shape.
    if let Some(given) = body.get("kind").and_then(Value::as_str).and_then(SectionKind::parse)
        && given != kind
    {
        return Err(BodyErrors::at(
            deserr::ValuePointerRef::Origin.push_key("kind"),
            format!("must be {:?}, the kind in the path", kind.as_str()),
        )
        .into_field_errors());
    }
    deserr::deserialize::<SectionWrite, _, BodyErrors>(body.clone()).map_err(BodyErrors::into_field_errors)
}

/// Validates an item body (`PUT …/items/{id}`) of a section of `kind`, which
/// has items of `shape`: its `kind` is required, as in the item read.
pub fn parse_item(body: &Value, kind: SectionKind, shape: ItemShape, id: Uuid) -> Result<ItemWrite, Vec<FieldError>> {
    debug_assert_eq!(kind.item_shape(), Some(shape));
    let body = &without_read_only(body)?;
    let mut item = ItemWrite::deserialize_for(kind, body.clone()).map_err(BodyErrors::into_field_errors)?;
    match item.id {
        Some(given) if given != id => Err(vec![FieldError {
            pointer: "/id".into(),
            message: "must equal the item id in the path, or be left out".into(),
        }]),
        _ => {
            item.id = Some(id);
            Ok(item)
        }
    }
}

impl SectionWrite {
    /// Every text of the section and its items, for word counts.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.own_texts()
            .chain(self.items.iter().flat_map(|item| item.content.texts()))
    }

    /// The section as a JSON write body (what `parse_section` reads back).
    pub fn to_body(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl ItemWrite {
    /// The item as a JSON write body.
    pub fn to_body(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl ArticleWrite {
    /// Words in the summary and every text of every section.
    pub fn word_count(&self) -> i32 {
        let texts = std::iter::once(self.summary.as_str()).chain(self.sections.iter().flat_map(SectionWrite::texts));
        count_words(texts)
    }

    /// The article as a JSON write body (what `parse_article` reads back).
    pub fn to_body(&self) -> Value {
        serde_json::json!({
            "title": self.title,
            "author": self.author,
            "published_on": self.published_on.format("%Y-%m-%d").to_string(),
            "status": self.status.as_str(),
            "summary": self.summary,
            "hero_image": self.hero_image.as_ref().map(super::images::Image::as_write),
            "sections": self.sections.iter().map(SectionWrite::to_body).collect::<Vec<_>>(),
        })
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
        // Nothing that shows: invisible operators, variation selectors, Hangul
        // fillers, Khmer inherent vowels, the blank Braille pattern, tags, lone marks.
        for invisible in [
            "\u{2062}",
            "\u{FE0F}",
            "\u{3164}",
            "\u{1160}",
            "\u{17B4}",
            "\u{2800}",
            "\u{E0041}",
            "\u{0301}",
            "\u{0301}\u{0302} \u{20DD}",
            "\u{200E}",
        ] {
            assert_eq!(pointers(invisible), ["/heading must not be empty"], "{invisible:?}");
        }
        assert!(pointers("e\u{0301}").is_empty(), "a mark on a letter shows");
        assert!(pointers("\u{1F642}").is_empty(), "an emoji shows");
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

    fn problems(errors: Vec<FieldError>) -> Vec<String> {
        errors
            .into_iter()
            .map(|e| format!("{} {}", e.pointer, e.message))
            .collect()
    }

    #[test]
    fn unknown_and_server_owned_fields() {
        let article = json!({
            "id": "x", "word_count": 3, "colour": "red", "slug": "other",
            "title": "T", "author": "A", "published_on": "2024-11-24", "status": "draft", "summary": "S",
            "sections": [{"kind": "overview", "heading": "H", "body": "B", "position": 1, "items": []}]
        });
        let errors = problems(parse_article(&article, "a").unwrap_err());
        assert_eq!(
            errors[0],
            "/slug must equal the slug in the path, \"a\", or be left out"
        );
        assert!(
            errors.contains(&"/id is set by the server; leave it out".to_owned()),
            "{errors:?}"
        );
        assert!(
            errors.contains(&"/word_count is set by the server; leave it out".to_owned()),
            "{errors:?}"
        );
        assert!(
            errors.contains(
                &"/colour unknown field; expected one of: slug, title, author, published_on, status, summary, hero_image, sections"
                    .to_owned()
            ),
            "{errors:?}"
        );
        assert!(
            errors.contains(&"/sections/0/position is set by the server; leave it out".to_owned()),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.starts_with("/sections/0/items unknown field")),
            "{errors:?}"
        );
        assert_eq!(errors.len(), 6, "{errors:?}");
    }

    #[test]
    fn cross_checks_of_sections_and_items() {
        let id = Uuid::new_v4();
        let item = json!({"id": id, "kind": "expectations", "phase": "before", "title": "T", "body": "B"});
        let article = json!({
            "title": "T", "author": "A", "published_on": "2024-11-24", "status": "draft", "summary": "S",
            "sections": [
                {"kind": "expectations", "heading": "H", "phase_headings": {"before": " "}, "items": [item, item, {"kind": "steps", "phase": "later", "title": "T", "body": "B"}]},
                {"kind": "overview", "heading": "H", "body": "B"},
                {"kind": "overview", "heading": "H", "body": "B"},
            ]
        });
        assert_eq!(
            problems(parse_article(&article, "a").unwrap_err()),
            [
                "/sections/0/phase_headings/before must not be empty",
                "/sections/0/items/1/id appears twice in this section",
                "/sections/0/items/2/kind must be \"expectations\", the kind of the item's section",
                "/sections/0/items/2/phase must be \"before\", \"during\" or \"after\"",
                "/sections/2/kind an article has at most one overview section",
            ]
        );
        let section = json!({"kind": "expectations", "heading": "H", "phase_headings": {"before": null}, "items": [{"kind": "steps", "phase": "after", "title": "T", "body": "B"}]});
        assert_eq!(
            problems(parse_section(&section, SectionKind::Expectations).unwrap_err()),
            ["/items/0/kind must be \"expectations\", the kind of the item's section"]
        );
        let section = json!({"kind": "expectations", "heading": "H", "phase_headings": {}, "items": [{"phase": "after", "title": "T", "body": "B"}]});
        let parsed = parse_section(&section, SectionKind::Expectations).unwrap();
        assert_eq!(parsed.phase_headings, None);
        assert_eq!(parsed.items[0].content.phase, Some(crate::content::Phase::After));
        let many: Vec<Value> = (0..=MAX_ITEMS).map(|_| json!({"description": "d"})).collect();
        let section = json!({"kind": "target_audiences", "heading": "H", "items": many});
        assert_eq!(
            problems(parse_section(&section, SectionKind::TargetAudiences).unwrap_err()),
            ["/items must have at most 50 items (got 51)"]
        );
    }

    #[test]
    fn item_puts_need_their_kind_and_the_path_id() {
        let id = Uuid::new_v4();
        let item = |body: Value| parse_item(&body, SectionKind::Steps, ItemShape::Titled, id).map_err(problems);
        assert_eq!(
            item(json!({"kind": "steps", "title": "T", "body": "B"})).unwrap().id,
            Some(id)
        );
        assert_eq!(
            item(json!({"title": "T", "bogus": 1})).unwrap_err(),
            [
                "/kind is required: \"steps\", the kind of the item's section",
                "/body is required",
                "/bogus unknown field; expected one of: id, kind, title, body, image",
            ]
        );
        assert_eq!(
            item(json!({"kind": "steps", "id": Uuid::new_v4(), "title": "T", "body": "B"})).unwrap_err(),
            ["/id must equal the item id in the path, or be left out"]
        );
        assert_eq!(
            item(json!({"kind": "steps", "id": 5, "title": 5, "body": null})).unwrap_err(),
            ["/id must be a string", "/title must be a string", "/body is required"]
        );
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

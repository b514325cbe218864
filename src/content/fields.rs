//! The fields of write bodies: the validating newtypes (texts, slugs, dates,
//! item ids) with their limits, and how a body's problems are collected
//! ([`BodyErrors`], every problem at once, each with its JSON pointer). The
//! write shapes built from them are in `body`.

use std::fmt::Write as _;
use std::ops::ControlFlow;

use chrono::NaiveDate;
use deserr::{
    DeserializeError, Deserr, ErrorKind, IntoValue, MergeWithError, Value, ValueKind, ValuePointerRef, take_cf_content,
};
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};
use uuid::Uuid;

pub use super::error::FieldError;

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

/// The pattern of a slug.
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
/// The pattern of every text: no control characters but newline and tab, no
/// bidirectional overrides or isolates, and at least one character that shows
/// (the pattern names the invisible characters of the Basic Multilingual
/// Plane; the server's check, `is_invisible`, goes by Unicode properties).
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*[^\s\x00-\x1F\x7F-\x9F\u00AD\u0300-\u036F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u20D0-\u20FF\u2800\u3164\uFE00-\uFE0F\uFE20-\uFE2F\uFEFF\uFFA0\uFFF9-\uFFFB][^\x00-\x08\x0B-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$";

/// Server-owned fields of an article, refused with a hint (a translation
/// write ignores them: it may send back what it read).
pub const ARTICLE_SERVER_OWNED: &[&str] = &[
    "id",
    "version",
    "word_count",
    "reading_time_minutes",
    "created_at",
    "updated_at",
];
/// Server-owned fields of a section, refused with a hint (ignored by a translation write).
pub const SECTION_SERVER_OWNED: &[&str] = &["id", "position", "version", "updated_at"];

/// The order problems are reported in: the order of the fields in the
/// schemas (unknown fields last, array elements in order).
const FIELD_ORDER: &[&str] = &[
    "slug",
    "kind",
    "id",
    "heading",
    "phase",
    "title",
    "author",
    "summary",
    "published_on",
    "status",
    "body",
    "description",
    "intro",
    "call_to_action",
    "note",
    "phase_headings",
    "before",
    "during",
    "after",
    "items",
    "sections",
];

// ---------------------------------------------------------------------------
// Errors

/// One step of a location in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Key(String),
    Index(usize),
}

/// One problem, where it is.
#[derive(Debug, Clone)]
struct Problem {
    tokens: Vec<Token>,
    /// Whether the last token is a field the shape does not have.
    unknown: bool,
    message: String,
}

/// Every problem of a body: the error type of every write-body type.
#[derive(Debug, Clone, Default)]
pub struct BodyErrors(Vec<Problem>);

fn tokens(location: ValuePointerRef) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut at = location;
    loop {
        match at {
            ValuePointerRef::Origin => break,
            ValuePointerRef::Key { key, prev } => {
                tokens.push(Token::Key(key.to_owned()));
                at = *prev;
            }
            ValuePointerRef::Index { index, prev } => {
                tokens.push(Token::Index(index));
                at = *prev;
            }
        }
    }
    tokens.reverse();
    tokens
}

/// Escapes one reference token of a JSON pointer (RFC 6901 §3).
fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl BodyErrors {
    /// One problem at `location`.
    pub fn at(location: ValuePointerRef, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.push(location, message);
        errors
    }

    /// Adds a problem at `location`.
    pub fn push(&mut self, location: ValuePointerRef, message: impl Into<String>) {
        self.0.push(Problem {
            tokens: tokens(location),
            unknown: false,
            message: message.into(),
        });
    }

    pub(super) fn unknown_field(
        location: ValuePointerRef,
        key: &str,
        accepted: &[&str],
        server_owned: &[&str],
    ) -> Self {
        let message = if server_owned.contains(&key) {
            "is set by the server; leave it out".to_owned()
        } else {
            format!("unknown field; expected one of: {}", accepted.join(", "))
        };
        Self(vec![Problem {
            tokens: tokens(location.push_key(key)),
            unknown: true,
            message,
        }])
    }

    /// Adds every problem of `other`.
    pub fn extend(&mut self, other: BodyErrors) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems in schema order, each with its RFC 6901 pointer.
    pub fn into_field_errors(self) -> Vec<FieldError> {
        let mut problems = self.0;
        problems.sort_by_cached_key(|problem| {
            let last = problem.tokens.len().saturating_sub(1);
            problem
                .tokens
                .iter()
                .enumerate()
                .map(|(at, token)| match token {
                    _ if problem.unknown && at == last => (1, 0),
                    Token::Index(index) => (0, *index),
                    Token::Key(key) => (0, FIELD_ORDER.iter().position(|k| k == key).unwrap_or(usize::MAX)),
                })
                .collect::<Vec<_>>()
        });
        problems
            .into_iter()
            .map(|problem| {
                let mut pointer = String::new();
                for token in &problem.tokens {
                    match token {
                        Token::Key(key) => {
                            let _ = write!(pointer, "/{}", escape_token(key));
                        }
                        Token::Index(index) => {
                            let _ = write!(pointer, "/{index}");
                        }
                    }
                }
                FieldError {
                    pointer,
                    message: problem.message,
                }
            })
            .collect()
    }
}

/// What a field that is required says when it is missing (or `null`).
pub(super) fn required_message(field: &str) -> &'static str {
    match field {
        "sections" | "items" => "is required (an array, possibly empty)",
        "status" => "is required: \"draft\" or \"published\"",
        "phase" => "is required: \"before\", \"during\" or \"after\"",
        _ => "is required",
    }
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("{name:?}")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

impl MergeWithError<BodyErrors> for BodyErrors {
    fn merge(self_: Option<Self>, other: BodyErrors, _location: ValuePointerRef) -> ControlFlow<Self, Self> {
        let mut errors = self_.unwrap_or_default();
        errors.extend(other);
        ControlFlow::Continue(errors)
    }
}

impl DeserializeError for BodyErrors {
    fn error<V: IntoValue>(
        self_: Option<Self>,
        error: ErrorKind<V>,
        location: ValuePointerRef,
    ) -> ControlFlow<Self, Self> {
        let mut errors = self_.unwrap_or_default();
        match error {
            ErrorKind::IncorrectValueKind { actual, accepted } => {
                let message = match (actual, location) {
                    (Value::Null, ValuePointerRef::Key { key, .. }) => required_message(key).to_owned(),
                    _ => match accepted {
                        [ValueKind::String] => "must be a string".to_owned(),
                        [ValueKind::Map] => "must be a JSON object".to_owned(),
                        [ValueKind::Sequence] => "must be an array".to_owned(),
                        kinds => format!(
                            "must be one of: {}",
                            kinds.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                        ),
                    },
                };
                errors.push(location, message);
            }
            ErrorKind::MissingField { field } => errors.push(location.push_key(field), required_message(field)),
            ErrorKind::UnknownKey { key, accepted } => {
                errors.extend(BodyErrors::unknown_field(location, key, accepted, &[]))
            }
            ErrorKind::UnknownValue { accepted, .. } => errors.push(location, format!("must be {}", one_of(accepted))),
            ErrorKind::BadSequenceLen { expected, .. } => {
                errors.push(location, format!("must have {expected} elements"));
            }
            ErrorKind::Unexpected { msg } => errors.push(location, msg),
        }
        ControlFlow::Continue(errors)
    }
}

/// A problem found by a validating newtype, reported where its value is.
#[derive(Debug)]
pub struct Invalid(pub String);

impl MergeWithError<Invalid> for BodyErrors {
    fn merge(self_: Option<Self>, other: Invalid, location: ValuePointerRef) -> ControlFlow<Self, Self> {
        let mut errors = self_.unwrap_or_default();
        errors.push(location, other.0);
        ControlFlow::Continue(errors)
    }
}

pub(super) fn unknown_article_field(key: &str, accepted: &[&str], location: ValuePointerRef) -> BodyErrors {
    BodyErrors::unknown_field(location, key, accepted, ARTICLE_SERVER_OWNED)
}

/// "Expected a JSON value of another kind" at `location`.
pub(super) fn incorrect<V: IntoValue>(
    actual: Value<V>,
    accepted: &[ValueKind],
    location: ValuePointerRef,
) -> BodyErrors {
    take_cf_content(BodyErrors::error(
        None,
        ErrorKind::IncorrectValueKind { actual, accepted },
        location,
    ))
}

// ---------------------------------------------------------------------------
// Validating newtypes

/// Characters that show nothing by themselves: format characters (general
/// category Cf: zero-width spaces and joiners, invisible operators, tags),
/// marks (M: combining marks and variation selectors only decorate a base
/// character), the Hangul fillers (letters by category, but default-ignorable)
/// and the blank Braille pattern. Text made only of these and white space is empty.
fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};
    c.general_category_group() == GeneralCategoryGroup::Mark
        || c.general_category() == GeneralCategory::Format
        || matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}')
}

/// Bidirectional embedding, override and isolate controls: they can make
/// text display differently from what it says (CVE-2021-42574), so are refused.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A text of 1..=`MAX` characters, trimmed, with no control characters but
/// `\n` and `\t` and no bidirectional controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<const MAX: usize>(pub String);

/// A title, heading, author name or phase heading.
pub type Title = Text<MAX_TITLE_CHARS>;
/// A body, intro, note, summary, description or call to action.
pub type Prose = Text<MAX_BODY_CHARS>;

impl<const MAX: usize> Text<MAX> {
    /// Trims and checks a text.
    pub fn parse(text: String) -> Result<Self, Invalid> {
        let trimmed = text.trim();
        let chars = trimmed.chars().count();
        if trimmed.chars().all(|c| c.is_whitespace() || is_invisible(c)) {
            Err(Invalid("must not be empty".into()))
        } else if chars > MAX {
            Err(Invalid(format!("must be at most {MAX} characters (got {chars})")))
        } else if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            Err(Invalid(
                "must not contain control characters other than newline and tab".into(),
            ))
        } else if trimmed.chars().any(is_bidi_control) {
            Err(Invalid(
                "must not contain bidirectional override or isolate characters (U+202A-U+202E, U+2066-U+2069)".into(),
            ))
        } else {
            Ok(Text(trimmed.to_owned()))
        }
    }

    /// The schema of a text field: its limits, pattern, description and example.
    /// `description` is completed with the length limits.
    #[allow(
        deprecated,
        reason = "`example`, like the derived field schemas of the spec, not `examples`"
    )]
    pub fn field_schema(description: &str, example: &str, optional: bool) -> Object {
        let limits = format!("1–{} characters.", thousands(MAX));
        let description = if description.is_empty() {
            limits
        } else {
            format!("{description}, {limits}")
        };
        ObjectBuilder::new()
            .schema_type(if optional {
                SchemaType::from_iter([Type::String, Type::Null])
            } else {
                SchemaType::new(Type::String)
            })
            .min_length(Some(1))
            .max_length(Some(MAX))
            .pattern(Some(TEXT_PATTERN))
            .description(Some(description))
            .example(Some(example.into()))
            .build()
    }
}

/// `5000` as `5,000`.
fn thousands(n: usize) -> String {
    if n >= 1000 {
        format!("{},{:03}", n / 1000, n % 1000)
    } else {
        n.to_string()
    }
}

impl<const MAX: usize> Text<MAX> {
    /// The validated text.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> Deserr<BodyErrors> for Text<MAX> {
    fn deserialize_from_value<V: IntoValue>(value: Value<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let text = String::deserialize_from_value(value, location)?;
        Text::parse(text).map_err(|invalid| BodyErrors::at(location, invalid.0))
    }
}

/// A calendar date, YYYY-MM-DD, within `MIN_PUBLISHED_ON..=MAX_PUBLISHED_ON`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserr)]
#[deserr(error = BodyErrors, try_from(String) = PublishedOn::parse -> Invalid)]
pub struct PublishedOn(pub NaiveDate);

impl PublishedOn {
    /// The validated date.
    pub fn into_date(self) -> NaiveDate {
        self.0
    }

    fn parse(date: String) -> Result<Self, Invalid> {
        match NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .ok()
            .filter(|_| date.len() == 10)
        {
            None => Err(Invalid("must be a calendar date, YYYY-MM-DD".into())),
            Some(day) if !(MIN_PUBLISHED_ON..=MAX_PUBLISHED_ON).contains(&day) => Err(Invalid(format!(
                "must lie between {MIN_PUBLISHED_ON} and {MAX_PUBLISHED_ON}"
            ))),
            Some(day) => Ok(PublishedOn(day)),
        }
    }
}

/// The id of an item, a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserr)]
#[deserr(error = BodyErrors, try_from(String) = ItemId::parse -> Invalid)]
pub struct ItemId(pub Uuid);

impl ItemId {
    fn parse(id: String) -> Result<Self, Invalid> {
        Uuid::parse_str(&id)
            .map(ItemId)
            .map_err(|_| Invalid("must be a UUID".into()))
    }
}

/// The slug an article body may repeat; whether it equals the one in the
/// path is checked by [`super::input::parse_article`].
#[derive(Debug, Clone, PartialEq, Eq, Deserr)]
#[deserr(error = BodyErrors, try_from(String) = Slug::parse -> Invalid)]
pub struct Slug(pub String);

impl Slug {
    fn parse(slug: String) -> Result<Self, Invalid> {
        if is_valid_slug(&slug) {
            Ok(Slug(slug))
        } else {
            Err(Invalid(format!(
                "must be a slug: lowercase letters and digits, words joined by single hyphens, at most {MAX_SLUG_CHARS} characters"
            )))
        }
    }
}

/// Whether a slug is well formed.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_CHARS
        && slug
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

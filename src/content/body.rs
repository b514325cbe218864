//! Write bodies: one Rust type per shape, used to deserialize, validate and
//! document alike.
//!
//! Every type derives (or implements) `deserr::Deserr` with [`BodyErrors`] as
//! its error, which collects every problem of a body at once, each with the
//! location it came from, and `utoipa::ToSchema`, so the spec says exactly
//! what the types accept. Limits are the named consts below; the validating
//! newtypes and their schemas both read them.

use std::fmt::Write as _;
use std::marker::PhantomData;
use std::ops::ControlFlow;

use chrono::NaiveDate;
use deserr::{
    DeserializeError, Deserr, ErrorKind, IntoValue, Map as _, MergeWithError, Sequence as _, Value, ValueKind,
    ValuePointerRef, take_cf_content,
};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use uuid::Uuid;

use super::input::{ArticleInput, FieldError, ItemInput, SectionInput};
use super::kinds::{ArticleStatus, Phase, SectionKind};
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

/// The pattern of a slug.
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
/// The pattern of every text: no control characters but newline and tab, no
/// bidirectional overrides or isolates, and at least one character that is
/// neither white space nor zero-width.
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*[^\s\x00-\x1F\x7F-\x9F\u00AD\u180E\u200B-\u200D\u2060\uFEFF\u202A-\u202E\u2066-\u2069][^\x00-\x08\x0B-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$";

/// Server-owned fields of an article, refused with a hint.
const ARTICLE_SERVER_OWNED: &[&str] = &[
    "id",
    "version",
    "word_count",
    "reading_time_minutes",
    "created_at",
    "updated_at",
];
/// Server-owned fields of a section, refused with a hint.
const SECTION_SERVER_OWNED: &[&str] = &["id", "position", "version", "updated_at"];

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

    fn unknown_field(location: ValuePointerRef, key: &str, accepted: &[&str], server_owned: &[&str]) -> Self {
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
fn required_message(field: &str) -> &'static str {
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

fn unknown_article_field(key: &str, accepted: &[&str], location: ValuePointerRef) -> BodyErrors {
    BodyErrors::unknown_field(location, key, accepted, ARTICLE_SERVER_OWNED)
}

fn unknown_section_field(key: &str, accepted: &[&str], location: ValuePointerRef) -> BodyErrors {
    BodyErrors::unknown_field(location, key, accepted, SECTION_SERVER_OWNED)
}

/// "Expected a JSON value of another kind" at `location`.
fn incorrect<V: IntoValue>(actual: Value<V>, accepted: &[ValueKind], location: ValuePointerRef) -> BodyErrors {
    take_cf_content(BodyErrors::error(
        None,
        ErrorKind::IncorrectValueKind { actual, accepted },
        location,
    ))
}

// ---------------------------------------------------------------------------
// Validating newtypes

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

#[allow(
    deprecated,
    reason = "`example`, like the derived field schemas of the spec, not `examples`"
)]
fn slug_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(MAX_SLUG_CHARS))
        .pattern(Some(SLUG_PATTERN))
        .description(Some("Must equal the slug in the path if given."))
        .example(Some("explore-micro-needling-for-flawless-skin-today".into()))
        .build()
}

/// Declares schema functions of text fields (`schema_with` takes a function
/// without arguments), each with its description and example.
macro_rules! text_schemas {
    ($($name:ident: $text:ty, $optional:literal, $description:literal, $example:literal;)*) => {
        $(
            fn $name() -> Object {
                <$text>::field_schema($description, $example, $optional)
            }
        )*
    };
}

text_schemas! {
    article_title: Title, false, "Title", "Explore Micro Needling for Flawless Skin Today";
    article_author: Title, false, "Author's display name", "sd80464";
    article_summary: Prose, false, "The lead paragraph", "Micro needling has emerged as a popular skincare treatment.";
    titled_item_title: Title, false, "", "Consultation";
    titled_item_body: Prose, false, "", "A consultation with a licensed professional is essential.";
    expectation_item_title: Title, false, "", "Numbing";
    expectation_item_body: Prose, false, "", "A topical anesthetic will be applied.";
    audience_item_description: Prose, false, "", "Have fine lines and wrinkles";
    phase_before: Title, true, "Heading over the `before` items", "Before the Treatment";
    phase_during: Title, true, "Heading over the `during` items", "During the Treatment";
    phase_after: Title, true, "Heading over the `after` items", "After the Treatment";
    section_heading: Title, false, "The heading", "How Does Micro Needling Work?";
    overview_body: Prose, false, "The prose", "Micro needling is a minimally invasive cosmetic procedure.";
    steps_intro: Prose, true, "Text before the items", "The procedure typically involves the following steps:";
    benefits_intro: Prose, true, "Text before the items", "Here are some of the most notable advantages:";
    expectations_intro: Prose, true, "Text before the items", "Here’s a breakdown of the experience:";
    aftercare_tips_intro: Prose, true, "Text before the items", "Here are some tips to follow:";
    target_audiences_intro: Prose, true, "Text before the items", "It may be particularly beneficial for those who:";
    target_audiences_note: Prose, true, "A closing caveat", "However, it’s essential to consult with a qualified professional.";
    risks_intro: Prose, true, "Text before the items", "Be aware of potential risks and side effects, including:";
    conclusion_body: Prose, false, "The prose", "Micro needling is a powerful tool for achieving flawless skin.";
    conclusion_call_to_action: Prose, true, "A last line urging the reader to act", "Take the first step towards radiant skin today.";
}

/// A string schema allowing the given section kinds.
fn kinds_schema(kinds: &[SectionKind], description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(kinds.iter().map(|kind| kind.as_str())))
        .description(Some(description))
        .examples(kinds.first().map(|kind| kind.as_str()))
        .build()
}

/// The optional `kind` of an item in a section write: the section's kind, or `null` (as if left out).
fn optional_kinds_schema(kinds: &[SectionKind], description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(
            kinds
                .iter()
                .map(|kind| serde_json::Value::from(kind.as_str()))
                .chain([serde_json::Value::Null]),
        ))
        .description(Some(description))
        // Left out is right for every section of these kinds; a kind would be wrong for all but one.
        .examples([serde_json::Value::Null])
        .build()
}

fn titled_item_kinds() -> Object {
    optional_kinds_schema(
        &[
            SectionKind::Steps,
            SectionKind::Benefits,
            SectionKind::AftercareTips,
            SectionKind::Risks,
        ],
        "The kind of the item's section, as in a read; if given, it must be the section's.",
    )
}

fn expectations_item_kind() -> Object {
    optional_kinds_schema(
        &[SectionKind::Expectations],
        "`expectations`, as in a read; may be left out.",
    )
}

fn target_audiences_item_kind() -> Object {
    optional_kinds_schema(
        &[SectionKind::TargetAudiences],
        "`target_audiences`, as in a read; may be left out.",
    )
}

// ---------------------------------------------------------------------------
// Articles

/// A whole article to store: metadata and every section, in order.
#[derive(Debug, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields = unknown_article_field)]
#[serde(deny_unknown_fields)]
pub struct ArticleWrite {
    /// Must equal the slug in the path if given.
    #[deserr(default)]
    #[schema(schema_with = slug_schema)]
    pub slug: Option<Slug>,
    /// Title.
    #[schema(schema_with = article_title)]
    pub title: Title,
    /// Author's display name.
    #[schema(schema_with = article_author)]
    pub author: Title,
    /// Publication date, YYYY-MM-DD.
    #[schema(value_type = NaiveDate, example = "2024-11-24")]
    pub published_on: PublishedOn,
    /// `draft` (hidden from anonymous readers) or `published`.
    pub status: ArticleStatus,
    /// The lead paragraph.
    #[schema(schema_with = article_summary)]
    pub summary: Prose,
    /// The sections in order; at most one of each kind. Sections left out are deleted.
    #[schema(schema_with = sections_schema)]
    pub sections: Sections,
}

impl ArticleWrite {
    /// The validated article.
    pub fn into_input(self) -> ArticleInput {
        ArticleInput {
            title: self.title.0,
            author: self.author.0,
            published_on: self.published_on.0,
            status: self.status,
            summary: self.summary.0,
            sections: self.sections.0.into_iter().map(SectionWrite::into_input).collect(),
        }
    }
}

/// The sections of an article: at most one of each kind.
#[derive(Debug)]
pub struct Sections(pub Vec<SectionWrite>);

fn sections_schema() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(Ref::from_schema_name("SectionWrite"))
        .description(Some(
            "The sections in order; at most one of each kind. Sections left out are deleted.",
        ))
}

impl Deserr<BodyErrors> for Sections {
    fn deserialize_from_value<V: IntoValue>(value: Value<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let Value::Sequence(sequence) = value else {
            return Err(incorrect(value, &[ValueKind::Sequence], location));
        };
        let mut errors = BodyErrors::default();
        let mut sections: Vec<SectionWrite> = Vec::with_capacity(sequence.len());
        for (index, section) in sequence.into_iter().enumerate() {
            let location = location.push_index(index);
            match SectionWrite::deserialize_from_value(section.into_value(), location) {
                Ok(section) => {
                    let kind = section.kind();
                    if sections.iter().any(|seen| seen.kind() == kind) {
                        errors.push(
                            location.push_key("kind"),
                            format!("an article has at most one {kind} section"),
                        );
                    }
                    sections.push(section);
                }
                Err(problems) => errors.extend(problems),
            }
        }
        if errors.is_empty() {
            Ok(Sections(sections))
        } else {
            Err(errors)
        }
    }
}

// ---------------------------------------------------------------------------
// Items

/// What the sections need to know of an item of any shape.
pub trait ItemBody: Deserr<BodyErrors> {
    /// The kind given in the body, if any.
    fn kind(&self) -> Option<SectionKind>;
    /// The id given in the body, if any.
    fn id(&self) -> Option<Uuid>;
    /// The validated item.
    fn into_input(self) -> ItemInput;
}

/// An item of `steps`, `benefits`, `aftercare_tips` or `risks`. With `id`: that item, kept; without: a new item.
#[derive(Debug, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct TitledItemWrite {
    /// An existing item of this section to keep (its id stays); leave out (or `null`) for a new item.
    #[deserr(default)]
    #[schema(value_type = Option<Uuid>, example = json!(null))]
    pub id: Option<ItemId>,
    /// The kind of the item's section, as in a read; if given, it must be the section's.
    #[deserr(default)]
    #[schema(schema_with = titled_item_kinds)]
    pub kind: Option<SectionKind>,
    /// 1–200 characters.
    #[schema(schema_with = titled_item_title)]
    pub title: Title,
    /// 1–5,000 characters.
    #[schema(schema_with = titled_item_body)]
    pub body: Prose,
}

impl ItemBody for TitledItemWrite {
    fn kind(&self) -> Option<SectionKind> {
        self.kind
    }
    fn id(&self) -> Option<Uuid> {
        self.id.map(|id| id.0)
    }
    fn into_input(self) -> ItemInput {
        ItemInput {
            id: self.id.map(|id| id.0),
            phase: None,
            title: Some(self.title.0),
            body: Some(self.body.0),
            description: None,
        }
    }
}

/// An item of `expectations`.
#[derive(Debug, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct ExpectationItemWrite {
    /// An existing item of this section to keep; leave out (or `null`) for a new item.
    #[deserr(default)]
    #[schema(value_type = Option<Uuid>, example = json!(null))]
    pub id: Option<ItemId>,
    /// `expectations`, as in a read; may be left out.
    #[deserr(default)]
    #[schema(schema_with = expectations_item_kind)]
    pub kind: Option<SectionKind>,
    /// When it applies.
    pub phase: Phase,
    /// 1–200 characters.
    #[schema(schema_with = expectation_item_title)]
    pub title: Title,
    /// 1–5,000 characters.
    #[schema(schema_with = expectation_item_body)]
    pub body: Prose,
}

impl ItemBody for ExpectationItemWrite {
    fn kind(&self) -> Option<SectionKind> {
        self.kind
    }
    fn id(&self) -> Option<Uuid> {
        self.id.map(|id| id.0)
    }
    fn into_input(self) -> ItemInput {
        ItemInput {
            id: self.id.map(|id| id.0),
            phase: Some(self.phase),
            title: Some(self.title.0),
            body: Some(self.body.0),
            description: None,
        }
    }
}

/// An item of `target_audiences`.
#[derive(Debug, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct AudienceItemWrite {
    /// An existing item of this section to keep; leave out (or `null`) for a new item.
    #[deserr(default)]
    #[schema(value_type = Option<Uuid>, example = json!(null))]
    pub id: Option<ItemId>,
    /// `target_audiences`, as in a read; may be left out.
    #[deserr(default)]
    #[schema(schema_with = target_audiences_item_kind)]
    pub kind: Option<SectionKind>,
    /// 1–5,000 characters.
    #[schema(schema_with = audience_item_description)]
    pub description: Prose,
}

impl ItemBody for AudienceItemWrite {
    fn kind(&self) -> Option<SectionKind> {
        self.kind
    }
    fn id(&self) -> Option<Uuid> {
        self.id.map(|id| id.0)
    }
    fn into_input(self) -> ItemInput {
        ItemInput {
            id: self.id.map(|id| id.0),
            phase: None,
            title: None,
            body: None,
            description: Some(self.description.0),
        }
    }
}

/// A section kind known from the type, for the checks of its items.
pub trait OfKind {
    const KIND: SectionKind;
}

/// The items of a section of kind `K`, in order: at most [`MAX_ITEMS`], each
/// id at most once, each `kind` (if given) the section's.
#[derive(Debug)]
pub struct Items<T, K>(pub Vec<T>, PhantomData<fn() -> K>);

impl<T: ItemBody, K: OfKind> Deserr<BodyErrors> for Items<T, K> {
    fn deserialize_from_value<V: IntoValue>(value: Value<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let Value::Sequence(sequence) = value else {
            return Err(incorrect(value, &[ValueKind::Sequence], location));
        };
        let mut errors = BodyErrors::default();
        if sequence.len() > MAX_ITEMS {
            errors.push(
                location,
                format!("must have at most {MAX_ITEMS} items (got {})", sequence.len()),
            );
        }
        let mut items: Vec<T> = Vec::with_capacity(sequence.len());
        for (index, item) in sequence.into_iter().enumerate() {
            let location = location.push_index(index);
            match T::deserialize_from_value(item.into_value(), location) {
                Ok(item) => {
                    if item.kind().is_some_and(|kind| kind != K::KIND) {
                        errors.push(
                            location.push_key("kind"),
                            format!("must be {:?}, the kind of the item's section", K::KIND.as_str()),
                        );
                    }
                    if let Some(id) = item.id()
                        && items.iter().any(|seen| seen.id() == Some(id))
                    {
                        errors.push(location.push_key("id"), "appears twice in this section");
                    }
                    items.push(item);
                }
                Err(problems) => errors.extend(problems),
            }
        }
        if errors.is_empty() {
            Ok(Items(items, PhantomData))
        } else {
            Err(errors)
        }
    }
}

/// The schema of the `items` of a section: at most [`MAX_ITEMS`] of `T`.
fn items_schema<T: ToSchema>() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(T::name()))
        .max_items(Some(MAX_ITEMS))
        .description(Some(format!(
            "The items in order, at most {MAX_ITEMS}. Existing items left out are deleted."
        )))
}

/// Declares the `PUT …/items/{id}` body of one section kind: the item write
/// of its shape, with `kind` required (it must equal the kind in the path).
macro_rules! item_put {
    ($(#[$doc:meta])* $name:ident = $kind:expr, $kind_name:literal, $shape:ty) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(pub $shape);

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                use utoipa::openapi::schema::AllOfBuilder;
                let kind = kinds_schema(&[$kind], "The kind of the item's section: must equal the kind in the path.");
                AllOfBuilder::new()
                    .item(Ref::from_schema_name(<$shape as ToSchema>::name()))
                    .item(ObjectBuilder::new().property("kind", kind).required("kind"))
                    .description(Some(concat!("An item of a `", $kind_name, "` section to store; `kind` is required.")))
                    .into()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((<$shape as ToSchema>::name().into_owned(), <$shape as utoipa::PartialSchema>::schema()));
                <$shape as ToSchema>::schemas(schemas);
            }
        }

        impl Deserr<BodyErrors> for $name {
            fn deserialize_from_value<V: IntoValue>(value: Value<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
                let kind: SectionKind = $kind;
                let Value::Map(mut map) = value else {
                    return Err(incorrect(value, &[ValueKind::Map], location));
                };
                let mut errors = BodyErrors::default();
                match map.remove("kind").map(IntoValue::into_value) {
                    Some(Value::String(given)) if given == kind.as_str() => {}
                    None | Some(Value::Null) => errors.push(
                        location.push_key("kind"),
                        format!("is required: {:?}, the kind of the item's section", kind.as_str()),
                    ),
                    Some(_) => errors.push(
                        location.push_key("kind"),
                        format!("must be {:?}, the kind of the item's section", kind.as_str()),
                    ),
                }
                match <$shape as Deserr<BodyErrors>>::deserialize_from_value(Value::<V>::Map(map), location) {
                    Ok(item) if errors.is_empty() => Ok($name(item)),
                    Ok(_) => Err(errors),
                    Err(problems) => {
                        errors.extend(problems);
                        Err(errors)
                    }
                }
            }
        }
    };
}

item_put!(
    /// A `steps` item to store.
    StepsItemWrite = SectionKind::Steps, "steps", TitledItemWrite
);
item_put!(
    /// A `benefits` item to store.
    BenefitsItemWrite = SectionKind::Benefits, "benefits", TitledItemWrite
);
item_put!(
    /// An `expectations` item to store.
    ExpectationsItemWrite = SectionKind::Expectations, "expectations", ExpectationItemWrite
);
item_put!(
    /// An `aftercare_tips` item to store.
    AftercareTipsItemWrite = SectionKind::AftercareTips, "aftercare_tips", TitledItemWrite
);
item_put!(
    /// A `target_audiences` item to store.
    TargetAudiencesItemWrite = SectionKind::TargetAudiences, "target_audiences", AudienceItemWrite
);
item_put!(
    /// A `risks` item to store.
    RisksItemWrite = SectionKind::Risks, "risks", TitledItemWrite
);

/// One item to store (`PUT …/items/{id}`): the shape of its section's kind, tagged by `kind`.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "kind", mapping(
    ("steps" = "#/components/schemas/StepsItemWrite"),
    ("benefits" = "#/components/schemas/BenefitsItemWrite"),
    ("expectations" = "#/components/schemas/ExpectationsItemWrite"),
    ("aftercare_tips" = "#/components/schemas/AftercareTipsItemWrite"),
    ("target_audiences" = "#/components/schemas/TargetAudiencesItemWrite"),
    ("risks" = "#/components/schemas/RisksItemWrite"),
)))]
pub enum ItemWrite {
    /// `steps`
    Steps(StepsItemWrite),
    /// `benefits`
    Benefits(BenefitsItemWrite),
    /// `expectations`
    Expectations(ExpectationsItemWrite),
    /// `aftercare_tips`
    AftercareTips(AftercareTipsItemWrite),
    /// `target_audiences`
    TargetAudiences(TargetAudiencesItemWrite),
    /// `risks`
    Risks(RisksItemWrite),
}

impl ItemWrite {
    /// Reads an item body of a section of `kind` (the kind in the path): the
    /// body's `kind` is required and must be that one.
    pub fn deserialize_for(kind: SectionKind, body: serde_json::Value) -> Result<ItemInput, BodyErrors> {
        fn read<T: Deserr<BodyErrors>>(body: serde_json::Value) -> Result<T, BodyErrors> {
            deserr::deserialize::<T, _, BodyErrors>(body)
        }
        let item = match kind {
            SectionKind::Steps => ItemWrite::Steps(read(body)?),
            SectionKind::Benefits => ItemWrite::Benefits(read(body)?),
            SectionKind::Expectations => ItemWrite::Expectations(read(body)?),
            SectionKind::AftercareTips => ItemWrite::AftercareTips(read(body)?),
            SectionKind::TargetAudiences => ItemWrite::TargetAudiences(read(body)?),
            SectionKind::Risks => ItemWrite::Risks(read(body)?),
            SectionKind::Overview | SectionKind::Conclusion => {
                return Err(BodyErrors::at(
                    ValuePointerRef::Origin,
                    format!("a {kind} section has no items"),
                ));
            }
        };
        Ok(match item {
            ItemWrite::Steps(item) => item.0.into_input(),
            ItemWrite::Benefits(item) => item.0.into_input(),
            ItemWrite::Expectations(item) => item.0.into_input(),
            ItemWrite::AftercareTips(item) => item.0.into_input(),
            ItemWrite::TargetAudiences(item) => item.0.into_input(),
            ItemWrite::Risks(item) => item.0.into_input(),
        })
    }
}

// ---------------------------------------------------------------------------
// Sections

/// Sub-headings of an `expectations` section to store, one per phase.
#[derive(Debug, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct PhaseHeadingsWrite {
    /// Heading over the `before` items.
    #[deserr(default)]
    #[schema(schema_with = phase_before)]
    pub before: Option<Title>,
    /// Heading over the `during` items.
    #[deserr(default)]
    #[schema(schema_with = phase_during)]
    pub during: Option<Title>,
    /// Heading over the `after` items.
    #[deserr(default)]
    #[schema(schema_with = phase_after)]
    pub after: Option<Title>,
}

impl PhaseHeadingsWrite {
    /// The headings; `None` when none is given.
    fn into_headings(self) -> Option<PhaseHeadings> {
        let headings = PhaseHeadings {
            before: self.before.map(|text| text.0),
            during: self.during.map(|text| text.0),
            after: self.after.map(|text| text.0),
        };
        (headings != PhaseHeadings::default()).then_some(headings)
    }
}

/// The `kind` of a section body: read by [`SectionWrite`] to choose the
/// shape, so the shape itself only documents it.
#[derive(Debug, Default)]
pub struct KindTag;

/// Declares the write type of one section kind.
macro_rules! section_write {
    (
        $(#[$doc:meta])*
        $name:ident, $kind_schema:ident = $kind:expr,
        { $( $(#[$field_attr:meta])* $field:ident : $ty:ty ),* $(,)? }
    ) => {
        fn $kind_schema() -> Object {
            let kind: SectionKind = $kind;
            kinds_schema(&[kind], "The section's kind; must equal the kind in the path of a section write.")
        }

        $(#[$doc])*
        #[derive(Debug, Deserr, ToSchema)]
        #[deserr(error = BodyErrors, deny_unknown_fields = unknown_section_field)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The section's kind.
            #[deserr(skip)]
            #[schema(schema_with = $kind_schema)]
            pub kind: KindTag,
            /// The heading.
            #[schema(schema_with = section_heading)]
            pub heading: Title,
            $( $(#[$field_attr])* pub $field: $ty, )*
        }

        impl OfKind for $name {
            const KIND: SectionKind = $kind;
        }
    };
}

section_write! {
    /// An `overview` section to store.
    OverviewSectionWrite, overview_write_kind = SectionKind::Overview,
    {
        /// The prose.
        #[schema(schema_with = overview_body)]
        body: Prose,
    }
}

section_write! {
    /// A `steps` section to store.
    StepsSectionWrite, steps_write_kind = SectionKind::Steps,
    {
        /// Text before the items.
        #[deserr(default)]
        #[schema(schema_with = steps_intro)]
        intro: Option<Prose>,
        /// The items in order. Existing items left out are deleted.
        #[schema(schema_with = items_schema::<TitledItemWrite>)]
        items: Items<TitledItemWrite, StepsSectionWrite>,
    }
}

section_write! {
    /// A `benefits` section to store.
    BenefitsSectionWrite, benefits_write_kind = SectionKind::Benefits,
    {
        /// Text before the items.
        #[deserr(default)]
        #[schema(schema_with = benefits_intro)]
        intro: Option<Prose>,
        /// The items in order. Existing items left out are deleted.
        #[schema(schema_with = items_schema::<TitledItemWrite>)]
        items: Items<TitledItemWrite, BenefitsSectionWrite>,
    }
}

section_write! {
    /// An `expectations` section to store.
    ExpectationsSectionWrite, expectations_write_kind = SectionKind::Expectations,
    {
        /// Text before the items.
        #[deserr(default)]
        #[schema(schema_with = expectations_intro)]
        intro: Option<Prose>,
        /// Sub-headings per phase, each 1–200 characters.
        #[deserr(default)]
        phase_headings: Option<PhaseHeadingsWrite>,
        /// The items in order. Existing items left out are deleted.
        #[schema(schema_with = items_schema::<ExpectationItemWrite>)]
        items: Items<ExpectationItemWrite, ExpectationsSectionWrite>,
    }
}

section_write! {
    /// An `aftercare_tips` section to store.
    AftercareTipsSectionWrite, aftercare_tips_write_kind = SectionKind::AftercareTips,
    {
        /// Text before the items.
        #[deserr(default)]
        #[schema(schema_with = aftercare_tips_intro)]
        intro: Option<Prose>,
        /// The items in order. Existing items left out are deleted.
        #[schema(schema_with = items_schema::<TitledItemWrite>)]
        items: Items<TitledItemWrite, AftercareTipsSectionWrite>,
    }
}

section_write! {
    /// A `target_audiences` section to store.
    TargetAudiencesSectionWrite, target_audiences_write_kind = SectionKind::TargetAudiences,
    {
        /// Text before the items.
        #[deserr(default)]
        #[schema(schema_with = target_audiences_intro)]
        intro: Option<Prose>,
        /// The items in order. Existing items left out are deleted.
        #[schema(schema_with = items_schema::<AudienceItemWrite>)]
        items: Items<AudienceItemWrite, TargetAudiencesSectionWrite>,
        /// A closing caveat.
        #[deserr(default)]
        #[schema(schema_with = target_audiences_note)]
        note: Option<Prose>,
    }
}

section_write! {
    /// A `risks` section to store.
    RisksSectionWrite, risks_write_kind = SectionKind::Risks,
    {
        /// Text before the items.
        #[deserr(default)]
        #[schema(schema_with = risks_intro)]
        intro: Option<Prose>,
        /// The items in order. Existing items left out are deleted.
        #[schema(schema_with = items_schema::<TitledItemWrite>)]
        items: Items<TitledItemWrite, RisksSectionWrite>,
    }
}

section_write! {
    /// A `conclusion` section to store.
    ConclusionSectionWrite, conclusion_write_kind = SectionKind::Conclusion,
    {
        /// The prose.
        #[schema(schema_with = conclusion_body)]
        body: Prose,
        /// A last line urging the reader to act.
        #[deserr(default)]
        #[schema(schema_with = conclusion_call_to_action)]
        call_to_action: Option<Prose>,
    }
}

/// A section to store, typed by its `kind`.
#[derive(Debug, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "kind", mapping(
    ("overview" = "#/components/schemas/OverviewSectionWrite"),
    ("steps" = "#/components/schemas/StepsSectionWrite"),
    ("benefits" = "#/components/schemas/BenefitsSectionWrite"),
    ("expectations" = "#/components/schemas/ExpectationsSectionWrite"),
    ("aftercare_tips" = "#/components/schemas/AftercareTipsSectionWrite"),
    ("target_audiences" = "#/components/schemas/TargetAudiencesSectionWrite"),
    ("risks" = "#/components/schemas/RisksSectionWrite"),
    ("conclusion" = "#/components/schemas/ConclusionSectionWrite"),
)))]
pub enum SectionWrite {
    /// `overview`
    Overview(OverviewSectionWrite),
    /// `steps`
    Steps(StepsSectionWrite),
    /// `benefits`
    Benefits(BenefitsSectionWrite),
    /// `expectations`
    Expectations(ExpectationsSectionWrite),
    /// `aftercare_tips`
    AftercareTips(AftercareTipsSectionWrite),
    /// `target_audiences`
    TargetAudiences(TargetAudiencesSectionWrite),
    /// `risks`
    Risks(RisksSectionWrite),
    /// `conclusion`
    Conclusion(ConclusionSectionWrite),
}

fn kind_names() -> String {
    SectionKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `kind`, then the rest of the body as the shape of that kind.
impl Deserr<BodyErrors> for SectionWrite {
    fn deserialize_from_value<V: IntoValue>(value: Value<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let Value::Map(mut map) = value else {
            return Err(incorrect(value, &[ValueKind::Map], location));
        };
        let kind = match map.remove("kind").map(IntoValue::into_value) {
            Some(Value::String(name)) => SectionKind::parse(&name)
                .ok_or_else(|| format!("unknown section kind; expected one of: {}", kind_names())),
            None | Some(Value::Null) => Err(format!("is required: one of {}", kind_names())),
            Some(_) => Err("must be a string".to_owned()),
        };
        // Without a kind the allowed fields are unknown: nothing more to say.
        let kind = kind.map_err(|message| BodyErrors::at(location.push_key("kind"), message))?;
        let rest = Value::<V>::Map(map);
        Ok(match kind {
            SectionKind::Overview => SectionWrite::Overview(Deserr::deserialize_from_value(rest, location)?),
            SectionKind::Steps => SectionWrite::Steps(Deserr::deserialize_from_value(rest, location)?),
            SectionKind::Benefits => SectionWrite::Benefits(Deserr::deserialize_from_value(rest, location)?),
            SectionKind::Expectations => SectionWrite::Expectations(Deserr::deserialize_from_value(rest, location)?),
            SectionKind::AftercareTips => SectionWrite::AftercareTips(Deserr::deserialize_from_value(rest, location)?),
            SectionKind::TargetAudiences => {
                SectionWrite::TargetAudiences(Deserr::deserialize_from_value(rest, location)?)
            }
            SectionKind::Risks => SectionWrite::Risks(Deserr::deserialize_from_value(rest, location)?),
            SectionKind::Conclusion => SectionWrite::Conclusion(Deserr::deserialize_from_value(rest, location)?),
        })
    }
}

fn items_input<T: ItemBody, K>(items: Items<T, K>) -> Vec<ItemInput> {
    items.0.into_iter().map(ItemBody::into_input).collect()
}

impl SectionWrite {
    /// The kind of the section.
    pub fn kind(&self) -> SectionKind {
        match self {
            SectionWrite::Overview(_) => SectionKind::Overview,
            SectionWrite::Steps(_) => SectionKind::Steps,
            SectionWrite::Benefits(_) => SectionKind::Benefits,
            SectionWrite::Expectations(_) => SectionKind::Expectations,
            SectionWrite::AftercareTips(_) => SectionKind::AftercareTips,
            SectionWrite::TargetAudiences(_) => SectionKind::TargetAudiences,
            SectionWrite::Risks(_) => SectionKind::Risks,
            SectionWrite::Conclusion(_) => SectionKind::Conclusion,
        }
    }

    /// The validated section.
    pub fn into_input(self) -> SectionInput {
        let mut input = SectionInput {
            kind: self.kind(),
            heading: String::new(),
            intro: None,
            body: None,
            note: None,
            call_to_action: None,
            phase_headings: None,
            items: Vec::new(),
        };
        let text = |text: Option<Prose>| text.map(|text| text.0);
        match self {
            SectionWrite::Overview(s) => {
                input.heading = s.heading.0;
                input.body = Some(s.body.0);
            }
            SectionWrite::Steps(s) => {
                input.heading = s.heading.0;
                input.intro = text(s.intro);
                input.items = items_input(s.items);
            }
            SectionWrite::Benefits(s) => {
                input.heading = s.heading.0;
                input.intro = text(s.intro);
                input.items = items_input(s.items);
            }
            SectionWrite::Expectations(s) => {
                input.heading = s.heading.0;
                input.intro = text(s.intro);
                input.phase_headings = s.phase_headings.and_then(PhaseHeadingsWrite::into_headings);
                input.items = items_input(s.items);
            }
            SectionWrite::AftercareTips(s) => {
                input.heading = s.heading.0;
                input.intro = text(s.intro);
                input.items = items_input(s.items);
            }
            SectionWrite::TargetAudiences(s) => {
                input.heading = s.heading.0;
                input.intro = text(s.intro);
                input.note = text(s.note);
                input.items = items_input(s.items);
            }
            SectionWrite::Risks(s) => {
                input.heading = s.heading.0;
                input.intro = text(s.intro);
                input.items = items_input(s.items);
            }
            SectionWrite::Conclusion(s) => {
                input.heading = s.heading.0;
                input.body = Some(s.body.0);
                input.call_to_action = text(s.call_to_action);
            }
        }
        input
    }
}

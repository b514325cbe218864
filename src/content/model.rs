//! The content model: what a section and an item hold ([`SectionContent`],
//! [`ItemContent`], shared by reads and writes), and the response shapes of
//! the API built on them: articles, typed sections and items.
//!
//! A section of any kind is one [`Section`]; which fields it has, and in
//! which order they are read and written, is its kind's
//! [`SectionKind::fields`]. Storage rows live in `content::store`; the spec's
//! per-kind schemas are drawn from the same table in `content::schema`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde::ser::SerializeStruct;
use utoipa::ToSchema;
use uuid::Uuid;

use super::images::Image;
use super::kinds::{ArticleStatus, ItemField, Phase, SectionField, SectionKind};

/// An article's metadata, without its sections.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleMeta {
    /// Stable identifier of the article.
    #[schema(example = "0b0c3c9e-5a4f-4d8e-9a57-3f1f8e2b6a10")]
    pub id: Uuid,
    /// URL name of the article, unique: `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 100 characters.
    #[schema(example = "explore-micro-needling-for-flawless-skin-today")]
    pub slug: String,
    /// Title, as written.
    #[schema(example = "Explore Micro Needling for Flawless Skin Today")]
    pub title: String,
    /// Author's display name.
    #[schema(example = "sd80464")]
    pub author: String,
    /// Publication date (ISO 8601 calendar date).
    #[schema(example = "2024-11-24")]
    pub published_on: NaiveDate,
    /// `published` articles are public; `draft` ones only reach authenticated readers.
    pub status: ArticleStatus,
    /// The lead paragraph.
    #[schema(
        example = "Micro needling has emerged as a popular skincare treatment, promising to rejuvenate the skin and tackle various skin concerns."
    )]
    pub summary: String,
    /// The image over the article, or `null` (API.md §15).
    #[schema(value_type = Option<crate::content::images::ImageRead>, required = true)]
    pub hero_image: Option<Image>,
    /// round(word_count / 238), at least 1. Derived by the server.
    #[schema(example = 4)]
    pub reading_time_minutes: i32,
    /// Words in the summary, headings, intros, items, notes and bodies. Derived by the server.
    #[schema(example = 1042)]
    pub word_count: i32,
    /// Incremented on every change to the article or any of its sections.
    #[schema(example = 1)]
    pub version: i64,
    /// When the article was created.
    #[schema(example = "2026-11-23T10:00:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the article or any of its sections last changed.
    #[schema(example = "2026-11-23T10:00:00Z")]
    pub updated_at: DateTime<Utc>,
}

/// A whole article with its typed sections, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Article {
    #[serde(flatten)]
    #[schema(inline)]
    pub meta: ArticleMeta,
    /// The sections in reading order (`position` 1, 2, …).
    pub sections: Vec<Section>,
    /// The locale the texts were resolved for (API.md §13).
    #[schema(example = "de-AT")]
    pub locale: String,
    /// Each text served from another locale than `locale`: its JSON pointer
    /// in this body, and the locale it came from (set `lang` on it).
    pub fallbacks: Fallbacks,
}

/// Which locale each text served from another locale came from: the JSON
/// pointer of the text in the body it is part of, and the locale's code.
/// Empty when every text is in the requested locale.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fallbacks(pub Vec<(String, String)>);

impl Fallbacks {
    /// Notes that the text at `pointer` came from `locale`.
    pub fn push(&mut self, pointer: String, locale: &str) {
        self.0.push((pointer, locale.to_owned()));
    }
}

impl Serialize for Fallbacks {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(pointer, locale)| (pointer, locale)))
    }
}

impl utoipa::PartialSchema for Fallbacks {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        ObjectBuilder::new()
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some(
                "Each text served from another locale than `locale`: its JSON pointer in this body, and the \
                 locale it came from. Empty when every text is in `locale`.",
            ))
            .examples([serde_json::json!({"/sections/2/items/1/body": "de", "/summary": "en"})])
            .into()
    }
}

impl ToSchema for Fallbacks {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Fallbacks")
    }
}

/// A section or item read on its own, or a section of a section list: its
/// body with the locale its texts were resolved for.
#[derive(Debug, Clone, Serialize)]
pub struct Localized<T> {
    #[serde(flatten)]
    pub body: T,
    /// The locale the texts were resolved for.
    pub locale: String,
    /// Each text served from another locale: pointer (in this body) → locale.
    pub fallbacks: Fallbacks,
}

/// An article in a listing: its metadata and which section kinds it has.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleSummary {
    #[serde(flatten)]
    #[schema(inline)]
    pub meta: ArticleMeta,
    /// The kinds of the article's sections, in order.
    #[schema(example = json!(["overview", "steps", "benefits"]))]
    pub section_kinds: Vec<SectionKind>,
    /// Only in `?deleted=true` listings: when and by whom the article was
    /// deleted, and the revision that restores it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Deletion>,
}

/// How an article in the trash was deleted (API.md §3).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deletion {
    /// When it was deleted.
    #[schema(example = "2026-11-25T10:00:00Z")]
    pub at: DateTime<Utc>,
    /// The token that deleted it.
    #[schema(example = "alice")]
    pub by: String,
    /// Its last revision (the delete; its snapshot is the article as it was):
    /// `POST /v1/articles/{slug}/revisions/{revision_id}/restore` re-creates it.
    #[schema(example = "4a9e1c2b-7d3f-4e8a-b5c6-d7e8f9a0b1c2")]
    pub revision_id: Uuid,
}

/// One page of articles, newest `published_on` first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticlePage {
    /// The articles of this page.
    pub items: Vec<ArticleSummary>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "0b8b5ac1a7e6d4b2f04f1e9b3a5d6c7e8f9a0b", required = true)]
    pub next_cursor: Option<String>,
    /// The locale the texts were resolved for (API.md §13).
    #[schema(example = "de-AT")]
    pub locale: String,
    /// Each text served from another locale than `locale`: pointer (`/items/3/title`) → locale.
    pub fallbacks: Fallbacks,
}

/// Sub-headings of an `expectations` section, one per phase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseHeadings {
    /// Heading over the `before` items; `null` if they have none.
    #[schema(example = "Before the Treatment", required = true)]
    pub before: Option<String>,
    /// Heading over the `during` items; `null` if they have none.
    #[schema(example = "During the Treatment", required = true)]
    pub during: Option<String>,
    /// Heading over the `after` items; `null` if they have none.
    #[schema(example = "After the Treatment", required = true)]
    pub after: Option<String>,
}

impl PhaseHeadings {
    /// The headings that are set, with their phase's name.
    pub fn texts(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("before", &self.before),
            ("during", &self.during),
            ("after", &self.after),
        ]
        .into_iter()
        .filter_map(|(phase, text)| Some((phase, text.as_deref()?)))
    }
}

/// The content of a section of any kind: what an editor writes and a reader
/// reads, without the server's bookkeeping. Fields its kind does not have
/// are `None` (or empty `items`); `I` is the item of a read or of a write.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionContent<I> {
    /// The section's kind, which says which of the fields below it has.
    pub kind: SectionKind,
    /// The section heading.
    pub heading: String,
    /// Text before the items.
    pub intro: Option<String>,
    /// The prose of an `overview` or `conclusion`.
    pub body: Option<String>,
    /// A closing caveat (`target_audiences`).
    pub note: Option<String>,
    /// A last line urging the reader to act (`conclusion`).
    pub call_to_action: Option<String>,
    /// Sub-headings per phase (`expectations`).
    pub phase_headings: Option<PhaseHeadings>,
    /// The items, in order.
    pub items: Vec<I>,
}

impl<I> SectionContent<I> {
    /// A section of `kind` with `heading` and nothing else yet.
    pub fn new(kind: SectionKind, heading: String) -> Self {
        SectionContent {
            kind,
            heading,
            intro: None,
            body: None,
            note: None,
            call_to_action: None,
            phase_headings: None,
            items: Vec::new(),
        }
    }

    /// The optional text of `field`, if `field` is one.
    pub fn text(&self, field: SectionField) -> Option<&Option<String>> {
        match field {
            SectionField::Body => Some(&self.body),
            SectionField::CallToAction => Some(&self.call_to_action),
            SectionField::Intro => Some(&self.intro),
            SectionField::Note => Some(&self.note),
            SectionField::PhaseHeadings | SectionField::Items => None,
        }
    }

    /// The text of `field` to set, if `field` is one.
    pub fn text_mut(&mut self, field: SectionField) -> Option<&mut Option<String>> {
        match field {
            SectionField::Body => Some(&mut self.body),
            SectionField::CallToAction => Some(&mut self.call_to_action),
            SectionField::Intro => Some(&mut self.intro),
            SectionField::Note => Some(&mut self.note),
            SectionField::PhaseHeadings | SectionField::Items => None,
        }
    }

    /// Every text of the section itself (not of its items), heading first.
    pub fn own_texts(&self) -> impl Iterator<Item = &str> {
        let headings = self
            .phase_headings
            .iter()
            .flat_map(PhaseHeadings::texts)
            .map(|(_, text)| text);
        std::iter::once(self.heading.as_str())
            .chain(
                [&self.intro, &self.body, &self.note, &self.call_to_action]
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            )
            .chain(headings)
    }

    /// Writes `heading` and the kind's fields, in order. A write body leaves
    /// out optional fields that are `None`; a read gives them as `null`.
    pub fn serialize_fields<S: SerializeStruct>(&self, out: &mut S, leave_out_absent: bool) -> Result<(), S::Error>
    where
        I: Serialize,
    {
        out.serialize_field("heading", &self.heading)?;
        for &field in self.kind.fields() {
            let name = field.name();
            match field {
                SectionField::Items => out.serialize_field(name, &self.items)?,
                SectionField::PhaseHeadings => match &self.phase_headings {
                    None if leave_out_absent => out.skip_field(name)?,
                    headings => out.serialize_field(name, headings)?,
                },
                _ => match self.text(field).and_then(Option::as_ref) {
                    None if leave_out_absent => out.skip_field(name)?,
                    text => out.serialize_field(name, &text)?,
                },
            }
        }
        Ok(())
    }
}

/// The content of an item: the fields of its shape (the others are `None`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemContent {
    /// When an expectation applies.
    pub phase: Option<Phase>,
    /// The item's title.
    pub title: Option<String>,
    /// The item's text.
    pub body: Option<String>,
    /// A target audience's description.
    pub description: Option<String>,
    /// The image shown with the item, if any (items of shapes that have one).
    pub image: Option<Image>,
}

impl ItemContent {
    /// The text of `field`, if `field` is a text.
    pub fn text(&self, field: ItemField) -> Option<&Option<String>> {
        match field {
            ItemField::Title => Some(&self.title),
            ItemField::Body => Some(&self.body),
            ItemField::Description => Some(&self.description),
            ItemField::Phase => None,
        }
    }

    /// The text of `field` to set, if `field` is a text.
    pub fn text_mut(&mut self, field: ItemField) -> Option<&mut Option<String>> {
        match field {
            ItemField::Title => Some(&mut self.title),
            ItemField::Body => Some(&mut self.body),
            ItemField::Description => Some(&mut self.description),
            ItemField::Phase => None,
        }
    }

    /// Every text of the item.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        [&self.title, &self.body, &self.description]
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Writes the fields of the shape of `kind`, in order, then its `image`
    /// (as a read shows it) if the shape has one.
    pub fn serialize_fields<S: SerializeStruct>(&self, kind: SectionKind, out: &mut S) -> Result<(), S::Error> {
        let shape = kind.item_shape();
        for &field in shape.map_or(&[][..], |shape| shape.fields()) {
            match field {
                ItemField::Phase => out.serialize_field("phase", &self.phase)?,
                _ => out.serialize_field(field.name(), &self.text(field).and_then(Option::as_ref))?,
            }
        }
        if shape.is_some_and(ItemShape::has_image) {
            out.serialize_field("image", &self.image)?;
        }
        Ok(())
    }
}

/// One item of a section, in the shape of its section's kind, tagged by `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable identifier of the item, kept across edits.
    pub id: Uuid,
    /// The kind of the item's section: the discriminator of `Item`.
    pub kind: SectionKind,
    /// The fields of its shape.
    pub content: ItemContent,
}

impl Serialize for Item {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Item", 5)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("kind", &self.kind)?;
        self.content.serialize_fields(self.kind, &mut out)?;
        out.end()
    }
}

/// A section of an article, typed by its `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Stable identifier of the section, kept across edits.
    pub id: Uuid,
    /// 1-based place of the section in its article.
    pub position: i32,
    /// Its kind, heading and the fields of its kind.
    pub content: SectionContent<Item>,
    /// Incremented on every change to the section or its items.
    pub version: i64,
    /// When the section or one of its items last changed.
    pub updated_at: DateTime<Utc>,
}

impl Serialize for Section {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Section", 9)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("kind", &self.content.kind)?;
        out.serialize_field("position", &self.position)?;
        self.content.serialize_fields(&mut out, false)?;
        out.serialize_field("version", &self.version)?;
        out.serialize_field("updated_at", &self.updated_at)?;
        out.end()
    }
}

// ---------------------------------------------------------------------------
// The spec's read schemas: one named schema per kind, drawn from the kinds'
// field table, and the discriminated unions over them.

use utoipa::PartialSchema;
use utoipa::openapi::schema::{
    ArrayBuilder, Discriminator, KnownFormat, Object, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType,
    Type,
};
use utoipa::openapi::{Ref, RefOr};

use super::kinds::ItemShape;

/// The schema of a `kind` tag with one value: the discriminator of `Section` and of `Item`.
pub fn kind_tag(kind: SectionKind, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([kind.as_str()]))
        .description(Some(description))
        .examples([kind.as_str()])
        .build()
}

/// A `oneOf` of one named schema per kind (`name` gives it), discriminated by `kind`.
pub fn discriminated(
    description: &str,
    kinds: impl IntoIterator<Item = SectionKind>,
    name: impl Fn(SectionKind) -> String,
) -> RefOr<Schema> {
    let mut one_of = OneOfBuilder::new().description(Some(description));
    let mut mapping = Vec::new();
    for kind in kinds {
        let reference = format!("#/components/schemas/{}", name(kind));
        one_of = one_of.item(Ref::new(reference.clone()));
        mapping.push((kind.as_str(), reference));
    }
    one_of
        .discriminator(Some(Discriminator::with_mapping("kind", mapping)))
        .into()
}

/// A `$ref` to the schema `name`, with a description of its own.
pub fn described_ref(name: &str, description: &str) -> Ref {
    let mut reference = Ref::from_schema_name(name);
    reference.description = description.to_owned();
    reference
}

/// A `$ref` to `name`, or `null`.
pub fn nullable_ref(name: &str, description: &str) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(described_ref(name, description))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// A documented read field of `schema_type` (and `format`) with an example.
#[allow(
    deprecated,
    reason = "`example`, like the derived field schemas of the spec, not `examples`"
)]
fn field(
    schema_type: impl Into<SchemaType>,
    format: Option<KnownFormat>,
    description: &str,
    example: serde_json::Value,
) -> Object {
    ObjectBuilder::new()
        .schema_type(schema_type)
        .format(format.map(SchemaFormat::KnownFormat))
        .description(Some(description))
        .example(Some(example))
        .build()
}

fn text(description: &str, example: &str) -> Object {
    field(Type::String, None, description, example.into())
}

fn nullable_text(description: &str, example: &str) -> Object {
    field(
        SchemaType::from_iter([Type::String, Type::Null]),
        None,
        description,
        example.into(),
    )
}

/// An object schema described by `description` whose first property is the
/// `id` of a `what` (section or item).
fn identified(description: &str, what: &str, example: &str) -> ObjectBuilder {
    let id = format!("Stable identifier of the {what}, kept across edits.");
    ObjectBuilder::new()
        .description(Some(description))
        .property("id", field(Type::String, Some(KnownFormat::Uuid), &id, example.into()))
}

/// The read schema of a section of `kind`, named `<Kind>Section`.
fn section_schema(kind: SectionKind) -> Schema {
    let docs = kind.docs();
    let mut object = identified(docs.section, "section", "7f3d2a10-8e4b-4c1f-b2a6-0d9e8c7b6a54")
        .property(
            "kind",
            kind_tag(kind, "The section's kind: the discriminator of `Section`."),
        )
        .property(
            "position",
            field(
                Type::Integer,
                Some(KnownFormat::Int32),
                "1-based place of the section in its article.",
                2.into(),
            ),
        )
        .property("heading", text("The section heading, as written.", docs.heading));
    for &section_field in kind.fields() {
        let schema: RefOr<Schema> = match section_field {
            SectionField::Body => text("The section's prose.", docs.prose).into(),
            SectionField::Intro => nullable_text("Text before the items; `null` if none.", docs.prose).into(),
            SectionField::Note => nullable_text("A closing caveat after the items; `null` if none.", docs.last).into(),
            SectionField::CallToAction => {
                nullable_text("A last line urging the reader to act; `null` if none.", docs.last).into()
            }
            SectionField::PhaseHeadings => nullable_ref(
                "PhaseHeadings",
                "Sub-headings over each phase's items; `null` where the article has none.",
            ),
            SectionField::Items => ArrayBuilder::new()
                .items(Ref::from_schema_name(format!("{}Item", kind.type_name())))
                .description(Some(docs.items))
                .into(),
        };
        object = object.property(section_field.name(), schema);
    }
    object = object
        .property(
            "version",
            field(
                Type::Integer,
                Some(KnownFormat::Int64),
                "Incremented on every change to the section or its items.",
                1.into(),
            ),
        )
        .property(
            "updated_at",
            field(
                Type::String,
                Some(KnownFormat::DateTime),
                "When the section or one of its items last changed.",
                "2026-11-23T10:00:00Z".into(),
            ),
        );
    for name in ["id", "kind", "position", "heading"]
        .into_iter()
        .chain(kind.fields().iter().map(|field| field.name()))
        .chain(["version", "updated_at"])
    {
        object = object.required(name);
    }
    localized(object, "section").into()
}

/// `object` with the `locale` and `fallbacks` a `what` (section or item) has
/// when read on its own (or in a section list), not inside an article.
fn localized(object: ObjectBuilder, what: &str) -> ObjectBuilder {
    object
        .property(
            "locale",
            text(
                &format!(
                    "The locale the texts were resolved for; present when the {what} is read on its own, not inside an article."
                ),
                "de-AT",
            ),
        )
        .property("fallbacks", Ref::from_schema_name("Fallbacks"))
}

/// The read schema of an item of a section of `kind`, named `<Kind>Item`.
fn item_schema(kind: SectionKind, shape: ItemShape) -> Schema {
    let docs = kind.docs();
    let mut object = identified(docs.item, "item", "5d1f8a52-1c39-4d1e-a3a7-6f0e2b9c4d21")
        .property(
            "kind",
            kind_tag(kind, "The kind of the item's section: the discriminator of `Item`."),
        )
        .required("id")
        .required("kind");
    for &item_field in shape.fields() {
        let schema: RefOr<Schema> = match item_field {
            ItemField::Phase => described_ref("Phase", "When this expectation applies.").into(),
            ItemField::Title => text("The item's title, without numbering.", docs.item_title).into(),
            ItemField::Body => text("The item's text.", docs.item_body).into(),
            ItemField::Description => text("Who the treatment suits.", docs.item_title).into(),
        };
        object = object.property(item_field.name(), schema).required(item_field.name());
    }
    if shape.has_image() {
        object = object
            .property(
                "image",
                nullable_ref("Image", "The image shown with the item, or `null`."),
            )
            .required("image");
    }
    localized(object, "item").into()
}

/// `<Kind><union>`: the name of the member of a union for one kind
/// (`StepsSection` in `Section`, `StepsItemWrite` in `ItemWrite`).
fn member_name(kind: SectionKind, union: &str) -> String {
    format!("{}{union}", kind.type_name())
}

/// The discriminated union `union` over the kinds `member` makes a schema for.
pub fn union_schema(union: &str, description: &str, member: fn(SectionKind) -> Option<Schema>) -> RefOr<Schema> {
    let kinds = SectionKind::ALL.into_iter().filter(|kind| member(*kind).is_some());
    discriminated(description, kinds, |kind| member_name(kind, union))
}

/// The members of the union `union`, each under its name.
pub fn push_members(
    schemas: &mut Vec<(String, RefOr<Schema>)>,
    union: &str,
    member: fn(SectionKind) -> Option<Schema>,
) {
    for kind in SectionKind::ALL {
        if let Some(schema) = member(kind) {
            schemas.push((member_name(kind, union), schema.into()));
        }
    }
}

/// Implements `ToSchema` for a union over kinds (`Section`, `Item`,
/// `SectionWrite`, `ItemWrite`): its members are made by `$member`, named
/// `<Kind><union>`, and `$more` pushes the schemas they name.
macro_rules! kind_union {
    ($type:ty, $union:literal, $description:literal, $member:expr, $more:expr) => {
        impl utoipa::PartialSchema for $type {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::content::model::union_schema($union, $description, $member)
            }
        }

        impl utoipa::ToSchema for $type {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($union)
            }

            fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
                $crate::content::model::push_members(schemas, $union, $member);
                let more: fn(&mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) = $more;
                more(schemas);
            }
        }
    };
}
pub(crate) use kind_union;

kind_union!(
    Section,
    "Section",
    "A section of an article, typed by its `kind`.",
    |kind| Some(section_schema(kind)),
    |schemas| {
        schemas.push(("PhaseHeadings".to_owned(), PhaseHeadings::schema()));
        schemas.push(("Fallbacks".to_owned(), Fallbacks::schema()));
        schemas.push(("Item".to_owned(), Item::schema()));
        Item::schemas(schemas);
    }
);

kind_union!(
    Item,
    "Item",
    "One item of a section, in the shape of its section's kind, tagged by `kind`.",
    |kind| Some(item_schema(kind, kind.item_shape()?)),
    |schemas| {
        schemas.push(("Phase".to_owned(), Phase::schema()));
        schemas.push((
            "Image".to_owned(),
            <crate::content::images::ImageRead as utoipa::PartialSchema>::schema(),
        ));
    }
);

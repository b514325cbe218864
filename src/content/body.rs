//! Write bodies: one Rust type per shape, used to deserialize, validate and
//! document alike.
//!
//! Every type derives (or implements) `deserr::Deserr` with [`BodyErrors`] as
//! its error, which collects every problem of a body at once, each with the
//! location it came from, and `utoipa::ToSchema`, so the spec says exactly
//! what the types accept. Limits are the named consts below; the validating
//! newtypes and their schemas both read them.

use chrono::NaiveDate;
use deserr::{Deserr, IntoValue, Map as _, Sequence as _, Value, ValueKind, ValuePointerRef};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::images::Image;
use super::kinds::{ArticleStatus, ItemField, ItemShape, Phase, SectionField, SectionKind};
use super::model::{ItemContent, PhaseHeadings, SectionContent, described_ref, kind_union, nullable_ref};

use super::fields::{
    BodyErrors, ItemId, MAX_ITEMS, MAX_SLUG_CHARS, Prose, PublishedOn, SECTION_SERVER_OWNED, SLUG_PATTERN, Slug, Text,
    Title, incorrect, required_message, unknown_article_field,
};

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

fn article_title() -> Object {
    Title::field_schema("Title", "Explore Micro Needling for Flawless Skin Today", false)
}

fn article_author() -> Object {
    Title::field_schema("Author's display name", "sd80464", false)
}

fn article_summary() -> Object {
    Prose::field_schema(
        "The lead paragraph",
        "Micro needling has emerged as a popular skincare treatment.",
        false,
    )
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

// ---------------------------------------------------------------------------
// Articles

/// A whole article to store: metadata and every section, in order.
#[derive(Debug, Clone, PartialEq, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields = unknown_article_field)]
#[serde(deny_unknown_fields)]
pub struct ArticleWrite {
    /// Must equal the slug in the path if given.
    #[deserr(default, from(Option<Slug>) = Slug::into_option)]
    #[schema(schema_with = slug_schema)]
    pub slug: Option<String>,
    /// Title.
    #[deserr(from(Title) = Text::into_string)]
    #[schema(schema_with = article_title)]
    pub title: String,
    /// Author's display name.
    #[deserr(from(Title) = Text::into_string)]
    #[schema(schema_with = article_author)]
    pub author: String,
    /// Publication date, YYYY-MM-DD.
    #[deserr(from(PublishedOn) = PublishedOn::into_date)]
    #[schema(example = "2024-11-24")]
    pub published_on: NaiveDate,
    /// `draft` (hidden from anonymous readers) or `published`.
    pub status: ArticleStatus,
    /// The lead paragraph.
    #[deserr(from(Prose) = Text::into_string)]
    #[schema(schema_with = article_summary)]
    pub summary: String,
    /// The image over the article; `null` or left out: none.
    #[deserr(default)]
    #[schema(schema_with = hero_image_write)]
    pub hero_image: Option<Image>,
    /// The sections in order; at most one of each kind. Sections left out are deleted.
    #[deserr(from(Sections) = Sections::into_vec)]
    #[schema(schema_with = sections_schema)]
    pub sections: Vec<SectionWrite>,
    /// As a read gives it; ignored.
    #[deserr(skip)]
    #[schema(schema_with = locale_as_read, required = false)]
    pub locale: AsRead,
    /// As a read gives it; ignored.
    #[deserr(skip)]
    #[schema(schema_with = fallbacks_as_read, required = false)]
    pub fallbacks: AsRead,
}

/// `locale` and `fallbacks` in a write body: a read's, sent back as read
/// (clients round-trip what they read), and ignored (API.md §13). The
/// parsers in `content::input` take them out before a body is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AsRead;

/// The keys of a read that a write body may repeat and that are ignored.
pub const AS_READ: [&str; 2] = ["locale", "fallbacks"];

fn locale_as_read() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .read_only(true)
        .description(Some(
            "The locale of the read this body was made from; ignored (write a locale with `?locale=`).",
        ))
        .examples(["en"])
        .build()
}

fn fallbacks_as_read() -> RefOr<Schema> {
    described_ref(
        "Fallbacks",
        "The fallbacks of the read this body was made from; ignored.",
    )
    .into()
}

/// `object` with the `locale` and `fallbacks` a read gives, which a write may send back.
fn as_read(object: ObjectBuilder) -> ObjectBuilder {
    object
        .property("locale", locale_as_read())
        .property("fallbacks", fallbacks_as_read())
}

fn hero_image_write() -> RefOr<Schema> {
    nullable_ref("ImageWrite", "The image over the article; `null` or left out: none.")
}

impl Slug {
    fn into_option(slug: Option<Slug>) -> Option<String> {
        slug.map(|slug| slug.0)
    }
}

/// The sections of an article: at most one of each kind.
#[derive(Debug)]
pub struct Sections(Vec<SectionWrite>);

impl Sections {
    fn into_vec(self) -> Vec<SectionWrite> {
        self.0
    }
}

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
                    let kind = section.kind;
                    if sections.iter().any(|seen| seen.kind == kind) {
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
// Sections and items: one parser and one schema builder for every kind,
// driven by the kind's fields (`SectionKind::fields`, `ItemShape::fields`).

/// A section to store: the content of a section of any kind, validated.
pub type SectionWrite = SectionContent<ItemWrite>;

/// An item to store. With `id`: that existing item of the section, kept
/// (its id stays); without: a new item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemWrite {
    /// The existing item this is, if any.
    pub id: Option<Uuid>,
    /// The fields of the item's shape.
    pub content: ItemContent,
}

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

fn phase_before() -> Object {
    Title::field_schema("Heading over the `before` items", "Before the Treatment", true)
}

fn phase_during() -> Object {
    Title::field_schema("Heading over the `during` items", "During the Treatment", true)
}

fn phase_after() -> Object {
    Title::field_schema("Heading over the `after` items", "After the Treatment", true)
}

impl PhaseHeadingsWrite {
    /// The headings; `None` when none is given.
    fn into_headings(self) -> Option<PhaseHeadings> {
        let headings = PhaseHeadings {
            before: self.before.map(Text::into_string),
            during: self.during.map(Text::into_string),
            after: self.after.map(Text::into_string),
        };
        (headings != PhaseHeadings::default()).then_some(headings)
    }
}

/// Runs a field's parser, keeping its value or its problems.
fn collect<T>(errors: &mut BodyErrors, parsed: Result<T, BodyErrors>) -> Option<T> {
    parsed.map_err(|problems| errors.extend(problems)).ok()
}

/// The problem of a field a shape requires but the body left out.
fn missing(errors: &mut BodyErrors, location: ValuePointerRef, field: &str) {
    errors.push(location.push_key(field), required_message(field));
}

/// Checks an item's optional `kind` (a section item) or required one (an item `PUT`).
fn check_item_kind<V: IntoValue>(
    given: Option<Value<V>>,
    kind: SectionKind,
    required: bool,
    location: ValuePointerRef,
    errors: &mut BodyErrors,
) {
    let at = location.push_key("kind");
    match given {
        Some(Value::String(name)) if name == kind.as_str() => {}
        None if !required => {}
        Some(Value::Null) if !required => errors.push(
            at,
            format!(
                "must be {:?}, the kind of the item's section, or be left out",
                kind.as_str()
            ),
        ),
        None | Some(Value::Null) => errors.push(
            at,
            format!("is required: {:?}, the kind of the item's section", kind.as_str()),
        ),
        Some(_) => errors.push(
            at,
            format!("must be {:?}, the kind of the item's section", kind.as_str()),
        ),
    }
}

/// Reads an item of a section of `kind` (which has items of `shape`).
fn read_item<V: IntoValue>(
    kind: SectionKind,
    shape: ItemShape,
    value: Value<V>,
    location: ValuePointerRef,
    kind_required: bool,
) -> Result<ItemWrite, BodyErrors> {
    let Value::Map(mut map) = value else {
        return Err(incorrect(value, &[ValueKind::Map], location));
    };
    let mut errors = BodyErrors::default();
    check_item_kind(
        map.remove("kind").map(IntoValue::into_value),
        kind,
        kind_required,
        location,
        &mut errors,
    );
    let id = match map.remove("id") {
        None => None,
        Some(id) => collect(
            &mut errors,
            Option::<ItemId>::deserialize_from_value(id.into_value(), location.push_key("id")),
        )
        .flatten()
        .map(|id| id.0),
    };
    let accepted: Vec<&str> = ["id", "kind"]
        .into_iter()
        .chain(shape.fields().iter().map(|field| field.name()))
        .chain(shape.has_image().then_some("image"))
        .collect();
    let mut content = ItemContent::default();
    let mut given = Vec::new();
    for (key, value) in map.into_iter() {
        if key == "image" && shape.has_image() {
            let at = location.push_key(&key);
            content.image = collect(
                &mut errors,
                Option::<Image>::deserialize_from_value(value.into_value(), at),
            )
            .flatten();
            continue;
        }
        let Some(&field) = shape.fields().iter().find(|field| field.name() == key) else {
            errors.extend(BodyErrors::unknown_field(location, &key, &accepted, &[]));
            continue;
        };
        given.push(field);
        let (value, at) = (value.into_value(), location.push_key(&key));
        match field {
            ItemField::Phase => content.phase = collect(&mut errors, Phase::deserialize_from_value(value, at)),
            ItemField::Title => {
                content.title = collect(&mut errors, Title::deserialize_from_value(value, at)).map(Text::into_string);
            }
            ItemField::Body | ItemField::Description => {
                let text = collect(&mut errors, Prose::deserialize_from_value(value, at)).map(Text::into_string);
                if let Some(slot) = content.text_mut(field) {
                    *slot = text;
                }
            }
        }
    }
    for field in shape.fields().iter().filter(|field| !given.contains(field)) {
        missing(&mut errors, location, field.name());
    }
    if errors.is_empty() {
        Ok(ItemWrite { id, content })
    } else {
        Err(errors)
    }
}

/// Reads the items of a section of `kind`: at most [`MAX_ITEMS`], each id at
/// most once, each `kind` (if given) the section's.
fn read_items<V: IntoValue>(
    kind: SectionKind,
    shape: ItemShape,
    value: Value<V>,
    location: ValuePointerRef,
) -> Result<Vec<ItemWrite>, BodyErrors> {
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
    let mut items: Vec<ItemWrite> = Vec::with_capacity(sequence.len().min(MAX_ITEMS));
    for (index, item) in sequence.into_iter().enumerate() {
        let location = location.push_index(index);
        if let Some(item) = collect(&mut errors, read_item(kind, shape, item.into_value(), location, false)) {
            if item.id.is_some() && items.iter().any(|seen| seen.id == item.id) {
                errors.push(location.push_key("id"), "appears twice in this section");
            }
            items.push(item);
        }
    }
    if errors.is_empty() { Ok(items) } else { Err(errors) }
}

/// Reads the fields of a section of `kind` (its `kind` already taken out of `map`).
fn read_section<M: deserr::Map>(
    kind: SectionKind,
    map: M,
    location: ValuePointerRef,
) -> Result<SectionWrite, BodyErrors> {
    let mut errors = BodyErrors::default();
    let mut section = SectionWrite::new(kind, String::new());
    let accepted: Vec<&str> = ["kind", "heading"]
        .into_iter()
        .chain(kind.fields().iter().map(|field| field.name()))
        .collect();
    let mut heading_given = false;
    let mut given = Vec::new();
    for (key, value) in map.into_iter() {
        let (value, at) = (value.into_value(), location.push_key(&key));
        if key == "heading" {
            heading_given = true;
            if let Some(heading) = collect(&mut errors, Title::deserialize_from_value(value, at)) {
                section.heading = heading.into_string();
            }
            continue;
        }
        let Some(&field) = kind.fields().iter().find(|field| field.name() == key) else {
            errors.extend(BodyErrors::unknown_field(
                location,
                &key,
                &accepted,
                SECTION_SERVER_OWNED,
            ));
            continue;
        };
        given.push(field);
        match field {
            SectionField::Items => {
                if let Some(shape) = kind.item_shape() {
                    section.items = collect(&mut errors, read_items(kind, shape, value, at)).unwrap_or_default();
                }
            }
            SectionField::PhaseHeadings => {
                section.phase_headings = collect(
                    &mut errors,
                    Option::<PhaseHeadingsWrite>::deserialize_from_value(value, at),
                )
                .flatten()
                .and_then(PhaseHeadingsWrite::into_headings);
            }
            SectionField::Body => {
                section.body = collect(&mut errors, Prose::deserialize_from_value(value, at)).map(Text::into_string);
            }
            SectionField::Intro | SectionField::Note | SectionField::CallToAction => {
                let text = collect(&mut errors, Option::<Prose>::deserialize_from_value(value, at)).flatten();
                if let Some(slot) = section.text_mut(field) {
                    *slot = text.map(Text::into_string);
                }
            }
        }
    }
    if !heading_given {
        missing(&mut errors, location, "heading");
    }
    for field in kind
        .fields()
        .iter()
        .filter(|field| field.required() && !given.contains(field))
    {
        missing(&mut errors, location, field.name());
    }
    if errors.is_empty() { Ok(section) } else { Err(errors) }
}

fn kind_names() -> String {
    SectionKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `kind`, then the rest of the body as the fields of that kind.
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
        read_section(kind, map, location)
    }
}

impl ItemWrite {
    /// Reads an item body (`PUT …/items/{id}`) of a section of `kind` (the
    /// kind in the path): the body's `kind` is required and must be that one.
    pub fn deserialize_for(kind: SectionKind, body: serde_json::Value) -> Result<ItemWrite, BodyErrors> {
        let Some(shape) = kind.item_shape() else {
            return Err(BodyErrors::at(
                ValuePointerRef::Origin,
                format!("a {kind} section has no items"),
            ));
        };
        read_item(kind, shape, body.into_value(), ValuePointerRef::Origin, true)
    }
}

// The write schemas, from the same tables.

/// The name of the schema of an item of `shape` inside a section write.
fn shape_write_name(shape: ItemShape) -> &'static str {
    match shape {
        ItemShape::Titled => "TitledItemWrite",
        ItemShape::Phased => "ExpectationItemWrite",
        ItemShape::Described => "AudienceItemWrite",
    }
}

/// `` `a`, `b` or `c` ``.
fn code_list(kinds: impl Iterator<Item = SectionKind>) -> String {
    let names: Vec<String> = kinds.map(|kind| format!("`{kind}`")).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// The schema of a section write of `kind`, named `<Kind>SectionWrite`.
fn section_write_schema(kind: SectionKind) -> Schema {
    let docs = kind.docs();
    let article = kind.article();
    let mut object = ObjectBuilder::new()
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .description(Some(format!(
            "{}{} `{kind}` section to store.",
            article[..1].to_uppercase(),
            &article[1..]
        )))
        .property(
            "kind",
            kinds_schema(
                &[kind],
                "The section's kind; must equal the kind in the path of a section write.",
            ),
        )
        .property("heading", Title::field_schema("The heading", docs.heading, false))
        .required("kind")
        .required("heading");
    for &field in kind.fields() {
        let schema: RefOr<Schema> = match field {
            SectionField::Body => Prose::field_schema("The prose", docs.prose, false).into(),
            SectionField::Intro => Prose::field_schema("Text before the items", docs.prose, true).into(),
            SectionField::Note => Prose::field_schema("A closing caveat", docs.last, true).into(),
            SectionField::CallToAction => {
                Prose::field_schema("A last line urging the reader to act", docs.last, true).into()
            }
            SectionField::PhaseHeadings => {
                nullable_ref("PhaseHeadingsWrite", "Sub-headings per phase, each 1–200 characters.")
            }
            SectionField::Items => ArrayBuilder::new()
                .items(Ref::from_schema_name(kind.item_shape().map_or("", shape_write_name)))
                .max_items(Some(MAX_ITEMS))
                .description(Some(format!(
                    "The items in order, at most {MAX_ITEMS}. Existing items left out are deleted."
                )))
                .into(),
        };
        object = object.property(field.name(), schema);
        if field.required() {
            object = object.required(field.name());
        }
    }
    as_read(object).into()
}

/// The schema of an item of `shape` in a section write.
#[allow(
    deprecated,
    reason = "`example`, like the derived field schemas of the spec, not `examples`"
)]
fn shape_write_schema(shape: ItemShape) -> Schema {
    let docs = shape
        .kinds()
        .next()
        .map(SectionKind::docs)
        .unwrap_or(SectionKind::Steps.docs());
    let kinds: Vec<SectionKind> = shape.kinds().collect();
    let mut object = ObjectBuilder::new()
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .description(Some(format!(
            "An item of {}. With `id`: that item, kept; without: a new item.",
            code_list(kinds.iter().copied())
        )))
        .property(
            "id",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                .description(Some(
                    "An existing item of this section to keep (its id stays); leave out (or `null`) for a new item.",
                ))
                .example(Some(serde_json::Value::Null)),
        )
        .property(
            "kind",
            // A string enum, not nullable: a generated client (openapi-python-client)
            // then combines it with the `kind` an item `PUT` requires. No
            // example: left out is right for every section of these kinds.
            ObjectBuilder::new()
                .schema_type(SchemaType::new(Type::String))
                .enum_values(Some(kinds.iter().map(|kind| serde_json::Value::from(kind.as_str()))))
                .description(Some(
                    "The kind of the item's section, as in a read; if given, it must be the section's.",
                )),
        );
    for &field in shape.fields() {
        let schema: RefOr<Schema> = match field {
            ItemField::Phase => described_ref("Phase", "When it applies.").into(),
            ItemField::Title => Title::field_schema("", docs.item_title, false).into(),
            ItemField::Body => Prose::field_schema("", docs.item_body, false).into(),
            ItemField::Description => Prose::field_schema("", docs.item_title, false).into(),
        };
        object = object.property(field.name(), schema).required(field.name());
    }
    if shape.has_image() {
        object = object.property(
            "image",
            nullable_ref("ImageWrite", "The image shown with the item; `null` or left out: none."),
        );
    }
    // The whole item's example, without `kind`: right in a section of any of these kinds.
    let example: serde_json::Map<String, serde_json::Value> = shape
        .fields()
        .iter()
        .map(|field| {
            let value = match field {
                ItemField::Phase => "before",
                ItemField::Title | ItemField::Description => docs.item_title,
                ItemField::Body => docs.item_body,
            };
            (field.name().to_owned(), serde_json::Value::from(value))
        })
        .collect();
    object.example(Some(serde_json::Value::Object(example))).into()
}

/// The `PUT …/items/{id}` body of a section of `kind`, named
/// `<Kind>ItemWrite`: its shape's item, with `kind` required.
fn item_put_schema(kind: SectionKind, shape: ItemShape) -> Schema {
    AllOfBuilder::new()
        .item(Ref::from_schema_name(shape_write_name(shape)))
        .item(as_read(
            ObjectBuilder::new()
                .property(
                    "kind",
                    kinds_schema(
                        &[kind],
                        "The kind of the item's section: must equal the kind in the path.",
                    ),
                )
                .required("kind"),
        ))
        .description(Some(format!(
            "An item of {} `{kind}` section to store; `kind` is required.",
            kind.article()
        )))
        .into()
}

/// The item shapes' schemas (and what they name).
fn push_shape_schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    for shape in [ItemShape::Titled, ItemShape::Phased, ItemShape::Described] {
        schemas.push((shape_write_name(shape).to_owned(), shape_write_schema(shape).into()));
    }
    schemas.push(("Phase".to_owned(), Phase::schema()));
    schemas.push((
        "ImageWrite".to_owned(),
        <super::images::ImageWriteDoc as PartialSchema>::schema(),
    ));
}

kind_union!(
    SectionWrite,
    "SectionWrite",
    "A section to store, typed by its `kind`.",
    |kind| Some(section_write_schema(kind)),
    |schemas| {
        schemas.push(("PhaseHeadingsWrite".to_owned(), PhaseHeadingsWrite::schema()));
        push_shape_schemas(schemas);
    }
);

kind_union!(
    ItemWrite,
    "ItemWrite",
    "One item to store (`PUT …/items/{id}`): the shape of its section's kind, tagged by `kind`.",
    |kind| Some(item_put_schema(kind, kind.item_shape()?)),
    push_shape_schemas
);

// ---------------------------------------------------------------------------
// Write bodies as JSON: what the parsers above read back (revision
// snapshots, staged release bodies).

impl serde::Serialize for ItemWrite {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut out = serializer.serialize_map(None)?;
        if let Some(id) = self.id {
            out.serialize_entry("id", &id)?;
        }
        if let Some(phase) = self.content.phase {
            out.serialize_entry("phase", &phase)?;
        }
        for field in [ItemField::Title, ItemField::Body, ItemField::Description] {
            if let Some(text) = self.content.text(field).and_then(Option::as_ref) {
                out.serialize_entry(field.name(), text)?;
            }
        }
        if let Some(image) = &self.content.image {
            out.serialize_entry("image", &image.as_write())?;
        }
        out.end()
    }
}

impl serde::Serialize for SectionWrite {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("SectionWrite", 8)?;
        out.serialize_field("kind", &self.kind)?;
        self.serialize_fields(&mut out, true)?;
        out.end()
    }
}

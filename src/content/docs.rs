//! Schemas of write bodies, for the spec only: bodies are parsed and
//! validated by `input.rs`, which reports every problem at once. These types
//! say the same rules to client generators (lengths, required fields, no
//! unknown fields). Every text has the pattern of what lamina accepts: no
//! control characters but newline and tab, and a character that is not white space.

#![allow(dead_code, reason = "the fields are read by the OpenAPI derive, not by code")]

use chrono::NaiveDate;
use utoipa::ToSchema;
use uuid::Uuid;

use super::kinds::{ArticleStatus, Phase, SectionKind};

/// A whole article to store: metadata and every section, in order.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleWrite {
    /// Must equal the slug in the path if given.
    #[schema(
        example = "explore-micro-needling-for-flawless-skin-today",
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length = 100
    )]
    slug: Option<String>,
    /// Title, 1–200 characters.
    #[schema(
        example = "Explore Micro Needling for Flawless Skin Today",
        min_length = 1,
        max_length = 200
    )]
    title: String,
    /// Author's display name, 1–200 characters.
    #[schema(
        example = "sd80464",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
    )]
    author: String,
    /// Publication date, YYYY-MM-DD.
    #[schema(example = "2024-11-24")]
    published_on: NaiveDate,
    /// `draft` (hidden from anonymous readers) or `published`.
    status: ArticleStatus,
    /// The lead paragraph, 1–5,000 characters.
    #[schema(
        example = "Micro needling has emerged as a popular skincare treatment.",
        min_length = 1,
        max_length = 5000
    )]
    summary: String,
    /// The sections in order; at most one of each kind. Sections left out are deleted.
    sections: Vec<SectionWrite>,
}

/// An item of `steps`, `benefits`, `aftercare_tips` or `risks`. With `id`: that item, kept; without: a new item.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TitledItemWrite {
    /// An existing item of this section to keep (its id stays); leave out for a new item.
    #[schema(example = "5d1f8a52-1c39-4d1e-a3a7-6f0e2b9c4d21")]
    id: Option<Uuid>,
    /// The kind of the item's section, as in a read; if given, it must be the section's.
    #[schema(schema_with = titled_item_kinds)]
    kind: Option<SectionKind>,
    /// 1–200 characters.
    #[schema(
        example = "Consultation",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
    )]
    title: String,
    /// 1–5,000 characters.
    #[schema(
        example = "A consultation with a licensed professional is essential.",
        min_length = 1,
        max_length = 5000
    )]
    body: String,
}

/// An item of `expectations`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectationItemWrite {
    /// An existing item of this section to keep; leave out for a new item.
    #[schema(example = "9b2e4f61-7a0d-4c55-8e13-2d4c6b8a0f37")]
    id: Option<Uuid>,
    /// `expectations`, as in a read; may be left out.
    #[schema(schema_with = expectations_item_kind)]
    kind: Option<SectionKind>,
    /// When it applies.
    phase: Phase,
    /// 1–200 characters.
    #[schema(
        example = "Numbing",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
    )]
    title: String,
    /// 1–5,000 characters.
    #[schema(
        example = "A topical anesthetic will be applied.",
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
    )]
    body: String,
}

/// An item of `target_audiences`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceItemWrite {
    /// An existing item of this section to keep; leave out for a new item.
    #[schema(example = "3e7c1b90-2f4a-4b6d-9c8e-1a2b3c4d5e6f")]
    id: Option<Uuid>,
    /// `target_audiences`, as in a read; may be left out.
    #[schema(schema_with = target_audiences_item_kind)]
    kind: Option<SectionKind>,
    /// 1–5,000 characters.
    #[schema(
        example = "Have fine lines and wrinkles",
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
    )]
    description: String,
}

/// Sub-headings of an `expectations` section to store, one per phase.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseHeadingsWrite {
    /// Heading over the `before` items, 1–200 characters.
    #[schema(
        example = "Before the Treatment",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
    )]
    before: Option<String>,
    /// Heading over the `during` items, 1–200 characters.
    #[schema(
        example = "During the Treatment",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
    )]
    during: Option<String>,
    /// Heading over the `after` items, 1–200 characters.
    #[schema(
        example = "After the Treatment",
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
    )]
    after: Option<String>,
}

/// A string schema allowing the given section kinds.
fn kinds_schema(kinds: &[SectionKind], description: &str) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(kinds.iter().map(|kind| kind.as_str())))
        .description(Some(description))
        .examples([kinds[0].as_str()])
        .build()
}

fn titled_item_kinds() -> utoipa::openapi::schema::Object {
    kinds_schema(
        &[
            SectionKind::Steps,
            SectionKind::Benefits,
            SectionKind::AftercareTips,
            SectionKind::Risks,
        ],
        "The kind of the item's section, as in a read; if given, it must be the section's.",
    )
}

fn expectations_item_kind() -> utoipa::openapi::schema::Object {
    kinds_schema(
        &[SectionKind::Expectations],
        "`expectations`, as in a read; may be left out.",
    )
}

fn target_audiences_item_kind() -> utoipa::openapi::schema::Object {
    kinds_schema(
        &[SectionKind::TargetAudiences],
        "`target_audiences`, as in a read; may be left out.",
    )
}

/// Declares the `PUT …/items/{id}` body of one section kind: the item write
/// of its shape, with `kind` required (it must equal the kind in the path).
macro_rules! item_put {
    ($(#[$doc:meta])* $name:ident = $kind:expr, $kind_name:literal, $shape:ty) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder};
                let kind = kinds_schema(&[$kind], "The kind of the item's section: must equal the kind in the path.");
                AllOfBuilder::new()
                    .item(utoipa::openapi::Ref::from_schema_name(<$shape as utoipa::ToSchema>::name()))
                    .item(ObjectBuilder::new().property("kind", kind).required("kind"))
                    .description(Some(concat!("An item of a `", $kind_name, "` section to store; `kind` is required.")))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
                schemas.push((<$shape as utoipa::ToSchema>::name().into_owned(), <$shape as utoipa::PartialSchema>::schema()));
                <$shape as utoipa::ToSchema>::schemas(schemas);
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
#[derive(ToSchema)]
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

/// Declares the write schema of one section kind.
macro_rules! section_write {
    (
        $(#[$doc:meta])*
        $name:ident, $kind_schema:ident = $kind:expr,
        { $( $(#[$field_doc:meta])* $field:ident : $ty:ty ),* $(,)? }
    ) => {
        fn $kind_schema() -> utoipa::openapi::schema::Object {
            let kind: SectionKind = $kind;
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .enum_values(Some([kind.as_str()]))
                .description(Some("The section's kind; must equal the kind in the path of a section write."))
                .examples([kind.as_str()])
                .build()
        }

        $(#[$doc])*
        #[derive(ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The section's kind.
            #[schema(schema_with = $kind_schema)]
            kind: SectionKind,
            /// The heading, 1–200 characters.
            #[schema(example = "How Does Micro Needling Work?", min_length = 1, max_length = 200, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
            heading: String,
            $( $(#[$field_doc])* $field: $ty, )*
        }
    };
}

section_write! {
    /// An `overview` section to store.
    OverviewSectionWrite, overview_write_kind = SectionKind::Overview,
    {
        /// The prose, 1–5,000 characters.
        #[schema(example = "Micro needling is a minimally invasive cosmetic procedure.", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        body: String,
    }
}

section_write! {
    /// A `steps` section to store.
    StepsSectionWrite, steps_write_kind = SectionKind::Steps,
    {
        /// Text before the items, 1–5,000 characters.
        #[schema(example = "The procedure typically involves the following steps:", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        intro: Option<String>,
        /// The items in order, at most 50. Existing items left out are deleted.
        #[schema(max_items = 50)]
        items: Vec<TitledItemWrite>,
    }
}

section_write! {
    /// A `benefits` section to store.
    BenefitsSectionWrite, benefits_write_kind = SectionKind::Benefits,
    {
        /// Text before the items, 1–5,000 characters.
        #[schema(example = "Here are some of the most notable advantages:", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        intro: Option<String>,
        /// The items in order, at most 50. Existing items left out are deleted.
        #[schema(max_items = 50)]
        items: Vec<TitledItemWrite>,
    }
}

section_write! {
    /// An `expectations` section to store.
    ExpectationsSectionWrite, expectations_write_kind = SectionKind::Expectations,
    {
        /// Text before the items, 1–5,000 characters.
        #[schema(example = "Here’s a breakdown of the experience:", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        intro: Option<String>,
        /// Sub-headings per phase, each 1–200 characters.
        phase_headings: Option<PhaseHeadingsWrite>,
        /// The items in order, at most 50. Existing items left out are deleted.
        #[schema(max_items = 50)]
        items: Vec<ExpectationItemWrite>,
    }
}

section_write! {
    /// An `aftercare_tips` section to store.
    AftercareTipsSectionWrite, aftercare_tips_write_kind = SectionKind::AftercareTips,
    {
        /// Text before the items, 1–5,000 characters.
        #[schema(example = "Here are some tips to follow:", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        intro: Option<String>,
        /// The items in order, at most 50. Existing items left out are deleted.
        #[schema(max_items = 50)]
        items: Vec<TitledItemWrite>,
    }
}

section_write! {
    /// A `target_audiences` section to store.
    TargetAudiencesSectionWrite, target_audiences_write_kind = SectionKind::TargetAudiences,
    {
        /// Text before the items, 1–5,000 characters.
        #[schema(example = "It may be particularly beneficial for those who:", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        intro: Option<String>,
        /// The items in order, at most 50. Existing items left out are deleted.
        #[schema(max_items = 50)]
        items: Vec<AudienceItemWrite>,
        /// A closing caveat, 1–5,000 characters.
        #[schema(example = "However, it’s essential to consult with a qualified professional.", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        note: Option<String>,
    }
}

section_write! {
    /// A `risks` section to store.
    RisksSectionWrite, risks_write_kind = SectionKind::Risks,
    {
        /// Text before the items, 1–5,000 characters.
        #[schema(example = "Be aware of potential risks and side effects, including:", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        intro: Option<String>,
        /// The items in order, at most 50. Existing items left out are deleted.
        #[schema(max_items = 50)]
        items: Vec<TitledItemWrite>,
    }
}

section_write! {
    /// A `conclusion` section to store.
    ConclusionSectionWrite, conclusion_write_kind = SectionKind::Conclusion,
    {
        /// The prose, 1–5,000 characters.
        #[schema(example = "Micro needling is a powerful tool for achieving flawless skin.", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        body: String,
        /// A last line urging the reader to act, 1–5,000 characters.
        #[schema(example = "Take the first step towards radiant skin today.", min_length = 1, max_length = 5000, pattern = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$")]
        call_to_action: Option<String>,
    }
}

/// A section to store, typed by its `kind`.
#[derive(ToSchema)]
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

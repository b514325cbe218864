//! The response shapes of the API: articles, typed sections and items.
//!
//! Storage rows live in `crate::db`; these types are the contract and carry the
//! OpenAPI documentation.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::kinds::{ArticleStatus, Phase, SectionKind};

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
}

/// One page of articles, newest `published_on` first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticlePage {
    /// The articles of this page.
    pub items: Vec<ArticleSummary>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "0b8b5ac1a7e6d4b2f04f1e9b3a5d6c7e8f9a0b")]
    pub next_cursor: Option<String>,
}

/// An item of a `steps`, `benefits`, `aftercare_tips` or `risks` section.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TitledItem {
    /// Stable identifier of the item, kept across edits.
    #[schema(example = "5d1f8a52-1c39-4d1e-a3a7-6f0e2b9c4d21")]
    pub id: Uuid,
    /// The item's title, without numbering.
    #[schema(example = "Consultation")]
    pub title: String,
    /// The item's text.
    #[schema(example = "Before the treatment, a consultation with a licensed professional is essential.")]
    pub body: String,
}

/// An item of an `expectations` section.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectationItem {
    /// Stable identifier of the item, kept across edits.
    #[schema(example = "9b2e4f61-7a0d-4c55-8e13-2d4c6b8a0f37")]
    pub id: Uuid,
    /// When this expectation applies.
    pub phase: Phase,
    /// The item's title.
    #[schema(example = "Numbing")]
    pub title: String,
    /// The item's text.
    #[schema(example = "A topical anesthetic will be applied to minimize discomfort.")]
    pub body: String,
}

/// An item of a `target_audiences` section.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceItem {
    /// Stable identifier of the item, kept across edits.
    #[schema(example = "3e7c1b90-2f4a-4b6d-9c8e-1a2b3c4d5e6f")]
    pub id: Uuid,
    /// Who the treatment suits.
    #[schema(example = "Have fine lines and wrinkles")]
    pub description: String,
}

/// One item of a section, in the shape of its section's kind.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Item {
    /// `steps`, `benefits`, `aftercare_tips`, `risks`.
    Titled(TitledItem),
    /// `expectations`.
    Expectation(ExpectationItem),
    /// `target_audiences`.
    Audience(AudienceItem),
}

impl Item {
    /// The item's stable id.
    pub fn id(&self) -> Uuid {
        match self {
            Item::Titled(item) => item.id,
            Item::Expectation(item) => item.id,
            Item::Audience(item) => item.id,
        }
    }
}

/// Sub-headings of an `expectations` section, one per phase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseHeadings {
    /// Heading over the `before` items.
    #[schema(example = "Before the Treatment")]
    pub before: Option<String>,
    /// Heading over the `during` items.
    #[schema(example = "During the Treatment")]
    pub during: Option<String>,
    /// Heading over the `after` items.
    #[schema(example = "After the Treatment")]
    pub after: Option<String>,
}

/// Declares one section schema: the fields every kind has, plus its own.
macro_rules! section_schema {
    (
        $(#[$doc:meta])*
        $name:ident, $kind_schema:ident = $kind:expr, heading = $heading:literal,
        { $( $(#[$field_doc:meta])* $field:ident : $ty:ty ),* $(,)? }
    ) => {
        /// The schema of the `kind` tag: the one kind of this section type.
        fn $kind_schema() -> utoipa::openapi::schema::Object {
            let kind: SectionKind = $kind;
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .enum_values(Some([kind.as_str()]))
                .description(Some("The section's kind: the discriminator of `Section`."))
                .examples([kind.as_str()])
                .build()
        }

        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $name {
            /// Stable identifier of the section, kept across edits.
            #[schema(example = "7f3d2a10-8e4b-4c1f-b2a6-0d9e8c7b6a54")]
            pub id: Uuid,
            /// The section's kind: the discriminator of `Section`.
            #[schema(schema_with = $kind_schema)]
            pub kind: SectionKind,
            /// 1-based place of the section in its article.
            #[schema(example = 2)]
            pub position: i32,
            /// The section heading, as written.
            #[schema(example = $heading)]
            pub heading: String,
            $( $(#[$field_doc])* pub $field: $ty, )*
            /// Incremented on every change to the section or its items.
            #[schema(example = 1)]
            pub version: i64,
            /// When the section or one of its items last changed.
            #[schema(example = "2026-11-23T10:00:00Z")]
            pub updated_at: DateTime<Utc>,
        }
    };
}

section_schema! {
    /// A section of prose explaining what the treatment is.
    OverviewSection, overview_kind_schema = SectionKind::Overview, heading = "What is Micro Needling?",
    {
        /// The section's prose.
        #[schema(example = "Micro needling, also known as collagen induction therapy, is a minimally invasive cosmetic procedure.")]
        body: String,
    }
}

section_schema! {
    /// Ordered procedure steps.
    StepsSection, steps_kind_schema = SectionKind::Steps, heading = "How Does Micro Needling Work?",
    {
        /// Text before the steps.
        #[schema(example = "The procedure typically involves the following steps:")]
        intro: Option<String>,
        /// The steps, in order.
        items: Vec<TitledItem>,
    }
}

section_schema! {
    /// Titled benefits.
    BenefitsSection, benefits_kind_schema = SectionKind::Benefits, heading = "Benefits of Micro Needling",
    {
        /// Text before the benefits.
        #[schema(example = "Here are some of the most notable advantages:")]
        intro: Option<String>,
        /// The benefits, in order.
        items: Vec<TitledItem>,
    }
}

section_schema! {
    /// What to expect before, during and after the treatment.
    ExpectationsSection, expectations_kind_schema = SectionKind::Expectations, heading = "What to Expect During the Procedure",
    {
        /// Text before the items.
        #[schema(example = "Here’s a breakdown of the experience:")]
        intro: Option<String>,
        /// Sub-headings over each phase's items, where the article has them.
        phase_headings: Option<PhaseHeadings>,
        /// The items, in order; each says its phase.
        items: Vec<ExpectationItem>,
    }
}

section_schema! {
    /// Post-treatment care tips.
    AftercareTipsSection, aftercare_tips_kind_schema = SectionKind::AftercareTips, heading = "Post-Treatment Care",
    {
        /// Text before the tips.
        #[schema(example = "Here are some tips to follow:")]
        intro: Option<String>,
        /// The tips, in order.
        items: Vec<TitledItem>,
    }
}

section_schema! {
    /// Who should consider the treatment.
    TargetAudiencesSection, target_audiences_kind_schema = SectionKind::TargetAudiences, heading = "Who Should Consider Micro Needling?",
    {
        /// Text before the list.
        #[schema(example = "It may be particularly beneficial for those who:")]
        intro: Option<String>,
        /// The audiences, in order.
        items: Vec<AudienceItem>,
        /// A closing caveat after the list.
        #[schema(example = "However, it’s essential to consult with a qualified professional.")]
        note: Option<String>,
    }
}

section_schema! {
    /// Potential risks and side effects.
    RisksSection, risks_kind_schema = SectionKind::Risks, heading = "Potential Risks and Side Effects",
    {
        /// Text before the risks.
        #[schema(example = "It’s important to be aware of potential risks and side effects, including:")]
        intro: Option<String>,
        /// The risks, in order.
        items: Vec<TitledItem>,
    }
}

section_schema! {
    /// The closing section.
    ConclusionSection, conclusion_kind_schema = SectionKind::Conclusion, heading = "Conclusion",
    {
        /// The section's prose.
        #[schema(example = "Micro needling is a powerful tool for achieving flawless skin.")]
        body: String,
        /// A last line urging the reader to act.
        #[schema(example = "Take the first step towards radiant skin today.")]
        call_to_action: Option<String>,
    }
}

/// A section of an article, typed by its `kind`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "kind", mapping(
    ("overview" = "#/components/schemas/OverviewSection"),
    ("steps" = "#/components/schemas/StepsSection"),
    ("benefits" = "#/components/schemas/BenefitsSection"),
    ("expectations" = "#/components/schemas/ExpectationsSection"),
    ("aftercare_tips" = "#/components/schemas/AftercareTipsSection"),
    ("target_audiences" = "#/components/schemas/TargetAudiencesSection"),
    ("risks" = "#/components/schemas/RisksSection"),
    ("conclusion" = "#/components/schemas/ConclusionSection"),
)))]
pub enum Section {
    /// `overview`
    Overview(OverviewSection),
    /// `steps`
    Steps(StepsSection),
    /// `benefits`
    Benefits(BenefitsSection),
    /// `expectations`
    Expectations(ExpectationsSection),
    /// `aftercare_tips`
    AftercareTips(AftercareTipsSection),
    /// `target_audiences`
    TargetAudiences(TargetAudiencesSection),
    /// `risks`
    Risks(RisksSection),
    /// `conclusion`
    Conclusion(ConclusionSection),
}

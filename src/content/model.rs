//! The response shapes of the API: articles, typed sections and items.
//!
//! Storage rows live in `content::store`; these types are the contract and
//! carry the OpenAPI documentation.

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
    #[schema(example = "0b8b5ac1a7e6d4b2f04f1e9b3a5d6c7e8f9a0b", required = true)]
    pub next_cursor: Option<String>,
}

/// The schema of a `kind` tag with one value: the discriminator of `Section` and of `Item`.
fn kind_tag(kind: SectionKind, description: &str) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some([kind.as_str()]))
        .description(Some(description))
        .examples([kind.as_str()])
        .build()
}

/// Declares the item type of one section kind: `id`, `kind` (the section's
/// kind, the discriminator of `Item`) and the fields of its shape.
macro_rules! item_schema {
    (
        $(#[$doc:meta])*
        $name:ident, $kind_schema:ident = $kind:expr,
        { $( $(#[$field_doc:meta])* $field:ident : $ty:ty ),* $(,)? }
    ) => {
        fn $kind_schema() -> utoipa::openapi::schema::Object {
            kind_tag($kind, "The kind of the item's section: the discriminator of `Item`.")
        }

        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $name {
            /// Stable identifier of the item, kept across edits.
            #[schema(example = "5d1f8a52-1c39-4d1e-a3a7-6f0e2b9c4d21")]
            pub id: Uuid,
            /// The kind of the item's section: the discriminator of `Item`.
            #[schema(schema_with = $kind_schema)]
            pub kind: SectionKind,
            $( $(#[$field_doc])* pub $field: $ty, )*
        }
    };
}

/// The items of the kinds whose items have a title and a body.
macro_rules! titled_item {
    ($(#[$doc:meta])* $name:ident, $kind_schema:ident = $kind:expr, $title:literal, $body:literal) => {
        item_schema! {
            $(#[$doc])*
            $name, $kind_schema = $kind,
            {
                /// The item's title, without numbering.
                #[schema(example = $title)]
                title: String,
                /// The item's text.
                #[schema(example = $body)]
                body: String,
            }
        }
    };
}

titled_item! {
    /// A step of a `steps` section.
    StepsItem, steps_item_kind = SectionKind::Steps, "Consultation",
    "Before the treatment, a consultation with a licensed professional is essential."
}
titled_item! {
    /// A benefit of a `benefits` section.
    BenefitsItem, benefits_item_kind = SectionKind::Benefits, "Improved Skin Texture",
    "Micro needling can help smooth out rough skin."
}
titled_item! {
    /// A tip of an `aftercare_tips` section.
    AftercareTipsItem, aftercare_tips_item_kind = SectionKind::AftercareTips, "Avoid Sun Exposure",
    "Protect your skin from direct sunlight for at least a week."
}
titled_item! {
    /// A risk of a `risks` section.
    RisksItem, risks_item_kind = SectionKind::Risks, "Redness and Swelling",
    "Temporary redness and swelling are common."
}

item_schema! {
    /// An item of an `expectations` section.
    ExpectationsItem, expectations_item_kind = SectionKind::Expectations,
    {
        /// When this expectation applies.
        phase: Phase,
        /// The item's title.
        #[schema(example = "Numbing")]
        title: String,
        /// The item's text.
        #[schema(example = "A topical anesthetic will be applied to minimize discomfort.")]
        body: String,
    }
}

item_schema! {
    /// An item of a `target_audiences` section.
    TargetAudiencesItem, target_audiences_item_kind = SectionKind::TargetAudiences,
    {
        /// Who the treatment suits.
        #[schema(example = "Have fine lines and wrinkles")]
        description: String,
    }
}

/// One item of a section, in the shape of its section's kind, tagged by `kind`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "kind", mapping(
    ("steps" = "#/components/schemas/StepsItem"),
    ("benefits" = "#/components/schemas/BenefitsItem"),
    ("expectations" = "#/components/schemas/ExpectationsItem"),
    ("aftercare_tips" = "#/components/schemas/AftercareTipsItem"),
    ("target_audiences" = "#/components/schemas/TargetAudiencesItem"),
    ("risks" = "#/components/schemas/RisksItem"),
)))]
pub enum Item {
    /// `steps`
    Steps(StepsItem),
    /// `benefits`
    Benefits(BenefitsItem),
    /// `expectations`
    Expectations(ExpectationsItem),
    /// `aftercare_tips`
    AftercareTips(AftercareTipsItem),
    /// `target_audiences`
    TargetAudiences(TargetAudiencesItem),
    /// `risks`
    Risks(RisksItem),
}

impl Item {
    /// The item's stable id.
    pub fn id(&self) -> Uuid {
        match self {
            Item::Steps(item) => item.id,
            Item::Benefits(item) => item.id,
            Item::Expectations(item) => item.id,
            Item::AftercareTips(item) => item.id,
            Item::TargetAudiences(item) => item.id,
            Item::Risks(item) => item.id,
        }
    }
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

/// Declares one section schema: the fields every kind has, plus its own.
macro_rules! section_schema {
    (
        $(#[$doc:meta])*
        $name:ident, $kind_schema:ident = $kind:expr, heading = $heading:literal,
        { $( $(#[$field_doc:meta])* $field:ident : $ty:ty ),* $(,)? }
    ) => {
        /// The schema of the `kind` tag: the one kind of this section type.
        fn $kind_schema() -> utoipa::openapi::schema::Object {
            kind_tag($kind, "The section's kind: the discriminator of `Section`.")
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
        /// Text before the steps; `null` if none.
        #[schema(example = "The procedure typically involves the following steps:", required = true)]
        intro: Option<String>,
        /// The steps, in order.
        items: Vec<StepsItem>,
    }
}

section_schema! {
    /// Titled benefits.
    BenefitsSection, benefits_kind_schema = SectionKind::Benefits, heading = "Benefits of Micro Needling",
    {
        /// Text before the benefits.
        #[schema(example = "Here are some of the most notable advantages:", required = true)]
        intro: Option<String>,
        /// The benefits, in order.
        items: Vec<BenefitsItem>,
    }
}

section_schema! {
    /// What to expect before, during and after the treatment.
    ExpectationsSection, expectations_kind_schema = SectionKind::Expectations, heading = "What to Expect During the Procedure",
    {
        /// Text before the items.
        #[schema(example = "Here’s a breakdown of the experience:", required = true)]
        intro: Option<String>,
        /// Sub-headings over each phase's items; `null` where the article has none.
        #[schema(required = true)]
        phase_headings: Option<PhaseHeadings>,
        /// The items, in order; each says its phase.
        items: Vec<ExpectationsItem>,
    }
}

section_schema! {
    /// Post-treatment care tips.
    AftercareTipsSection, aftercare_tips_kind_schema = SectionKind::AftercareTips, heading = "Post-Treatment Care",
    {
        /// Text before the tips.
        #[schema(example = "Here are some tips to follow:", required = true)]
        intro: Option<String>,
        /// The tips, in order.
        items: Vec<AftercareTipsItem>,
    }
}

section_schema! {
    /// Who should consider the treatment.
    TargetAudiencesSection, target_audiences_kind_schema = SectionKind::TargetAudiences, heading = "Who Should Consider Micro Needling?",
    {
        /// Text before the list.
        #[schema(example = "It may be particularly beneficial for those who:", required = true)]
        intro: Option<String>,
        /// The audiences, in order.
        items: Vec<TargetAudiencesItem>,
        /// A closing caveat after the list.
        #[schema(example = "However, it’s essential to consult with a qualified professional.", required = true)]
        note: Option<String>,
    }
}

section_schema! {
    /// Potential risks and side effects.
    RisksSection, risks_kind_schema = SectionKind::Risks, heading = "Potential Risks and Side Effects",
    {
        /// Text before the risks.
        #[schema(example = "It’s important to be aware of potential risks and side effects, including:", required = true)]
        intro: Option<String>,
        /// The risks, in order.
        items: Vec<RisksItem>,
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
        #[schema(example = "Take the first step towards radiant skin today.", required = true)]
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

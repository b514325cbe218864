//! The closed vocabularies of the content model: section kinds, phases, statuses.

use deserr::Deserr;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The kind of a section. An article has at most one section of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Deserr, ToSchema)]
#[serde(rename_all = "snake_case")]
#[deserr(rename_all = lowercase)]
#[schema(example = "steps")]
pub enum SectionKind {
    /// What the treatment is: one body of prose.
    Overview,
    /// How it works: ordered procedure steps.
    Steps,
    /// What it does for you: titled benefits.
    Benefits,
    /// What to expect before, during and after.
    Expectations,
    /// Post-treatment care: titled tips.
    #[deserr(rename = "aftercare_tips")]
    AftercareTips,
    /// Who should consider it: short descriptions, with a closing note.
    #[deserr(rename = "target_audiences")]
    TargetAudiences,
    /// Potential risks and side effects.
    Risks,
    /// The closing prose, with an optional call to action.
    Conclusion,
}

impl SectionKind {
    /// Every kind, in the order an article usually lays them out.
    pub const ALL: [SectionKind; 8] = [
        SectionKind::Overview,
        SectionKind::Steps,
        SectionKind::Benefits,
        SectionKind::Expectations,
        SectionKind::AftercareTips,
        SectionKind::TargetAudiences,
        SectionKind::Risks,
        SectionKind::Conclusion,
    ];

    /// The wire and storage name, e.g. `aftercare_tips`.
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::Overview => "overview",
            SectionKind::Steps => "steps",
            SectionKind::Benefits => "benefits",
            SectionKind::Expectations => "expectations",
            SectionKind::AftercareTips => "aftercare_tips",
            SectionKind::TargetAudiences => "target_audiences",
            SectionKind::Risks => "risks",
            SectionKind::Conclusion => "conclusion",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(name: &str) -> Option<SectionKind> {
        SectionKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The fields a section of this kind has besides those every section has
    /// (`id`, `kind`, `position`, `heading`, `version`, `updated_at`), in the
    /// order reads and writes give them. Everything that walks a section
    /// (reading, writing, validating, documenting, counting words) follows it.
    pub fn fields(self) -> &'static [SectionField] {
        use SectionField::{Body, CallToAction, Intro, Items, Note, PhaseHeadings};
        match self {
            SectionKind::Overview => &[Body],
            SectionKind::Conclusion => &[Body, CallToAction],
            SectionKind::Expectations => &[Intro, PhaseHeadings, Items],
            SectionKind::TargetAudiences => &[Intro, Items, Note],
            SectionKind::Steps | SectionKind::Benefits | SectionKind::AftercareTips | SectionKind::Risks => {
                &[Intro, Items]
            }
        }
    }

    /// The kind's name in the spec's schema names: `AftercareTips` in
    /// `AftercareTipsSection`, `AftercareTipsItem`, `AftercareTipsSectionWrite`.
    pub fn type_name(self) -> &'static str {
        match self {
            SectionKind::Overview => "Overview",
            SectionKind::Steps => "Steps",
            SectionKind::Benefits => "Benefits",
            SectionKind::Expectations => "Expectations",
            SectionKind::AftercareTips => "AftercareTips",
            SectionKind::TargetAudiences => "TargetAudiences",
            SectionKind::Risks => "Risks",
            SectionKind::Conclusion => "Conclusion",
        }
    }

    /// `a` or `an`, as the kind's name is spoken.
    pub fn article(self) -> &'static str {
        match self {
            SectionKind::Overview | SectionKind::Expectations | SectionKind::AftercareTips => "an",
            _ => "a",
        }
    }

    /// What the items of this kind look like; `None` for kinds without items.
    pub fn item_shape(self) -> Option<ItemShape> {
        match self {
            SectionKind::Overview | SectionKind::Conclusion => None,
            SectionKind::Expectations => Some(ItemShape::Phased),
            SectionKind::TargetAudiences => Some(ItemShape::Described),
            SectionKind::Steps | SectionKind::Benefits | SectionKind::AftercareTips | SectionKind::Risks => {
                Some(ItemShape::Titled)
            }
        }
    }
}

impl std::fmt::Display for SectionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field of a section beyond the ones every section has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionField {
    /// The prose of an `overview` or `conclusion` (required).
    Body,
    /// The last line of a `conclusion` (optional).
    CallToAction,
    /// Text before the items (optional).
    Intro,
    /// Sub-headings of an `expectations` section, per phase (optional).
    PhaseHeadings,
    /// The items, in order (required, possibly empty).
    Items,
    /// A closing caveat of `target_audiences` (optional).
    Note,
}

impl SectionField {
    /// The field's wire name.
    pub fn name(self) -> &'static str {
        match self {
            SectionField::Body => "body",
            SectionField::CallToAction => "call_to_action",
            SectionField::Intro => "intro",
            SectionField::PhaseHeadings => "phase_headings",
            SectionField::Items => "items",
            SectionField::Note => "note",
        }
    }

    /// Whether a write must give it (optional fields may be left out or `null`).
    pub fn required(self) -> bool {
        matches!(self, SectionField::Body | SectionField::Items)
    }
}

/// The three item shapes of the kinds that have items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemShape {
    /// `title` and `body`.
    Titled,
    /// `phase`, `title` and `body`.
    Phased,
    /// `description` only.
    Described,
}

/// A field of an item, besides `id` and `kind`; every one is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemField {
    /// When an expectation applies.
    Phase,
    /// The item's title.
    Title,
    /// The item's text.
    Body,
    /// A target audience's description.
    Description,
}

impl ItemField {
    /// The field's wire name.
    pub fn name(self) -> &'static str {
        match self {
            ItemField::Phase => "phase",
            ItemField::Title => "title",
            ItemField::Body => "body",
            ItemField::Description => "description",
        }
    }
}

impl ItemShape {
    /// The fields of an item of this shape, in wire order.
    pub fn fields(self) -> &'static [ItemField] {
        match self {
            ItemShape::Titled => &[ItemField::Title, ItemField::Body],
            ItemShape::Phased => &[ItemField::Phase, ItemField::Title, ItemField::Body],
            ItemShape::Described => &[ItemField::Description],
        }
    }

    /// Whether items of this shape may show an image (API.md §15).
    pub fn has_image(self) -> bool {
        matches!(self, ItemShape::Titled | ItemShape::Phased)
    }

    /// The section kinds whose items have this shape.
    pub fn kinds(self) -> impl Iterator<Item = SectionKind> {
        SectionKind::ALL
            .into_iter()
            .filter(move |kind| kind.item_shape() == Some(self))
    }
}

/// When an expectation applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Deserr, ToSchema)]
#[serde(rename_all = "snake_case")]
#[deserr(rename_all = lowercase)]
#[schema(example = "before")]
pub enum Phase {
    /// Before the treatment.
    Before,
    /// During the treatment.
    During,
    /// After the treatment.
    After,
}

impl Phase {
    /// Every phase, in time order.
    pub const ALL: [Phase; 3] = [Phase::Before, Phase::During, Phase::After];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::During => "during",
            Phase::After => "after",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|phase| phase.as_str() == name)
    }
}

/// Whether anonymous readers can see an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Deserr, ToSchema)]
#[serde(rename_all = "snake_case")]
#[deserr(rename_all = lowercase)]
#[schema(example = "published")]
pub enum ArticleStatus {
    /// Visible only to authenticated readers (preview, editor, admin).
    Draft,
    /// Visible to everyone.
    Published,
}

impl ArticleStatus {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(name: &str) -> Option<ArticleStatus> {
        match name {
            "draft" => Some(ArticleStatus::Draft),
            "published" => Some(ArticleStatus::Published),
            _ => None,
        }
    }
}

/// How the spec shows a kind: descriptions and examples, taken from the
/// seeded article, for its read and write schemas alike.
#[derive(Debug, Clone, Copy)]
pub struct KindDocs {
    /// What a section of this kind is.
    pub section: &'static str,
    /// What its items are, in a section read.
    pub items: &'static str,
    /// What one item is.
    pub item: &'static str,
    /// Example heading.
    pub heading: &'static str,
    /// Example of the kind's main prose: `body` of overview and conclusion,
    /// `intro` of the kinds with items.
    pub prose: &'static str,
    /// Example of the second prose field: a conclusion's `call_to_action`,
    /// the `note` of target audiences.
    pub last: &'static str,
    /// Example item title (or a target audience's description).
    pub item_title: &'static str,
    /// Example item body.
    pub item_body: &'static str,
}

impl SectionKind {
    /// The kind's descriptions and examples for the spec.
    pub fn docs(self) -> KindDocs {
        let docs = KindDocs {
            section: "",
            items: "The items, in order.",
            item: "",
            heading: "",
            prose: "",
            last: "",
            item_title: "",
            item_body: "",
        };
        match self {
            SectionKind::Overview => KindDocs {
                section: "A section of prose explaining what the treatment is.",
                heading: "What is Micro Needling?",
                prose: "Micro needling, also known as collagen induction therapy, is a minimally invasive cosmetic procedure.",
                ..docs
            },
            SectionKind::Steps => KindDocs {
                section: "Ordered procedure steps.",
                items: "The steps, in order.",
                item: "A step of a `steps` section.",
                heading: "How Does Micro Needling Work?",
                prose: "The procedure typically involves the following steps:",
                item_title: "Consultation",
                item_body: "Before the treatment, a consultation with a licensed professional is essential.",
                ..docs
            },
            SectionKind::Benefits => KindDocs {
                section: "Titled benefits.",
                items: "The benefits, in order.",
                item: "A benefit of a `benefits` section.",
                heading: "Benefits of Micro Needling",
                prose: "Here are some of the most notable advantages:",
                item_title: "Improved Skin Texture",
                item_body: "Micro needling can help smooth out rough skin.",
                ..docs
            },
            SectionKind::Expectations => KindDocs {
                section: "What to expect before, during and after the treatment.",
                items: "The items, in order; each says its phase.",
                item: "An item of an `expectations` section.",
                heading: "What to Expect During the Procedure",
                prose: "Here’s a breakdown of the experience:",
                item_title: "Numbing",
                item_body: "A topical anesthetic will be applied to minimize discomfort.",
                ..docs
            },
            SectionKind::AftercareTips => KindDocs {
                section: "Post-treatment care tips.",
                items: "The tips, in order.",
                item: "A tip of an `aftercare_tips` section.",
                heading: "Post-Treatment Care",
                prose: "Here are some tips to follow:",
                item_title: "Avoid Sun Exposure",
                item_body: "Protect your skin from direct sunlight for at least a week.",
                ..docs
            },
            SectionKind::TargetAudiences => KindDocs {
                section: "Who should consider the treatment.",
                items: "The audiences, in order.",
                item: "An item of a `target_audiences` section.",
                heading: "Who Should Consider Micro Needling?",
                prose: "It may be particularly beneficial for those who:",
                last: "However, it’s essential to consult with a qualified professional.",
                item_title: "Have fine lines and wrinkles",
                ..docs
            },
            SectionKind::Risks => KindDocs {
                section: "Potential risks and side effects.",
                items: "The risks, in order.",
                item: "A risk of a `risks` section.",
                heading: "Potential Risks and Side Effects",
                prose: "It’s important to be aware of potential risks and side effects, including:",
                item_title: "Redness and Swelling",
                item_body: "Temporary redness and swelling are common.",
                ..docs
            },
            SectionKind::Conclusion => KindDocs {
                section: "The closing section.",
                heading: "Conclusion",
                prose: "Micro needling is a powerful tool for achieving flawless skin.",
                last: "Take the first step towards radiant skin today.",
                ..docs
            },
        }
    }
}

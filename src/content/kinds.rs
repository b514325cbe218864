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

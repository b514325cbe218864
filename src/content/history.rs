//! Revisions: what each write changed, by whom, with a snapshot of the article.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::kinds::SectionKind;
use crate::db::schema::revisions;

/// A `revisions` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = revisions, check_for_backend(diesel::pg::Pg))]
pub struct RevisionRow {
    pub id: Uuid,
    pub seq: i64,
    pub article_id: Uuid,
    pub slug: String,
    pub actor: String,
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    pub action: String,
    pub target: String,
    pub section_kind: Option<String>,
    pub item_id: Option<Uuid>,
    pub article_version: i64,
    pub snapshot: Option<serde_json::Value>,
    pub locale: Option<String>,
    pub translations: Option<serde_json::Value>,
}

/// One write to an article, without its snapshot.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionSummary {
    /// Identifier of the revision.
    #[schema(example = "4a9e1c2b-7d3f-4e8a-b5c6-d7e8f9a0b1c2")]
    pub id: Uuid,
    /// Name of the token that made the write.
    #[schema(example = "alice")]
    pub actor: String,
    /// When the write was committed.
    #[schema(example = "2026-11-25T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// The `X-Request-Id` of the write.
    #[schema(example = "7c1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6")]
    pub request_id: String,
    /// `create`, `replace`, `delete` or `restore`.
    #[schema(example = "replace")]
    pub action: String,
    /// What was written: `article`, `section` or `item`.
    #[schema(example = "section")]
    pub target: String,
    /// The section written, for section and item writes; `null` for article writes.
    #[schema(required = true)]
    pub section_kind: Option<SectionKind>,
    /// The item written, for item writes; `null` otherwise.
    #[schema(example = "5d1f8a52-1c39-4d1e-a3a7-6f0e2b9c4d21", required = true)]
    pub item_id: Option<Uuid>,
    /// The article's version after the write.
    #[schema(example = 7)]
    pub article_version: i64,
    /// The locale the write was in: `null` for the default locale (text and
    /// structure), a locale's code for its texts (API.md §13).
    #[schema(example = json!(null), required = true)]
    pub locale: Option<String>,
}

/// One write to an article, with the article as it was after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revision {
    #[serde(flatten)]
    #[schema(inline)]
    pub summary: RevisionSummary,
    /// The whole article after the write, as a `PUT` body (item ids included).
    /// For a deleted article: the article as it was before the delete.
    #[schema(value_type = Option<crate::content::body::ArticleWrite>, required = true)]
    pub snapshot: Option<serde_json::Value>,
    /// Every other locale's texts after the write, which a restore brings
    /// back: `{"de": {"status": "draft", "texts": {"title": {"text": "…", "source": "…"}}}}`
    /// (`source`: a hash of the default text it translates); `null` when there are none.
    #[schema(value_type = Option<Object>, required = true)]
    pub translations: Option<serde_json::Value>,
}

/// A page of revisions, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionPage {
    /// The revisions of this page.
    pub items: Vec<RevisionSummary>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(example = "r41", required = true)]
    pub next_cursor: Option<String>,
}

impl RevisionRow {
    /// The summary of the API.
    pub fn summary(&self) -> RevisionSummary {
        RevisionSummary {
            id: self.id,
            actor: self.actor.clone(),
            created_at: self.created_at,
            request_id: self.request_id.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            section_kind: self.section_kind.as_deref().and_then(SectionKind::parse),
            item_id: self.item_id,
            article_version: self.article_version,
            locale: self.locale.clone(),
        }
    }
}

/// Revisions of an article, newest first, older than `before` (a `seq`); plus whether more follow.
pub async fn list(
    conn: &mut AsyncPgConnection,
    article_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<RevisionRow>, bool)> {
    let mut query = revisions::table
        .filter(revisions::article_id.eq(article_id))
        .order(revisions::seq.desc())
        .limit(limit + 1)
        .select(RevisionRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(revisions::seq.lt(before));
    }
    let mut rows = query.load(conn).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((rows, more))
}

/// One revision of an article.
pub async fn find(conn: &mut AsyncPgConnection, article_id: Uuid, id: Uuid) -> QueryResult<Option<RevisionRow>> {
    revisions::table
        .filter(revisions::article_id.eq(article_id))
        .filter(revisions::id.eq(id))
        .select(RevisionRow::as_select())
        .first(conn)
        .await
        .optional()
}

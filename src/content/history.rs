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
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
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
    Ok(crate::db::page(query.load(conn).await?, limit))
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

/// The delete revisions of articles that are gone and were not re-created
/// (the last revision of their article): the trash, for SQL.
const TRASHED: &str = "r.action = 'delete' AND r.target = 'article' \
     AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = r.article_id) \
     AND NOT EXISTS (SELECT 1 FROM revisions l WHERE l.article_id = r.article_id AND l.seq > r.seq)";

/// The article whose history `slug` names: the live article of that slug,
/// or else the last deleted one (API.md §3: deleted articles stay restorable).
pub async fn article_of(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<Uuid>> {
    use crate::db::schema::articles;
    let live: Option<Uuid> = articles::table
        .filter(articles::slug.eq(slug))
        .select(articles::id)
        .first(conn)
        .await
        .optional()?;
    if live.is_some() {
        return Ok(live);
    }
    Ok(trashed_by_slug(conn, slug).await?.map(|row| row.article_id))
}

/// The delete revision of the last deleted article of `slug`, if it is in the trash.
pub async fn trashed_by_slug(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<RevisionRow>> {
    diesel::sql_query(format!(
        "SELECT r.* FROM revisions r WHERE r.slug = $1 AND {TRASHED} ORDER BY r.seq DESC LIMIT 1"
    ))
    .bind::<diesel::sql_types::Text, _>(slug)
    .get_result(conn)
    .await
    .optional()
}

/// One deleted article: its delete revision (snapshot: the article as it
/// was) and when it was first created.
#[derive(Debug, Clone)]
pub struct Trashed {
    pub deletion: RevisionRow,
    pub created_at: DateTime<Utc>,
}

/// The trash, most recently deleted first, older than `before` (a `seq`); plus whether more follow.
pub async fn trash(conn: &mut AsyncPgConnection, before: Option<i64>, limit: i64) -> QueryResult<(Vec<Trashed>, bool)> {
    let rows: Vec<RevisionRow> = diesel::sql_query(format!(
        "SELECT r.* FROM revisions r WHERE {TRASHED} AND ($1::bigint IS NULL OR r.seq < $1) \
         ORDER BY r.seq DESC LIMIT $2"
    ))
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::BigInt>, _>(before)
    .bind::<diesel::sql_types::BigInt, _>(limit + 1)
    .load(conn)
    .await?;
    let (rows, more) = crate::db::page(rows, limit);
    let ids: Vec<Uuid> = rows.iter().map(|row| row.article_id).collect();
    let created: Vec<(Uuid, Option<DateTime<Utc>>)> = revisions::table
        .filter(revisions::article_id.eq_any(&ids))
        .group_by(revisions::article_id)
        .select((revisions::article_id, diesel::dsl::min(revisions::created_at)))
        .load(conn)
        .await?;
    let page = rows
        .into_iter()
        .map(|deletion| Trashed {
            created_at: created
                .iter()
                .find_map(|(id, at)| (*id == deletion.article_id).then_some(*at).flatten())
                .unwrap_or(deletion.created_at),
            deletion,
        })
        .collect();
    Ok((page, more))
}

/// Most deleted articles one write purges.
const PURGE_BATCH: i64 = 100;

/// Purges deleted articles whose delete is older than `keep_days` days
/// (`LAMINA_TRASH_KEEP_DAYS`), with all their revisions: a batch per write,
/// as the change log is pruned.
pub async fn purge_trash(conn: &mut AsyncPgConnection, keep_days: i32) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "DELETE FROM revisions WHERE article_id IN ( \
             SELECT r.article_id FROM revisions r \
             WHERE r.created_at < now() - make_interval(days => $1) AND {TRASHED} LIMIT $2)"
    ))
    .bind::<diesel::sql_types::Integer, _>(keep_days)
    .bind::<diesel::sql_types::BigInt, _>(PURGE_BATCH)
    .execute(conn)
    .await
}

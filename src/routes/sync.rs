//! `/v1/sync`: the change feed, for clients that keep a copy of the content
//! (how it never skips a change: [`crate::content::sync`]).

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::articles::article_body;
use super::{ProblemResponses, Query, ReadProblems, Reader};
use crate::AppState;
use crate::content::model::Article;
use crate::content::sync::{self as feed, SyncCursor};
use crate::error::{AppError, Code, Problem};

/// Default page size of the feed.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page size of the feed.
pub const MAX_LIMIT: u32 = 500;

/// Query of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// Entries per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500, example = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous answer; leave out to start an initial sync.
    #[param(
        example = "s-2f1a",
        pattern = "^(s-[0-9a-f]{1,16}|i-[0-9a-f]{1,16}-[0-9a-f]{32}|d-[0-9a-f]{1,16}-[0-9a-f]{1,16}-[0-9a-f]{32})$"
    )]
    cursor: Option<String>,
}

impl super::KnownParams for SyncQuery {
    const NAMES: &'static [&'static str] = &["limit", "cursor"];
}

/// The `type` of an article entry.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncArticleType {
    /// An article to upsert.
    Article,
}

/// The `type` of a deletion entry.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncDeletedType {
    /// An article to remove.
    Deleted,
}

/// An article that is new or changed: upsert it by `id`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncArticle {
    /// `article`: the discriminator of `SyncEntry`.
    #[serde(rename = "type")]
    pub entry_type: SyncArticleType,
    /// The whole article, exactly as `GET /v1/articles/{slug}` answers it to the same caller.
    pub article: Article,
}

/// An article that was deleted or is no longer visible to the caller (a
/// draft, to anonymous callers): remove it by `id`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncDeleted {
    /// `deleted`: the discriminator of `SyncEntry`.
    #[serde(rename = "type")]
    pub entry_type: SyncDeletedType,
    /// The article's id.
    #[schema(example = "0b0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e")]
    pub id: Uuid,
    /// The article's slug.
    #[schema(example = "explore-micro-needling-for-flawless-skin-today")]
    pub slug: String,
}

/// One entry of the feed, typed by `type`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "type", mapping(
    ("article" = "#/components/schemas/SyncArticle"),
    ("deleted" = "#/components/schemas/SyncDeleted"),
)))]
pub enum SyncEntry {
    /// `article`
    Article(SyncArticle),
    /// `deleted`
    Deleted(SyncDeleted),
}

/// One answer of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncPage {
    /// Apply in order: upsert `article` entries by `id`, remove `deleted` ones.
    /// An initial sync holds no `deleted` entries; a delta holds one entry per
    /// article changed since the cursor.
    pub entries: Vec<SyncEntry>,
    /// Ask with this next: at once while `has_more`, otherwise later, for the changes since.
    #[schema(example = "s-2f1a")]
    pub next_cursor: String,
    /// Whether more entries are ready now (follow `next_cursor` at once).
    #[schema(example = false)]
    pub has_more: bool,
}

/// Failures particular to the feed.
#[derive(utoipa::IntoResponses)]
pub enum SyncProblems {
    /// Bad `limit` (`invalid_limit`), a cursor this server did not hand out
    /// (`invalid_cursor`) or an unknown query parameter.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// `sync_cursor_expired`: the cursor is older than the change log keeps
    /// (`LAMINA_SYNC_KEEP_DAYS`); start again without a cursor.
    #[response(status = 410, content_type = "application/problem+json")]
    Gone(Problem),
}

/// Sync a copy of the content: an initial sync, then the changes since.
///
/// Without `cursor`: every article the caller can read, in id order. With
/// the `next_cursor` of a previous answer: follow it while `has_more`; keep
/// the last one and ask with it later for what changed since (one entry per
/// changed article). Applying the entries in order gives exactly the
/// articles the caller can read, as `GET /v1/articles/{slug}` answers them.
/// No change is ever skipped, whatever order writes commit in: a write shows
/// up once every write that began before it has finished. Anonymous callers
/// see published articles; any token sees drafts too. Never cached
/// (`Cache-Control: no-store`).
#[utoipa::path(
    tag = "sync",
    params(SyncQuery),
    responses(
        (status = 200, description = "A page of the feed", body = SyncPage),
        SyncProblems,
        ReadProblems,
        ProblemResponses,
    )
)]
#[get("/sync")]
pub async fn sync(
    state: web::Data<AppState>,
    reader: Reader,
    query: Query<SyncQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::bad_request(
            Code::InvalidLimit,
            format!("`limit` must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let cursor = match &query.cursor {
        None => None,
        Some(text) => Some(SyncCursor::decode(text).ok_or_else(|| {
            AppError::bad_request(
                Code::InvalidCursor,
                "`cursor` is not one this server handed out; start again without it.",
            )
        })?),
    };
    let visibility = reader.visibility();
    let page = crate::db::deadline(async {
        let mut conn = state.pool.get().await?;
        feed::sync(&mut conn, cursor, i64::from(limit), visibility).await
    })
    .await?;
    let entries = page
        .entries
        .iter()
        .map(|entry| {
            Ok(match entry {
                feed::SyncEntry::Article(row, sections) => SyncEntry::Article(SyncArticle {
                    entry_type: SyncArticleType::Article,
                    article: article_body(
                        row,
                        sections,
                        &super::parts::default_locale(&state),
                        &Default::default(),
                    )?,
                }),
                feed::SyncEntry::Deleted { id, slug } => SyncEntry::Deleted(SyncDeleted {
                    entry_type: SyncDeletedType::Deleted,
                    id: *id,
                    slug: slug.clone(),
                }),
            })
        })
        .collect::<diesel::QueryResult<Vec<_>>>()?;
    let body = serde_json::to_vec(&SyncPage {
        entries,
        next_cursor: page.next.encode(),
        has_more: page.has_more,
    })?;
    // Per caller and per moment: no cache may keep it.
    let cache_control = if reader.is_authenticated() {
        "private, no-store"
    } else {
        "no-store"
    };
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, cache_control))
        .content_type("application/json")
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_cursor_pattern_is_the_decoders() {
        let params = SyncQuery::into_params(|| None);
        let cursor = params.iter().find(|param| param.name == "cursor").unwrap();
        let schema = serde_json::to_value(&cursor.schema).unwrap();
        assert_eq!(schema["pattern"], SyncCursor::PATTERN, "{schema}");
    }
}

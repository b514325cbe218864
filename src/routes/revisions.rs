//! `/v1/articles/{slug}/revisions…`: the history of an article, for editors.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::articles::{Edit, next_cursor, page_cursor, page_limit};
use super::paths::{ArticlePath, RevisionPath, article_not_found, revision_not_found};
use super::{DeleteProblems, Editor, HistoryProblems, NoParams, Query};
use crate::AppState;
use crate::content::history::{self, Revision, RevisionPage};
use crate::content::model::Article;
use crate::content::write;
use crate::error::AppError;

/// Query of the revision list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevisionQuery {
    /// Revisions per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page; leave out for the newest.
    #[param(example = "r41", pattern = "^r[0-9]{1,18}$")]
    cursor: Option<String>,
}

impl super::KnownParams for RevisionQuery {
    const NAMES: &'static [&'static str] = &["limit", "cursor"];
}

/// The id of the article whose history `slug` names: the live one, or the
/// last deleted one of that slug (API.md §3).
async fn history_of(state: &AppState, slug: &str) -> Result<uuid::Uuid, AppError> {
    let mut conn = state.pool.get().await?;
    history::article_of(&mut conn, slug)
        .await?
        .ok_or_else(|| article_not_found(slug))
}

/// List an article's revisions, newest first (editor or admin).
///
/// Every successful write records a revision: who, when, what changed and the request id.
/// Pages of `limit` (1-100, default 20), newest first; pass `next_cursor` as `cursor` for
/// older ones. The history of a deleted article stays readable until it is purged, so a
/// delete can be undone. Answered `Cache-Control: private, no-store`.
#[utoipa::path(
    tag = "revisions",
    params(ArticlePath, RevisionQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of revisions", body = RevisionPage),
        HistoryProblems,
    )
)]
#[get("/articles/{slug}/revisions")]
pub async fn list_revisions(
    state: web::Data<AppState>,
    _editor: Editor,
    ArticlePath { slug }: ArticlePath,
    query: Query<RevisionQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = page_limit(query.limit)?;
    let before = page_cursor(query.cursor.as_deref(), |cursor| {
        cursor.strip_prefix('r').and_then(|seq| seq.parse::<i64>().ok())
    })?;
    let (rows, more) = crate::db::deadline(async {
        let article = history_of(&state, &slug).await?;
        let mut conn = state.pool.get().await?;
        Ok::<_, AppError>(history::list(&mut conn, article, before, i64::from(limit)).await?)
    })
    .await?;
    let next_cursor = next_cursor(more, rows.last(), |row| format!("r{}", row.seq));
    super::private_json(
        actix_web::http::StatusCode::OK,
        &RevisionPage {
            items: rows.iter().map(history::RevisionRow::summary).collect(),
            next_cursor,
        },
    )
}

/// Get one revision with its snapshot (editor or admin).
///
/// The revision's summary with `snapshot`, the article as it stood after that write, and its
/// translations. `POST /v1/articles/{slug}/revisions/{id}/restore` writes the snapshot back
/// as a new revision. Answered `Cache-Control: private, no-store`.
#[utoipa::path(
    tag = "revisions",
    params(
        RevisionPath,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revision", body = Revision),
        HistoryProblems,
    )
)]
#[get("/articles/{slug}/revisions/{id}")]
pub async fn get_revision(
    state: web::Data<AppState>,
    _editor: Editor,
    RevisionPath { slug, id: revision_id }: RevisionPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let row = crate::db::deadline(async {
        let article = history_of(&state, &slug).await?;
        let mut conn = state.pool.get().await?;
        Ok::<_, AppError>(history::find(&mut conn, article, revision_id).await?)
    })
    .await?
    .ok_or_else(|| revision_not_found(&slug, revision_id))?;
    super::private_json(
        actix_web::http::StatusCode::OK,
        &Revision {
            summary: row.summary(),
            snapshot: row.snapshot,
            translations: row.translations,
        },
    )
}

/// Write a revision's snapshot back as the current article (a new revision).
///
/// Needs `If-Match` with the article's current ETag, or `*`. A deleted
/// article (`GET /v1/articles?deleted=true`) is re-created from any of its
/// revisions: 201, without `If-Match` (with one, 412: there is no current
/// version to match).
#[utoipa::path(
    tag = "revisions",
    params(
        RevisionPath,
        ("If-Match" = Option<String>, Header, description = "The article's current ETag, or `*`: required (428 without it) unless the article was deleted, which a restore re-creates without it (and 412 with it)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Restored; the stored article", body = Article, headers(("ETag" = String, description = "The new version"))),
        (status = 201, description = "A deleted article re-created; the stored article", body = Article, headers(("ETag" = String, description = "The new version"), ("Location" = String, description = "The article's URL"))),
        DeleteProblems,
    )
)]
#[post("/articles/{slug}/revisions/{id}/restore")]
pub async fn restore_revision(
    edit: Edit,
    RevisionPath { slug, id: revision_id }: RevisionPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let target = edit.on(&slug, crate::content::Resource::Article);
    let written = super::with_connection(&edit.state, async |conn| {
        Ok(write::restore(conn, target, revision_id).await?)
    })
    .await?;
    let location = format!("/v1/articles/{slug}");
    super::parts::written(
        &edit.state,
        &slug,
        super::parts::Part::Article(None),
        &written,
        Some(location),
    )
}

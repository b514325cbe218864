//! `/v1/releases`: changes staged to go live together (API.md §10).

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, ETAG, LOCATION};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::paths::{ReleaseArticlePath, ReleasePath, ReleaseSectionPath, release_not_found};
use super::{NoParams, ProblemResponses, Query, read_json};
use crate::AppState;
use crate::auth::Editor;
use crate::content::error::ReleaseConflict;
use crate::content::{Resource, Version, input, store, write};
use crate::db::schema::{release_items, releases};
use crate::error::{AppError, Code, FieldError, Problem};
use crate::request_id::RequestId;

/// Longest release title.
pub const MAX_TITLE_CHARS: usize = 200;

/// A release as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = releases)]
pub struct ReleaseRow {
    pub id: Uuid,
    pub title: String,
    pub publish_at: Option<DateTime<Utc>>,
    pub state: String,
    pub conflicts: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// One staged change as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = release_items)]
pub struct ItemRow {
    pub id: Uuid,
    pub release_id: Uuid,
    pub slug: String,
    pub kind: Option<String>,
    pub body: Value,
    pub base_version: Option<i64>,
    pub staged_at: DateTime<Utc>,
}

/// What an editor sets on a release.
#[derive(Debug, Clone, ToSchema)]
#[expect(dead_code, reason = "documents the body, which is read field by field")]
pub struct ReleaseWrite {
    /// What the release is for.
    #[schema(example = "Spring menu", max_length = 200)]
    title: String,
    /// When it publishes by itself (RFC 3339, in the future), or `null` to publish by hand.
    #[schema(example = "2999-12-01T08:00:00Z")]
    publish_at: Option<DateTime<Utc>>,
}

/// Where a release stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseState {
    /// Gathering changes; published by hand.
    Open,
    /// Publishes by itself at `publish_at`.
    Scheduled,
    /// Its changes are live.
    Published,
    /// Its scheduled publication met conflicts; nothing was applied.
    Failed,
}

/// One staged change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StagedItem {
    /// The article's slug.
    #[schema(example = "tomato-soup")]
    pub slug: String,
    /// The section's kind, or `null` for a whole article.
    #[schema(example = json!(null))]
    pub kind: Option<String>,
    /// The live version it was staged on (`null`: it did not exist).
    #[schema(example = 3)]
    pub base_version: Option<i64>,
    /// When it was staged.
    #[schema(example = "2026-11-25T10:00:00Z")]
    pub staged_at: DateTime<Utc>,
}

/// A release.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Release {
    /// The release's id.
    #[schema(example = "3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e")]
    pub id: Uuid,
    /// What it is for.
    #[schema(example = "Spring menu")]
    pub title: String,
    /// When it publishes by itself, if scheduled.
    #[schema(example = json!(null))]
    pub publish_at: Option<DateTime<Utc>>,
    /// Where it stands.
    pub state: ReleaseState,
    /// Why it failed (empty unless `failed`).
    pub conflicts: Vec<ReleaseConflict>,
    /// The staged changes.
    pub items: Vec<StagedItem>,
    /// When it was created.
    #[schema(example = "2026-11-25T10:00:00Z")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    #[schema(example = "2026-11-25T10:00:00Z")]
    pub updated_at: DateTime<Utc>,
    /// When it was published, if it was.
    #[schema(example = json!(null))]
    pub published_at: Option<DateTime<Utc>>,
}

/// Every release, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseList {
    /// The releases.
    pub items: Vec<Release>,
}

/// The failures of the release routes.
#[derive(utoipa::IntoResponses)]
pub enum ReleaseProblems {
    /// Malformed JSON, or an unknown query parameter.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No token, or an unknown, expired or revoked one.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token is not an editor's or admin's.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such release (`release_not_found`), or a malformed slug or kind.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The release is published or failed (`release_closed`), or, when publishing, staged
    /// changes moved live since they were staged (`release_conflict`, listing `conflicts`)
    /// or one cannot be applied as it stands (`release_unappliable`, e.g. a section of an
    /// article that does not exist).
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// `If-Match` does not name the release's current version (when staging: the live
    /// article's or section's, which the staged copy was made from).
    #[response(status = 412, content_type = "application/problem+json")]
    PreconditionFailed(Problem),
    /// The body is larger than allowed.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// The body breaks the rules; `errors` lists every problem.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// `If-Match` is missing.
    #[response(status = 428, content_type = "application/problem+json")]
    PreconditionRequired(Problem),
    /// Too many writes by this token; see `Retry-After`.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Problem),
}

fn problem(pointer: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// Reads a [`ReleaseWrite`], reporting every problem at once.
fn parse_write(body: &Value, now: DateTime<Utc>) -> Result<(String, Option<DateTime<Utc>>), AppError> {
    let Some(object) = body.as_object() else {
        return Err(AppError::Validation(vec![problem("", "must be a JSON object")]));
    };
    let mut errors = Vec::new();
    for name in object.keys() {
        if !["title", "publish_at"].contains(&name.as_str()) {
            errors.push(problem(
                &format!("/{}", name.replace('~', "~0").replace('/', "~1")),
                "unknown field",
            ));
        }
    }
    let title = match object.get("title") {
        Some(Value::String(text)) => {
            let text = text.trim();
            if text.is_empty() {
                errors.push(problem("/title", "must not be empty"));
            } else if text.chars().count() > MAX_TITLE_CHARS {
                errors.push(problem(
                    "/title",
                    format!("must be at most {MAX_TITLE_CHARS} characters"),
                ));
            } else if text.chars().any(char::is_control) {
                errors.push(problem("/title", "must not contain control characters"));
            }
            text.to_owned()
        }
        None => {
            errors.push(problem("/title", "is required"));
            String::new()
        }
        Some(_) => {
            errors.push(problem("/title", "must be a string"));
            String::new()
        }
    };
    let publish_at = match object.get("publish_at") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match DateTime::parse_from_rfc3339(text) {
            Ok(at) if at.with_timezone(&Utc) <= now => {
                errors.push(problem("/publish_at", "must be in the future"));
                None
            }
            Ok(at) => Some(at.with_timezone(&Utc)),
            Err(_) => {
                errors.push(problem("/publish_at", "must be an RFC 3339 date-time, or null"));
                None
            }
        },
        Some(_) => {
            errors.push(problem("/publish_at", "must be an RFC 3339 date-time, or null"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok((title, publish_at))
}

/// The release's entity tag.
fn release_etag(row: &ReleaseRow) -> String {
    super::etags::etag(
        Resource::Release,
        Version {
            id: row.id,
            version: row.version,
        },
    )
}

/// The state column's value as the API's.
pub fn state_of(state: &str) -> ReleaseState {
    match state {
        "scheduled" => ReleaseState::Scheduled,
        "published" => ReleaseState::Published,
        "failed" => ReleaseState::Failed,
        _ => ReleaseState::Open,
    }
}

/// The release's JSON, with its staged items.
pub async fn release_body(conn: &mut AsyncPgConnection, row: ReleaseRow) -> Result<Release, AppError> {
    let items = staged_items(conn, row.id).await?;
    Ok(Release {
        id: row.id,
        title: row.title,
        publish_at: row.publish_at,
        state: state_of(&row.state),
        conflicts: serde_json::from_value(row.conflicts).unwrap_or_default(),
        items: items
            .into_iter()
            .map(|item| StagedItem {
                slug: item.slug,
                kind: item.kind,
                base_version: item.base_version,
                staged_at: item.staged_at,
            })
            .collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        published_at: row.published_at,
    })
}

/// The staged changes of a release, in staging order.
pub async fn staged_items(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Vec<ItemRow>> {
    release_items::table
        .filter(release_items::release_id.eq(id))
        .order((release_items::staged_at.asc(), release_items::id.asc()))
        .select(ItemRow::as_select())
        .load(conn)
        .await
}

/// The release, or its 404.
pub async fn find_release(conn: &mut AsyncPgConnection, id: Uuid) -> Result<ReleaseRow, AppError> {
    releases::table
        .find(id)
        .select(ReleaseRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| release_not_found(id))
}

/// Checks `If-Match` against the release.
fn check_precondition(req: &HttpRequest, row: &ReleaseRow) -> Result<(), AppError> {
    super::etags::precondition(req, Resource::Release).check(
        Resource::Release,
        Version {
            id: row.id,
            version: row.version,
        },
    )?;
    Ok(())
}

/// 409 unless the release can still change.
fn check_open(row: &ReleaseRow) -> Result<(), AppError> {
    if row.state == "published" || row.state == "failed" {
        return Err(AppError::Conflict {
            code: Code::ReleaseClosed,
            detail: format!("The release {} is {} and can no longer change.", row.id, row.state),
        });
    }
    Ok(())
}

async fn respond(
    conn: &mut AsyncPgConnection,
    status: StatusCode,
    row: ReleaseRow,
    location: bool,
) -> Result<HttpResponse, AppError> {
    let etag = release_etag(&row);
    let id = row.id;
    let body = release_body(conn, row).await?;
    let mut response = HttpResponse::build(status);
    response
        .insert_header((CACHE_CONTROL, "private, no-store"))
        .insert_header((ETAG, etag));
    if location {
        response.insert_header((LOCATION, format!("/v1/releases/{id}")));
    }
    Ok(response
        .content_type("application/json")
        .body(serde_json::to_vec(&body)?))
}

/// Create a release (editor).
///
/// With a future `publish_at` the release is `scheduled` and publishes by
/// itself; without one it is `open` until published by hand.
#[utoipa::path(
    tag = "releases",
    request_body(content = ReleaseWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Release,
            headers(("ETag" = String, description = "The release's version"), ("Location" = String, description = "The release's URL"))),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[post("/releases")]
pub async fn create_release(
    state: web::Data<AppState>,
    req: HttpRequest,
    _editor: Editor,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_json(&req, body).await?;
    let (title, publish_at) = parse_write(&body, state.clock.now())?;
    let mut conn = state.pool.get().await?;
    let row = diesel::insert_into(releases::table)
        .values((
            releases::id.eq(Uuid::new_v4()),
            releases::title.eq(&title),
            releases::publish_at.eq(publish_at),
            releases::state.eq(if publish_at.is_some() { "scheduled" } else { "open" }),
        ))
        .returning(ReleaseRow::as_returning())
        .get_result(&mut conn)
        .await?;
    respond(&mut conn, StatusCode::CREATED, row, true).await
}

/// List releases, newest first (editor).
#[utoipa::path(
    tag = "releases",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every release", body = ReleaseList),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[get("/releases")]
pub async fn list_releases(
    state: web::Data<AppState>,
    _editor: Editor,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let rows: Vec<ReleaseRow> = releases::table
        .order((releases::created_at.desc(), releases::id.asc()))
        .select(ReleaseRow::as_select())
        .load(&mut conn)
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(release_body(&mut conn, row).await?);
    }
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "private, no-store"))
        .content_type("application/json")
        .body(serde_json::to_vec(&ReleaseList { items })?))
}

/// Read a release (editor).
#[utoipa::path(
    tag = "releases",
    params(ReleasePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The release", body = Release, headers(("ETag" = String, description = "The release's version"))),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[get("/releases/{id}")]
pub async fn get_release(
    state: web::Data<AppState>,
    _editor: Editor,
    ReleasePath { id }: ReleasePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let row = find_release(&mut conn, id).await?;
    respond(&mut conn, StatusCode::OK, row, false).await
}

/// Set a release's title and `publish_at` (editor; needs `If-Match`).
#[utoipa::path(
    tag = "releases",
    params(ReleasePath, ("If-Match" = String, Header, description = "The release's current ETag, or `*`")),
    request_body(content = ReleaseWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed", body = Release, headers(("ETag" = String, description = "The new version"))),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[put("/releases/{id}")]
pub async fn put_release(
    state: web::Data<AppState>,
    req: HttpRequest,
    _editor: Editor,
    ReleasePath { id }: ReleasePath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_json(&req, body).await?;
    // A malformed body is a 422 whatever the release's state, as in every write.
    let (title, publish_at) = parse_write(&body, state.clock.now())?;
    let mut conn = state.pool.get().await?;
    let current = find_release(&mut conn, id).await?;
    check_precondition(&req, &current)?;
    check_open(&current)?;
    let row = diesel::update(
        releases::table
            .find(id)
            .filter(releases::version.eq(current.version))
            .filter(releases::state.eq_any(["open", "scheduled"])),
    )
    .set((
        releases::title.eq(&title),
        releases::publish_at.eq(publish_at),
        releases::state.eq(if publish_at.is_some() { "scheduled" } else { "open" }),
        releases::version.eq(releases::version + 1),
        releases::updated_at.eq(Utc::now()),
    ))
    .returning(ReleaseRow::as_returning())
    .get_result(&mut conn)
    .await
    .optional()?;
    let Some(row) = row else {
        let now = find_release(&mut conn, id).await?;
        check_open(&now)?;
        return Err(crate::content::Error::PreconditionFailed {
            current: Some((
                Resource::Release,
                Version {
                    id,
                    version: now.version,
                },
            )),
        }
        .into());
    };
    respond(&mut conn, StatusCode::OK, row, false).await
}

/// Delete a release and what it stages (editor; needs `If-Match`).
#[utoipa::path(
    tag = "releases",
    params(ReleasePath, ("If-Match" = String, Header, description = "The release's current ETag, or `*`")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[delete("/releases/{id}")]
pub async fn delete_release(
    state: web::Data<AppState>,
    req: HttpRequest,
    _editor: Editor,
    ReleasePath { id }: ReleasePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let current = find_release(&mut conn, id).await?;
    check_precondition(&req, &current)?;
    let deleted = diesel::delete(releases::table.find(id).filter(releases::version.eq(current.version)))
        .execute(&mut conn)
        .await?;
    if deleted == 0 {
        return Err(crate::content::Error::PreconditionFailed { current: None }.into());
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Stores a staged change, replacing an earlier one of the same target, and
/// bumps the release (which the caller has found open).
async fn stage(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    slug: &str,
    kind: Option<&str>,
    body: Value,
    base_version: Option<i64>,
) -> Result<ReleaseRow, AppError> {
    let mut delete = diesel::delete(release_items::table)
        .filter(release_items::release_id.eq(id))
        .filter(release_items::slug.eq(slug))
        .into_boxed();
    delete = match kind {
        Some(kind) => delete.filter(release_items::kind.eq(kind)),
        None => delete.filter(release_items::kind.is_null()),
    };
    delete.execute(conn).await?;
    diesel::insert_into(release_items::table)
        .values((
            release_items::id.eq(Uuid::new_v4()),
            release_items::release_id.eq(id),
            release_items::slug.eq(slug),
            release_items::kind.eq(kind),
            release_items::body.eq(body),
            release_items::base_version.eq(base_version),
            release_items::staged_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    bump(conn, id).await
}

/// A new version of the release (its staged content changed).
async fn bump(conn: &mut AsyncPgConnection, id: Uuid) -> Result<ReleaseRow, AppError> {
    Ok(diesel::update(releases::table.find(id))
        .set((
            releases::version.eq(releases::version + 1),
            releases::updated_at.eq(Utc::now()),
        ))
        .returning(ReleaseRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Removes a staged change; 404 if nothing was staged there.
async fn unstage(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    slug: &str,
    kind: Option<&str>,
) -> Result<ReleaseRow, AppError> {
    let release = find_release(conn, id).await?;
    check_open(&release)?;
    let mut delete = diesel::delete(release_items::table)
        .filter(release_items::release_id.eq(id))
        .filter(release_items::slug.eq(slug))
        .into_boxed();
    delete = match kind {
        Some(kind) => delete.filter(release_items::kind.eq(kind)),
        None => delete.filter(release_items::kind.is_null()),
    };
    if delete.execute(conn).await? == 0 {
        return Err(AppError::not_found(
            Code::ReleaseNotFound,
            format!(
                "The release {id} stages nothing at {slug}{}.",
                kind.map(|k| format!("/{k}")).unwrap_or_default()
            ),
        ));
    }
    bump(conn, id).await
}

/// Stage a whole article, new or existing (editor).
///
/// Same body and validation as `PUT /v1/articles/{slug}`; needs no
/// `If-Match`: it records the live version it is based on. The live article
/// does not change. An `If-Match` with the live article's ETag says which
/// version the staged copy was made from: 412 if the article changed since
/// (or, with any `If-Match`, does not exist), so an out-of-date copy cannot
/// be staged over changes its author never saw. (The tag of a `?sections=`
/// selection names no whole article: it never matches.)
#[utoipa::path(
    tag = "releases",
    params(ReleaseArticlePath, ("If-Match" = Option<String>, Header, description = "Optional: the live article's ETag the staged copy is based on; 412 if it is no longer current")),
    request_body(content = crate::content::body::ArticleWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Staged; the release", body = Release, headers(("ETag" = String, description = "The release's new version"))),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[put("/releases/{id}/articles/{slug}")]
pub async fn stage_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    _editor: Editor,
    ReleaseArticlePath { id, slug }: ReleaseArticlePath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_json(&req, body).await?;
    let mut conn = state.pool.get().await?;
    // A closed release says so before any If-Match is weighed.
    check_open(&find_release(&mut conn, id).await?)?;
    let parsed = input::parse_article(&body, &slug).map_err(crate::content::Error::Invalid)?;
    let live = store::find_article(&mut conn, &slug, store::Visibility::All).await?;
    super::etags::precondition(&req, Resource::Article).check_if_given(
        Resource::Article,
        live.as_ref().map(|article| Version {
            id: article.id,
            version: article.version,
        }),
    )?;
    let row = stage(
        &mut conn,
        id,
        &slug,
        None,
        parsed.to_body(),
        live.map(|article| article.version),
    )
    .await?;
    respond(&mut conn, StatusCode::OK, row, false).await
}

/// Stage one section of an article (editor).
///
/// Same body and validation as `PUT /v1/articles/{slug}/sections/{kind}`.
/// An optional `If-Match` with the live section's ETag is checked as for a
/// staged article.
#[utoipa::path(
    tag = "releases",
    params(ReleaseSectionPath, ("If-Match" = Option<String>, Header, description = "Optional: the live section's ETag the staged copy is based on; 412 if it is no longer current")),
    request_body(content = crate::content::body::SectionWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Staged; the release", body = Release, headers(("ETag" = String, description = "The release's new version"))),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[put("/releases/{id}/articles/{slug}/sections/{kind}")]
pub async fn stage_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    _editor: Editor,
    ReleaseSectionPath { id, slug, kind }: ReleaseSectionPath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_json(&req, body).await?;
    let mut conn = state.pool.get().await?;
    // A closed release says so before any If-Match is weighed.
    check_open(&find_release(&mut conn, id).await?)?;
    let parsed = input::parse_section(&body, kind).map_err(crate::content::Error::Invalid)?;
    let live = match store::find_article(&mut conn, &slug, store::Visibility::All).await? {
        Some(article) => store::load_sections(&mut conn, article.id, Some(&[kind]))
            .await?
            .into_iter()
            .next()
            .map(|section| Version {
                id: section.row.id,
                version: section.row.version,
            }),
        None => None,
    };
    super::etags::precondition(&req, Resource::Section).check_if_given(Resource::Section, live)?;
    let base = live.map(|current| current.version);
    let row = stage(&mut conn, id, &slug, Some(kind.as_str()), parsed.to_body(), base).await?;
    respond(&mut conn, StatusCode::OK, row, false).await
}

/// Unstage a whole article (editor).
#[utoipa::path(
    tag = "releases",
    params(ReleaseArticlePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unstaged; the release", body = Release, headers(("ETag" = String, description = "The release's new version"))),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[delete("/releases/{id}/articles/{slug}")]
pub async fn unstage_article(
    state: web::Data<AppState>,
    _editor: Editor,
    ReleaseArticlePath { id, slug }: ReleaseArticlePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let row = unstage(&mut conn, id, &slug, None).await?;
    respond(&mut conn, StatusCode::OK, row, false).await
}

/// Unstage one section (editor).
#[utoipa::path(
    tag = "releases",
    params(ReleaseSectionPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unstaged; the release", body = Release, headers(("ETag" = String, description = "The release's new version"))),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[delete("/releases/{id}/articles/{slug}/sections/{kind}")]
pub async fn unstage_section(
    state: web::Data<AppState>,
    _editor: Editor,
    ReleaseSectionPath { id, slug, kind }: ReleaseSectionPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let row = unstage(&mut conn, id, &slug, Some(kind.as_str())).await?;
    respond(&mut conn, StatusCode::OK, row, false).await
}

/// Publish a release now (editor; needs `If-Match` of the release).
///
/// Applies every staged change in one transaction, each a revision by
/// `release:<id>`, then answers the `published` release. If any staged
/// article or section changed live since it was staged: 409
/// `release_conflict` listing them, nothing applied, the release unchanged.
/// A staged change that cannot be applied as it stands (a section of an
/// article that does not exist): 409 `release_unappliable`, naming it, the
/// same way.
#[utoipa::path(
    tag = "releases",
    params(ReleasePath, ("If-Match" = String, Header, description = "The release's current ETag, or `*`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Published; the release", body = Release, headers(("ETag" = String, description = "The release's new version"))),
        ReleaseProblems,
        ProblemResponses,
    )
)]
#[post("/releases/{id}/publish")]
pub async fn publish_release(
    state: web::Data<AppState>,
    req: HttpRequest,
    editor: Editor,
    request_id: RequestId,
    ReleasePath { id }: ReleasePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let actor = super::articles::actor(&state, editor, request_id);
    let slugs = write::publish_release(
        &mut conn,
        id,
        super::etags::precondition(&req, Resource::Release),
        actor,
    )
    .await?;
    for slug in &slugs {
        state.cache.invalidate(slug);
    }
    let row = find_release(&mut conn, id).await?;
    respond(&mut conn, StatusCode::OK, row, false).await
}

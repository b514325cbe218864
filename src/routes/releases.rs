//! `/v1/releases`: changes staged to go live together (API.md §10).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::articles::{Edit, LocaleQuery};
use super::paths::{ReleaseArticlePath, ReleasePath, ReleaseSectionPath};
use super::{NoParams, Query, WriteProblems, read_json};
use crate::AppState;
use crate::auth::Editor;
use crate::content::error::ReleaseConflict;
use crate::content::releases::{self, StoredRelease, Target, state};
use crate::content::{Resource, write};
use crate::error::AppError;

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
    /// The locale of a staged translation (its texts only); `null`: the
    /// default locale (texts and structure).
    #[schema(example = json!(null))]
    pub locale: Option<String>,
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

impl From<StoredRelease> for Release {
    fn from(StoredRelease { row, items }: StoredRelease) -> Release {
        Release {
            id: row.id,
            title: row.title,
            publish_at: row.publish_at,
            state: match row.state.as_str() {
                state::SCHEDULED => ReleaseState::Scheduled,
                state::PUBLISHED => ReleaseState::Published,
                state::FAILED => ReleaseState::Failed,
                _ => ReleaseState::Open,
            },
            conflicts: serde_json::from_value(row.conflicts).unwrap_or_default(),
            items: items
                .into_iter()
                .map(|item| StagedItem {
                    slug: item.slug,
                    kind: item.kind,
                    locale: item.locale,
                    base_version: item.base_version,
                    staged_at: item.staged_at,
                })
                .collect(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            published_at: row.published_at,
        }
    }
}

/// A release, never cached, with its ETag (and its `Location` when created).
fn respond(status: StatusCode, release: StoredRelease) -> Result<HttpResponse, AppError> {
    let etag = super::etags::etag(Resource::Release, release.row.version());
    let id = release.row.id;
    super::private_resource(
        status,
        Some(etag),
        || format!("/v1/releases/{id}"),
        &Release::from(release),
    )
}

/// Create a release (editor).
///
/// With a future `publish_at` the release is `scheduled` and publishes by
/// itself; without one it is `open` until published by hand.
#[utoipa::path(
    tag = "releases",
    request_body(content = releases::ReleaseWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Release,
            headers(("ETag" = String, description = "The release's version"), ("Location" = String, description = "The release's URL"))),
        WriteProblems,
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
    let input = releases::parse_write(read_json(&req, body).await?, state.clock.now())?;
    respond(StatusCode::CREATED, releases::create(&state.pool, input).await?)
}

/// List releases, newest first (editor).
///
/// Every release with its state (`open`, `scheduled`, `published`, or `failed` with its
/// conflicts), its `publish_at` and the changes it stages.
#[utoipa::path(
    tag = "releases",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every release", body = ReleaseList),
        WriteProblems,
    )
)]
#[get("/releases")]
pub async fn list_releases(
    state: web::Data<AppState>,
    _editor: Editor,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let items = releases::list(&state.pool).await?;
    super::private_json(
        StatusCode::OK,
        &ReleaseList {
            items: items.into_iter().map(Release::from).collect(),
        },
    )
}

/// Read a release (editor).
///
/// The release's title, state, `publish_at`, conflicts (when it failed) and staged changes,
/// with the ETag that `PUT`, `DELETE` and `publish` need in `If-Match`. Preview a staged
/// article with `GET /v1/articles/{slug}?release={id}`.
#[utoipa::path(
    tag = "releases",
    params(ReleasePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The release", body = Release, headers(("ETag" = String, description = "The release's version"))),
        WriteProblems,
    )
)]
#[get("/releases/{id}")]
pub async fn get_release(
    state: web::Data<AppState>,
    _editor: Editor,
    ReleasePath { id }: ReleasePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    respond(StatusCode::OK, releases::find(&state.pool, id).await?)
}

/// Set a release's title and `publish_at` (editor; needs `If-Match`).
///
/// A `publish_at` makes the release `scheduled`: it publishes by itself within a second of
/// that time, exactly once across nodes; `null` makes it `open` again. A `publish_at` already
/// past is a 422. `If-Match` is the release's current ETag or `*`.
#[utoipa::path(
    tag = "releases",
    params(ReleasePath, ("If-Match" = String, Header, description = "The release's current ETag, or `*`")),
    request_body(content = releases::ReleaseWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed", body = Release, headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
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
    // A malformed body is a 422 whatever the release's state, as in every write.
    let input = releases::parse_write(read_json(&req, body).await?, state.clock.now())?;
    let precondition = super::etags::precondition(&req, Resource::Release);
    respond(
        StatusCode::OK,
        releases::update(&state.pool, id, precondition, input).await?,
    )
}

/// Delete a release and what it stages (editor; needs `If-Match`).
///
/// Drops the release with every staged copy; the live articles are untouched. `If-Match` is
/// the release's current ETag or `*`.
#[utoipa::path(
    tag = "releases",
    params(ReleasePath, ("If-Match" = String, Header, description = "The release's current ETag, or `*`")),
    security(("bearer" = [])),
    responses(super::Deleted<WriteProblems>),
)]
#[delete("/releases/{id}")]
pub async fn delete_release(
    state: web::Data<AppState>,
    req: HttpRequest,
    _editor: Editor,
    ReleasePath { id }: ReleasePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    releases::delete(&state.pool, id, super::etags::precondition(&req, Resource::Release)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Stages the request's body for `target` in the release `id`, in the
/// locale `?locale=` names (a translation: its texts only).
async fn stage(
    edit: &Edit,
    id: Uuid,
    target: Target<'_>,
    locale: Option<&str>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let choice = super::parts::write_locale(&edit.state, &edit.req, locale).await?;
    let target = target.in_locale(choice.as_ref().map(|choice| choice.code.as_str()));
    let body = read_json(&edit.req, body).await?;
    let if_match = edit.precondition(target.resource());
    respond(
        StatusCode::OK,
        releases::stage(&edit.state.pool, id, target, &body, if_match).await?,
    )
}

/// Unstages what the release `id` stages for `target` in the locale `?locale=` names.
async fn unstage(edit: &Edit, id: Uuid, target: Target<'_>, locale: Option<&str>) -> Result<HttpResponse, AppError> {
    let choice = super::parts::write_locale(&edit.state, &edit.req, locale).await?;
    let target = target.in_locale(choice.as_ref().map(|choice| choice.code.as_str()));
    respond(StatusCode::OK, releases::unstage(&edit.state.pool, id, target).await?)
}

/// Stage a whole article, new or existing (editor).
///
/// Same body and validation as `PUT /v1/articles/{slug}`; needs no
/// `If-Match`: it records the live version it is based on. The live article
/// does not change. An `If-Match` with the live article's ETag says which
/// version the staged copy was made from: 412 if the article changed since
/// (or, with any `If-Match`, does not exist), so an out-of-date copy cannot
/// be staged over changes its author never saw. (The tag of a `?sections=`
/// selection names no whole article: it never matches.) A release stages at
/// most 200 changes (409 `release_too_large`); while it is being published,
/// staging is 409 `release_closed`.
///
/// With `?locale=` (not the default locale) it stages a translation: the
/// body's texts in that locale, checked as `PUT …?locale=` checks them (no
/// structure change), published before the release's default-locale changes
/// (which may change structure for every locale).
/// A preview shows the default locale only.
#[utoipa::path(
    tag = "releases",
    params(ReleaseArticlePath, LocaleQuery, ("If-Match" = Option<String>, Header, description = "Optional: the live article's ETag the staged copy is based on; 412 if it is no longer current")),
    request_body(content = crate::content::body::ArticleWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Staged; the release", body = Release, headers(("ETag" = String, description = "The release's new version"))),
        WriteProblems,
    )
)]
#[put("/releases/{id}/articles/{slug}")]
pub async fn stage_article(
    edit: Edit,
    ReleaseArticlePath { id, slug }: ReleaseArticlePath,
    query: Query<LocaleQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    stage(&edit, id, Target::article(&slug), query.locale.as_deref(), body).await
}

/// Stage one section of an article (editor).
///
/// Same body and validation as `PUT /v1/articles/{slug}/sections/{kind}`.
/// An optional `If-Match` with the live section's ETag is checked as for a
/// staged article, and the same limits hold; `?locale=` stages a translation.
#[utoipa::path(
    tag = "releases",
    params(ReleaseSectionPath, LocaleQuery, ("If-Match" = Option<String>, Header, description = "Optional: the live section's ETag the staged copy is based on; 412 if it is no longer current")),
    request_body(content = crate::content::body::SectionWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Staged; the release", body = Release, headers(("ETag" = String, description = "The release's new version"))),
        WriteProblems,
    )
)]
#[put("/releases/{id}/articles/{slug}/sections/{kind}")]
pub async fn stage_section(
    edit: Edit,
    ReleaseSectionPath { id, slug, kind }: ReleaseSectionPath,
    query: Query<LocaleQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    stage(&edit, id, Target::section(&slug, kind), query.locale.as_deref(), body).await
}

/// Unstage a whole article (editor), in the locale `?locale=` names.
///
/// Drops the staged copy of the article (in the locale `?locale=` names, the default if none)
/// from the release; the live article is untouched. The answer is the release with its new
/// ETag.
#[utoipa::path(
    tag = "releases",
    params(ReleaseArticlePath, LocaleQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unstaged; the release", body = Release, headers(("ETag" = String, description = "The release's new version"))),
        WriteProblems,
    )
)]
#[delete("/releases/{id}/articles/{slug}")]
pub async fn unstage_article(
    edit: Edit,
    ReleaseArticlePath { id, slug }: ReleaseArticlePath,
    query: Query<LocaleQuery>,
) -> Result<HttpResponse, AppError> {
    unstage(&edit, id, Target::article(&slug), query.locale.as_deref()).await
}

/// Unstage one section (editor), in the locale `?locale=` names.
///
/// Drops the staged copy of the section (in the locale `?locale=` names, the default if none)
/// from the release; the live section is untouched. The answer is the release with its new
/// ETag.
#[utoipa::path(
    tag = "releases",
    params(ReleaseSectionPath, LocaleQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unstaged; the release", body = Release, headers(("ETag" = String, description = "The release's new version"))),
        WriteProblems,
    )
)]
#[delete("/releases/{id}/articles/{slug}/sections/{kind}")]
pub async fn unstage_section(
    edit: Edit,
    ReleaseSectionPath { id, slug, kind }: ReleaseSectionPath,
    query: Query<LocaleQuery>,
) -> Result<HttpResponse, AppError> {
    unstage(&edit, id, Target::section(&slug, kind), query.locale.as_deref()).await
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
        WriteProblems,
    )
)]
#[post("/releases/{id}/publish")]
pub async fn publish_release(
    edit: Edit,
    ReleasePath { id }: ReleasePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let precondition = edit.precondition(Resource::Release);
    let (slugs, release) = write::publish_release(&edit.state.pool, id, precondition, edit.actor).await?;
    for slug in &slugs {
        edit.state.cache.invalidate(slug);
    }
    respond(StatusCode::OK, release)
}

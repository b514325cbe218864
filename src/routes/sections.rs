//! `/v1/articles/{slug}/sections…`: an article's sections and their items.

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use uuid::Uuid;

use super::articles::{actor, checked_slug, load_article};
use super::caching::{Representation, cached};
use super::{
    DeleteProblems, Editor, NoParams, ProblemResponses, Query, ReadProblems, Reader, WriteProblems, if_match,
    read_json, surrogate_keys,
};
use crate::AppState;
use crate::cache::RepresentationCache;
use crate::content::SectionKind;
use crate::content::body::{ItemWrite, SectionWrite};
use crate::content::model::{Item, Section};
use crate::content::store::{ItemRow, StoredSection};
use crate::content::{input, write};
use crate::error::AppError;
use crate::request_id::RequestId;

/// Parses the `{kind}` path segment.
pub fn parse_kind(name: &str) -> Result<SectionKind, AppError> {
    SectionKind::parse(name).ok_or_else(|| {
        let known = SectionKind::ALL.map(SectionKind::as_str).join(", ");
        AppError::not_found(
            "unknown_section_kind",
            format!("There is no section kind {name:?}; known kinds: {known}."),
        )
    })
}

fn section_not_found(slug: &str, kind: SectionKind) -> AppError {
    AppError::not_found(
        "section_not_found",
        format!("The article {slug:?} has no {kind} section."),
    )
}

/// List an article's sections, in order.
#[utoipa::path(
    tag = "sections",
    params(("slug" = String, Path, description = "The article's slug", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100, example = "explore-micro-needling-for-flawless-skin-today")),
    responses(
        (status = 200, description = "The sections in order", body = Vec<Section>,
            headers(("ETag" = String, description = "Strong validator; changes whenever any section changes"))),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 404, description = "No such article", body = crate::error::Problem, content_type = "application/problem+json"),
        ReadProblems,
        ProblemResponses,
    )
)]
#[get("/articles/{slug}/sections")]
pub async fn list_sections(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: Reader,
    slug: web::Path<String>,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let slug = checked_slug(&req, slug.into_inner())?;
    let key = format!("sections/{slug}");
    cached(
        &state,
        &req,
        &reader,
        RepresentationCache::article_group(&slug),
        key,
        || async {
            let (row, sections) = load_article(&state, &req, &reader, slug.clone(), None).await?;
            let keys = surrogate_keys(row.id, sections.iter().map(|section| section.row.id));
            let body: Vec<Section> = sections
                .iter()
                .map(StoredSection::to_api)
                .collect::<diesel::QueryResult<_>>()?;
            let etag = format!("\"ss.{}.{}\"", row.id.simple(), row.version);
            Ok(Representation::json(&body, etag, Some(row.updated_at), keys)?)
        },
    )
    .await
}

/// Get one section of an article.
#[utoipa::path(
    tag = "sections",
    params(
        ("slug" = String, Path, description = "The article's slug", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100, example = "explore-micro-needling-for-flawless-skin-today"),
        ("kind" = SectionKind, Path, description = "The section's kind"),
    ),
    responses(
        (status = 200, description = "The section", body = Section,
            headers(
                ("ETag" = String, description = "Strong validator; changes whenever the section or its items change"),
                ("Last-Modified" = String, description = "When the section last changed"),
            )),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 404, description = "No such article, kind, or section", body = crate::error::Problem, content_type = "application/problem+json"),
        ReadProblems,
        ProblemResponses,
    )
)]
#[get("/articles/{slug}/sections/{kind}")]
pub async fn get_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: Reader,
    path: web::Path<(String, String)>,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let (slug, kind) = path.into_inner();
    let kind = parse_kind(&kind)?;
    let slug = checked_slug(&req, slug)?;
    let key = format!("section/{slug}/{kind}");
    cached(
        &state,
        &req,
        &reader,
        RepresentationCache::article_group(&slug),
        key,
        || async {
            let (row, sections) = load_article(&state, &req, &reader, slug.clone(), Some(vec![kind])).await?;
            let section = sections.first().ok_or_else(|| section_not_found(&slug, kind))?;
            section_representation(row.id, section)
        },
    )
    .await
}

/// Get one item of a section.
#[utoipa::path(
    tag = "sections",
    params(
        ("slug" = String, Path, description = "The article's slug", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100, example = "explore-micro-needling-for-flawless-skin-today"),
        ("kind" = SectionKind, Path, description = "The section's kind"),
        ("id" = Uuid, Path, description = "The item's id"),
    ),
    responses(
        (status = 200, description = "The item, in the shape of its section's kind", body = Item,
            headers(("ETag" = String, description = "Strong validator; changes whenever the item's section changes"))),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 404, description = "No such article, kind, section or item", body = crate::error::Problem, content_type = "application/problem+json"),
        ReadProblems,
        ProblemResponses,
    )
)]
#[get("/articles/{slug}/sections/{kind}/items/{id}")]
pub async fn get_item(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: Reader,
    path: web::Path<(String, String, String)>,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let (slug, kind, id) = path.into_inner();
    let kind = parse_kind(&kind)?;
    let slug = checked_slug(&req, slug)?;
    let item_not_found = || {
        AppError::not_found(
            "item_not_found",
            format!("The {kind} section of {slug:?} has no item {id:?}."),
        )
    };
    let item_id = Uuid::try_parse(&id).map_err(|_| item_not_found())?;
    let key = format!("item/{slug}/{kind}/{item_id}");
    cached(
        &state,
        &req,
        &reader,
        RepresentationCache::article_group(&slug),
        key,
        || async {
            let (row, sections) = load_article(&state, &req, &reader, slug.clone(), Some(vec![kind])).await?;
            let section = sections.first().ok_or_else(|| section_not_found(&slug, kind))?;
            let item = section
                .items
                .iter()
                .find(|item| item.id == item_id)
                .ok_or_else(item_not_found)?;
            item_representation(row.id, section, item)
        },
    )
    .await
}

/// A section as a response body with validators.
fn section_representation(article_id: Uuid, section: &StoredSection) -> Result<Representation, AppError> {
    Ok(Representation::json(
        &section.to_api()?,
        write::section_etag(section.row.id, section.row.version),
        Some(section.row.updated_at),
        surrogate_keys(article_id, [section.row.id]),
    )?)
}

/// An item as a response body with validators.
fn item_representation(article_id: Uuid, section: &StoredSection, item: &ItemRow) -> Result<Representation, AppError> {
    Ok(Representation::json(
        &item.to_api()?,
        write::item_etag(item.id, section.row.version),
        Some(section.row.updated_at),
        surrogate_keys(article_id, [section.row.id]),
    )?)
}

/// Create or replace one section.
///
/// Creating (the article has no section of this kind) needs no `If-Match`;
/// the section goes last. Replacing needs the section's current ETag, or `*`.
/// Items carrying the `id` of an item of this section keep it; items without
/// `id` are new; items left out are deleted; array order is the new order.
#[utoipa::path(
    tag = "sections",
    params(
        ("slug" = String, Path, description = "The article's slug", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100, example = "explore-micro-needling-for-flawless-skin-today"),
        ("kind" = SectionKind, Path, description = "The section's kind; the body's `kind` must match"),
        ("If-Match" = Option<String>, Header, description = "The section's current ETag, or `*`; required to replace, forbidden to create"),
    ),
    request_body(content = SectionWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced; the stored section", body = Section, headers(("ETag" = String, description = "The new version"))),
        (status = 201, description = "Created; the stored section", body = Section,
            headers(("ETag" = String, description = "The new version"), ("Location" = String, description = "The section's URL"))),
        WriteProblems,
        ProblemResponses,
    )
)]
#[put("/articles/{slug}/sections/{kind}")]
pub async fn put_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    editor: Editor,
    request_id: RequestId,
    path: web::Path<(String, String)>,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (slug, kind) = path.into_inner();
    let kind = parse_kind(&kind)?;
    let slug = checked_slug(&req, slug)?;
    let body = read_json(&req, body).await?;
    let input = input::parse_section(&body, kind).map_err(AppError::Validation)?;
    let mut conn = state.pool.get().await?;
    let written = write::put_section(
        &mut conn,
        &slug,
        input,
        if_match(&req),
        actor(&state, editor, request_id),
    )
    .await?;
    state.cache.invalidate(&slug);
    let section = written.section(kind)?;
    let representation = section_representation(written.article.id, section)?;
    Ok(super::written(
        representation,
        written.created.then(|| format!("/v1/articles/{slug}/sections/{kind}")),
    ))
}

/// Delete one section; later sections move up one place. Needs `If-Match`.
#[utoipa::path(
    tag = "sections",
    params(
        ("slug" = String, Path, description = "The article's slug", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100, example = "explore-micro-needling-for-flawless-skin-today"),
        ("kind" = SectionKind, Path, description = "The section's kind"),
        ("If-Match" = String, Header, description = "The section's current ETag, or `*`"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        DeleteProblems,
        ProblemResponses,
    )
)]
#[delete("/articles/{slug}/sections/{kind}")]
pub async fn delete_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    editor: Editor,
    request_id: RequestId,
    path: web::Path<(String, String)>,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let (slug, kind) = path.into_inner();
    let kind = parse_kind(&kind)?;
    let slug = checked_slug(&req, slug)?;
    let mut conn = state.pool.get().await?;
    write::delete_section(
        &mut conn,
        &slug,
        kind,
        if_match(&req),
        actor(&state, editor, request_id),
    )
    .await?;
    state.cache.invalidate(&slug);
    Ok(HttpResponse::NoContent()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// Replace one item of a section. Needs the item's current ETag in `If-Match`, or `*`.
#[utoipa::path(
    tag = "sections",
    params(
        ("slug" = String, Path, description = "The article's slug", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100, example = "explore-micro-needling-for-flawless-skin-today"),
        ("kind" = SectionKind, Path, description = "The section's kind"),
        ("id" = Uuid, Path, description = "The item's id"),
        ("If-Match" = String, Header, description = "The item's current ETag, or `*`"),
    ),
    request_body(content = ItemWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced; the stored item", body = Item, headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        ProblemResponses,
    )
)]
#[put("/articles/{slug}/sections/{kind}/items/{id}")]
pub async fn put_item(
    state: web::Data<AppState>,
    req: HttpRequest,
    editor: Editor,
    request_id: RequestId,
    path: web::Path<(String, String, String)>,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (slug, kind, id) = path.into_inner();
    let kind = parse_kind(&kind)?;
    let slug = checked_slug(&req, slug)?;
    let item_id = Uuid::try_parse(&id).map_err(|_| {
        AppError::not_found(
            "item_not_found",
            format!("The {kind} section of {slug:?} has no item {id:?}."),
        )
    })?;
    let shape = kind
        .item_shape()
        .ok_or_else(|| AppError::not_found("item_not_found", format!("A {kind} section has no items.")))?;
    let body = read_json(&req, body).await?;
    let input = input::parse_item(&body, kind, shape, item_id).map_err(AppError::Validation)?;
    let mut conn = state.pool.get().await?;
    let written = write::put_item(
        &mut conn,
        &slug,
        kind,
        item_id,
        input,
        if_match(&req),
        actor(&state, editor, request_id),
    )
    .await?;
    state.cache.invalidate(&slug);
    let section = written.section(kind)?;
    let item = section
        .items
        .iter()
        .find(|item| item.id == item_id)
        .ok_or_else(|| AppError::Internal("the written item is missing".to_owned()))?;
    Ok(super::written(
        item_representation(written.article.id, section, item)?,
        None,
    ))
}

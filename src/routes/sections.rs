//! `/v1/articles/{slug}/sections…`: an article's sections and their items.

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use uuid::Uuid;

use super::articles::{actor, load_article};
use super::caching::{Representation, cached};
use super::etags::{etag, section_list_etag};
use super::paths::{ArticlePath, ItemPath, SectionPath, item_not_found, section_not_found};
use super::{
    DeleteProblems, Editor, NoParams, ProblemResponses, Query, ReadProblems, Reader, WriteProblems, read_json,
    surrogate_keys,
};
use crate::AppState;
use crate::cache::RepresentationCache;
use crate::content::body::{ItemWrite, SectionWrite};
use crate::content::model::{Item, Section};
use crate::content::store::{ItemRow, StoredSection};
use crate::content::{Resource, Version, input, write};
use crate::error::AppError;
use crate::request_id::RequestId;

/// List an article's sections, in order.
#[utoipa::path(
    tag = "sections",
    params(ArticlePath),
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
    ArticlePath { slug }: ArticlePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let key = format!("sections/{slug}");
    cached(
        &state,
        &req,
        &reader,
        RepresentationCache::article_group(&slug),
        key,
        || async {
            let (row, sections) = load_article(&state, &reader, &slug, None).await?;
            let keys = surrogate_keys(row.id, sections.iter().map(|section| section.row.id));
            let body: Vec<Section> = sections
                .iter()
                .map(StoredSection::to_api)
                .collect::<diesel::QueryResult<_>>()?;
            let etag = section_list_etag(row.version());
            Ok(Representation::json(&body, etag, Some(row.updated_at), keys)?)
        },
    )
    .await
}

/// Get one section of an article.
#[utoipa::path(
    tag = "sections",
    params(
        SectionPath,
        super::articles::PreviewQuery,
    ),
    responses(
        (status = 200, description = "The section", body = Section,
            headers(
                ("ETag" = String, description = "Strong validator; changes whenever the section or its items change"),
                ("Last-Modified" = String, description = "When the section last changed"),
            )),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 400, description = "A malformed or unknown query parameter (`release` given twice, say)", body = crate::error::Problem, content_type = "application/problem+json"),
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
    request_id: crate::request_id::RequestId,
    SectionPath { slug, kind }: SectionPath,
    query: Query<super::articles::PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    if let Some(release) = query.release.as_deref() {
        let (row, sections) = super::articles::preview(&state, &reader, release, &slug, request_id).await?;
        let section = sections
            .iter()
            .find(|section| section.row.kind == kind.as_str())
            .ok_or_else(|| section_not_found(&slug, kind))?;
        let api = section.to_api()?;
        let bytes = serde_json::to_vec(&api)?;
        let representation = Representation::json(
            &api,
            super::caching::etag_of("p", &bytes),
            Some(section.row.updated_at),
            surrogate_keys(row.id, [section.row.id]),
        )?;
        return Ok(super::caching::respond(
            &req,
            &representation,
            &state.cache_policy,
            true,
        ));
    }
    let key = format!("section/{slug}/{kind}");
    cached(
        &state,
        &req,
        &reader,
        RepresentationCache::article_group(&slug),
        key,
        || async {
            let (row, sections) = load_article(&state, &reader, &slug, Some(&[kind])).await?;
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
        ItemPath,
        super::articles::PreviewQuery,
    ),
    responses(
        (status = 200, description = "The item, in the shape of its section's kind", body = Item,
            headers(("ETag" = String, description = "Strong validator; changes whenever the item's section changes"))),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 400, description = "A malformed or unknown query parameter (`release` given twice, say)", body = crate::error::Problem, content_type = "application/problem+json"),
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
    ItemPath {
        slug,
        kind,
        id: item_id,
    }: ItemPath,
    request_id: crate::request_id::RequestId,
    query: Query<super::articles::PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    if let Some(release) = query.release.as_deref() {
        let (row, sections) = super::articles::preview(&state, &reader, release, &slug, request_id).await?;
        let section = sections
            .iter()
            .find(|section| section.row.kind == kind.as_str())
            .ok_or_else(|| section_not_found(&slug, kind))?;
        let item = section
            .items
            .iter()
            .find(|item| item.id == item_id)
            .ok_or_else(|| item_not_found(&slug, kind, item_id))?;
        let api = item.to_api()?;
        let bytes = serde_json::to_vec(&api)?;
        let representation = Representation::json(
            &api,
            super::caching::etag_of("p", &bytes),
            Some(section.row.updated_at),
            surrogate_keys(row.id, [section.row.id]),
        )?;
        return Ok(super::caching::respond(
            &req,
            &representation,
            &state.cache_policy,
            true,
        ));
    }
    let key = format!("item/{slug}/{kind}/{item_id}");
    cached(
        &state,
        &req,
        &reader,
        RepresentationCache::article_group(&slug),
        key,
        || async {
            let (row, sections) = load_article(&state, &reader, &slug, Some(&[kind])).await?;
            let section = sections.first().ok_or_else(|| section_not_found(&slug, kind))?;
            let item = section
                .items
                .iter()
                .find(|item| item.id == item_id)
                .ok_or_else(|| item_not_found(&slug, kind, item_id))?;
            item_representation(row.id, section, item)
        },
    )
    .await
}

/// A section as a response body with validators.
fn section_representation(article_id: Uuid, section: &StoredSection) -> Result<Representation, AppError> {
    Ok(Representation::json(
        &section.to_api()?,
        etag(Resource::Section, section.row.version()),
        Some(section.row.updated_at),
        surrogate_keys(article_id, [section.row.id]),
    )?)
}

/// An item as a response body with validators.
fn item_representation(article_id: Uuid, section: &StoredSection, item: &ItemRow) -> Result<Representation, AppError> {
    Ok(Representation::json(
        &item.to_api()?,
        etag(
            Resource::Item,
            Version {
                id: item.id,
                version: section.row.version,
            },
        ),
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
        SectionPath,
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
    SectionPath { slug, kind }: SectionPath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_json(&req, body).await?;
    let input = input::parse_section(&body, kind).map_err(crate::content::Error::Invalid)?;
    let mut conn = state.pool.get().await?;
    let written = write::put_section(
        &mut conn,
        &slug,
        input,
        super::etags::precondition(&req, Resource::Section),
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
        SectionPath,
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
    SectionPath { slug, kind }: SectionPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    write::delete_section(
        &mut conn,
        &slug,
        kind,
        super::etags::precondition(&req, Resource::Section),
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
        ItemPath,
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
    ItemPath {
        slug,
        kind,
        id: item_id,
    }: ItemPath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let shape = kind.item_shape().ok_or_else(|| item_not_found(&slug, kind, item_id))?;
    let body = read_json(&req, body).await?;
    let input = input::parse_item(&body, kind, shape, item_id).map_err(crate::content::Error::Invalid)?;
    let mut conn = state.pool.get().await?;
    let written = write::put_item(
        &mut conn,
        &slug,
        kind,
        item_id,
        input,
        super::etags::precondition(&req, Resource::Item),
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

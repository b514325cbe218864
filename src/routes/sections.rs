//! `/v1/articles/{slug}/sections…`: an article's sections and their items.

use actix_web::{HttpRequest, HttpResponse, get, web};
use uuid::Uuid;

use super::articles::load_article;
use super::caching::{Representation, respond};
use super::{ProblemResponses, Reader, surrogate_keys};
use crate::AppState;
use crate::content::SectionKind;
use crate::content::model::{Item, Section};
use crate::content::store::StoredSection;
use crate::error::AppError;

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
    params(("slug" = String, Path, description = "The article's slug", example = "explore-micro-needling-for-flawless-skin-today")),
    responses(
        (status = 200, description = "The sections in order", body = Vec<Section>,
            headers(("ETag" = String, description = "Strong validator; changes whenever any section changes"))),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 404, description = "No such article", body = crate::error::Problem, content_type = "application/problem+json"),
        ProblemResponses,
    )
)]
#[get("/articles/{slug}/sections")]
pub async fn list_sections(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: Reader,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (row, sections) = load_article(&state, &req, &reader, slug.into_inner(), None).await?;
    let keys = surrogate_keys(row.id, sections.iter().map(|section| section.row.id));
    let body: Vec<Section> = sections
        .iter()
        .map(StoredSection::to_api)
        .collect::<diesel::QueryResult<_>>()?;
    let etag = format!("\"ss.{}.{}\"", row.id.simple(), row.version);
    let representation = Representation::json(&body, etag, Some(row.updated_at), keys)?;
    Ok(respond(
        &req,
        representation,
        &state.cache_policy,
        reader.is_authenticated(),
    ))
}

/// Get one section of an article.
#[utoipa::path(
    tag = "sections",
    params(
        ("slug" = String, Path, description = "The article's slug", example = "explore-micro-needling-for-flawless-skin-today"),
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
        ProblemResponses,
    )
)]
#[get("/articles/{slug}/sections/{kind}")]
pub async fn get_section(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: Reader,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, kind) = path.into_inner();
    let kind = parse_kind(&kind)?;
    let (row, sections) = load_article(&state, &req, &reader, slug.clone(), Some(vec![kind])).await?;
    let section = sections.first().ok_or_else(|| section_not_found(&slug, kind))?;
    let representation = Representation::json(
        &section.to_api()?,
        format!("\"s.{}.{}\"", section.row.id.simple(), section.row.version),
        Some(section.row.updated_at),
        surrogate_keys(row.id, [section.row.id]),
    )?;
    Ok(respond(
        &req,
        representation,
        &state.cache_policy,
        reader.is_authenticated(),
    ))
}

/// Get one item of a section.
#[utoipa::path(
    tag = "sections",
    params(
        ("slug" = String, Path, description = "The article's slug", example = "explore-micro-needling-for-flawless-skin-today"),
        ("kind" = SectionKind, Path, description = "The section's kind"),
        ("id" = Uuid, Path, description = "The item's id"),
    ),
    responses(
        (status = 200, description = "The item, in the shape of its section's kind", body = Item,
            headers(("ETag" = String, description = "Strong validator; changes whenever the item's section changes"))),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 404, description = "No such article, kind, section or item", body = crate::error::Problem, content_type = "application/problem+json"),
        ProblemResponses,
    )
)]
#[get("/articles/{slug}/sections/{kind}/items/{id}")]
pub async fn get_item(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: Reader,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, kind, id) = path.into_inner();
    let kind = parse_kind(&kind)?;
    let item_not_found = || {
        AppError::not_found(
            "item_not_found",
            format!("The {kind} section of {slug:?} has no item {id:?}."),
        )
    };
    let item_id = Uuid::try_parse(&id).map_err(|_| item_not_found())?;
    let (row, sections) = load_article(&state, &req, &reader, slug.clone(), Some(vec![kind])).await?;
    let section = sections.first().ok_or_else(|| section_not_found(&slug, kind))?;
    let item = section
        .items
        .iter()
        .find(|item| item.id == item_id)
        .ok_or_else(item_not_found)?;
    let representation = Representation::json(
        &item.to_api()?,
        format!("\"i.{}.{}\"", item.id.simple(), section.row.version),
        Some(section.row.updated_at),
        surrogate_keys(row.id, [section.row.id]),
    )?;
    Ok(respond(
        &req,
        representation,
        &state.cache_policy,
        reader.is_authenticated(),
    ))
}

//! `/v1/articles/{slug}/sections…`: an article's sections and their items.

use actix_web::{HttpResponse, delete, get, put, web};

use super::parts::{self, Edit, Part, PartProblems, Reading, read};
use super::paths::{ArticlePath, ItemPath, SectionPath, item_not_found};
use super::{DeleteProblems, NoParams, Query, ReadProblems, WriteProblems, read_json, with_connection};
use crate::content::body::{ItemWrite, SectionWrite};
use crate::content::model::{Item, Section};
use crate::content::{Resource, input, write};
use crate::error::AppError;

/// List an article's sections, in order.
///
/// The sections `GET /v1/articles/{slug}` has, without the article's metadata, each with its
/// `locale` and `fallbacks`; `?locale=` resolves the texts along that locale's fallback
/// chain. Public for a published article (a token also sees drafts), with a strong ETag that
/// changes whenever any section changes, and 304 to `If-None-Match`.
#[utoipa::path(
    tag = "sections",
    params(ArticlePath, super::articles::LocaleQuery),
    responses(
        (status = 200, description = "The sections in order", body = Vec<Section>,
            headers(("ETag" = String, description = "Strong validator; changes whenever any section changes"))),
        PartProblems,
        ReadProblems,
    )
)]
#[get("/articles/{slug}/sections")]
pub async fn list_sections(
    reading: Reading,
    ArticlePath { slug }: ArticlePath,
    query: Query<super::articles::LocaleQuery>,
) -> Result<HttpResponse, AppError> {
    read(&reading, &slug, Part::Sections, &*query).await
}

/// Get one section of an article.
///
/// An article has at most one section of each kind, so the kind names it. The section comes
/// with its items in order, its `version` and `updated_at`; its ETag changes whenever the
/// section or one of its items changes, so a client can cache and revalidate sections one by
/// one. `?release=` previews it as a release will leave it (preview, editor or admin token;
/// anonymous: 401), and `?locale=` resolves its texts along that locale's fallback chain.
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
        PartProblems,
        ReadProblems,
    )
)]
#[get("/articles/{slug}/sections/{kind}")]
pub async fn get_section(
    reading: Reading,
    SectionPath { slug, kind }: SectionPath,
    query: Query<super::articles::PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    read(&reading, &slug, Part::Section(kind), &*query).await
}

/// Get one item of a section.
///
/// The item with this id, in the shape of its section's kind and tagged by `kind`, with
/// `locale` and `fallbacks`. Item ids stay the same across edits, so a link to an item keeps
/// working. `?release=` and `?locale=` work as for the section.
#[utoipa::path(
    tag = "sections",
    params(
        ItemPath,
        super::articles::PreviewQuery,
    ),
    responses(
        (status = 200, description = "The item, in the shape of its section's kind", body = Item,
            headers(("ETag" = String, description = "Strong validator; changes whenever the item's section changes"))),
        PartProblems,
        ReadProblems,
    )
)]
#[get("/articles/{slug}/sections/{kind}/items/{id}")]
pub async fn get_item(
    reading: Reading,
    ItemPath { slug, kind, id }: ItemPath,
    query: Query<super::articles::PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    read(&reading, &slug, Part::Item(kind, id), &*query).await
}

/// Create or replace one section.
///
/// Creating (the article has no section of this kind) needs no `If-Match`;
/// the section goes last. Replacing needs the section's current ETag, or `*`.
/// Items carrying the `id` of an item of this section keep it; items without
/// `id` are new; items left out are deleted; array order is the new order.
///
/// With `?locale=` (other than the default) it writes the section's texts in
/// that locale: structure as stored (every item by id, in order), or 422.
#[utoipa::path(
    tag = "sections",
    params(
        SectionPath,
        super::articles::LocaleQuery,
        ("If-Match" = Option<String>, Header, description = "The section's current ETag (in any locale), or `*`; required to replace, forbidden to create"),
    ),
    request_body(content = SectionWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced; the stored section", body = Section, headers(("ETag" = String, description = "The new version"))),
        (status = 201, description = "Created; the stored section", body = Section,
            headers(("ETag" = String, description = "The new version"), ("Location" = String, description = "The section's URL"))),
        WriteProblems,
    )
)]
#[put("/articles/{slug}/sections/{kind}")]
pub async fn put_section(
    edit: Edit,
    SectionPath { slug, kind }: SectionPath,
    query: Query<super::articles::LocaleQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let parse = |body: &_| input::parse_section(body, kind).map(write::Put::Section);
    parts::put_part(&edit, &slug, Part::Section(kind), query.locale.as_deref(), body, parse).await
}

/// Delete one section; later sections move up one place. Needs `If-Match`.
///
/// Deletes the section and its items in one transaction; the sections after it move up one
/// `position`, and the article gets a new version and a revision. `If-Match` is the section's
/// current ETag or `*` (missing: 428, stale: 412). Needs an editor token.
#[utoipa::path(
    tag = "sections",
    params(
        SectionPath,
        ("If-Match" = String, Header, description = "The section's current ETag, or `*`"),
    ),
    security(("bearer" = [])),
    responses(super::Deleted<DeleteProblems>),
)]
#[delete("/articles/{slug}/sections/{kind}")]
pub async fn delete_section(
    edit: Edit,
    SectionPath { slug, kind }: SectionPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let target = edit.on(&slug, Resource::Section);
    with_connection(&edit.state, async |conn| {
        Ok(write::delete_section(conn, target, kind).await?)
    })
    .await?;
    Ok(parts::deleted(&edit.state, &slug))
}

/// Replace one item of a section. Needs the item's current ETag in `If-Match`, or `*`.
///
/// With `?locale=` (other than the default) it writes the item's texts in that locale.
#[utoipa::path(
    tag = "sections",
    params(
        ItemPath,
        super::articles::LocaleQuery,
        ("If-Match" = String, Header, description = "The item's current ETag (in any locale), or `*`"),
    ),
    request_body(content = ItemWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced; the stored item", body = Item, headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
    )
)]
#[put("/articles/{slug}/sections/{kind}/items/{id}")]
pub async fn put_item(
    edit: Edit,
    ItemPath {
        slug,
        kind,
        id: item_id,
    }: ItemPath,
    query: Query<super::articles::LocaleQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let shape = kind.item_shape().ok_or_else(|| item_not_found(&slug, kind, item_id))?;
    let body = read_json(&edit.req, body).await?;
    if let Some(choice) = parts::write_locale(&edit.state, &edit.req, query.locale.as_deref()).await? {
        let part = Part::Item(kind, item_id);
        return parts::put_translation(&edit, &slug, part, choice, &body).await;
    }
    let input = input::parse_item(&body, kind, shape, item_id).map_err(crate::content::Error::Invalid)?;
    let target = edit.on(&slug, Resource::Item);
    let written = with_connection(&edit.state, async |conn| {
        Ok(write::put_item(conn, target, kind, item_id, input).await?)
    })
    .await?;
    parts::written(&edit.state, &slug, Part::Item(kind, item_id), &written, None)
}

//! `/v1/articles` and `/v1/articles/{slug}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::caching::{Representation, cached, etag_of};
use super::etags::{etag, selection_etag};
use super::paths::{ArticlePath, article_not_found};
use super::{
    DeleteProblems, Editor, NoParams, ProblemResponses, Query, ReadProblems, Reader, WriteProblems, read_json,
    surrogate_keys,
};
use crate::AppState;
use crate::cache::RepresentationCache;
use crate::content::body::ArticleWrite;
use crate::content::input;
use crate::content::model::{Article, ArticlePage, ArticleSummary};
use crate::content::store::{self, ArticleRow, Cursor, StoredSection};
use crate::content::write;
use crate::content::{Resource, SectionKind};
use crate::error::{AppError, Code};
use crate::request_id::RequestId;

/// Default page size of the article list.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page size of the article list.
pub const MAX_LIMIT: u32 = 100;

/// A page size from `?limit=`: [`DEFAULT_LIMIT`] if absent, 400 outside 1..=[`MAX_LIMIT`].
pub fn page_limit(limit: Option<u32>) -> Result<u32, AppError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::bad_request(
            Code::InvalidLimit,
            format!("`limit` must be between 1 and {MAX_LIMIT}."),
        ));
    }
    Ok(limit)
}

/// Query of the article list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Articles per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page; leave out for the first page.
    #[param(example = "0b8b5ac1a7e6d4b2f04f1e9b3a5d6c7e8f9a0b", pattern = "^[0-9a-f]{38}$")]
    cursor: Option<String>,
}

impl super::KnownParams for ListQuery {
    const NAMES: &'static [&'static str] = &["limit", "cursor"];
}

/// List articles, newest `published_on` first.
///
/// Anonymous readers see published articles only.
#[utoipa::path(
    tag = "articles",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of articles", body = ArticlePage,
            headers(("ETag" = String, description = "Strong validator of this page"))),
        (status = 304, description = "The copy named by If-None-Match is current"),
        (status = 400, description = "Bad `limit` or `cursor`", body = crate::error::Problem, content_type = "application/problem+json"),
        ReadProblems,
        ProblemResponses,
    )
)]
#[get("/articles")]
pub async fn list_articles(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: Reader,
    query: Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = page_limit(query.limit)?;
    let after = match &query.cursor {
        None => None,
        Some(text) => Some(Cursor::decode(text).ok_or_else(|| {
            AppError::bad_request(
                Code::InvalidCursor,
                "`cursor` is not one this server handed out; start again without it.",
            )
        })?),
    };
    let visibility = reader.visibility();
    let key = format!(
        "list?limit={limit}&cursor={}",
        after.map(|cursor| cursor.encode()).unwrap_or_default()
    );
    cached(
        &state,
        &req,
        &reader,
        RepresentationCache::list_group(),
        key,
        || async {
            let mut conn = state.pool.get().await?;
            let (rows, more) = store::list_articles(&mut conn, after, i64::from(limit), visibility).await?;
            let next_cursor = if more {
                rows.last().map(|(row, _)| {
                    Cursor {
                        published_on: row.published_on,
                        id: row.id,
                    }
                    .encode()
                })
            } else {
                None
            };
            let items = rows
                .iter()
                .map(|(row, kinds)| {
                    Ok(ArticleSummary {
                        meta: row.to_meta()?,
                        section_kinds: kinds.iter().filter_map(|kind| SectionKind::parse(kind)).collect(),
                    })
                })
                .collect::<diesel::QueryResult<Vec<_>>>()?;
            let keys = rows
                .iter()
                .map(|(row, _)| format!("article-{}", row.id.simple()))
                .chain(["articles".to_owned()])
                .collect::<Vec<_>>()
                .join(" ");
            let page = ArticlePage { items, next_cursor };
            let body = serde_json::to_vec(&page).map_err(|err| AppError::Internal(err.to_string()))?;
            let etag = etag_of("l", &body);
            // No Last-Modified: a delete or unpublish changes the page without
            // raising any listed article's time; the strong ETag validates it.
            Ok(Representation::new(body.into(), etag, None, keys))
        },
    )
    .await
}

/// Query of the section endpoint: an optional release to preview.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// A release's id: the section as it will be once that release is
    /// published (any token; `private, no-store`, never cached).
    #[param(example = "3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e", format = Uuid)]
    pub release: Option<String>,
}

impl super::KnownParams for PreviewQuery {
    const NAMES: &'static [&'static str] = &["release"];
}

/// Query of the article endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// Comma-separated section kinds to keep, e.g. `steps,risks`; leave out for all.
    #[param(
        example = "steps,risks",
        pattern = "^(overview|steps|benefits|expectations|aftercare_tips|target_audiences|risks|conclusion)(,(overview|steps|benefits|expectations|aftercare_tips|target_audiences|risks|conclusion))*$"
    )]
    sections: Option<String>,
    /// A release's id: the article as it will be once that release is
    /// published (any token; `private, no-store`, never cached).
    #[param(example = "3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e", format = Uuid)]
    release: Option<String>,
}

impl super::KnownParams for ArticleQuery {
    const NAMES: &'static [&'static str] = &["sections", "release"];
}

/// Parses `?sections=`: known kinds, deduplicated, in canonical order.
fn parse_kinds(text: &str) -> Result<Vec<SectionKind>, AppError> {
    let mut kinds = Vec::new();
    for name in text.split(',').map(str::trim) {
        let kind = SectionKind::parse(name).ok_or_else(|| {
            let known = SectionKind::ALL.map(SectionKind::as_str).join(", ");
            AppError::bad_request(
                Code::InvalidSections,
                format!("`sections` names an unknown kind {name:?}; known kinds: {known}."),
            )
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.sort();
    Ok(kinds)
}

/// Get a whole article with its typed sections.
///
/// `?sections=` keeps only the named kinds (each selection has its own ETag).
#[utoipa::path(
    tag = "articles",
    params(
        ArticlePath,
        ArticleQuery,
    ),
    responses(
        (status = 200, description = "The article", body = Article,
            headers(
                ("ETag" = String, description = "Strong validator; changes whenever any part of the article changes"),
                ("Last-Modified" = String, description = "When the article last changed"),
                ("Surrogate-Key" = String, description = "CDN purge keys: the article and its sections"),
            )),
        (status = 304, description = "The copy named by If-None-Match (or If-Modified-Since) is current"),
        (status = 400, description = "`sections` names an unknown kind", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article (or a draft, to anonymous readers)", body = crate::error::Problem, content_type = "application/problem+json"),
        ReadProblems,
        ProblemResponses,
    )
)]
#[get("/articles/{slug}")]
pub async fn get_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    reader: Reader,
    request_id: RequestId,
    ArticlePath { slug }: ArticlePath,
    query: Query<ArticleQuery>,
) -> Result<HttpResponse, AppError> {
    let kinds = query.sections.as_deref().map(parse_kinds).transpose()?;
    if let Some(release) = query.release.as_deref() {
        let (row, sections) = preview(&state, &reader, release, &slug, request_id).await?;
        let sections: Vec<StoredSection> = match kinds.as_deref() {
            Some(kinds) => sections
                .into_iter()
                .filter(|section| kinds.iter().any(|kind| kind.as_str() == section.row.kind))
                .collect(),
            None => sections,
        };
        let article = article_body(&row, &sections)?;
        let bytes = serde_json::to_vec(&article)?;
        let representation = Representation::json(
            &article,
            super::caching::etag_of("p", &bytes),
            Some(row.updated_at),
            String::new(),
        )?;
        return Ok(super::caching::respond(
            &req,
            &representation,
            &state.cache_policy,
            true,
        ));
    }
    let selection: Vec<&str> = kinds.iter().flatten().map(|kind| kind.as_str()).collect();
    let key = format!("article/{slug}?sections={}", selection.join(","));
    cached(
        &state,
        &req,
        &reader,
        RepresentationCache::article_group(&slug),
        key,
        || async {
            let (row, sections) = load_article(&state, &reader, &slug, kinds.as_deref()).await?;
            article_representation(&row, &sections, kinds.as_deref())
        },
    )
    .await
}

/// The article (or a selection of its sections) as a response body with validators.
pub fn article_representation(
    row: &ArticleRow,
    sections: &[StoredSection],
    kinds: Option<&[SectionKind]>,
) -> Result<Representation, AppError> {
    let etag = match kinds {
        None => etag(Resource::Article, row.version()),
        Some(kinds) => selection_etag(row.version(), kinds),
    };
    let keys = surrogate_keys(row.id, sections.iter().map(|section| section.row.id));
    let article = article_body(row, sections)?;
    Ok(Representation::json(&article, etag, Some(row.updated_at), keys)?)
}

/// The article in its API shape: serialized, the body of `GET /v1/articles/{slug}`
/// (and the `article` of a sync entry, which is so the same bytes).
pub fn article_body(row: &ArticleRow, sections: &[StoredSection]) -> diesel::QueryResult<Article> {
    Ok(Article {
        meta: row.to_meta()?,
        sections: sections
            .iter()
            .map(StoredSection::to_api)
            .collect::<diesel::QueryResult<_>>()?,
    })
}

/// Create or replace a whole article.
///
/// Creating needs no `If-Match` (with one, 412). Replacing needs `If-Match`
/// with the article's current ETag, or `*`. Sections left out are deleted;
/// items carrying an `id` keep it.
#[utoipa::path(
    tag = "articles",
    params(ArticlePath,
        ("If-Match" = Option<String>, Header, description = "The article's current ETag, or `*`; required to replace, forbidden to create")),
    request_body(content = ArticleWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced; the stored article", body = Article, headers(("ETag" = String, description = "The new version"))),
        (status = 201, description = "Created; the stored article", body = Article,
            headers(("ETag" = String, description = "The new version"), ("Location" = String, description = "The article's URL"))),
        WriteProblems,
        ProblemResponses,
    )
)]
#[put("/articles/{slug}")]
pub async fn put_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    editor: Editor,
    request_id: RequestId,
    ArticlePath { slug }: ArticlePath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_json(&req, body).await?;
    let input = input::parse_article(&body, &slug).map_err(crate::content::Error::Invalid)?;
    let mut conn = state.pool.get().await?;
    let actor = actor(&state, editor, request_id);
    let written = write::put_article(
        &mut conn,
        &slug,
        input,
        super::etags::precondition(&req, Resource::Article),
        actor,
    )
    .await?;
    state.cache.invalidate(&slug);
    let representation = article_representation(&written.article, &written.sections, None)?;
    Ok(super::written(
        representation,
        written.created.then(|| format!("/v1/articles/{slug}")),
    ))
}

/// Delete an article with all its sections. Needs `If-Match`.
#[utoipa::path(
    tag = "articles",
    params(ArticlePath,
        ("If-Match" = String, Header, description = "The article's current ETag, or `*`")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        DeleteProblems,
        ProblemResponses,
    )
)]
#[delete("/articles/{slug}")]
pub async fn delete_article(
    state: web::Data<AppState>,
    req: HttpRequest,
    editor: Editor,
    request_id: RequestId,
    ArticlePath { slug }: ArticlePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    write::delete_article(
        &mut conn,
        &slug,
        super::etags::precondition(&req, Resource::Article),
        actor(&state, editor, request_id),
    )
    .await?;
    state.cache.invalidate(&slug);
    Ok(HttpResponse::NoContent()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// The actor of a write.
pub fn actor(state: &AppState, editor: Editor, request_id: RequestId) -> write::Actor {
    write::Actor {
        name: editor.name,
        request_id: request_id.0,
        revisions_keep: state.revisions_keep,
        sync_keep_days: state.sync_keep_days,
    }
}

/// The article as the release `release` will leave it (401 to anonymous
/// readers; 404 if the release is unknown or the article would not exist).
pub async fn preview(
    state: &AppState,
    reader: &Reader,
    release: &str,
    slug: &str,
    request_id: RequestId,
) -> Result<(ArticleRow, Vec<StoredSection>), AppError> {
    let Reader::Token { name, .. } = reader else {
        return Err(AppError::Unauthorized {
            detail: "Previewing a release needs a preview, editor or admin token.".to_owned(),
        });
    };
    let id = uuid::Uuid::try_parse(release).map_err(|_| super::paths::release_not_found(format!("{release:?}")))?;
    let mut conn = state.pool.get().await?;
    let actor = write::Actor {
        name: name.clone(),
        request_id: request_id.0,
        revisions_keep: state.revisions_keep,
        sync_keep_days: state.sync_keep_days,
    };
    write::preview_article(&mut conn, id, slug, reader.visibility(), actor)
        .await?
        .ok_or_else(|| article_not_found(slug))
}

/// The article and the sections of `kinds` (all if `None`), as `reader` may see them; 404 otherwise.
pub async fn load_article(
    state: &AppState,
    reader: &Reader,
    slug: &str,
    kinds: Option<&[SectionKind]>,
) -> Result<(ArticleRow, Vec<StoredSection>), AppError> {
    let mut conn = state.pool.get().await?;
    store::load_article(&mut conn, slug, reader.visibility(), kinds)
        .await?
        .ok_or_else(|| article_not_found(slug))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_query_is_normalised() {
        let kinds = parse_kinds("risks, steps,risks").unwrap();
        assert_eq!(kinds, [SectionKind::Steps, SectionKind::Risks]);
        assert!(parse_kinds("steps,bogus").is_err());
        assert!(parse_kinds("").is_err());
    }
}

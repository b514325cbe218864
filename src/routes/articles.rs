//! `/v1/articles` and `/v1/articles/{slug}`.

use actix_web::{HttpResponse, delete, get, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::caching::{Representation, etag_of};
use super::parts::{self, Part, PartProblems, ReadQuery, Reading, read};
use super::paths::ArticlePath;
use super::{DeleteProblems, NoParams, Query, ReadProblems, Reader, WriteProblems, with_connection};
use crate::AppState;
use crate::cache::RepresentationCache;
use crate::content::body::ArticleWrite;
use crate::content::history;
use crate::content::input;
use crate::content::model::{Article, ArticleMeta, ArticlePage, ArticleSummary, Deletion};
use crate::content::store::{self, Cursor};
use crate::content::translations::{HERO_ALT_KEY, Resolver, load_texts};
use crate::content::write;
use crate::content::{Resource, SectionKind};

pub use super::parts::{Edit, article_body};
use crate::error::{AppError, Code};

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

/// A page query's `cursor` as `decode` reads it (400 `invalid_cursor` if it
/// is not one this server handed out).
pub fn page_cursor<T>(cursor: Option<&str>, decode: impl FnOnce(&str) -> Option<T>) -> Result<Option<T>, AppError> {
    cursor
        .map(|text| {
            decode(text).ok_or_else(|| {
                AppError::bad_request(
                    Code::InvalidCursor,
                    "`cursor` is not one this server handed out; start again without it.",
                )
            })
        })
        .transpose()
}

/// The `next_cursor` of a page whose last row is `last`: `encode`d if there are `more` rows.
pub fn next_cursor<T>(more: bool, last: Option<&T>, encode: impl FnOnce(&T) -> String) -> Option<String> {
    last.filter(|_| more).map(encode)
}

/// Query of the article list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Articles per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page; leave out for the first page.
    #[param(pattern = "^[0-9a-f]{38}$")]
    cursor: Option<String>,
    /// A configured locale (`GET /v1/locales`): its texts, each missing one
    /// from its fallback chain. Without it, `Accept-Language` chooses.
    #[param(example = "en", schema_with = crate::content::locales::tag_schema)]
    pub locale: Option<String>,
    /// `true` (editor or admin): the deleted articles that can still be
    /// restored, most recently deleted first, each with `deleted` (when, by
    /// whom, the revision that restores it), in the default locale.
    #[param(example = false)]
    pub deleted: Option<bool>,
}

impl super::KnownParams for ListQuery {
    const NAMES: &'static [&'static str] = &["limit", "cursor", "locale", "deleted"];
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
    )
)]
#[get("/articles")]
pub async fn list_articles(
    Reading { state, req, reader }: Reading,
    query: Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = page_limit(query.limit)?;
    if query.deleted == Some(true) {
        return list_trash(&state, &reader, limit, query.cursor.as_deref()).await;
    }
    let after = page_cursor(query.cursor.as_deref(), Cursor::decode)?;
    let visibility = reader.visibility();
    let key = format!(
        "list?limit={limit}&cursor={}",
        after.map(|cursor| cursor.encode()).unwrap_or_default()
    );
    let choice = parts::locale_of(&state, &req, query.locale.as_deref()).await?;
    let group = RepresentationCache::list_group();
    let state = &state;
    parts::cached_in(state, &req, &reader, group, key, choice, |locale| async move {
        let mut conn = state.pool.get().await?;
        let (rows, more) = store::list_articles(&mut conn, after, i64::from(limit), visibility).await?;
        let ids: Vec<uuid::Uuid> = rows.iter().map(|(row, _)| row.id).collect();
        let drafts = visibility == store::Visibility::All;
        let texts = load_texts(
            &mut conn,
            &ids,
            &locale,
            drafts,
            Some(&["title", "summary", HERO_ALT_KEY]),
        )
        .await?;
        let mut resolver = Resolver::new(&locale, None);
        let next_cursor = next_cursor(more, rows.last(), |(row, _)| {
            Cursor {
                published_on: row.published_on,
                id: row.id,
            }
            .encode()
        });
        let items = rows
            .iter()
            .enumerate()
            .map(|(index, (row, kinds))| {
                let mut meta = row.to_meta()?;
                resolver.meta(&mut meta, texts.get(&row.id), &format!("/items/{index}"));
                Ok(ArticleSummary {
                    meta,
                    section_kinds: kinds.iter().filter_map(|kind| SectionKind::parse(kind)).collect(),
                    deleted: None,
                })
            })
            .collect::<diesel::QueryResult<Vec<_>>>()?;
        let keys = rows
            .iter()
            .map(|(row, _)| format!("article-{}", row.id.simple()))
            .chain(["articles".to_owned()])
            .collect::<Vec<_>>()
            .join(" ");
        let page = ArticlePage {
            items,
            next_cursor,
            locale: locale.code().to_owned(),
            fallbacks: resolver.fallbacks,
        };
        let body = serde_json::to_vec(&page).map_err(|err| AppError::Internal(err.to_string()))?;
        let etag = etag_of("l", &body);
        // No Last-Modified: a delete or unpublish changes the page without
        // raising any listed article's time; the strong ETag validates it.
        Ok(Representation::new(body.into(), etag, None, keys))
    })
    .await
}

/// `GET /v1/articles?deleted=true`: a page of the trash (API.md §3), for
/// editors and admins, never cached. Its cursor is the last deletion's
/// place in the history, in the list cursor's form.
async fn list_trash(
    state: &AppState,
    reader: &Reader,
    limit: u32,
    cursor: Option<&str>,
) -> Result<HttpResponse, AppError> {
    match reader {
        Reader::Anonymous => {
            return Err(AppError::Unauthorized {
                detail: "Deleted articles are listed to editors: `Authorization: Bearer <token>`.".to_owned(),
            });
        }
        Reader::Token {
            role: crate::auth::Role::Preview,
            name,
        } => {
            return Err(AppError::Forbidden {
                detail: format!(
                    "The token {name:?} has the preview role; deleted articles are listed to editors and admins."
                ),
            });
        }
        Reader::Token { .. } => {}
    }
    let before = page_cursor(cursor, |text| {
        (text.len() == 38).then(|| i64::from_str_radix(text, 16).ok()).flatten()
    })?;
    let (trashed, more) = with_connection(state, async |conn| {
        Ok(history::trash(conn, before, i64::from(limit)).await?)
    })
    .await?;
    let next_cursor = next_cursor(more, trashed.last(), |last| format!("{:038x}", last.deletion.seq));
    let items = trashed
        .into_iter()
        .map(|trashed| {
            let deletion = trashed.deletion;
            let snapshot = deletion.snapshot.unwrap_or_default();
            let article = input::parse_article(&snapshot, &deletion.slug).map_err(|errors| {
                AppError::Internal(format!(
                    "the snapshot of revision {} does not parse: {errors:?}",
                    deletion.id
                ))
            })?;
            let word_count = article.word_count();
            Ok(ArticleSummary {
                meta: ArticleMeta {
                    id: deletion.article_id,
                    slug: deletion.slug,
                    title: article.title,
                    author: article.author,
                    published_on: article.published_on,
                    status: article.status,
                    summary: article.summary,
                    // A deleted article's images are not shown (its uses are gone).
                    hero_image: None,
                    reading_time_minutes: input::reading_time_minutes(word_count),
                    word_count,
                    version: deletion.article_version,
                    created_at: trashed.created_at,
                    updated_at: deletion.created_at,
                },
                section_kinds: article.sections.iter().map(|section| section.kind).collect(),
                deleted: Some(Deletion {
                    at: deletion.created_at,
                    by: deletion.actor,
                    revision_id: deletion.id,
                }),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let page = ArticlePage {
        items,
        next_cursor,
        locale: state.locales.current().default_code().to_owned(),
        fallbacks: Default::default(),
    };
    let body = serde_json::to_vec(&page).map_err(|err| AppError::Internal(err.to_string()))?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag_of("l", &body)))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .content_type("application/json")
        .body(body))
}

/// Query of the section list: the locale.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocaleQuery {
    /// A configured locale (`GET /v1/locales`). A read gives its texts, each
    /// missing one from its fallback chain (without it, `Accept-Language`
    /// chooses); a write writes the body's texts in it (structure unchanged).
    #[param(example = "en", schema_with = crate::content::locales::tag_schema)]
    pub locale: Option<String>,
}

impl super::KnownParams for LocaleQuery {
    const NAMES: &'static [&'static str] = &["locale"];
}

/// Query of the section and item endpoints: an optional release to preview, the locale.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// A release's id: the section as it will be once that release is
    /// published (any token; `private, no-store`, never cached).
    #[param(format = Uuid)]
    pub release: Option<String>,
    /// A configured locale (`GET /v1/locales`): its texts, each missing one
    /// from its fallback chain. Without it, `Accept-Language` chooses.
    #[param(example = "en", schema_with = crate::content::locales::tag_schema)]
    pub locale: Option<String>,
}

impl ReadQuery for PreviewQuery {
    fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }
    fn locale(&self) -> Option<&str> {
        self.locale.as_deref()
    }
}

impl ReadQuery for ArticleQuery {
    fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }
    fn locale(&self) -> Option<&str> {
        self.locale.as_deref()
    }
}

impl ReadQuery for LocaleQuery {
    fn release(&self) -> Option<&str> {
        None
    }
    fn locale(&self) -> Option<&str> {
        self.locale.as_deref()
    }
}

impl super::KnownParams for PreviewQuery {
    const NAMES: &'static [&'static str] = &["release", "locale"];
}

/// Query of the article endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// The section kinds to keep, comma-separated (`steps,risks`); leave out
    /// for all. A kind the server does not know is a 400 `invalid_sections`.
    #[param(
        value_type = Option<Vec<SectionKind>>,
        style = Form,
        explode = false,
        min_items = 1
    )]
    sections: Option<String>,
    /// A release's id: the article as it will be once that release is
    /// published (any token; `private, no-store`, never cached).
    #[param(format = Uuid)]
    release: Option<String>,
    /// A configured locale (`GET /v1/locales`): its texts, each missing one
    /// from its fallback chain. Without it, `Accept-Language` chooses.
    #[param(example = "en", schema_with = crate::content::locales::tag_schema)]
    pub locale: Option<String>,
}

impl super::KnownParams for ArticleQuery {
    const NAMES: &'static [&'static str] = &["sections", "release", "locale"];
}

/// Parses a list of section kinds (`?sections=`, `?kinds=`: `parameter`):
/// known kinds, deduplicated, in canonical order.
pub(super) fn parse_kinds(text: &str, parameter: &str) -> Result<Vec<SectionKind>, AppError> {
    let mut kinds = Vec::new();
    for name in text.split(',').map(str::trim) {
        let kind = SectionKind::parse(name).ok_or_else(|| {
            let known = SectionKind::ALL.map(SectionKind::as_str).join(", ");
            AppError::bad_request(
                Code::InvalidSections,
                format!("`{parameter}` names an unknown kind {name:?}; known kinds: {known}."),
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
        PartProblems,
        ReadProblems,
    )
)]
#[get("/articles/{slug}")]
pub async fn get_article(
    reading: Reading,
    ArticlePath { slug }: ArticlePath,
    query: Query<ArticleQuery>,
) -> Result<HttpResponse, AppError> {
    let kinds = query
        .sections
        .as_deref()
        .map(|text| parse_kinds(text, "sections"))
        .transpose()?;
    read(&reading, &slug, Part::Article(kinds), &*query).await
}

/// Create or replace a whole article.
///
/// Creating needs no `If-Match` (with one, 412). Replacing needs `If-Match`
/// with the article's current ETag, or `*`. Sections left out are deleted;
/// items carrying an `id` keep it.
///
/// With `?locale=` (other than the default) it writes the article's texts in
/// that locale: the body is the article as read, its structure (sections,
/// items, ids, order, kinds, status, dates, author) as stored, or 422 with
/// the pointer; a text left out or `null` removes its translation.
#[utoipa::path(
    tag = "articles",
    params(ArticlePath, LocaleQuery,
        ("If-Match" = Option<String>, Header, description = "The article's current ETag (in any locale), or `*`; required to replace, forbidden to create")),
    request_body(content = ArticleWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced; the stored article", body = Article, headers(("ETag" = String, description = "The new version"))),
        (status = 201, description = "Created; the stored article", body = Article,
            headers(("ETag" = String, description = "The new version"), ("Location" = String, description = "The article's URL"))),
        WriteProblems,
    )
)]
#[put("/articles/{slug}")]
pub async fn put_article(
    edit: Edit,
    ArticlePath { slug }: ArticlePath,
    query: Query<LocaleQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let parse = |body: &_| input::parse_article(body, &slug).map(write::Put::Article);
    parts::put_part(&edit, &slug, Part::Article(None), query.locale.as_deref(), body, parse).await
}

/// Delete an article with all its sections. Needs `If-Match`.
///
/// Deletes the article with its sections and items in one transaction and records the delete
/// as a revision that keeps the article as it was: `GET /v1/articles?deleted=true` lists it
/// for editors, and restoring that revision re-creates it until it is purged after
/// `LAMINA_TRASH_KEEP_DAYS`. `If-Match` is the article's current ETag or `*` (missing: 428,
/// stale: 412). Needs an editor token.
#[utoipa::path(
    tag = "articles",
    params(ArticlePath,
        ("If-Match" = String, Header, description = "The article's current ETag, or `*`")),
    security(("bearer" = [])),
    responses(super::Deleted<DeleteProblems>),
)]
#[delete("/articles/{slug}")]
pub async fn delete_article(
    edit: Edit,
    ArticlePath { slug }: ArticlePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let target = edit.on(&slug, Resource::Article);
    with_connection(&edit.state, async |conn| Ok(write::delete_article(conn, target).await?)).await?;
    Ok(parts::deleted(&edit.state, &slug))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_query_is_normalised() {
        let kinds = parse_kinds("risks, steps,risks", "sections").unwrap();
        assert_eq!(kinds, [SectionKind::Steps, SectionKind::Risks]);
        assert!(parse_kinds("steps,bogus", "sections").is_err());
        assert!(parse_kinds("", "sections").is_err());
    }
}

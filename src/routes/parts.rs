//! What the content routes share: which part of an article a route reads or
//! writes (the article, its section list, one section, one item), and how any
//! part is read (from the representation cache, or previewed from a release)
//! and answered after a write. Each concern of a content read is written here
//! once, whatever the part.

use std::future::{Future, Ready};
use std::pin::Pin;

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures_util::future::Either;
use uuid::Uuid;

use super::caching::{Representation, cached, etag_of, respond};
use super::etags::{etag, section_list_etag, selection_etag};
use super::paths::{article_not_found, item_not_found, section_not_found};
use super::{Editor, Reader, surrogate_keys};
use crate::AppState;
use crate::cache::RepresentationCache;
use crate::content::model::{Article, Section};
use crate::content::store::{self, ArticleRow, StoredSection};
use crate::content::{Resource, SectionKind, Version, write};
use crate::error::AppError;
use crate::request_id::RequestId;

/// What every content read answers besides its 200.
#[derive(utoipa::IntoResponses)]
pub enum PartProblems {
    /// The copy named by If-None-Match (or If-Modified-Since) is current.
    #[response(status = 304)]
    NotModified,
    /// A malformed or unknown query parameter (`sections` naming an unknown kind, `release` given twice, say).
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(crate::error::Problem),
    /// No such article, section or item (a draft, to anonymous readers), or no such release to preview.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(crate::error::Problem),
}

/// A part of an article that a content route reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The whole article, or only the sections of these kinds (`?sections=`).
    Article(Option<Vec<SectionKind>>),
    /// Its sections, in order.
    Sections,
    /// One section.
    Section(SectionKind),
    /// One item of a section.
    Item(SectionKind, Uuid),
}

/// A representation before it is one: body, entity tag, modification time, purge keys.
struct Parts {
    body: Vec<u8>,
    etag: String,
    modified: DateTime<Utc>,
    keys: String,
}

impl Parts {
    fn json<T: serde::Serialize>(
        value: &T,
        etag: String,
        modified: DateTime<Utc>,
        keys: String,
    ) -> Result<Parts, AppError> {
        Ok(Parts {
            body: serde_json::to_vec(value)?,
            etag,
            modified,
            keys,
        })
    }
}

impl Part {
    /// The kinds of section the part shows (`None`: all).
    fn kinds(&self) -> Option<Vec<SectionKind>> {
        match self {
            Part::Article(kinds) => kinds.clone(),
            Part::Sections => None,
            Part::Section(kind) | Part::Item(kind, _) => Some(vec![*kind]),
        }
    }

    /// The part's key in the representation cache, from parsed, normalized parameters.
    fn cache_key(&self, slug: &str) -> String {
        match self {
            Part::Article(kinds) => {
                let names: Vec<&str> = kinds.iter().flatten().map(|kind| kind.as_str()).collect();
                format!("article/{slug}?sections={}", names.join(","))
            }
            Part::Sections => format!("sections/{slug}"),
            Part::Section(kind) => format!("section/{slug}/{kind}"),
            Part::Item(kind, id) => format!("item/{slug}/{kind}/{id}"),
        }
    }

    /// The section of `kind` among `sections`; 404 if the article has none.
    fn section<'a>(
        slug: &str,
        kind: SectionKind,
        sections: &'a [StoredSection],
    ) -> Result<&'a StoredSection, AppError> {
        sections
            .iter()
            .find(|section| section.row.kind == kind.as_str())
            .ok_or_else(|| section_not_found(slug, kind))
    }

    /// The part of the article `row` with `sections`, with its validators;
    /// 404 if the article does not have it.
    fn parts(&self, slug: &str, row: &ArticleRow, sections: &[StoredSection]) -> Result<Parts, AppError> {
        let shown = |kinds: &Option<Vec<SectionKind>>| -> Vec<&StoredSection> {
            sections
                .iter()
                .filter(|section| {
                    kinds
                        .as_ref()
                        .is_none_or(|kinds| kinds.iter().any(|kind| kind.as_str() == section.row.kind))
                })
                .collect()
        };
        match self {
            Part::Article(kinds) => {
                let sections = shown(kinds);
                let etag = match kinds {
                    None => etag(Resource::Article, row.version()),
                    Some(kinds) => selection_etag(row.version(), kinds),
                };
                let keys = surrogate_keys(row.id, sections.iter().map(|section| section.row.id));
                Parts::json(&article_body(row, sections)?, etag, row.updated_at, keys)
            }
            Part::Sections => {
                let body: Vec<Section> = sections
                    .iter()
                    .map(StoredSection::to_api)
                    .collect::<diesel::QueryResult<_>>()?;
                let keys = surrogate_keys(row.id, sections.iter().map(|section| section.row.id));
                Parts::json(&body, section_list_etag(row.version()), row.updated_at, keys)
            }
            Part::Section(kind) => {
                let section = Part::section(slug, *kind, sections)?;
                Parts::json(
                    &section.to_api()?,
                    etag(Resource::Section, section.row.version()),
                    section.row.updated_at,
                    surrogate_keys(row.id, [section.row.id]),
                )
            }
            Part::Item(kind, id) => {
                let section = Part::section(slug, *kind, sections)?;
                let item = section
                    .items
                    .iter()
                    .find(|item| item.id == *id)
                    .ok_or_else(|| item_not_found(slug, *kind, *id))?;
                let version = Version {
                    id: item.id,
                    version: section.row.version,
                };
                Parts::json(
                    &item.to_api()?,
                    etag(Resource::Item, version),
                    section.row.updated_at,
                    surrogate_keys(row.id, [section.row.id]),
                )
            }
        }
    }

    /// The part as a response body with its validators.
    pub fn representation(
        &self,
        slug: &str,
        row: &ArticleRow,
        sections: &[StoredSection],
    ) -> Result<Representation, AppError> {
        self.represent(slug, row, sections, false)
    }

    /// The part as a response body; a `preview` (the part as a release will
    /// leave it) is no stored version, so its tag names its bytes.
    fn represent(
        &self,
        slug: &str,
        row: &ArticleRow,
        sections: &[StoredSection],
        preview: bool,
    ) -> Result<Representation, AppError> {
        let Parts {
            body,
            etag,
            modified,
            keys,
        } = self.parts(slug, row, sections)?;
        let etag = if preview { etag_of("p", &body) } else { etag };
        Ok(Representation::new(body.into(), etag, Some(modified), keys))
    }
}

/// What a read handler answers.
type Answer = Result<HttpResponse, AppError>;

/// Reads `part` of the article `slug` as `reader` may see it: from the
/// representation cache when it can, or, with `release`, as that release will
/// leave it (any token; `private, no-store`, never cached).
///
/// Not `async`: a cache hit is answered without awaiting anything, so the
/// handler's future stays small (see [`cached`]).
pub fn read<'a>(
    state: &'a AppState,
    req: &'a HttpRequest,
    reader: &'a Reader,
    request_id: RequestId,
    slug: &'a str,
    part: Part,
    release: Option<&'a str>,
) -> Either<Ready<Answer>, Pin<Box<dyn Future<Output = Answer> + 'a>>> {
    if let Some(release) = release {
        return Either::Right(Box::pin(async move {
            let (row, sections) = preview(state, reader, release, slug, request_id).await?;
            let representation = part.represent(slug, &row, &sections, true)?;
            Ok(respond(req, &representation, &state.cache_policy, true))
        }));
    }
    let key = part.cache_key(slug);
    cached(
        state,
        req,
        reader,
        RepresentationCache::article_group(slug),
        key,
        move || async move {
            let (row, sections) = load_article(state, reader, slug, part.kinds().as_deref()).await?;
            part.representation(slug, &row, &sections)
        },
    )
}

/// The answer to a write of `part`: the part as now stored, with its new
/// ETag (201 with `location` when the write created it). Drops the article's
/// cached representations first.
pub fn written(
    state: &AppState,
    slug: &str,
    part: Part,
    written: &write::Written,
    location: Option<String>,
) -> Result<HttpResponse, AppError> {
    state.cache.invalidate(slug);
    let representation = part.representation(slug, &written.article, &written.sections)?;
    Ok(super::written(representation, location.filter(|_| written.created)))
}

/// The answer to a delete: the article's cached representations dropped, 204.
pub fn deleted(state: &AppState, slug: &str) -> HttpResponse {
    state.cache.invalidate(slug);
    HttpResponse::NoContent()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The article (or a selection of its sections) as a response body with validators.
pub fn article_representation(
    row: &ArticleRow,
    sections: &[StoredSection],
    kinds: Option<&[SectionKind]>,
) -> Result<Representation, AppError> {
    Part::Article(kinds.map(<[SectionKind]>::to_vec)).representation(&row.slug, row, sections)
}

/// The article in its API shape: serialized, the body of `GET /v1/articles/{slug}`
/// (and the `article` of a sync entry, which is so the same bytes).
pub fn article_body<'a>(
    row: &ArticleRow,
    sections: impl IntoIterator<Item = &'a StoredSection>,
) -> diesel::QueryResult<Article> {
    Ok(Article {
        meta: row.to_meta()?,
        sections: sections
            .into_iter()
            .map(StoredSection::to_api)
            .collect::<diesel::QueryResult<_>>()?,
    })
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
async fn preview(
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
    let id = Uuid::try_parse(release).map_err(|_| super::paths::release_not_found(format!("{release:?}")))?;
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
async fn load_article(
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

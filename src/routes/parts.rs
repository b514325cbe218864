//! What the content routes share: which part of an article a route reads or
//! writes (the article, its section list, one section, one item), and how any
//! part is read (from the representation cache, or previewed from a release)
//! and answered after a write. Each concern of a content read is written here
//! once, whatever the part.

use std::future::{Future, Ready};
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use futures_util::future::Either;
use uuid::Uuid;

use super::caching::{Representation, cached, etag_of, respond};
use super::etags::{etag, in_locale, section_list_etag, selection_etag};
use super::paths::{article_not_found, item_not_found, section_not_found};
use super::{Editor, Reader, surrogate_keys, with_connection};
use crate::AppState;
use crate::cache::RepresentationCache;
use crate::content::locales::Locales;
use crate::content::model::{Article, Localized, Section};
use crate::content::store::{ArticleRow, StoredSection};
use crate::content::translations::{ReadLocale, Resolver, Texts, load_localized, walk_lone_item, walk_section};
use crate::content::{Precondition, Resource, SectionKind, write};
use crate::error::{AppError, Code};
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
    /// The resource whose version a write of the part is checked against.
    fn resource(&self) -> Resource {
        match self {
            Part::Section(_) => Resource::Section,
            Part::Item(..) => Resource::Item,
            Part::Article(_) | Part::Sections => Resource::Article,
        }
    }

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

    /// The part of the article `row` with `sections`, with its texts in
    /// `locale` (from `texts`) and its validators; 404 if the article does not have it.
    fn parts(&self, of: &Loaded<'_>) -> Result<Parts, AppError> {
        let Loaded {
            slug,
            row,
            sections,
            locale,
            texts,
        } = *of;
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
        let resolver = || Resolver::new(locale, Some(texts));
        let localized_section = |section: &StoredSection| -> Result<Localized<Section>, AppError> {
            let mut body = section.to_api()?;
            let mut resolver = resolver();
            walk_section(&mut body.content, "", &mut resolver.visit());
            resolver.images(&mut body.content, "");
            Ok(resolver.localized(body))
        };
        match self {
            Part::Article(kinds) => {
                let sections = shown(kinds);
                let etag = match kinds {
                    None => etag(Resource::Article, row.version()),
                    Some(kinds) => selection_etag(row.version(), kinds),
                };
                let keys = surrogate_keys(row.id, sections.iter().map(|section| section.row.id));
                let article = article_body(row, sections, locale, texts)?;
                Parts::json(&article, in_locale(etag, locale), row.updated_at, keys)
            }
            Part::Sections => {
                let body = sections
                    .iter()
                    .map(localized_section)
                    .collect::<Result<Vec<_>, AppError>>()?;
                let keys = surrogate_keys(row.id, sections.iter().map(|section| section.row.id));
                let etag = in_locale(section_list_etag(row.version()), locale);
                Parts::json(&body, etag, row.updated_at, keys)
            }
            Part::Section(kind) => {
                let section = Part::section(slug, *kind, sections)?;
                Parts::json(
                    &localized_section(section)?,
                    in_locale(etag(Resource::Section, section.row.version()), locale),
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
                let version = section.item_version(item.id);
                let mut body = item.to_api()?;
                let mut resolver = resolver();
                walk_lone_item(*kind, &mut body, &mut resolver.visit());
                if let Some(image) = &mut body.content.image {
                    let key =
                        crate::content::translations::item_key(*kind, *id, crate::content::translations::IMAGE_ALT);
                    resolver.image(image, &key, &|| "/image/alt".to_owned());
                }
                Parts::json(
                    &resolver.localized(body),
                    in_locale(etag(Resource::Item, version), locale),
                    section.row.updated_at,
                    surrogate_keys(row.id, [section.row.id]),
                )
            }
        }
    }

    /// The part as a response body with its validators, in `of`'s locale; a
    /// `preview` (the part as a release will leave it) is no stored version,
    /// so its tag names its bytes.
    pub fn represent(&self, of: &Loaded<'_>, preview: bool) -> Result<Representation, AppError> {
        let Parts {
            body,
            etag,
            modified,
            keys,
        } = self.parts(of)?;
        let etag = if preview { etag_of("p", &body) } else { etag };
        Ok(Representation::new(body.into(), etag, Some(modified), keys))
    }
}

/// An article as loaded for a read: its row, its sections, and its texts in
/// the locale read.
#[derive(Clone, Copy)]
pub struct Loaded<'a> {
    slug: &'a str,
    row: &'a ArticleRow,
    sections: &'a [StoredSection],
    locale: &'a ReadLocale,
    texts: &'a Texts,
}

impl<'a> Loaded<'a> {
    /// The article `slug` as `row` and `sections`, read in `locale` with `texts`.
    pub fn new(
        slug: &'a str,
        (row, sections): (&'a ArticleRow, &'a [StoredSection]),
        locale: &'a ReadLocale,
        texts: &'a Texts,
    ) -> Loaded<'a> {
        Loaded {
            slug,
            row,
            sections,
            locale,
            texts,
        }
    }
}

/// The locale a content read answers in: `?locale=` when given, otherwise
/// the best of `Accept-Language` among the configured locales (RFC 4647
/// lookup), otherwise the default.
#[derive(Debug, Clone)]
pub struct LocaleChoice {
    locales: Arc<Locales>,
    /// The chosen locale's code.
    pub code: String,
    /// Whether the URL named it (`?locale=`): then the answer does not vary by `Accept-Language`.
    pub explicit: bool,
}

impl LocaleChoice {
    /// The chosen locale with its chain.
    pub fn read_locale(&self) -> ReadLocale {
        ReadLocale::new(&self.locales, &self.code)
    }

    /// Whether it is the default locale.
    pub fn is_default(&self) -> bool {
        self.code == self.locales.default_code()
    }

    /// `key` of the representation cache for this locale: the default
    /// locale's entries keep the keys they always had.
    fn cache_key(&self, key: String) -> String {
        if self.is_default() {
            key
        } else {
            format!("{key}&locale={}", self.code)
        }
    }

    /// Adds `Content-Language` to a successful answer and, when the locale
    /// was negotiated, `Vary: Accept-Language` and `Content-Location` naming
    /// the explicit URL (so caches can key on it).
    fn headers(&self, req: &HttpRequest, mut response: HttpResponse) -> HttpResponse {
        if !(response.status().is_success() || response.status() == actix_web::http::StatusCode::NOT_MODIFIED) {
            return response;
        }
        let headers = response.headers_mut();
        if let Ok(language) = HeaderValue::from_str(&self.code) {
            headers.insert(header::CONTENT_LANGUAGE, language);
        }
        if !self.explicit {
            headers.insert(
                header::VARY,
                HeaderValue::from_static("Authorization, Accept-Encoding, Accept-Language"),
            );
            let separator = if req.query_string().is_empty() { "?" } else { "&" };
            let location = format!("{}{}{separator}locale={}", req.path(), query_of(req), self.code);
            if let Ok(location) = HeaderValue::from_str(&location) {
                headers.insert(header::CONTENT_LOCATION, location);
            }
        }
        response
    }
}

/// `?` and the request's query, if it has one.
fn query_of(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => String::new(),
        query => format!("?{query}"),
    }
}

/// Chooses the locale of a read from `?locale=` (`explicit`) or
/// `Accept-Language`; `Ok(None)` when `explicit` names a locale this node's
/// snapshot does not know (it may be new: read the locales again).
fn choose(state: &AppState, req: &HttpRequest, explicit: Option<&str>) -> Option<LocaleChoice> {
    let locales = state.locales.current();
    let (code, explicit) = match explicit {
        Some(code) => (locales.get(code)?.code.clone(), true),
        None => {
            let negotiated = req
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| locales.negotiate(value));
            let code = negotiated.map_or_else(|| locales.default_code().to_owned(), |locale| locale.code.clone());
            (code, false)
        }
    };
    Some(LocaleChoice {
        locales,
        code,
        explicit,
    })
}

/// The locale of a read: [`choose`], or, if `explicit` names a locale this
/// node does not know yet, [`choose_fresh`] (boxed: the common case stays small).
pub async fn locale_of(state: &AppState, req: &HttpRequest, explicit: Option<&str>) -> Result<LocaleChoice, AppError> {
    match choose(state, req, explicit) {
        Some(choice) => Ok(choice),
        None => Box::pin(choose_fresh(state, req, explicit)).await,
    }
}

/// [`choose`], reading the locales again first if they may have changed
/// (at most every 100 ms); 400 `unknown_locale` if the locale is still unknown.
pub async fn choose_fresh(
    state: &AppState,
    req: &HttpRequest,
    explicit: Option<&str>,
) -> Result<LocaleChoice, AppError> {
    if let Some(choice) = choose(state, req, explicit) {
        return Ok(choice);
    }
    if state.locales.may_reload() {
        let locales = with_connection(state, async |conn| Ok(Locales::load(conn).await?)).await?;
        if state.locales.set(locales) {
            state.cache.clear();
        }
    }
    choose(state, req, explicit).ok_or_else(|| unknown_locale(explicit.unwrap_or_default(), &state.locales.current()))
}

/// 400 `unknown_locale` for `code`, naming the configured ones.
pub fn unknown_locale(code: &str, locales: &Locales) -> AppError {
    let known: Vec<&str> = locales.all().iter().map(|locale| locale.code.as_str()).collect();
    AppError::bad_request(
        Code::UnknownLocale,
        format!(
            "`locale` {:?} is not a configured locale; configured: {}.",
            code.chars().take(40).collect::<String>(),
            known.join(", ")
        ),
    )
}

/// What the query of a content read says beside the part: a release to
/// preview (`?release=`), the locale (`?locale=`).
pub trait ReadQuery {
    /// The release to preview, if any.
    fn release(&self) -> Option<&str>;
    /// The locale asked for, if any.
    fn locale(&self) -> Option<&str>;
}

/// What a read handler answers.
type Answer = Result<HttpResponse, AppError>;

/// Reads `part` of the article `slug` as `reader` may see it, in the locale
/// `?locale=` (`locale`) or `Accept-Language` chooses: from the
/// representation cache when it can, or, with `release`, as that release will
/// leave it (any token; `private, no-store`, never cached).
///
/// Not `async`: a cache hit is answered without awaiting anything, so the
/// handler's future stays small (see [`cached`]).
pub fn read<'a>(
    reading: &'a Reading,
    slug: &'a str,
    part: Part,
    query: &'a impl ReadQuery,
) -> Either<Ready<Answer>, Pin<Box<dyn Future<Output = Answer> + 'a>>> {
    let Reading { state, req, reader } = reading;
    let (release, locale) = (query.release(), query.locale());
    let Some(choice) = choose(state, req, locale).filter(|_| release.is_none()) else {
        return Either::Right(Box::pin(async move {
            let choice = choose_fresh(state, req, locale).await?;
            match release {
                Some(release) => preview_in(reading, slug, part, release, choice).await,
                None => read_in(state, req, reader, slug, part, choice).await,
            }
        }));
    };
    read_in(state, req, reader, slug, part, choice)
}

/// [`read`] in the chosen locale, without a release.
fn read_in<'a>(
    state: &'a AppState,
    req: &'a HttpRequest,
    reader: &'a Reader,
    slug: &'a str,
    part: Part,
    choice: LocaleChoice,
) -> Either<Ready<Answer>, Pin<Box<dyn Future<Output = Answer> + 'a>>> {
    let key = part.cache_key(slug);
    let group = RepresentationCache::article_group(slug);
    cached_in(state, req, reader, group, key, choice, move |locale| async move {
        let (row, sections, texts) = load_article(state, reader, slug, part.kinds().as_deref(), &locale).await?;
        part.represent(&Loaded::new(slug, (&row, &sections), &locale, &texts), false)
    })
}

/// [`cached`] for a read in the chosen locale: each locale's answer is an
/// entry of its own, and the answer says which locale it is in.
pub fn cached_in<'a, F, Fut>(
    state: &'a AppState,
    req: &'a HttpRequest,
    reader: &'a Reader,
    group: &'a str,
    key: String,
    choice: LocaleChoice,
    build: F,
) -> Either<Ready<Answer>, Pin<Box<dyn Future<Output = Answer> + 'a>>>
where
    F: FnOnce(ReadLocale) -> Fut + 'a,
    Fut: Future<Output = Result<Representation, AppError>> + 'a,
{
    let key = choice.cache_key(key);
    let headers = choice.clone();
    let answer = cached(state, req, reader, group, key, move || build(choice.read_locale()));
    match answer {
        Either::Left(ready) => Either::Left(std::future::ready(
            ready.into_inner().map(|response| headers.headers(req, response)),
        )),
        Either::Right(miss) => Either::Right(Box::pin(
            miss.map(move |answer| answer.map(|response| headers.headers(req, response))),
        )),
    }
}

/// The default locale of this node's snapshot, for answers that have no other.
pub fn default_locale(state: &AppState) -> ReadLocale {
    let locales = state.locales.current();
    ReadLocale::new(&locales, locales.default_code())
}

/// The part as the release `release` will leave it, in the chosen locale.
async fn preview_in(reading: &Reading, slug: &str, part: Part, release: &str, choice: LocaleChoice) -> Answer {
    let Reading { state, req, reader } = reading;
    let (row, sections) = preview(state, reader, release, slug, reading.request_id()?).await?;
    let locale = choice.read_locale();
    let texts = if locale.is_default() {
        Texts::default()
    } else {
        let mut conn = state.pool.get().await?;
        crate::content::translations::load_texts(&mut conn, &[row.id], &locale, true, None)
            .await?
            .remove(&row.id)
            .unwrap_or_default()
    };
    let representation = part.represent(&Loaded::new(slug, (&row, &sections), &locale, &texts), true)?;
    Ok(choice.headers(req, respond(req, &representation, &state.cache_policy, true)))
}

/// `PUT` of a whole article or section (`part`): with `locale` other than the
/// default, its texts in that locale ([`put_translation`]); otherwise what
/// `parse` makes of the body (422 with every problem), [`put_whole`].
pub async fn put_part(
    edit: &Edit,
    slug: &str,
    part: Part,
    locale: Option<&str>,
    body: web::Payload,
    parse: impl FnOnce(&serde_json::Value) -> Result<write::Put<'static>, Vec<crate::content::error::FieldError>>,
) -> Result<HttpResponse, AppError> {
    let body = super::read_json(&edit.req, body).await?;
    if let Some(choice) = write_locale(&edit.state, &edit.req, locale).await? {
        return put_translation(edit, slug, part, choice, &body).await;
    }
    let put = parse(&body).map_err(crate::content::Error::Invalid)?;
    put_whole(edit, slug, part, put).await
}

/// `PUT` of a whole article or section (`part`) in the default locale: `put`
/// under the request's `If-Match`, answered as [`written`] (its URL the
/// `Location` if the write created it).
async fn put_whole(edit: &Edit, slug: &str, part: Part, put: write::Put<'static>) -> Result<HttpResponse, AppError> {
    let state = &edit.state;
    let target = edit.on(slug, part.resource());
    let written_part = with_connection(state, async |conn| Ok(write::put(conn, target, put).await?)).await?;
    let location = match &part {
        Part::Section(kind) => format!("/v1/articles/{slug}/sections/{kind}"),
        _ => format!("/v1/articles/{slug}"),
    };
    written(state, slug, part, &written_part, Some(location))
}

/// The answer to a write of `part`: the part as now stored (in the default
/// locale), with its new ETag (201 with `location` when the write created
/// it). Drops the article's cached representations first.
pub fn written(
    state: &AppState,
    slug: &str,
    part: Part,
    written: &write::Written,
    location: Option<String>,
) -> Result<HttpResponse, AppError> {
    state.cache.invalidate(slug);
    let locale = default_locale(state);
    let representation = part.represent(
        &Loaded::new(slug, (&written.article, &written.sections), &locale, &Texts::default()),
        false,
    )?;
    Ok(super::written(representation, location.filter(|_| written.created)))
}

/// The locale a write names with `?locale=`, when it is not the default
/// (400 `unknown_locale` if it is not configured); `None`: a write in the
/// default locale, as every write was before locales.
pub async fn write_locale(
    state: &AppState,
    req: &HttpRequest,
    locale: Option<&str>,
) -> Result<Option<LocaleChoice>, AppError> {
    let Some(code) = locale else { return Ok(None) };
    let choice = locale_of(state, req, Some(code)).await?;
    Ok((!choice.is_default()).then_some(choice))
}

/// `PUT` of `part` with `?locale=` (not the default): writes the texts of
/// `body` in that locale and answers the part as now read in it.
pub async fn put_translation(
    edit: &Edit,
    slug: &str,
    part: Part,
    choice: LocaleChoice,
    body: &serde_json::Value,
) -> Result<HttpResponse, AppError> {
    let state = &edit.state;
    let of = match &part {
        Part::Section(kind) => write::TranslationOf::Section(*kind),
        Part::Item(kind, id) => write::TranslationOf::Item(*kind, *id),
        Part::Article(_) | Part::Sections => write::TranslationOf::Article,
    };
    let target = edit.on(slug, part.resource());
    let locales = state.locales.current();
    let written = with_connection(state, async |conn| {
        let texts = write::Texts {
            of,
            locale: &choice.code,
            locales: &locales,
            body,
        };
        Ok(write::put(conn, target, write::Put::Texts(texts)).await?)
    })
    .await?;
    written_in(state, slug, part, &written, &choice).await
}

/// The answer to a write in `choice`'s locale: the part as an editor now
/// reads it in that locale. Drops the article's cached representations first.
pub async fn written_in(
    state: &AppState,
    slug: &str,
    part: Part,
    written: &write::Written,
    choice: &LocaleChoice,
) -> Result<HttpResponse, AppError> {
    state.cache.invalidate(slug);
    let locale = choice.read_locale();
    let id = written.article.id;
    let texts = with_connection(state, async |conn| {
        Ok(crate::content::translations::load_texts(conn, &[id], &locale, true, None).await?)
    })
    .await?
    .remove(&id)
    .unwrap_or_default();
    let representation = part.represent(
        &Loaded::new(slug, (&written.article, &written.sections), &locale, &texts),
        false,
    )?;
    Ok(super::written(representation, None))
}

/// The answer to a delete: the article's cached representations dropped, 204.
pub fn deleted(state: &AppState, slug: &str) -> HttpResponse {
    state.cache.invalidate(slug);
    HttpResponse::NoContent()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The article in its API shape in `locale` (texts from `texts`): serialized,
/// the body of `GET /v1/articles/{slug}` (and the `article` of a sync entry,
/// which is so the same bytes).
pub fn article_body<'a>(
    row: &ArticleRow,
    sections: impl IntoIterator<Item = &'a StoredSection>,
    locale: &ReadLocale,
    texts: &Texts,
) -> diesel::QueryResult<Article> {
    let mut article = Article {
        meta: row.to_meta()?,
        sections: sections
            .into_iter()
            .map(StoredSection::to_api)
            .collect::<diesel::QueryResult<_>>()?,
        locale: String::new(),
        fallbacks: Default::default(),
    };
    Resolver::new(locale, Some(texts)).article(&mut article);
    Ok(article)
}

/// A read: the app's state, the request (its validators, `Accept-*` and
/// `Authorization`) and who reads. What every content read handler is given.
pub struct Reading {
    pub state: web::Data<AppState>,
    pub req: HttpRequest,
    pub reader: Reader,
}

impl Reading {
    /// The request's id (recorded when a preview writes its revision).
    pub fn request_id(&self) -> Result<RequestId, AppError> {
        RequestId::extract(&self.req)
            .into_inner()
            .map_err(|err| AppError::Internal(err.to_string()))
    }
}

impl FromRequest for Reading {
    type Error = AppError;
    type Future = Either<Ready<Result<Reading, AppError>>, Pin<Box<dyn Future<Output = Result<Reading, AppError>>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Either::Left(std::future::ready(Err(AppError::Internal(
                "the app has no state".to_owned(),
            ))));
        };
        let reading = |reader| Reading {
            state,
            req: req.clone(),
            reader,
        };
        // Anonymous reads (most) are answered without a boxed future.
        match Reader::from_request(req, payload) {
            Either::Left(ready) => Either::Left(std::future::ready(ready.into_inner().map(reading))),
            Either::Right(authenticating) => {
                let reading = reading(Reader::Anonymous);
                Either::Right(Box::pin(async move {
                    let reader = authenticating.await?;
                    Ok(Reading { reader, ..reading })
                }))
            }
        }
    }
}

/// An editor's write (401/403 as [`Editor`], and counted against its write
/// limit): the app's state, the request (its `If-Match`, its body's
/// headers) and who writes.
pub struct Edit {
    pub state: web::Data<AppState>,
    pub req: HttpRequest,
    /// The editor's token name and the request id, recorded with the revision.
    pub actor: write::Actor,
}

impl Edit {
    /// What the request's `If-Match` asks of `resource`'s current version.
    pub fn precondition(&self, resource: Resource) -> Precondition {
        super::etags::precondition(&self.req, resource)
    }

    /// A write to the article `slug` on the terms of the request's `If-Match` for `resource`.
    pub fn on<'a>(&'a self, slug: &'a str, resource: Resource) -> write::Target<'a> {
        write::Target {
            slug,
            precondition: self.precondition(resource),
            actor: &self.actor,
        }
    }
}

impl FromRequest for Edit {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Edit, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let editor = Editor::from_request(req, payload);
        let request_id = RequestId::from_request(req, payload).into_inner();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let editor = editor.await?;
            let state = state.ok_or_else(|| AppError::Internal("the app has no state".to_owned()))?;
            let request_id = request_id.map_err(|err| AppError::Internal(err.to_string()))?;
            let actor = state.actor(editor.name, request_id.0);
            Ok(Edit { state, req, actor })
        })
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
    let actor = state.actor(name.clone(), request_id.0);
    with_connection(state, async |conn| {
        Ok(write::preview_article(conn, id, slug, reader.visibility(), actor).await?)
    })
    .await?
    .ok_or_else(|| article_not_found(slug))
}

/// The article and the sections of `kinds` (all if `None`), as `reader` may
/// see them, with the translations a read in `locale` uses; 404 otherwise.
async fn load_article(
    state: &AppState,
    reader: &Reader,
    slug: &str,
    kinds: Option<&[SectionKind]>,
    locale: &ReadLocale,
) -> Result<(ArticleRow, Vec<StoredSection>, Texts), AppError> {
    let mut conn = state.pool.get().await?;
    load_localized(&mut conn, slug, reader.visibility(), kinds, locale)
        .await?
        .ok_or_else(|| article_not_found(slug))
}

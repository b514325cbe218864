//! HTTP routes, one file per resource, plus what they share: the reader
//! extractor, JSON errors for actix's own failures, 404/405 for unknown routes.

pub mod articles;
pub mod assets;
pub mod caching;
pub mod etags;
pub mod locales;
pub mod parts;
pub mod paths;
pub mod releases;
pub mod revisions;
pub mod search;
pub mod sections;
pub mod sync;
pub mod system;
pub mod translations;
pub mod webhooks;

use actix_web::dev::{ResourceDef, ServiceResponse};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::IntoResponses;
use utoipa::openapi::OpenApi;
use uuid::Uuid;

use crate::error::{AppError, Code};

/// Registers every documented route; mounted under `/v1`.
pub fn configure(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(articles::list_articles)
        .service(articles::get_article)
        .service(sections::list_sections)
        .service(sections::get_section)
        .service(articles::put_article)
        .service(articles::delete_article)
        .service(sections::put_section)
        .service(sections::delete_section)
        .service(sections::get_item)
        .service(sections::put_item)
        .service(revisions::list_revisions)
        .service(revisions::get_revision)
        .service(revisions::restore_revision)
        .service(sync::sync)
        .service(search::search)
        .service(webhooks::create_webhook)
        .service(webhooks::list_webhooks)
        .service(webhooks::get_webhook)
        .service(webhooks::put_webhook)
        .service(webhooks::delete_webhook)
        .service(webhooks::list_deliveries)
        .service(webhooks::retry_delivery)
        .service(webhooks::ping_webhook)
        .service(webhooks::rotate_secret)
        .service(releases::create_release)
        .service(releases::list_releases)
        .service(releases::get_release)
        .service(releases::put_release)
        .service(releases::delete_release)
        .service(releases::stage_article)
        .service(releases::unstage_article)
        .service(releases::stage_section)
        .service(releases::unstage_section)
        .service(releases::publish_release)
        .service(locales::list_locales)
        .service(locales::put_locale)
        .service(locales::delete_locale)
        .service(translations::list_translations)
        .service(translations::put_translation_status)
        .service(assets::upload_asset)
        .service(assets::list_assets)
        .service(assets::get_asset)
        .service(assets::put_asset)
        .service(assets::delete_asset)
        .service(assets::serve_asset);
}

/// The problem responses of the API, one type per status, each described
/// once; the `code` in the body says which case it is. Operations list the
/// sets below (or single statuses) in their `responses`.
pub mod problems {
    use std::collections::BTreeMap;

    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};

    /// `status` answered with a problem document, as `description` says.
    pub(super) fn problem(status: u16, description: &str) -> BTreeMap<String, RefOr<Response>> {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        let response = ResponseBuilder::new()
            .description(description)
            .content(crate::error::PROBLEM_JSON, content)
            .build();
        BTreeMap::from([(status.to_string(), RefOr::T(response))])
    }

    macro_rules! statuses {
        ($($(#[doc = $doc:literal])+ $name:ident = $status:literal;)*) => {$(
            $(#[doc = $doc])+
            pub struct $name;

            impl utoipa::IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    problem($status, concat!($($doc),+).trim())
                }
            }
        )*};
    }

    statuses! {
        /// The request is malformed (`code`: an unknown query parameter, a bad `limit` or `cursor`, malformed JSON, a bad slug to create).
        BadRequest = 400;
        /// No token where one is needed, or an unknown, expired or revoked one (a bad token is never read as anonymous).
        Unauthorized = 401;
        /// The token's role may not do this (a `preview` token writing or reading history; webhooks are for `admin` tokens).
        Forbidden = 403;
        /// Nothing has this path; `code` says what is missing (`article_not_found`, `release_not_found`, `webhook_not_found`, …).
        NotFound = 404;
        /// The write conflicts with what is stored (`article_exists`, `release_closed`, `release_too_large`, `release_conflict` listing `conflicts`, `release_unappliable`).
        Conflict = 409;
        /// `If-Match` does not name the current version; the body gives the current ETag and version.
        PreconditionFailed = 412;
        /// The body is larger than 256 KiB.
        TooLarge = 413;
        /// The body is not UTF-8 `application/json` without a `Content-Encoding`.
        UnsupportedMediaType = 415;
        /// The body breaks the rules; `errors` lists every problem with a JSON pointer.
        Invalid = 422;
        /// The resource exists and `If-Match` is missing.
        PreconditionRequired = 428;
        /// Too many writes by this token, or failed authentications from this address; see `Retry-After` and `RateLimit-*`.
        TooManyRequests = 429;
        /// The database is unreachable; retry after `Retry-After` seconds.
        Unavailable = 503;
    }
}

/// Declares a set of [`problems`] that operations list together.
macro_rules! problem_set {
    ($($(#[doc = $doc:literal])+ $name:ident = [$($status:ident),+];)*) => {$(
        $(#[doc = $doc])+
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::response::Response>> {
                let mut all = std::collections::BTreeMap::new();
                $(all.append(&mut <problems::$status as IntoResponses>::responses());)+
                all
            }
        }
    )*};
}

problem_set! {
    /// The failures of a write with a body.
    WriteProblems = [
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, TooLarge,
        UnsupportedMediaType, Invalid, PreconditionRequired, TooManyRequests
    ];
    /// The failures of a write without a body (deletes, restores).
    DeleteProblems = [Unauthorized, Forbidden, NotFound, PreconditionFailed, PreconditionRequired, TooManyRequests];
    /// The failures of reads that take a token.
    ReadProblems = [Unauthorized, TooManyRequests];
    /// The failures of the editor-only history reads.
    HistoryProblems = [BadRequest, Unauthorized, Forbidden, NotFound, TooManyRequests];
    /// The failures of the admin-only webhook routes.
    WebhookProblems = [BadRequest, Unauthorized, Forbidden, NotFound, TooLarge, UnsupportedMediaType, Invalid, TooManyRequests];
}

/// The answer of a delete: 204 "Deleted", or one of the problems `P`.
pub struct Deleted<P>(std::marker::PhantomData<P>);

impl<P: IntoResponses> IntoResponses for Deleted<P> {
    fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::response::Response>> {
        let mut all = P::responses();
        let deleted = utoipa::openapi::ResponseBuilder::new().description("Deleted").build();
        all.insert("204".to_owned(), utoipa::openapi::RefOr::T(deleted));
        all
    }
}

/// Declares problem responses described for the operations that list them
/// (rather than by the shared [`problems`]), one `status => description` each.
macro_rules! problem_responses {
    ($(#[doc = $doc:literal])+ $name:ident { $($status:literal => $description:literal,)+ }) => {
        $(#[doc = $doc])+
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::response::Response>> {
                let mut all = std::collections::BTreeMap::new();
                $(all.append(&mut $crate::routes::problems::problem($status, $description));)+
                all
            }
        }
    };
}
pub(crate) use problem_responses;

pub use crate::auth::{Editor, Reader};

/// Runs `work` on a pooled connection, the wait for it included, so that a
/// request is answered within 5 s even when the database stalls (when
/// recycling a pooled connection, each ping can take the pool's timeout).
/// Writes in `work` run under the deadline themselves (their answer says
/// whether they may have been committed); this bounds the whole a little
/// later, so theirs wins unless the wait for the connection was long.
pub async fn with_connection<T>(
    state: &crate::AppState,
    work: impl AsyncFnOnce(&mut diesel_async::AsyncPgConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let bound = crate::db::DEADLINE + std::time::Duration::from_millis(800);
    let run = async {
        let mut conn = state.pool.get().await?;
        work(&mut conn).await
    };
    tokio::time::timeout(bound, run)
        .await
        .unwrap_or_else(|_| Err(AppError::Unavailable(crate::db::deadline_cause())))
}

/// A JSON answer no cache may keep (what tokens see of editors' and admins' resources).
pub(crate) fn private_json<T: serde::Serialize>(
    status: actix_web::http::StatusCode,
    value: &T,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .content_type("application/json")
        .body(serde_json::to_vec(value)?))
}

/// A private JSON resource with its `etag` (if it has one), and its
/// `location` when `status` says it was created.
pub(crate) fn private_resource<T: serde::Serialize>(
    status: actix_web::http::StatusCode,
    etag: Option<String>,
    location: impl FnOnce() -> String,
    value: &T,
) -> Result<HttpResponse, AppError> {
    let mut response = private_json(status, value)?;
    let headers = response.headers_mut();
    if let Some(etag) = etag {
        headers.insert(actix_web::http::header::ETAG, header_value(etag)?);
    }
    if status == actix_web::http::StatusCode::CREATED {
        headers.insert(actix_web::http::header::LOCATION, header_value(location())?);
    }
    Ok(response)
}

fn header_value(text: String) -> Result<actix_web::http::header::HeaderValue, AppError> {
    actix_web::http::header::HeaderValue::try_from(text).map_err(|err| AppError::Internal(err.to_string()))
}

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why a body's `Content-Type`/`Content-Encoding` is refused (415), if it is:
/// lamina reads `application/json` in UTF-8, as sent.
fn unsupported_body(req: &HttpRequest) -> Option<String> {
    use actix_web::http::header;
    let headers = req.headers();
    if let Some(coding) = headers.get(header::CONTENT_ENCODING) {
        let coding = coding.to_str().unwrap_or("?").trim();
        if !coding.eq_ignore_ascii_case("identity") {
            return Some(format!(
                "The body is encoded with {coding:?}; send it without a Content-Encoding."
            ));
        }
    }
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
        return Some("The body must be JSON: send Content-Type: application/json.".to_owned());
    };
    let content_type = content_type.to_str().unwrap_or("?");
    let mut parts = content_type.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Some(format!(
            "The body must be JSON (Content-Type: application/json), not {content_type:?}."
        ));
    }
    for parameter in parts.filter(|parameter| !parameter.is_empty()) {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let value = value.trim().trim_matches('"');
        if !name.trim().eq_ignore_ascii_case("charset") || !value.eq_ignore_ascii_case("utf-8") {
            return Some(format!(
                "The body must be UTF-8 JSON; {parameter:?} is not accepted (send Content-Type: application/json)."
            ));
        }
    }
    None
}

/// Reads a JSON request body: 415 unless UTF-8 `application/json` without a
/// content coding, 413 past [`MAX_BODY_BYTES`], 400 unless well formed.
pub async fn read_json(req: &HttpRequest, payload: web::Payload) -> Result<serde_json::Value, AppError> {
    if let Some(detail) = unsupported_body(req) {
        return Err(AppError::UnsupportedMediaType { detail });
    }
    let body = read_body(req, payload, MAX_BODY_BYTES).await?;
    serde_json::from_slice(&body)
        .map_err(|err| AppError::bad_request(Code::MalformedJson, format!("The body is not well-formed JSON: {err}.")))
}

/// Reads a request body of at most `limit` bytes: 413 as soon as the
/// declared length or what has arrived is larger (nothing more is kept),
/// 408 if it does not arrive within the body timeout.
pub async fn read_body(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<web::BytesMut, AppError> {
    use futures_util::StreamExt;
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let timeout = req.app_data::<web::Data<crate::AppState>>().map_or(
        std::time::Duration::from_secs(crate::config::DEFAULT_BODY_TIMEOUT_SECS),
        |state| state.body_timeout,
    );
    let read = async {
        let mut body = web::BytesMut::with_capacity(declared.unwrap_or_default().min(limit).min(1 << 20));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|err| match err {
                actix_web::error::PayloadError::Incomplete(_) => AppError::bad_request(
                    Code::UnreadableBody,
                    "The body ended before it was complete, or its chunked encoding is malformed: nothing was \
                     written.",
                ),
                err => AppError::bad_request(Code::UnreadableBody, format!("The body could not be read: {err}.")),
            })?;
            if body.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| AppError::RequestTimeout {
            seconds: timeout.as_secs(),
        })?
}

/// The problem answering a domain error.
impl From<crate::content::Error> for AppError {
    fn from(err: crate::content::Error) -> AppError {
        use crate::content::Error;
        match err {
            Error::ArticleNotFound { slug } => paths::article_not_found(&slug),
            Error::SectionNotFound { slug, kind } => paths::section_not_found(&slug, kind),
            Error::ItemNotFound { slug, kind, id } => paths::item_not_found(&slug, kind, id),
            Error::RevisionNotFound { slug, id } => paths::revision_not_found(&slug, id),
            Error::ArticleExists { slug } => AppError::Conflict {
                code: Code::ArticleExists,
                detail: format!(
                    "The article {slug:?} was created by another request just now; read it and retry with If-Match."
                ),
            },
            Error::RevisionNotRestorable { id, errors } => AppError::Conflict {
                code: Code::RevisionNotRestorable,
                detail: format!(
                    "Revision {id} was stored under older content rules and breaks today's ({}); edit the article instead.",
                    first_of(&errors, 3, "; ", |error| format!("{} {}", error.pointer, error.message))
                ),
            },
            Error::PreconditionRequired => AppError::PreconditionRequired,
            Error::PreconditionFailed { current: None } => AppError::PreconditionFailed {
                current_etag: None,
                current_version: None,
                detail: "If-Match was sent, but the resource does not exist.".to_owned(),
            },
            Error::PreconditionFailed {
                current: Some((resource, version)),
            } => {
                let current = etags::etag(resource, version);
                AppError::PreconditionFailed {
                    detail: format!(
                        "If-Match does not name the current version ({current}); read it again and reapply your change."
                    ),
                    current_etag: Some(current),
                    current_version: Some(version.version),
                }
            }
            Error::Invalid(errors) => AppError::Validation {
                total: errors.len(),
                errors: errors
                    .into_iter()
                    .take(crate::error::MAX_LISTED_ERRORS)
                    .map(|error| crate::error::FieldError {
                        pointer: error.pointer,
                        message: error.message,
                    })
                    .collect(),
            },
            Error::Unavailable(cause) => AppError::Unavailable(cause),
            Error::WriteInterrupted { maybe_committed, cause } => AppError::WriteInterrupted { maybe_committed, cause },
            Error::TimedOut { maybe_committed, cause } => AppError::TimedOut { maybe_committed, cause },
            Error::Database(err) => err.into(),
            Error::Corrupt(what) => AppError::Internal(what),
            Error::ReleaseNotFound { id } => paths::release_not_found(id),
            Error::NotStaged { id, slug, kind } => AppError::not_found(
                Code::StagedChangeNotFound,
                match kind {
                    None => format!("The release {id} stages no whole article {slug:?}."),
                    Some(kind) => format!("The release {id} stages no {kind} section of {slug:?}."),
                },
            ),
            Error::WebhookNotFound { id } => paths::webhook_not_found(id),
            Error::DeliveryNotFound { id } => paths::delivery_not_found(id),
            Error::AssetNotFound { id } => paths::asset_not_found(id),
            Error::AssetInUse { id, uses } => AppError::Conflict {
                code: Code::AssetInUse,
                detail: format!(
                    "The asset {id} is used by {} image(s) in content ({}{}); remove them first \
                     (GET /v1/assets/{id} lists them in used_by).",
                    uses.len(),
                    first_of(&uses, 10, ", ", |found| format!("{} at {}", found.slug, found.pointer)),
                    if uses.len() > 10 { ", …" } else { "" }
                ),
            },
            Error::Storage(cause) => AppError::Internal(format!("asset store: {cause}")),
            Error::StoreUnavailable(cause) => AppError::StoreUnavailable(cause),
            Error::ReleaseClosed { id, state } => AppError::Conflict {
                code: Code::ReleaseClosed,
                detail: format!("The release {id} is {state} and can no longer change."),
            },
            Error::ReleaseTooLarge { id, limit } => AppError::Conflict {
                code: Code::ReleaseTooLarge,
                detail: format!(
                    "The release {id} already stages {limit} changes, the most one release can publish at once; \
                     publish it, or stage the rest in another release."
                ),
            },
            Error::ReleaseConflict(conflicts) => AppError::ReleaseConflict(conflicts),
            Error::ReleaseUnappliable { slug, kind, reason } => AppError::Conflict {
                code: Code::ReleaseUnappliable,
                detail: match kind {
                    None => format!(
                        "The article {slug:?} staged in this release cannot be applied: {reason}. \
                         Nothing was applied; unstage or restage it."
                    ),
                    Some(kind) => format!(
                        "The section {kind} of {slug:?} staged in this release cannot be applied: {reason}. \
                         Nothing was applied; unstage or restage it."
                    ),
                },
            },
            Error::SyncCursorExpired => AppError::Gone {
                code: Code::SyncCursorExpired,
                detail: "This cursor is older than the change log keeps; start again without a cursor.".to_owned(),
            },
        }
    }
}

/// The answer to a successful write: the stored representation, never cached;
/// `201` with `Location` when it created the resource.
pub fn written(representation: caching::Representation, created: Option<String>) -> HttpResponse {
    let mut response = match &created {
        Some(_) => HttpResponse::Created(),
        None => HttpResponse::Ok(),
    };
    if let Some(location) = created {
        response.insert_header((actix_web::http::header::LOCATION, location));
    }
    response
        .insert_header((actix_web::http::header::ETAG, representation.etag.as_str()))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(representation.body)
}

/// `Surrogate-Key` value: the article and each section shown.
pub fn surrogate_keys(article: Uuid, sections: impl IntoIterator<Item = Uuid>) -> String {
    std::iter::once(format!("article-{}", article.simple()))
        .chain(sections.into_iter().map(|id| format!("section-{}", id.simple())))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every route path with its methods, to tell 405 from 404.
#[derive(Debug, Default)]
pub struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    /// The routes of the spec, plus the undocumented ones (spec, docs and studio).
    pub fn from_openapi(api: &OpenApi) -> RouteTable {
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                ];
                (
                    ResourceDef::new(path.as_str()),
                    methods.into_iter().filter(|(_, on)| *on).map(|(m, _)| m).collect(),
                )
            })
            .collect();
        for path in [
            "/openapi.json",
            "/docs",
            "/docs/{tail:.*}",
            "/studio",
            "/studio/",
            "/studio/assets/{version}/{file}",
        ] {
            routes.push((ResourceDef::new(path), vec![Method::GET]));
        }
        RouteTable(routes)
    }

    /// The `Allow` value for `path`, if any route has that path.
    pub fn allow(&self, path: &str) -> Option<String> {
        let methods: Vec<&Method> = self
            .0
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods)
            .collect();
        if methods.is_empty() {
            return None;
        }
        let mut names: Vec<&str> = methods.iter().map(|method| method.as_str()).collect();
        if names.contains(&"GET") {
            names.push("HEAD");
        }
        names.sort_unstable();
        names.dedup();
        Some(names.join(", "))
    }
}

/// The default service: 405 with `Allow` for a known path, 404 otherwise.
pub async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> Result<HttpResponse, AppError> {
    match routes.allow(req.path()) {
        Some(allow) => Err(AppError::MethodNotAllowed { allow }),
        None => Err(AppError::not_found(
            Code::RouteNotFound,
            format!("There is no route {:?}; see /docs/ for the API.", req.path()),
        )),
    }
}

/// `/docs` → `/docs/` (Swagger UI's relative links need the slash).
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

/// The policy of Swagger UI's responses under `/docs/`: its scripts and styles
/// from this origin only (it styles elements inline), requests to this origin
/// only (the spec), no frames, no forms, no plugins.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// A response under `/docs/` (Swagger UI): a file the UI does not have is a
/// 404 problem, not an empty body.
pub fn missing_docs_file(response: ServiceResponse) -> ServiceResponse {
    if response.status() != actix_web::http::StatusCode::NOT_FOUND || response.response().error().is_some() {
        return response;
    }
    let detail = format!(
        "The API documentation has no file {:?}; see /docs/.",
        response.request().path()
    );
    response.error_response(AppError::not_found(Code::RouteNotFound, detail))
}

/// Every response under `/docs/` carries the UI's Content-Security-Policy
/// and may not be framed.
pub fn secure_docs(response: &mut ServiceResponse) {
    secure_page(response.headers_mut(), DOCS_CONTENT_SECURITY_POLICY);
}

/// The headers of every page lamina serves to a browser (the API docs, the
/// studio): its `content_security_policy`, no framing, no sniffing, no referrer.
pub fn secure_page(headers: &mut actix_web::http::header::HeaderMap, content_security_policy: &'static str) {
    use actix_web::http::header::{self, HeaderValue};
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(content_security_policy),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// The query parameters a route knows; any other is a 400.
pub trait KnownParams {
    /// Their names.
    const NAMES: &'static [&'static str];
}

/// A route's query: only the parameters it knows (400
/// `unknown_query_parameter` naming the others, so a typo such as
/// `?section=` never silently returns everything), parsed as `T` (400
/// `invalid_query` when malformed).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Most unknown names a problem lists, and most characters of each.
const LISTED_UNKNOWN: usize = 5;
const LISTED_NAME_CHARS: usize = 40;

fn parse_query<T: serde::de::DeserializeOwned + KnownParams>(text: &str) -> Result<T, AppError> {
    let invalid = |err: actix_web::error::QueryPayloadError| {
        AppError::bad_request(Code::InvalidQuery, format!("The query string is invalid: {err}."))
    };
    // Most requests have no query: no names to check.
    if text.is_empty() {
        return web::Query::<T>::from_query(text)
            .map(web::Query::into_inner)
            .map_err(invalid);
    }
    let pairs = web::Query::<Vec<(String, String)>>::from_query(text).map_err(invalid)?;
    let mut unknown: Vec<String> = Vec::new();
    let mut more_unknown = false;
    for (name, _) in pairs.iter() {
        if T::NAMES.contains(&name.as_str()) || unknown.contains(name) {
            continue;
        }
        // Only a few are named: the rest need no (quadratic) bookkeeping.
        if unknown.len() == LISTED_UNKNOWN {
            more_unknown = true;
            break;
        }
        unknown.push(name.clone());
    }
    if !unknown.is_empty() {
        let listed: Vec<String> = unknown
            .iter()
            .map(|name| format!("{:?}", name.chars().take(LISTED_NAME_CHARS).collect::<String>()))
            .collect();
        let known = if T::NAMES.is_empty() {
            "this route takes none".to_owned()
        } else {
            format!("known: {}", T::NAMES.join(", "))
        };
        let more = if more_unknown { ", …" } else { "" };
        return Err(AppError::bad_request(
            Code::UnknownQueryParameter,
            format!("Unknown query parameter(s) {}{more}; {known}.", listed.join(", ")),
        ));
    }
    web::Query::<T>::from_query(text)
        .map(web::Query::into_inner)
        .map_err(invalid)
}

impl<T: serde::de::DeserializeOwned + KnownParams> actix_web::FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Query<T>, AppError>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// The query of routes that take no parameters.
#[derive(Debug, serde::Deserialize)]
pub struct NoParams {}

impl KnownParams for NoParams {
    const NAMES: &'static [&'static str] = &[];
}

/// The first `most` of `items`, each as `show` says, joined by `separator` (for a problem's detail).
fn first_of<T>(items: &[T], most: usize, separator: &str, show: impl Fn(&T) -> String) -> String {
    items.iter().take(most).map(show).collect::<Vec<_>>().join(separator)
}

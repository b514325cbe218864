//! One error type for every failure a request can meet, answered as
//! `application/problem+json` (RFC 9457) with a stable `code`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every problem `code` lamina sends today, for programs to branch on. Codes
/// may be added without a new API version: treat an unknown one by `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "article_not_found")]
pub enum Code {
    /// 404: no route has this path.
    RouteNotFound,
    /// 405: the path exists, the method does not (see `Allow`).
    MethodNotAllowed,
    /// 404: no article has this slug (or it is a draft and the reader is anonymous).
    ArticleNotFound,
    /// 404: the path names no section kind.
    UnknownSectionKind,
    /// 404: the article has no section of this kind.
    SectionNotFound,
    /// 404: the section has no item with this id.
    ItemNotFound,
    /// 404: the article has no revision with this id.
    RevisionNotFound,
    /// 404: no webhook endpoint has this id.
    WebhookNotFound,
    /// 404: the webhook endpoint has no delivery with this id.
    DeliveryNotFound,
    /// 404: no release has this id.
    ReleaseNotFound,
    /// 404: no asset (uploaded image) has this id, or its URL names another file name.
    AssetNotFound,
    /// 409: content uses the asset (the detail says where): remove those uses first.
    AssetInUse,
    /// 400: an asset's `filename` is not a file name of 1-200 characters.
    InvalidFilename,
    /// 400: `w`, `fm` or `q` of an image URL is not one lamina makes (`w` from the ladder, no wider than the original).
    InvalidVariant,
    /// 422: the image has more than 50 megapixels (refused before decoding).
    ImageTooLarge,
    /// 422: the bytes start as an image of their type but cannot be read as one.
    InvalidImage,
    /// 404: the release stages nothing for this article or section.
    StagedChangeNotFound,
    /// 409: the release is published or failed: it can no longer change.
    ReleaseClosed,
    /// 409: the release already stages as many changes as one publication can apply (200).
    ReleaseTooLarge,
    /// 409: staged articles or sections changed live since they were staged.
    ReleaseConflict,
    /// 409: a staged change cannot be applied as it stands though nothing moved live
    /// (e.g. a section of an article that does not exist); nothing was applied.
    ReleaseUnappliable,
    /// 400: the query string is malformed, or a search's `q` is empty, too
    /// long or holds nothing to search for.
    InvalidQuery,
    /// 400: the query names a parameter the route does not know.
    UnknownQueryParameter,
    /// 400: `limit` is out of range.
    InvalidLimit,
    /// 400: `cursor` is not one the server handed out.
    InvalidCursor,
    /// 410: the sync cursor is older than the change log keeps; start again without a cursor.
    SyncCursorExpired,
    /// 400: `sections` names an unknown kind.
    InvalidSections,
    /// 400: a slug to create is malformed.
    InvalidSlug,
    /// 400: `locale` names no configured locale (or is no BCP 47 tag).
    UnknownLocale,
    /// 404: no locale has this code.
    LocaleNotFound,
    /// 409: the locale holds text, is another locale's fallback, or is the default.
    LocaleInUse,
    /// 400: the body is not well-formed JSON.
    MalformedJson,
    /// 400: the body could not be read.
    UnreadableBody,
    /// 415: the body is not UTF-8 `application/json` without a content coding.
    UnsupportedMediaType,
    /// 413: the body is larger than 256 KiB.
    PayloadTooLarge,
    /// 408: the request (head or body) did not arrive in time.
    RequestTimeout,
    /// 422: the body breaks the content rules; `errors` lists the first 100 problems, `errors_total` counts them all.
    ValidationFailed,
    /// 401: no token, or an unknown, expired or revoked one.
    Unauthorized,
    /// 403: the token's role may not do this.
    Forbidden,
    /// 428: a write to an existing resource needs `If-Match`.
    PreconditionRequired,
    /// 412: `If-Match` does not name the current version.
    PreconditionFailed,
    /// 409: another request created the article meanwhile.
    ArticleExists,
    /// 409: the revision's snapshot breaks today's content rules; it cannot be restored as it is.
    RevisionNotRestorable,
    /// 409: the write conflicts with content stored meanwhile.
    Conflict,
    /// 429: over a rate limit; see `Retry-After`.
    TooManyRequests,
    /// 503: the database is unreachable; see `Retry-After`.
    ServiceUnavailable,
    /// 500: a fault of the server; its cause is logged.
    InternalError,
    /// 400: a cross-origin request the CORS policy refuses.
    CorsRequestRefused,
    /// 400: the request is not well-formed HTTP/1.1.
    BadRequestFraming,
    /// 431: the request head is too large.
    RequestHeaderTooLarge,
}

impl Code {
    /// The wire name, e.g. `article_not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::RouteNotFound => "route_not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::ArticleNotFound => "article_not_found",
            Code::UnknownSectionKind => "unknown_section_kind",
            Code::SectionNotFound => "section_not_found",
            Code::ItemNotFound => "item_not_found",
            Code::RevisionNotFound => "revision_not_found",
            Code::WebhookNotFound => "webhook_not_found",
            Code::DeliveryNotFound => "delivery_not_found",
            Code::ReleaseNotFound => "release_not_found",
            Code::AssetNotFound => "asset_not_found",
            Code::AssetInUse => "asset_in_use",
            Code::InvalidFilename => "invalid_filename",
            Code::InvalidVariant => "invalid_variant",
            Code::ImageTooLarge => "image_too_large",
            Code::InvalidImage => "invalid_image",
            Code::StagedChangeNotFound => "staged_change_not_found",
            Code::ReleaseClosed => "release_closed",
            Code::ReleaseTooLarge => "release_too_large",
            Code::ReleaseConflict => "release_conflict",
            Code::ReleaseUnappliable => "release_unappliable",
            Code::InvalidQuery => "invalid_query",
            Code::UnknownQueryParameter => "unknown_query_parameter",
            Code::InvalidLimit => "invalid_limit",
            Code::InvalidCursor => "invalid_cursor",
            Code::SyncCursorExpired => "sync_cursor_expired",
            Code::InvalidSections => "invalid_sections",
            Code::UnknownLocale => "unknown_locale",
            Code::LocaleNotFound => "locale_not_found",
            Code::LocaleInUse => "locale_in_use",
            Code::InvalidSlug => "invalid_slug",
            Code::MalformedJson => "malformed_json",
            Code::UnreadableBody => "unreadable_body",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::PayloadTooLarge => "payload_too_large",
            Code::RequestTimeout => "request_timeout",
            Code::ValidationFailed => "validation_failed",
            Code::Unauthorized => "unauthorized",
            Code::Forbidden => "forbidden",
            Code::PreconditionRequired => "precondition_required",
            Code::PreconditionFailed => "precondition_failed",
            Code::ArticleExists => "article_exists",
            Code::RevisionNotRestorable => "revision_not_restorable",
            Code::Conflict => "conflict",
            Code::TooManyRequests => "too_many_requests",
            Code::ServiceUnavailable => "service_unavailable",
            Code::InternalError => "internal_error",
            Code::CorsRequestRefused => "cors_request_refused",
            Code::BadRequestFraming => "bad_request_framing",
            Code::RequestHeaderTooLarge => "request_header_too_large",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with a request body, as a problem document lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// RFC 6901 pointer to the offending value in the request body (`""` is the whole body).
    #[schema(example = "/items/2/title")]
    pub pointer: String,
    /// What is wrong, in plain words.
    #[schema(example = "must not be empty")]
    pub message: String,
}

/// The schema of [`Problem::code`]: one of today's [`Code`]s, or any other
/// string, so that a client generated today decodes a code added later
/// (README: compatibility) instead of failing on it.
fn code_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    AnyOfBuilder::new()
        .item(utoipa::openapi::Ref::from_schema_name("Code"))
        .item(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(
            "Stable snake_case name of the problem, for programs to branch on: one of `Code`, \
             or a code added after this spec (treat it by `status`).",
        ))
        .examples(["article_not_found"])
        .build()
        .into()
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:lamina:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:lamina:problem:article_not_found")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    #[schema(example = "Not Found")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 404)]
    pub status: u16,
    /// What went wrong in this case, in plain words.
    #[schema(example = "No article has the slug \"no-such-article\".")]
    pub detail: String,
    /// Stable snake_case name of the problem, for programs to branch on.
    #[schema(schema_with = code_schema)]
    pub code: Code,
    /// For `validation_failed`: the problems of the request body, at most the
    /// first 100 (`errors_total` says how many there are in all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For `validation_failed`: how many problems the request body has, listed or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 2)]
    pub errors_total: Option<usize>,
    /// For `precondition_failed`: the current ETag of the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "\"s.7f3d2a108e4b4c1fb2a60d9e8c7b6a54.3\"")]
    pub current_etag: Option<String>,
    /// For `precondition_failed`: the current version of the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 3)]
    pub current_version: Option<i64>,
    /// For `release_conflict`: every staged article or section that changed live since it was staged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Vec<crate::content::error::ReleaseConflict>>,
    /// The request's id (as in the `X-Request-Id` response header), for support and logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "4f0c2a9d7e1b-1042")]
    pub request_id: Option<String>,
}

/// Everything that can go wrong while answering a request.
#[derive(Debug)]
pub enum AppError {
    /// 400: the request itself is malformed (query, cursor, JSON syntax).
    BadRequest { code: Code, detail: String },
    /// 401: missing, unknown, expired or revoked token.
    Unauthorized { detail: String },
    /// 403: the token is valid but its role may not do this.
    Forbidden { detail: String },
    /// 404: no such route, article, section or item.
    NotFound { code: Code, detail: String },
    /// 405: the path exists, the method does not.
    MethodNotAllowed { allow: String },
    /// 409: the write conflicts with stored state.
    Conflict { code: Code, detail: String },
    /// 409 `release_conflict`: staged changes whose live versions moved.
    ReleaseConflict(Vec<crate::content::error::ReleaseConflict>),
    /// 410: what the request names existed once and is gone for good.
    Gone { code: Code, detail: String },
    /// 412: `If-Match` names another version.
    PreconditionFailed {
        current_etag: Option<String>,
        current_version: Option<i64>,
        detail: String,
    },
    /// 408: the request body did not arrive in time; the connection is closed.
    RequestTimeout { seconds: u64 },
    /// 413: the body is larger than allowed.
    PayloadTooLarge { limit: usize },
    /// 415: the body is not JSON.
    UnsupportedMediaType { detail: String },
    /// 422: the body is JSON but breaks the rules: the first
    /// [`MAX_LISTED_ERRORS`] problems and how many there are in all.
    Validation { errors: Vec<FieldError>, total: usize },
    /// 422: the body (not JSON: an image) cannot be taken as it is.
    Unprocessable { code: Code, detail: String },
    /// 428: a write to an existing resource without `If-Match`.
    PreconditionRequired,
    /// 429: over a rate limit of `limit` per minute; retry after `retry_after` seconds.
    TooManyRequests {
        limit: u32,
        retry_after: u64,
        detail: String,
    },
    /// 503: the database cannot be reached. The cause is logged, not sent.
    Unavailable(String),
    /// 503: the asset store (an S3-compatible object store) cannot be
    /// reached, or cannot serve now. The cause is logged, not sent.
    StoreUnavailable(String),
    /// 503: the database was lost during a write; `maybe_committed` if that
    /// happened while committing, so the write may have been stored.
    WriteInterrupted { maybe_committed: bool, cause: String },
    /// 503: a write did not finish in time (`cause`: the deadline, or a
    /// statement or lock timeout); `maybe_committed` if while committing.
    TimedOut { maybe_committed: bool, cause: String },
    /// 500: a bug. The cause is logged, not sent.
    Internal(String),
}

/// The most problems a 422 lists: a small body can break the rules thousands
/// of times over, and its answer must stay small.
pub const MAX_LISTED_ERRORS: usize = 100;

impl AppError {
    /// A 404 with a code such as `article_not_found`.
    pub fn not_found(code: Code, detail: impl Into<String>) -> AppError {
        AppError::NotFound {
            code,
            detail: detail.into(),
        }
    }

    /// A 400 with a code such as `invalid_query`.
    pub fn bad_request(code: Code, detail: impl Into<String>) -> AppError {
        AppError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    fn code(&self) -> Code {
        self.kind().0
    }

    /// The problem's `code` and HTTP status, one arm per variant.
    fn kind(&self) -> (Code, StatusCode) {
        match self {
            AppError::BadRequest { code, .. } => (*code, StatusCode::BAD_REQUEST),
            AppError::NotFound { code, .. } => (*code, StatusCode::NOT_FOUND),
            AppError::Conflict { code, .. } => (*code, StatusCode::CONFLICT),
            AppError::Unprocessable { code, .. } => (*code, StatusCode::UNPROCESSABLE_ENTITY),
            AppError::Gone { code, .. } => (*code, StatusCode::GONE),
            AppError::Unauthorized { .. } => (Code::Unauthorized, StatusCode::UNAUTHORIZED),
            AppError::Forbidden { .. } => (Code::Forbidden, StatusCode::FORBIDDEN),
            AppError::MethodNotAllowed { .. } => (Code::MethodNotAllowed, StatusCode::METHOD_NOT_ALLOWED),
            AppError::PreconditionFailed { .. } => (Code::PreconditionFailed, StatusCode::PRECONDITION_FAILED),
            AppError::ReleaseConflict(_) => (Code::ReleaseConflict, StatusCode::CONFLICT),
            AppError::RequestTimeout { .. } => (Code::RequestTimeout, StatusCode::REQUEST_TIMEOUT),
            AppError::PayloadTooLarge { .. } => (Code::PayloadTooLarge, StatusCode::PAYLOAD_TOO_LARGE),
            AppError::UnsupportedMediaType { .. } => (Code::UnsupportedMediaType, StatusCode::UNSUPPORTED_MEDIA_TYPE),
            AppError::Validation { .. } => (Code::ValidationFailed, StatusCode::UNPROCESSABLE_ENTITY),
            AppError::PreconditionRequired => (Code::PreconditionRequired, StatusCode::PRECONDITION_REQUIRED),
            AppError::TooManyRequests { .. } => (Code::TooManyRequests, StatusCode::TOO_MANY_REQUESTS),
            AppError::Unavailable(_)
            | AppError::StoreUnavailable(_)
            | AppError::WriteInterrupted { .. }
            | AppError::TimedOut { .. } => (Code::ServiceUnavailable, StatusCode::SERVICE_UNAVAILABLE),
            AppError::Internal(_) => (Code::InternalError, StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    fn detail(&self) -> String {
        match self {
            AppError::BadRequest { detail, .. }
            | AppError::Unauthorized { detail }
            | AppError::Forbidden { detail }
            | AppError::NotFound { detail, .. }
            | AppError::Conflict { detail, .. }
            | AppError::Unprocessable { detail, .. }
            | AppError::Gone { detail, .. }
            | AppError::PreconditionFailed { detail, .. }
            | AppError::TooManyRequests { detail, .. }
            | AppError::UnsupportedMediaType { detail } => detail.clone(),
            AppError::MethodNotAllowed { allow } => format!("This resource supports {allow}."),
            AppError::RequestTimeout { seconds } => {
                format!("The request body did not arrive within {seconds} s; the connection is closed.")
            }
            AppError::PayloadTooLarge { limit } => format!("The request body is larger than {limit} bytes."),
            AppError::ReleaseConflict(conflicts) => format!(
                "{} staged article(s) or section(s) changed live since they were staged; see `conflicts`. Nothing was applied.",
                conflicts.len()
            ),
            AppError::Validation { errors, total } if errors.len() < *total => format!(
                "The request body has {total} problem(s); `errors` lists the first {} of {total}.",
                errors.len()
            ),
            AppError::Validation { total, .. } => format!("The request body has {total} problem(s); see `errors`."),
            AppError::PreconditionRequired => {
                "This write changes an existing resource: send If-Match with its current ETag (or `*`).".to_owned()
            }
            AppError::Unavailable(_) => "The database is unreachable; try again shortly.".to_owned(),
            AppError::StoreUnavailable(_) => "The asset store is unreachable; try again shortly.".to_owned(),
            AppError::WriteInterrupted {
                maybe_committed: false, ..
            } => "The database connection was lost before this write was committed: nothing was written. \
                  Try again shortly."
                .to_owned(),
            AppError::WriteInterrupted {
                maybe_committed: true, ..
            } => "The database connection was lost while this write was being committed: it may or may not \
                  have been stored. Read the resource (or its revisions) before retrying."
                .to_owned(),
            AppError::TimedOut {
                maybe_committed: false,
                cause,
            } => format!("This write did not finish in time ({cause}): nothing was written. Try again shortly."),
            AppError::TimedOut {
                maybe_committed: true,
                cause,
            } => format!(
                "This write did not finish in time ({cause}) while it was being committed: it may or may not \
                 have been stored. Read the resource (or its revisions) before retrying."
            ),
            AppError::Internal(_) => "The server failed to answer; the cause has been logged.".to_owned(),
        }
    }

    /// The problem document of this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let (current_etag, current_version) = match self {
            AppError::PreconditionFailed {
                current_etag,
                current_version,
                ..
            } => (current_etag.clone(), *current_version),
            _ => (None, None),
        };
        Problem {
            problem_type: format!("urn:lamina:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code(),
            errors: match self {
                AppError::Validation { errors, .. } => Some(errors.clone()),
                _ => None,
            },
            errors_total: match self {
                AppError::Validation { total, .. } => Some(*total),
                _ => None,
            },
            current_etag,
            current_version,
            conflicts: match self {
                AppError::ReleaseConflict(conflicts) => Some(conflicts.clone()),
                _ => None,
            },
            request_id: None,
        }
    }

    /// The problem+json response, naming the request's id if known.
    pub fn to_response(&self, request_id: Option<&str>) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response
            .content_type(PROBLEM_JSON)
            .insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            AppError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            AppError::Unauthorized { .. } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"lamina\""));
            }
            AppError::RequestTimeout { .. } => {
                // The rest of the body may still come: the connection cannot be reused.
                response.force_close();
            }
            AppError::Unavailable(_)
            | AppError::StoreUnavailable(_)
            | AppError::WriteInterrupted { .. }
            | AppError::TimedOut { .. } => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            AppError::TooManyRequests { limit, retry_after, .. } => {
                response
                    .insert_header((header::RETRY_AFTER, retry_after.to_string()))
                    .insert_header(("RateLimit-Limit", limit.to_string()))
                    .insert_header(("RateLimit-Remaining", "0"))
                    .insert_header(("RateLimit-Reset", retry_after.to_string()));
            }
            _ => {}
        }
        let mut problem = self.problem();
        problem.request_id = request_id.map(str::to_owned);
        let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
        response.body(body)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Unavailable(cause)
            | AppError::StoreUnavailable(cause)
            | AppError::Internal(cause)
            | AppError::WriteInterrupted { cause, .. }
            | AppError::TimedOut { cause, .. } => {
                write!(f, "{}: {cause}", self.code())
            }
            _ => write!(f, "{}: {}", self.code(), self.detail()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind().1
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Unavailable(cause) => log::warn!("database unavailable: {cause}"),
            AppError::StoreUnavailable(cause) => log::warn!("asset store unavailable: {cause}"),
            AppError::WriteInterrupted { maybe_committed, cause } => {
                log::warn!("database lost during a write (maybe committed: {maybe_committed}): {cause}")
            }
            AppError::TimedOut { maybe_committed, cause } => {
                log::warn!("a write timed out (maybe committed: {maybe_committed}): {cause}")
            }
            AppError::Internal(cause) => log::error!("internal error: {cause}"),
            _ => {}
        }
        self.to_response(None)
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> AppError {
        use diesel::result::{DatabaseErrorKind, Error};
        if crate::db::is_unavailable(&err) {
            return AppError::Unavailable(err.to_string());
        }
        match err {
            // Every query that may find nothing asks for an `Option`.
            Error::NotFound => AppError::Internal("a row the query expected is missing".to_owned()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::Conflict {
                code: Code::Conflict,
                detail: "The write conflicts with content stored meanwhile; read it again and retry.".to_owned(),
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<crate::db::DeadlineExceeded> for AppError {
    fn from(_: crate::db::DeadlineExceeded) -> AppError {
        AppError::Unavailable(format!(
            "the database did not answer within {} s",
            crate::db::DEADLINE.as_secs()
        ))
    }
}

impl From<serde_json::Error> for AppError {
    fn from(err: serde_json::Error) -> AppError {
        AppError::Internal(format!("serializing a response: {err}"))
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> AppError {
        AppError::Unavailable(err.to_string())
    }
}

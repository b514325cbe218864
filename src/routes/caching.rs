//! Validators and conditional requests for read responses (RFC 9110 §8.8, §13).

use std::future::Future;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::DateTime;

use crate::AppState;
use crate::auth::Reader;
use crate::cache::Coding;
pub use crate::cache::Representation;
use crate::error::AppError;

/// The coding to use for `Accept-Encoding` (brotli first), if any.
fn preferred_coding(req: &HttpRequest) -> Option<Coding> {
    let accepted = req.headers().get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    let mut best = None;
    for item in accepted.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let refused = parts.any(|param| {
            param
                .strip_prefix("q=")
                .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        let coding = match name.as_str() {
            "br" => Coding::Brotli,
            "gzip" | "x-gzip" => Coding::Gzip,
            _ => continue,
        };
        if !refused && (best.is_none() || coding == Coding::Brotli) {
            best = Some(coding);
        }
    }
    best
}

/// How shared caches may keep public responses.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    /// The `Cache-Control` value of public responses.
    pub public: HeaderValue,
}

/// A strong ETag over bytes, for resources without a version of their own.
pub fn etag_of(prefix: &str, bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("\"{prefix}.{hex}\"")
}

/// The opaque part of each entity tag in a header value (`W/` prefixes dropped).
fn entity_tags(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(|tag| tag.strip_prefix("W/").unwrap_or(tag))
}

/// Whether `If-None-Match` (weak comparison) matches `etag`.
fn none_match_hits(value: &str, etag: &str) -> bool {
    value.trim() == "*" || entity_tags(value).any(|tag| tag == etag)
}

/// `true` if the request's preconditions say the client's copy is current.
fn not_modified(req: &HttpRequest, representation: &Representation) -> bool {
    let headers = req.headers();
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        return value
            .to_str()
            .is_ok_and(|value| none_match_hits(value, &representation.etag));
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| DateTime::parse_from_rfc2822(value).ok());
    match (since, representation.last_modified()) {
        (Some(since), Some((_, modified))) => *modified <= since.timestamp(),
        _ => false,
    }
}

/// `200` with the body, or `304` without, each with validators and caching headers.
/// `private` responses (to authenticated readers) must not be stored by any cache.
pub fn respond(
    req: &HttpRequest,
    representation: &Representation,
    policy: &CachePolicy,
    private: bool,
) -> HttpResponse {
    let fresh = not_modified(req, representation);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response.insert_header((header::ETAG, representation.etag_header().clone()));
    if let Some((modified, _)) = representation.last_modified() {
        response.insert_header((header::LAST_MODIFIED, modified.clone()));
    }
    if private {
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")));
    } else {
        response.insert_header((header::CACHE_CONTROL, policy.public.clone()));
        if let Some(keys) = representation.surrogate_keys() {
            response.insert_header((HeaderName::from_static("surrogate-key"), keys.clone()));
        }
    }
    response.insert_header((header::VARY, HeaderValue::from_static("Authorization, Accept-Encoding")));
    if fresh {
        return response.finish();
    }
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
    // Cached representations carry their compressed variants; others are
    // left to the Compress middleware (off the worker thread, at a cheap level).
    let encoded = preferred_coding(req).and_then(|coding| representation.encoded(coding).map(|bytes| (coding, bytes)));
    match encoded {
        Some((coding, bytes)) => {
            response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static(coding.name())));
            response.body(bytes.clone())
        }
        None => response.body(representation.body.clone()),
    }
}

/// Answers a public read from the representation cache when it can; otherwise
/// builds the representation and, for anonymous readers, keeps it under
/// `key` (built by the route from parsed, normalized parameters).
pub async fn cached<F, Fut>(
    state: &AppState,
    req: &HttpRequest,
    reader: &Reader,
    group: &str,
    key: String,
    build: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Representation, AppError>>,
{
    let public = !reader.is_authenticated();
    if public && let Some(representation) = state.cache.get(group, &key) {
        return Ok(respond(req, &representation, &state.cache_policy, false));
    }
    let ticket = state.cache.ticket(group);
    let representation = match crate::db::deadline(build()).await {
        Ok(representation) => representation,
        // The database is unreachable: the last known public copy beats a 503.
        Err(AppError::Unavailable(cause)) if public => match state.cache.get_stale(group, &key) {
            Some(stale) => {
                log::warn!("database unavailable ({cause}); answering {key} from the stale cache");
                return Ok(respond(req, &stale, &state.cache_policy, false));
            }
            None => return Err(AppError::Unavailable(cause)),
        },
        Err(err) => return Err(err),
    };
    if !public {
        return Ok(respond(req, &representation, &state.cache_policy, true));
    }
    let representation = Arc::new(representation.with_compressed_variants());
    state.cache.insert(group, key, representation.clone(), ticket);
    Ok(respond(req, &representation, &state.cache_policy, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_picks_brotli_then_gzip_and_honours_q_zero() {
        let coding = |value: &str| {
            let req = actix_web::test::TestRequest::default()
                .insert_header(("Accept-Encoding", value))
                .to_http_request();
            preferred_coding(&req)
        };
        assert_eq!(coding("gzip, deflate, br"), Some(Coding::Brotli));
        assert_eq!(coding("gzip"), Some(Coding::Gzip));
        assert_eq!(coding("br;q=0, gzip;q=0.5"), Some(Coding::Gzip));
        assert_eq!(coding("identity"), None);
        assert_eq!(coding("gzip;q=0"), None);
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_lists() {
        let etag = "\"s.1.2\"";
        assert!(none_match_hits("\"s.1.2\"", etag));
        assert!(none_match_hits("W/\"s.1.2\"", etag));
        assert!(none_match_hits("\"x\", W/\"s.1.2\"", etag));
        assert!(none_match_hits("*", etag));
        assert!(!none_match_hits("\"s.1.3\"", etag));
        assert!(!none_match_hits("", etag));
    }
}

//! Validators and conditional requests for read responses (RFC 9110 §8.8, §13).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

/// A serialized read response with its validators.
#[derive(Debug, Clone)]
pub struct Representation {
    /// The JSON body.
    pub body: actix_web::web::Bytes,
    /// The strong entity tag, quoted: `"s.<id>.<version>"`.
    pub etag: String,
    /// When the resource last changed, if it has one date.
    pub last_modified: Option<DateTime<Utc>>,
    /// CDN purge keys: the article and the sections the body shows.
    pub surrogate_keys: String,
}

impl Representation {
    /// Serializes `value` as the body.
    pub fn json<T: serde::Serialize>(
        value: &T,
        etag: String,
        last_modified: Option<DateTime<Utc>>,
        surrogate_keys: String,
    ) -> Result<Representation, crate::error::AppError> {
        let body = serde_json::to_vec(value)
            .map_err(|err| crate::error::AppError::Internal(format!("serializing a response: {err}")))?;
        Ok(Representation {
            body: body.into(),
            etag,
            last_modified,
            surrogate_keys,
        })
    }
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
    match (since, representation.last_modified) {
        (Some(since), Some(modified)) => modified.timestamp() <= since.timestamp(),
        _ => false,
    }
}

/// `200` with the body, or `304` without, each with validators and caching headers.
/// `private` responses (to authenticated readers) must not be stored by any cache.
pub fn respond(req: &HttpRequest, representation: Representation, policy: &CachePolicy, private: bool) -> HttpResponse {
    let fresh = not_modified(req, &representation);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response.insert_header((header::ETAG, representation.etag.as_str()));
    if let Some(modified) = representation.last_modified {
        response.insert_header((
            header::LAST_MODIFIED,
            modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        ));
    }
    if private {
        response.insert_header((header::CACHE_CONTROL, "private, no-store"));
    } else {
        response.insert_header((header::CACHE_CONTROL, policy.public.clone()));
        response.insert_header(("Surrogate-Key", representation.surrogate_keys.as_str()));
    }
    response.insert_header((header::VARY, "Authorization, Accept-Encoding"));
    if fresh {
        return response.finish();
    }
    response.content_type("application/json").body(representation.body)
}

#[cfg(test)]
mod tests {
    use super::*;

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

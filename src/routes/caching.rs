//! Validators and conditional requests for read responses (RFC 9110 §8.8, §13).

use std::future::Future;
use std::sync::{Arc, OnceLock};

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

use crate::AppState;
use crate::auth::Reader;
use crate::error::AppError;

/// A serialized read response with its validators, ready to send many times.
#[derive(Debug, Clone)]
pub struct Representation {
    /// The JSON body.
    pub body: Bytes,
    /// The strong entity tag, quoted: `"s.<id>.<version>"`.
    pub etag: String,
    etag_header: HeaderValue,
    /// When the resource last changed, as an HTTP date (and in seconds, for `If-Modified-Since`).
    last_modified: Option<(HeaderValue, i64)>,
    /// CDN purge keys: the article and the sections the body shows.
    surrogate_keys: Option<HeaderValue>,
    /// The body compressed, made on first request and kept with the rest.
    gzip: OnceLock<Option<Bytes>>,
    brotli: OnceLock<Option<Bytes>>,
}

/// A content coding lamina sends pre-compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
}

/// Bodies smaller than this are sent as they are.
const MIN_COMPRESSED_BYTES: usize = 512;

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

fn compress(coding: Coding, body: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let compressed = match coding {
        Coding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(body).ok()?;
            encoder.finish().ok()?
        }
        Coding::Brotli => {
            let mut out = Vec::new();
            {
                let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
                encoder.write_all(body).ok()?;
            }
            out
        }
    };
    (compressed.len() < body.len()).then(|| compressed.into())
}

impl Representation {
    /// A representation of `body` with its validators.
    pub fn new(
        body: actix_web::web::Bytes,
        etag: String,
        last_modified: Option<DateTime<Utc>>,
        surrogate_keys: String,
    ) -> Representation {
        let etag_header = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"invalid\""));
        let last_modified = last_modified.and_then(|at| {
            let text = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            HeaderValue::from_str(&text).ok().map(|value| (value, at.timestamp()))
        });
        let surrogate_keys = HeaderValue::from_str(&surrogate_keys).ok();
        Representation {
            body,
            etag,
            etag_header,
            last_modified,
            surrogate_keys,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        }
    }

    /// The body in `coding`, compressed once and kept; `None` if not worth it.
    fn encoded(&self, coding: Coding) -> Option<&Bytes> {
        if self.body.len() < MIN_COMPRESSED_BYTES {
            return None;
        }
        let slot = match coding {
            Coding::Gzip => &self.gzip,
            Coding::Brotli => &self.brotli,
        };
        slot.get_or_init(|| compress(coding, &self.body)).as_ref()
    }

    /// Serializes `value` as the body.
    pub fn json<T: serde::Serialize>(
        value: &T,
        etag: String,
        last_modified: Option<DateTime<Utc>>,
        surrogate_keys: String,
    ) -> Result<Representation, crate::error::AppError> {
        let body = serde_json::to_vec(value)
            .map_err(|err| crate::error::AppError::Internal(format!("serializing a response: {err}")))?;
        Ok(Representation::new(body.into(), etag, last_modified, surrogate_keys))
    }

    /// The `ETag` header value.
    pub fn etag_header(&self) -> &HeaderValue {
        &self.etag_header
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
    match (since, &representation.last_modified) {
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
    response.insert_header((header::ETAG, representation.etag_header.clone()));
    if let Some((modified, _)) = &representation.last_modified {
        response.insert_header((header::LAST_MODIFIED, modified.clone()));
    }
    if private {
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")));
    } else {
        response.insert_header((header::CACHE_CONTROL, policy.public.clone()));
        if let Some(keys) = &representation.surrogate_keys {
            response.insert_header((HeaderName::from_static("surrogate-key"), keys.clone()));
        }
    }
    response.insert_header((header::VARY, HeaderValue::from_static("Authorization, Accept-Encoding")));
    if fresh {
        return response.finish();
    }
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
    let encoded = preferred_coding(req).and_then(|coding| representation.encoded(coding).map(|bytes| (coding, bytes)));
    match encoded {
        Some((coding, bytes)) => {
            let name = match coding {
                Coding::Brotli => "br",
                Coding::Gzip => "gzip",
            };
            response.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static(name)));
            response.body(bytes.clone())
        }
        None => response.body(representation.body.clone()),
    }
}

/// Answers a public read from the representation cache when it can; otherwise
/// builds the representation and, for anonymous readers, keeps it.
pub async fn cached<F, Fut>(
    state: &AppState,
    req: &HttpRequest,
    reader: &Reader,
    group: &str,
    build: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Representation, AppError>>,
{
    let public = !reader.is_authenticated();
    let key = req.uri().path_and_query().map_or("", |target| target.as_str());
    if public && let Some(representation) = state.cache.get(group, key) {
        return Ok(respond(req, &representation, &state.cache_policy, false));
    }
    let generation = state.cache.generation();
    let representation = match build().await {
        Ok(representation) => Arc::new(representation),
        // The database is unreachable: the last known public copy beats a 503.
        Err(AppError::Unavailable(cause)) if public => match state.cache.get_stale(group, key) {
            Some(stale) => {
                log::warn!("database unavailable ({cause}); answering {key} from the stale cache");
                return Ok(respond(req, &stale, &state.cache_policy, false));
            }
            None => return Err(AppError::Unavailable(cause)),
        },
        Err(err) => return Err(err),
    };
    if public {
        state.cache.insert(group, key, representation.clone(), generation);
    }
    Ok(respond(req, &representation, &state.cache_policy, !public))
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

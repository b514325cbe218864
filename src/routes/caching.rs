//! Validators and conditional requests for read responses (RFC 9110 §8.8, §13).

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::http::header::{
    self, AcceptEncoding, Encoding, Header as _, HeaderName, HeaderValue, IfModifiedSince, IfNoneMatch, Preference,
    Quality,
};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse};
use futures_util::future::Either;

use crate::AppState;
use crate::auth::Reader;
use crate::cache::Coding;
pub use crate::cache::Representation;
use crate::error::AppError;

/// The coding to use for `Accept-Encoding`, if any: the one of brotli and
/// gzip the client rates highest (brotli on a tie), by name or through `*`;
/// none when it rates neither above zero or names `identity` with a higher rating.
fn preferred_coding(req: &HttpRequest) -> Option<Coding> {
    // Most clients without compression send no header at all: nothing to parse.
    if !req.headers().contains_key(header::ACCEPT_ENCODING) {
        return None;
    }
    let accepted = AcceptEncoding::parse(req).ok()?;
    let quality_of = |wanted: &[&str], through_any: bool| {
        let mut any = None;
        for item in &accepted.0 {
            match &item.item {
                Preference::Specific(Encoding::Known(coding)) if wanted.contains(&coding.as_str()) => {
                    return Some(item.quality);
                }
                Preference::Specific(Encoding::Unknown(name))
                    if wanted.iter().any(|wanted| name.eq_ignore_ascii_case(wanted)) =>
                {
                    return Some(item.quality);
                }
                Preference::Any if through_any => any = Some(item.quality),
                Preference::Any => {}
                Preference::Specific(_) => {}
            }
        }
        any
    };
    let brotli = quality_of(&["br"], true).unwrap_or(Quality::ZERO);
    let gzip = quality_of(&["gzip", "x-gzip"], true).unwrap_or(Quality::ZERO);
    let (coding, quality) = if brotli >= gzip {
        (Coding::Brotli, brotli)
    } else {
        (Coding::Gzip, gzip)
    };
    // Uncompressed only when the client rates `identity` itself higher.
    let identity = quality_of(&["identity"], false).unwrap_or(Quality::ZERO);
    (quality > Quality::ZERO && quality >= identity).then_some(coding)
}

/// How shared caches may keep public responses.
#[derive(Debug, Clone)]
pub struct CachePolicy {
    /// The `Cache-Control` value of public responses.
    pub public: HeaderValue,
}

/// A strong ETag over bytes, for resources without a version of their own.
pub fn etag_of(prefix: &str, bytes: &[u8]) -> String {
    format!("\"{prefix}.{}\"", content_hash(bytes))
}

/// 24 hex digits of the SHA-256 of `bytes`: a name that changes with them.
pub fn content_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `If-None-Match` (weak comparison, RFC 9110 §13.1.2) names `etag`
/// (quoted, strong). The usual request repeats the ETag as it was sent: that
/// is compared as bytes; anything else is parsed as the typed header.
pub(crate) fn none_match_hits(req: &HttpRequest, etag: &str) -> bool {
    let headers = req.headers();
    let Some(first) = headers.get(header::IF_NONE_MATCH) else {
        return false;
    };
    let raw = first.as_bytes();
    if raw == etag.as_bytes() || raw.strip_prefix(b"W/") == Some(etag.as_bytes()) {
        return true;
    }
    let opaque = etag.strip_prefix('"').and_then(|etag| etag.strip_suffix('"'));
    match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => true,
        Ok(IfNoneMatch::Items(tags)) => opaque.is_some_and(|opaque| tags.iter().any(|tag| tag.tag() == opaque)),
        Err(_) => false,
    }
}

/// `true` if the request's preconditions say the client's copy is current:
/// `If-None-Match` when sent, otherwise `If-Modified-Since` (any HTTP date format).
pub(crate) fn not_modified(req: &HttpRequest, representation: &Representation) -> bool {
    if req.headers().contains_key(header::IF_NONE_MATCH) {
        return none_match_hits(req, &representation.etag);
    }
    let Some((_, modified)) = representation.last_modified() else {
        return false;
    };
    if !req.headers().contains_key(header::IF_MODIFIED_SINCE) {
        return false;
    }
    let Ok(IfModifiedSince(since)) = IfModifiedSince::parse(req) else {
        return false;
    };
    let since = SystemTime::from(since);
    let since = match since.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    *modified <= since
}

/// `304` if the client's copy of `representation` is current, else `200`
/// (whether it is, and the response so far, with its `ETag`; no body yet).
pub fn validated(req: &HttpRequest, representation: &Representation) -> (bool, HttpResponse) {
    let fresh = not_modified(req, representation);
    let mut response = HttpResponse::new(if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    });
    response
        .headers_mut()
        .insert(header::ETAG, representation.etag_header().clone());
    (fresh, response)
}

/// `200` with the body, or `304` without, each with validators and caching headers.
/// `private` responses (to authenticated readers) must not be stored by any cache.
pub fn respond(
    req: &HttpRequest,
    representation: &Representation,
    policy: &CachePolicy,
    private: bool,
) -> HttpResponse {
    let (fresh, mut response) = validated(req, representation);
    // Straight into the header map: every name and value is already checked.
    let headers = response.headers_mut();
    if let Some((modified, _)) = representation.last_modified() {
        headers.insert(header::LAST_MODIFIED, modified.clone());
    }
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    } else {
        headers.insert(header::CACHE_CONTROL, policy.public.clone());
        if let Some(keys) = representation.surrogate_keys() {
            headers.insert(HeaderName::from_static("surrogate-key"), keys.clone());
        }
    }
    headers.insert(header::VARY, HeaderValue::from_static("Authorization, Accept-Encoding"));
    if fresh {
        return response;
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = negotiated_body(req, representation, headers);
    response.set_body(body).map_into_boxed_body()
}

/// The body in the client's preferred coding when `representation` has it
/// pre-compressed (setting `Content-Encoding`), otherwise as it is: a body too
/// small to compress is marked [`AS_IS`] for the Compress middleware to pass
/// by, others are left to it (at a cheap level).
pub(crate) fn negotiated_body(
    req: &HttpRequest,
    representation: &Representation,
    headers: &mut actix_web::http::header::HeaderMap,
) -> actix_web::web::Bytes {
    let coding = preferred_coding(req);
    let encoded = coding.and_then(|coding| representation.encoded(coding).map(|bytes| (coding, bytes)));
    match encoded {
        Some((coding, bytes)) => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
            bytes.clone()
        }
        None => {
            if coding.is_some() && representation.sent_as_is() {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(AS_IS));
            }
            representation.body.clone()
        }
    }
}

/// The `Content-Encoding` that tells the Compress middleware to leave a body
/// as it is (it compresses any body without one, a 300-byte item on every
/// request: about 460,000 instructions of brotli set-up). Not for clients:
/// [`unmark_as_is`] takes it off again outside that middleware.
const AS_IS: &str = "identity";

/// Takes off the [`AS_IS`] mark (a response leaves with no `Content-Encoding`).
pub fn unmark_as_is<B>(response: &mut actix_web::dev::ServiceResponse<B>) {
    let headers = response.headers_mut();
    if headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|coding| coding == AS_IS)
    {
        headers.remove(header::CONTENT_ENCODING);
    }
}

/// What a read handler answers.
type Answer = Result<HttpResponse, AppError>;

/// Answers a public read from the representation cache when it can; otherwise
/// builds the representation and, for anonymous readers, keeps it under
/// `key` (built by the route from parsed, normalized parameters).
///
/// A hit is answered without awaiting anything: the returned future is then
/// ready and small, and the (large) database future of a miss lives in a box
/// of its own, so the handler's future stays small to allocate and move.
pub fn cached<'a, F, Fut>(
    state: &'a AppState,
    req: &'a HttpRequest,
    reader: &'a Reader,
    group: &'a str,
    key: String,
    build: F,
) -> Either<Ready<Answer>, Pin<Box<dyn Future<Output = Answer> + 'a>>>
where
    F: FnOnce() -> Fut + 'a,
    Fut: Future<Output = Result<Representation, AppError>> + 'a,
{
    let public = !reader.is_authenticated();
    if !public {
        return Either::Right(Box::pin(build_and_keep(state, req, public, group, key, build)));
    }
    match state.cache.get_answered(key) {
        Ok((representation, answered)) => {
            // For the fast path of repeats (`crate::repeat`): this answer
            // holds while this entry is current.
            req.extensions_mut().insert(answered);
            Either::Left(ready(Ok(respond(req, &representation, &state.cache_policy, false))))
        }
        Err(key) => Either::Right(Box::pin(build_and_keep(state, req, public, group, key, build))),
    }
}

/// The miss path of [`cached`].
async fn build_and_keep<F, Fut>(
    state: &AppState,
    req: &HttpRequest,
    public: bool,
    group: &str,
    key: String,
    build: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Representation, AppError>>,
{
    let ticket = state.cache.ticket(group);
    let representation = match crate::db::deadline(build()).await {
        Ok(representation) => representation,
        // The database is unreachable: the last known public copy beats a 503.
        Err(AppError::Unavailable(cause)) if public => match state.cache.get_stale(&key) {
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
    // Kept as it is at once; its pre-compressed variants (brotli at a high
    // quality) are made off the request path and replace it when ready.
    // Until then the Compress middleware encodes answers at a cheap level.
    let representation = Arc::new(representation);
    crate::cache::insert_and_compress(&state.cache, group, key, representation.clone(), ticket);
    Ok(respond(req, &representation, &state.cache_policy, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = actix_web::test::TestRequest::default();
        for header in headers {
            req = req.append_header(*header);
        }
        req.to_http_request()
    }

    #[test]
    fn accept_encoding_picks_brotli_then_gzip_and_honours_q_values() {
        let coding = |value: &str| preferred_coding(&request(&[("Accept-Encoding", value)]));
        assert_eq!(coding("gzip, deflate, br"), Some(Coding::Brotli));
        assert_eq!(coding("gzip, deflate, br, zstd"), Some(Coding::Brotli));
        assert_eq!(coding("gzip"), Some(Coding::Gzip));
        assert_eq!(coding("x-gzip"), Some(Coding::Gzip));
        assert_eq!(coding("GZIP"), Some(Coding::Gzip));
        assert_eq!(coding("br;q=0, gzip;q=0.5"), Some(Coding::Gzip));
        assert_eq!(coding("br;q=0.4, gzip;q=0.5"), Some(Coding::Gzip));
        assert_eq!(coding("br;q=0.5, gzip;q=0.5"), Some(Coding::Brotli));
        assert_eq!(coding("identity"), None);
        assert_eq!(coding(""), None);
        assert_eq!(coding("gzip;q=0"), None);
        assert_eq!(coding("*"), Some(Coding::Brotli), "`*` is any coding, brotli included");
        assert_eq!(coding("*;q=0"), None);
        assert_eq!(coding("br;q=0, *"), Some(Coding::Gzip));
        assert_eq!(coding("gzip;q=0.2, identity;q=0.5"), None, "identity is preferred");
        assert_eq!(coding("gzip;q=0.2, identity;q=0"), Some(Coding::Gzip));
        assert_eq!(coding("gzip;q=nonsense, br"), Some(Coding::Brotli));
        assert_eq!(preferred_coding(&request(&[])), None);
        let split = request(&[("Accept-Encoding", "deflate"), ("Accept-Encoding", "gzip")]);
        assert_eq!(preferred_coding(&split), Some(Coding::Gzip), "every header line counts");
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_lists() {
        let etag = "\"s.1.2\"";
        let hits = |value: &str| none_match_hits(&request(&[("If-None-Match", value)]), etag);
        assert!(hits("\"s.1.2\""));
        assert!(hits("W/\"s.1.2\""));
        assert!(hits("\"x\", W/\"s.1.2\""));
        assert!(hits("\"x\",\"s.1.2\""));
        assert!(hits(" \"s.1.2\" "));
        assert!(hits("*"));
        assert!(!hits("\"s.1.3\""));
        assert!(!hits("s.1.2"), "an unquoted tag is not an entity tag");
        assert!(!hits(""));
        assert!(!none_match_hits(&request(&[]), etag));
        let split = request(&[("If-None-Match", "\"x\""), ("If-None-Match", "\"s.1.2\"")]);
        assert!(none_match_hits(&split, etag), "every header line counts");
    }

    #[test]
    fn if_modified_since_takes_every_http_date_format() {
        // Sun, 06 Nov 1994 08:49:37 GMT
        let modified = chrono::DateTime::from_timestamp(784_111_777, 0).unwrap();
        let representation = Representation::new(Vec::new().into(), "\"e\"".into(), Some(modified), String::new());
        let fresh = |headers: &[(&str, &str)]| not_modified(&request(headers), &representation);
        for same in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert!(fresh(&[("If-Modified-Since", same)]), "{same}");
        }
        assert!(fresh(&[("If-Modified-Since", "Mon, 07 Nov 1994 00:00:00 GMT")]));
        assert!(!fresh(&[("If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT")]));
        assert!(!fresh(&[("If-Modified-Since", "yesterday")]));
        assert!(!fresh(&[("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")]));
        assert!(
            !fresh(&[
                ("If-None-Match", "\"other\""),
                ("If-Modified-Since", "Mon, 07 Nov 1994 00:00:00 GMT")
            ]),
            "If-None-Match wins over If-Modified-Since"
        );
        assert!(fresh(&[("If-None-Match", "\"e\"")]));
    }
}

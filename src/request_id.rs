//! Request ids: taken from `X-Request-Id` when it is safe, made up otherwise;
//! echoed on every response and recorded with revisions.

use std::future::{Ready, ready};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use uuid::Uuid;

/// The header carrying the id.
pub const HEADER: &str = "x-request-id";
/// The header's name, made once (parsing the name per request costs).
pub const NAME: HeaderName = HeaderName::from_static(HEADER);
/// Longest id accepted from a client.
pub const MAX_LEN: usize = 128;

/// The id of the current request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Whether a client's id is safe to log and echo: 1–128 of `A-Za-z0-9._:-`.
pub fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

/// A new id: this process's random prefix and a sequence number. Unique
/// across processes without a system call per request.
pub fn generate() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| Uuid::new_v4().simple().to_string()[..12].to_owned());
    let mut id = String::with_capacity(prefix.len() + 21);
    id.push_str(prefix);
    id.push('-');
    crate::logging::push_decimal(&mut id, NEXT.fetch_add(1, Ordering::Relaxed));
    id
}

/// The request's id: the client's, if acceptable, or a new one.
pub fn of(req: &ServiceRequest) -> String {
    let given = req
        .headers()
        .get(NAME)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable(id));
    given.map_or_else(generate, str::to_owned)
}

/// Gives the request its id (from [`of`]), for handlers and problem documents.
pub fn attach(req: &ServiceRequest, id: &str) {
    req.extensions_mut().insert(RequestId(id.to_owned()));
}

/// Puts the id on the response (its bytes become the header value, uncopied).
pub fn echo<B>(response: &mut ServiceResponse<B>, id: String) {
    if let Ok(value) = HeaderValue::from_maybe_shared(actix_web::web::Bytes::from(id)) {
        response.headers_mut().insert(NAME, value);
    }
}

impl FromRequest for RequestId {
    type Error = actix_web::Error;
    type Future = Ready<Result<RequestId, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let id = req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(generate()));
        ready(Ok(id))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_short_plain_ids_are_taken() {
        assert!(super::acceptable("abc-123_X.y:z"));
        assert!(!super::acceptable(""));
        assert!(!super::acceptable("a b"));
        assert!(!super::acceptable("a\nb"));
        assert!(!super::acceptable(&"a".repeat(129)));
    }

    #[test]
    fn generated_ids_count_up() {
        for n in [0, 7, 1_234_567, u64::MAX] {
            let mut text = String::new();
            crate::logging::push_decimal(&mut text, n);
            assert_eq!(text, n.to_string());
        }
        let (a, b) = (super::generate(), super::generate());
        assert!(super::acceptable(&a) && a != b);
    }
}

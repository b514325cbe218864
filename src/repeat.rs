//! The fast path of repeated cached reads, in front of the application.
//!
//! Most public reads are the same request again and again (the same path and
//! query, the same headers) answered from the representation cache. For such
//! a request the application (CORS, Compress, routing, extractors, the
//! handler) adds nothing that depends on anything but the request and the
//! cache entry: so the outermost layer remembers, per worker thread, what
//! it answered for a request the cache answered ([`Answered`] left in the
//! request's extensions by `routes::caching::cached`), and answers an
//! identical request again the same way for as long as the cache would
//! answer it the same ([`RepresentationCache::holds`]: no write to its
//! group, the node still hearing writes, the cache not cleared) and the
//! locales are the same snapshot.
//!
//! Each worker answers from its own copies (the response headers, and
//! bodies up to [`MAX_OWN_BODY`]) and counts its own cache hits: two workers
//! on two cores repeating the same answer share no reference count, lock or
//! counter, whose cache line would otherwise move between the cores on
//! every request.
//!
//! "Identical" is strict: the method (GET or HEAD), the HTTP version, the
//! path and query as sent, and every request header with the same values in
//! the same order (only `X-Request-Id` is left out: the outermost layer
//! handles it). Requests with `Authorization` are never repeated. The
//! request id, metrics and the access line are still made by the outermost
//! layer for every request, from the same values as on the full path.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody as _};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{StatusCode, Version};
use actix_web::{HttpMessage as _, HttpResponse};

use crate::cache::{Answered, Holding, RepresentationCache, Variant, WorkerHits};
use crate::content::locales::LocaleRegistry;
use crate::metrics::{Metrics, Series};
use crate::request_id;

/// The most answers a worker remembers; past it, it forgets them all.
const MAX_REMEMBERED: usize = 256;
/// The most answers remembered for one path and query (requests differing in headers).
const MAX_PER_TARGET: usize = 8;
/// The largest body a worker keeps a copy of (at most 256 such, 8 MiB a
/// worker); a larger one is taken from the cache entry on each repeat.
const MAX_OWN_BODY: usize = 32 * 1024;

/// What a worker remembers of answers to repeat.
pub struct Repeats {
    cache: Arc<RepresentationCache>,
    locales: Arc<LocaleRegistry>,
    /// By path and query as sent.
    remembered: RefCell<HashMap<String, Vec<Remembered>, foldhash::fast::RandomState>>,
    count: std::cell::Cell<usize>,
    /// This worker's cache hits.
    hits: Arc<WorkerHits>,
}

/// One answer, and the request it answered.
struct Remembered {
    /// `GET` or `HEAD` (the label metrics count it under).
    method: &'static str,
    version: Version,
    /// The request's headers but `X-Request-Id`, each name with its values in order.
    headers: Vec<(HeaderName, Vec<HeaderValue>)>,
    /// How many header values that is.
    header_values: usize,
    /// The cache entry that answered it.
    answered: Answered,
    /// What says it still holds.
    holding: Holding,
    /// The generation of the locales it was answered under.
    locales: u64,
    status: StatusCode,
    /// The response's headers, in the order they were (this worker's copies).
    response_headers: Vec<(HeaderName, HeaderValue)>,
    /// The body sent.
    body: Sent,
    /// The metrics series it was counted in.
    series: Series,
}

/// The body of a remembered answer.
enum Sent {
    /// None at all.
    Nothing,
    /// Zero bytes (a 304's, as the Compress middleware passes it on).
    Empty,
    /// This worker's copy of the body.
    Own(actix_web::web::Bytes),
    /// One of the entry's representation's bodies (larger than [`MAX_OWN_BODY`]).
    Of(Variant),
}

/// `value` in bytes of this worker's own.
fn own(value: &HeaderValue) -> HeaderValue {
    HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone())
}

/// The request headers that count, each name with its values in order.
fn headers_of(headers: &HeaderMap) -> Vec<(HeaderName, Vec<HeaderValue>)> {
    let mut kept: Vec<(HeaderName, Vec<HeaderValue>)> = Vec::with_capacity(headers.len_keys());
    for name in headers.keys() {
        if *name == request_id::NAME {
            continue;
        }
        kept.push((name.clone(), headers.get_all(name).cloned().collect()));
    }
    kept
}

/// Whether a request may be repeated at all: GET or HEAD (as received), no credentials.
fn repeatable(method: &'static str, headers: &HeaderMap) -> bool {
    matches!(method, "GET" | "HEAD") && !headers.contains_key(header::AUTHORIZATION)
}

impl Remembered {
    /// Whether `req` is the request this answered.
    fn same_request(&self, req: &ServiceRequest, method: &'static str) -> bool {
        if self.method != method || self.version != req.version() {
            return false;
        }
        let headers = req.headers();
        let ids = headers.get_all(request_id::NAME).count();
        headers.len() - ids == self.header_values
            && self
                .headers
                .iter()
                .all(|(name, values)| headers.get_all(name).eq(values.iter()))
    }
}

impl Repeats {
    /// Nothing remembered yet, for an application reading `cache` under `locales`.
    pub fn new(cache: Arc<RepresentationCache>, locales: Arc<LocaleRegistry>) -> Repeats {
        Repeats {
            hits: cache.worker_hits(),
            cache,
            locales,
            remembered: RefCell::default(),
            count: std::cell::Cell::new(0),
        }
    }

    /// The answer to `req` (received as `method`), if it repeats a remembered
    /// request whose answer still holds: the response, and the series to count
    /// it in. An answer that no longer holds is forgotten.
    pub fn answer(&self, req: &ServiceRequest, method: &'static str) -> Option<(HttpResponse, Series)> {
        if !repeatable(method, req.headers()) {
            return None;
        }
        let target = req.uri().path_and_query()?.as_str();
        let mut remembered = self.remembered.try_borrow_mut().ok()?;
        let answers = remembered.get_mut(target)?;
        let at = answers.iter().position(|answer| answer.same_request(req, method))?;
        let answer = &answers[at];
        let response = self.replay(answer);
        if response.is_none() {
            answers.swap_remove(at);
            self.count.set(self.count.get().saturating_sub(1));
            // No key left without answers: the map holds at most
            // MAX_REMEMBERED keys, however many URLs come and go.
            if answers.is_empty() {
                remembered.remove(target);
            }
            return None;
        }
        response.map(|response| (response, answer.series.clone()))
    }

    /// The response `answer` gives again, if it still holds.
    fn replay(&self, answer: &Remembered) -> Option<HttpResponse> {
        if self.locales.generation() != answer.locales || !self.cache.holds(&answer.holding) {
            return None;
        }
        let body = match &answer.body {
            Sent::Nothing => BoxBody::new(actix_web::body::None::new()),
            Sent::Empty => BoxBody::new(actix_web::web::Bytes::new()),
            Sent::Own(bytes) => BoxBody::new(bytes.clone()),
            Sent::Of(variant) => BoxBody::new(self.cache.peek_answered(&answer.answered)?.variant(*variant)?.clone()),
        };
        self.hits.count();
        let mut response = HttpResponse::with_body(answer.status, body);
        // Into the response head's own (pooled) map: no new table.
        let headers = response.headers_mut();
        for (name, value) in &answer.response_headers {
            headers.append(name.clone(), value.clone());
        }
        Some(response)
    }

    /// Remembers the answer to `response`'s request (received as `method`)
    /// if the representation cache gave it. Returns the response as it was
    /// (its body's bytes taken out and put back).
    pub fn remember(
        &self,
        response: ServiceResponse<BoxBody>,
        method: &'static str,
        metrics: &Metrics,
    ) -> ServiceResponse<BoxBody> {
        let status = response.status();
        if !matches!(status, StatusCode::OK | StatusCode::NOT_MODIFIED)
            || response.response().error().is_some()
            || !repeatable(method, response.request().headers())
        {
            return response;
        }
        let Some(answered) = response.request().extensions().get::<Answered>().cloned() else {
            return response;
        };
        let no_body = matches!(response.response().body().size(), actix_web::body::BodySize::None);
        let mut sent = None;
        let response = if no_body {
            response
        } else {
            response.map_body(|_, body| match body.try_into_bytes() {
                Ok(bytes) => {
                    sent = Some(bytes.clone());
                    BoxBody::new(bytes)
                }
                Err(body) => body,
            })
        };
        let body = match &sent {
            None if no_body => Sent::Nothing,
            // A streamed body (compressed on the fly): not repeated.
            None => return response,
            Some(bytes) if bytes.is_empty() => Sent::Empty,
            Some(bytes) if bytes.len() <= MAX_OWN_BODY => Sent::Own(actix_web::web::Bytes::copy_from_slice(bytes)),
            Some(bytes) => {
                // Only the bytes of the entry that answered, not a copy.
                let Some(representation) = self.cache.peek_answered(&answered) else {
                    return response;
                };
                match representation.variant_of(bytes) {
                    Some(variant) => Sent::Of(variant),
                    None => return response,
                }
            }
        };
        let locales = self.locales.generation();
        let Some(holding) = self.cache.holding(&answered) else {
            return response;
        };
        let req = response.request();
        let Some(target) = req.uri().path_and_query().map(|target| target.as_str().to_owned()) else {
            return response;
        };
        let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        let headers = headers_of(req.headers());
        let header_values = headers.iter().map(|(_, values)| values.len()).sum();
        let remembered = Remembered {
            method,
            version: req.version(),
            headers,
            header_values,
            answered,
            holding,
            locales,
            status,
            response_headers: response
                .response()
                .headers()
                .iter()
                .map(|(name, value)| (name.clone(), own(value)))
                .collect(),
            body,
            series: metrics.series(&route, method, status.as_u16()),
        };
        let Ok(mut all) = self.remembered.try_borrow_mut() else {
            return response;
        };
        if self.count.get() >= MAX_REMEMBERED {
            all.clear();
            self.count.set(0);
        }
        let answers = all.entry(target).or_default();
        if let Some(same) = answers.iter().position(|answer| answer.same_request_as(&remembered)) {
            answers[same] = remembered;
            return response;
        }
        if answers.len() >= MAX_PER_TARGET {
            answers.remove(0);
        } else {
            self.count.set(self.count.get() + 1);
        }
        answers.push(remembered);
        response
    }
}

impl Remembered {
    /// Whether two answers are to the same request.
    fn same_request_as(&self, other: &Remembered) -> bool {
        self.method == other.method
            && self.version == other.version
            && self.header_values == other.header_values
            && self.headers.iter().all(|(name, values)| {
                other
                    .headers
                    .iter()
                    .any(|(other_name, other_values)| other_name == name && other_values == values)
            })
    }
}

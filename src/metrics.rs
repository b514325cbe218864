//! Prometheus metrics (prometheus-client): requests by route template,
//! method and status; latency; connection pool; representation cache.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::dev::{ServiceRequest, ServiceResponse};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::cache::RepresentationCache;
use crate::db::DbPool;

/// Labels of a request. Every label comes from a closed set, so no client
/// can grow the series: the route template (not the raw path; `unmatched`
/// for anything the router does not know), a known method or `other`, and
/// the status lamina answered.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

/// Labels of a latency observation.
/// The outcome of a webhook attempt, as a label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `delivered` (2xx), `refused` (another status) or `error` (no answer).
    pub outcome: &'static str,
}

/// The webhook worker's metrics: this node's attempts, and the outbox as
/// the worker last counted it (every few seconds).
#[derive(Clone, Debug, Default)]
pub struct WebhookMetrics {
    /// Attempts this node made, by outcome.
    pub attempts: Family<OutcomeLabels, Counter>,
    /// Pending deliveries (disabled endpoints' included).
    pub outbox_pending: Gauge,
    /// Seconds the oldest pending delivery of an enabled endpoint has waited.
    pub oldest_pending_seconds: Gauge,
    /// Endpoints disabled (by an admin, or by a 410).
    pub endpoints_disabled: Gauge,
}

impl WebhookMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "webhook_attempts",
            "Webhook attempts this node made, by outcome (delivered: 2xx; refused: another status; error: no answer)",
            self.attempts.clone(),
        );
        let gauges = [
            (
                "webhook_outbox_pending",
                "Webhook deliveries pending (disabled endpoints' included)",
                &self.outbox_pending,
            ),
            (
                "webhook_outbox_oldest_pending_seconds",
                "Age of the oldest pending webhook delivery of an enabled endpoint (0: none)",
                &self.oldest_pending_seconds,
            ),
            (
                "webhook_endpoints_disabled",
                "Webhook endpoints disabled (by an admin, or after a 410)",
                &self.endpoints_disabled,
            ),
        ];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

/// The methods counted by name; every other method is `other`.
const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"];

/// The metric label of a request method: a known method, or `other`.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    KNOWN_METHODS
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// The series a request is counted in: its counter and latency histogram
/// (handles share the family's values).
pub type Series = (Counter, Histogram);

/// Counts a finished request in `series` (from [`Metrics::series`]).
pub fn observe_in(series: &Series, elapsed: Duration) {
    series.0.inc();
    series.1.observe(elapsed.as_secs_f64());
}

/// A request's series key: the [`Metrics`] it belongs to, route, method, status.
type SeriesKey = (u64, String, &'static str, u16);

thread_local! {
    /// Series this worker thread has counted in: one hash lookup per request
    /// instead of two locked family lookups and a label clone.
    static SERIES: RefCell<HashMap<SeriesKey, Series>> = RefCell::new(HashMap::new());
}

/// Tells [`Metrics`] instances apart in [`SERIES`].
static NEXT_METRICS_ID: AtomicU64 = AtomicU64::new(0);

/// Everything `/metrics` reports.
pub struct Metrics {
    /// Unique per instance (tests build many applications on one thread).
    id: u64,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pool_size: Gauge,
    pool_available: Gauge,
    pool_waiting: Gauge,
    pool_max: Gauge,
    cache_hits: Gauge,
    cache_misses: Gauge,
    cache_bytes: Gauge,
    log_lines_dropped: Counter,
    /// The webhook worker's (it updates them; `main` hands them over).
    pub webhooks: WebhookMetrics,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("lamina");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 0.1 ms to about 3.3 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request",
            latency.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let pool_size = gauge(&mut registry, "db_pool_connections", "Database connections open");
        let pool_available = gauge(&mut registry, "db_pool_idle", "Database connections open and idle");
        let pool_waiting = gauge(
            &mut registry,
            "db_pool_waiting",
            "Requests waiting for a database connection",
        );
        let pool_max = gauge(&mut registry, "db_pool_max", "Most database connections allowed");
        // The cache counts on its own; these are read when scraped.
        let cache_hits = gauge(
            &mut registry,
            "cache_hits",
            "Public reads answered from the representation cache",
        );
        let cache_misses = gauge(
            &mut registry,
            "cache_misses",
            "Public reads that missed the representation cache",
        );
        let cache_bytes = gauge(
            &mut registry,
            "cache_bytes",
            "Bytes of bodies held in the representation cache",
        );
        let log_lines_dropped = Counter::default();
        registry.register(
            "log_lines_dropped",
            "Log lines dropped because standard error did not take them (a stalled pipe or terminal)",
            log_lines_dropped.clone(),
        );
        let webhooks = WebhookMetrics::default();
        webhooks.register(&mut registry);
        Metrics {
            webhooks,
            id: NEXT_METRICS_ID.fetch_add(1, Ordering::Relaxed),
            log_lines_dropped,
            registry,
            requests,
            latency,
            pool_size,
            pool_available,
            pool_waiting,
            pool_max,
            cache_hits,
            cache_misses,
            cache_bytes,
        }
    }
}

impl Metrics {
    /// Counts a finished request.
    pub fn observe<B>(&self, response: &ServiceResponse<B>, method: &'static str, elapsed: Duration) {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let status = response.status().as_u16();
        let elapsed = elapsed.as_secs_f64();
        let key = (self.id, route, method, status);
        let counted = SERIES.try_with(|series| {
            let Ok(mut series) = series.try_borrow_mut() else {
                return false;
            };
            if let Some((requests, latency)) = series.get(&key) {
                requests.inc();
                latency.observe(elapsed);
                return true;
            }
            let handles = self.series(&key.1, method, status);
            handles.0.inc();
            handles.1.observe(elapsed);
            series.insert(key.clone(), handles);
            true
        });
        if counted != Ok(true) {
            let (requests, latency) = self.series(&key.1, method, status);
            requests.inc();
            latency.observe(elapsed);
        }
    }

    /// The series of a route, method and status, made if new.
    pub fn series(&self, route: &str, method: &'static str, status: u16) -> Series {
        let latency = self
            .latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method,
            })
            .clone();
        let requests = self
            .requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method,
                status,
            })
            .clone();
        (requests, latency)
    }

    /// The text exposition, with the pool and cache read now.
    pub fn render(&self, pool: &DbPool, cache: &RepresentationCache) -> String {
        let status = pool.status();
        let to_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.pool_size.set(to_i64(status.size));
        self.pool_available.set(to_i64(status.available));
        self.pool_waiting.set(to_i64(status.waiting));
        self.pool_max.set(to_i64(status.max_size));
        let (hits, misses) = cache.counts();
        self.cache_hits.set(i64::try_from(hits).unwrap_or(i64::MAX));
        self.cache_misses.set(i64::try_from(misses).unwrap_or(i64::MAX));
        self.cache_bytes.set(to_i64(cache.bytes()));
        let dropped = crate::logging::dropped();
        self.log_lines_dropped.inner().fetch_max(dropped, Ordering::Relaxed);
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// When a request started and its method, kept for [`Metrics::observe`].
pub fn start(req: &ServiceRequest) -> (Instant, &'static str) {
    (Instant::now(), method_label(req.method()))
}

/// Shared handle.
pub type SharedMetrics = Arc<Metrics>;

#[cfg(test)]
mod tests {
    use actix_web::http::Method;

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(super::method_label(&Method::GET), "GET");
        assert_eq!(super::method_label(&Method::OPTIONS), "OPTIONS");
        let made_up = Method::from_bytes(b"MABCDEFGHIJKL").unwrap();
        assert_eq!(super::method_label(&made_up), "other");
    }
}

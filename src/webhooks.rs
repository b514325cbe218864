//! Webhook delivery: signing (Standard Webhooks), the refusal of private
//! addresses, and the worker that drains the outbox
//! ([`crate::content::webhooks`]).
//!
//! Every node runs a worker ([`spawn`]). A worker claims due deliveries in
//! short transactions (`FOR UPDATE SKIP LOCKED`, then a lease in
//! `leased_until`), so however many nodes run, one sends each attempt, and
//! sends them concurrently, at most [`MAX_IN_FLIGHT`] at once and
//! [`MAX_PER_ENDPOINT`] to one endpoint: a receiver that hangs delays only
//! its own endpoint's deliveries (endpoint isolation, API.md §9); a
//! node that dies mid-send leaves a lease that expires, and another node
//! sends again (at least once). A delivery waits while an older pending one
//! of the same endpoint and article exists, so each article's events reach
//! each endpoint in order. Read-after-event: a claimed delivery is sent once
//! every node's cache listener has answered a [`Probe`] sent after the claim
//! (so has applied the write's invalidation), or once no node can still
//! serve a copy older than the write (the probe's deadline); a read through
//! any node then returns at least the version the event names. Workers are
//! woken by a `NOTIFY` on [`WAKE_CHANNEL`] from the transaction that adds
//! deliveries, so an event leaves within milliseconds of its commit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use hmac::{Hmac, KeyInit, Mac};
use uuid::Uuid;

use crate::content::webhooks::state;
use crate::db::DbPool;

/// Every secret starts with this (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;
/// Most attempts one node has in flight at once.
pub const MAX_IN_FLIGHT: usize = 32;
/// Most attempts one node has in flight to one endpoint (each of another
/// article: one article's events go one after the other).
pub const MAX_PER_ENDPOINT: usize = 4;
/// Longest wait for one attempt (connect, send, answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle worker looks for due deliveries besides its wake-ups
/// (for other workers' retries and leases that ran out; its own retries it
/// looks for when they are due).
pub const POLL: Duration = Duration::from_secs(1);
pub use crate::db::WAKE_CHANNEL;
/// How long a claimed delivery is reserved for the worker sending it; past
/// it, another worker may send it again. Longer than [`ATTEMPT_TIMEOUT`].
const LEASE_SECONDS: i32 = 60;
/// The longest backoff between attempts, and the longest `Retry-After` honoured.
const MAX_DELAY: Duration = Duration::from_secs(6 * 3600);
/// How often a worker counts the outbox for `/metrics`.
const COUNT_EVERY: Duration = Duration::from_secs(10);
/// How often a worker deletes finished deliveries past the retention.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Deliveries deleted per statement when pruning (short transactions, short locks).
const PRUNE_BATCH: i64 = 1_000;
/// Most characters of an error kept with a delivery.
const MAX_ERROR_CHARS: usize = 500;

/// How the worker delivers.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Attempts before a delivery is `failed`.
    pub max_attempts: u32,
    /// The delay before the first retry; it doubles with each further one.
    pub retry_base: Duration,
    /// Whether receivers on loopback, private, link-local or unspecified addresses are allowed.
    pub allow_private: bool,
    /// How long delivered and failed deliveries are kept.
    pub retention: chrono::TimeDelta,
    /// How long a disabled endpoint's events are kept (the sync log's retention).
    pub keep_while_disabled: chrono::TimeDelta,
    /// The clock retention is judged by.
    pub clock: crate::clock::Clock,
    /// Where the worker counts (`/metrics` shows them once they are the app's).
    pub metrics: crate::metrics::WebhookMetrics,
}

impl Settings {
    /// The settings of `config`.
    pub fn new(config: &crate::config::Config) -> Settings {
        Settings {
            max_attempts: config.webhook_max_attempts,
            retry_base: Duration::from_millis(config.webhook_retry_base_ms),
            allow_private: config.webhook_allow_private,
            retention: chrono::TimeDelta::days(i64::from(config.webhook_retention_days)),
            keep_while_disabled: chrono::TimeDelta::days(i64::from(config.sync_keep_days)),
            clock: crate::clock::Clock::system(),
            metrics: crate::metrics::WebhookMetrics::default(),
        }
    }
}

/// A new endpoint secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{SECRET_PREFIX}{}", BASE64.encode(bytes)))
}

/// The `webhook-signature` value of `body` sent as `id` at `timestamp`:
/// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with
/// the secret's bytes (the base64 after `whsec_`).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = BASE64
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|err| format!("the endpoint's secret is not base64: {err}"))?;
    let mut mac = Hmac::<sha2_v11::Sha256>::new_from_slice(&key).map_err(|err| err.to_string())?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

/// Whether `address` is not a public unicast address a receiver may have:
/// loopback, private, link-local, unspecified, CGNAT, broadcast, multicast,
/// documentation, benchmarking (198.18.0.0/15), reserved (240.0.0.0/4),
/// IETF (192.0.0.0/24), and in IPv6 anything outside global unicast
/// (2000::/3: unique-local, site-local fec0::/10, multicast, IPv4-compatible
/// `::a.b.c.d`, NAT64 64:ff9b::/96 all fall outside) plus the global ranges
/// that tunnel to IPv4 (6to4 2002::/16, Teredo 2001::/32) or are
/// documentation (2001:db8::/32); an IPv4-mapped address as its IPv4.
pub fn is_private(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b & 0xfe) == 18)
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 88 && c == 99)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let [first, second, ..] = v6.segments();
            let global_unicast = (first & 0xe000) == 0x2000;
            !global_unicast || first == 0x2002 || (first == 0x2001 && (second == 0 || second == 0x0db8))
        }
    }
}

/// Why `url` is no receiver URL: not `http(s)`, no host, credentials, or
/// (unless `allow_private`) a literal address that is private. Its host, if fine.
fn check_form(url: &str, allow_private: bool) -> Result<Option<(String, u16)>, String> {
    let uri: actix_web::http::Uri = url.parse().map_err(|_| "must be an absolute http(s) URL".to_owned())?;
    let port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err("must be an http or https URL".to_owned()),
    };
    let host = uri.host().filter(|host| !host.is_empty()).ok_or("must name a host")?;
    if uri
        .authority()
        .is_some_and(|authority| authority.as_str().contains('@'))
    {
        return Err("must not carry credentials".to_owned());
    }
    if allow_private {
        return Ok(None);
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(address) = host.parse::<IpAddr>() {
        refuse_private(std::iter::once(address))?;
        return Ok(None);
    }
    Ok(Some((host.to_owned(), uri.port_u16().unwrap_or(port))))
}

/// An error naming the first private address of `addresses`, if any.
fn refuse_private(addresses: impl IntoIterator<Item = IpAddr>) -> Result<(), String> {
    match addresses.into_iter().find(|address| is_private(*address)) {
        Some(address) => Err(format!(
            "resolves to {address}, a loopback, private, link-local, multicast, reserved or otherwise \
             non-public address (allowed only with LAMINA_WEBHOOK_ALLOW_PRIVATE=true)"
        )),
        None => Ok(()),
    }
}

/// Resolves `host` once and checks every address: the addresses to connect
/// to, all public, or why not.
async fn resolve_public(host: &str, port: u16) -> Result<Vec<std::net::SocketAddr>, String> {
    let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|err| format!("the host {host:?} does not resolve: {err}"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("the host {host:?} does not resolve"));
    }
    refuse_private(addresses.iter().map(std::net::SocketAddr::ip))?;
    Ok(addresses)
}

/// Why a receiver URL is refused: not `http(s)`, no host, or (unless
/// `allow_private`) a host that does not resolve or resolves to a private address.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    if let Some((host, port)) = check_form(url, allow_private)? {
        resolve_public(&host, port).await?;
    }
    Ok(())
}

/// The delivery client's resolver: each host is resolved once per
/// connection and the client connects to exactly the addresses checked, so
/// a name that changes its answer between a check and the connection (DNS
/// rebinding) cannot reach a private address. Literal addresses do not come
/// here: [`send`] checks them.
struct PublicResolver;

impl actix_tls::connect::Resolve for PublicResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> futures_util::future::LocalBoxFuture<'a, Result<Vec<std::net::SocketAddr>, Box<dyn std::error::Error>>> {
        Box::pin(async move {
            resolve_public(host, port)
                .await
                .map_err(|reason| format!("refused: the URL's host {reason}").into())
        })
    }
}

/// The HTTP client deliveries go through: no redirects, one attempt's
/// timeout, and (unless `allow_private`) the [`PublicResolver`].
fn client(allow_private: bool) -> awc::Client {
    let builder = awc::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .disable_redirects()
        .add_default_header(("user-agent", concat!("lamina-webhooks/", env!("CARGO_PKG_VERSION"))));
    if allow_private {
        return builder.finish();
    }
    let tcp = actix_tls::connect::Connector::new(actix_tls::connect::Resolver::custom(PublicResolver)).service();
    builder.connector(awc::Connector::new().connector(tcp)).finish()
}

/// A delivery claimed for sending.
#[derive(Debug, QueryableByName)]
struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    endpoint_id: Uuid,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    article_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    payload: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Text)]
    secret: String,
    /// The secret replaced by the last rotation, while it still signs.
    #[diesel(sql_type = Nullable<Text>)]
    previous_secret: Option<String>,
}

/// The claim: `$1` the lease in seconds, `$2`
/// the endpoints this node already sends its most to. Public for `EXPLAIN`
/// in tests.
pub const CLAIM: &str = "UPDATE webhook_deliveries d \
         SET attempts = d.attempts + 1, leased_until = now() + make_interval(secs => $1) \
         FROM webhook_endpoints e \
         WHERE e.id = d.endpoint_id AND d.id = ( \
             SELECT c.id FROM webhook_deliveries c JOIN webhook_endpoints ce ON ce.id = c.endpoint_id \
             WHERE c.state = 'pending' AND NOT c.waiting AND ce.enabled AND NOT (ce.id = ANY ($2)) \
               AND c.next_attempt_at <= now() \
               AND (c.leased_until IS NULL OR c.leased_until < now()) \
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o \
                   WHERE o.endpoint_id = c.endpoint_id AND o.article_id = c.article_id \
                     AND o.state = 'pending' AND o.seq < c.seq) \
             ORDER BY c.next_attempt_at, c.seq LIMIT 1 \
             FOR UPDATE OF c SKIP LOCKED) \
         RETURNING d.id, d.endpoint_id, d.article_id, d.payload::text AS payload, d.attempts, e.url, e.secret, \
             CASE WHEN e.previous_secret_until > now() THEN e.previous_secret END AS previous_secret";

/// Claims the next due delivery: pending and not waiting, not leased, of an enabled endpoint not in `busy`, with no older pending
/// delivery of the same endpoint and article. Counts the attempt and leases
/// it. Its index holds only pending rows that are not waiting: the cost
/// follows the due rows, not a dead receiver's backlog.
async fn claim(conn: &mut AsyncPgConnection, busy: &[Uuid]) -> diesel::QueryResult<Option<Claimed>> {
    diesel::sql_query(CLAIM)
        .bind::<Integer, _>(LEASE_SECONDS)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(busy)
        .get_result(conn)
        .await
        .optional()
}

/// What one attempt came to.
#[derive(Debug)]
enum Outcome {
    /// The receiver answered with this status (and `Retry-After`, if any).
    Status(u16, Option<Duration>),
    /// No answer: the error.
    Error(String),
}

/// One attempt: when it began, how long it took, what it came to, and the
/// first [`RESPONSE_KEPT_BYTES`] of the answer.
#[derive(Debug)]
struct Attempted {
    at: DateTime<Utc>,
    took: Duration,
    outcome: Outcome,
    response: Option<String>,
}

/// Bytes of a receiver's answer kept with an attempt.
const RESPONSE_KEPT_BYTES: usize = 1024;

/// The `webhook-signature` value: the current secret's signature, then the
/// previous secret's while a rotation overlaps (space-separated, as the
/// Standard Webhooks specification allows).
fn signatures(claimed: &Claimed, timestamp: i64) -> Result<String, String> {
    let id = claimed.id.to_string();
    let mut value = sign(&claimed.secret, &id, timestamp, claimed.payload.as_bytes())?;
    if let Some(previous) = &claimed.previous_secret {
        value.push(' ');
        value.push_str(&sign(previous, &id, timestamp, claimed.payload.as_bytes())?);
    }
    Ok(value)
}

/// Sends one attempt, timing it.
async fn attempt(client: &awc::Client, claimed: &Claimed, allow_private: bool) -> Attempted {
    let at = Utc::now();
    let started = std::time::Instant::now();
    let (outcome, response) = send(client, claimed, allow_private).await;
    Attempted {
        at,
        took: started.elapsed(),
        outcome,
        response,
    }
}

/// Sends one attempt: what it came to, and the start of the answer.
async fn send(client: &awc::Client, claimed: &Claimed, allow_private: bool) -> (Outcome, Option<String>) {
    // Checked again at each attempt: a literal address here, a name by the
    // client's resolver as it connects (DNS may have changed since the
    // endpoint was saved, or between any check and a connection).
    if let Err(reason) = check_form(&claimed.url, allow_private) {
        return (Outcome::Error(format!("refused: the URL {reason}")), None);
    }
    let id = claimed.id.to_string();
    let timestamp = Utc::now().timestamp();
    let signature = match signatures(claimed, timestamp) {
        Ok(signature) => signature,
        Err(err) => return (Outcome::Error(err), None),
    };
    let request = client
        .post(claimed.url.as_str())
        .insert_header(("content-type", "application/json"))
        .insert_header(("webhook-id", id))
        .insert_header(("webhook-timestamp", timestamp.to_string()))
        .insert_header(("webhook-signature", signature));
    match request.send_body(claimed.payload.clone()).await {
        Ok(mut response) => {
            // Read (a little of) the answer so the connection can be reused.
            let body = response.body().limit(64 * 1024).await.ok();
            let kept = body.map(|body| {
                let end = body.len().min(RESPONSE_KEPT_BYTES);
                // Not cutting a character in two.
                let end = match std::str::from_utf8(&body[..end]) {
                    Err(err) if err.error_len().is_none() => err.valid_up_to(),
                    _ => end,
                };
                String::from_utf8_lossy(&body[..end]).into_owned()
            });
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(parse_retry_after);
            (Outcome::Status(response.status().as_u16(), retry_after), kept)
        }
        Err(err) => (Outcome::Error(err.to_string()), None),
    }
}

/// A `Retry-After` value: seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value.trim()).ok()?;
    Some((at.with_timezone(&Utc) - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

/// The wait before attempt `attempts + 1`: `base` doubled per earlier
/// retry, with ±20 % jitter, at most [`MAX_DELAY`].
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let jitter = f64::from(getrandom::u32().unwrap_or(0) % 401) / 1000.0 + 0.8;
    doubled.mul_f64(jitter).min(MAX_DELAY)
}

/// Records an attempt of `claimed` and what it means for the delivery;
/// the wait before the next attempt if it stays pending.
async fn complete(
    conn: &mut AsyncPgConnection,
    claimed: &Claimed,
    attempted: &Attempted,
    settings: &Settings,
) -> diesel::QueryResult<Option<Duration>> {
    let outcome = &attempted.outcome;
    let attempts = u32::try_from(claimed.attempts).unwrap_or(0);
    let (status, error) = match outcome {
        Outcome::Status(status, _) => (Some(i32::from(*status)), None),
        Outcome::Error(err) => (None, Some(err.chars().take(MAX_ERROR_CHARS).collect::<String>())),
    };
    let delivered = matches!(outcome, Outcome::Status(200..=299, _));
    let gone = matches!(outcome, Outcome::Status(410, _));
    let next_state = if delivered {
        state::DELIVERED
    } else if gone || attempts >= settings.max_attempts {
        state::FAILED
    } else {
        state::PENDING
    };
    let delay = match outcome {
        Outcome::Status(429 | 503, Some(after)) => (*after).min(MAX_DELAY),
        _ => backoff(settings.retry_base, attempts),
    };
    let next_attempt = Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::zero());
    // Only while the lease is ours: a worker whose lease ran out leaves the row to the next one.
    diesel::sql_query(
        "UPDATE webhook_deliveries SET state = $2, last_status = $3, last_error = $4, \
         next_attempt_at = CASE WHEN $2 = 'pending' THEN $5 ELSE next_attempt_at END, leased_until = NULL \
         WHERE id = $1 AND attempts = $6 AND state = 'pending'",
    )
    .bind::<diesel::sql_types::Uuid, _>(claimed.id)
    .bind::<Text, _>(next_state)
    .bind::<Nullable<Integer>, _>(status)
    .bind::<Nullable<Text>, _>(error.as_deref())
    .bind::<Timestamptz, _>(next_attempt)
    .bind::<Integer, _>(claimed.attempts)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, duration_ms, status, error, response) \
         SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1)",
    )
    .bind::<diesel::sql_types::Uuid, _>(claimed.id)
    .bind::<Timestamptz, _>(attempted.at)
    .bind::<Integer, _>(i32::try_from(attempted.took.as_millis()).unwrap_or(i32::MAX))
    .bind::<Nullable<Integer>, _>(status)
    .bind::<Nullable<Text>, _>(error.as_deref())
    .bind::<Nullable<Text>, _>(attempted.response.as_deref())
    .execute(conn)
    .await?;
    if next_state != state::PENDING
        && let Some(article_id) = claimed.article_id
    {
        // Done with it: the next delivery of its endpoint and article is due.
        diesel::sql_query(RELEASE_NEXT)
            .bind::<diesel::sql_types::Uuid, _>(claimed.endpoint_id)
            .bind::<diesel::sql_types::Uuid, _>(article_id)
            .execute(conn)
            .await?;
    }
    if gone {
        diesel::sql_query(
            "UPDATE webhook_endpoints SET enabled = false, updated_at = now(), \
             disabled_reason = 'the receiver answered 410 Gone at ' || now()::text WHERE id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(claimed.endpoint_id)
        .execute(conn)
        .await?;
        log::info!("webhooks: endpoint {} answered 410 Gone; disabled", claimed.endpoint_id);
    }
    Ok((next_state == state::PENDING).then_some(delay))
}

/// Releases the oldest pending delivery of endpoint `$1` and article `$2`
/// if it is waiting.
const RELEASE_NEXT: &str = "UPDATE webhook_deliveries SET waiting = false WHERE id = ( \
         SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND article_id = $2 AND state = 'pending' \
         ORDER BY seq LIMIT 1) AND waiting";

/// Releases every waiting delivery with no older pending one left: a delivery
/// enqueued while the one ahead of it was being completed (neither saw the
/// other's transaction) would otherwise wait for ever. One pass over the
/// pending rows, in the pruning task.
const RELEASE_ORPHANS: &str = "UPDATE webhook_deliveries SET waiting = false WHERE id IN ( \
         SELECT id FROM (SELECT DISTINCT ON (endpoint_id, article_id) id, waiting FROM webhook_deliveries \
             WHERE state = 'pending' AND article_id IS NOT NULL ORDER BY endpoint_id, article_id, seq) heads \
         WHERE waiting)";

/// The attempts one node has in flight, at most [`MAX_IN_FLIGHT`] in all and
/// [`MAX_PER_ENDPOINT`] to one endpoint: each is a task of its own, so a
/// receiver that hangs holds only its own endpoint's share while every other
/// endpoint's deliveries go on. Claimed deliveries first wait for their
/// [`Probe`] (they count against the bounds meanwhile).
struct InFlight {
    tasks: tokio::task::JoinSet<(Claimed, Attempted)>,
    per_endpoint: HashMap<Uuid, usize>,
    probes: Vec<Probe>,
    /// Probes sent so far (tokens are this worker's id and this count).
    probed: u64,
    /// This worker's part of probe tokens.
    id: String,
    /// The earliest retry this worker scheduled, to look again then.
    next_retry: Option<std::time::Instant>,
}

impl InFlight {
    fn new() -> InFlight {
        InFlight {
            tasks: tokio::task::JoinSet::new(),
            per_endpoint: HashMap::new(),
            probes: Vec::new(),
            probed: 0,
            id: Uuid::new_v4().simple().to_string(),
            next_retry: None,
        }
    }

    /// The endpoints at their bound (the claim passes them over).
    fn busy(&self) -> Vec<Uuid> {
        self.per_endpoint
            .iter()
            .filter(|(_, count)| **count >= MAX_PER_ENDPOINT)
            .map(|(endpoint, _)| *endpoint)
            .collect()
    }

    /// Attempts running and deliveries claimed and waiting for their probe.
    fn len(&self) -> usize {
        self.tasks.len() + self.probes.iter().map(|probe| probe.deliveries.len()).sum::<usize>()
    }

    /// Claims due deliveries until the bound is reached or none is due, and
    /// probes the cache listeners for them (see [`Probe`]); `listening`:
    /// whether this worker hears acknowledgements. Returns how many were claimed.
    async fn fill(&mut self, pool: &DbPool, listening: bool) -> Result<usize, String> {
        if self.len() >= MAX_IN_FLIGHT {
            // At the bound: no connection taken, no claim sent.
            return Ok(0);
        }
        let mut conn = pool.get().await.map_err(|err| err.to_string())?;
        let mut deliveries = Vec::new();
        while self.len() + deliveries.len() < MAX_IN_FLIGHT {
            let Some(claimed) = claim(&mut conn, &self.busy()).await.map_err(|err| err.to_string())? else {
                break;
            };
            *self.per_endpoint.entry(claimed.endpoint_id).or_default() += 1;
            deliveries.push(claimed);
        }
        let claimed = deliveries.len();
        if claimed > 0 {
            self.probed += 1;
            let token = format!("{}.{}", self.id, self.probed);
            let probe = Probe::send(&mut conn, token, listening, deliveries).await;
            self.probes.push(probe);
        }
        Ok(claimed)
    }

    /// Starts sending the deliveries of every probe that is answered or past its deadline.
    fn start_ready(&mut self, client: &awc::Client, allow_private: bool) {
        let now = std::time::Instant::now();
        let (ready, waiting): (Vec<Probe>, Vec<Probe>) = std::mem::take(&mut self.probes)
            .into_iter()
            .partition(|probe| probe.ready(now));
        self.probes = waiting;
        for probe in ready {
            log::debug!(
                "webhooks: probe {} {} after {:?}: sending {}",
                probe.token,
                if probe.answered() { "answered" } else { "timed out" },
                probe.sent.elapsed(),
                probe.deliveries.len()
            );
            for claimed in probe.deliveries {
                let client = client.clone();
                // No connection is held while the receiver takes its time.
                self.tasks.spawn_local(async move {
                    let attempted = attempt(&client, &claimed, allow_private).await;
                    (claimed, attempted)
                });
            }
        }
    }

    /// Counts an acknowledgement (`"<listener pid> <token> …"`) of the listener's probes.
    fn acknowledged(&mut self, payload: &str) {
        let mut words = payload.split(' ');
        let Some(pid) = words.next().and_then(|pid| pid.parse::<i32>().ok()) else {
            return;
        };
        for token in words {
            if let Some(probe) = self.probes.iter_mut().find(|probe| probe.token == token) {
                probe.waiting_for.remove(&pid);
            }
        }
    }

    /// When to look again at the latest: [`POLL`], a probe's deadline, a retry this worker scheduled.
    fn next_wake(&self) -> Duration {
        let now = std::time::Instant::now();
        self.probes
            .iter()
            .map(|probe| probe.deadline)
            .chain(self.next_retry)
            .map(|at| at.saturating_duration_since(now))
            .fold(POLL, Duration::min)
    }

    /// Records an attempt that ended.
    async fn record(
        &mut self,
        pool: &DbPool,
        settings: &Settings,
        ended: Result<(Claimed, Attempted), tokio::task::JoinError>,
    ) -> Result<(), String> {
        let (claimed, attempted) = ended.map_err(|err| format!("a delivery task failed: {err}"))?;
        let outcome = match attempted.outcome {
            Outcome::Status(200..=299, _) => "delivered",
            Outcome::Status(..) => "refused",
            Outcome::Error(_) => "error",
        };
        settings
            .metrics
            .attempts
            .get_or_create(&crate::metrics::OutcomeLabels { outcome })
            .inc();
        if let Some(count) = self.per_endpoint.get_mut(&claimed.endpoint_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_endpoint.remove(&claimed.endpoint_id);
            }
        }
        log::debug!(
            "webhooks: delivery {} attempt {}: {:?}",
            claimed.id,
            claimed.attempts,
            attempted.outcome
        );
        let mut conn = pool.get().await.map_err(|err| err.to_string())?;
        let retry_in = complete(&mut conn, &claimed, &attempted, settings)
            .await
            .map_err(|err| err.to_string())?;
        if let Some(delay) = retry_in {
            let at = std::time::Instant::now() + delay;
            self.next_retry = Some(self.next_retry.map_or(at, |earlier| earlier.min(at)));
        }
        Ok(())
    }
}

/// Read-after-event (API.md §9): deliveries claimed together are sent once
/// every node that may serve a cached copy has applied their writes'
/// invalidations, which a probe establishes.
///
/// The worker `NOTIFY`s a token on [`crate::cache::PROBE_CHANNEL`] after
/// claiming; PostgreSQL's notification queue is one, in commit order, and
/// each listener reads it in order, so when a node's cache listener reads
/// the probe it has applied the invalidation of every write visible to the
/// claim (a write queues its notifications before it becomes visible), and
/// it answers on [`crate::cache::ACK_CHANNEL`]. The nodes to hear from are
/// the live rows of `cache_listeners`, which each listener connection
/// registers before it serves (a node not registered when the probe is sent
/// subscribes later and reads newer data than the events).
///
/// Bounded: a node that does not answer (its listener stalled, its backend
/// stopped, its connection half-open) is waited for only until the deadline,
/// `serves_ms` (the longest [`crate::cache::STALENESS_BOUND`] of the
/// registered nodes) plus [`ACK_MARGIN`] after the probe began. That is
/// safe: a node serves a cached entry only while its last answered heartbeat
/// began less than `serves_ms` ago; a heartbeat that began after the probe
/// (and so after the writes) was answered only after their notifications
/// were delivered ahead of its answer, and applied. So at the deadline a
/// node either applied the writes or serves nothing from its cache. A
/// registration whose backend is gone (or a listener that is not
/// registered, such as an older version's) makes the probe wait for the
/// deadline too, until `serves_ms` after it was first seen gone.
struct Probe {
    token: String,
    /// When the probe began: every delivery in it was committed before.
    sent: std::time::Instant,
    /// When its deliveries go whatever was answered.
    deadline: std::time::Instant,
    /// The listeners (backend pids) that have not answered yet.
    waiting_for: std::collections::HashSet<i32>,
    /// Whether some node cannot answer (see [`Probe`]): only the deadline sends.
    unheard: bool,
    deliveries: Vec<Claimed>,
}

/// What a probe found.
#[derive(QueryableByName)]
struct Probed {
    #[diesel(sql_type = diesel::sql_types::Array<Integer>)]
    live: Vec<i32>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    unheard: bool,
    #[diesel(sql_type = Integer)]
    serves_ms: i32,
}

/// Added to the nodes' serving bound before a probe stops waiting: covers
/// the time a heartbeat takes to reach the database and the moment between
/// a write becoming visible and its notification being signalled.
pub const ACK_MARGIN: Duration = Duration::from_millis(50);

/// Marks the `cache_listeners` registrations whose backend is gone (a
/// macro, to be part of [`PROBE`] too).
macro_rules! mark_gone_listeners {
    () => {
        "UPDATE cache_listeners c SET gone_at = clock_timestamp() \
         WHERE c.gone_at IS NULL AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a \
             WHERE a.pid = c.pid AND a.backend_start = c.backend_start)"
    };
}
/// See [`mark_gone_listeners`].
const MARK_GONE_LISTENERS: &str = mark_gone_listeners!();

/// The probe (`$1` the channel, `$2` the token, `$3` [`ACK_MARGIN`] in
/// seconds, `$4` the listeners' `application_name`): marks registrations
/// whose backend is gone, sends the token, and answers the live listeners,
/// whether one cannot answer (gone within its bound, or not registered) and
/// the longest serving bound.
pub const PROBE: &str = concat!(
    "WITH marked AS (",
    mark_gone_listeners!(),
    " RETURNING c.pid, c.backend_start, c.gone_at), \
     listeners AS ( \
         SELECT c.pid, c.serves_ms, COALESCE(c.gone_at, m.gone_at) AS gone_at \
         FROM cache_listeners c LEFT JOIN marked m ON m.pid = c.pid AND m.backend_start = c.backend_start), \
     sent AS (SELECT pg_notify($1, $2)) \
     SELECT (SELECT count(*) FROM sent) AS sent, \
         COALESCE((SELECT array_agg(pid) FROM listeners WHERE gone_at IS NULL), '{}') AS live, \
         EXISTS (SELECT 1 FROM listeners WHERE gone_at > clock_timestamp() - make_interval(secs => serves_ms / 1000.0 + $3)) \
         OR EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = current_database() AND a.application_name = $4 \
             AND NOT EXISTS (SELECT 1 FROM cache_listeners c WHERE c.pid = a.pid AND c.backend_start = a.backend_start)) \
             AS unheard, \
         COALESCE((SELECT max(serves_ms) FROM listeners), 0) AS serves_ms"
);

/// Without an answer to the probe statement, how long its deliveries wait.
const UNPROBED_WAIT: Duration = Duration::from_secs(1);

impl Probe {
    /// Sends a probe for `deliveries` (claimed on `conn`, before now);
    /// without `listening` no answer can come and only the deadline sends.
    async fn send(conn: &mut AsyncPgConnection, token: String, listening: bool, deliveries: Vec<Claimed>) -> Probe {
        let sent = std::time::Instant::now();
        let probed = diesel::sql_query(PROBE)
            .bind::<Text, _>(crate::cache::PROBE_CHANNEL)
            .bind::<Text, _>(&token)
            .bind::<diesel::sql_types::Double, _>(ACK_MARGIN.as_secs_f64())
            .bind::<Text, _>(crate::cache::LISTENER_NAME)
            .get_result::<Probed>(conn)
            .await;
        let (waiting_for, unheard, wait) = match probed {
            Ok(probed) => {
                // At least the default bound: a listener that did not register
                // (an older lamina) serves that long and says nothing.
                let serves = Duration::from_millis(u64::try_from(probed.serves_ms).unwrap_or(0))
                    .max(crate::cache::STALENESS_BOUND);
                let nobody = probed.live.is_empty() && !probed.unheard;
                let wait = if nobody { Duration::ZERO } else { serves + ACK_MARGIN };
                (probed.live.into_iter().collect(), probed.unheard || !listening, wait)
            }
            Err(err) => {
                log::warn!("webhooks: probing the cache listeners failed ({err}); waiting {UNPROBED_WAIT:?}");
                (Default::default(), true, UNPROBED_WAIT)
            }
        };
        Probe {
            token,
            sent,
            deadline: sent + wait,
            waiting_for,
            unheard,
            deliveries,
        }
    }

    /// Whether every node answered (and none is unheard).
    fn answered(&self) -> bool {
        self.waiting_for.is_empty() && !self.unheard
    }

    fn ready(&self, now: std::time::Instant) -> bool {
        self.answered() || now >= self.deadline
    }
}

/// The connection a worker hears wake-ups ([`WAKE_CHANNEL`]) and probe
/// answers ([`crate::cache::ACK_CHANNEL`]) on; replaced when lost.
struct Signals {
    url: String,
    conn: Option<AsyncPgConnection>,
    tried: Option<std::time::Instant>,
}

/// The `application_name` of a worker's signal connection.
pub const SIGNALS_NAME: &str = "lamina webhook worker";

impl Signals {
    /// Connects and listens, unless connected or tried less than a second ago.
    async fn ensure(&mut self) {
        use diesel_async::{AsyncConnection, SimpleAsyncConnection};
        if self.conn.is_some() || self.tried.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            return;
        }
        self.tried = Some(std::time::Instant::now());
        let listening = async {
            let mut conn = AsyncPgConnection::establish(&self.url)
                .await
                .map_err(|err| err.to_string())?;
            conn.batch_execute(&format!(
                "SET application_name = '{SIGNALS_NAME}'; LISTEN {WAKE_CHANNEL}; LISTEN {}",
                crate::cache::ACK_CHANNEL
            ))
            .await
            .map_err(|err| err.to_string())?;
            Ok::<_, String>(conn)
        };
        match listening.await {
            Ok(conn) => self.conn = Some(conn),
            Err(err) => log::debug!("webhooks: no signal connection (polling meanwhile): {err}"),
        }
    }

    fn listening(&self) -> bool {
        self.conn.is_some()
    }

    /// The next notification; pending for ever without a connection.
    async fn next(&mut self) -> Option<diesel::pg::PgNotification> {
        let Some(conn) = self.conn.as_mut() else {
            return std::future::pending().await;
        };
        let next = futures_util::StreamExt::next(&mut std::pin::pin!(conn.notifications_stream())).await;
        match next {
            Some(Ok(notification)) => Some(notification),
            Some(Err(err)) => {
                log::warn!("webhooks: lost the signal connection (polling meanwhile): {err}");
                self.conn = None;
                None
            }
            None => {
                self.conn = None;
                None
            }
        }
    }
}

/// Deletes the deliveries a disabled endpoint kept past the retention (`$1`,
/// the cutoff) and queues one `sync.required` for each such endpoint (unless
/// one is pending already): it missed events and must resync from
/// `/v1/sync`. What is younger stays, to be sent in order on enabling.
const DROP_KEPT_PAST_RETENTION: &str = "WITH dropped AS ( \
         DELETE FROM webhook_deliveries d USING webhook_endpoints e \
         WHERE e.id = d.endpoint_id AND NOT e.enabled AND d.state = 'pending' \
           AND d.event <> 'sync.required' AND d.created_at < $1 \
         RETURNING d.endpoint_id, d.created_at) \
     INSERT INTO webhook_deliveries (id, endpoint_id, event, payload) \
     SELECT gen_random_uuid(), d.endpoint_id, 'sync.required', jsonb_build_object( \
         'type', 'sync.required', \
         'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
         'data', jsonb_build_object('endpoint_id', d.endpoint_id, 'dropped', count(*), \
             'oldest_dropped', min(d.created_at), 'sync_url', '/v1/sync')) \
     FROM dropped d \
     WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
         WHERE p.endpoint_id = d.endpoint_id AND p.event = 'sync.required' AND p.state = 'pending') \
     GROUP BY d.endpoint_id";

/// Deletes what disabled endpoints kept from before `cutoff` (the sync log's
/// retention: what is older, a receiver can no longer catch up on in order)
/// and tells each such endpoint to resync ([`DROP_KEPT_PAST_RETENTION`]).
/// Returns how many endpoints were told.
pub async fn drop_kept_past(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> diesel::QueryResult<usize> {
    let told = diesel::sql_query(DROP_KEPT_PAST_RETENTION)
        .bind::<Timestamptz, _>(cutoff)
        .execute(conn)
        .await?;
    if told > 0 {
        log::info!(
            "webhooks: {told} disabled endpoints lost events kept past the sync log's retention; told to resync"
        );
    }
    Ok(told)
}

/// Releases orphaned waiting deliveries
/// ([`RELEASE_ORPHANS`]), then deletes
/// delivered and failed deliveries created before `cutoff`, in batches of
/// [`PRUNE_BATCH`] (each its own short statement); pending ones of enabled
/// endpoints are kept whatever their age. Returns how many finished ones were deleted.
pub async fn prune(conn: &mut AsyncPgConnection, cutoff: DateTime<Utc>) -> diesel::QueryResult<u64> {
    let released = diesel::sql_query(RELEASE_ORPHANS).execute(conn).await?;
    if released > 0 {
        log::info!("webhooks: released {released} deliveries left waiting behind none");
    }
    // Registrations of cache listeners long gone (each probe marks what is gone, too).
    diesel::sql_query(MARK_GONE_LISTENERS).execute(conn).await?;
    diesel::sql_query(
        "DELETE FROM cache_listeners c WHERE gone_at < clock_timestamp() - interval '1 minute' \
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = c.pid AND a.backend_start = c.backend_start)",
    )
    .execute(conn)
    .await?;
    let mut deleted = 0;
    loop {
        let batch = diesel::sql_query(
            "DELETE FROM webhook_deliveries WHERE id IN ( \
                 SELECT id FROM webhook_deliveries \
                 WHERE state IN ('delivered', 'failed') AND created_at < $1 \
                 ORDER BY created_at LIMIT $2 \
                 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<Timestamptz, _>(cutoff)
        .bind::<diesel::sql_types::BigInt, _>(PRUNE_BATCH)
        .execute(conn)
        .await?;
        deleted += batch as u64;
        if (batch as i64) < PRUNE_BATCH {
            return Ok(deleted);
        }
    }
}

/// A running worker; dropping it (or [`Worker::stop`]) stops it after the attempt in flight.
#[derive(Debug)]
pub struct Worker {
    stop: Arc<AtomicBool>,
}

impl Worker {
    /// Asks the worker to stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a delivery worker for the database at `url` on a thread of its
/// own (awc's client lives on one thread), with a small pool of its own.
pub fn spawn(url: String, settings: Settings) -> std::io::Result<Worker> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::Builder::new()
        .name("lamina-webhooks".to_owned())
        .spawn(move || actix_rt::System::new().block_on(run(url, settings, flag)))?;
    Ok(Worker { stop })
}

/// The outbox as `/metrics` shows it.
#[derive(QueryableByName)]
struct OutboxCounts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pending: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    oldest_seconds: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    disabled: i64,
}

/// Counts the outbox into `metrics`.
async fn count_outbox(pool: &DbPool, metrics: &crate::metrics::WebhookMetrics) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|err| err.to_string())?;
    let counts: OutboxCounts = diesel::sql_query(
        "SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending') AS pending, \
                (SELECT COALESCE(floor(EXTRACT(EPOCH FROM now() - min(d.created_at))), 0)::bigint \
                 FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                 WHERE d.state = 'pending' AND e.enabled) AS oldest_seconds, \
                (SELECT count(*) FROM webhook_endpoints WHERE NOT enabled) AS disabled",
    )
    .get_result(&mut conn)
    .await
    .map_err(|err| err.to_string())?;
    metrics.outbox_pending.set(counts.pending);
    metrics.oldest_pending_seconds.set(counts.oldest_seconds.max(0));
    metrics.endpoints_disabled.set(counts.disabled);
    Ok(())
}

/// The worker's loop: claim what is due (within the bounds) and probe for
/// it, start what is answered, then wait for a wake-up or an answer (a
/// notification), an attempt to end, a probe's deadline, or [`POLL`].
async fn run(url: String, settings: Settings, stop: Arc<AtomicBool>) {
    let pool = match crate::db::build_pool(&url, 2) {
        Ok(pool) => pool,
        Err(err) => {
            log::error!("webhooks: no connection pool, no deliveries: {err}");
            return;
        }
    };
    let client = client(settings.allow_private);
    let mut signals = Signals {
        url,
        conn: None,
        tried: None,
    };
    let mut in_flight = InFlight::new();
    let mut failing = false;
    let mut pruned_at: Option<std::time::Instant> = None;
    let mut counted_at: Option<std::time::Instant> = None;
    let mut claim_now = true;
    while !AtomicBool::load(&stop, Ordering::Relaxed) {
        if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned_at = Some(std::time::Instant::now());
            let cutoff = settings.clock.now() - settings.retention;
            match pool.get().await {
                Ok(mut conn) => match drop_kept_past(&mut conn, settings.clock.now() - settings.keep_while_disabled)
                    .await
                    .and(prune(&mut conn, cutoff).await)
                {
                    Ok(0) => {}
                    Ok(deleted) => log::info!("webhooks: pruned {deleted} finished deliveries older than {cutoff}"),
                    Err(err) => log::warn!("webhooks: pruning the outbox failed: {err}"),
                },
                Err(err) => log::warn!("webhooks: pruning the outbox failed: {err}"),
            }
        }
        if counted_at.is_none_or(|at| at.elapsed() >= COUNT_EVERY) {
            counted_at = Some(std::time::Instant::now());
            if let Err(err) = count_outbox(&pool, &settings.metrics).await {
                log::debug!("webhooks: counting the outbox failed: {err}");
            }
        }
        // Listening before claiming: a write committed after the claim wakes us.
        signals.ensure().await;
        if in_flight.next_retry.is_some_and(|at| at <= std::time::Instant::now()) {
            in_flight.next_retry = None;
        }
        let mut result = Ok(());
        if claim_now {
            result = in_flight.fill(&pool, signals.listening()).await.map(|_| ());
        }
        claim_now = false;
        in_flight.start_ready(&client, settings.allow_private);
        let wait = in_flight.next_wake();
        tokio::select! {
            notification = signals.next() => {
                // What else came with it too: one round for all.
                let mut next = notification;
                while let Some(notification) = next {
                    if notification.channel == crate::cache::ACK_CHANNEL {
                        in_flight.acknowledged(&notification.payload);
                    } else {
                        claim_now = true;
                    }
                    next = futures_util::FutureExt::now_or_never(signals.next()).flatten();
                }
                if !signals.listening() {
                    claim_now = true;
                }
            }
            Some(ended) = in_flight.tasks.join_next(), if !in_flight.tasks.is_empty() => {
                claim_now = true;
                result = result.and(in_flight.record(&pool, &settings, ended).await);
            }
            () = tokio::time::sleep(wait) => claim_now = true,
        }
        in_flight.start_ready(&client, settings.allow_private);
        match result {
            Ok(()) => failing = false,
            Err(err) if !failing => {
                failing = true;
                log::warn!("webhooks: cannot read the outbox (retrying): {err}");
            }
            Err(_) => {}
        }
    }
    pool.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_recognised() {
        for address in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            // issue 24.15: IPv4-compatible, NAT64, 6to4, Teredo, benchmarking,
            // reserved, multicast, site-local, documentation
            "::127.0.0.1",
            "::10.0.0.1",
            "::8.8.8.8",
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:808:808::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "198.18.0.1",
            "198.19.255.254",
            "240.0.0.1",
            "255.255.255.254",
            "224.0.0.1",
            "239.255.255.250",
            "ff02::1",
            "ff0e::1",
            "fec0::1",
            "192.0.0.8",
            "::ffff:198.18.0.1",
        ] {
            assert!(is_private(address.parse().unwrap()), "{address}");
        }
        for address in [
            "93.184.216.34",
            "8.8.8.8",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.254",
            "2606:4700::1111",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_private(address.parse().unwrap()), "{address}");
        }
    }

    /// The delivery client's resolver answers only public addresses, and
    /// exactly those it checked: `localhost` is refused at connect time.
    #[actix_rt::test]
    async fn the_resolver_refuses_names_of_private_addresses() {
        use actix_tls::connect::Resolve;
        let refused = PublicResolver
            .lookup("localhost", 80)
            .await
            .map_err(|err| err.to_string());
        let reason = refused.unwrap_err();
        assert!(reason.starts_with("refused: the URL's host resolves to "), "{reason}");
        assert!(check_url("http://localhost:9/", false).await.is_err());
        assert!(check_url("http://[::127.0.0.1]/", false).await.is_err());
        assert!(check_url("http://[::ffff:127.0.0.1]/", false).await.is_err());
        assert!(check_form("http://[64:ff9b::7f00:1]/", false).is_err());
        assert!(check_form("http://198.18.0.1/", false).is_err());
        assert_eq!(check_form("http://8.8.8.8/", false), Ok(None));
        assert_eq!(
            check_form("http://example.com/", false),
            Ok(Some(("example.com".to_owned(), 80)))
        );
        assert_eq!(
            check_form("https://example.com:8443/", false),
            Ok(Some(("example.com".to_owned(), 8443)))
        );
    }

    #[test]
    fn secrets_are_whsec_and_32_bytes() {
        let secret = new_secret().unwrap();
        let bytes = BASE64.decode(secret.strip_prefix(SECRET_PREFIX).unwrap()).unwrap();
        assert_eq!(bytes.len(), SECRET_BYTES);
        assert_ne!(secret, new_secret().unwrap());
    }

    /// The example of the Standard Webhooks specification.
    #[test]
    fn signatures_match_the_specifications_example() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_bounded() {
        let base = Duration::from_secs(5);
        for attempts in 1..=12 {
            let expected = base * (1 << (attempts - 1));
            let delay = backoff(base, attempts);
            assert!(delay >= expected.mul_f64(0.8).min(MAX_DELAY), "{attempts}: {delay:?}");
            assert!(delay <= expected.mul_f64(1.2).min(MAX_DELAY), "{attempts}: {delay:?}");
        }
        assert_eq!(backoff(base, 60), MAX_DELAY);
    }

    /// A probe is answered once every live listener acknowledged its token
    /// (an acknowledgement lists tokens after the listener's pid); one that
    /// some node cannot answer waits for its deadline.
    #[test]
    fn probes_are_answered_by_every_listener_or_time_out() {
        let now = std::time::Instant::now();
        let probe = |token: &str, unheard: bool| Probe {
            token: token.to_owned(),
            sent: now,
            deadline: now + Duration::from_millis(150),
            waiting_for: [11, 12].into(),
            unheard,
            deliveries: Vec::new(),
        };
        let mut in_flight = InFlight::new();
        in_flight.probes = vec![probe("w.1", false), probe("w.2", false), probe("w.3", true)];
        in_flight.acknowledged("11 w.1 w.2 w.3");
        in_flight.acknowledged("12 w.2 w.3 other.9");
        in_flight.acknowledged("not-a-pid w.1");
        let ready: Vec<bool> = in_flight.probes.iter().map(|probe| probe.ready(now)).collect();
        assert_eq!(ready, [false, true, false]);
        assert!(
            in_flight.probes[0].ready(now + Duration::from_millis(150)),
            "the deadline sends"
        );
        assert!(in_flight.probes[2].ready(now + Duration::from_millis(150)));
        assert!(in_flight.next_wake() <= Duration::from_millis(150));
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }
}

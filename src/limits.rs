//! Rate limits (governor): failed authentication per client address,
//! writes per token, and anonymous searches per client address. Other
//! reads are not limited. The client address is the TCP
//! peer, or what a trusted proxy says it forwarded for.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use actix_web::http::header::{self, HeaderMap, HeaderName};

pub use crate::config::ProxyHeader;
use crate::error::AppError;

/// Every comma-separated element of every `name` header, in order.
fn header_values(headers: &HeaderMap, name: HeaderName) -> impl Iterator<Item = &str> {
    headers
        .get_all(name)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
}

/// An address from a forwarding header: `192.0.2.1`, `192.0.2.1:4711`,
/// `"[2001:db8::1]:4711"` or `2001:db8::1`; `None` for anything else
/// (`unknown`, obfuscated names), which makes the whole header untrusted.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.parse()
        .ok()
        .or_else(|| node.rsplit_once(':').and_then(|(address, _port)| address.parse().ok()))
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Addresses blocked at most this many at once (oldest forgotten first).
const MAX_BLOCKED: usize = 10_000;

/// Failed authentications between two sweeps of quiet addresses.
const FORGET_EVERY: u64 = 1024;

/// The configured limits; a limit of 0 is no limit.
pub struct Limits {
    /// Proxies whose forwarding header names the client.
    trusted_proxies: Vec<ipnet::IpNet>,
    proxy_header: ProxyHeader,
    /// Failed authentications seen, to sweep the limiter's state now and then.
    failures_seen: AtomicU64,
    auth_failures: Option<(Keyed<IpAddr>, u32)>,
    /// Addresses that used up their failures, until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    writes: Option<(Keyed<String>, u32)>,
    /// Anonymous searches per client address.
    searches: Option<(Keyed<IpAddr>, u32)>,
    /// Searches counted, to sweep the search limiter's state now and then.
    searches_seen: AtomicU64,
}

fn limiter<K: Clone + std::hash::Hash + Eq>(per_minute: u32) -> Option<(Keyed<K>, u32)> {
    let burst = NonZeroU32::new(per_minute)?;
    let limiter = RateLimiter::dashmap(Quota::per_minute(burst)).with_middleware::<StateInformationMiddleware>();
    Some((limiter, per_minute))
}

fn too_many(limit: u32, wait: Duration, detail: String) -> AppError {
    AppError::TooManyRequests {
        limit,
        retry_after: wait.as_secs().max(1),
        detail,
    }
}

impl Limits {
    /// Limits of `auth_failures_per_minute` per client address and `writes_per_minute` per token.
    pub fn new(
        auth_failures_per_minute: u32,
        writes_per_minute: u32,
        trusted_proxies: Vec<ipnet::IpNet>,
        proxy_header: ProxyHeader,
    ) -> Limits {
        Limits::with_searches(
            auth_failures_per_minute,
            writes_per_minute,
            0,
            trusted_proxies,
            proxy_header,
        )
    }

    /// [`Limits::new`], with `searches_per_minute` anonymous searches per client address.
    pub fn with_searches(
        auth_failures_per_minute: u32,
        writes_per_minute: u32,
        searches_per_minute: u32,
        trusted_proxies: Vec<ipnet::IpNet>,
        proxy_header: ProxyHeader,
    ) -> Limits {
        Limits {
            trusted_proxies,
            proxy_header,
            failures_seen: AtomicU64::new(0),
            auth_failures: limiter(auth_failures_per_minute),
            blocked: Mutex::default(),
            writes: limiter(writes_per_minute),
            searches: limiter(searches_per_minute),
            searches_seen: AtomicU64::new(0),
        }
    }

    /// The client's address: the TCP `peer`, unless the peer is a trusted
    /// proxy; then the nearest address in the forwarding header the proxies
    /// write (`X-Forwarded-For`, or `Forwarded`: only that one, since a proxy
    /// passes the other on as the client sent it) that is not a trusted proxy
    /// itself, read from the right, where the trusted proxies appended what
    /// they saw.
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let trusted = |address: &IpAddr| self.trusted_proxies.iter().any(|net| net.contains(address));
        let peer = peer?;
        if !trusted(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<IpAddr> = match self.proxy_header {
            ProxyHeader::Forwarded => header_values(headers, header::FORWARDED)
                .flat_map(|element| element.split(';'))
                .filter_map(|pair| pair.trim().split_once('='))
                .filter(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .map(|(_, node)| parse_node(node))
                .collect::<Option<_>>()
                .unwrap_or_default(),
            ProxyHeader::XForwardedFor => header_values(headers, header::X_FORWARDED_FOR)
                .map(parse_node)
                .collect::<Option<_>>()
                .unwrap_or_default(),
        };
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|address| !trusted(address))
                .unwrap_or(peer),
        )
    }

    /// 429 if `address` recently failed to authenticate too often.
    pub fn check_address(&self, address: Option<IpAddr>) -> Result<(), AppError> {
        let Some((_, limit)) = &self.auth_failures else {
            return Ok(());
        };
        let address = address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let until = self
            .blocked
            .lock()
            .ok()
            .and_then(|blocked| blocked.get(&address).copied());
        match until.and_then(|until| until.checked_duration_since(Instant::now())) {
            Some(wait) => Err(too_many(
                *limit,
                wait,
                "Too many failed authentication attempts from this address.".to_owned(),
            )),
            None => Ok(()),
        }
    }

    /// Records a failed authentication; `failure` is what to answer (a 401), or a 429 once the address is over its limit.
    pub fn auth_failed(&self, address: Option<IpAddr>, failure: AppError) -> AppError {
        let Some((limiter, limit)) = &self.auth_failures else {
            return failure;
        };
        let address = address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        // The limiter keeps a state per address: forget the quiet ones now
        // and then, so addresses that come and go do not add up.
        if self.failures_seen.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        match limiter.check_key(&address) {
            Ok(_) => failure,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                if let Ok(mut blocked) = self.blocked.lock() {
                    if blocked.len() >= MAX_BLOCKED {
                        let now = Instant::now();
                        blocked.retain(|_, until| *until > now);
                    }
                    if blocked.len() < MAX_BLOCKED {
                        blocked.insert(address, Instant::now() + wait);
                    }
                }
                too_many(
                    *limit,
                    wait,
                    "Too many failed authentication attempts from this address.".to_owned(),
                )
            }
        }
    }

    /// Counts an anonymous search from `address`; 429 once it is over its limit.
    pub fn search(&self, address: Option<IpAddr>) -> Result<(), AppError> {
        let Some((limiter, limit)) = &self.searches else {
            return Ok(());
        };
        let address = address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        // One state per address: forget the quiet ones now and then.
        if self.searches_seen.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        match limiter.check_key(&address) {
            Ok(_) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(too_many(
                    *limit,
                    wait,
                    "Too many searches from this address; sign in with a token or slow down.".to_owned(),
                ))
            }
        }
    }

    /// Counts a write by token `name`; 429 once it is over its limit.
    pub fn write(&self, name: &str) -> Result<(), AppError> {
        let Some((limiter, limit)) = &self.writes else {
            return Ok(());
        };
        match limiter.check_key(&name.to_owned()) {
            Ok(_) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(too_many(
                    *limit,
                    wait,
                    format!("The token {name:?} has used up its writes for now."),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn limits(trusted: &str) -> Limits {
        let trusted: crate::config::TrustedProxies = trusted.parse().unwrap();
        Limits::new(1, 1, trusted.0, ProxyHeader::XForwardedFor)
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let ip = |text: &str| Some(text.parse::<IpAddr>().unwrap());
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(
            limits("").client_address(ip("203.0.113.9"), &spoofed),
            ip("203.0.113.9")
        );
        let proxies = limits("10.0.0.0/8, ::1");
        assert_eq!(
            proxies.client_address(ip("203.0.113.9"), &spoofed),
            ip("203.0.113.9"),
            "not a proxy"
        );
        assert_eq!(proxies.client_address(ip("10.0.0.5"), &spoofed), ip("1.2.3.4"));
        // The client may prepend lies; the rightmost untrusted address is what the proxy saw.
        let chain = headers(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ("x-forwarded-for", "10.1.1.1"),
        ]);
        assert_eq!(proxies.client_address(ip("10.0.0.5"), &chain), ip("198.51.100.7"));
        let forwarded = headers(&[("forwarded", r#"for="[2001:db8::17]:4711";proto=https, for=10.2.2.2"#)]);
        assert_eq!(
            proxies.client_address(ip("::1"), &forwarded),
            ip("::1"),
            "the header the proxies do not write is the client's"
        );
        let trusted: crate::config::TrustedProxies = "10.0.0.0/8, ::1".parse().unwrap();
        let rfc7239 = Limits::new(1, 1, trusted.0, ProxyHeader::Forwarded);
        assert_eq!(rfc7239.client_address(ip("::1"), &forwarded), ip("2001:db8::17"));
        assert_eq!(rfc7239.client_address(ip("10.0.0.5"), &spoofed), ip("10.0.0.5"));
        let junk = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(proxies.client_address(ip("10.0.0.5"), &junk), ip("10.0.0.5"));
        assert!("10.0.0.0/33".parse::<crate::config::TrustedProxies>().is_err());
    }
}

//! Rate limits (governor): failed authentication per client address, and
//! writes per token. Reads are not limited.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::AppError;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Addresses blocked at most this many at once (oldest forgotten first).
const MAX_BLOCKED: usize = 10_000;

/// The configured limits; a limit of 0 is no limit.
pub struct Limits {
    auth_failures: Option<(Keyed<IpAddr>, u32)>,
    /// Addresses that used up their failures, until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    writes: Option<(Keyed<String>, u32)>,
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
    pub fn new(auth_failures_per_minute: u32, writes_per_minute: u32) -> Limits {
        Limits {
            auth_failures: limiter(auth_failures_per_minute),
            blocked: Mutex::default(),
            writes: limiter(writes_per_minute),
        }
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

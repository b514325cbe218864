//! The representation cache: published read responses kept in memory as
//! serialized bytes with their validators, so a hit costs no database round
//! trip and no JSON serialization.
//!
//! Coherence: a write drops its article's entries on this node right after
//! commit ([`RepresentationCache::invalidate`]), and its transaction sends a
//! PostgreSQL `NOTIFY` that every node's [`listen`] task turns into the same
//! invalidation. Entries are only added while that subscription is live; when
//! it is lost the whole cache is dropped and the subscription renewed (the
//! dropped entries are kept aside only to answer while the database is down).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::StreamExt;

use crate::routes::caching::Representation;

/// The `NOTIFY` channel of content changes; the payload is the article's slug.
pub const CHANNEL: &str = "lamina_content";
/// The group of list pages, which every write may change.
const LIST_GROUP: &str = "";

type Groups = HashMap<String, HashMap<String, Arc<Representation>>>;

#[derive(Default)]
struct Entries {
    /// slug (or [`LIST_GROUP`]) → request target → representation.
    groups: Groups,
    bytes: usize,
    /// What was cached when the subscription was lost: no longer served as
    /// current, only when the database cannot be reached (stale-if-error).
    stale: Groups,
}

/// Bounded in-memory store of public representations.
pub struct RepresentationCache {
    entries: RwLock<Entries>,
    /// Bumped by every invalidation; a read that started before it may not insert.
    generation: AtomicU64,
    /// Whether this node currently hears other nodes' writes.
    subscribed: AtomicBool,
    max_bytes: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl RepresentationCache {
    /// An empty cache holding at most `max_bytes` of bodies (0 turns it off).
    pub fn new(max_bytes: usize) -> RepresentationCache {
        RepresentationCache {
            entries: RwLock::default(),
            generation: AtomicU64::new(0),
            subscribed: AtomicBool::new(false),
            max_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The group of an article's entries.
    pub fn article_group(slug: &str) -> &str {
        slug
    }

    /// The group of list pages.
    pub fn list_group() -> &'static str {
        LIST_GROUP
    }

    /// The cached representation of `key` in `group`, counting the hit or miss.
    pub fn get(&self, group: &str, key: &str) -> Option<Arc<Representation>> {
        let found = self
            .entries
            .read()
            .ok()
            .and_then(|entries| entries.groups.get(group).and_then(|group| group.get(key)).cloned());
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The generation to pass to [`insert`](Self::insert), taken before reading the database.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores a representation read at `generation`, unless a write has
    /// invalidated anything since (the read may be stale) or this node is
    /// not hearing other nodes' writes.
    pub fn insert(&self, group: &str, key: &str, representation: Arc<Representation>, generation: u64) {
        if self.max_bytes == 0 || !self.subscribed.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut entries) = self.entries.write() else { return };
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        let size = representation.body.len() + key.len();
        if size > self.max_bytes {
            return;
        }
        if entries.bytes + size > self.max_bytes {
            // Simple and bounded: start afresh rather than track recency.
            *entries = Entries::default();
        }
        entries.bytes += size;
        if let Some(old) = entries
            .groups
            .entry(group.to_owned())
            .or_default()
            .insert(key.to_owned(), representation)
        {
            entries.bytes -= old.body.len() + key.len();
        }
    }

    /// Drops every entry an article's change can affect: its own and the list pages.
    pub fn invalidate(&self, slug: &str) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            for group in [slug, LIST_GROUP] {
                if let Some(removed) = entries.groups.remove(group) {
                    entries.bytes -= removed
                        .iter()
                        .map(|(key, rep)| rep.body.len() + key.len())
                        .sum::<usize>();
                }
                entries.stale.remove(group);
            }
        }
    }

    /// The last representation cached before the subscription was lost, for
    /// answering while the database is unreachable.
    pub fn get_stale(&self, group: &str, key: &str) -> Option<Arc<Representation>> {
        let entries = self.entries.read().ok()?;
        entries.stale.get(group).and_then(|group| group.get(key)).cloned()
    }

    /// Drops everything, stale copies too.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            *entries = Entries::default();
        }
    }

    /// (hits, misses) since start.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Bytes of bodies held.
    pub fn bytes(&self) -> usize {
        self.entries.read().map(|entries| entries.bytes).unwrap_or(0)
    }

    /// Whether this node currently hears other nodes' writes (and so keeps entries).
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    fn set_subscribed(&self, on: bool) {
        self.subscribed.store(on, Ordering::Release);
        // Whatever is cached may miss changes from now on (lost) or may have
        // missed some (regained): it is no longer served as current. While
        // the subscription is lost it is kept aside for stale-if-error.
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            let current = std::mem::take(&mut entries.groups);
            entries.bytes = 0;
            entries.stale = if on { Groups::new() } else { current };
        }
    }
}

/// Keeps `cache` coherent with writes of other nodes: `LISTEN`s on
/// [`CHANNEL`] and invalidates what each notification names; reconnects (and
/// drops the cache) whenever the connection is lost. Runs until the process ends.
pub async fn listen(url: String, cache: Arc<RepresentationCache>) {
    use diesel_async::RunQueryDsl;
    let mut delay = Duration::from_millis(100);
    loop {
        match AsyncPgConnection::establish(&url).await {
            Ok(mut conn) => match diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).await {
                Ok(_) => {
                    cache.set_subscribed(true);
                    log::debug!("cache: listening for content changes");
                    delay = Duration::from_millis(100);
                    let mut notifications = std::pin::pin!(conn.notifications_stream());
                    while let Some(notification) = notifications.next().await {
                        match notification {
                            Ok(notification) => cache.invalidate(&notification.payload),
                            Err(err) => {
                                log::warn!("cache: notification connection failed: {err}");
                                break;
                            }
                        }
                    }
                    cache.set_subscribed(false);
                    log::warn!("cache: lost the notification connection; cache dropped, reconnecting");
                }
                Err(err) => log::warn!("cache: LISTEN failed: {err}"),
            },
            Err(err) => log::debug!("cache: cannot connect for notifications: {err}"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(body: &str) -> Arc<Representation> {
        Arc::new(Representation::new(
            body.as_bytes().to_vec().into(),
            "\"e\"".to_owned(),
            None,
            String::new(),
        ))
    }

    #[test]
    fn stale_reads_and_unsubscribed_nodes_do_not_fill_the_cache() {
        let cache = RepresentationCache::new(1024);
        let generation = cache.generation();
        cache.insert("a", "/a", rep("x"), generation);
        assert!(cache.get("a", "/a").is_none(), "not subscribed: nothing is kept");
        cache.set_subscribed(true);
        let generation = cache.generation();
        cache.invalidate("b");
        cache.insert("a", "/a", rep("x"), generation);
        assert!(cache.get("a", "/a").is_none(), "a write happened during the read");
        let generation = cache.generation();
        cache.insert("a", "/a", rep("x"), generation);
        cache.insert("", "/list", rep("l"), generation);
        assert!(cache.get("a", "/a").is_some());
        cache.invalidate("a");
        assert!(cache.get("a", "/a").is_none() && cache.get("", "/list").is_none());
        assert_eq!(cache.counts(), (1, 4));
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let cache = RepresentationCache::new(100);
        cache.set_subscribed(true);
        for n in 0..50 {
            cache.insert("a", &format!("/{n}"), rep(&"x".repeat(20)), cache.generation());
            assert!(cache.bytes() <= 100);
        }
    }
}

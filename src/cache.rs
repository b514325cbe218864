//! The representation cache: published read responses kept in memory as
//! serialized bytes with their validators and compressed variants, so a hit
//! costs no database round trip, no JSON serialization and no compression.
//!
//! Bounded by bytes: each entry weighs what it really holds (key, body,
//! compressed variants, header values and a fixed overhead), and eviction
//! is per entry (quick_cache: CLOCK-Pro-like admission, so a scan of one-off
//! keys cannot push out the entries read again and again). Keys are built by
//! the routes from parsed, normalized values, never from the raw request.
//!
//! Coherence: a write invalidates its article's group (its entries and the
//! list pages) on this node right after commit ([`RepresentationCache::invalidate`]),
//! and its transaction sends a PostgreSQL `NOTIFY` that every node's
//! listener ([`spawn_listener`]) turns into the same invalidation. Invalidating a group
//! bumps its generation; an entry is current only while its group's
//! generation and the subscription epoch are the ones it was read under, so
//! a read that raced a write can never be stored as current. Entries are only
//! served while the subscription is live; when it is lost they are kept
//! aside (the previous epoch) only to answer while the database is down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::StreamExt;

/// The `NOTIFY` channel of content changes, which writes send in their transaction.
pub use crate::db::CONTENT_CHANNEL as CHANNEL;
/// The group of list pages, which every write may change.
const LIST_GROUP: &str = "";
/// Bodies smaller than this are sent as they are.
const MIN_COMPRESSED_BYTES: usize = 512;
/// What an entry holds besides its key and byte buffers: the entry and
/// representation structs, three header values, the `Arc`s and the cache's
/// own slot (measured: RSS growth per small entry, rounded up).
const ENTRY_OVERHEAD_BYTES: u64 = 512;

/// A content coding lamina keeps pre-compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `br`
    Brotli,
    /// `gzip`
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` name.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }
}

/// One of a representation's bodies: as it is, or pre-compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The body as it is.
    Identity,
    /// The body pre-compressed.
    Encoded(Coding),
}

/// A serialized read response with its validators, ready to send many times.
#[derive(Debug, Clone)]
pub struct Representation {
    /// The JSON body.
    pub body: Bytes,
    /// The strong entity tag, quoted: `"s.<id>.<version>"`.
    pub etag: String,
    etag_header: HeaderValue,
    /// When the resource last changed, as an HTTP date and in seconds (for `If-Modified-Since`).
    last_modified: Option<(HeaderValue, i64)>,
    /// CDN purge keys: the article and the sections the body shows.
    surrogate_keys: Option<HeaderValue>,
    /// The body compressed, for representations kept in the cache.
    brotli: Option<Bytes>,
    gzip: Option<Bytes>,
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
        body: Bytes,
        etag: String,
        last_modified: Option<DateTime<Utc>>,
        surrogate_keys: String,
    ) -> Representation {
        let etag_header = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"invalid\""));
        let last_modified = last_modified.and_then(|at| {
            let text = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            HeaderValue::from_str(&text).ok().map(|value| (value, at.timestamp()))
        });
        Representation {
            body,
            etag,
            etag_header,
            last_modified,
            surrogate_keys: HeaderValue::from_str(&surrogate_keys).ok(),
            brotli: None,
            gzip: None,
        }
    }

    /// Serializes `value` as the body.
    pub fn json<T: serde::Serialize>(
        value: &T,
        etag: String,
        last_modified: Option<DateTime<Utc>>,
        surrogate_keys: String,
    ) -> Result<Representation, serde_json::Error> {
        let body = serde_json::to_vec(value)?;
        Ok(Representation::new(body.into(), etag, last_modified, surrogate_keys))
    }

    /// The same with brotli and gzip variants made now (for the cache: a hit
    /// then never compresses, and the entry's weight is known when stored).
    pub fn with_compressed_variants(mut self) -> Representation {
        if self.body.len() >= MIN_COMPRESSED_BYTES {
            self.brotli = compress(Coding::Brotli, &self.body);
            self.gzip = compress(Coding::Gzip, &self.body);
        }
        self
    }

    /// Whether the body is sent as it is whatever the client accepts: too
    /// small for compression to pay for itself.
    pub fn sent_as_is(&self) -> bool {
        self.body.len() < MIN_COMPRESSED_BYTES
    }

    /// The body in `coding`, if a variant was made and is smaller.
    pub fn encoded(&self, coding: Coding) -> Option<&Bytes> {
        match coding {
            Coding::Brotli => self.brotli.as_ref(),
            Coding::Gzip => self.gzip.as_ref(),
        }
    }

    /// Which of this representation's bodies `bytes` is (the very bytes, not a copy).
    pub fn variant_of(&self, bytes: &Bytes) -> Option<Variant> {
        let same = |held: &Bytes| held.as_ptr() == bytes.as_ptr() && held.len() == bytes.len();
        if same(&self.body) {
            Some(Variant::Identity)
        } else if self.brotli.as_ref().is_some_and(same) {
            Some(Variant::Encoded(Coding::Brotli))
        } else if self.gzip.as_ref().is_some_and(same) {
            Some(Variant::Encoded(Coding::Gzip))
        } else {
            None
        }
    }

    /// The body `variant` names, if this representation has it.
    pub fn variant(&self, variant: Variant) -> Option<&Bytes> {
        match variant {
            Variant::Identity => Some(&self.body),
            Variant::Encoded(coding) => self.encoded(coding),
        }
    }

    /// The `ETag` header value.
    pub fn etag_header(&self) -> &HeaderValue {
        &self.etag_header
    }

    /// The `Last-Modified` header value and its time in seconds.
    pub fn last_modified(&self) -> Option<&(HeaderValue, i64)> {
        self.last_modified.as_ref()
    }

    /// The `Surrogate-Key` header value.
    pub fn surrogate_keys(&self) -> Option<&HeaderValue> {
        self.surrogate_keys.as_ref()
    }

    /// Bytes this representation holds, with its fixed overhead.
    fn weight(&self) -> u64 {
        let variants = [&self.brotli, &self.gzip]
            .into_iter()
            .flatten()
            .map(Bytes::len)
            .sum::<usize>();
        let headers = self.etag.len()
            + self.etag_header.len()
            + self.last_modified.as_ref().map_or(0, |(value, _)| value.len())
            + self.surrogate_keys.as_ref().map_or(0, HeaderValue::len);
        u64::try_from(self.body.len() + variants + headers).unwrap_or(u64::MAX) + ENTRY_OVERHEAD_BYTES
    }
}

/// A cached representation and what it was read under (shared: a hit clones one `Arc`).
type Entry = Arc<EntryData>;

struct EntryData {
    representation: Arc<Representation>,
    /// Its group's generation counter, so a hit checks it without a lock or a lookup.
    group: Arc<AtomicU64>,
    /// The generation of its group when the read began.
    group_generation: u64,
    /// The subscription epoch when the read began.
    epoch: u64,
}

impl EntryData {
    /// Whether no write to its group happened since it was read.
    fn group_unchanged(&self) -> bool {
        self.group.load(Ordering::Acquire) == self.group_generation
    }
}

/// Which entry of the cache answered a read: its key, and the entry itself
/// (weakly: an evicted entry's bytes are freed), for
/// [`RepresentationCache::holding`]. A cache hit leaves it in the request's
/// extensions for the fast path of repeated requests (`crate::repeat`).
#[derive(Clone)]
pub struct Answered {
    key: String,
    entry: Weak<EntryData>,
}

/// What a repeat of an answer checks, taken once when it is remembered
/// ([`RepresentationCache::holding`]): the answer holds while no write
/// touched its group, this node hears writes as it did, and the cache was
/// not cleared. Checked with loads alone (no lock, no reference count), so
/// workers on other cores repeating the same answer do not contend.
pub struct Holding {
    group: Arc<AtomicU64>,
    group_generation: u64,
    epoch: u64,
    cleared: u64,
}

/// A worker's own count of cache hits (on a cache line of its own), summed
/// by [`RepresentationCache::counts`].
#[repr(align(128))]
#[derive(Default)]
pub struct WorkerHits(AtomicU64);

impl WorkerHits {
    /// Counts one hit.
    pub fn count(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Weighs an entry by the bytes it holds.
#[derive(Clone)]
struct ByBytes;

/// How entry keys are hashed: foldhash's quality hasher, seeded at random
/// per process (keys are request targets a client chooses), several times
/// cheaper per lookup than the SipHash quick_cache falls back to without
/// its `ahash` feature.
type KeyHasher = foldhash::quality::RandomState;

/// The entries: keys are request targets, weighed by bytes.
type Entries = quick_cache::sync::Cache<String, Entry, ByBytes, KeyHasher>;

impl quick_cache::Weighter<String, Entry> for ByBytes {
    fn weight(&self, key: &String, entry: &Entry) -> u64 {
        entry.representation.weight() + key.len() as u64
    }
}

/// What a read must present to store its result: the state it was read under.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    group_generation: u64,
    epoch: u64,
}

/// Bounded in-memory store of public representations.
pub struct RepresentationCache {
    entries: Option<Entries>,
    /// Generation of each group (an article's slug, or the list pages), bumped by
    /// invalidation; entries hold their group's counter.
    groups: RwLock<HashMap<String, Arc<AtomicU64>>>,
    /// Bumped whenever the subscription is gained or lost; odd while subscribed.
    epoch: AtomicU64,
    /// Whether this node currently hears other nodes' writes.
    subscribed: AtomicBool,
    /// Until when (µs after `started`) entries may be served: the start of the
    /// last answered heartbeat on the notification connection plus
    /// [`STALENESS_BOUND`]. A stalled connection lets it lapse.
    fresh_until: AtomicU64,
    /// How long after a heartbeat began entries are served, in µs.
    bound: u64,
    started: Instant,
    hits: AtomicU64,
    /// Hits counted by workers themselves ([`WorkerHits`]).
    worker_hits: std::sync::Mutex<Vec<Arc<WorkerHits>>>,
    misses: AtomicU64,
    /// Entries queued for compression and not yet done.
    compressing: std::sync::atomic::AtomicUsize,
    /// Bumped by every [`clear`](Self::clear).
    cleared: AtomicU64,
}

impl RepresentationCache {
    /// An empty cache holding at most `max_bytes` (0 turns it off).
    pub fn new(max_bytes: usize) -> RepresentationCache {
        RepresentationCache::with_staleness_bound(max_bytes, STALENESS_BOUND)
    }

    /// The same, serving entries for `bound` after each answered heartbeat
    /// instead of [`STALENESS_BOUND`] (for measurements under a profiler,
    /// where everything runs tens of times slower than the heartbeat assumes).
    pub fn with_staleness_bound(max_bytes: usize, bound: Duration) -> RepresentationCache {
        // Few shards: each holds a share of the bytes, and an entry must fit in one.
        let entries = (max_bytes > 0)
            .then(|| {
                quick_cache::OptionsBuilder::new()
                    .estimated_items_capacity((max_bytes / 8192).max(16))
                    .weight_capacity(max_bytes as u64)
                    .shards(4)
                    .build()
                    .ok()
            })
            .flatten()
            .map(|options| {
                quick_cache::sync::Cache::with_options(options, ByBytes, Default::default(), Default::default())
            });
        RepresentationCache {
            entries,
            groups: RwLock::default(),
            epoch: AtomicU64::new(0),
            subscribed: AtomicBool::new(false),
            fresh_until: AtomicU64::new(0),
            bound: u64::try_from(bound.as_micros()).unwrap_or(u64::MAX),
            started: Instant::now(),
            hits: AtomicU64::new(0),
            worker_hits: std::sync::Mutex::default(),
            misses: AtomicU64::new(0),
            compressing: std::sync::atomic::AtomicUsize::new(0),
            cleared: AtomicU64::new(0),
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

    fn group_generation(&self, group: &str) -> u64 {
        self.groups
            .read()
            .ok()
            .and_then(|groups| groups.get(group).map(|generation| generation.load(Ordering::Acquire)))
            .unwrap_or(0)
    }

    /// The generation counter of `group`, made (at 0) if it has none yet.
    fn group_counter(&self, group: &str) -> Option<Arc<AtomicU64>> {
        if let Some(counter) = self.groups.read().ok()?.get(group) {
            return Some(counter.clone());
        }
        let mut groups = self.groups.write().ok()?;
        Some(groups.entry(group.to_owned()).or_default().clone())
    }

    /// The current representation of `key`, counting the hit or miss (the
    /// entry checks its own group's counter).
    pub fn get(&self, key: &str) -> Option<Arc<Representation>> {
        self.get_entry(key).map(|entry| entry.representation.clone())
    }

    /// The current entry of `key`, counting the hit or miss.
    fn get_entry(&self, key: &str) -> Option<Entry> {
        let found = self.current_entry(key);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The current entry of `key`, if any, counting nothing.
    fn current_entry(&self, key: &str) -> Option<Entry> {
        let entry = self.entries.as_ref()?.get(key)?;
        let current = self.is_fresh() && entry.epoch == self.epoch.load(Ordering::Acquire) && entry.group_unchanged();
        current.then_some(entry)
    }

    /// As [`get`](Self::get), also saying which entry answered (see
    /// [`Answered`]); a miss hands `key` back.
    pub fn get_answered(&self, key: String) -> Result<(Arc<Representation>, Answered), String> {
        let Some(entry) = self.get_entry(&key) else {
            return Err(key);
        };
        let answered = Answered {
            key,
            entry: Arc::downgrade(&entry),
        };
        Ok((entry.representation.clone(), answered))
    }

    /// The representation of the entry `answered` names, current or not,
    /// if it is still held (by the cache or a response).
    pub fn peek_answered(&self, answered: &Answered) -> Option<Arc<Representation>> {
        answered.entry.upgrade().map(|entry| entry.representation.clone())
    }

    /// What a repeat of the answer `answered` names checks ([`holds`](Self::holds)),
    /// if that entry is still what [`get`](Self::get) would answer, its
    /// compressed variants made (a repeat never answers as it is what the
    /// cache will soon have compressed).
    pub fn holding(&self, answered: &Answered) -> Option<Holding> {
        let cleared = self.cleared.load(Ordering::Acquire);
        let entry = self.current_entry(&answered.key)?;
        let settled = entry.representation.sent_as_is() || entry.representation.brotli.is_some();
        (std::ptr::eq(Arc::as_ptr(&entry), answered.entry.as_ptr()) && settled).then(|| Holding {
            group: entry.group.clone(),
            group_generation: entry.group_generation,
            epoch: entry.epoch,
            cleared,
        })
    }

    /// Whether an answer taken as `holding` still holds: no write to its
    /// group since, entries still served (the node hears writes, under the
    /// same subscription) and the cache not cleared.
    pub fn holds(&self, holding: &Holding) -> bool {
        self.is_fresh()
            && self.epoch.load(Ordering::Acquire) == holding.epoch
            && holding.group.load(Ordering::Acquire) == holding.group_generation
            && self.cleared.load(Ordering::Acquire) == holding.cleared
    }

    /// A counter of hits for one worker, counted in [`counts`](Self::counts).
    pub fn worker_hits(&self) -> Arc<WorkerHits> {
        let hits = Arc::new(WorkerHits::default());
        if let Ok(mut all) = self.worker_hits.lock() {
            all.push(hits.clone());
        }
        hits
    }

    /// Taken before reading the database, to pass to [`insert`](Self::insert).
    pub fn ticket(&self, group: &str) -> Ticket {
        Ticket {
            epoch: self.epoch.load(Ordering::Acquire),
            group_generation: self.group_generation(group),
        }
    }

    /// Stores a representation read under `ticket`, unless this node is not
    /// hearing other nodes' writes or the group changed since (the read may
    /// be stale: such an entry would never be served anyway).
    pub fn insert(&self, group: &str, key: String, representation: Arc<Representation>, ticket: Ticket) {
        if let Some((entries, entry)) = self.entry(group, representation, ticket) {
            entries.insert(key, entry);
        }
    }

    /// Replaces the entry of `key` (its compressed variants made) under the
    /// same conditions as [`insert`](Self::insert), if it is still there.
    /// Not a use of the entry: an entry read once stays a candidate for
    /// eviction, so a scan of many URLs cannot push out what is read often.
    fn replace(&self, group: &str, key: String, representation: Arc<Representation>, ticket: Ticket) {
        if let Some((entries, entry)) = self.entry(group, representation, ticket) {
            // Gone (evicted meanwhile): not stored again.
            let _ = entries.replace(key, entry, true);
        }
    }

    /// The entry to store for `representation` read under `ticket` in
    /// `group`, unless this node is not hearing other nodes' writes or the
    /// group changed since.
    fn entry(&self, group: &str, representation: Arc<Representation>, ticket: Ticket) -> Option<(&Entries, Entry)> {
        let entries = self.entries.as_ref()?;
        let counter = self.group_counter(group)?;
        let current = self.subscribed.load(Ordering::Acquire)
            && ticket.epoch == self.epoch.load(Ordering::Acquire)
            && ticket.group_generation == counter.load(Ordering::Acquire);
        current.then(|| {
            let entry = Arc::new(EntryData {
                representation,
                group: counter,
                group_generation: ticket.group_generation,
                epoch: ticket.epoch,
            });
            (entries, entry)
        })
    }

    /// Makes every entry an article's change can affect stale: its own and the list pages.
    pub fn invalidate(&self, slug: &str) {
        if let Ok(mut groups) = self.groups.write() {
            for group in [slug, LIST_GROUP] {
                match groups.get(group) {
                    Some(counter) => counter.fetch_add(1, Ordering::AcqRel),
                    None => {
                        groups.insert(group.to_owned(), Arc::new(AtomicU64::new(1)));
                        0
                    }
                };
            }
        }
    }

    /// The last representation cached before the subscription was lost (and
    /// not invalidated since), for answering while the database is unreachable.
    pub fn get_stale(&self, key: &str) -> Option<Arc<Representation>> {
        let entry = self.entries.as_ref()?.peek(key)?;
        let previous = !self.subscribed.load(Ordering::Acquire)
            && entry.epoch + 1 == self.epoch.load(Ordering::Acquire)
            && entry.group_unchanged();
        previous.then(|| entry.representation.clone())
    }

    /// Drops everything, stale copies too.
    pub fn clear(&self) {
        self.cleared.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }

    /// (hits, misses) since start.
    pub fn counts(&self) -> (u64, u64) {
        let workers = self.worker_hits.lock().map_or(0, |all| {
            all.iter().map(|hits| hits.0.load(Ordering::Relaxed)).sum::<u64>()
        });
        (
            self.hits.load(Ordering::Relaxed) + workers,
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Bytes held (the weight of every entry, current or not yet evicted).
    pub fn bytes(&self) -> usize {
        self.entries
            .as_ref()
            .map_or(0, |entries| usize::try_from(entries.weight()).unwrap_or(usize::MAX))
    }

    /// Entries whose compressed variants are being made (they are served as
    /// they are meanwhile, and weigh more once done).
    pub fn compressing(&self) -> usize {
        self.compressing.load(Ordering::Acquire)
    }

    /// Whether this node currently hears other nodes' writes (and so serves entries).
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    /// Microseconds since this cache was made (a monotonic clock).
    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Whether entries may be served now: subscribed, and every write
    /// committed more than [`STALENESS_BOUND`] ago is known to have been heard.
    fn is_fresh(&self) -> bool {
        self.subscribed.load(Ordering::Acquire) && self.now() < self.fresh_until.load(Ordering::Acquire)
    }

    /// Records that every notification of a write committed before `since`
    /// (a [`now`](Self::now) reading) has been applied.
    fn heard_everything_before(&self, since: u64) {
        let until = since.saturating_add(self.bound);
        self.fresh_until.fetch_max(until, Ordering::AcqRel);
    }

    fn set_subscribed(&self, on: bool) {
        // Whatever is cached may miss changes from now on (lost) or may have
        // missed some (regained): it is no longer served as current. While
        // the subscription is lost it stays available for stale-if-error.
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.fresh_until.store(0, Ordering::Release);
        self.subscribed.store(on, Ordering::Release);
        if on {
            self.clear();
        }
    }
}

/// The `application_name` of the notification connection (how operators,
/// and the tests, tell it apart in `pg_stat_activity`).
pub const LISTENER_NAME: &str = "lamina cache listener";
/// Compression jobs waiting at most; past it a new entry stays uncompressed
/// (answers are then encoded by the Compress middleware at a cheap level).
const COMPRESS_QUEUE: usize = 256;

/// A representation to compress and store again under the same ticket.
struct CompressJob {
    cache: std::sync::Weak<RepresentationCache>,
    group: String,
    key: String,
    representation: Arc<Representation>,
    ticket: Ticket,
}

/// The queue of the compression thread (one per process, started on first use).
fn compress_queue() -> Option<&'static std::sync::mpsc::SyncSender<CompressJob>> {
    static QUEUE: std::sync::OnceLock<Option<std::sync::mpsc::SyncSender<CompressJob>>> = std::sync::OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (sender, receiver) = std::sync::mpsc::sync_channel::<CompressJob>(COMPRESS_QUEUE);
            let started = std::thread::Builder::new()
                .name("lamina-compress".to_owned())
                .spawn(move || {
                    while let Ok(job) = receiver.recv() {
                        let Some(cache) = job.cache.upgrade() else { continue };
                        let compressed = Arc::new((*job.representation).clone().with_compressed_variants());
                        // Stored only if nothing changed since the read (the
                        // ticket), in place of the entry if it is still there.
                        cache.replace(&job.group, job.key, compressed, job.ticket);
                        cache.compressing.fetch_sub(1, Ordering::AcqRel);
                    }
                });
            match started {
                Ok(_) => Some(sender),
                Err(err) => {
                    log::warn!("cache: no compression thread ({err}); entries stay uncompressed");
                    None
                }
            }
        })
        .as_ref()
}

/// Stores `representation` (read under `ticket`) at once, and queues the
/// making of its compressed variants, which then replace it: a miss never
/// waits for brotli at a high quality. Bodies too small to compress are only stored.
pub fn insert_and_compress(
    cache: &Arc<RepresentationCache>,
    group: &str,
    key: String,
    representation: Arc<Representation>,
    ticket: Ticket,
) {
    let compress = representation.body.len() >= MIN_COMPRESSED_BYTES && cache.entries.is_some();
    let job = compress.then(|| CompressJob {
        cache: Arc::downgrade(cache),
        group: group.to_owned(),
        key: key.clone(),
        representation: representation.clone(),
        ticket,
    });
    // Stored first, so the compressed copy (stored by the thread) replaces it.
    cache.insert(group, key, representation, ticket);
    if let Some(job) = job
        && let Some(queue) = compress_queue()
    {
        cache.compressing.fetch_add(1, Ordering::AcqRel);
        if let Err(std::sync::mpsc::TrySendError::Full(job) | std::sync::mpsc::TrySendError::Disconnected(job)) =
            queue.try_send(job)
        {
            cache.compressing.fetch_sub(1, Ordering::AcqRel);
            log::debug!("cache: compression queue full; {} stays uncompressed", job.key);
        }
    }
}

/// How stale a served entry may be at most: API.md §6 promises that a write
/// is seen on every other node within 100 ms.
pub const STALENESS_BOUND: Duration = Duration::from_millis(100);
/// How often the notification connection proves it is alive and caught up
/// (a round trip on it), well inside [`STALENESS_BOUND`] so that a healthy
/// connection never lets the cache lapse.
const HEARTBEAT_EVERY: Duration = Duration::from_millis(25);
/// How long a heartbeat may go unanswered before the connection counts as
/// lost and is replaced (the cache stopped being served long before).
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(1);
/// The `NOTIFY` channel of probes: a webhook worker asks every listener
/// whether it has applied the writes committed so far (payload: a token).
pub const PROBE_CHANNEL: &str = "lamina_cache_probe";
/// The `NOTIFY` channel of acknowledgements: `"<listener pid> <token> …"`,
/// sent once every notification queued before those probes is applied.
pub const ACK_CHANNEL: &str = "lamina_cache_ack";
/// Most probe tokens acknowledged in one notification (its payload stays
/// far below PostgreSQL's 8000 bytes).
const ACKS_PER_NOTIFICATION: usize = 64;

/// Registers this listener connection in `cache_listeners` (before it
/// serves anything), so that webhook workers wait for its acknowledgements;
/// its `(pid, backend_start)`.
const REGISTER: &str = "INSERT INTO cache_listeners (pid, backend_start, serves_ms) \
     SELECT pid, backend_start, $1 FROM pg_stat_activity WHERE pid = pg_backend_pid() \
     RETURNING pid, backend_start";

/// A registered listener connection.
#[derive(Debug, Clone, Copy, PartialEq, diesel::QueryableByName)]
struct Registration {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    backend_start: DateTime<Utc>,
}

/// What one notification came to.
enum Heard {
    /// A content change, applied.
    Applied,
    /// A probe: everything queued before it is applied; acknowledge the token.
    Probe(String),
    /// The connection failed or the cache is gone.
    Lost,
}

/// Invalidates what each notification on `conn` names, and acknowledges
/// probes, until the connection fails or stalls, or the cache is gone.
/// Every [`HEARTBEAT_EVERY`] a query
/// on the same connection proves that the backend still delivers:
/// PostgreSQL sends a listener the notifications of writes committed before
/// a command arrives ahead of that command's answer, so once it is answered
/// and what came before is applied, every write committed before the
/// heartbeat began has been heard. Entries are served only until
/// [`STALENESS_BOUND`] after that moment: a stalled or half-open connection
/// stops the serving within the bound, not at a timeout.
///
/// Probes ([`PROBE_CHANNEL`]) are answered at once, by the round trip that
/// also serves as the heartbeat: PostgreSQL has one notification queue, in
/// commit order, and delivers it to each listener in that order, so when a
/// probe is read here every notification queued before it has been applied
/// (they are handled one after the other). A probe costs its sender one
/// `NOTIFY` and each listener one; an idle listener sends nothing but its
/// heartbeat.
async fn listen_until_lost(conn: &mut AsyncPgConnection, cache: &Weak<RepresentationCache>) {
    use diesel_async::RunQueryDsl;
    use futures_util::FutureExt;
    let mut probes: Vec<String> = Vec::new();
    loop {
        if probes.is_empty() {
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            let heard = tokio::time::timeout(HEARTBEAT_EVERY, async {
                while let Some(notification) = notifications.next().await {
                    match apply(notification, cache) {
                        Heard::Applied => {}
                        Heard::Probe(token) => return Some(token),
                        Heard::Lost => return None,
                    }
                }
                None
            })
            .await;
            match heard {
                Ok(Some(token)) => probes.push(token),
                Ok(None) => return,
                Err(_) => {}
            }
        }
        // Whatever came right after a probe (more probes, often) goes with it.
        if !probes.is_empty() && !drain(conn, cache, &mut probes) {
            return;
        }
        let Some(began) = cache.upgrade().map(|cache| cache.now()) else {
            return;
        };
        let acked: Vec<String> = probes.drain(..probes.len().min(ACKS_PER_NOTIFICATION)).collect();
        let round_trip = if acked.is_empty() {
            diesel::sql_query("SELECT 1").execute(conn).boxed()
        } else {
            diesel::sql_query("SELECT pg_notify($1, pg_backend_pid() || ' ' || $2)")
                .bind::<diesel::sql_types::Text, _>(ACK_CHANNEL)
                .bind::<diesel::sql_types::Text, _>(acked.join(" "))
                .execute(conn)
                .boxed()
        };
        let check = tokio::time::timeout(HEARTBEAT_TIMEOUT, round_trip).await;
        if !matches!(check, Ok(Ok(_))) {
            log::warn!("cache: the notification connection does not answer");
            return;
        }
        // What arrived ahead of the answer is queued already: apply it first.
        if !drain(conn, cache, &mut probes) {
            return;
        }
        match cache.upgrade() {
            Some(cache) => cache.heard_everything_before(began),
            None => return,
        }
    }
}

/// Applies the notifications already received, collecting probe tokens;
/// false when the connection failed or the cache is gone.
fn drain(conn: &mut AsyncPgConnection, cache: &Weak<RepresentationCache>, probes: &mut Vec<String>) -> bool {
    use futures_util::FutureExt;
    let mut notifications = std::pin::pin!(conn.notifications_stream());
    while let Some(Some(notification)) = notifications.next().now_or_never() {
        match apply(notification, cache) {
            Heard::Applied => {}
            Heard::Probe(token) => probes.push(token),
            Heard::Lost => return false,
        }
    }
    true
}

/// Invalidates what a content notification names, or hands over a probe's token.
fn apply(notification: diesel::QueryResult<diesel::pg::PgNotification>, cache: &Weak<RepresentationCache>) -> Heard {
    let Some(cache) = cache.upgrade() else {
        return Heard::Lost;
    };
    match notification {
        Ok(notification) if notification.channel == PROBE_CHANNEL => Heard::Probe(notification.payload),
        Ok(notification) => {
            cache.invalidate(&notification.payload);
            Heard::Applied
        }
        Err(err) => {
            log::warn!("cache: notification connection failed: {err}");
            Heard::Lost
        }
    }
}

/// Keeps `cache` coherent with writes of other nodes, on a thread of its
/// own (so that no load on the request workers delays its heartbeat):
/// `LISTEN`s on [`CHANNEL`] and invalidates what each notification names;
/// reconnects (and stops serving the cache) whenever the connection is lost
/// or stalls. Ends when the cache is dropped.
pub fn spawn_listener(url: String, cache: &Arc<RepresentationCache>) -> std::io::Result<()> {
    let cache = Arc::downgrade(cache);
    std::thread::Builder::new()
        .name("lamina-cache-listener".to_owned())
        .spawn(
            move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(listen(url, cache)),
                Err(err) => log::error!("cache: no runtime for the listener ({err}); the cache stays off"),
            },
        )?;
    Ok(())
}

/// Subscribes `conn`: names it, registers it in `cache_listeners` (marking
/// `previous`, the registration of a connection this node no longer serves
/// by, as gone: nothing read under it is served) and `LISTEN`s, in one transaction. Registered before it is
/// subscribed: a worker that does not see the registration probed before
/// this connection listened, so everything this node reads after
/// subscribing is newer than what that worker sends.
async fn register_and_listen(
    conn: &mut AsyncPgConnection,
    bound: Duration,
    previous: Option<Registration>,
) -> diesel::QueryResult<Registration> {
    use diesel_async::RunQueryDsl;
    let serves_ms = i32::try_from(bound.as_millis()).unwrap_or(i32::MAX);
    conn.transaction(async |conn| {
        conn.batch_execute(&format!(
            "SET application_name = '{LISTENER_NAME}'; LISTEN {CHANNEL}; LISTEN {PROBE_CHANNEL}"
        ))
        .await?;
        if let Some(previous) = previous {
            // Gone for good as far as workers go (kept, so that its backend,
            // if it lingers, is not taken for an unregistered listener).
            diesel::sql_query("UPDATE cache_listeners SET gone_at = '-infinity' WHERE pid = $1 AND backend_start = $2")
                .bind::<diesel::sql_types::Integer, _>(previous.pid)
                .bind::<diesel::sql_types::Timestamptz, _>(previous.backend_start)
                .execute(conn)
                .await?;
        }
        diesel::sql_query(REGISTER)
            .bind::<diesel::sql_types::Integer, _>(serves_ms)
            .get_result::<Registration>(conn)
            .await
    })
    .await
}

/// The listener's loop (see [`spawn_listener`]).
async fn listen(url: String, cache: Weak<RepresentationCache>) {
    let mut delay = Duration::from_millis(100);
    let mut registered: Option<Registration> = None;
    loop {
        let Some(bound) = cache.upgrade().map(|cache| Duration::from_micros(cache.bound)) else {
            return;
        };
        match AsyncPgConnection::establish(&url).await {
            Ok(mut conn) => match register_and_listen(&mut conn, bound, registered).await {
                Ok(registration) => {
                    registered = Some(registration);
                    if let Some(cache) = cache.upgrade() {
                        let began = cache.now();
                        cache.set_subscribed(true);
                        cache.heard_everything_before(began);
                    }
                    log::debug!("cache: listening for content changes");
                    delay = Duration::from_millis(100);
                    listen_until_lost(&mut conn, &cache).await;
                    let Some(cache) = cache.upgrade() else { return };
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

    /// Subscribed, with a heartbeat answered just now.
    fn subscribe(cache: &RepresentationCache) {
        cache.set_subscribed(true);
        cache.heard_everything_before(cache.now());
    }

    #[test]
    fn entries_are_served_only_within_the_bound_of_the_last_heartbeat() {
        let cache = RepresentationCache::new(1 << 20);
        subscribe(&cache);
        cache.insert("a", "/a".into(), rep("x"), cache.ticket("a"));
        assert!(cache.get("/a").is_some());
        // The last answered heartbeat began more than the bound ago: the
        // connection may have missed a write, so nothing is served as current.
        cache.fresh_until.store(cache.now(), Ordering::Release);
        assert!(cache.get("/a").is_none());
        assert!(
            cache.get_stale("/a").is_none(),
            "still subscribed: not an outage copy either"
        );
        cache.heard_everything_before(cache.now());
        assert!(cache.get("/a").is_some(), "a heartbeat answered again serves it again");
        cache.invalidate("a");
        assert!(cache.get("/a").is_none());
    }

    #[test]
    fn a_miss_is_stored_at_once_and_compressed_off_the_request_path() {
        let cache = Arc::new(RepresentationCache::new(1 << 20));
        subscribe(&cache);
        let body = "a sentence of the article ".repeat(200);
        let plain = Arc::new(Representation::new(
            body.into_bytes().into(),
            "\"e\"".into(),
            None,
            String::new(),
        ));
        insert_and_compress(&cache, "a", "/a".into(), plain, cache.ticket("a"));
        assert!(cache.get("/a").is_some(), "served at once");
        let started = std::time::Instant::now();
        while cache
            .get("/a")
            .and_then(|entry| entry.encoded(Coding::Brotli).cloned())
            .is_none()
        {
            assert!(started.elapsed() < Duration::from_secs(10), "never compressed");
            std::thread::sleep(Duration::from_millis(5));
            cache.heard_everything_before(cache.now());
        }
        let entry = cache.get("/a").unwrap();
        assert!(entry.encoded(Coding::Gzip).is_some());
        // A write during the compression: the compressed copy is not stored.
        let ticket = cache.ticket("b");
        cache.invalidate("b");
        let plain = Arc::new(Representation::new(
            "x ".repeat(400).into_bytes().into(),
            "\"f\"".into(),
            None,
            String::new(),
        ));
        insert_and_compress(&cache, "b", "/b".into(), plain, ticket);
        std::thread::sleep(Duration::from_millis(200));
        assert!(cache.get("/b").is_none());
    }

    #[test]
    fn stale_reads_and_unsubscribed_nodes_do_not_fill_the_cache() {
        let cache = RepresentationCache::new(1 << 20);
        let ticket = cache.ticket("a");
        cache.insert("a", "/a".into(), rep("x"), ticket);
        assert!(cache.get("/a").is_none(), "not subscribed: nothing is kept");
        subscribe(&cache);
        let ticket = cache.ticket("a");
        cache.invalidate("a");
        cache.insert("a", "/a".into(), rep("x"), ticket);
        assert!(cache.get("/a").is_none(), "a write happened during the read");
        cache.insert("a", "/a".into(), rep("x"), cache.ticket("a"));
        cache.insert("", "/list".into(), rep("l"), cache.ticket(""));
        assert!(cache.get("/a").is_some());
        cache.invalidate("b");
        assert!(cache.get("/a").is_some(), "another article's write leaves it");
        assert!(cache.get("/list").is_none(), "but not the list");
        cache.invalidate("a");
        assert!(cache.get("/a").is_none());
        assert_eq!(cache.counts(), (2, 4));
    }

    #[test]
    fn a_lost_subscription_keeps_entries_only_for_stale_if_error() {
        let cache = RepresentationCache::new(1 << 20);
        subscribe(&cache);
        cache.insert("a", "/a".into(), rep("x"), cache.ticket("a"));
        cache.insert("b", "/b".into(), rep("y"), cache.ticket("b"));
        cache.set_subscribed(false);
        assert!(cache.get("/a").is_none());
        assert!(cache.get_stale("/a").is_some());
        cache.invalidate("b");
        assert!(cache.get_stale("/b").is_none(), "a later write makes it unusable");
        subscribe(&cache);
        assert!(cache.get_stale("/a").is_none() && cache.get("/a").is_none());
    }

    #[test]
    fn the_cache_stays_within_its_bound_and_weighs_what_entries_hold() {
        let cache = RepresentationCache::new(64 * 1024);
        subscribe(&cache);
        let body = "word ".repeat(400);
        for n in 0..500 {
            let representation = Arc::new(
                Representation::new(body.clone().into_bytes().into(), "\"e\"".into(), None, String::new())
                    .with_compressed_variants(),
            );
            assert!(representation.encoded(Coding::Brotli).is_some());
            cache.insert("a", format!("/{n}"), representation, cache.ticket("a"));
            assert!(cache.bytes() <= 64 * 1024, "{} bytes", cache.bytes());
        }
        assert!(cache.bytes() > 32 * 1024, "entries are kept up to the bound");
    }
}

//! The change feed behind `GET /v1/sync`: an initial sync (every article the
//! reader may see) and deltas (the articles changed since a cursor).
//!
//! # Why no change is ever skipped: snapshot horizons
//!
//! Every write inserts a `changes` row in its own transaction, stamped with
//! that transaction's id (`xid`, an `xid8`, which never wraps). Transactions
//! do not commit in xid order, so "rows with a larger `seq` than last time"
//! would skip a write that began before a sync call and committed after it.
//! Instead a cursor holds a **horizon** `H`: the promise that every change
//! of a transaction with `xid < H` has been delivered.
//!
//! A call takes `now = pg_snapshot_xmin(pg_current_snapshot())`, the oldest
//! transaction still in progress when its snapshot was taken: every
//! transaction below `now` has ended (committed, and so visible to the call's
//! snapshot, or rolled back), and every transaction that commits later has an
//! `xid >= now`. Transactions of other databases of the same cluster are left
//! out of that minimum when they can be told apart (see `STATE`): they write
//! no change row here. So the rows with `xid < now` are a fixed set, and any
//! horizon up to `now` is a safe one.
//!
//! # Windows, pages and order
//!
//! A delta delivers the rows of a **window** `[start, end)` of xids, then
//! hands out `end` as the next horizon, so each change row falls in exactly
//! one window, whatever order transactions commit in. A window ends at `now`,
//! or earlier when that would take in more than `WINDOW_ROWS` rows (a
//! cursor that is days old): its end is then the xid of the first row left
//! out (or, when one transaction wrote more rows than that, the xid after
//! it), and `has_more` says the next window is ready at once. So a window is
//! found by one index range of at most `WINDOW_ROWS` rows; a page reads its
//! window again (one large transaction's: only the next twice `limit` rows
//! after the last `seq` delivered) and looks at most twice its `limit` rows
//! of it: what a page costs does not grow with the cursor's age or the size
//! of the log.
//!
//! Within a window entries come in `seq` order, each article once, at its
//! last change in the window. `seq` is taken when the change row is written,
//! after the write's own statements, so a write that had to wait for another
//! (a new article taking the slug of one being deleted waits for that delete
//! to commit) has the larger `seq`: the `deleted` entry comes first. Entries
//! carry the article's state as of the call, which may already include changes
//! of later windows; those are delivered again (applying an entry twice is
//! harmless).
//!
//! A `deleted` entry goes only to readers who may hold the article: to
//! anonymous readers, only when it was published before or after one of its
//! changes in the window (`changes.published` records that), so a draft that
//! was never published yields nothing, and its slug is never shown.
//!
//! # The initial sync
//!
//! An initial sync takes its horizon `H0` before it lists any article, and
//! lists (in id order) the articles the reader may see that have no change
//! row at or above `H0`: each as it was at `H0`. Articles changed since come
//! with the changes from `H0` on, which the initial sync goes on to deliver
//! (`has_more` stays true) whenever there are any, in change order: so a
//! finished initial sync leaves exactly the articles readable at the horizon
//! its last cursor names, and an article deleted during it, or its slug taken
//! by a new one, comes as a `deleted` entry before the new one. A quiet
//! initial sync holds no `deleted` entries.
//!
//! # Bounded pages
//!
//! A page stops taking entries once its body passes [`PAGE_BYTES`] (it always
//! holds at least one); articles are loaded a few at a time, as many as the
//! largest one so far says fit: a page is in memory once, however large its
//! articles and `limit`.
//!
//! # Cursors are bound to this database and its history
//!
//! A cursor is signed (HMAC-SHA256) with a random key stored in this
//! database: one this database did not hand out (a staging server's, an
//! edited one, one "from the future") fails the check, and is refused
//! (400). A cursor that passes it was handed out by this database or by a
//! copy of it, i.e. before a backup it has been restored from. Such a cursor
//! is served only while the database still holds the history it names;
//! otherwise 410 ([`Expiry::Restored`]). Three checks, because a restore can
//! take three forms:
//!
//! - Restored (or copied) into another database or cluster (`pg_restore`,
//!   `CREATE DATABASE … TEMPLATE`): the cursor names the database it came from
//!   (the cluster's system identifier and the database's oid); any other
//!   answers 410. Xids of another cluster mean nothing here.
//! - Restored in place from a physical backup: the transaction counter went
//!   back with the data. A cursor whose window ends past the current
//!   transaction counter comes from the lost future.
//! - Once the counter has passed it again, the xids below the cursor may
//!   belong to other transactions. So the cursor also carries a fingerprint
//!   of its history: the newest change row below its horizon (its `seq` and
//!   part of its random `revision_id`). Rows below a horizon are a fixed set
//!   once the horizon is handed out, and a restore keeps only a prefix of the
//!   history: if that newest row is still the newest below the horizon, every
//!   change below it is the one the cursor saw; if the restored database has
//!   lost it, or written others below the horizon since, they differ.
//!
//! A cursor handed out before the backup was taken still names history the
//! restored database holds in full, and goes on working; every cursor handed
//! out after it is refused. Pruning keeps the fingerprint checkable:
//! `sync_horizon` remembers the newest row it deleted, which is the newest
//! below any cursor that is not expired (all pruned rows lie below its
//! start). A high-water mark of handed-out cursors was the alternative; it
//! would make every sync call a write, and would not see a restore once the
//! counter passes the mark again.
//!
//! Cursors of the format before this one (`s-…`, `i-…`, `d-…`) carry no
//! signature: one ahead of the transaction counter is refused (400), any
//! other has expired (410): start again.
//!
//! # Pruning
//!
//! Each write deletes change rows older than `LAMINA_SYNC_KEEP_DAYS` and
//! raises `sync_horizon.pruned_before` above their xids (in the same
//! transaction); a cursor whose window starts below it may need deleted rows,
//! so it is refused ([`Expiry::Pruned`], 410) rather than served with a gap.
//! The horizon and the rows are read in one snapshot.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Bytea, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use hmac::{Hmac, KeyInit, Mac};
use sha2_v11::{Digest, Sha256};
use uuid::Uuid;

use super::error::Error;
use super::kinds::ArticleStatus;
use super::store::{self, ArticleRow, StoredSection, Visibility};
use super::translations::{ReadLocale, Texts, load_texts};
use crate::db::schema::articles;

/// A page takes no further entry once its body is this long (it always
/// holds at least one entry); `has_more` covers the rest.
pub const PAGE_BYTES: usize = 4 << 20;

/// Most change rows a window takes in, unless one transaction wrote more.
const WINDOW_ROWS: i64 = 1000;

/// Articles loaded at once before the size of one is known.
const FIRST_BATCH: usize = 4;
/// Most articles loaded at once.
const MAX_BATCH: usize = 64;

/// How much one page may hold.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Most entries.
    pub entries: usize,
    /// No further entry once the body is this long.
    pub bytes: usize,
}

/// One entry of the feed.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "entries go to the page one at a time, never held in bulk"
)]
pub enum SyncEntry {
    /// The article's current state, as the reader may see it, with the
    /// translations its locale uses.
    Article(ArticleRow, Vec<StoredSection>, Texts),
    /// The article is gone, or no longer visible to the reader.
    Deleted {
        /// Its id.
        id: Uuid,
        /// Its slug.
        slug: String,
    },
}

/// Where a page ended.
#[derive(Debug, Clone)]
pub struct PageEnd {
    /// The opaque cursor to ask with next.
    pub next_cursor: String,
    /// Whether more entries are ready now (ask again at once).
    pub has_more: bool,
}

/// Why a cursor this database handed out can no longer be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Changes it needs were pruned (`LAMINA_SYNC_KEEP_DAYS`).
    Pruned,
    /// The database was restored from a backup taken before the cursor was
    /// handed out (or the cursor comes from a copy of this database).
    Restored,
    /// A cursor of the format lamina used before cursors were signed.
    OldFormat,
}

/// What a sync call can fail with.
#[derive(Debug)]
pub enum SyncError {
    /// Not a cursor this database handed out.
    InvalidCursor,
    /// A cursor this database handed out that it can no longer serve.
    Expired(Expiry),
    /// Anything else.
    Content(Error),
}

crate::content::error::wraps_content_errors!(SyncError::Content);

/// What the entries of a page are handed to: it returns the length of the
/// body so far, which the page keeps under [`PageLimits::bytes`].
pub type Emit<'a> = dyn FnMut(SyncEntry) -> Result<usize, Error> + Send + 'a;

/// The newest change row below a horizon, as a cursor remembers it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Fingerprint {
    seq: u64,
    /// The first 8 bytes of its `revision_id` (random).
    tag: u64,
}

/// Where in the feed a cursor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Every change below `end` delivered: ask for the window from `end`.
    Since,
    /// An initial sync listing articles (horizon `end`): those after `after` remain.
    Listing { after: Uuid },
    /// A window `[start, end)` under way: its rows after `seq` remain.
    Window { after_seq: u64 },
}

/// A decoded cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    /// The window's start (the horizon, for the other positions): changes
    /// below it were delivered.
    start: u64,
    /// The window's end (the horizon, for the other positions).
    end: u64,
    /// The newest change row below `end`.
    fingerprint: Fingerprint,
    position: Position,
    /// The database that handed it out ([`State::instance`]).
    instance: u32,
}

/// Bytes of a cursor before its signature; then [`MAC_BYTES`] of signature.
const BODY_BYTES: usize = 53;
const MAC_BYTES: usize = 16;
/// The regular expression of cursors, for the spec: base64url of their 69 bytes.
pub const PATTERN: &str = "^[A-Za-z0-9_-]{92}$";

impl Cursor {
    fn since(horizon: u64, fingerprint: Fingerprint, instance: u32) -> Cursor {
        Cursor {
            start: horizon,
            end: horizon,
            fingerprint,
            position: Position::Since,
            instance,
        }
    }

    /// The text handed to clients: base64url of the fields and their signature.
    fn encode(&self, key: &[u8]) -> Result<String, Error> {
        let mut bytes = [0u8; BODY_BYTES + MAC_BYTES];
        let (mode, position) = match self.position {
            Position::Since => (0x11, [0; 16]),
            Position::Listing { after } => (0x12, *after.as_bytes()),
            Position::Window { after_seq } => {
                let mut position = [0; 16];
                position[..8].copy_from_slice(&after_seq.to_be_bytes());
                (0x13, position)
            }
        };
        bytes[0] = mode;
        bytes[1..9].copy_from_slice(&self.start.to_be_bytes());
        bytes[9..17].copy_from_slice(&self.end.to_be_bytes());
        bytes[17..25].copy_from_slice(&self.fingerprint.seq.to_be_bytes());
        bytes[25..33].copy_from_slice(&self.fingerprint.tag.to_be_bytes());
        bytes[33..49].copy_from_slice(&position);
        bytes[49..53].copy_from_slice(&self.instance.to_be_bytes());
        let mac = signer(key)?.chain_update(&bytes[..BODY_BYTES]).finalize().into_bytes();
        bytes[BODY_BYTES..].copy_from_slice(&mac[..MAC_BYTES]);
        Ok(BASE64.encode(bytes))
    }

    /// [`Cursor::encode`]'s text, if its signature is `key`'s.
    fn decode(text: &str, key: &[u8]) -> Option<Cursor> {
        let bytes = BASE64.decode(text).ok()?;
        if bytes.len() != BODY_BYTES + MAC_BYTES {
            return None;
        }
        signer(key)
            .ok()?
            .chain_update(&bytes[..BODY_BYTES])
            .verify_truncated_left(&bytes[BODY_BYTES..])
            .ok()?;
        let u64_at = |at: usize| bytes[at..at + 8].try_into().ok().map(u64::from_be_bytes);
        let position = match bytes[0] {
            0x11 => Position::Since,
            0x12 => Position::Listing {
                after: Uuid::from_slice(&bytes[33..49]).ok()?,
            },
            0x13 => Position::Window { after_seq: u64_at(33)? },
            _ => return None,
        };
        Some(Cursor {
            start: u64_at(1)?,
            end: u64_at(9)?,
            fingerprint: Fingerprint {
                seq: u64_at(17)?,
                tag: u64_at(25)?,
            },
            position,
            instance: u32::from_be_bytes(bytes[49..53].try_into().ok()?),
        })
    }
}

fn signer(key: &[u8]) -> Result<Hmac<Sha256>, Error> {
    Hmac::<Sha256>::new_from_slice(key).map_err(|err| Error::Corrupt(format!("the sync cursor key: {err}")))
}

/// The largest horizon of a cursor of the format before cursors were signed
/// (`s-H`, `i-H-id`, `d-FROM-TO-id`), if `text` is one.
fn old_format_horizon(text: &str) -> Option<u64> {
    fn lower_hex(text: &str) -> bool {
        text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
    fn horizon(hex: &str) -> Option<u64> {
        let valid = (1..=16).contains(&hex.len()) && lower_hex(hex);
        valid.then(|| u64::from_str_radix(hex, 16).ok()).flatten()
    }
    let id = |hex: &str| hex.len() == 32 && lower_hex(hex);
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        ["s", h] => horizon(h),
        ["i", h, a] if id(a) => horizon(h),
        ["d", from, to, a] if id(a) => Some(horizon(from)?.max(horizon(to)?)),
        _ => None,
    }
}

/// The transactions other databases of the cluster are running, by the low
/// 32 bits of their xids (as `pg_stat_activity` shows them): read before a
/// call's snapshot is taken (see [`STATE`]).
const ELSEWHERE: &str = "\
    SELECT coalesce(array_agg(backend_xid::text::bigint), '{}') AS running FROM pg_stat_activity \
    WHERE backend_xid IS NOT NULL \
      AND datid IS DISTINCT FROM (SELECT oid FROM pg_database WHERE datname = current_database())";

/// What one call needs to know of the database, read in its snapshot. `now`
/// is the snapshot's xmin, except that transactions running in *other*
/// databases of the cluster ([`ELSEWHERE`], `$1`) are passed over: they can
/// write no change row here, and a long one (another application, another
/// test) would otherwise hold every sync back. They were read before the
/// snapshot was taken: a transaction shown then runs in another database
/// for good, and one that ended before the snapshot is not in it; one that
/// began after the read is not passed over (it only holds the horizon at
/// its own, recent, xid). `pg_stat_activity` shows the low 32 bits of
/// xids; two transactions running at once differ by far less than 2^32
/// (wraparound protection), so the low bits name one. The cluster's system
/// identifier is read where
/// the role may (it may not on some hosted services: then the database's
/// oid alone names it).
const STATE: &str = "\
    SELECT coalesce( \
        (SELECT min(running::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS running \
         WHERE NOT running::text::bigint % 4294967296 = ANY ($1)), \
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint)::text AS now, \
    pg_snapshot_xmax(pg_current_snapshot())::text AS xmax, \
    horizon.pruned_before::text AS pruned, \
    horizon.cursor_key AS key, \
    (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS database, \
    CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE') \
         THEN (SELECT system_identifier::text FROM pg_control_system()) ELSE '' END AS cluster \
    FROM sync_horizon AS horizon";

#[derive(QueryableByName)]
struct Elsewhere {
    #[diesel(sql_type = diesel::sql_types::Array<BigInt>)]
    running: Vec<i64>,
}

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = Text)]
    now: String,
    #[diesel(sql_type = Text)]
    xmax: String,
    #[diesel(sql_type = Text)]
    pruned: String,
    #[diesel(sql_type = Bytea)]
    key: Vec<u8>,
    #[diesel(sql_type = Text)]
    database: String,
    #[diesel(sql_type = Text)]
    cluster: String,
}

/// [`STATE`], parsed.
struct State {
    now: u64,
    xmax: u64,
    pruned_before: u64,
    key: Vec<u8>,
    /// Names this database: its cluster and oid, hashed.
    instance: u32,
}

impl State {
    /// Reads the state in the call's snapshot; `elsewhere`: [`ELSEWHERE`], read before it.
    async fn read(conn: &mut AsyncPgConnection, elsewhere: &[i64]) -> Result<State, Error> {
        let row: StateRow = diesel::sql_query(STATE)
            .bind::<diesel::sql_types::Array<BigInt>, _>(elsewhere)
            .get_result(conn)
            .await?;
        let digest = Sha256::new()
            .chain_update(row.cluster.as_bytes())
            .chain_update(b"/")
            .chain_update(row.database.as_bytes())
            .finalize();
        Ok(State {
            now: xid(&row.now)?,
            xmax: xid(&row.xmax)?,
            pruned_before: xid(&row.pruned)?,
            instance: u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]),
            key: row.key,
        })
    }

    /// Whether this database can serve a cursor it signed, as far as this
    /// state tells: it names this database, lies below the transaction
    /// counter, and needs no pruned change.
    fn admits(&self, cursor: &Cursor) -> Result<(), Expiry> {
        if cursor.instance != self.instance || cursor.end > self.xmax {
            return Err(Expiry::Restored);
        }
        if cursor.start < self.pruned_before {
            return Err(Expiry::Pruned);
        }
        Ok(())
    }

    /// [`State::admits`], and the history below the cursor is the one it saw.
    async fn check(&self, conn: &mut AsyncPgConnection, cursor: &Cursor) -> Result<(), SyncError> {
        self.admits(cursor).map_err(SyncError::Expired)?;
        if fingerprint(conn, cursor.end).await? != cursor.fingerprint {
            return Err(SyncError::Expired(Expiry::Restored));
        }
        Ok(())
    }
}

fn xid(text: &str) -> Result<u64, Error> {
    text.parse()
        .map_err(|_| Error::Corrupt(format!("an xid8 that is not a number: {text:?}")))
}

#[derive(QueryableByName)]
struct Newest {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    revision: Uuid,
}

/// The newest change row below `horizon`, counting the newest pruned one
/// (whose xid is `pruned_before - 1`) as still there.
async fn fingerprint(conn: &mut AsyncPgConnection, horizon: u64) -> Result<Fingerprint, Error> {
    let newest: Option<Newest> = diesel::sql_query(
        "SELECT seq, revision FROM ( \
             (SELECT xid, seq, revision_id AS revision FROM changes WHERE xid < $1::xid8 \
              ORDER BY xid DESC, seq DESC LIMIT 1) \
             UNION ALL \
             (SELECT (pruned_before::text::bigint - 1)::text::xid8, pruned_last_seq, pruned_last_revision \
              FROM sync_horizon WHERE pruned_last_revision IS NOT NULL AND pruned_before <= $1::xid8) \
         ) AS newest ORDER BY xid DESC, seq DESC LIMIT 1",
    )
    .bind::<Text, _>(horizon.to_string())
    .get_result(conn)
    .await
    .optional()?;
    Ok(newest.map_or_else(Fingerprint::default, |newest| {
        let mut tag = [0; 8];
        tag.copy_from_slice(&newest.revision.as_bytes()[..8]);
        Fingerprint {
            seq: newest.seq.unsigned_abs(),
            tag: u64::from_be_bytes(tag),
        }
    }))
}

/// Whether any change row lies at or above `from` (and below `to`).
async fn changed(conn: &mut AsyncPgConnection, from: u64, to: Option<u64>) -> Result<bool, Error> {
    #[derive(QueryableByName)]
    struct Changed {
        #[diesel(sql_type = Bool)]
        changed: bool,
    }
    let changed: Changed = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM changes WHERE xid >= $1::xid8 \
             AND ($2::text IS NULL OR xid < $2::text::xid8)) AS changed",
    )
    .bind::<Text, _>(from.to_string())
    .bind::<diesel::sql_types::Nullable<Text>, _>(to.map(|to| to.to_string()))
    .get_result(conn)
    .await?;
    Ok(changed.changed)
}

/// The page of the feed after `cursor` (`None`: an initial sync) as
/// `visibility` may see it, its entries handed to `emit` in order; all read
/// in one snapshot.
pub async fn sync(
    conn: &mut AsyncPgConnection,
    cursor: Option<&str>,
    limits: PageLimits,
    visibility: Visibility,
    locale: &ReadLocale,
    emit: &mut Emit<'_>,
) -> Result<PageEnd, SyncError> {
    let elsewhere: Elsewhere = diesel::sql_query(ELSEWHERE).get_result(conn).await?;
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async move |conn| {
            let state = State::read(conn, &elsewhere.running).await?;
            let mut page = Page {
                state: &state,
                limits,
                visibility,
                locale,
                sink: Sink::new(emit, limits),
            };
            let next = match cursor {
                None => page.listing(conn, state.now, None).await?,
                Some(text) => {
                    let Some(cursor) = Cursor::decode(text, &state.key) else {
                        return Err(match old_format_horizon(text) {
                            Some(horizon) if horizon <= state.xmax => SyncError::Expired(Expiry::OldFormat),
                            _ => SyncError::InvalidCursor,
                        });
                    };
                    state.check(conn, &cursor).await?;
                    match cursor.position {
                        Position::Listing { after } => {
                            page.listing(conn, cursor.end, Some((after, cursor.fingerprint)))
                                .await?
                        }
                        Position::Since => page.since(conn, cursor.end, cursor.fingerprint).await?,
                        Position::Window { after_seq } => page.window(conn, cursor, after_seq).await?,
                    }
                }
            };
            Ok(PageEnd {
                next_cursor: next.0.encode(&state.key)?,
                has_more: next.1,
            })
        })
        .await
}

/// One page being built.
struct Page<'s, 'e, 'a> {
    state: &'s State,
    limits: PageLimits,
    visibility: Visibility,
    /// The locale the articles are read in (their translations are loaded with them).
    locale: &'s ReadLocale,
    sink: Sink<'e, 'a>,
}

/// Something a page may deliver, at a position of the feed.
struct Candidate<P> {
    at: P,
    /// The article and, if the reader may hold it, the slug of the `deleted`
    /// entry to send when it cannot see it now. `None`: a change superseded
    /// by a later one of its article in the window: nothing to send.
    article: Option<(Uuid, Option<String>)>,
}

impl Page<'_, '_, '_> {
    /// A cursor of this database at `horizon`.
    fn at_horizon(&self, horizon: u64, fingerprint: Fingerprint) -> Cursor {
        Cursor::since(horizon, fingerprint, self.state.instance)
    }

    /// A page of the initial sync at `horizon`, after `from` (id and the
    /// fingerprint of `horizon`; `None`: its first page).
    async fn listing(
        &mut self,
        conn: &mut AsyncPgConnection,
        horizon: u64,
        from: Option<(Uuid, Fingerprint)>,
    ) -> Result<(Cursor, bool), SyncError> {
        let fingerprint = match from {
            Some((_, fingerprint)) => fingerprint,
            None => self::fingerprint(conn, horizon).await?,
        };
        // Articles changed since the horizon come with those changes.
        let unchanged = diesel::dsl::sql::<Bool>(
            "NOT EXISTS (SELECT 1 FROM changes WHERE changes.article_id = articles.id AND changes.xid >= ",
        )
        .bind::<Text, _>(horizon.to_string())
        .sql("::xid8)");
        let mut query = articles::table
            .select(articles::id)
            .filter(unchanged)
            .order(articles::id.asc())
            .limit(i64::try_from(self.limits.entries).unwrap_or(i64::MAX).saturating_add(1))
            .into_boxed();
        if let Some((after, _)) = from {
            query = query.filter(articles::id.gt(after));
        }
        if self.visibility == Visibility::Published {
            query = query.filter(articles::status.eq(ArticleStatus::Published.as_str()));
        }
        let ids: Vec<Uuid> = query.load(conn).await?;
        let listed = ids.len().min(self.limits.entries);
        let candidates: Vec<Candidate<Uuid>> = ids[..listed]
            .iter()
            .map(|&id| Candidate {
                at: id,
                article: Some((id, None)),
            })
            .collect();
        let consumed = self.deliver(conn, &candidates).await?;
        let listing = |after| Cursor {
            start: horizon,
            end: horizon,
            fingerprint,
            position: Position::Listing { after },
            instance: self.state.instance,
        };
        if consumed < ids.len() {
            // (A page takes at least one entry: `consumed` is never 0 here.)
            let after = match consumed.checked_sub(1) {
                Some(at) => ids[at],
                None => from.map_or_else(Uuid::nil, |(after, _)| after),
            };
            return Ok((listing(after), true));
        }
        Ok((
            self.at_horizon(horizon, fingerprint),
            changed(conn, horizon, None).await?,
        ))
    }

    /// The first page of the window that starts at `horizon`.
    async fn since(
        &mut self,
        conn: &mut AsyncPgConnection,
        horizon: u64,
        fingerprint: Fingerprint,
    ) -> Result<(Cursor, bool), SyncError> {
        #[derive(QueryableByName)]
        struct Head {
            #[diesel(sql_type = Text)]
            xid: String,
        }
        let now = self.state.now;
        let head: Vec<Head> = diesel::sql_query(
            "SELECT c.xid::text AS xid FROM changes c WHERE c.xid >= $1::xid8 AND c.xid < $2::xid8 \
             ORDER BY c.xid, c.seq LIMIT $3",
        )
        .bind::<Text, _>(horizon.to_string())
        .bind::<Text, _>(now.to_string())
        .bind::<BigInt, _>(WINDOW_ROWS + 1)
        .load(conn)
        .await?;
        let (Some(first), Some(last)) = (<[Head]>::first(&head), <[Head]>::last(&head)) else {
            // Nothing to deliver: the horizon moves up to now (never down:
            // another node's older snapshot may have handed it out).
            if now <= horizon {
                return Ok((self.at_horizon(horizon, fingerprint), false));
            }
            let fingerprint = self::fingerprint(conn, now).await?;
            return Ok((self.at_horizon(now, fingerprint), false));
        };
        // No row lies in `[horizon, start)`: the window may start at `start`.
        let start = xid(&first.xid)?;
        let end = if head.len() <= usize::try_from(WINDOW_ROWS).unwrap_or(usize::MAX) {
            now
        } else {
            match xid(&last.xid)? {
                last if last > start => last,
                // One transaction wrote the whole head: the window is its rows.
                _ => start + 1,
            }
        };
        let window = Cursor {
            start,
            end,
            fingerprint: self::fingerprint(conn, end).await?,
            position: Position::Window { after_seq: 0 },
            instance: self.state.instance,
        };
        self.window(conn, window, 0).await
    }

    /// A page of `window`, after the change `after_seq`.
    async fn window(
        &mut self,
        conn: &mut AsyncPgConnection,
        window: Cursor,
        after_seq: u64,
    ) -> Result<(Cursor, bool), SyncError> {
        #[derive(QueryableByName)]
        struct Change {
            #[diesel(sql_type = BigInt)]
            seq: i64,
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            article_id: Uuid,
            #[diesel(sql_type = Text)]
            slug: String,
            #[diesel(sql_type = Bool)]
            last: bool,
            #[diesel(sql_type = Bool)]
            was_visible: bool,
        }
        // The window's rows, by the index on (xid, seq), so that a page reads
        // a bounded part of the log: a window of one transaction is read in
        // seq order from `after_seq`; any other holds at most `WINDOW_ROWS`.
        let single = window.end == window.start + 1;
        let within = |table: &str| {
            let single = if single {
                format!(" AND {table}.xid = $1::xid8")
            } else {
                String::new()
            };
            format!("{table}.xid >= $1::xid8 AND {table}.xid < $2::xid8{single}")
        };
        let rows = if single {
            format!(
                "(SELECT * FROM changes c WHERE {} AND c.seq > $3 ORDER BY c.xid, c.seq LIMIT $4)",
                within("c")
            )
        } else {
            format!(
                "(SELECT * FROM changes c WHERE {} ORDER BY c.xid, c.seq LIMIT {WINDOW_ROWS})",
                within("c")
            )
        };
        // Whether the reader could see the article before or after the change.
        let visible = match self.visibility {
            Visibility::All => "true",
            Visibility::Published => "(v.event = 'article.unpublished' OR coalesce(v.published, true))",
        };
        let scan = self.limits.entries.saturating_mul(2).saturating_add(8);
        let mut rows: Vec<Change> = diesel::sql_query(format!(
            "SELECT c.seq, c.article_id, c.slug, \
                 NOT EXISTS (SELECT 1 FROM changes l WHERE l.article_id = c.article_id AND {} \
                             AND l.seq > c.seq) AS last, \
                 EXISTS (SELECT 1 FROM changes v WHERE v.article_id = c.article_id AND {} AND {visible}) \
                     AS was_visible \
             FROM {rows} AS c WHERE c.seq > $3 ORDER BY c.seq LIMIT $4",
            within("l"),
            within("v"),
        ))
        .bind::<Text, _>(window.start.to_string())
        .bind::<Text, _>(window.end.to_string())
        .bind::<BigInt, _>(i64::try_from(after_seq).unwrap_or(i64::MAX))
        .bind::<BigInt, _>(i64::try_from(scan).unwrap_or(i64::MAX).saturating_add(1))
        .load(conn)
        .await?;
        let more_rows = rows.len() > scan;
        rows.truncate(scan);
        let candidates: Vec<Candidate<u64>> = rows
            .into_iter()
            .map(|row| Candidate {
                at: row.seq.unsigned_abs(),
                article: row.last.then(|| (row.article_id, row.was_visible.then_some(row.slug))),
            })
            .collect();
        let consumed = self.deliver(conn, &candidates).await?;
        if more_rows || consumed < candidates.len() {
            let after_seq = match consumed.checked_sub(1) {
                Some(at) => candidates[at].at,
                None => after_seq,
            };
            let position = Position::Window { after_seq };
            return Ok((Cursor { position, ..window }, true));
        }
        // The window is delivered; the next one may be ready at once.
        let ready = window.end < self.state.now && changed(conn, window.end, Some(self.state.now)).await?;
        Ok((self.at_horizon(window.end, window.fingerprint), ready))
    }

    /// Hands the entries of `candidates` to the sink, in order, until the
    /// page is full; returns how many candidates it consumed.
    async fn deliver<P>(&mut self, conn: &mut AsyncPgConnection, candidates: &[Candidate<P>]) -> Result<usize, Error> {
        let mut consumed = 0;
        while consumed < candidates.len() && !self.sink.full() {
            // The next candidates, up to a batch of articles.
            let batch = self.sink.batch();
            let mut end = consumed;
            let mut ids = Vec::new();
            while end < candidates.len() && ids.len() < batch {
                if let Some((id, _)) = &candidates[end].article {
                    ids.push(*id);
                }
                end += 1;
            }
            let mut query = articles::table
                .filter(articles::id.eq_any(&ids))
                .select(ArticleRow::as_select())
                .into_boxed();
            if self.visibility == Visibility::Published {
                query = query.filter(articles::status.eq(ArticleStatus::Published.as_str()));
            }
            let rows: Vec<ArticleRow> = query.load(conn).await?;
            let visible: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
            let mut sections = store::load_sections_of(conn, &visible).await?;
            let drafts = self.visibility == Visibility::All;
            let mut texts = load_texts(conn, &visible, self.locale, drafts, None).await?;
            let mut rows: HashMap<Uuid, ArticleRow> = rows.into_iter().map(|row| (row.id, row)).collect();
            for candidate in &candidates[consumed..end] {
                if self.sink.full() {
                    return Ok(consumed);
                }
                if let Some((id, gone)) = &candidate.article {
                    match (rows.remove(id), gone) {
                        (Some(row), _) => {
                            let sections = sections.remove(id).unwrap_or_default();
                            let texts = texts.remove(id).unwrap_or_default();
                            self.sink.push(SyncEntry::Article(row, sections, texts))?;
                        }
                        (None, Some(slug)) => self.sink.push(SyncEntry::Deleted {
                            id: *id,
                            slug: slug.clone(),
                        })?,
                        (None, None) => {}
                    }
                }
                consumed += 1;
            }
        }
        Ok(consumed)
    }
}

/// The entries of a page, counted and measured as they are handed on.
struct Sink<'e, 'a> {
    emit: &'e mut Emit<'a>,
    limits: PageLimits,
    entries: usize,
    bytes: usize,
    largest: usize,
}

impl<'e, 'a> Sink<'e, 'a> {
    fn new(emit: &'e mut Emit<'a>, limits: PageLimits) -> Sink<'e, 'a> {
        Sink {
            emit,
            limits,
            entries: 0,
            bytes: 0,
            largest: 0,
        }
    }

    fn full(&self) -> bool {
        self.entries >= self.limits.entries || self.bytes >= self.limits.bytes
    }

    /// How many articles to load next: as many as the largest so far says
    /// fit in what is left of the page.
    fn batch(&self) -> usize {
        let room = self.limits.bytes.saturating_sub(self.bytes);
        let fit = room.checked_div(self.largest).unwrap_or(FIRST_BATCH);
        fit.clamp(1, MAX_BATCH)
            .min(self.limits.entries.saturating_sub(self.entries).max(1))
    }

    fn push(&mut self, entry: SyncEntry) -> Result<(), Error> {
        let bytes = (self.emit)(entry)?;
        self.largest = self.largest.max(bytes.saturating_sub(self.bytes));
        self.bytes = bytes;
        self.entries += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"a key of this database";
    const CURSOR_CHARS: usize = (BODY_BYTES + MAC_BYTES) / 3 * 4;

    fn cursors() -> Vec<Cursor> {
        let fingerprint = Fingerprint {
            seq: 42,
            tag: 0x0123_4567_89ab_cdef,
        };
        let at = |start, end, position| Cursor {
            start,
            end,
            fingerprint,
            position,
            instance: 7,
        };
        vec![
            Cursor::since(0, Fingerprint::default(), 0),
            Cursor::since(u64::MAX, fingerprint, u32::MAX),
            at(740, 740, Position::Listing { after: Uuid::new_v4() }),
            at(3, 0x1f4, Position::Window { after_seq: 99 }),
        ]
    }

    #[test]
    fn cursors_round_trip_and_match_the_documented_pattern() {
        assert_eq!(PATTERN, format!("^[A-Za-z0-9_-]{{{CURSOR_CHARS}}}$"));
        let pattern = |text: &str| {
            text.len() == CURSOR_CHARS
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        for cursor in cursors() {
            let text = cursor.encode(KEY).unwrap();
            assert!(pattern(&text), "{text}");
            assert_eq!(Cursor::decode(&text, KEY), Some(cursor));
        }
    }

    #[test]
    fn a_cursor_signed_with_another_key_or_edited_is_refused() {
        for cursor in cursors() {
            let text = cursor.encode(KEY).unwrap();
            assert_eq!(Cursor::decode(&text, b"another database's key"), None);
            // Every character changed, one at a time, breaks the signature.
            for at in 0..text.len() {
                let mut edited = text.clone().into_bytes();
                edited[at] = if edited[at] == b'A' { b'B' } else { b'A' };
                let edited = String::from_utf8(edited).unwrap();
                assert_eq!(Cursor::decode(&edited, KEY), None, "{edited}");
            }
        }
        for junk in ["", "s-1", "junk", "%%%", &"A".repeat(CURSOR_CHARS)] {
            assert_eq!(Cursor::decode(junk, KEY), None, "{junk:?}");
        }
    }

    #[test]
    fn a_signed_cursor_is_served_only_by_its_database_below_its_counter_and_unpruned() {
        let state = State {
            now: 90,
            xmax: 100,
            pruned_before: 20,
            key: KEY.to_vec(),
            instance: 7,
        };
        let window = |start, end| Cursor {
            start,
            end,
            fingerprint: Fingerprint::default(),
            position: Position::Window { after_seq: 1 },
            instance: 7,
        };
        assert_eq!(state.admits(&window(20, 100)), Ok(()));
        assert_eq!(state.admits(&Cursor::since(95, Fingerprint::default(), 7)), Ok(()));
        // Ahead of the transaction counter: handed out before the database went back in time.
        assert_eq!(state.admits(&window(50, 101)), Err(Expiry::Restored));
        assert_eq!(
            state.admits(&Cursor::since(u64::MAX, Fingerprint::default(), 7)),
            Err(Expiry::Restored)
        );
        // Handed out by a copy of this database elsewhere.
        assert_eq!(
            state.admits(&Cursor {
                instance: 8,
                ..window(50, 60)
            }),
            Err(Expiry::Restored)
        );
        // Needs pruned changes.
        assert_eq!(state.admits(&window(19, 60)), Err(Expiry::Pruned));
    }

    #[test]
    fn old_format_cursors_are_recognised_with_their_newest_horizon() {
        let id = "0b0c6f2e8a414c3b9d7e2f5a1b3c4d5e";
        assert_eq!(old_format_horizon("s-1f"), Some(0x1f));
        assert_eq!(old_format_horizon("s-0001"), Some(1));
        assert_eq!(old_format_horizon(&format!("i-2f-{id}")), Some(0x2f));
        assert_eq!(old_format_horizon(&format!("d-3-1f4-{id}")), Some(0x1f4));
        for junk in [
            "",
            "s",
            "s-",
            "s-g",
            "s-A",
            "i-1-0B0C6F2E8A414C3B9D7E2F5A1B3C4D5E",
            "s-1-",
            "x-1",
            "i-1",
            "i-1-abc",
            "d-1-2",
            "d-x-2-0b0c6f2e8a414c3b9d7e2f5a1b3c4d5e",
            "s-10000000000000000",
            "S-1",
        ] {
            assert_eq!(old_format_horizon(junk), None, "{junk:?}");
        }
    }
}

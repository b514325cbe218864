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
//! A delta call takes `H2 = pg_snapshot_xmin(pg_current_snapshot())`, the
//! oldest transaction still in progress when its snapshot was taken: every
//! transaction below `H2` has ended (committed, and so visible to the call's
//! snapshot, or rolled back), and every transaction that commits later has an
//! `xid >= H2` (xids are handed out in increasing order, and none below `H2`
//! is still running). Transactions of other databases of the same cluster
//! are left out of that minimum when they can be told apart (see
//! `HORIZONS`): they write no change row here. The call delivers the
//! articles named by rows with `H <= xid < H2` and hands out `H2` as the
//! next cursor, so each change row falls in exactly one window, whatever
//! order transactions commit in.
//!
//! The price: a change reaches sync once every *older* transaction has ended
//! too, so one long transaction in lamina's database holds back the changes
//! of all younger ones (they are delayed, never lost). Entries carry the
//! article's state as of the call, which may already include changes of
//! later windows; those are delivered again by the next call (applying an
//! entry twice is harmless).
//!
//! An initial sync takes its horizon the same way before it lists any
//! article: whatever commits while it pages is at or above that horizon and
//! comes with the first delta. Pages of one window keep its `H2` (it travels
//! in the cursor), so paging never widens a window.
//!
//! # Pruning
//!
//! Each write deletes change rows older than `LAMINA_SYNC_KEEP_DAYS` and
//! raises `sync_horizon.pruned_before` above their xids (in the same
//! transaction); a cursor whose horizon lies below it may need deleted rows,
//! so it is refused ([`Error::SyncCursorExpired`], 410) rather than served
//! with a gap. The horizon and the rows are read in one snapshot.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::error::Error;
use super::kinds::ArticleStatus;
use super::store::{self, ArticleRow, StoredSection, Visibility};
use crate::db::schema::articles;

/// Where a sync stands: the opaque `cursor` of `GET /v1/sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncCursor {
    /// Every change of transactions below `horizon` has been delivered: ask for the rest.
    Since {
        /// The horizon.
        horizon: u64,
    },
    /// An initial sync under way: the articles after `after` remain; the
    /// changes from `horizon` on come afterwards.
    Initial {
        /// The horizon taken when the initial sync began.
        horizon: u64,
        /// The last article delivered.
        after: Uuid,
    },
    /// A delta under way: the articles after `after` changed in `from..to` remain.
    Delta {
        /// The window's start.
        from: u64,
        /// The window's end, fixed when its first page was served.
        to: u64,
        /// The last article delivered.
        after: Uuid,
    },
}

impl SyncCursor {
    /// The regular expression of cursors, for the spec.
    pub const PATTERN: &str =
        "^(s-[0-9a-f]{1,16}|i-[0-9a-f]{1,16}-[0-9a-f]{32}|d-[0-9a-f]{1,16}-[0-9a-f]{1,16}-[0-9a-f]{32})$";

    /// The opaque text handed to clients: a letter for the mode, then the
    /// horizons in hex and the last article id, `-`-separated.
    pub fn encode(&self) -> String {
        match self {
            SyncCursor::Since { horizon } => format!("s-{horizon:x}"),
            SyncCursor::Initial { horizon, after } => format!("i-{horizon:x}-{}", after.simple()),
            SyncCursor::Delta { from, to, after } => format!("d-{from:x}-{to:x}-{}", after.simple()),
        }
    }

    /// Parses [`SyncCursor::encode`]'s text: every string matching
    /// [`SyncCursor::PATTERN`] decodes (leading zeros too), nothing else does.
    pub fn decode(text: &str) -> Option<SyncCursor> {
        fn lower_hex(text: &str) -> bool {
            text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }
        fn horizon(hex: &str) -> Option<u64> {
            let valid = (1..=16).contains(&hex.len()) && lower_hex(hex);
            valid.then(|| u64::from_str_radix(hex, 16).ok()).flatten()
        }
        fn id(hex: &str) -> Option<Uuid> {
            (hex.len() == 32 && lower_hex(hex))
                .then(|| Uuid::try_parse(hex).ok())
                .flatten()
        }
        let parts: Vec<&str> = text.split('-').collect();
        Some(match parts.as_slice() {
            ["s", h] => SyncCursor::Since { horizon: horizon(h)? },
            ["i", h, a] => SyncCursor::Initial {
                horizon: horizon(h)?,
                after: id(a)?,
            },
            ["d", f, t, a] => SyncCursor::Delta {
                from: horizon(f)?,
                to: horizon(t)?,
                after: id(a)?,
            },
            _ => return None,
        })
    }

    /// The horizon below which this cursor needs no change rows.
    fn needs_from(&self) -> u64 {
        match *self {
            SyncCursor::Since { horizon } | SyncCursor::Initial { horizon, .. } => horizon,
            SyncCursor::Delta { from, .. } => from,
        }
    }
}

/// One entry of the feed.
#[derive(Debug, Clone)]
pub enum SyncEntry {
    /// The article's current state, as the reader may see it.
    Article(ArticleRow, Vec<StoredSection>),
    /// The article is gone, or no longer visible to the reader.
    Deleted {
        /// Its id.
        id: Uuid,
        /// Its slug.
        slug: String,
    },
}

/// One page of the feed.
#[derive(Debug, Clone)]
pub struct SyncPage {
    /// The entries, to apply in order.
    pub entries: Vec<SyncEntry>,
    /// Where to continue.
    pub next: SyncCursor,
    /// Whether `next` continues the same window (ask again at once).
    pub has_more: bool,
}

/// The horizon of this snapshot and the pruned horizon. The first is the
/// snapshot's xmin, except that transactions running in *other* databases
/// of the cluster are passed over: they can write no change row here, and a
/// long one (another application, another test) would otherwise hold every
/// sync back. A transaction is passed over only when `pg_stat_activity`
/// (read after the snapshot was taken) shows a backend of another database
/// running it; one that has ended meanwhile, or whose backend is not shown,
/// still counts. Both xids are 64-bit (`xid8`); `pg_stat_activity` shows
/// their low 32 bits.
const HORIZONS: &str = "\
    SELECT coalesce( \
        (SELECT min(running::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS running \
         WHERE NOT EXISTS ( \
             SELECT 1 FROM pg_stat_activity AS backend \
             WHERE backend.backend_xid::text::bigint = running::text::bigint % 4294967296 \
               AND backend.datid IS DISTINCT FROM \
                   (SELECT oid FROM pg_database WHERE datname = current_database()))), \
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint)::text AS now, \
    (SELECT pruned_before::text FROM sync_horizon) AS pruned";

#[derive(QueryableByName)]
struct Horizons {
    #[diesel(sql_type = Text)]
    now: String,
    #[diesel(sql_type = Text)]
    pruned: String,
}

#[derive(QueryableByName)]
struct Changed {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    article_id: Uuid,
    #[diesel(sql_type = Text)]
    slug: String,
}

fn xid(text: &str) -> Result<u64, Error> {
    text.parse()
        .map_err(|_| Error::Corrupt(format!("an xid8 that is not a number: {text:?}")))
}

/// The page of the feed after `cursor` (`None`: an initial sync), at most
/// `limit` entries, as `visibility` may see it; all read in one snapshot.
pub async fn sync(
    conn: &mut AsyncPgConnection,
    cursor: Option<SyncCursor>,
    limit: i64,
    visibility: Visibility,
) -> Result<SyncPage, Error> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async move |conn| {
            let horizons: Horizons = diesel::sql_query(HORIZONS).get_result(conn).await?;
            let (now, pruned) = (xid(&horizons.now)?, xid(&horizons.pruned)?);
            if cursor.is_some_and(|cursor| cursor.needs_from() < pruned) {
                return Err(Error::SyncCursorExpired);
            }
            match cursor {
                None => initial_page(conn, now, None, limit, visibility).await,
                Some(SyncCursor::Initial { horizon, after }) => {
                    initial_page(conn, horizon, Some(after), limit, visibility).await
                }
                // The window never shrinks below its start (a horizon from another node's older snapshot).
                Some(SyncCursor::Since { horizon }) => {
                    delta_page(conn, horizon, now.max(horizon), None, limit, visibility).await
                }
                Some(SyncCursor::Delta { from, to, after }) => {
                    delta_page(conn, from, to, Some(after), limit, visibility).await
                }
            }
        })
        .await
}

/// The articles after `after` in id order, the initial sync being at `horizon`.
async fn initial_page(
    conn: &mut AsyncPgConnection,
    horizon: u64,
    after: Option<Uuid>,
    limit: i64,
    visibility: Visibility,
) -> Result<SyncPage, Error> {
    let mut query = articles::table
        .select(ArticleRow::as_select())
        .order(articles::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(articles::id.gt(after));
    }
    if visibility == Visibility::Published {
        query = query.filter(articles::status.eq(ArticleStatus::Published.as_str()));
    }
    let mut rows: Vec<ArticleRow> = query.load(conn).await?;
    let has_more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match rows.last() {
        Some(last) if has_more => SyncCursor::Initial {
            horizon,
            after: last.id,
        },
        _ => SyncCursor::Since { horizon },
    };
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut sections = store::load_sections_of(conn, &ids).await?;
    let entries = rows
        .into_iter()
        .map(|row| {
            let sections = sections.remove(&row.id).unwrap_or_default();
            SyncEntry::Article(row, sections)
        })
        .collect();
    Ok(SyncPage {
        entries,
        next,
        has_more,
    })
}

/// The articles after `after` (in id order) changed by transactions in `from..to`, coalesced.
async fn delta_page(
    conn: &mut AsyncPgConnection,
    from: u64,
    to: u64,
    after: Option<Uuid>,
    limit: i64,
    visibility: Visibility,
) -> Result<SyncPage, Error> {
    let mut changed: Vec<Changed> = diesel::sql_query(
        "SELECT DISTINCT ON (article_id) article_id, slug FROM changes \
         WHERE xid >= $1::xid8 AND xid < $2::xid8 AND ($3::uuid IS NULL OR article_id > $3::uuid) \
         ORDER BY article_id, seq DESC LIMIT $4",
    )
    .bind::<Text, _>(from.to_string())
    .bind::<Text, _>(to.to_string())
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(after)
    .bind::<BigInt, _>(limit + 1)
    .load(conn)
    .await?;
    let has_more = changed.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    changed.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match changed.last() {
        Some(last) if has_more => SyncCursor::Delta {
            from,
            to,
            after: last.article_id,
        },
        _ => SyncCursor::Since { horizon: to },
    };
    let ids: Vec<Uuid> = changed.iter().map(|change| change.article_id).collect();
    let mut query = articles::table
        .filter(articles::id.eq_any(&ids))
        .select(ArticleRow::as_select())
        .into_boxed();
    if visibility == Visibility::Published {
        query = query.filter(articles::status.eq(ArticleStatus::Published.as_str()));
    }
    let rows: Vec<ArticleRow> = query.load(conn).await?;
    let visible: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut sections = store::load_sections_of(conn, &visible).await?;
    let mut rows: std::collections::HashMap<Uuid, ArticleRow> = rows.into_iter().map(|row| (row.id, row)).collect();
    let entries = changed
        .into_iter()
        .map(|Changed { article_id, slug }| match rows.remove(&article_id) {
            Some(row) => {
                let sections = sections.remove(&article_id).unwrap_or_default();
                SyncEntry::Article(row, sections)
            }
            None => SyncEntry::Deleted { id: article_id, slug },
        })
        .collect();
    Ok(SyncPage {
        entries,
        next,
        has_more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let id = Uuid::new_v4();
        for cursor in [
            SyncCursor::Since { horizon: 0 },
            SyncCursor::Since { horizon: u64::MAX },
            SyncCursor::Initial {
                horizon: 740,
                after: id,
            },
            SyncCursor::Delta {
                from: 3,
                to: 0x1f4,
                after: id,
            },
        ] {
            assert_eq!(SyncCursor::decode(&cursor.encode()), Some(cursor));
        }
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
            "s-10000000000000000",
            "S-1",
        ] {
            assert_eq!(SyncCursor::decode(junk), None, "{junk:?}");
        }
        assert_eq!(SyncCursor::decode("s-0001"), Some(SyncCursor::Since { horizon: 1 }));
    }
}

//! What every write ends with: the article's version and derived fields,
//! a revision with a snapshot, a row of the change log (what `GET /v1/sync`
//! reads), the change notification, and pruning.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::Actor;
use crate::content::error::Error;
use crate::content::input::{SectionInput, count_words, reading_time_minutes};
use crate::content::kinds::SectionKind;
use crate::content::store::{self, ArticleRow, StoredSection};
use crate::content::translations;
use crate::content::webhooks::{self, ChangedSection};
use crate::db::schema::{articles, changes, revisions};

/// What changed, for the revision record.
#[derive(Debug, Clone)]
pub(super) struct Change {
    pub(super) action: &'static str,
    pub(super) target: &'static str,
    pub(super) kind: Option<SectionKind>,
    pub(super) item: Option<Uuid>,
    /// For a section delete: the deleted section's id.
    pub(super) section: Option<Uuid>,
    /// For writes that may change the status: whether the article was published before.
    pub(super) was_published: Option<bool>,
    /// The locale written, for writes in another locale than the default.
    pub(super) locale: Option<String>,
}

impl Change {
    /// A change `action` of `target` (`article`, `section`, `item`), the rest unset.
    pub(super) fn new(action: &'static str, target: &'static str) -> Change {
        Change {
            action,
            target,
            kind: None,
            item: None,
            section: None,
            was_published: None,
            locale: None,
        }
    }

    /// The change-log event of this change, the article being `article` after it.
    fn event(&self, article: &ArticleRow) -> &'static str {
        match (self.target, self.action) {
            ("article", "create") => "article.created",
            ("article", "delete") => "article.deleted",
            _ => {
                let published = article.status == crate::content::kinds::ArticleStatus::Published.as_str();
                match self.was_published {
                    Some(false) if published => "article.published",
                    Some(true) if !published => "article.unpublished",
                    _ => "article.updated",
                }
            }
        }
    }
}

/// Bumps the article's version, recomputes its derived fields, records a
/// revision with a snapshot, prunes old revisions; returns the stored state.
pub(super) async fn finish(
    conn: &mut AsyncPgConnection,
    article_id: Uuid,
    summary: &str,
    actor: &Actor,
    change: Change,
    now: DateTime<Utc>,
) -> Result<(ArticleRow, Vec<StoredSection>), Error> {
    let sections = store::load_sections(conn, article_id, None).await?;
    let inputs = sections
        .iter()
        .map(StoredSection::to_input)
        .collect::<QueryResult<Vec<_>>>()?;
    let word_count = count_words(std::iter::once(summary).chain(inputs.iter().flat_map(SectionInput::texts)));
    let article: ArticleRow = diesel::update(articles::table.find(article_id))
        .set((
            articles::version.eq(articles::version + 1),
            articles::updated_at.eq(now),
            articles::word_count.eq(word_count),
            articles::reading_time_minutes.eq(reading_time_minutes(word_count)),
        ))
        .returning(ArticleRow::as_returning())
        .get_result(conn)
        .await?;
    let snapshot = article.to_input(&sections)?.to_body();
    record(conn, &article, &sections, actor, change, Some(snapshot), now).await?;
    Ok((article, sections))
}

/// Records the write: revision, change log, webhook outbox, notification,
/// pruning. `sections` are the article's sections after the write (before
/// it, for a delete).
pub(super) async fn record(
    conn: &mut AsyncPgConnection,
    article: &ArticleRow,
    sections: &[StoredSection],
    actor: &Actor,
    change: Change,
    snapshot: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let revision_id = Uuid::new_v4();
    diesel::insert_into(revisions::table)
        .values((
            revisions::id.eq(revision_id),
            revisions::article_id.eq(article.id),
            revisions::slug.eq(&article.slug),
            revisions::actor.eq(&actor.name),
            revisions::request_id.eq(&actor.request_id),
            revisions::created_at.eq(now),
            revisions::action.eq(change.action),
            revisions::target.eq(change.target),
            revisions::section_kind.eq(change.kind.map(SectionKind::as_str)),
            revisions::item_id.eq(change.item),
            revisions::article_version.eq(article.version),
            revisions::snapshot.eq(snapshot),
            revisions::locale.eq(&change.locale),
            revisions::translations.eq(translations::snapshot(conn, article.id).await?),
        ))
        .execute(conn)
        .await?;
    let event = change.event(article);
    // The change log: `xid` defaults to this transaction's id, which is what
    // lets sync deliver the change exactly once, whenever it commits.
    diesel::insert_into(changes::table)
        .values((
            changes::article_id.eq(article.id),
            changes::slug.eq(&article.slug),
            changes::event.eq(event),
            changes::version.eq(article.version),
            changes::revision_id.eq(revision_id),
            changes::created_at.eq(now),
            // Before a delete, as it was: what says whether anonymous readers could see it.
            changes::published.eq(article.status == crate::content::kinds::ArticleStatus::Published.as_str()),
        ))
        .execute(conn)
        .await?;
    prune_changes(conn, actor.sync_keep_days).await?;
    crate::content::history::purge_trash(conn, actor.trash_keep_days).await?;
    // The webhook outbox, in this transaction: events exist once the write commits.
    if change.action != "delete" || change.target != "article" {
        translations::prune(conn, article.id, sections).await?;
    }
    if webhooks::wanted(conn, event).await? {
        let changed = changed_sections(&change, sections, now);
        let locales = changed_locales(conn, change.locale.as_deref()).await?;
        let payload = webhooks::article_event(event, now, article, revision_id, &changed, sections, &locales);
        webhooks::enqueue(conn, event, Some(article.id), &payload).await?;
    }
    // Other nodes drop their cached copies when this commits.
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<diesel::sql_types::Text, _>(crate::db::CONTENT_CHANNEL)
        .bind::<diesel::sql_types::Text, _>(&article.slug)
        .execute(conn)
        .await?;
    // Keep the newest `revisions_keep` of this article.
    diesel::sql_query(
        "DELETE FROM revisions WHERE article_id = $1 AND seq <= \
         (SELECT seq FROM revisions WHERE article_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)",
    )
    .bind::<diesel::sql_types::Uuid, _>(article.id)
    .bind::<diesel::sql_types::BigInt, _>(actor.revisions_keep)
    .execute(conn)
    .await?;
    Ok(())
}

/// The locales whose answer a write in `locale` (`None`: the default) changed:
/// a write in the default locale changes every locale (each falls back to
/// it for what it lacks, and shares its structure and version); a write in
/// another locale changes that locale and the locales that fall back to it.
async fn changed_locales(conn: &mut AsyncPgConnection, locale: Option<&str>) -> QueryResult<Vec<String>> {
    let locales = crate::content::locales::Locales::load(conn).await?;
    Ok(locales
        .all()
        .iter()
        .map(|other| other.code.clone())
        .filter(|code| locale.is_none_or(|written| locales.chain(code).iter().any(|step| step == written)))
        .collect())
}

/// The sections a write touched, for webhook events. Section and item
/// writes name their section (a section delete also lists the sections that
/// moved up, as updated); creating or deleting an article lists all its
/// sections. Whole-article replaces and restores list the sections whose
/// `updated_at` is this write's (new ones, version 1, as created); sections
/// they delete are not listed (best effort: the article's `etag` and
/// `version` say everything changed).
fn changed_sections(change: &Change, sections: &[StoredSection], now: DateTime<Utc>) -> Vec<ChangedSection> {
    let listed = |section: &StoredSection, what: &'static str| ChangedSection {
        kind: section.row.kind.clone(),
        id: section.row.id,
        change: what,
    };
    match (change.target, change.action) {
        ("article", "create") => sections.iter().map(|section| listed(section, "created")).collect(),
        ("article", "delete") => sections.iter().map(|section| listed(section, "deleted")).collect(),
        _ => {
            let mut changed: Vec<ChangedSection> = change
                .section
                .zip(change.kind)
                .map(|(id, kind)| ChangedSection {
                    kind: kind.as_str().to_owned(),
                    id,
                    change: "deleted",
                })
                .into_iter()
                .collect();
            // Stored timestamps keep microseconds.
            let touched = |section: &StoredSection| {
                section.row.updated_at.timestamp_micros() == now.timestamp_micros()
                    || (change.target != "article" && change.kind.is_some_and(|kind| kind.as_str() == section.row.kind))
            };
            changed.extend(sections.iter().filter(|section| touched(section)).map(|section| {
                let targeted = change.kind.is_some_and(|kind| kind.as_str() == section.row.kind);
                let created = if change.target == "article" {
                    section.row.version == 1
                } else {
                    targeted && change.action == "create"
                };
                listed(section, if created { "created" } else { "updated" })
            }));
            changed
        }
    }
}

/// Most change rows one write prunes: the work a write takes on stays small
/// even after a long quiet spell; later writes take the rest.
const PRUNE_BATCH: i64 = 1000;

/// Deletes change rows older than `keep_days` days (a batch at a time, skipping
/// rows a concurrent write is pruning) and raises the pruned horizon past
/// them, so that cursors that would need them answer 410 instead of
/// silently missing changes. The bound: a cursor stays usable for at least
/// `keep_days` days after its newest change. The newest row pruned is
/// remembered: sync cursors are fingerprinted by a row that may be pruned
/// (see `content::sync`).
async fn prune_changes(conn: &mut AsyncPgConnection, keep_days: i32) -> QueryResult<()> {
    diesel::sql_query(
        "WITH pruned AS ( \
             DELETE FROM changes WHERE seq IN ( \
                 SELECT seq FROM changes WHERE created_at < now() - make_interval(days => $1) \
                 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING xid, seq, revision_id), \
         newest AS (SELECT xid, seq, revision_id FROM pruned ORDER BY xid DESC, seq DESC LIMIT 1) \
         UPDATE sync_horizon SET pruned_before = (newest.xid::text::bigint + 1)::text::xid8, \
             pruned_last_seq = newest.seq, pruned_last_revision = newest.revision_id \
         FROM newest \
         WHERE (newest.xid::text::bigint + 1, newest.seq) > (pruned_before::text::bigint, pruned_last_seq)",
    )
    .bind::<diesel::sql_types::Integer, _>(keep_days)
    .bind::<diesel::sql_types::BigInt, _>(PRUNE_BATCH)
    .execute(conn)
    .await?;
    Ok(())
}

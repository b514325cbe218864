//! Releases: changes staged to go live together (API.md §10), as stored,
//! their write body, and every query of their management. Publishing and
//! previewing go through the write code: [`super::write`].

use chrono::{DateTime, Utc};
use deserr::{Deserr, IntoValue, Value as Found, ValuePointerRef};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{Error, Precondition, Resource, Version};
use super::fields::{BodyErrors, Title};
use super::kinds::SectionKind;
use super::{input, store, transaction};
use crate::db::DbPool;
use crate::db::schema::{release_items, releases};

/// The states of a release, as stored.
pub mod state {
    /// Gathering changes; published by hand.
    pub const OPEN: &str = "open";
    /// Publishes by itself at `publish_at`.
    pub const SCHEDULED: &str = "scheduled";
    /// Its changes are live.
    pub const PUBLISHED: &str = "published";
    /// Its scheduled publication met conflicts, or could not be applied.
    pub const FAILED: &str = "failed";
}

/// A release as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = releases, check_for_backend(diesel::pg::Pg))]
pub struct ReleaseRow {
    pub id: Uuid,
    pub title: String,
    pub publish_at: Option<DateTime<Utc>>,
    pub state: String,
    pub conflicts: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl ReleaseRow {
    /// The release at its version, as a precondition names it.
    pub fn version(&self) -> Version {
        Version {
            id: self.id,
            version: self.version,
        }
    }

    /// [`Error::ReleaseClosed`] unless the release can still change.
    pub fn check_open(&self) -> Result<(), Error> {
        if self.state == state::PUBLISHED || self.state == state::FAILED {
            return Err(Error::ReleaseClosed {
                id: self.id,
                state: self.state.clone(),
            });
        }
        Ok(())
    }
}

/// One staged change as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = release_items, check_for_backend(diesel::pg::Pg))]
pub struct ItemRow {
    pub id: Uuid,
    pub release_id: Uuid,
    pub slug: String,
    pub kind: Option<String>,
    pub body: Value,
    pub base_version: Option<i64>,
    pub staged_at: DateTime<Utc>,
    pub locale: Option<String>,
}

/// A release with its staged changes, in staging order.
#[derive(Debug, Clone)]
pub struct StoredRelease {
    pub row: ReleaseRow,
    pub items: Vec<ItemRow>,
}

// ---------------------------------------------------------------------------
// The write body

/// When a release publishes by itself: an RFC 3339 date-time.
#[derive(Debug, Clone, Copy)]
pub struct PublishAt(pub DateTime<Utc>);

const PUBLISH_AT_FORMAT: &str = "must be an RFC 3339 date-time, or null";

impl Deserr<BodyErrors> for PublishAt {
    fn deserialize_from_value<V: IntoValue>(value: Found<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        match value {
            Found::String(text) => DateTime::parse_from_rfc3339(&text)
                .map(|at| PublishAt(at.with_timezone(&Utc)))
                .map_err(|_| BodyErrors::at(location, PUBLISH_AT_FORMAT)),
            _ => Err(BodyErrors::at(location, PUBLISH_AT_FORMAT)),
        }
    }
}

fn release_title() -> utoipa::openapi::schema::Object {
    Title::field_schema("What the release is for", "Spring menu", false)
}

/// What an editor sets on a release (`POST` creates, `PUT` replaces).
#[derive(Debug, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields)]
pub struct ReleaseWrite {
    /// What the release is for.
    #[schema(schema_with = release_title)]
    pub title: Title,
    /// When it publishes by itself (RFC 3339, in the future), or `null` to publish by hand.
    #[deserr(default)]
    #[schema(value_type = Option<DateTime<Utc>>, example = "2999-12-01T08:00:00Z")]
    pub publish_at: Option<PublishAt>,
}

/// A release's settings, validated.
#[derive(Debug, Clone)]
pub struct ReleaseInput {
    pub title: String,
    pub publish_at: Option<DateTime<Utc>>,
}

impl ReleaseInput {
    /// The state these settings give an open release.
    fn state(&self) -> &'static str {
        if self.publish_at.is_some() {
            state::SCHEDULED
        } else {
            state::OPEN
        }
    }
}

/// Reads a [`ReleaseWrite`] whose `publish_at` must come after `now`,
/// reporting every problem at once.
pub fn parse_write(body: Value, now: DateTime<Utc>) -> Result<ReleaseInput, Error> {
    let at = ValuePointerRef::Origin.push_key("publish_at");
    // Judged apart, so that it is reported with the other fields' problems.
    let past = body
        .get("publish_at")
        .and_then(Value::as_str)
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .is_some_and(|publish_at| publish_at <= now);
    let mut errors = if past {
        BodyErrors::at(at, "must be in the future")
    } else {
        BodyErrors::default()
    };
    match deserr::deserialize::<ReleaseWrite, _, BodyErrors>(body) {
        Ok(write) if errors.is_empty() => Ok(ReleaseInput {
            title: write.title.0,
            publish_at: write.publish_at.map(|at| at.0),
        }),
        Ok(_) => Err(Error::Invalid(errors.into_field_errors())),
        Err(problems) => {
            errors.extend(problems);
            Err(Error::Invalid(errors.into_field_errors()))
        }
    }
}

// ---------------------------------------------------------------------------
// Queries

/// The release (locked for the rest of the transaction with `lock`), or its 404.
async fn find_row(conn: &mut AsyncPgConnection, id: Uuid, lock: bool) -> Result<ReleaseRow, Error> {
    let query = releases::table.find(id).select(ReleaseRow::as_select());
    let row = if lock {
        query.for_update().first(conn).await
    } else {
        query.first(conn).await
    };
    row.optional()?.ok_or(Error::ReleaseNotFound { id })
}

/// Locks the release for the rest of the transaction; its 404 if there is none.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> Result<ReleaseRow, Error> {
    find_row(conn, id, true).await
}

/// The namespace of the advisory locks of releases (`pg_advisory_xact_lock(int, int)`).
const RELEASE_LOCKS: i32 = 0x6c61_6d72;

/// An advisory lock of the release `id`, for the rest of the transaction:
/// `exclusive` (publishing) or shared (any other change), waiting for it
/// (`wait`) or not; whether it was taken. Publishing holds it exclusively
/// for its whole transaction, so a change meets a publication in progress at
/// once, and a publication waits only for changes already under way (which
/// are short). Staging therefore never lands in a release that is being
/// published: it is either applied by the publication or refused.
pub async fn advisory_lock(conn: &mut AsyncPgConnection, id: Uuid, exclusive: bool, wait: bool) -> Result<bool, Error> {
    let (high, low) = id.as_u64_pair();
    let folded = high ^ low;
    // Two ids sharing these 32 bits only make a change wait or meet a 409 while the other publishes.
    let key = (folded as u32 ^ (folded >> 32) as u32).cast_signed();
    let function = match (exclusive, wait) {
        (true, true) => "pg_advisory_xact_lock",
        (true, false) => "pg_try_advisory_xact_lock",
        (false, true) => "pg_advisory_xact_lock_shared",
        (false, false) => "pg_try_advisory_xact_lock_shared",
    };
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        taken: bool,
    }
    let query = if wait {
        // These return void: waiting is taking.
        format!("SELECT true AS taken FROM (SELECT {function}($1, $2)) AS locked")
    } else {
        format!("SELECT {function}($1, $2) AS taken")
    };
    let taken: Taken = diesel::sql_query(query)
        .bind::<diesel::sql_types::Integer, _>(RELEASE_LOCKS)
        .bind::<diesel::sql_types::Integer, _>(key)
        .get_result(conn)
        .await?;
    Ok(taken.taken)
}

/// The release, locked for a change (staging, unstaging, its settings, its
/// deletion): at once [`Error::ReleaseClosed`] while it is being published.
async fn take(conn: &mut AsyncPgConnection, id: Uuid) -> Result<ReleaseRow, Error> {
    if !advisory_lock(conn, id, false, false).await? {
        return Err(Error::ReleaseClosed {
            id,
            state: "being published".to_owned(),
        });
    }
    find_row(conn, id, true).await
}

/// The release with its staged changes.
pub async fn stored(conn: &mut AsyncPgConnection, row: ReleaseRow) -> Result<StoredRelease, Error> {
    let items = staged_items(conn, row.id).await?;
    Ok(StoredRelease { row, items })
}

/// The staged changes of a release, in staging order.
pub async fn staged_items(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Vec<ItemRow>> {
    release_items::table
        .filter(release_items::release_id.eq(id))
        .order((release_items::staged_at.asc(), release_items::id.asc()))
        .select(ItemRow::as_select())
        .load(conn)
        .await
}

/// Every release, newest first, with its staged changes.
pub async fn list(pool: &DbPool) -> Result<Vec<StoredRelease>, Error> {
    transaction::read(pool, async |conn| {
        let rows: Vec<ReleaseRow> = releases::table
            .order((releases::created_at.desc(), releases::id.asc()))
            .select(ReleaseRow::as_select())
            .load(conn)
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let mut items: Vec<ItemRow> = release_items::table
            .filter(release_items::release_id.eq_any(&ids))
            .order((release_items::staged_at.asc(), release_items::id.asc()))
            .select(ItemRow::as_select())
            .load(conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let (mine, others) = items.drain(..).partition(|item| item.release_id == row.id);
                items = others;
                StoredRelease { row, items: mine }
            })
            .collect())
    })
    .await
}

/// One release.
pub async fn find(pool: &DbPool, id: Uuid) -> Result<StoredRelease, Error> {
    transaction::read(pool, async |conn| {
        let row = find_row(conn, id, false).await?;
        stored(conn, row).await
    })
    .await
}

/// Creates a release.
pub async fn create(pool: &DbPool, input: ReleaseInput) -> Result<StoredRelease, Error> {
    transaction::write(pool, async |conn| {
        let row = diesel::insert_into(releases::table)
            .values((
                releases::id.eq(Uuid::new_v4()),
                releases::title.eq(&input.title),
                releases::publish_at.eq(input.publish_at),
                releases::state.eq(input.state()),
            ))
            .returning(ReleaseRow::as_returning())
            .get_result(conn)
            .await?;
        Ok(StoredRelease { row, items: Vec::new() })
    })
    .await
}

/// Sets a release's title and `publish_at`, if `precondition` holds and it is still open.
pub async fn update(
    pool: &DbPool,
    id: Uuid,
    precondition: Precondition,
    input: ReleaseInput,
) -> Result<StoredRelease, Error> {
    transaction::write(pool, async |conn| {
        let current = take(conn, id).await?;
        precondition.check(Resource::Release, current.version())?;
        current.check_open()?;
        diesel::update(releases::table.find(id))
            .set((
                releases::title.eq(&input.title),
                releases::publish_at.eq(input.publish_at),
                releases::state.eq(input.state()),
            ))
            .execute(conn)
            .await?;
        bump(conn, id).await
    })
    .await
}

/// Deletes a release and what it stages, if `precondition` holds.
pub async fn delete(pool: &DbPool, id: Uuid, precondition: Precondition) -> Result<(), Error> {
    transaction::write(pool, async |conn| {
        let current = take(conn, id).await?;
        precondition.check(Resource::Release, current.version())?;
        diesel::delete(releases::table.find(id)).execute(conn).await?;
        Ok(())
    })
    .await
}

/// What a staged change replaces: a whole article, or one of its sections,
/// in the default locale (text and structure) or in another (its texts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// The article's slug.
    pub slug: &'a str,
    /// The section's kind; `None` for the whole article.
    pub kind: Option<SectionKind>,
    /// The locale of a staged translation; `None`: the default locale.
    pub locale: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// The whole article `slug`.
    pub fn article(slug: &'a str) -> Self {
        Target {
            slug,
            kind: None,
            locale: None,
        }
    }

    /// The section `kind` of the article `slug`.
    pub fn section(slug: &'a str, kind: SectionKind) -> Self {
        Target {
            slug,
            kind: Some(kind),
            locale: None,
        }
    }

    /// The same target's texts in `locale` (`None`: the default locale).
    pub fn in_locale(self, locale: Option<&'a str>) -> Self {
        Target { locale, ..self }
    }

    /// Deletes what a release stages for the target; how many rows that was.
    async fn remove(&self, conn: &mut AsyncPgConnection, release: Uuid) -> QueryResult<usize> {
        let mut rows = diesel::delete(release_items::table)
            .filter(release_items::release_id.eq(release))
            .filter(release_items::slug.eq(self.slug))
            .into_boxed();
        rows = match self.locale {
            Some(locale) => rows.filter(release_items::locale.eq(locale)),
            None => rows.filter(release_items::locale.is_null()),
        };
        match self.kind {
            Some(kind) => rows.filter(release_items::kind.eq(kind.as_str())),
            None => rows.filter(release_items::kind.is_null()),
        }
        .execute(conn)
        .await
    }

    /// The resource a precondition on the target names.
    pub fn resource(&self) -> Resource {
        match self.kind {
            Some(_) => Resource::Section,
            None => Resource::Article,
        }
    }

    /// The validated body of a change to the target, as stored. A
    /// translation is checked against the live structure (it changes text
    /// only) and stored as sent; publishing checks it again.
    async fn parse(&self, conn: &mut AsyncPgConnection, body: &Value) -> Result<Value, Error> {
        if self.locale.is_some() {
            let of = match self.kind {
                Some(kind) => super::translations::TranslationOf::Section(kind),
                None => super::translations::TranslationOf::Article,
            };
            super::translations::check_texts(conn, self.slug, of, body).await?;
            return Ok(body.clone());
        }
        match self.kind {
            Some(kind) => input::parse_section(body, kind).map(|section| section.to_body()),
            None => input::parse_article(body, self.slug).map(|article| article.to_body()),
        }
        .map_err(Error::Invalid)
    }

    /// The live version of the target, if it exists.
    async fn live(&self, conn: &mut AsyncPgConnection) -> Result<Option<Version>, Error> {
        let Some(article) = store::find_article(conn, self.slug, store::Visibility::All).await? else {
            return Ok(None);
        };
        let Some(kind) = self.kind else {
            return Ok(Some(article.version()));
        };
        Ok(store::load_sections(conn, article.id, Some(&[kind]))
            .await?
            .into_iter()
            .next()
            .map(|section| section.row.version()))
    }
}

/// A new version of the release (its settings or staged content changed).
async fn bump(conn: &mut AsyncPgConnection, id: Uuid) -> Result<StoredRelease, Error> {
    let row = diesel::update(releases::table.find(id))
        .set((
            releases::version.eq(releases::version + 1),
            releases::updated_at.eq(Utc::now()),
        ))
        .returning(ReleaseRow::as_returning())
        .get_result(conn)
        .await?;
    stored(conn, row).await
}

/// The most changes one release stages: publishing applies them all in one
/// transaction, which must finish within the request deadline
/// ([`crate::db::DEADLINE`]). Measured (`benches/publish`, release build, 2
/// cores): 200 articles of 37 KB publish in 1.4 s, 400 in 3.6 s, 700 not
/// within the deadline; the cost is per change more than per byte.
pub const MAX_STAGED_CHANGES: i64 = 200;

/// Stages `body` (the same body and validation as the live write) for
/// `target` in an open release, replacing what was staged there, with the
/// live version it is based on. `if_match`, if given, must name that live
/// version (so an out-of-date copy is not staged over changes its author
/// never saw); a closed release says so before it is weighed. A release
/// stages at most [`MAX_STAGED_CHANGES`] changes.
pub async fn stage(
    pool: &DbPool,
    id: Uuid,
    target: Target<'_>,
    body: &Value,
    if_match: Precondition,
) -> Result<StoredRelease, Error> {
    transaction::write(pool, async |conn| {
        take(conn, id).await?.check_open()?;
        let staged = target.parse(conn, body).await?;
        let live = target.live(conn).await?;
        if_match.check_if_given(target.resource(), live)?;
        target.remove(conn, id).await?;
        let staged_already: i64 = release_items::table
            .filter(release_items::release_id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        if staged_already >= MAX_STAGED_CHANGES {
            return Err(Error::ReleaseTooLarge {
                id,
                limit: MAX_STAGED_CHANGES,
            });
        }
        diesel::insert_into(release_items::table)
            .values((
                release_items::id.eq(Uuid::new_v4()),
                release_items::release_id.eq(id),
                release_items::slug.eq(target.slug),
                release_items::kind.eq(target.kind.map(SectionKind::as_str)),
                release_items::body.eq(staged),
                release_items::base_version.eq(live.map(|live| live.version)),
                release_items::staged_at.eq(Utc::now()),
                release_items::locale.eq(target.locale),
            ))
            .execute(conn)
            .await?;
        bump(conn, id).await
    })
    .await
}

/// Removes what an open release stages for `target`.
pub async fn unstage(pool: &DbPool, id: Uuid, target: Target<'_>) -> Result<StoredRelease, Error> {
    transaction::write(pool, async |conn| {
        take(conn, id).await?.check_open()?;
        if target.remove(conn, id).await? == 0 {
            return Err(Error::NotStaged {
                id,
                slug: target.slug.to_owned(),
                kind: target.kind,
            });
        }
        bump(conn, id).await
    })
    .await
}

// ---------------------------------------------------------------------------
// Scheduled publications that fail

/// Failed attempts to publish a scheduled release (the database failed or
/// timed out) before it is `failed` for good.
pub const MAX_PUBLISH_ATTEMPTS: i32 = 5;

/// How long the scheduler waits before the next attempt after `attempts`
/// failed ones: 2, 4, 8, 16 s.
fn retry_delay(attempts: i32) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(1_i64 << attempts.clamp(1, 6))
}

/// What [`postpone`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Postponed {
    /// The scheduler tries again at this time.
    Until(DateTime<Utc>),
    /// Out of attempts: the release is `failed`, nothing applied.
    Failed,
    /// The release is no longer scheduled (published, changed or deleted meanwhile).
    Gone,
}

/// Records a failed attempt to publish the scheduled release `id`: it is
/// tried again after a growing delay, and after [`MAX_PUBLISH_ATTEMPTS`]
/// failures it is `failed`, so a release that cannot be published is not
/// retried at every poll for ever.
pub async fn postpone(pool: &DbPool, id: Uuid) -> Result<Postponed, Error> {
    transaction::write(pool, async |conn| {
        let attempts: Option<i32> =
            diesel::update(releases::table.find(id).filter(releases::state.eq(state::SCHEDULED)))
                .set(releases::publish_attempts.eq(releases::publish_attempts + 1))
                .returning(releases::publish_attempts)
                .get_result(conn)
                .await
                .optional()?;
        let Some(attempts) = attempts else {
            return Ok(Postponed::Gone);
        };
        if attempts >= MAX_PUBLISH_ATTEMPTS {
            mark_failed(conn, id, &[]).await?;
            return Ok(Postponed::Failed);
        }
        let at = Utc::now() + retry_delay(attempts);
        diesel::update(releases::table.find(id))
            .set(releases::retry_at.eq(at))
            .execute(conn)
            .await?;
        Ok(Postponed::Until(at))
    })
    .await
}

/// Fails a scheduled release with `conflicts` (empty: it could not be
/// applied), and says so to the webhooks.
pub(crate) async fn mark_failed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    conflicts: &[super::error::ReleaseConflict],
) -> Result<(), Error> {
    let conflicts = serde_json::to_value(conflicts).map_err(|err| Error::Corrupt(err.to_string()))?;
    diesel::update(releases::table.find(id).filter(releases::state.eq(state::SCHEDULED)))
        .set((
            releases::state.eq(state::FAILED),
            releases::conflicts.eq(&conflicts),
            releases::version.eq(releases::version + 1),
            releases::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    release_event(conn, "release.failed", id, serde_json::json!({"conflicts": conflicts})).await
}

/// Adds a release event to the webhook outbox, in the publishing transaction.
pub(crate) async fn release_event(
    conn: &mut AsyncPgConnection,
    event: &str,
    id: Uuid,
    mut data: Value,
) -> Result<(), Error> {
    if let Some(object) = data.as_object_mut() {
        object.insert("release_id".to_owned(), Value::String(id.to_string()));
        object.insert("url".to_owned(), Value::String(format!("/v1/releases/{id}")));
    }
    Ok(super::webhooks::enqueue_event(conn, event, data).await?)
}

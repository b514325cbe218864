//! Webhooks' storage: the endpoints admins register, and the durable outbox
//! of deliveries. A write adds its events to the outbox in its own
//! transaction ([`enqueue_article_event`]), so an event exists exactly when
//! its write committed; the worker (`crate::webhooks`) sends them.

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Jsonb, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use deserr::{Deserr, IntoValue, Sequence as _, Value as Found, ValuePointerRef};
use utoipa::ToSchema;

use crate::content::error::Error;
use crate::content::fields::{BodyErrors, Slug};
use crate::content::kinds::{ArticleStatus, SectionKind};
use crate::content::store::{ArticleRow, StoredSection};
use crate::content::transaction;
use crate::db::DbPool;
use crate::db::schema::{webhook_deliveries, webhook_endpoints};

/// The event of a ping (`POST /v1/webhooks/{id}/ping`).
pub const PING: &str = "webhook.ping";

/// The event that tells a receiver it missed events and should resync
/// (`/v1/sync`): deliveries kept for it while it was disabled were dropped
/// after the retention. Sent whatever the endpoint subscribes to.
pub const SYNC_REQUIRED: &str = "sync.required";

/// Every event an endpoint may subscribe to (or `*` for all).
pub const EVENTS: [&str; 12] = [
    "article.created",
    "article.updated",
    "article.deleted",
    "article.published",
    "article.unpublished",
    "release.published",
    "release.failed",
    "asset.created",
    "asset.updated",
    "asset.deleted",
    PING,
    SYNC_REQUIRED,
];

/// Subscribes to every event.
pub const ALL_EVENTS: &str = "*";

/// The states of a delivery.
pub mod state {
    /// Not yet accepted by the receiver; retried until `failed`.
    pub const PENDING: &str = "pending";
    /// The receiver answered 2xx.
    pub const DELIVERED: &str = "delivered";
    /// Out of attempts, or the receiver answered 410 Gone.
    pub const FAILED: &str = "failed";
}

/// A `webhook_endpoints` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints, check_for_backend(diesel::pg::Pg))]
pub struct EndpointRow {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub secret: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The secret replaced last, which still signs until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub slugs: Option<Vec<String>>,
    pub section_kinds: Option<Vec<String>>,
    pub status: Option<String>,
}

/// A `webhook_deliveries` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
pub struct DeliveryRow {
    pub seq: i64,
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event: String,
    pub payload: serde_json::Value,
    pub article_id: Option<Uuid>,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub leased_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What an endpoint is set to: everything an admin writes.
#[derive(Debug, Clone)]
pub struct EndpointInput {
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    pub filters: Filters,
}

/// Which article events an endpoint gets besides its event names (`None`:
/// no filter). Release events and pings are not filtered.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Only events of these articles.
    pub slugs: Option<Vec<String>>,
    /// Only events that change a section of one of these kinds.
    pub section_kinds: Option<Vec<String>>,
    /// Only events of articles in this status (after the write).
    pub status: Option<String>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = crate::db::schema::webhook_attempts, check_for_backend(diesel::pg::Pg))]
pub struct AttemptRow {
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub response: Option<String>,
}

/// A section a write touched, as an event lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedSection {
    pub kind: String,
    pub id: Uuid,
    /// `created`, `updated` or `deleted`.
    pub change: &'static str,
}

/// The strong entity tag of `article` at `version`: the same string as
/// `routes::etags::etag(Resource::Article, …)` (a unit test there holds them
/// equal; the domain does not import routes).
pub fn article_etag(article: Uuid, version: i64) -> String {
    format!("\"a.{}.{}\"", article.simple(), version)
}

/// The body of an article event: the same for every endpoint it goes to.
pub fn article_event(
    event: &str,
    at: DateTime<Utc>,
    article: &ArticleRow,
    revision_id: Uuid,
    changed: &[ChangedSection],
    sections: &[StoredSection],
    locales: &[String],
) -> serde_json::Value {
    let mut section_ids: Vec<Uuid> = sections.iter().map(|section| section.row.id).collect();
    for change in changed {
        if !section_ids.contains(&change.id) {
            section_ids.push(change.id);
        }
    }
    let surrogate_keys: Vec<String> = std::iter::once(format!("article-{}", article.id.simple()))
        .chain(section_ids.iter().map(|id| format!("section-{}", id.simple())))
        .collect();
    json!({
        "type": event,
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": {
            "article_id": article.id,
            "slug": article.slug,
            "version": article.version,
            "etag": article_etag(article.id, article.version),
            "revision_id": revision_id,
            "changed_sections": changed.iter().map(|section| json!({
                "kind": section.kind,
                "id": section.id,
                "change": section.change,
            })).collect::<Vec<_>>(),
            "surrogate_keys": surrogate_keys,
            "url": format!("/v1/articles/{}", article.slug),
            "status": article.status,
            "locales": locales,
        }
    })
}

/// Adds `payload` to the outbox once for every endpoint subscribed to
/// `event` whose filters let it through (article events: `data.slug`,
/// `data.changed_sections[].kind`, `data.status`), enabled or not: a disabled endpoint's deliveries wait, and are
/// sent in order once it is enabled again (API.md §9; the worker prunes
/// what waits past the retention and sends `sync.required` instead).
/// Called inside the write's transaction. A delivery behind an older
/// pending one of the same endpoint and article is `waiting` (out of the
/// worker's scan until that one is done).
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    event: &str,
    article_id: Option<Uuid>,
    payload: &serde_json::Value,
) -> QueryResult<usize> {
    let added = diesel::sql_query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event, payload, article_id, waiting) \
         SELECT gen_random_uuid(), e.id, $1, $2, $3, EXISTS (SELECT 1 FROM webhook_deliveries o \
             WHERE o.endpoint_id = e.id AND o.article_id = $3 AND o.state = 'pending') \
         FROM webhook_endpoints e \
         WHERE ($1 = ANY (e.events) OR '*' = ANY (e.events)) \
           AND ($3 IS NULL OR ( \
               (e.slugs IS NULL OR $2->'data'->>'slug' = ANY (e.slugs)) \
               AND (e.status IS NULL OR $2->'data'->>'status' = e.status) \
               AND (e.section_kinds IS NULL OR EXISTS ( \
                   SELECT 1 FROM jsonb_array_elements($2->'data'->'changed_sections') c \
                   WHERE c->>'kind' = ANY (e.section_kinds))))) \
         ORDER BY e.id",
    )
    .bind::<Text, _>(event)
    .bind::<Jsonb, _>(payload)
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(article_id)
    .execute(conn)
    .await?;
    if added > 0 {
        wake_workers(conn).await?;
    }
    Ok(added)
}

/// Wakes every node's webhook worker when the caller's transaction commits
/// (deliveries were added or became due): they claim at once instead of at
/// their next poll. One notification per transaction however often called.
pub async fn wake_workers(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_notify($1, '')")
        .bind::<Text, _>(crate::db::WAKE_CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether any endpoint wants `event` (so a write can skip building the body).
/// Adds an event that is not an article's (a release's, an asset's) to the
/// outbox, in the caller's transaction, if an endpoint wants it: `data` is
/// its `data`.
pub async fn enqueue_event(conn: &mut AsyncPgConnection, event: &str, data: serde_json::Value) -> QueryResult<()> {
    if !wanted(conn, event).await? {
        return Ok(());
    }
    let payload = serde_json::json!({
        "type": event,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    });
    enqueue(conn, event, None, &payload).await?;
    Ok(())
}

pub async fn wanted(conn: &mut AsyncPgConnection, event: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        webhook_endpoints::table.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(")
                .bind::<Text, _>(event)
                .sql(" = ANY (events) OR '*' = ANY (events))"),
        ),
    ))
    .get_result(conn)
    .await
}

// ---------------------------------------------------------------------------
// The write body

/// Longest receiver URL.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// An event name, or `*` for all of them.
#[derive(Debug, Clone, Copy, serde::Serialize, ToSchema)]
pub enum WebhookEvent {
    /// An article was created.
    #[serde(rename = "article.created")]
    ArticleCreated,
    /// An article, or any of its sections or items, changed.
    #[serde(rename = "article.updated")]
    ArticleUpdated,
    /// An article was deleted.
    #[serde(rename = "article.deleted")]
    ArticleDeleted,
    /// A draft became published.
    #[serde(rename = "article.published")]
    ArticlePublished,
    /// A published article became a draft.
    #[serde(rename = "article.unpublished")]
    ArticleUnpublished,
    /// A release was published.
    #[serde(rename = "release.published")]
    ReleasePublished,
    /// A release failed.
    #[serde(rename = "release.failed")]
    ReleaseFailed,
    /// An image was uploaded.
    #[serde(rename = "asset.created")]
    AssetCreated,
    /// An asset's metadata changed (each article showing it also gets `article.updated`).
    #[serde(rename = "asset.updated")]
    AssetUpdated,
    /// An asset was deleted.
    #[serde(rename = "asset.deleted")]
    AssetDeleted,
    /// A test event (`POST /v1/webhooks/{id}/ping`).
    #[serde(rename = "webhook.ping")]
    WebhookPing,
    /// Events kept for the endpoint while it was disabled were dropped after
    /// the retention: resync from `/v1/sync` (sent whatever the endpoint
    /// subscribes to).
    #[serde(rename = "sync.required")]
    SyncRequired,
    /// Every event.
    #[serde(rename = "*")]
    All,
}

/// A receiver URL, trimmed, at most [`MAX_URL_CHARS`] characters (whether
/// it may be reached is checked apart, as that needs a DNS lookup).
#[derive(Debug, Clone)]
pub struct ReceiverUrl(pub String);

impl Deserr<BodyErrors> for ReceiverUrl {
    fn deserialize_from_value<V: IntoValue>(value: Found<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let url = String::deserialize_from_value(value, location)?.trim().to_owned();
        if url.chars().count() > MAX_URL_CHARS {
            return Err(BodyErrors::at(
                location,
                format!("must be at most {MAX_URL_CHARS} characters"),
            ));
        }
        Ok(ReceiverUrl(url))
    }
}

/// The events an endpoint subscribes to: known names or `*`, at least one,
/// each once.
#[derive(Debug, Clone)]
pub struct Events(pub Vec<String>);

impl Deserr<BodyErrors> for Events {
    fn deserialize_from_value<V: IntoValue>(value: Found<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let Found::Sequence(names) = value else {
            return Err(BodyErrors::at(location, "must be an array of event names"));
        };
        if names.len() == 0 {
            return Err(BodyErrors::at(location, "must name at least one event, or be [\"*\"]"));
        }
        let mut errors = BodyErrors::default();
        let mut events: Vec<String> = Vec::new();
        for (index, name) in names.into_iter().enumerate() {
            let location = location.push_index(index);
            match name.into_value() {
                Found::String(name) if name == ALL_EVENTS || EVENTS.contains(&name.as_str()) => {
                    if !events.contains(&name) {
                        events.push(name);
                    }
                }
                Found::String(name) => errors.push(
                    location,
                    format!("unknown event {name:?}; known: {}, or \"*\"", EVENTS.join(", ")),
                ),
                _ => errors.push(location, "must be a string"),
            }
        }
        if errors.is_empty() {
            Ok(Events(events))
        } else {
            Err(errors)
        }
    }
}

/// What an endpoint is for: trimmed, at most [`MAX_DESCRIPTION_CHARS`]
/// characters, possibly empty; no control characters but newline and tab.
#[derive(Debug, Clone, Default)]
pub struct Description(pub String);

impl Deserr<BodyErrors> for Description {
    fn deserialize_from_value<V: IntoValue>(value: Found<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let text = String::deserialize_from_value(value, location)?.trim().to_owned();
        if text.chars().count() > MAX_DESCRIPTION_CHARS {
            Err(BodyErrors::at(
                location,
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ))
        } else if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            Err(BodyErrors::at(location, "must not contain control characters"))
        } else {
            Ok(Description(text))
        }
    }
}

/// `true` or `false`.
#[derive(Debug, Clone, Copy)]
pub struct Flag(pub bool);

impl Deserr<BodyErrors> for Flag {
    fn deserialize_from_value<V: IntoValue>(value: Found<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        match value {
            Found::Boolean(flag) => Ok(Flag(flag)),
            _ => Err(BodyErrors::at(location, "must be true or false")),
        }
    }
}

/// What an admin sets on an endpoint (`POST` creates, `PUT` replaces).
#[derive(Debug, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields)]
pub struct WebhookWrite {
    /// Where events are posted: an `http(s)` URL whose host does not resolve
    /// to a loopback, private, link-local or unspecified address.
    #[schema(value_type = String, example = "https://example.com/hooks/lamina", max_length = 2048)]
    pub url: ReceiverUrl,
    /// Event names to send, or `["*"]` for all.
    #[schema(value_type = Vec<WebhookEvent>, example = json!(["article.updated", "article.published"]), min_items = 1)]
    pub events: Events,
    /// What the endpoint is for (default empty).
    #[deserr(default)]
    #[schema(value_type = Option<String>, example = "Purge the CDN", max_length = 500)]
    pub description: Option<Description>,
    /// Whether events are sent (default `true`); re-enabling clears
    /// `disabled_reason` and sends what was kept meanwhile, in order.
    #[deserr(default)]
    #[schema(value_type = Option<bool>, example = true)]
    pub enabled: Option<Flag>,
    /// Only article events of these articles (default: every article).
    #[deserr(default)]
    #[schema(value_type = Option<Vec<String>>, example = json!(["explore-micro-needling-for-flawless-skin-today"]), min_items = 1, max_items = 100)]
    pub slugs: Option<FilterSlugs>,
    /// Only article events that change a section of one of these kinds
    /// (default: any change).
    #[deserr(default)]
    #[schema(value_type = Option<Vec<SectionKind>>, example = json!(["steps", "risks"]), min_items = 1)]
    pub section_kinds: Option<FilterKinds>,
    /// Only article events of articles in this status after the change
    /// (default: either).
    #[deserr(default)]
    #[schema(value_type = Option<ArticleStatus>, example = "published")]
    pub status: Option<ArticleStatus>,
}

/// Most slugs an endpoint may filter by.
pub const MAX_FILTER_SLUGS: usize = 100;

/// The slugs an endpoint filters by: 1 to [`MAX_FILTER_SLUGS`], each once.
#[derive(Debug, Clone)]
pub struct FilterSlugs(pub Vec<String>);

impl Deserr<BodyErrors> for FilterSlugs {
    fn deserialize_from_value<V: IntoValue>(value: Found<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let slugs = Vec::<Slug>::deserialize_from_value(value, location)?;
        if slugs.is_empty() || slugs.len() > MAX_FILTER_SLUGS {
            return Err(BodyErrors::at(
                location,
                format!("must list 1 to {MAX_FILTER_SLUGS} slugs, or be left out for every article"),
            ));
        }
        let mut slugs: Vec<String> = slugs.into_iter().map(|slug| slug.0).collect();
        slugs.sort();
        slugs.dedup();
        Ok(FilterSlugs(slugs))
    }
}

/// The section kinds an endpoint filters by: at least one, each once.
#[derive(Debug, Clone)]
pub struct FilterKinds(pub Vec<String>);

impl Deserr<BodyErrors> for FilterKinds {
    fn deserialize_from_value<V: IntoValue>(value: Found<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let kinds = Vec::<SectionKind>::deserialize_from_value(value, location)?;
        if kinds.is_empty() {
            return Err(BodyErrors::at(
                location,
                "must list at least one section kind, or be left out for any change",
            ));
        }
        let mut kinds: Vec<String> = kinds.iter().map(|kind| kind.as_str().to_owned()).collect();
        kinds.sort();
        kinds.dedup();
        Ok(FilterKinds(kinds))
    }
}

/// Reads a [`WebhookWrite`], reporting every problem at once, with
/// `url_problem` (why its URL may not be reached, found apart) among them.
pub fn parse_write(body: serde_json::Value, url_problem: Option<String>) -> Result<EndpointInput, Error> {
    let mut errors = BodyErrors::default();
    if let Some(problem) = url_problem {
        errors.push(ValuePointerRef::Origin.push_key("url"), problem);
    }
    match deserr::deserialize::<WebhookWrite, _, BodyErrors>(body) {
        Ok(write) if errors.is_empty() => Ok(EndpointInput {
            url: write.url.0,
            events: write.events.0,
            description: write.description.unwrap_or_default().0,
            enabled: write.enabled.is_none_or(|enabled| enabled.0),
            filters: Filters {
                slugs: write.slugs.map(|slugs| slugs.0),
                section_kinds: write.section_kinds.map(|kinds| kinds.0),
                status: write.status.map(|status| status.as_str().to_owned()),
            },
        }),
        Ok(_) => Err(Error::Invalid(errors.into_field_errors())),
        Err(problems) => {
            errors.extend(problems);
            Err(Error::Invalid(errors.into_field_errors()))
        }
    }
}

// ---------------------------------------------------------------------------
// Management

/// The endpoint `id`, or [`Error::WebhookNotFound`].
async fn endpoint(conn: &mut AsyncPgConnection, id: Uuid) -> Result<EndpointRow, Error> {
    webhook_endpoints::table
        .find(id)
        .select(EndpointRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::WebhookNotFound { id })
}

/// The columns an admin sets (on create and on replace alike); a filter left
/// out is stored as NULL.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = webhook_endpoints, treat_none_as_null = true)]
struct EndpointSettings<'a> {
    url: &'a str,
    events: &'a [String],
    description: &'a str,
    enabled: bool,
    slugs: Option<&'a [String]>,
    section_kinds: Option<&'a [String]>,
    status: Option<&'a str>,
}

impl<'a> EndpointSettings<'a> {
    fn of(input: &'a EndpointInput) -> EndpointSettings<'a> {
        EndpointSettings {
            url: &input.url,
            events: &input.events,
            description: &input.description,
            enabled: input.enabled,
            slugs: input.filters.slugs.as_deref(),
            section_kinds: input.filters.section_kinds.as_deref(),
            status: input.filters.status.as_deref(),
        }
    }
}

/// Creates an endpoint with `secret`.
pub async fn create(pool: &DbPool, input: &EndpointInput, secret: &str) -> Result<EndpointRow, Error> {
    transaction::write(pool, async |conn| {
        let now = Utc::now();
        Ok(diesel::insert_into(webhook_endpoints::table)
            .values((
                webhook_endpoints::id.eq(Uuid::new_v4()),
                EndpointSettings::of(input),
                webhook_endpoints::secret.eq(secret),
                webhook_endpoints::created_at.eq(now),
                webhook_endpoints::updated_at.eq(now),
            ))
            .returning(EndpointRow::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// Every endpoint, oldest first.
pub async fn list(pool: &DbPool) -> Result<Vec<EndpointRow>, Error> {
    transaction::read(pool, async |conn| {
        Ok(webhook_endpoints::table
            .order((webhook_endpoints::created_at.asc(), webhook_endpoints::id.asc()))
            .select(EndpointRow::as_select())
            .load(conn)
            .await?)
    })
    .await
}

/// One endpoint.
pub async fn find(pool: &DbPool, id: Uuid) -> Result<EndpointRow, Error> {
    transaction::read(pool, async |conn| endpoint(conn, id).await).await
}

/// Replaces an endpoint's settings; enabling it clears why it was disabled.
pub async fn update(pool: &DbPool, id: Uuid, input: &EndpointInput) -> Result<EndpointRow, Error> {
    transaction::write(pool, async |conn| {
        let row = diesel::update(webhook_endpoints::table.find(id))
            .set((
                EndpointSettings::of(input),
                webhook_endpoints::disabled_reason.eq(None::<String>),
                webhook_endpoints::updated_at.eq(Utc::now()),
            ))
            .returning(EndpointRow::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or(Error::WebhookNotFound { id })?;
        // Enabled again: what it kept is due.
        wake_workers(conn).await?;
        Ok(row)
    })
    .await
}

/// Deletes an endpoint and its deliveries.
pub async fn delete(pool: &DbPool, id: Uuid) -> Result<(), Error> {
    transaction::write(pool, async |conn| {
        match diesel::delete(webhook_endpoints::table.find(id)).execute(conn).await? {
            0 => Err(Error::WebhookNotFound { id }),
            _ => Ok(()),
        }
    })
    .await
}

/// Most deliveries listed at once.
pub const DELIVERIES_LISTED: i64 = 100;
/// Most attempts listed with a delivery (the newest).
pub const ATTEMPTS_LISTED: i64 = 50;

/// Which deliveries of an endpoint to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only deliveries older than this one (its `seq`: the cursor).
    pub before: Option<i64>,
    /// Only deliveries in this state.
    pub state: Option<&'static str>,
    /// Only deliveries of this event.
    pub event: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// A page of an endpoint's deliveries, newest first, each with its newest
/// [`ATTEMPTS_LISTED`] attempts (oldest first); whether more follow.
pub async fn deliveries(
    pool: &DbPool,
    id: Uuid,
    filter: &DeliveryFilter,
) -> Result<(Vec<(DeliveryRow, Vec<AttemptRow>)>, bool), Error> {
    transaction::read(pool, async |conn| {
        endpoint(conn, id).await?;
        let mut query = webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(id))
            .into_boxed();
        if let Some(before) = filter.before {
            query = query.filter(webhook_deliveries::seq.lt(before));
        }
        if let Some(state) = filter.state {
            query = query.filter(webhook_deliveries::state.eq(state));
        }
        if let Some(event) = &filter.event {
            query = query.filter(webhook_deliveries::event.eq(event));
        }
        let mut rows: Vec<DeliveryRow> = query
            .order(webhook_deliveries::seq.desc())
            .limit(filter.limit + 1)
            .select(DeliveryRow::as_select())
            .load(conn)
            .await?;
        let more = rows.len() as i64 > filter.limit;
        rows.truncate(usize::try_from(filter.limit).unwrap_or(0));
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        // The newest attempts of each, in one query.
        let attempts: Vec<AttemptRow> = diesel::sql_query(
            "SELECT delivery_id, attempted_at, duration_ms, status, error, response FROM ( \
                 SELECT a.*, row_number() OVER (PARTITION BY delivery_id ORDER BY id DESC) AS newest \
                 FROM webhook_attempts a WHERE delivery_id = ANY ($1)) ranked \
             WHERE newest <= $2 ORDER BY delivery_id, attempted_at, newest DESC",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&ids)
        .bind::<diesel::sql_types::BigInt, _>(ATTEMPTS_LISTED)
        .load(conn)
        .await?;
        let mut by_delivery: std::collections::HashMap<Uuid, Vec<AttemptRow>> = std::collections::HashMap::new();
        for attempt in attempts {
            by_delivery.entry(attempt.delivery_id).or_default().push(attempt);
        }
        let page = rows
            .into_iter()
            .map(|row| {
                let attempts = by_delivery.remove(&row.id).unwrap_or_default();
                (row, attempts)
            })
            .collect();
        Ok((page, more))
    })
    .await
}

/// Gives an endpoint `secret`; the one it replaces still signs (a second
/// signature) for `overlap`.
pub async fn rotate(pool: &DbPool, id: Uuid, secret: &str, overlap: chrono::TimeDelta) -> Result<EndpointRow, Error> {
    transaction::write(pool, async |conn| {
        let now = Utc::now();
        diesel::update(webhook_endpoints::table.find(id))
            .set((
                webhook_endpoints::previous_secret.eq(webhook_endpoints::secret.nullable()),
                webhook_endpoints::previous_secret_until.eq(now + overlap),
                webhook_endpoints::secret.eq(secret),
                webhook_endpoints::updated_at.eq(now),
            ))
            .returning(EndpointRow::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or(Error::WebhookNotFound { id })
    })
    .await
}

/// Makes a delivery pending again, due now, with a fresh set of attempts
/// (its `webhook-id` stays).
pub async fn retry(pool: &DbPool, id: Uuid, delivery: Uuid) -> Result<DeliveryRow, Error> {
    transaction::write(pool, async |conn| {
        endpoint(conn, id).await?;
        let row = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery))
                .filter(webhook_deliveries::endpoint_id.eq(id)),
        )
        .set((
            webhook_deliveries::state.eq(state::PENDING),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(Utc::now()),
            webhook_deliveries::leased_until.eq(None::<DateTime<Utc>>),
        ))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(Error::DeliveryNotFound { id: delivery })?;
        wake_workers(conn).await?;
        Ok(row)
    })
    .await
}

/// Queues a `webhook.ping` for one endpoint (enabled or not: a ping to a
/// disabled endpoint waits until it is enabled again).
pub async fn ping(pool: &DbPool, id: Uuid) -> Result<DeliveryRow, Error> {
    transaction::write(pool, async |conn| {
        endpoint(conn, id).await?;
        let payload = json!({
            "type": PING,
            "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            "data": { "endpoint_id": id },
        });
        let row = diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::id.eq(Uuid::new_v4()),
                webhook_deliveries::endpoint_id.eq(id),
                webhook_deliveries::event.eq(PING),
                webhook_deliveries::payload.eq(payload),
            ))
            .returning(DeliveryRow::as_returning())
            .get_result(conn)
            .await?;
        wake_workers(conn).await?;
        Ok(row)
    })
    .await
}

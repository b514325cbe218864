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

use crate::content::store::{ArticleRow, StoredSection};
use crate::db::schema::{webhook_deliveries, webhook_endpoints};

/// The event of a ping (`POST /v1/webhooks/{id}/ping`).
pub const PING: &str = "webhook.ping";

/// Every event an endpoint may subscribe to (or `*` for all).
pub const EVENTS: [&str; 8] = [
    "article.created",
    "article.updated",
    "article.deleted",
    "article.published",
    "article.unpublished",
    "release.published",
    "release.failed",
    PING,
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
            "locales": locales,
        }
    })
}

/// Adds `payload` to the outbox once for every enabled endpoint subscribed to
/// `event`. Called inside the write's transaction.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    event: &str,
    article_id: Option<Uuid>,
    payload: &serde_json::Value,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event, payload, article_id) \
         SELECT gen_random_uuid(), id, $1, $2, $3 FROM webhook_endpoints \
         WHERE enabled AND ($1 = ANY (events) OR '*' = ANY (events)) ORDER BY id",
    )
    .bind::<Text, _>(event)
    .bind::<Jsonb, _>(payload)
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(article_id)
    .execute(conn)
    .await
}

/// Whether any enabled endpoint wants `event` (so a write can skip building the body).
pub async fn wanted(conn: &mut AsyncPgConnection, event: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        webhook_endpoints::table.filter(webhook_endpoints::enabled).filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(")
                .bind::<Text, _>(event)
                .sql(" = ANY (events) OR '*' = ANY (events))"),
        ),
    ))
    .get_result(conn)
    .await
}

/// Creates an endpoint with `secret`.
pub async fn create_endpoint(
    conn: &mut AsyncPgConnection,
    input: &EndpointInput,
    secret: &str,
) -> QueryResult<EndpointRow> {
    let now = Utc::now();
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(Uuid::new_v4()),
            webhook_endpoints::url.eq(&input.url),
            webhook_endpoints::events.eq(&input.events),
            webhook_endpoints::description.eq(&input.description),
            webhook_endpoints::secret.eq(secret),
            webhook_endpoints::enabled.eq(input.enabled),
            webhook_endpoints::created_at.eq(now),
            webhook_endpoints::updated_at.eq(now),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
}

/// Every endpoint, oldest first.
pub async fn list_endpoints(conn: &mut AsyncPgConnection) -> QueryResult<Vec<EndpointRow>> {
    webhook_endpoints::table
        .order((webhook_endpoints::created_at.asc(), webhook_endpoints::id.asc()))
        .select(EndpointRow::as_select())
        .load(conn)
        .await
}

/// One endpoint.
pub async fn find_endpoint(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .find(id)
        .select(EndpointRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Replaces an endpoint's settings; enabling it clears why it was disabled.
pub async fn update_endpoint(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    input: &EndpointInput,
) -> QueryResult<Option<EndpointRow>> {
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::url.eq(&input.url),
            webhook_endpoints::events.eq(&input.events),
            webhook_endpoints::description.eq(&input.description),
            webhook_endpoints::enabled.eq(input.enabled),
            webhook_endpoints::disabled_reason.eq(None::<String>),
            webhook_endpoints::updated_at.eq(Utc::now()),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Deletes an endpoint and its deliveries; `false` if there was none.
pub async fn delete_endpoint(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    Ok(diesel::delete(webhook_endpoints::table.find(id)).execute(conn).await? > 0)
}

/// Most deliveries listed at once.
pub const DELIVERIES_LISTED: i64 = 100;

/// The newest [`DELIVERIES_LISTED`] deliveries to an endpoint, newest first.
pub async fn list_deliveries(conn: &mut AsyncPgConnection, endpoint: Uuid) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .order(webhook_deliveries::seq.desc())
        .limit(DELIVERIES_LISTED)
        .select(DeliveryRow::as_select())
        .load(conn)
        .await
}

/// Makes a delivery pending again, due now, with a fresh set of attempts
/// (its `webhook-id` stays). `None` if the endpoint has no such delivery.
pub async fn retry_delivery(
    conn: &mut AsyncPgConnection,
    endpoint: Uuid,
    delivery: Uuid,
) -> QueryResult<Option<DeliveryRow>> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint)),
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
    .optional()
}

/// Queues a `webhook.ping` for one endpoint (enabled or not: a ping to a
/// disabled endpoint waits until it is enabled again).
pub async fn ping(conn: &mut AsyncPgConnection, endpoint: Uuid) -> QueryResult<DeliveryRow> {
    let payload = json!({
        "type": PING,
        "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": { "endpoint_id": endpoint },
    });
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(Uuid::new_v4()),
            webhook_deliveries::endpoint_id.eq(endpoint),
            webhook_deliveries::event.eq(PING),
            webhook_deliveries::payload.eq(payload),
        ))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)
        .await
}

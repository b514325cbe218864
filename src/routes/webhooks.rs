//! `/v1/webhooks`: receivers of change events, managed by admins (delivery:
//! [`crate::webhooks`]; storage: [`crate::content::webhooks`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::paths::{DeliveryPath, WebhookPath};
use super::{NoParams, Query, WebhookProblems, private_json, read_json};
use crate::AppState;
use crate::auth::Admin;
use crate::content::webhooks::{self as store, DeliveryRow, EndpointInput, EndpointRow, MAX_URL_CHARS};
use crate::error::{AppError, Code};

/// A webhook endpoint (its secret is shown only when it is created).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    /// The endpoint's id.
    #[schema(example = "3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e")]
    pub id: Uuid,
    /// Where events are posted.
    #[schema(example = "https://example.com/hooks/lamina")]
    pub url: String,
    /// The event names sent, or `["*"]`.
    #[schema(example = json!(["article.updated"]))]
    pub events: Vec<String>,
    /// What the endpoint is for.
    #[schema(example = "Purge the CDN")]
    pub description: String,
    /// Whether events are sent.
    #[schema(example = true)]
    pub enabled: bool,
    /// Why lamina disabled the endpoint (the receiver answered 410 Gone), if it did.
    #[schema(example = json!(null))]
    pub disabled_reason: Option<String>,
    /// When it was created.
    #[schema(example = "2026-11-25T10:00:00Z")]
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    #[schema(example = "2026-11-25T10:00:00Z")]
    pub updated_at: DateTime<Utc>,
    /// Until when deliveries also carry a signature with the secret replaced
    /// by the last rotation (`POST …/rotate-secret`), if that is still ahead.
    #[schema(example = json!(null))]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Only article events of these articles (null: every article).
    #[schema(example = json!(null))]
    pub slugs: Option<Vec<String>>,
    /// Only article events that change a section of one of these kinds (null: any change).
    #[schema(value_type = Option<Vec<crate::content::SectionKind>>, example = json!(null))]
    pub section_kinds: Option<Vec<String>>,
    /// Only article events of articles in this status (null: either).
    #[schema(value_type = Option<crate::content::kinds::ArticleStatus>, example = json!(null))]
    pub status: Option<String>,
}

impl From<EndpointRow> for Webhook {
    fn from(row: EndpointRow) -> Webhook {
        Webhook {
            id: row.id,
            url: row.url,
            events: row.events,
            description: row.description,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
            previous_secret_expires_at: row
                .previous_secret_until
                .filter(|until| row.previous_secret.is_some() && *until > Utc::now()),
            slugs: row.slugs,
            section_kinds: row.section_kinds,
            status: row.status,
        }
    }
}

/// A new endpoint, with its secret: shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookCreated {
    // The endpoint. (Not a doc comment: it would sit beside the `$ref` in
    // `allOf`, which openapi-generator reads as an inline schema.)
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (`whsec_` + base64 of 32 random bytes), for the
    /// Standard Webhooks verifiers. Not shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// Every endpoint, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookList {
    /// The endpoints.
    pub items: Vec<Webhook>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not yet accepted; attempted again at `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Out of attempts, or the receiver answered 410 Gone.
    Failed,
}

/// One event sent (or to send) to one endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    /// The delivery's id: the `webhook-id` header, the same on every attempt.
    #[schema(example = "6a1f0c2e-8a41-4c3b-9d7e-2f5a1b3c4d5e")]
    pub id: Uuid,
    /// The event name.
    #[schema(example = "article.updated")]
    pub event: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    #[schema(example = 1)]
    pub attempts: i32,
    /// The receiver's status code at the last attempt, if it answered.
    #[schema(example = 200)]
    pub last_status: Option<i32>,
    /// Why the last attempt got no answer, if it did not.
    #[schema(example = json!(null))]
    pub last_error: Option<String>,
    /// When it is attempted next (`pending` only).
    #[schema(example = json!(null))]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the event happened.
    #[schema(example = "2026-11-25T10:00:00Z")]
    pub created_at: DateTime<Utc>,
    /// The JSON body sent (the same on every attempt).
    #[schema(schema_with = payload_schema)]
    pub payload: Value,
    /// Every attempt, oldest first (at most the newest 50); a manual retry adds to it.
    pub attempt_history: Vec<Attempt>,
}

/// One attempt to deliver.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attempt {
    /// When it began.
    #[schema(example = "2026-11-25T10:00:00Z")]
    pub attempted_at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    #[schema(example = 42)]
    pub duration_ms: i32,
    /// The receiver's status code, if it answered.
    #[schema(example = 200)]
    pub status: Option<i32>,
    /// Why there was no answer, if there was none.
    #[schema(example = json!(null))]
    pub error: Option<String>,
    /// The first 1 KiB of the receiver's answer (as text).
    #[schema(example = "ok")]
    pub response: Option<String>,
}

impl From<store::AttemptRow> for Attempt {
    fn from(row: store::AttemptRow) -> Attempt {
        Attempt {
            attempted_at: row.attempted_at,
            duration_ms: row.duration_ms,
            status: row.status,
            error: row.error,
            response: row.response,
        }
    }
}

/// The schema of [`Delivery::payload`]: any event body, with a ping as the example.
fn payload_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("The JSON body sent (the same on every attempt)."))
        .examples([json!({
            "type": "webhook.ping",
            "timestamp": "2026-11-25T10:00:00.000Z",
            "data": {"endpoint_id": "3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e"},
        })])
        .build()
}

impl From<(DeliveryRow, Vec<store::AttemptRow>)> for Delivery {
    fn from((row, attempts): (DeliveryRow, Vec<store::AttemptRow>)) -> Delivery {
        let state = match row.state.as_str() {
            store::state::DELIVERED => DeliveryState::Delivered,
            store::state::FAILED => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        };
        Delivery {
            id: row.id,
            event: row.event,
            state,
            attempts: row.attempts,
            last_status: row.last_status,
            last_error: row.last_error,
            next_attempt_at: matches!(state, DeliveryState::Pending).then_some(row.next_attempt_at),
            created_at: row.created_at,
            payload: row.payload,
            attempt_history: attempts.into_iter().map(Attempt::from).collect(),
        }
    }
}

/// A page of an endpoint's deliveries, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryList {
    /// At most `limit` deliveries.
    pub items: Vec<Delivery>,
    /// Pass as `cursor` for the next (older) page; null on the last.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

/// Query of the deliveries list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListQuery {
    /// Deliveries per page, 1–100 (default 100).
    #[param(minimum = 1, maximum = 100, example = 20)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page; leave out for the first page.
    #[param(pattern = "^d[0-9a-f]{16}$")]
    cursor: Option<String>,
    /// Only deliveries in this state.
    #[param(inline)]
    state: Option<DeliveryState>,
    /// Only deliveries of this event (an event name, not `*`).
    #[param(example = "article.updated")]
    event: Option<String>,
}

impl super::KnownParams for DeliveryListQuery {
    const NAMES: &'static [&'static str] = &["limit", "cursor", "state", "event"];
}

/// A deliveries cursor: `d` and the last listed delivery's `seq` in 16 hex digits.
fn delivery_cursor(seq: i64) -> String {
    format!("d{seq:016x}")
}

fn parse_delivery_cursor(text: &str) -> Option<i64> {
    let hex = text.strip_prefix('d').filter(|hex| hex.len() == 16)?;
    i64::from_str_radix(hex, 16).ok().filter(|seq| *seq > 0)
}

/// Reads a [`store::WebhookWrite`]: its URL is looked up (it must not
/// reach a private address) so that the answer lists that problem too.
async fn parse_write(state: &AppState, body: Value) -> Result<EndpointInput, AppError> {
    let url_problem = match body.get("url").and_then(Value::as_str).map(str::trim) {
        Some(url) if url.chars().count() <= MAX_URL_CHARS => {
            crate::webhooks::check_url(url, state.webhook_allow_private).await.err()
        }
        _ => None,
    };
    Ok(store::parse_write(body, url_problem)?)
}

/// Register a webhook endpoint (admin).
///
/// Answers with the endpoint and its signing `secret`, shown this once.
/// Events are signed per Standard Webhooks (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`).
#[utoipa::path(
    tag = "webhooks",
    request_body(content = store::WebhookWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the secret is shown only now", body = WebhookCreated,
            headers(("Location" = String, description = "The endpoint's URL"))),
        WebhookProblems,
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: Admin,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let input = parse_write(&state, read_json(&req, body).await?).await?;
    let secret = new_secret()?;
    let row = store::create(&state.pool, &input, &secret).await?;
    with_secret(StatusCode::CREATED, row, secret)
}

/// List webhook endpoints, oldest first (admin).
///
/// Every endpoint with its URL, events, filters, `enabled` and description. Secrets are shown
/// only when an endpoint is created or its secret rotated.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every endpoint (without secrets)", body = WebhookList),
        WebhookProblems,
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    _admin: Admin,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let items = store::list(&state.pool).await?;
    private_json(
        StatusCode::OK,
        &WebhookList {
            items: items.into_iter().map(Webhook::from).collect(),
        },
    )
}

/// One webhook endpoint (admin).
///
/// The endpoint's URL, events, filters, `enabled` and description, without its secret (shown
/// only at creation and rotation). Its deliveries are `GET /v1/webhooks/{id}/deliveries`.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoint (without its secret)", body = Webhook),
        WebhookProblems,
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    private_json(StatusCode::OK, &Webhook::from(store::find(&state.pool, id).await?))
}

/// Replace a webhook endpoint's URL, events, description and `enabled` (admin).
///
/// Left-out `description` is empty, left-out `enabled` is `true`. The secret stays.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    request_body(content = store::WebhookWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoint as stored", body = Webhook),
        WebhookProblems,
    )
)]
#[put("/webhooks/{id}")]
pub async fn put_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let input = parse_write(&state, read_json(&req, body).await?).await?;
    private_json(
        StatusCode::OK,
        &Webhook::from(store::update(&state.pool, id, &input).await?),
    )
}

/// Delete a webhook endpoint and its deliveries (admin).
///
/// Removes the endpoint; deliveries still pending for it are dropped with its delivery
/// history, and no further events are sent to it.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    security(("bearer" = [])),
    responses(super::Deleted<WebhookProblems>),
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    store::delete(&state.pool, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An endpoint's deliveries, newest first, with their attempts (admin).
///
/// Pages with `limit` and `cursor`; filters by `state` and `event`.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath, DeliveryListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of deliveries, newest first", body = DeliveryList),
        WebhookProblems,
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    query: Query<DeliveryListQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = super::articles::page_limit(Some(query.limit.unwrap_or(100)))?;
    let before = super::articles::page_cursor(query.cursor.as_deref(), parse_delivery_cursor)?;
    let event = match &query.event {
        Some(event) if !store::EVENTS.contains(&event.as_str()) => {
            return Err(AppError::bad_request(
                Code::InvalidQuery,
                format!("`event` must be one of: {}.", store::EVENTS.join(", ")),
            ));
        }
        event => event.clone(),
    };
    let filter = store::DeliveryFilter {
        before,
        state: query.state.map(|wanted| match wanted {
            DeliveryState::Pending => store::state::PENDING,
            DeliveryState::Delivered => store::state::DELIVERED,
            DeliveryState::Failed => store::state::FAILED,
        }),
        event,
        limit: i64::from(limit),
    };
    let (page, more) = store::deliveries(&state.pool, id, &filter).await?;
    let next_cursor = super::articles::next_cursor(more, page.last(), |(row, _)| delivery_cursor(row.seq));
    private_json(
        StatusCode::OK,
        &DeliveryList {
            items: page.into_iter().map(Delivery::from).collect(),
            next_cursor,
        },
    )
}

/// Rotate an endpoint's signing secret (admin).
///
/// Answers with the endpoint and its new `secret`, shown this once. For
/// `LAMINA_WEBHOOK_ROTATION_HOURS` (24) deliveries carry two signatures,
/// `v1,<new> v1,<old>`, so receivers can switch without missing an event.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rotated; the new secret is shown only now", body = WebhookCreated),
        WebhookProblems,
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let secret = new_secret()?;
    let row = store::rotate(&state.pool, id, &secret, state.webhook_rotation).await?;
    with_secret(StatusCode::OK, row, secret)
}

/// A new signing secret (500 if the system has no randomness to give).
fn new_secret() -> Result<String, AppError> {
    crate::webhooks::new_secret().map_err(|err| AppError::Internal(format!("no randomness: {err}")))
}

/// The endpoint `row` with its new `secret`, shown this once (with its `Location` when created).
fn with_secret(status: StatusCode, row: EndpointRow, secret: String) -> Result<HttpResponse, AppError> {
    let id = row.id;
    super::private_resource(
        status,
        None,
        || format!("/v1/webhooks/{id}"),
        &WebhookCreated {
            webhook: row.into(),
            secret,
        },
    )
}

/// Send a delivery again (admin): pending at once, with a fresh set of attempts and the same `webhook-id`.
///
/// For a delivery that failed or that the receiver mishandled: it becomes pending at once,
/// with a fresh set of attempts, keeping its earlier attempts in its history. It keeps its
/// `webhook-id`, so a receiver that deduplicates by id sees the same event.
#[utoipa::path(
    tag = "webhooks",
    params(DeliveryPath),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued again", body = Delivery),
        WebhookProblems,
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    _admin: Admin,
    DeliveryPath { id, delivery_id }: DeliveryPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let row = store::retry(&state.pool, id, delivery_id).await?;
    private_json(StatusCode::ACCEPTED, &Delivery::from((row, Vec::new())))
}

/// Send a `webhook.ping` event to an endpoint (admin).
///
/// Queues a `webhook.ping` event, signed and delivered like any other, to check the
/// endpoint's URL and secret. The answer is the queued delivery; follow it in `GET
/// /v1/webhooks/{id}/deliveries`.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued; follow it in the deliveries", body = Delivery),
        WebhookProblems,
    )
)]
#[post("/webhooks/{id}/ping")]
pub async fn ping_webhook(
    state: web::Data<AppState>,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let row = store::ping(&state.pool, id).await?;
    private_json(StatusCode::ACCEPTED, &Delivery::from((row, Vec::new())))
}

#[cfg(test)]
mod tests {
    use crate::content::Resource;

    #[test]
    fn the_event_etag_is_the_articles() {
        let id = uuid::Uuid::new_v4();
        assert_eq!(
            crate::content::webhooks::article_etag(id, 7),
            super::super::etags::etag(Resource::Article, crate::content::Version { id, version: 7 })
        );
    }
}

//! `/v1/webhooks`: receivers of change events, managed by admins (delivery:
//! [`crate::webhooks`]; storage: [`crate::content::webhooks`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::paths::{DeliveryPath, WebhookPath, delivery_not_found, webhook_not_found};
use super::{NoParams, ProblemResponses, Query, read_json};
use crate::AppState;
use crate::auth::Admin;
use crate::content::webhooks::{self as store, ALL_EVENTS, DeliveryRow, EVENTS, EndpointInput, EndpointRow};
use crate::error::{AppError, FieldError, Problem};

/// Longest receiver URL.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// What an admin sets on an endpoint (`POST` creates, `PUT` replaces).
#[derive(Debug, Clone, ToSchema)]
#[expect(
    dead_code,
    reason = "documents the body, which is read field by field to report every problem"
)]
pub struct WebhookWrite {
    /// Where events are posted: an `http(s)` URL whose host does not resolve
    /// to a loopback, private, link-local or unspecified address.
    #[schema(example = "https://example.com/hooks/lamina", max_length = 2048)]
    url: String,
    /// Event names to send, or `["*"]` for all.
    #[schema(example = json!(["article.updated", "article.published"]), min_items = 1)]
    events: Vec<WebhookEvent>,
    /// What the endpoint is for (default empty).
    #[schema(example = "Purge the CDN", max_length = 500)]
    description: Option<String>,
    /// Whether events are sent (default `true`); re-enabling clears `disabled_reason`.
    #[schema(example = true)]
    enabled: Option<bool>,
}

/// An event name, or `*` for all of them.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
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
    /// A test event (`POST /v1/webhooks/{id}/ping`).
    #[serde(rename = "webhook.ping")]
    WebhookPing,
    /// Every event.
    #[serde(rename = "*")]
    All,
}

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
        }
    }
}

/// A new endpoint, with its secret: shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookCreated {
    /// The endpoint.
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
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
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

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Delivery {
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
        }
    }
}

/// The newest deliveries of an endpoint, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryList {
    /// At most 100 deliveries.
    pub items: Vec<Delivery>,
}

/// The failures of the webhook routes.
#[derive(utoipa::IntoResponses)]
pub enum WebhookProblems {
    /// Malformed JSON, or an unknown query parameter.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// No token, or an unknown, expired or revoked one (`WWW-Authenticate: Bearer`).
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token is not an admin's.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such endpoint (`webhook_not_found`) or delivery (`delivery_not_found`).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// The body is larger than 256 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// The body breaks the rules (a URL that is not `http(s)` or resolves to a
    /// private address, an unknown event); `errors` lists every problem.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
    /// Too many writes by this token, or failed authentications from this address; see `Retry-After` and `RateLimit-*`.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Problem),
}

fn problem(pointer: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// Reads a [`WebhookWrite`], reporting every problem at once.
async fn parse_write(body: &Value, allow_private: bool) -> Result<EndpointInput, AppError> {
    let Some(object) = body.as_object() else {
        return Err(AppError::Validation(vec![problem("", "must be a JSON object")]));
    };
    let mut errors = Vec::new();
    for name in object.keys() {
        if !["url", "events", "description", "enabled"].contains(&name.as_str()) {
            errors.push(problem(
                &format!("/{}", name.replace('~', "~0").replace('/', "~1")),
                "unknown field",
            ));
        }
    }
    let url = match object.get("url") {
        None => {
            errors.push(problem("/url", "is required"));
            String::new()
        }
        Some(Value::String(url)) => {
            let url = url.trim().to_owned();
            if url.chars().count() > MAX_URL_CHARS {
                errors.push(problem("/url", format!("must be at most {MAX_URL_CHARS} characters")));
            } else if let Err(reason) = crate::webhooks::check_url(&url, allow_private).await {
                errors.push(problem("/url", reason));
            }
            url
        }
        Some(_) => {
            errors.push(problem("/url", "must be a string"));
            String::new()
        }
    };
    let mut events = Vec::new();
    match object.get("events") {
        None => errors.push(problem("/events", "is required")),
        Some(Value::Array(names)) if names.is_empty() => {
            errors.push(problem("/events", "must name at least one event, or be [\"*\"]"));
        }
        Some(Value::Array(names)) => {
            for (index, name) in names.iter().enumerate() {
                match name.as_str() {
                    Some(name) if name == ALL_EVENTS || EVENTS.contains(&name) => {
                        if !events.iter().any(|known| known == name) {
                            events.push(name.to_owned());
                        }
                    }
                    Some(name) => errors.push(problem(
                        &format!("/events/{index}"),
                        format!("unknown event {name:?}; known: {}, or \"*\"", EVENTS.join(", ")),
                    )),
                    None => errors.push(problem(&format!("/events/{index}"), "must be a string")),
                }
            }
        }
        Some(_) => errors.push(problem("/events", "must be an array of event names")),
    }
    let description = match object.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => {
            let text = text.trim();
            if text.chars().count() > MAX_DESCRIPTION_CHARS {
                errors.push(problem(
                    "/description",
                    format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
                ));
            } else if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                errors.push(problem("/description", "must not contain control characters"));
            }
            text.to_owned()
        }
        Some(_) => {
            errors.push(problem("/description", "must be a string"));
            String::new()
        }
    };
    let enabled = match object.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(enabled)) => *enabled,
        Some(_) => {
            errors.push(problem("/enabled", "must be true or false"));
            true
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(EndpointInput {
        url,
        events,
        description,
        enabled,
    })
}

fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .content_type("application/json")
        .body(serde_json::to_vec(value)?))
}

/// Register a webhook endpoint (admin).
///
/// Answers with the endpoint and its signing `secret`, shown this once.
/// Events are signed per Standard Webhooks (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`).
#[utoipa::path(
    tag = "webhooks",
    request_body(content = WebhookWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the secret is shown only now", body = WebhookCreated,
            headers(("Location" = String, description = "The endpoint's URL"))),
        WebhookProblems,
        ProblemResponses,
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
    let body = read_json(&req, body).await?;
    let input = parse_write(&body, state.webhook_allow_private).await?;
    let secret = crate::webhooks::new_secret().map_err(|err| AppError::Internal(format!("no randomness: {err}")))?;
    let mut conn = state.pool.get().await?;
    let row = store::create_endpoint(&mut conn, &input, &secret).await?;
    let location = format!("/v1/webhooks/{}", row.id);
    let mut response = json_response(
        StatusCode::CREATED,
        &WebhookCreated {
            webhook: row.into(),
            secret,
        },
    )?;
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(actix_web::http::header::LOCATION, value);
    }
    Ok(response)
}

/// List webhook endpoints, oldest first (admin).
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every endpoint (without secrets)", body = WebhookList),
        WebhookProblems,
        ProblemResponses,
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    _admin: Admin,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let items = store::list_endpoints(&mut conn).await?;
    json_response(
        StatusCode::OK,
        &WebhookList {
            items: items.into_iter().map(Webhook::from).collect(),
        },
    )
}

/// One webhook endpoint (admin).
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoint (without its secret)", body = Webhook),
        WebhookProblems,
        ProblemResponses,
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    let row = store::find_endpoint(&mut conn, id)
        .await?
        .ok_or_else(|| webhook_not_found(id))?;
    json_response(StatusCode::OK, &Webhook::from(row))
}

/// Replace a webhook endpoint's URL, events, description and `enabled` (admin).
///
/// Left-out `description` is empty, left-out `enabled` is `true`. The secret stays.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    request_body(content = WebhookWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoint as stored", body = Webhook),
        WebhookProblems,
        ProblemResponses,
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
    let body = read_json(&req, body).await?;
    let input = parse_write(&body, state.webhook_allow_private).await?;
    let mut conn = state.pool.get().await?;
    let row = store::update_endpoint(&mut conn, id, &input)
        .await?
        .ok_or_else(|| webhook_not_found(id))?;
    json_response(StatusCode::OK, &Webhook::from(row))
}

/// Delete a webhook endpoint and its deliveries (admin).
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        WebhookProblems,
        ProblemResponses,
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    if !store::delete_endpoint(&mut conn, id).await? {
        return Err(webhook_not_found(id));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The newest deliveries to an endpoint, newest first (admin).
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "At most 100 deliveries, newest first", body = DeliveryList),
        WebhookProblems,
        ProblemResponses,
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    store::find_endpoint(&mut conn, id)
        .await?
        .ok_or_else(|| webhook_not_found(id))?;
    let items = store::list_deliveries(&mut conn, id).await?;
    json_response(
        StatusCode::OK,
        &DeliveryList {
            items: items.into_iter().map(Delivery::from).collect(),
        },
    )
}

/// Send a delivery again (admin): pending at once, with a fresh set of attempts and the same `webhook-id`.
#[utoipa::path(
    tag = "webhooks",
    params(DeliveryPath),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued again", body = Delivery),
        WebhookProblems,
        ProblemResponses,
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    _admin: Admin,
    DeliveryPath { id, delivery_id }: DeliveryPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    store::find_endpoint(&mut conn, id)
        .await?
        .ok_or_else(|| webhook_not_found(id))?;
    let row = store::retry_delivery(&mut conn, id, delivery_id)
        .await?
        .ok_or_else(|| delivery_not_found(delivery_id))?;
    json_response(StatusCode::ACCEPTED, &Delivery::from(row))
}

/// Send a `webhook.ping` event to an endpoint (admin).
#[utoipa::path(
    tag = "webhooks",
    params(WebhookPath),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued; follow it in the deliveries", body = Delivery),
        WebhookProblems,
        ProblemResponses,
    )
)]
#[post("/webhooks/{id}/ping")]
pub async fn ping_webhook(
    state: web::Data<AppState>,
    _admin: Admin,
    WebhookPath { id }: WebhookPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let mut conn = state.pool.get().await?;
    store::find_endpoint(&mut conn, id)
        .await?
        .ok_or_else(|| webhook_not_found(id))?;
    let row = store::ping(&mut conn, id).await?;
    json_response(StatusCode::ACCEPTED, &Delivery::from(row))
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

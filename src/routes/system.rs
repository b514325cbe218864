//! Operations: liveness, readiness and metrics.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{AppError, PROBLEM_JSON, Problem};
use crate::request_id::RequestId;

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` (alive) or `ready` (database reachable).
    #[schema(example = "ok")]
    pub status: String,
}

fn health(status: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(Health {
            status: status.to_owned(),
        })
}

/// Liveness: the process answers.
///
/// Answers 200 with status `ok` whenever the process serves HTTP. It does not touch the
/// database: use it as a liveness probe (restart the process when it fails) and `/readyz` to
/// decide whether to send traffic.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    health("ok")
}

/// Readiness: the database answers within 2 seconds.
///
/// Runs `SELECT 1` on a pooled connection: 200 with status `ready` when the database answers
/// within 2 seconds, otherwise 503 `application/problem+json` with `Retry-After` and a
/// `detail` saying why (for the private cluster, that its supervisor is restarting it). Use
/// it as a readiness probe: take the node out of rotation while it fails.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>, request_id: RequestId) -> Result<HttpResponse, AppError> {
    // Say why the database cannot answer when the private cluster's supervisor
    // knows (it is restarting the server), without waiting for a timeout.
    if let Some(reason) = state.cluster.as_ref().and_then(|cluster| cluster.problem()) {
        return Ok(not_ready(reason, request_id));
    }
    let check = async {
        let mut conn = state.pool.get().await?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await?;
        Ok::<_, AppError>(())
    };
    match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(())) => Ok(health("ready")),
        Ok(Err(err)) => Err(AppError::Unavailable(format!("readiness: {err}"))),
        Err(_) => Err(AppError::Unavailable(
            "readiness: the database did not answer in time".to_owned(),
        )),
    }
}

/// The 503 problem of `/readyz`, its `detail` saying why.
fn not_ready(reason: String, request_id: RequestId) -> HttpResponse {
    let mut problem = AppError::Unavailable(String::new()).problem();
    problem.detail = format!("Not ready: {reason}.");
    problem.request_id = Some(request_id.0);
    HttpResponse::ServiceUnavailable()
        .content_type(PROBLEM_JSON)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
        .body(serde_json::to_vec(&problem).unwrap_or_default())
}

/// Metrics in the Prometheus (OpenMetrics) text format.
///
/// Counters and histograms for Prometheus: requests by route, method and status, latency, the
/// connection pool, the response cache and the webhook outbox (depth, oldest pending age,
/// attempts by outcome, disabled endpoints). Like the other operations routes it needs no
/// token, and it is answered with `Cache-Control: no-store`.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Requests by route, method and status; latency; pool; cache",
        body = String, content_type = "application/openmetrics-text"))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render(&state.pool, &state.cache))
}

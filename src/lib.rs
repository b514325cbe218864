//! lamina: a headless content API serving articles as typed sections.
//!
//! [`build_app`] is the whole HTTP application; `main` and every test use it.

pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod content;
pub mod db;
pub mod error;
pub mod framing;
pub mod limits;
pub mod logging;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod releases;
pub mod repeat;
pub mod request_id;
pub mod routes;
pub mod server;
pub mod studio;
pub mod webhooks;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::HeaderValue;
use actix_web::{App, HttpMessage, web};
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, UtoipaApp};
use utoipa_swagger_ui::SwaggerUi;

use crate::db::DbPool;
use crate::routes::caching::CachePolicy;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Database connections.
    pub pool: DbPool,
    /// Caching headers of public responses.
    pub cache_policy: CachePolicy,
    /// Revisions kept per article.
    pub revisions_keep: i64,
    /// Days the change log keeps a change.
    pub sync_keep_days: i32,
    /// Days a deleted article stays restorable.
    pub trash_keep_days: i32,
    /// Public read responses, ready to send.
    pub cache: std::sync::Arc<cache::RepresentationCache>,
    /// Origins allowed by CORS; empty for any.
    pub cors_origins: Vec<String>,
    /// What `/metrics` reports.
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// Rate limits of failed authentication and of writes.
    pub limits: std::sync::Arc<limits::Limits>,
    /// Longest wait for a request body.
    pub body_timeout: std::time::Duration,
    /// The private cluster's supervisor's view, for readiness; `None` with `DATABASE_URL`.
    pub cluster: Option<std::sync::Arc<db::cluster::ClusterHealth>>,
    /// Whether webhook URLs may name loopback, private or link-local addresses.
    pub webhook_allow_private: bool,
    /// How long a rotated-out webhook secret still signs.
    pub webhook_rotation: chrono::TimeDelta,
    /// "Now", for validating what clients send.
    pub clock: clock::Clock,
    /// The configured locales, as this node last read them.
    pub locales: std::sync::Arc<content::locales::LocaleRegistry>,
    /// Uploaded images: where they are kept, the upload limit, the image work.
    pub media: std::sync::Arc<media::Media>,
}

impl AppState {
    /// The actor of a write by the token `name` under `request_id`, with this server's retention settings.
    pub fn actor(&self, name: String, request_id: String) -> content::write::Actor {
        content::write::Actor {
            name,
            request_id,
            revisions_keep: self.revisions_keep,
            sync_keep_days: self.sync_keep_days,
            trash_keep_days: self.trash_keep_days,
        }
    }

    /// State for `config`, drawing connections from `pool`.
    pub fn new(pool: DbPool, config: &config::Config) -> AppState {
        let public = HeaderValue::from_str(&config.public_cache_control())
            .unwrap_or(HeaderValue::from_static("public, max-age=60"));
        AppState {
            pool,
            cache_policy: CachePolicy { public },
            revisions_keep: i64::from(config.revisions_keep),
            sync_keep_days: i32::try_from(config.sync_keep_days).unwrap_or(i32::MAX),
            trash_keep_days: i32::try_from(config.trash_keep_days).unwrap_or(i32::MAX),
            cache: std::sync::Arc::new(cache::RepresentationCache::new(config.cache_max_bytes)),
            metrics: std::sync::Arc::default(),
            limits: std::sync::Arc::new(limits::Limits::with_searches(
                config.auth_failures_per_minute,
                config.writes_per_minute,
                config.searches_per_minute,
                config.trusted_proxies.0.clone(),
                config.trusted_proxy_header,
            )),
            body_timeout: std::time::Duration::from_secs(config.body_timeout_secs),
            cluster: None,
            webhook_allow_private: config.webhook_allow_private,
            webhook_rotation: chrono::TimeDelta::hours(i64::from(config.webhook_rotation_hours)),
            clock: clock::Clock::system(),
            locales: std::sync::Arc::default(),
            media: std::sync::Arc::new(media::Media::new(
                media::Store::from_config(config),
                config.asset_max_bytes,
                config.asset_cache_max_bytes,
            )),
            cors_origins: config
                .cors_origins
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty() && *origin != "*")
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// CORS for browser front ends: reads and writes from the allowed origins, with
/// the validators (`ETag`) and ids they need exposed.
fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD", "PUT", "DELETE", "POST"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::CONTENT_TYPE,
            header::HeaderName::from_static(request_id::HEADER),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LAST_MODIFIED,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            header::HeaderName::from_static("ratelimit-limit"),
            header::HeaderName::from_static("ratelimit-remaining"),
            header::HeaderName::from_static("ratelimit-reset"),
            header::HeaderName::from_static(request_id::HEADER),
        ])
        .max_age(3600);
    if origins.is_empty() {
        cors = cors.allow_any_origin();
    }
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Takes `Access-Control-Expose-Headers` off the answer to a request without
/// `Origin`: only a browser's cross-origin request reads it, and actix-cors
/// adds it to every answer (about 180 bytes each). `Vary: Origin` keeps a
/// shared cache from giving such an answer to a browser.
fn expose_to_browsers_only<B>(response: &mut ServiceResponse<B>) {
    use actix_web::http::header;
    if !response.request().headers().contains_key(header::ORIGIN) {
        response.headers_mut().remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
}

/// The documented API routes on `app`, collecting their spec.
pub fn api_app<T>(app: App<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/v1").configure(routes::configure))
        .service(routes::system::healthz)
        .service(routes::system::readyz)
        .service(routes::system::metrics)
}

/// The whole application: API routes, spec and docs, JSON errors, request logs.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors(&state.cors_origins);
    let metrics = state.metrics.clone();
    // Per worker: the application is built on each worker's thread.
    let repeats = std::rc::Rc::new(repeat::Repeats::new(state.cache.clone(), state.locales.clone()));
    let app = App::new().app_data(web::Data::new(state));
    let (app, api) = api_app(app).split_for_parts();
    let route_table = routes::RouteTable::from_openapi(&api);
    app.app_data(web::Data::new(route_table))
        .route("/docs", web::get().to(routes::docs_redirect))
        .service(SwaggerUi::new("/docs/{_:.*}").external_url_unchecked("/openapi.json", openapi::finish(&api)))
        .configure(studio::configure)
        .default_service(web::to(routes::fallback))
        .wrap(actix_web::middleware::Compress::default())
        // Problem documents carry the request id (given by the outer layer).
        .wrap_fn(|req, srv| {
            let response = actix_web::dev::Service::call(srv, req);
            async move {
                let mut response = response.await?.map_into_boxed_body();
                routes::caching::unmark_as_is(&mut response);
                let docs = response.request().path().starts_with("/docs/");
                if docs {
                    response = routes::missing_docs_file(response);
                }
                let problem = response
                    .response()
                    .error()
                    .and_then(|err| err.as_error::<error::AppError>())
                    .map(|err| {
                        let id = response.request().extensions().get::<request_id::RequestId>().cloned();
                        err.to_response(id.as_ref().map(|id| id.0.as_str()))
                    });
                let mut response = match problem {
                    Some(problem) => response.into_response(problem),
                    None => response,
                };
                if docs {
                    routes::secure_docs(&mut response);
                }
                Ok(response)
            }
        })
        .wrap(cors)
        // Outermost: the request id, metrics, the access log, problem+json for
        // what CORS refuses; and HEAD, which is GET without the body, routed
        // as GET (actix drops the body; logs and metrics still say HEAD).
        // A repeat of a request the representation cache answered is answered
        // here again while that answer holds (`repeat`), with the same id,
        // metrics and access line.
        .wrap_fn(move |mut req, srv| {
            let id = request_id::of(&req);
            let (started, method) = metrics::start(&req);
            let head = req.method() == Method::HEAD;
            if head {
                req.head_mut().method = Method::GET;
            }
            let metrics = metrics.clone();
            let repeats = repeats.clone();
            let call = match repeats.answer(&req, method) {
                Some((response, series)) => Ok((ServiceResponse::new(req.into_parts().0, response), Some(series))),
                None => {
                    request_id::attach(&req, &id);
                    Err(actix_web::dev::Service::call(srv, req))
                }
            };
            async move {
                let (mut response, series) = match call {
                    Ok(repeated) => repeated,
                    Err(response) => {
                        let mut response = response.await?.map_into_boxed_body();
                        expose_to_browsers_only(&mut response);
                        (repeats.remember(response, method, &metrics), None)
                    }
                };
                let refused = response
                    .response()
                    .error()
                    .and_then(|err| err.as_error::<actix_cors::CorsError>())
                    .map(|err| {
                        error::AppError::bad_request(error::Code::CorsRequestRefused, format!("CORS: {err}."))
                            .to_response(Some(&id))
                    });
                if let Some(problem) = refused {
                    response = response.into_response(problem);
                }
                let elapsed = started.elapsed();
                match &series {
                    Some(series) => metrics::observe_in(series, elapsed),
                    None => metrics.observe(&response, method, elapsed),
                }
                if logging::access_enabled() {
                    log_access(&response, head, elapsed, &id);
                }
                request_id::echo(&mut response, id);
                Ok(response)
            }
        })
}

/// The access line of a request: `<client address> "<request line>" <status>
/// <body bytes, - while unknown> <milliseconds to the response head>ms id=<request id>`.
/// Built by appending, not through `format!`: it is written for every request.
fn log_access<B: MessageBody>(response: &ServiceResponse<B>, head: bool, elapsed: std::time::Duration, id: &str) {
    use actix_web::body::BodySize;
    use actix_web::http::Version;
    use logging::push_decimal;
    use std::fmt::Write as _;
    let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
    let req = response.request();
    logging::access(|line| {
        match req.peer_addr().map(|address| address.ip()) {
            Some(std::net::IpAddr::V4(ip)) => {
                for (n, octet) in ip.octets().into_iter().enumerate() {
                    if n > 0 {
                        line.push('.');
                    }
                    push_decimal(line, u64::from(octet));
                }
            }
            Some(ip) => {
                let _ = write!(line, "{ip}");
            }
            None => line.push('-'),
        }
        line.push_str(" \"");
        line.push_str(if head { "HEAD" } else { req.method().as_str() });
        line.push(' ');
        push_escaped(line, req.path());
        if !req.query_string().is_empty() {
            line.push('?');
            push_escaped(line, req.query_string());
        }
        line.push_str(match req.version() {
            Version::HTTP_09 => " HTTP/0.9\" ",
            Version::HTTP_10 => " HTTP/1.0\" ",
            Version::HTTP_11 => " HTTP/1.1\" ",
            Version::HTTP_2 => " HTTP/2.0\" ",
            Version::HTTP_3 => " HTTP/3.0\" ",
            _ => " HTTP/?\" ",
        });
        push_decimal(line, u64::from(response.status().as_u16()));
        line.push(' ');
        match response.response().body().size() {
            BodySize::None => line.push('0'),
            BodySize::Sized(bytes) => push_decimal(line, bytes),
            BodySize::Stream => line.push('-'),
        }
        line.push(' ');
        push_decimal(line, nanos / 1_000_000);
        line.push('.');
        let fraction = nanos % 1_000_000;
        for scale in [100_000, 10_000, 1_000, 100, 10, 1] {
            line.push(char::from(b'0' + ((fraction / scale) % 10) as u8));
        }
        line.push_str("ms id=");
        line.push_str(id);
    });
}

/// Appends client-sent text to the access line with `"` and `\` escaped, so
/// the quoted request field cannot be ended early (the HTTP parser already
/// refuses control characters in the target).
fn push_escaped(line: &mut String, text: &str) {
    if memchr::memchr2(b'"', b'\\', text.as_bytes()).is_none() {
        line.push_str(text);
        return;
    }
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            line.push('\\');
        }
        line.push(c);
    }
}

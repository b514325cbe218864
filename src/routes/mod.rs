//! HTTP routes, one file per resource, plus what they share: the reader
//! extractor, JSON errors for actix's own failures, 404/405 for unknown routes.

pub mod articles;
pub mod caching;
pub mod sections;

use std::future::{Ready, ready};

use actix_web::dev::{Payload, ResourceDef};
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use utoipa::IntoResponses;
use utoipa::openapi::OpenApi;
use uuid::Uuid;

use crate::content::store::Visibility;
use crate::error::{AppError, Problem};

/// Registers every documented route; mounted under `/v1`.
pub fn configure(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(articles::list_articles)
        .service(articles::get_article)
        .service(sections::list_sections)
        .service(sections::get_section)
        .service(sections::get_item);
}

/// Responses every operation can give.
#[derive(IntoResponses)]
pub enum ProblemResponses {
    /// The database is unreachable; retry after `Retry-After` seconds.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Who is reading. Drafts are visible to authenticated readers only.
#[derive(Debug, Clone)]
pub enum Reader {
    /// No `Authorization` header.
    Anonymous,
}

impl Reader {
    /// Which articles this reader may see.
    pub fn visibility(&self) -> Visibility {
        match self {
            Reader::Anonymous => Visibility::Published,
        }
    }

    /// Whether responses are personal (and so `private, no-store`).
    pub fn is_authenticated(&self) -> bool {
        !matches!(self, Reader::Anonymous)
    }
}

impl FromRequest for Reader {
    type Error = AppError;
    type Future = Ready<Result<Reader, AppError>>;

    fn from_request(_req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Reader::Anonymous))
    }
}

/// `Surrogate-Key` value: the article and each section shown.
pub fn surrogate_keys(article: Uuid, sections: impl IntoIterator<Item = Uuid>) -> String {
    std::iter::once(format!("article-{}", article.simple()))
        .chain(sections.into_iter().map(|id| format!("section-{}", id.simple())))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every route path with its methods, to tell 405 from 404.
#[derive(Debug, Default)]
pub struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    /// The routes of the spec, plus the undocumented ones (spec and docs).
    pub fn from_openapi(api: &OpenApi) -> RouteTable {
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                ];
                (
                    ResourceDef::new(path.as_str()),
                    methods.into_iter().filter(|(_, on)| *on).map(|(m, _)| m).collect(),
                )
            })
            .collect();
        for path in ["/openapi.json", "/docs", "/docs/{tail:.*}"] {
            routes.push((ResourceDef::new(path), vec![Method::GET]));
        }
        RouteTable(routes)
    }

    /// The `Allow` value for `path`, if any route has that path.
    pub fn allow(&self, path: &str) -> Option<String> {
        let methods: Vec<&Method> = self
            .0
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods)
            .collect();
        if methods.is_empty() {
            return None;
        }
        let mut names: Vec<&str> = methods.iter().map(|method| method.as_str()).collect();
        if names.contains(&"GET") {
            names.push("HEAD");
        }
        names.sort_unstable();
        names.dedup();
        Some(names.join(", "))
    }
}

/// The default service: 405 with `Allow` for a known path, 404 otherwise.
pub async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> Result<HttpResponse, AppError> {
    match routes.allow(req.path()) {
        Some(allow) => Err(AppError::MethodNotAllowed { allow }),
        None => Err(AppError::not_found(
            "route_not_found",
            format!("There is no route {:?}; see /docs/ for the API.", req.path()),
        )),
    }
}

/// `/docs` → `/docs/` (Swagger UI's relative links need the slash).
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

/// Answers malformed query strings with problem+json.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        AppError::bad_request("invalid_query", format!("The query string is invalid: {err}.")).into()
    })
}

/// Answers malformed path segments with problem+json.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        AppError::not_found("route_not_found", format!("The path is invalid: {err}.")).into()
    })
}

//! The OpenAPI document. Paths come from the routes themselves (registered
//! through utoipa-actix-web); this adds what is global.

use utoipa::OpenApi;

mod examples;

/// Global parts of the spec: info, tags, shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "lamina",
        description = "A headless content API: articles stored as typed sections (steps, benefits, \
            expectations, aftercare tips, target audiences, risks, overview, conclusion) and served as \
            JSON. Reads of published content are public and cacheable (strong ETags, 304s). Every error \
            is `application/problem+json` with a stable `code`.\n\n\
            **Compatibility.** Within `/v1`, lamina may add response fields, optional request fields \
            and query parameters, section kinds and item kinds, problem codes, enum values, routes and \
            headers; removing or renaming any of these, changing a type or making an optional request \
            field required would be `/v2`. Clients must ignore fields they do not know, treat an \
            unknown problem `code` by its `status`, and skip (or keep raw) a section or item whose \
            `kind` they do not know. The README gives generator settings that do so.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "articles", description = "Whole articles and the article list"),
        (name = "sections", description = "Single typed sections and their items"),
        (name = "revisions", description = "The history of an article, for editors"),
        (name = "search", description = "Full-text search over every text, each hit pointing at the section or item that matched"),
        (name = "sync", description = "The change feed: an initial sync, then the changes since a cursor"),
        (name = "webhooks", description = "Receivers of signed change events (Standard Webhooks), managed by admins"),
        (name = "releases", description = "Changes staged to go live together, by hand or at a scheduled time"),
        (name = "locales", description = "The locales texts are written in, and their fallback chains"),
        (name = "assets", description = "Uploaded images: their metadata, files and resized variants"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    servers(
        (url = "/", description = "The server that serves this document"),
        (url = "http://127.0.0.1:8080", description = "A local `cargo run --release`"),
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem, crate::error::FieldError, crate::error::Code))
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme: `Authorization: Bearer <token>`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "A token from `lamina token create`. Roles: preview (read drafts), editor (write, history), admin.",
            ))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The HTTP protocol around the JSON, declared once for every operation it
/// applies to (generated clients read it): `X-Request-Id` on every request
/// and response; conditional headers on cacheable reads (those with a 304),
/// optional security on public reads, `ETag`/`Last-Modified` on their 304s,
/// `WWW-Authenticate` on 401s, `Retry-After` on 429s and 503s, and the
/// `RateLimit-*` headers on 429s; and the 503 every API operation may give.
struct ProtocolHeaders;

fn string_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .build()
}

fn header(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::header::Header> {
    let mut header = utoipa::openapi::header::Header::new(string_schema());
    header.description = Some(description.to_owned());
    header.into()
}

fn request_header(name: &str, description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::path::Parameter> {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(description))
        .schema(Some(string_schema()))
        .build()
        .into()
}

impl utoipa::Modify for ProtocolHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::security::SecurityRequirement;
        for (path, item) in openapi.paths.paths.iter_mut() {
            let public_api = path.starts_with("/v1/");
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete];
            for (index, operation) in operations.into_iter().enumerate() {
                let Some(operation) = operation else { continue };
                let is_get = index == 0;
                let conditional = is_get && operation.responses.responses.contains_key("304");
                let parameters = operation.parameters.get_or_insert_with(Vec::new);
                if conditional {
                    parameters.push(request_header(
                        "If-None-Match",
                        "ETags of copies the client holds (or `*`): 304 without a body if one is current.",
                    ));
                    parameters.push(request_header(
                        "If-Modified-Since",
                        "An HTTP date: 304 if the resource has not changed since (ignored with If-None-Match).",
                    ));
                }
                parameters.push(request_header(
                    "X-Request-Id",
                    "An id for this request (1-128 of `A-Za-z0-9._:-`), echoed and logged; one is made if absent.",
                ));
                if operation.security.is_none() {
                    operation.security = Some(if public_api {
                        // Anonymous, or with a token to see drafts.
                        vec![
                            SecurityRequirement::default(),
                            SecurityRequirement::new("bearer", Vec::<String>::new()),
                        ]
                    } else {
                        // Operations: open to anyone who can reach the port.
                        Vec::new()
                    });
                }
                if public_api {
                    // Every API operation needs the database, so any may answer 503.
                    let mut unavailable = <crate::routes::problems::Unavailable as utoipa::IntoResponses>::responses();
                    operation.responses.responses.append(&mut unavailable);
                }
                for (status, response) in operation.responses.responses.iter_mut() {
                    let RefOr::T(response) = response else { continue };
                    let headers = &mut response.headers;
                    headers.insert(
                        "X-Request-Id".to_owned(),
                        header("The request's id: the client's, or one made for it."),
                    );
                    match status.as_str() {
                        "304" => {
                            headers.insert("ETag".to_owned(), header("The current strong validator."));
                        }
                        "401" => {
                            headers.insert(
                                "WWW-Authenticate".to_owned(),
                                header("`Bearer realm=\"lamina\"`: send `Authorization: Bearer <token>`."),
                            );
                        }
                        "429" => {
                            headers.insert("Retry-After".to_owned(), header("Seconds to wait before retrying."));
                            headers.insert("RateLimit-Limit".to_owned(), header("Requests allowed per minute."));
                            headers.insert("RateLimit-Remaining".to_owned(), header("Requests left now: 0."));
                            headers.insert("RateLimit-Reset".to_owned(), header("Seconds until the limit resets."));
                        }
                        "503" => {
                            headers.insert("Retry-After".to_owned(), header("Seconds to wait before retrying."));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// The whole spec as a structure (the routes' own parts and the global ones).
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, api) = crate::api_app(actix_web::App::new()).split_for_parts();
    api
}

/// The spec as served and committed: the routes' spec with the protocol
/// headers added, `ETag` a required header of every 200 and 201 (utoipa's
/// header type cannot say so), and example bodies and path parameters taken
/// from the seed article (`examples`).
pub fn finish(api: &utoipa::openapi::OpenApi) -> serde_json::Value {
    use utoipa::Modify;
    let mut api = api.clone();
    ProtocolHeaders.modify(&mut api);
    let mut value = serde_json::to_value(&api).unwrap_or_default();
    nullable_refs_as_any_of(&mut value);
    examples::add(&mut value);
    if let Some(paths) = value.get_mut("paths").and_then(serde_json::Value::as_object_mut) {
        for operation in paths
            .values_mut()
            .filter_map(serde_json::Value::as_object_mut)
            .flat_map(|item| item.values_mut())
        {
            for status in ["200", "201"] {
                if let Some(etag) = operation.pointer_mut(&format!("/responses/{status}/headers/ETag")) {
                    etag["required"] = serde_json::Value::Bool(true);
                }
            }
        }
    }
    value
}

/// utoipa writes a nullable reference as `oneOf: [{$ref}, {type: null}]`;
/// no discriminator can tell those apart, so it becomes `anyOf` (every other
/// `oneOf` in the spec is a discriminated union).
fn nullable_refs_as_any_of(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let nullable_ref = map
                .get("oneOf")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|variants| {
                    variants.len() == 2
                        && variants.iter().any(|variant| variant.get("$ref").is_some())
                        && variants
                            .iter()
                            .any(|variant| variant.get("type").is_some_and(|t| t == "null"))
                });
            if nullable_ref && let Some(variants) = map.remove("oneOf") {
                map.insert("anyOf".to_owned(), variants);
            }
            map.values_mut().for_each(nullable_refs_as_any_of);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(nullable_refs_as_any_of),
        _ => {}
    }
}

/// The spec as committed: pretty JSON with a final newline.
pub fn spec_json() -> String {
    let mut text = serde_json::to_string_pretty(&finish(&spec())).unwrap_or_default();
    text.push('\n');
    text
}

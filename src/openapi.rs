//! The OpenAPI document. Paths come from the routes themselves (registered
//! through utoipa-actix-web); this adds what is global.

use utoipa::OpenApi;

/// Global parts of the spec: info, tags, shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "lamina",
        description = "A headless content API: articles stored as typed sections (steps, benefits, \
            expectations, aftercare tips, target audiences, risks, overview, conclusion) and served as \
            JSON. Reads of published content are public and cacheable (strong ETags, 304s). Every error \
            is `application/problem+json` with a stable `code`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "articles", description = "Whole articles and the article list"),
        (name = "sections", description = "Single typed sections and their items"),
        (name = "revisions", description = "The history of an article, for editors"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::error::Problem, crate::content::input::FieldError))
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

/// The whole spec, as served at `/openapi.json` and committed as `openapi/openapi.json`.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, api) = crate::api_app(actix_web::App::new()).split_for_parts();
    api
}

/// The spec as committed: pretty JSON with a final newline.
pub fn spec_json() -> String {
    let mut text = spec().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

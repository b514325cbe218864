//! The studio: the editors' web page at `/studio/` (API.md §11).
//!
//! Plain ES modules and CSS, compiled into the binary: nothing to build and
//! no Node.js. The page uses only the public API. Its assets are served under
//! `/studio/assets/<version>/`, where `<version>` is a hash of every asset, so
//! they may be cached for a year; the page itself is revalidated on each load.
//! Every response carries a strict Content-Security-Policy: scripts, styles
//! and requests only from this origin, no inline script or style, no frames.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::cache::Representation;
use crate::error::{AppError, Code};
use crate::routes::caching::{content_hash, etag_of, negotiated_body, validated};

/// The policy of every studio response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; font-src 'self'; manifest-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// An asset of `assets/`: file name, content type, bytes.
macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        ($name, $content_type, include_bytes!(concat!("assets/", $name)))
    };
}

/// The content type of the JavaScript modules.
const JS: &str = "text/javascript; charset=utf-8";

/// The assets: file name, content type, bytes. The page names the modules it
/// preloads (`index.html`); `tests/api/studio.rs` checks that the page reaches
/// every asset, and that every module a script imports is served.
const ASSETS: &[(&str, &str, &[u8])] = &[
    asset!("studio.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("model.js", JS),
    asset!("render.js", JS),
    asset!("editing.js", JS),
    asset!("drafts.js", JS),
    asset!("fields.js", JS),
    asset!("items.js", JS),
    asset!("form.js", JS),
    asset!("preview.js", JS),
    asset!("conflict.js", JS),
    asset!("staging.js", JS),
    asset!("locale.js", JS),
    asset!("editor.js", JS),
    asset!("new-article.js", JS),
    asset!("revisions.js", JS),
    asset!("releases.js", JS),
    asset!("trash.js", JS),
    asset!("webhooks.js", JS),
    asset!("media.js", JS),
    asset!("image-picker.js", JS),
];

/// The page, with `{{assets}}` standing for the assets' folder.
const INDEX: &str = include_str!("assets/index.html");

/// The page and its assets, ready to send.
struct Studio {
    /// Hash of every asset: the name of their folder.
    version: String,
    index: Representation,
    assets: Vec<(&'static str, HeaderValue, Representation)>,
}

static STUDIO: LazyLock<Studio> = LazyLock::new(|| {
    let mut all = Vec::new();
    for (name, _, bytes) in ASSETS {
        all.extend_from_slice(name.as_bytes());
        all.push(0);
        all.extend_from_slice(bytes);
    }
    let version = content_hash(&all);
    let page = INDEX.replace("{{assets}}", &format!("/studio/assets/{version}"));
    let index = Representation::new(
        page.clone().into(),
        etag_of("studio", page.as_bytes()),
        None,
        String::new(),
    )
    .with_compressed_variants();
    let assets = ASSETS
        .iter()
        .map(|(name, content_type, bytes)| {
            let representation =
                Representation::new(bytes.to_vec().into(), etag_of("studio", bytes), None, String::new())
                    .with_compressed_variants();
            (*name, HeaderValue::from_static(content_type), representation)
        })
        .collect();
    Studio { version, index, assets }
});

/// Builds the page and compresses the assets now rather than on the first request.
pub fn prepare() {
    LazyLock::force(&STUDIO);
}

/// The folder the current assets are served from, e.g. `/studio/assets/1a2b…`.
pub fn assets_path() -> String {
    format!("/studio/assets/{}", STUDIO.version)
}

/// The assets' file names, e.g. `app.js`.
pub fn asset_names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(name, _, _)| *name)
}

/// `GET /studio`: the page lives at `/studio/` (relative links need the slash).
pub async fn redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/studio/"))
        .finish()
}

/// `GET /studio/`: the page, revalidated on every load so a new binary's assets are found.
pub async fn index(req: HttpRequest) -> HttpResponse {
    let studio = &*STUDIO;
    respond(
        &req,
        &studio.index,
        HeaderValue::from_static("text/html; charset=utf-8"),
        HeaderValue::from_static("no-cache"),
    )
}

/// `GET /studio/assets/{version}/{file}`: an asset, immutable under its version.
pub async fn asset(req: HttpRequest, path: web::Path<(String, String)>) -> Result<HttpResponse, AppError> {
    let (version, file) = path.into_inner();
    let studio = &*STUDIO;
    let found = studio
        .assets
        .iter()
        .find(|(name, _, _)| *name == file)
        .filter(|_| version == studio.version);
    match found {
        Some((_, content_type, representation)) => Ok(respond(
            &req,
            representation,
            content_type.clone(),
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        )),
        None => Err(AppError::not_found(
            Code::RouteNotFound,
            format!("The studio has no asset {file:?} in version {version:?}; reload /studio/ for the current one."),
        )),
    }
}

/// 200 or 304, with the security headers and the client's preferred coding.
fn respond(
    req: &HttpRequest,
    representation: &Representation,
    content_type: HeaderValue,
    cache_control: HeaderValue,
) -> HttpResponse {
    let (fresh, mut response) = validated(req, representation);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, cache_control);
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    crate::routes::secure_page(headers, CONTENT_SECURITY_POLICY);
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if fresh {
        return response;
    }
    headers.insert(header::CONTENT_TYPE, content_type);
    let body = negotiated_body(req, representation, headers);
    response.set_body(body).map_into_boxed_body()
}

/// Registers the studio's routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/studio", web::get().to(redirect))
        .route("/studio/", web::get().to(index))
        .route("/studio/assets/{version}/{file}", web::get().to(asset));
}

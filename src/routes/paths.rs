//! Path parameters as types, parsed once: a malformed segment names nothing
//! (404 with the code of what it would have named), except the slug of an
//! article being created (400 `invalid_slug`).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::content::SectionKind;
use crate::content::input::{MAX_SLUG_CHARS, is_valid_slug};
use crate::error::{AppError, Code};

/// The 404 of an unknown (or hidden) slug.
pub fn article_not_found(slug: &str) -> AppError {
    AppError::not_found(Code::ArticleNotFound, format!("No article has the slug {slug:?}."))
}

/// The 404 of a section the article does not have.
pub fn section_not_found(slug: &str, kind: SectionKind) -> AppError {
    AppError::not_found(
        Code::SectionNotFound,
        format!("The article {slug:?} has no {kind} section."),
    )
}

/// The 404 of an item the section does not have.
pub fn item_not_found(slug: &str, kind: SectionKind, id: impl std::fmt::Display) -> AppError {
    AppError::not_found(
        Code::ItemNotFound,
        format!("The {kind} section of {slug:?} has no item {id}."),
    )
}

/// The 404 of a revision the article does not have.
pub fn revision_not_found(slug: &str, id: impl std::fmt::Display) -> AppError {
    AppError::not_found(
        Code::RevisionNotFound,
        format!("The article {slug:?} has no revision {id}."),
    )
}

/// What a slug looks like (with at most [`MAX_SLUG_CHARS`] characters).
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

fn segment<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.match_info().get(name).unwrap_or_default()
}

/// The `{slug}` segment, well formed.
fn slug(req: &HttpRequest) -> Result<String, AppError> {
    let slug = segment(req, "slug");
    if is_valid_slug(slug) {
        Ok(slug.to_owned())
    } else if req.method() == Method::PUT && req.match_info().get("kind").is_none() {
        Err(AppError::bad_request(
            Code::InvalidSlug,
            "A slug is 1-100 characters of lowercase letters and digits in words joined by single hyphens.",
        ))
    } else {
        Err(article_not_found(slug))
    }
}

/// The `{kind}` segment: a known section kind.
fn kind(req: &HttpRequest) -> Result<SectionKind, AppError> {
    let name = segment(req, "kind");
    SectionKind::parse(name).ok_or_else(|| {
        let known = SectionKind::ALL.map(SectionKind::as_str).join(", ");
        AppError::not_found(
            Code::UnknownSectionKind,
            format!("There is no section kind {name:?}; known kinds: {known}."),
        )
    })
}

/// The segment `name` as a UUID, or the 404 `missing` of what it, quoted, would have named.
fn uuid(req: &HttpRequest, name: &str, missing: impl FnOnce(String) -> AppError) -> Result<Uuid, AppError> {
    let text = segment(req, name);
    Uuid::try_parse(text).map_err(|_| missing(format!("{text:?}")))
}

/// The `{id}` segment as a UUID, or `missing` (see [`uuid`]).
fn id(req: &HttpRequest, missing: impl FnOnce(String) -> AppError) -> Result<Uuid, AppError> {
    uuid(req, "id", missing)
}

/// The documented path parameters of a route, built from these.
fn path_param(
    name: &str,
    description: &str,
    schema: impl Into<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
) -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(utoipa::openapi::Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

fn slug_param() -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(SLUG_PATTERN))
        .max_length(Some(MAX_SLUG_CHARS))
        .examples([crate::content::seed::SLUG]);
    path_param("slug", "The article's slug.", schema)
}

fn kind_param() -> utoipa::openapi::path::Parameter {
    path_param(
        "kind",
        "The section's kind.",
        utoipa::openapi::Ref::from_schema_name("SectionKind"),
    )
}

/// A path parameter `name` holding a UUID.
fn uuid_param(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)));
    path_param(name, description, schema)
}

fn id_param(description: &str) -> utoipa::openapi::path::Parameter {
    uuid_param("id", description)
}

/// Implements `FromRequest` (with a parsing function) and `IntoParams`
/// (with the parameters' documentation) for a path type.
macro_rules! path_type {
    ($type:ty, [$($param:expr),*], $parse:expr) => {
        impl FromRequest for $type {
            type Error = AppError;
            type Future = Ready<Result<$type, AppError>>;

            fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
                let parse: fn(&HttpRequest) -> Result<$type, AppError> = $parse;
                ready(parse(req))
            }
        }

        impl IntoParams for $type {
            fn into_params(
                _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
            ) -> Vec<utoipa::openapi::path::Parameter> {
                vec![$($param),*]
            }
        }
    };
}

/// Declares a path type of one `{id}` segment: its `id` documented as
/// `$field` (and as `$param` in the spec), 404 `$missing` unless a UUID.
macro_rules! id_path {
    ($(#[doc = $doc:literal])* $type:ident, $field:literal, $param:literal, $missing:path) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone)]
        pub struct $type {
            #[doc = $field]
            pub id: Uuid,
        }

        path_type!($type, [id_param($param)], |req| Ok($type { id: id(req, $missing)? }));
    };
}

/// `/articles/{slug}`.
#[derive(Debug, Clone)]
pub struct ArticlePath {
    /// The article's slug, well formed.
    pub slug: String,
}

path_type!(ArticlePath, [slug_param()], |req| Ok(ArticlePath { slug: slug(req)? }));

/// `/articles/{slug}/sections/{kind}`.
#[derive(Debug, Clone)]
pub struct SectionPath {
    /// The article's slug, well formed.
    pub slug: String,
    /// The section's kind.
    pub kind: SectionKind,
}

path_type!(SectionPath, [slug_param(), kind_param()], |req| {
    let kind = kind(req)?;
    Ok(SectionPath { slug: slug(req)?, kind })
});

/// `/articles/{slug}/sections/{kind}/items/{id}`.
#[derive(Debug, Clone)]
pub struct ItemPath {
    /// The article's slug, well formed.
    pub slug: String,
    /// The section's kind.
    pub kind: SectionKind,
    /// The item's id.
    pub id: Uuid,
}

path_type!(
    ItemPath,
    [slug_param(), kind_param(), id_param("The item's id.")],
    |req| {
        let kind = kind(req)?;
        let slug = slug(req)?;
        let id = id(req, |id| item_not_found(&slug, kind, id))?;
        Ok(ItemPath { slug, kind, id })
    }
);

/// `/articles/{slug}/revisions/{id}`.
#[derive(Debug, Clone)]
pub struct RevisionPath {
    /// The article's slug, well formed.
    pub slug: String,
    /// The revision's id.
    pub id: Uuid,
}

path_type!(RevisionPath, [slug_param(), id_param("The revision's id.")], |req| {
    let slug = slug(req)?;
    let id = id(req, |id| revision_not_found(&slug, id))?;
    Ok(RevisionPath { slug, id })
});

/// The 404 of an unknown webhook endpoint.
pub fn webhook_not_found(id: impl std::fmt::Display) -> AppError {
    AppError::not_found(Code::WebhookNotFound, format!("No webhook endpoint has the id {id}."))
}

/// The 404 of a delivery the endpoint does not have.
pub fn delivery_not_found(id: impl std::fmt::Display) -> AppError {
    AppError::not_found(
        Code::DeliveryNotFound,
        format!("The webhook endpoint has no delivery {id}."),
    )
}

id_path!(
    /// `/webhooks/{id}`.
    WebhookPath,
    "The endpoint's id.",
    "The webhook endpoint's id.",
    webhook_not_found
);

/// `/webhooks/{id}/deliveries/{delivery_id}`.
#[derive(Debug, Clone)]
pub struct DeliveryPath {
    /// The endpoint's id.
    pub id: Uuid,
    /// The delivery's id (its `webhook-id`).
    pub delivery_id: Uuid,
}

path_type!(
    DeliveryPath,
    [
        id_param("The webhook endpoint's id."),
        uuid_param("delivery_id", "The delivery's id (its `webhook-id` header).")
    ],
    |req| {
        let id = id(req, webhook_not_found)?;
        let delivery_id = uuid(req, "delivery_id", delivery_not_found)?;
        Ok(DeliveryPath { id, delivery_id })
    }
);

/// The 404 of a release that does not exist.
pub fn release_not_found(id: impl std::fmt::Display) -> AppError {
    AppError::not_found(Code::ReleaseNotFound, format!("No release has the id {id}."))
}

id_path!(
    /// `/releases/{id}`.
    ReleasePath,
    "The release's id.",
    "The release's id.",
    release_not_found
);

/// `/releases/{id}/articles/{slug}`.
#[derive(Debug, Clone)]
pub struct ReleaseArticlePath {
    /// The release's id.
    pub id: Uuid,
    /// The article's slug, well formed.
    pub slug: String,
}

path_type!(
    ReleaseArticlePath,
    [id_param("The release's id."), slug_param()],
    |req| {
        let id = id(req, release_not_found)?;
        Ok(ReleaseArticlePath { id, slug: slug(req)? })
    }
);

/// `/releases/{id}/articles/{slug}/sections/{kind}`.
#[derive(Debug, Clone)]
pub struct ReleaseSectionPath {
    /// The release's id.
    pub id: Uuid,
    /// The article's slug, well formed.
    pub slug: String,
    /// The section's kind.
    pub kind: SectionKind,
}

path_type!(
    ReleaseSectionPath,
    [id_param("The release's id."), slug_param(), kind_param()],
    |req| {
        let id = id(req, release_not_found)?;
        let kind = kind(req)?;
        Ok(ReleaseSectionPath {
            id,
            slug: slug(req)?,
            kind,
        })
    }
);

/// `/locales/{code}`: any text; whether it is a well-formed tag, and a
/// configured locale, is the route's to say.
#[derive(Debug, Clone)]
pub struct LocalePath {
    /// The locale's code as given.
    pub code: String,
}

path_type!(
    LocalePath,
    [path_param(
        "code",
        "A BCP 47 language tag in canonical case, e.g. `de-AT`.",
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .max_length(Some(crate::content::locales::MAX_TAG_CHARS))
            .examples(["de-AT"])
    )],
    |req| Ok(LocalePath {
        code: segment(req, "code").to_owned()
    })
);

/// `/articles/{slug}/translations/{locale}`.
#[derive(Debug, Clone)]
pub struct TranslationPath {
    /// The article's slug, well formed.
    pub slug: String,
    /// The locale's code as given.
    pub locale: String,
}

path_type!(
    TranslationPath,
    [
        slug_param(),
        path_param(
            "locale",
            "A configured locale other than the default, e.g. `de`.",
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .pattern(Some(crate::content::locales::TAG_PATTERN))
                .max_length(Some(crate::content::locales::MAX_TAG_CHARS))
                .examples(["de"])
        )
    ],
    |req| Ok(TranslationPath {
        slug: slug(req)?,
        locale: segment(req, "locale").to_owned(),
    })
);

/// The 404 of an unknown asset.
pub fn asset_not_found(id: impl std::fmt::Display) -> AppError {
    AppError::not_found(Code::AssetNotFound, format!("No asset has the id {id}."))
}

id_path!(
    /// `/assets/{id}`.
    AssetPath,
    "The asset's id.",
    "The asset's id.",
    asset_not_found
);

/// `/assets/{id}/{filename}`: an asset's file.
#[derive(Debug, Clone)]
pub struct AssetFilePath {
    /// The asset's id.
    pub id: Uuid,
    /// The file name in the URL (it must be the asset's).
    pub filename: String,
}

fn filename_param() -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(crate::content::assets::MAX_FILENAME_CHARS))
        .examples(["face.jpg"]);
    path_param("filename", "The asset's file name.", schema)
}

path_type!(AssetFilePath, [id_param("The asset's id."), filename_param()], |req| {
    let id = id(req, asset_not_found)?;
    Ok(AssetFilePath {
        id,
        filename: segment(req, "filename").to_owned(),
    })
});

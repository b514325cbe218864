//! `/v1/assets`: uploaded images, their metadata and their files (API.md §15).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CACHE_CONTROL, ETAG};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::articles::page_limit;
use super::parts::Reading;
use super::paths::{AssetFilePath, AssetPath};
use super::{DeleteProblems, Editor, KnownParams, NoParams, Query, WriteProblems, read_body, read_json};
use crate::AppState;
use crate::content::Resource;
use crate::content::assets::{self as store, AssetRow, Cursor};
use crate::error::{AppError, Code};
use crate::media::{self, Format, ImageError, Variant};

/// Where an image is chosen as the focus of crops: fractions of its width and height.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct FocalPoint {
    /// From the left edge, 0 to 1.
    #[schema(example = 0.5, minimum = 0, maximum = 1)]
    pub x: f64,
    /// From the top edge, 0 to 1.
    #[schema(example = 0.5, minimum = 0, maximum = 1)]
    pub y: f64,
}

/// Where content uses an asset.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssetUse {
    /// The article's slug.
    #[schema(example = "tomato-soup")]
    pub slug: String,
    /// Where in the article (an RFC 6901 pointer into its read).
    #[schema(example = "/hero_image")]
    pub pointer: String,
}

/// An uploaded image.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Asset {
    /// The asset's id.
    #[schema(example = "3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e")]
    pub id: Uuid,
    /// Its file name (the last segment of `url`).
    #[schema(example = "face.jpg")]
    pub filename: String,
    /// What the bytes are.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// The size of the original as stored and served (a JPEG's EXIF removed), in bytes.
    #[schema(example = 204_800)]
    pub bytes: i64,
    /// Its width in pixels, as shown (EXIF orientation applied).
    #[schema(example = 1600)]
    pub width: i32,
    /// Its height in pixels, as shown.
    #[schema(example = 1200)]
    pub height: i32,
    /// SHA-256 of the original as stored and served, lowercase hex.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    /// A ThumbHash of the image (base64): a blurred preview to show while it loads.
    #[schema(example = "1QcSHQRnh493V4dIh4eXh1h4kJUI")]
    pub placeholder: String,
    /// Alt text by locale.
    #[schema(example = json!({"en": "A face after treatment"}))]
    pub alt: BTreeMap<String, String>,
    /// A caption by locale, or `null`.
    #[schema(example = json!(null))]
    pub caption: Option<BTreeMap<String, String>>,
    /// The focus of crops.
    pub focal_point: FocalPoint,
    /// Where its file is served: `/v1/assets/{id}/{filename}`.
    #[schema(example = "/v1/assets/3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e/face.jpg")]
    pub url: String,
    /// Where content uses it.
    pub used_by: Vec<AssetUse>,
    /// When it was uploaded.
    #[schema(example = "2026-11-25T10:00:00Z")]
    pub created_at: DateTime<Utc>,
    /// Its metadata's version (in its `ETag` too).
    #[schema(example = 1)]
    pub version: i64,
}

/// Reads a stored `{locale: text}`.
fn texts(value: &serde_json::Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|object| {
            object
                .iter()
                .filter_map(|(locale, text)| Some((locale.clone(), text.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

impl From<(AssetRow, Vec<store::Use>)> for Asset {
    fn from((row, uses): (AssetRow, Vec<store::Use>)) -> Asset {
        Asset {
            url: crate::content::images::file_url(row.id, &row.filename),
            id: row.id,
            content_type: row.content_type,
            bytes: row.bytes,
            width: row.width,
            height: row.height,
            sha256: row.sha256,
            placeholder: row.placeholder,
            alt: texts(&row.alt),
            caption: row.caption.as_ref().map(texts),
            focal_point: FocalPoint {
                x: row.focal_x,
                y: row.focal_y,
            },
            used_by: uses
                .into_iter()
                .map(|found| AssetUse {
                    slug: found.slug,
                    pointer: found.pointer,
                })
                .collect(),
            created_at: row.created_at,
            version: row.version,
            filename: row.filename,
        }
    }
}

/// A page of assets, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssetPage {
    /// The assets.
    pub items: Vec<Asset>,
    /// The `cursor` of the next page; `null` on the last.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

/// An asset's metadata, never cached, with its ETag (and `Location` when created).
fn respond(status: StatusCode, (row, uses): (AssetRow, Vec<store::Use>)) -> Result<HttpResponse, AppError> {
    let etag = super::etags::etag(Resource::Asset, row.version());
    let id = row.id;
    super::private_resource(
        status,
        Some(etag),
        || format!("/v1/assets/{id}"),
        &Asset::from((row, uses)),
    )
}

/// The query of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file name it is served under (1-200 characters, no `/`).
    #[param(example = "face.jpg", min_length = 1, max_length = 200, pattern = "^[^/]+$")]
    filename: String,
}

impl KnownParams for UploadQuery {
    const NAMES: &'static [&'static str] = &["filename"];
}

/// The problem of an image that cannot be taken.
fn image_problem(err: ImageError) -> AppError {
    match err {
        ImageError::TooManyPixels { width, height } => AppError::Unprocessable {
            code: Code::ImageTooLarge,
            detail: format!(
                "The image is {width}×{height} pixels, more than the {} megapixels lamina takes.",
                media::MAX_PIXELS / 1_000_000
            ),
        },
        ImageError::Unreadable(cause) => AppError::Unprocessable {
            code: Code::InvalidImage,
            detail: format!("The image cannot be read: {cause}."),
        },
    }
}

/// What the upload's bytes are, checked against its `Content-Type` (415 unless they agree).
fn upload_format(req: &HttpRequest, bytes: &[u8]) -> Result<Format, AppError> {
    let unsupported = |detail: String| AppError::UnsupportedMediaType { detail };
    if let Some(coding) = req.headers().get(header::CONTENT_ENCODING) {
        let coding = coding.to_str().unwrap_or("?").trim();
        if !coding.eq_ignore_ascii_case("identity") {
            return Err(unsupported(format!(
                "The body is encoded with {coding:?}; send the image without a Content-Encoding."
            )));
        }
    }
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap_or("?"));
    let accepted = "image/jpeg, image/png, image/webp or image/gif";
    let Some(declared_format) = declared.and_then(Format::from_content_type) else {
        return Err(unsupported(format!(
            "Send the image as its Content-Type ({accepted}), not {:?}.",
            declared.unwrap_or("none")
        )));
    };
    match Format::sniff(bytes) {
        Some(format) if format == declared_format => Ok(format),
        Some(format) => Err(unsupported(format!(
            "The body is {}, but Content-Type says {}.",
            format.content_type(),
            declared_format.content_type()
        ))),
        None => Err(unsupported(format!(
            "The body is not a JPEG, PNG, WebP or GIF image ({accepted})."
        ))),
    }
}

/// Upload an image (editor).
///
/// The body is the image itself (JPEG, PNG, WebP or GIF) with its
/// `Content-Type`, which must be what the bytes are (415). At most
/// `LAMINA_ASSET_MAX_BYTES` (20 MiB: 413) and 50 megapixels (422
/// `image_too_large`, read from the header before anything is decoded).
/// A JPEG is stored without its EXIF and XMP metadata (GPS position
/// included) but for its orientation. The same bytes uploaded again are
/// stored once (a new asset, the same file).
#[utoipa::path(
    tag = "assets",
    params(UploadQuery),
    request_body(description = "The image's bytes", content(
        (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/gif")
    )),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored", body = Asset,
            headers(("ETag" = String, description = "The asset's version"), ("Location" = String, description = "The asset's URL"))),
        (status = 413, description = "The image is larger than `LAMINA_ASSET_MAX_BYTES`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG, WebP or GIF, or not what `Content-Type` says", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 50 megapixels (`image_too_large`) or unreadable (`invalid_image`)", body = crate::error::Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/assets")]
pub async fn upload_asset(
    state: web::Data<AppState>,
    req: HttpRequest,
    _editor: Editor,
    query: Query<UploadQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let filename = query.0.filename;
    store::check_filename(&filename)
        .map_err(|message| AppError::bad_request(Code::InvalidFilename, format!("`filename` {message}.")))?;
    let media = state.media.clone();
    let bytes = read_body(&req, body, media.max_bytes).await?.freeze();
    let format = upload_format(&req, &bytes)?;
    let work = {
        let (media, bytes) = (media.clone(), bytes.clone());
        move || -> Result<_, AppError> {
            let probe = media::probe(&bytes, format).map_err(image_problem)?;
            let stored = media::strip_metadata(&bytes, format, probe.orientation);
            let (stored_bytes, sha256) = (stored.len(), format!("{:x}", Sha256::digest(&stored)));
            let staged = media
                .store
                .stage(&media.store.original(&sha256), stored)
                .map_err(|err| store_failed("staging an upload", err))?;
            Ok((probe, stored_bytes, sha256, staged))
        }
    };
    let (probe, stored_bytes, sha256, staged) = media.run(work).await.map_err(AppError::Internal)??;
    let new = store::NewAsset {
        filename,
        content_type: format.content_type().to_owned(),
        bytes: i64::try_from(stored_bytes).unwrap_or(i64::MAX),
        width: i32::try_from(probe.width).unwrap_or(i32::MAX),
        height: i32::try_from(probe.height).unwrap_or(i32::MAX),
        sha256,
        placeholder: probe.placeholder,
    };
    respond(
        StatusCode::CREATED,
        (store::create(&state.pool, &media.store, staged, new).await?, Vec::new()),
    )
}

/// Query of the asset list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetListQuery {
    /// Assets per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100, example = 20)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page; leave out for the first page.
    #[param(
        example = "00063f1a2b3c4d5e3f0c6f2e8a414c3b9d7e2f5a1b3c4d5e",
        pattern = "^[0-9a-f]{48}$"
    )]
    cursor: Option<String>,
}

impl KnownParams for AssetListQuery {
    const NAMES: &'static [&'static str] = &["limit", "cursor"];
}

/// List assets, newest first (editor).
///
/// Pages of uploaded images, newest first: `limit` (1-100, default 20) and the `next_cursor`
/// handed out as `cursor`. Each comes with its metadata, `url` and `used_by`. Needs an editor
/// token.
#[utoipa::path(
    tag = "assets",
    params(AssetListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of assets", body = AssetPage),
        WriteProblems,
    )
)]
#[get("/assets")]
pub async fn list_assets(
    state: web::Data<AppState>,
    _editor: Editor,
    query: Query<AssetListQuery>,
) -> Result<HttpResponse, AppError> {
    let limit = page_limit(query.limit)?;
    let after = super::articles::page_cursor(query.cursor.as_deref(), Cursor::decode)?;
    let (rows, more) = store::list(&state.pool, after, i64::from(limit)).await?;
    let next_cursor = super::articles::next_cursor(more, rows.last(), |(row, _)| {
        Cursor {
            created_at: row.created_at,
            id: row.id,
        }
        .encode()
    });
    let page = AssetPage {
        items: rows.into_iter().map(Asset::from).collect(),
        next_cursor,
    };
    super::private_json(StatusCode::OK, &page)
}

/// Read an asset's metadata (editor).
///
/// The asset's file name, content type, size, dimensions, SHA-256, ThumbHash `placeholder`,
/// `alt` and `caption` per locale, `focal_point`, `url`, where it is used and its `version`,
/// with the ETag that `PUT` and `DELETE` need in `If-Match`. The image itself is `GET
/// /v1/assets/{id}/{filename}`.
#[utoipa::path(
    tag = "assets",
    params(AssetPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The asset", body = Asset, headers(("ETag" = String, description = "The asset's version"))),
        WriteProblems,
    )
)]
#[get("/assets/{id}")]
pub async fn get_asset(
    state: web::Data<AppState>,
    _editor: Editor,
    AssetPath { id }: AssetPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    respond(StatusCode::OK, store::find_with_uses(&state.pool, id).await?)
}

/// The body of `PUT /v1/assets/{id}`: each field optional; what is left out stays.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "documents the body that content::assets::parse_write reads")]
pub struct AssetWrite {
    /// The file name it is served under (1-200 characters, no `/`): its URL changes with it.
    #[schema(
        example = "face.jpg",
        min_length = 1,
        max_length = 200,
        pattern = "^[^/]+$",
        nullable = false
    )]
    filename: Option<String>,
    /// Alt text by configured locale (1-1,000 characters each); replaces all of it.
    #[schema(example = json!({"en": "A face after treatment"}), nullable = false)]
    alt: Option<BTreeMap<String, String>>,
    /// A caption by configured locale (1-5,000 characters each), or `null` for none.
    #[schema(example = json!(null))]
    caption: Option<BTreeMap<String, String>>,
    /// The focus of crops.
    #[schema(nullable = false)]
    focal_point: Option<FocalPointWrite>,
}

/// A focal point to set.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[expect(dead_code, reason = "documents the body that content::assets::parse_write reads")]
pub struct FocalPointWrite {
    /// From the left edge, 0 to 1.
    #[schema(example = 0.5, minimum = 0, maximum = 1)]
    x: f64,
    /// From the top edge, 0 to 1.
    #[schema(example = 0.3, minimum = 0, maximum = 1)]
    y: f64,
}

/// Change an asset's alt texts, caption, focal point or file name (editor; needs `If-Match`).
///
/// Each field of the body is optional: what is left out stays. A change of an asset is a
/// change of every article that uses it (change feed, webhooks, caches). `If-Match` is the
/// asset's current ETag or `*` (missing: 428, stale: 412).
#[utoipa::path(
    tag = "assets",
    params(AssetPath, ("If-Match" = String, Header, description = "The asset's current ETag, or `*`")),
    request_body(content = AssetWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed (or already so)", body = Asset, headers(("ETag" = String, description = "The asset's version"))),
        WriteProblems,
    )
)]
#[put("/assets/{id}")]
pub async fn put_asset(
    edit: super::parts::Edit,
    AssetPath { id }: AssetPath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let changes = store::parse_write(&read_json(&edit.req, body).await?)
        .map_err(|errors| AppError::from(crate::content::Error::Invalid(errors)))?;
    let precondition = edit.precondition(Resource::Asset);
    let (row, uses) = store::update(&edit.state.pool, id, precondition, changes, &edit.actor).await?;
    // The articles showing it changed with it.
    for found in &uses {
        edit.state.cache.invalidate(&found.slug);
    }
    respond(StatusCode::OK, (row, uses))
}

/// Delete an asset and, if no other asset has the same bytes, its file and variants (editor; needs `If-Match`).
///
/// While an article uses the asset the answer is 409 `asset_in_use`, naming where. Uploads of
/// the same bytes share one stored file, so the file and its resized variants go only with
/// the last asset that has them. `If-Match` is the asset's current ETag or `*`.
#[utoipa::path(
    tag = "assets",
    params(AssetPath, ("If-Match" = String, Header, description = "The asset's current ETag, or `*`")),
    security(("bearer" = [])),
    responses(super::Deleted<DeleteProblems>),
)]
#[delete("/assets/{id}")]
pub async fn delete_asset(
    state: web::Data<AppState>,
    req: HttpRequest,
    _editor: Editor,
    AssetPath { id }: AssetPath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let precondition = super::etags::precondition(&req, Resource::Asset);
    store::delete(&state.pool, &state.media.store, id, precondition).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The format a variant is asked for in.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormatChoice {
    /// WebP at quality `q` (lossy).
    Webp,
    /// JPEG at quality `q`.
    Jpeg,
    /// PNG.
    Png,
    /// WebP if `Accept` lists `image/webp`, else the original's format (PNG for a GIF).
    Auto,
}

/// Query of an asset's file: none for the original as uploaded.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// Width of the variant: one of 64, 128, 256, 320, 480, 640, 768, 960,
    /// 1280, 1600, 1920, 2560, 3840, no wider than the original.
    #[param(example = 640)]
    w: Option<u32>,
    /// Format of the variant (default: the original's; PNG for a GIF).
    #[param(inline)]
    fm: Option<FormatChoice>,
    /// JPEG and WebP quality, 1-100 (default 80).
    #[param(minimum = 1, maximum = 100, example = 80)]
    q: Option<u8>,
    /// With `fit=cover`: the height, from the same ladder as `w`, no taller than the original.
    #[param(example = 480)]
    h: Option<u32>,
    /// `cover`: exactly `w`×`h`, cropped around the asset's focal point (needs `w` and `h`).
    /// Its example goes with those of `w` and `h`, which need it.
    #[param(inline, example = "cover")]
    fit: Option<Fit>,
}

/// How a variant fits `w` and `h`.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Fills `w`×`h`, cropping what sticks out, around the focal point.
    Cover,
}

impl KnownParams for FileQuery {
    const NAMES: &'static [&'static str] = &["w", "fm", "q", "h", "fit"];
}

/// Files never change under their URL (a changed image is a new asset).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The variant `query` asks for of an original `row` in `format`, if any.
fn variant_of(
    req: &HttpRequest,
    row: &AssetRow,
    format: Format,
    query: &FileQuery,
) -> Result<Option<Variant>, AppError> {
    if query.w.is_none() && query.fm.is_none() && query.q.is_none() && query.h.is_none() && query.fit.is_none() {
        return Ok(None);
    }
    let invalid = |detail: String| AppError::bad_request(Code::InvalidVariant, detail);
    let ladder = media::WIDTHS.map(|width| width.to_string()).join(", ");
    for (name, value, limit, what) in [("w", query.w, row.width, "wider"), ("h", query.h, row.height, "taller")] {
        let Some(value) = value else { continue };
        if !media::WIDTHS.contains(&value) {
            return Err(invalid(format!("`{name}` must be one of {ladder}; not {value}.")));
        }
        if i64::from(value) > i64::from(limit) {
            return Err(invalid(format!(
                "`{name}` {value} is {what} than the image ({limit} pixels); use a smaller size or the original."
            )));
        }
    }
    let cover = match (query.fit, query.w, query.h) {
        (None, _, None) => None,
        (Some(Fit::Cover), Some(width), Some(height)) => Some(media::Cover {
            width,
            height,
            focal_x: (row.focal_x.clamp(0.0, 1.0) * 1000.0).round() as u16,
            focal_y: (row.focal_y.clamp(0.0, 1.0) * 1000.0).round() as u16,
        }),
        (Some(Fit::Cover), _, _) => return Err(invalid("`fit=cover` needs both `w` and `h`.".to_owned())),
        (None, _, Some(_)) => return Err(invalid("`h` is only for `fit=cover` (with `w`).".to_owned())),
    };
    let quality = query.q.unwrap_or(media::DEFAULT_QUALITY);
    if !(1..=100).contains(&quality) {
        return Err(invalid(format!("`q` must be 1-100, not {quality}.")));
    }
    let same = match format {
        Format::Gif => Format::Png,
        other => other,
    };
    let format = match query.fm {
        None => same,
        Some(FormatChoice::Webp) => Format::Webp,
        Some(FormatChoice::Jpeg) => Format::Jpeg,
        Some(FormatChoice::Png) => Format::Png,
        Some(FormatChoice::Auto) => {
            let accept = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            if accept.split(',').any(|range| {
                let mut parts = range.split(';');
                let essence = parts.next().unwrap_or_default().trim();
                let refused = parts.any(|parameter| {
                    matches!(
                        parameter.replace(' ', "").as_str(),
                        "q=0" | "q=0.0" | "q=0.00" | "q=0.000"
                    )
                });
                essence.eq_ignore_ascii_case("image/webp") && !refused
            }) {
                Format::Webp
            } else {
                same
            }
        }
    };
    Ok(Some(Variant {
        width: query
            .w
            .filter(|width| cover.is_none() && i64::from(*width) < i64::from(row.width)),
        cover,
        format,
        // Only JPEG and WebP have a quality: PNG shares one file whatever `q` says.
        quality: if matches!(format, Format::Jpeg | Format::Webp) {
            quality
        } else {
            100
        },
    }))
}

/// An asset's file: the original as uploaded, or a resized/re-encoded variant (any token).
///
/// Without a query, the original as stored (a JPEG without its EXIF but for
/// its orientation; PNG and WebP as uploaded). With `w`, `fm`
/// or `q`, a variant: made on first request, stored, served from storage
/// after. Variants are re-encoded, so carry no EXIF (no GPS position);
/// orientation is applied to their pixels. Every answer has a strong `ETag`
/// and `Cache-Control: public, max-age=31536000, immutable`; `fit=cover`
/// with `w` and `h` crops to exactly that size around the focal point (a
/// new focal point is a new variant, with its own ETag); `fm=auto`
/// answers `Vary: Accept`. An image is public once published content uses
/// it; until then any token reads it (anonymous → 401).
#[utoipa::path(
    tag = "assets",
    params(AssetFilePath, FileQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The image", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/gif")
        ),
            headers(("ETag" = String, description = "Strong: the bytes' identity"), ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"))),
        (status = 206, description = "The byte range `Range` asks for (one range; `If-Range` honoured)", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/gif")
        ), headers(("Content-Range" = String, description = "`bytes first-last/length`"))),
        (status = 304, description = "`If-None-Match` names this ETag"),
        (status = 400, description = "`w`, `fm` or `q` is not one lamina makes (`invalid_variant`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such asset, or another file name (`asset_not_found`)", body = crate::error::Problem, content_type = "application/problem+json"),
        super::ReadProblems,
    )
)]
#[get("/assets/{id}/{filename}")]
pub async fn serve_asset(
    Reading { state, req, reader }: Reading,
    AssetFilePath { id, filename }: AssetFilePath,
    query: Query<FileQuery>,
) -> Result<HttpResponse, AppError> {
    if !reader.is_authenticated() && !store::is_public(&state.pool, id).await? {
        return Err(AppError::Unauthorized {
            detail: "Images are served to any token until published content uses them: send `Authorization: Bearer <token>`."
                .to_owned(),
        });
    }
    let row = store::find(&state.pool, id).await?;
    if row.filename != filename {
        return Err(super::paths::asset_not_found(format!(
            "{id} with the file name {filename:?}"
        )));
    }
    let original_format = Format::from_content_type(&row.content_type)
        .ok_or_else(|| AppError::Internal(format!("asset {id} has the content type {:?}", row.content_type)))?;
    let variant = variant_of(&req, &row, original_format, &query)?;
    let media = state.media.clone();
    let (path, format, etag) = match variant {
        None => (
            media.store.original(&row.storage_key),
            original_format,
            format!("\"o.{}\"", row.sha256),
        ),
        Some(variant) => {
            let path = media.store.variant(&row.storage_key, &variant);
            let etag = format!("\"v.{}.{}\"", row.sha256, variant.file_name());
            (path, variant.format, etag)
        }
    };
    let mut response = HttpResponse::Ok();
    response
        .insert_header((CACHE_CONTROL, IMMUTABLE))
        .insert_header((ETAG, etag.as_str()));
    if matches!(query.fm, Some(FormatChoice::Auto)) {
        response.insert_header((header::VARY, "Accept"));
    }
    if super::caching::none_match_hits(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((CACHE_CONTROL, IMMUTABLE))
            .insert_header((ETAG, etag.as_str()))
            .finish());
    }
    let bytes = match media.served(&path) {
        Some(bytes) => bytes,
        None => {
            let bytes = bytes::Bytes::from(read_file(&media, &row, original_format, variant, &path).await?);
            media.keep(&path, bytes.clone());
            bytes
        }
    };
    response
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .content_type(format.content_type());
    if let Some((start, end)) = requested_range(&req, &etag, bytes.len()) {
        let total = bytes.len();
        return Ok(response
            .status(StatusCode::PARTIAL_CONTENT)
            .insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{total}")))
            .body(bytes.slice(start..=end)));
    }
    Ok(response.body(bytes))
}

/// The one byte range (first and last, inclusive) the request asks for of
/// `length` bytes, if it asks for one that can be served (and its
/// `If-Range`, if any, is `etag`). Several ranges, or none that fits, are
/// answered with the whole file, as RFC 9110 §14.2 allows.
fn requested_range(req: &HttpRequest, etag: &str, length: usize) -> Option<(usize, usize)> {
    let range = req.headers().get(header::RANGE)?.to_str().ok()?.trim();
    if let Some(if_range) = req.headers().get(header::IF_RANGE)
        && if_range.as_bytes() != etag.as_bytes()
    {
        return None;
    }
    let spec = range.strip_prefix("bytes=")?.trim();
    if spec.contains(',') || length == 0 {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let (start, end) = if first.is_empty() {
        let suffix: usize = last.parse().ok()?;
        (length.checked_sub(suffix.min(length))?, length - 1)
    } else {
        let start: usize = first.parse().ok()?;
        let end = if last.is_empty() {
            length - 1
        } else {
            last.parse::<usize>().ok()?.min(length - 1)
        };
        (start, end)
    };
    (start <= end && start < length).then_some((start, end))
}

/// The bytes stored at `path`.
async fn read_stored(media: &media::Media, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let path = path.to_owned();
    media.store.blocking(move |store| store.read(&path)).await
}

/// Makes `variant` of `row` at `path` unless it is there: once, however
/// many requests ask for it at the same time (those that waited read what
/// the first made). Then the least recently served variants go if there are
/// too many. Its bytes, as made or as stored.
async fn make_variant(
    media: &std::sync::Arc<media::Media>,
    row: &AssetRow,
    format: Format,
    variant: Variant,
    path: &std::path::Path,
) -> Result<Vec<u8>, AppError> {
    let lock = media.making(path);
    let _making = lock.lock().await;
    match read_stored(media, path).await {
        Ok(bytes) => return Ok(bytes),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(store_failed(&format!("reading {}", path.display()), err)),
    }
    let original = media.store.original(&row.storage_key);
    let work = {
        let (media, path) = (media.clone(), path.to_owned());
        move || -> Result<Vec<u8>, AppError> {
            let bytes = media
                .store
                .read(&original)
                .map_err(|err| store_failed(&format!("reading {}", original.display()), err))?;
            let encoded = media::render(&bytes, format, variant)
                .map_err(|err| AppError::Internal(format!("rendering {}: {err:?}", path.display())))?;
            media
                .store
                .write(&path, &encoded)
                .map_err(|err| store_failed(&format!("writing {}", path.display()), err))?;
            match media
                .store
                .evict_variants(media.variant_max_bytes, &path, |path| media.last_served(path))
            {
                Ok(removed) => removed.iter().for_each(|removed| media.forget(removed)),
                Err(err) => log::warn!("evicting variants: {err}"),
            }
            Ok(encoded)
        }
    };
    let encoded = media.run(work).await.map_err(AppError::Internal)??;
    media.made_variant();
    Ok(encoded)
}

/// The bytes of the file at `path`: an original, or `variant` of it, made
/// first if it is not stored (one read of the store when it is).
async fn read_file(
    media: &std::sync::Arc<media::Media>,
    row: &AssetRow,
    original_format: Format,
    variant: Option<Variant>,
    path: &std::path::Path,
) -> Result<Vec<u8>, AppError> {
    match (read_stored(media, path).await, variant) {
        (Ok(bytes), Some(_)) => {
            // Served from storage: now its most recently used variant.
            let (store, touched) = (media.store.clone(), path.to_owned());
            drop(tokio::task::spawn_blocking(move || store.touch(&touched)));
            Ok(bytes)
        }
        (Ok(bytes), None) => Ok(bytes),
        (Err(err), Some(variant)) if err.kind() == std::io::ErrorKind::NotFound => {
            make_variant(media, row, original_format, variant, path).await
        }
        (Err(err), _) => Err(store_failed(&format!("reading {}", path.display()), err)),
    }
}

/// The problem of the asset store's `err` while `doing` something: 503 if
/// the store cannot be reached now, else lamina's own failure.
fn store_failed(doing: &str, err: std::io::Error) -> AppError {
    crate::content::Error::store(doing, err).into()
}

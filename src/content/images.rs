//! Images in content (API.md §15): an article's `hero_image` and the `image`
//! of an item of steps, benefits, expectations, aftercare tips and risks.
//!
//! One type, [`Image`], is both what a write gives (which asset, the use's
//! own alt text, whether it is decorative) and what a read shows: the asset's
//! file, size, placeholder and a `srcset`, with the alt text resolved for the
//! locale read. Storage keeps the use in columns of its own and what is shown
//! of the asset in a `*_asset` column the database keeps current (see the
//! migration `content_images`).

use std::collections::BTreeMap;

use deserr::{Deserr, IntoValue, Map as _, Value, ValueKind, ValuePointerRef};
use serde::Serialize;
use serde::ser::SerializeStruct;
use utoipa::ToSchema;
use uuid::Uuid;

use super::fields::{BodyErrors, ItemId, Text};
use crate::media::WIDTHS;

/// Longest alt text, in characters.
pub const MAX_ALT_CHARS: usize = 1_000;

/// An alt text: 1..=[`MAX_ALT_CHARS`] characters, trimmed, no control characters.
pub type AltText = Text<MAX_ALT_CHARS>;

/// What a read shows of an image's asset (kept by the database beside each use).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ImageAsset {
    /// The asset's file name (the last segment of its URL).
    pub filename: String,
    /// Width in pixels, as shown.
    pub width: i32,
    /// Height in pixels, as shown.
    pub height: i32,
    /// ThumbHash, base64.
    pub placeholder: String,
    /// The asset's alt text by locale.
    #[serde(default)]
    pub alt: BTreeMap<String, String>,
}

/// An image used in content.
#[derive(Debug, Clone, Default)]
pub struct Image {
    /// The asset shown.
    pub asset_id: Uuid,
    /// This use's own alt text: in a write and in storage the default
    /// locale's; in a read, after [`Image::resolve`], the alt shown.
    pub alt: Option<String>,
    /// A decorative image has no alt text (`alt=""`).
    pub decorative: bool,
    /// In a read: what is shown of the asset (`None` in a write).
    pub asset: Option<ImageAsset>,
    /// In a read: the locale `alt` came from, once resolved.
    resolved: Option<String>,
}

/// Two uses are the same when they name the same asset the same way; what is
/// shown of the asset is the asset's, not the use's.
impl PartialEq for Image {
    fn eq(&self, other: &Image) -> bool {
        (self.asset_id, &self.alt, self.decorative) == (other.asset_id, &other.alt, other.decorative)
    }
}

impl Image {
    /// A stored use: its columns, and the asset facts the database keeps beside them.
    pub fn stored(
        asset_id: Option<Uuid>,
        alt: Option<String>,
        decorative: bool,
        asset: Option<&serde_json::Value>,
    ) -> Option<Image> {
        Some(Image {
            asset_id: asset_id?,
            alt,
            decorative,
            asset: asset.and_then(|facts| <ImageAsset as serde::Deserialize>::deserialize(facts).ok()),
            resolved: None,
        })
    }

    /// What storage keeps of a use, `None` for none: the asset, the use's
    /// own alt text, whether decorative (the columns `*_asset_id`, `*_alt`,
    /// `*_decorative`).
    pub fn columns(image: Option<&Image>) -> (Option<Uuid>, Option<String>, bool) {
        image.map_or((None, None, false), |image| {
            (Some(image.asset_id), image.alt.clone(), image.decorative)
        })
    }

    /// The path of the asset's file.
    pub fn url(&self) -> String {
        file_url(
            self.asset_id,
            self.asset.as_ref().map_or("", |asset| asset.filename.as_str()),
        )
    }

    /// `srcset` for `<img>`: each width of the ladder narrower than the
    /// original, then the original at its own width.
    pub fn srcset(&self) -> String {
        let url = self.url();
        let width = self.asset.as_ref().map_or(0, |asset| asset.width);
        WIDTHS
            .iter()
            .filter(|&&step| i64::from(step) < i64::from(width))
            .map(|step| format!("{url}?w={step} {step}w"))
            .chain(std::iter::once(format!("{url} {width}w")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether a published article may show it: decorative, or with alt text
    /// in the default locale `default` (its own or the asset's).
    pub fn has_default_alt(&self, default: &str) -> bool {
        self.decorative
            || self.alt.is_some()
            || self.asset.as_ref().is_some_and(|asset| asset.alt.contains_key(default))
    }

    /// Resolves the alt shown in a read in the locale whose fallback chain is
    /// `chain` (the requested locale first, the default last), `alt` being
    /// the use's own text already resolved for it (`from`: the place in the
    /// chain it came from): the use's own if it has one, else the asset's
    /// first along the chain, `""` if decorative or neither has one. Returns
    /// the locale the text shown came from when it is not the requested one
    /// (a fallback to report).
    pub fn resolve(&mut self, chain: &[String], from: Option<usize>) -> Option<String> {
        if self.decorative {
            self.alt = Some(String::new());
            return None;
        }
        // The use's own text overrides the asset's (`use ?? asset`), each
        // resolved along the chain.
        let own = self
            .alt
            .take()
            .map(|text| (from.unwrap_or(chain.len().saturating_sub(1)), text));
        let chosen = own.or_else(|| {
            let asset = self.asset.as_ref()?;
            chain
                .iter()
                .enumerate()
                .find_map(|(place, code)| Some((place, asset.alt.get(code)?.clone())))
        });
        let (place, text) = chosen.unwrap_or((0, String::new()));
        self.alt = Some(text);
        self.resolved = chain.get(place).cloned();
        (place != 0).then(|| chain[place].clone())
    }

    /// The use as a write body gives it.
    pub fn as_write(&self) -> ImageWrite<'_> {
        ImageWrite(self)
    }
}

/// The path of an asset's file: `/v1/assets/{id}/{filename}`, the file name percent-encoded.
pub fn file_url(id: Uuid, filename: &str) -> String {
    let segment: String = filename
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("/v1/assets/{id}/{segment}")
}

/// A read: `{asset_id, url, width, height, alt, decorative, placeholder, srcset}`.
impl Serialize for Image {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(asset) = &self.asset else {
            return self.as_write().serialize(serializer);
        };
        let mut out = serializer.serialize_struct("Image", 8)?;
        out.serialize_field("asset_id", &self.asset_id)?;
        out.serialize_field("url", &self.url())?;
        out.serialize_field("width", &asset.width)?;
        out.serialize_field("height", &asset.height)?;
        out.serialize_field("alt", self.alt.as_deref().unwrap_or(""))?;
        out.serialize_field("decorative", &self.decorative)?;
        out.serialize_field("placeholder", &asset.placeholder)?;
        out.serialize_field("srcset", &self.srcset())?;
        out.end()
    }
}

/// A use as a write body gives it: `{asset_id, alt, decorative}`.
pub struct ImageWrite<'a>(&'a Image);

impl Serialize for ImageWrite<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("ImageWrite", 3)?;
        out.serialize_field("asset_id", &self.0.asset_id)?;
        out.serialize_field("alt", &self.0.alt)?;
        out.serialize_field("decorative", &self.0.decorative)?;
        out.end()
    }
}

/// What a read gives a write may send back; ignored.
const AS_READ: [&str; 5] = ["url", "width", "height", "placeholder", "srcset"];

/// Reads `null` or `{asset_id, alt, decorative}` (the read's other fields ignored).
impl Deserr<BodyErrors> for Image {
    fn deserialize_from_value<V: IntoValue>(value: Value<V>, location: ValuePointerRef) -> Result<Self, BodyErrors> {
        let Value::Map(map) = value else {
            return Err(BodyErrors::at(
                location,
                format!(
                    "must be an object {{\"asset_id\": \"<uuid>\", \"alt\": null, \"decorative\": false}} or null (got {})",
                    kind_name(&value)
                ),
            ));
        };
        let mut errors = BodyErrors::default();
        let mut image = Image::default();
        let mut asset_id = None;
        for (key, value) in map.into_iter() {
            let at = location.push_key(&key);
            let value = value.into_value();
            match key.as_str() {
                "asset_id" => match ItemId::deserialize_from_value(value, at) {
                    Ok(id) => asset_id = Some(id.0),
                    Err(problems) => errors.extend(problems),
                },
                // A decorative image reads `""`: sent back, it is no text.
                "alt" if matches!(&value, Value::String(text) if text.is_empty()) => {}
                "alt" => match Option::<AltText>::deserialize_from_value(value, at) {
                    Ok(alt) => image.alt = alt.map(Text::into_string),
                    Err(problems) => errors.extend(problems),
                },
                "decorative" => match bool::deserialize_from_value(value, at) {
                    Ok(decorative) => image.decorative = decorative,
                    Err(problems) => errors.extend(problems),
                },
                key if AS_READ.contains(&key) => {}
                _ => errors.push(
                    at,
                    "unknown field; expected one of: asset_id, alt, decorative (and, ignored, what a read gives)",
                ),
            }
        }
        match asset_id {
            Some(id) => image.asset_id = id,
            None => errors.push(
                location.push_key("asset_id"),
                "is required: the id of an uploaded asset",
            ),
        }
        if errors.is_empty() { Ok(image) } else { Err(errors) }
    }
}

fn kind_name<V: IntoValue>(value: &Value<V>) -> &'static str {
    match value.kind() {
        ValueKind::Null => "null",
        ValueKind::Boolean => "a boolean",
        ValueKind::Integer | ValueKind::NegativeInteger | ValueKind::Float => "a number",
        ValueKind::String => "a string",
        ValueKind::Sequence => "an array",
        ValueKind::Map => "an object",
    }
}

/// An image as a read gives it (the spec's `Image`).
#[derive(ToSchema)]
#[schema(as = Image)]
#[expect(dead_code, reason = "documents what `Image` serializes in a read")]
pub struct ImageRead {
    /// The asset shown (`GET /v1/assets/{id}` with a token).
    #[schema(example = "3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e")]
    asset_id: Uuid,
    /// The original's file.
    #[schema(example = "/v1/assets/3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e/face.jpg")]
    url: String,
    /// Width in pixels, as shown.
    #[schema(example = 1600)]
    width: i32,
    /// Height in pixels, as shown.
    #[schema(example = 1200)]
    height: i32,
    /// The alt text for the locale read: this use's own, else the asset's;
    /// `""` when decorative (or when neither has one, which only a draft may).
    #[schema(example = "A face after treatment")]
    alt: String,
    /// A decorative image is hidden from screen readers (`alt=""`).
    #[schema(example = false)]
    decorative: bool,
    /// A ThumbHash (base64): a blurred preview to show while the image loads.
    #[schema(example = "1QcSHQRnh493V4dIh4eXh1h4kJUI")]
    placeholder: String,
    /// Ready for `<img srcset>`: the ladder's widths below the original's, then the original.
    #[schema(
        example = "/v1/assets/3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e/face.jpg?w=64 64w, /v1/assets/3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e/face.jpg 1600w"
    )]
    srcset: String,
}

/// An image to show, in a write (the spec's `ImageWrite`). A read's image may
/// be sent back as read: its other fields are ignored.
#[derive(ToSchema)]
#[schema(as = ImageWrite)]
#[expect(dead_code, reason = "documents what `Image` reads in a write")]
pub struct ImageWriteDoc {
    /// An uploaded asset's id (`POST /v1/assets`).
    #[schema(example = "3f0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e")]
    asset_id: Uuid,
    /// This use's own alt text (in the locale written), overriding the
    /// asset's, at most 1,000 characters; `null` or `""` (what a read of a
    /// decorative image gives): none of its own, the asset's is shown.
    #[schema(example = json!(null), max_length = 1000)]
    alt: Option<String>,
    /// `true` for an image that adds nothing a screen reader should say.
    #[schema(example = false, default = false)]
    decorative: Option<bool>,
}

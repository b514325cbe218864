//! Images (API.md §15), apart from HTTP and the database: what the bytes
//! are, their size from the header alone, the placeholder, resized and
//! re-encoded variants, and the files they are kept in ([`store`]: a
//! directory or an S3-compatible object store, [`s3`]).
//!
//! Decoding and encoding run on tokio's blocking pool, at most
//! [`Media::permits`] at a time, never on the request threads.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

mod listed;
pub mod s3;
pub mod store;

pub use store::{Staged, Store};

/// Most pixels an upload may have (50 megapixels): more is refused before
/// anything is decoded (a decompression bomb).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The widths a variant may have (`?w=`): a fixed ladder, so that no one
/// can fill the disk with sizes.
pub const WIDTHS: [u32; 13] = [64, 128, 256, 320, 480, 640, 768, 960, 1280, 1600, 1920, 2560, 3840];
/// The quality of lossy variants when `?q=` is not given.
pub const DEFAULT_QUALITY: u8 = 80;
/// The placeholder is computed over a downscale fitting this square (ThumbHash's limit).
const PLACEHOLDER_SIZE: u32 = 100;
/// Most bytes a decoder may allocate: a 50-megapixel image in 16-bit RGBA fits.
const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;

/// An accepted image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `image/jpeg`.
    Jpeg,
    /// `image/png`.
    Png,
    /// `image/webp`.
    Webp,
    /// `image/gif`.
    Gif,
}

impl Format {
    /// Every accepted format.
    pub const ALL: [Format; 4] = [Format::Jpeg, Format::Png, Format::Webp, Format::Gif];

    /// What the bytes are, from their magic numbers; `None` for anything else.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Format::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Format::Webp)
        } else {
            None
        }
    }

    /// Its media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
        }
    }

    /// The format of a media type (its essence, case-insensitive).
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        Format::ALL
            .into_iter()
            .find(|format| format.content_type().eq_ignore_ascii_case(essence))
    }

    /// The file extension of a variant in this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::Webp => ImageFormat::WebP,
            Format::Gif => ImageFormat::Gif,
        }
    }
}

/// Why an image is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// The header cannot be read, or the pixels cannot be decoded.
    Unreadable(String),
    /// More than [`MAX_PIXELS`].
    TooManyPixels { width: u32, height: u32 },
}

/// What an upload is, once checked.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Its width as shown (its EXIF orientation applied).
    pub width: u32,
    /// Its height as shown.
    pub height: u32,
    /// ThumbHash of the image, in standard base64.
    pub placeholder: String,
    /// Its EXIF orientation (1-8; 1: as stored).
    pub orientation: u8,
}

fn reader(bytes: &[u8], format: Format) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    reader
}

/// The dimensions in the header of `bytes` (nothing is decoded).
pub fn dimensions(bytes: &[u8], format: Format) -> Result<(u32, u32), ImageError> {
    reader(bytes, format)
        .into_dimensions()
        .map_err(|err| ImageError::Unreadable(err.to_string()))
}

/// Decodes `bytes` (at most [`MAX_PIXELS`], checked from the header first)
/// with its EXIF orientation applied.
pub fn decode(bytes: &[u8], format: Format) -> Result<DynamicImage, ImageError> {
    decode_oriented(bytes, format).map(|(image, _)| image)
}

/// [`decode`], and the EXIF orientation it applied.
fn decode_oriented(bytes: &[u8], format: Format) -> Result<(DynamicImage, image::metadata::Orientation), ImageError> {
    let (width, height) = dimensions(bytes, format)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooManyPixels { width, height });
    }
    let unreadable = |err: image::ImageError| ImageError::Unreadable(err.to_string());
    let mut decoder = reader(bytes, format).into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    Ok((image, orientation))
}

/// Checks an upload and reads what is stored of it: its size as shown and
/// its placeholder. Refuses more than [`MAX_PIXELS`] before decoding.
pub fn probe(bytes: &[u8], format: Format) -> Result<Probe, ImageError> {
    let (image, orientation) = decode_oriented(bytes, format)?;
    let small = image.thumbnail(PLACEHOLDER_SIZE, PLACEHOLDER_SIZE).to_rgba8();
    let hash = thumbhash::rgba_to_thumb_hash(small.width() as usize, small.height() as usize, small.as_raw());
    use base64::Engine;
    Ok(Probe {
        width: image.width(),
        height: image.height(),
        placeholder: base64::engine::general_purpose::STANDARD.encode(hash),
        orientation: orientation.to_exif(),
    })
}

/// The bytes of an upload that are stored and served: without their EXIF
/// and XMP metadata (camera metadata, the GPS position among them; in a PNG
/// also its text chunks and time stamp), the `orientation` (EXIF 1-8) kept
/// in a minimal EXIF block of its own; the image data untouched. A GIF (it
/// has no such metadata), and a file whose structure cannot be walked, as
/// uploaded (decoding it succeeded, so that is not expected).
pub fn strip_metadata(bytes: &[u8], format: Format, orientation: u8) -> Vec<u8> {
    let stripped = match format {
        Format::Jpeg => strip_jpeg(bytes, orientation),
        Format::Png => strip_png(bytes, orientation),
        Format::Webp => strip_webp(bytes, orientation),
        Format::Gif => None,
    };
    stripped.unwrap_or_else(|| bytes.to_vec())
}

/// A TIFF block (big-endian) holding only an EXIF orientation: the payload
/// of a JPEG's EXIF segment (after `Exif\0\0`), a PNG's `eXIf` chunk and a
/// WebP's `EXIF` chunk.
fn orientation_tiff(orientation: u8) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    // One entry: 0x0112 (Orientation), SHORT, count 1, the value; no next IFD.
    tiff.extend_from_slice(&[0x00, 0x01, 0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, orientation, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff
}

/// An APP1 segment holding only an EXIF orientation.
fn orientation_segment(orientation: u8) -> Vec<u8> {
    let mut segment = vec![0xFF, 0xE1, 0x00, 0x22];
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&orientation_tiff(orientation));
    segment
}

/// A PNG without its `eXIf`, text (`tEXt`, `zTXt`, `iTXt`: XMP lives there)
/// and `tIME` chunks; an `eXIf` with only the orientation before the image
/// data if it is not 1.
fn strip_png(bytes: &[u8], orientation: u8) -> Option<Vec<u8>> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    const DROPPED: [&[u8]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];
    let mut rest = bytes.strip_prefix(SIGNATURE)?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(SIGNATURE);
    let mut oriented = orientation == 1;
    while !rest.is_empty() {
        let length = usize::try_from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
        let end = length.checked_add(12)?;
        let chunk = rest.get(..end)?;
        let kind = &chunk[4..8];
        if !oriented && (kind == b"IDAT" || kind == b"IEND") {
            let tiff = orientation_tiff(orientation);
            let mut exif = Vec::with_capacity(tiff.len() + 12);
            exif.extend_from_slice(&u32::try_from(tiff.len()).ok()?.to_be_bytes());
            exif.extend_from_slice(b"eXIf");
            exif.extend_from_slice(&tiff);
            let crc = crc32fast::hash(&exif[4..]);
            exif.extend_from_slice(&crc.to_be_bytes());
            out.extend_from_slice(&exif);
            oriented = true;
        }
        if !DROPPED.contains(&kind) {
            out.extend_from_slice(chunk);
        }
        rest = &rest[end..];
    }
    Some(out)
}

/// A WebP without its `EXIF` and `XMP ` chunks (and their flags in
/// `VP8X`); an `EXIF` chunk with only the orientation if it is not 1 (an
/// extended file only: a simple one cannot hold EXIF).
fn strip_webp(bytes: &[u8], orientation: u8) -> Option<Vec<u8>> {
    const EXIF_FLAG: u8 = 0x08;
    const XMP_FLAG: u8 = 0x04;
    if bytes.get(..4)? != b"RIFF" || bytes.get(8..12)? != b"WEBP" {
        return None;
    }
    let mut out = bytes[..12].to_vec();
    let mut rest = &bytes[12..];
    let mut extended = None;
    while !rest.is_empty() {
        let size = usize::try_from(u32::from_le_bytes(rest.get(4..8)?.try_into().ok()?)).ok()?;
        let end = size.checked_add(8 + size % 2)?;
        let chunk = rest.get(..end)?;
        match &chunk[..4] {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                extended = Some(out.len());
                out.extend_from_slice(chunk);
            }
            _ => out.extend_from_slice(chunk),
        }
        rest = &rest[end..];
    }
    if let Some(at) = extended {
        let flags = out.get_mut(at + 8)?;
        *flags &= !(EXIF_FLAG | XMP_FLAG);
        if orientation != 1 {
            *flags |= EXIF_FLAG;
            let tiff = orientation_tiff(orientation);
            out.extend_from_slice(b"EXIF");
            out.extend_from_slice(&u32::try_from(tiff.len()).ok()?.to_le_bytes());
            out.extend_from_slice(&tiff);
        }
    }
    let riff_size = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&riff_size.to_le_bytes());
    Some(out)
}

fn strip_jpeg(bytes: &[u8], orientation: u8) -> Option<Vec<u8>> {
    const XMP: [&[u8]; 2] = [b"http://ns.adobe.com/xap/1.0/", b"http://ns.adobe.com/xmp/extension/"];
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    let mut oriented = orientation == 1;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        match marker {
            // Fill bytes before a marker.
            0xFF => at += 1,
            // Start of scan or end of image: the rest is image data, copied as is.
            0xDA | 0xD9 => {
                out.extend_from_slice(&bytes[at..]);
                return Some(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&bytes[at..at + 2]);
                at += 2;
            }
            _ => {
                let length = usize::from(u16::from_be_bytes([*bytes.get(at + 2)?, *bytes.get(at + 3)?]));
                let end = at.checked_add(2)?.checked_add(length)?;
                let payload = bytes.get(at + 4..end)?;
                let exif = marker == 0xE1 && payload.starts_with(b"Exif\0\0");
                let xmp = marker == 0xE1 && XMP.iter().any(|prefix| payload.starts_with(prefix));
                if exif && !oriented {
                    out.extend_from_slice(&orientation_segment(orientation));
                    oriented = true;
                } else if !exif && !xmp {
                    out.extend_from_slice(&bytes[at..end]);
                }
                at = end;
            }
        }
    }
}

/// A variant of an image: its width (`None`: the original's) and format and
/// the quality of lossy formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Variant {
    /// Its width; the height keeps the aspect ratio.
    pub width: Option<u32>,
    /// Its format (GIF variants are PNG: only the first frame is kept).
    pub format: Format,
    /// JPEG and WebP quality, 1-100 (PNG has none).
    pub quality: u8,
    /// Cropped to exactly this size around a focal point (`width` is then unused).
    pub cover: Option<Cover>,
}

/// A crop to `width`×`height` (the largest part of the image of that aspect
/// ratio, as near centred on the focal point as fits, then scaled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cover {
    pub width: u32,
    pub height: u32,
    /// The focal point, in thousandths of the width and height.
    pub focal_x: u16,
    pub focal_y: u16,
}

impl Variant {
    /// Its file name among the variants of one original.
    pub fn file_name(&self) -> String {
        let size = match (self.cover, self.width) {
            (Some(cover), _) => format!("c{}x{}-f{}.{}", cover.width, cover.height, cover.focal_x, cover.focal_y),
            (None, Some(width)) => format!("w{width}"),
            (None, None) => "full".to_owned(),
        };
        // Lossy WebP files are "-l": lossless ones were once stored as `-q100.webp`,
        // and a variant's name names its bytes for good.
        let encoding = if self.format == Format::Webp { "-l" } else { "" };
        format!("{size}-q{}{encoding}.{}", self.quality, self.format.extension())
    }
}

/// The part of a `width`×`height` image that `cover` keeps: x, y, width, height.
fn cover_rect(width: u32, height: u32, cover: Cover) -> (u32, u32, u32, u32) {
    let (w, h) = (u64::from(width), u64::from(height));
    let (cw, ch) = (u64::from(cover.width.max(1)), u64::from(cover.height.max(1)));
    // Wider than the target: full height, part of the width; else the reverse.
    let (crop_w, crop_h) = if w * ch > h * cw {
        ((h * cw / ch).clamp(1, w), h)
    } else {
        (w, (w * ch / cw).clamp(1, h))
    };
    let place = |size: u64, crop: u64, focal: u16| {
        let centre = size * u64::from(focal.min(1000)) / 1000;
        centre.saturating_sub(crop / 2).min(size - crop)
    };
    let x = place(w, crop_w, cover.focal_x);
    let y = place(h, crop_h, cover.focal_y);
    let narrow = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
    (narrow(x), narrow(y), narrow(crop_w), narrow(crop_h))
}

/// Renders `variant` of the image `bytes` (in `format`).
pub fn render(bytes: &[u8], format: Format, variant: Variant) -> Result<Vec<u8>, ImageError> {
    let mut image = decode(bytes, format)?;
    if let Some(cover) = variant.cover {
        let (x, y, width, height) = cover_rect(image.width(), image.height(), cover);
        image = image.crop_imm(x, y, width, height).resize_exact(
            cover.width,
            cover.height,
            image::imageops::FilterType::CatmullRom,
        );
    } else if let Some(width) = variant.width.filter(|width| *width < image.width()) {
        let height = (u64::from(image.height()) * u64::from(width) / u64::from(image.width().max(1))).max(1);
        let height = u32::try_from(height).unwrap_or(u32::MAX);
        image = image.resize_exact(width, height, image::imageops::FilterType::CatmullRom);
    }
    let mut out = Vec::new();
    let failed = |err: image::ImageError| ImageError::Unreadable(err.to_string());
    match variant.format {
        Format::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, variant.quality.clamp(1, 100));
            DynamicImage::ImageRgb8(image.to_rgb8())
                .write_with_encoder(encoder)
                .map_err(failed)?;
        }
        Format::Webp => {
            // Lossy at `quality` (libwebp); RGB unless the image has alpha.
            let quality = f32::from(variant.quality.clamp(1, 100));
            let encoded = if image.color().has_alpha() {
                let pixels = image.to_rgba8();
                webp::Encoder::from_rgba(&pixels, pixels.width(), pixels.height()).encode_simple(false, quality)
            } else {
                let pixels = image.to_rgb8();
                webp::Encoder::from_rgb(&pixels, pixels.width(), pixels.height()).encode_simple(false, quality)
            };
            let encoded = encoded.map_err(|err| ImageError::Unreadable(format!("the WebP encoder failed: {err:?}")))?;
            out.extend_from_slice(&encoded);
        }
        Format::Png | Format::Gif => {
            let encoder = image::codecs::png::PngEncoder::new(&mut out);
            DynamicImage::ImageRgba8(image.to_rgba8())
                .write_with_encoder(encoder)
                .map_err(failed)?;
        }
    }
    Ok(out)
}

/// The media settings and work of one server.
#[derive(Debug)]
pub struct Media {
    /// Where the files are.
    pub store: Store,
    /// Most bytes an upload may have.
    pub max_bytes: usize,
    /// Most bytes of variants kept.
    pub variant_max_bytes: u64,
    /// Image work allowed at once (decoding is memory- and CPU-heavy).
    pub permits: tokio::sync::Semaphore,
    /// A lock per variant being made, so concurrent first requests for it
    /// make it once.
    making: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
    /// Variants made since start.
    made: std::sync::atomic::AtomicU64,
    /// The most recently served files' bytes, by path (a path names its
    /// bytes for good: originals by their hash, variants by hash and
    /// variant), at most [`FILE_CACHE_BYTES`].
    files: quick_cache::sync::Cache<PathBuf, Arc<Served>, ByLength>,
}

/// A file's bytes kept in memory, and when they were last served.
#[derive(Debug)]
pub struct Served {
    bytes: bytes::Bytes,
    /// Milliseconds since the Unix epoch.
    at: std::sync::atomic::AtomicU64,
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

/// Most bytes of files kept in memory for serving.
pub const FILE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Weighs a cached file by its length.
#[derive(Debug, Clone, Copy)]
pub struct ByLength;

impl quick_cache::Weighter<PathBuf, Arc<Served>> for ByLength {
    fn weight(&self, _: &PathBuf, served: &Arc<Served>) -> u64 {
        served.bytes.len().max(1) as u64
    }
}

impl Media {
    /// Media kept in `store`, uploads of at most `max_bytes`, at most
    /// `variant_max_bytes` of variants.
    pub fn new(store: Store, max_bytes: usize, variant_max_bytes: u64) -> Media {
        let workers = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Media {
            store,
            max_bytes,
            variant_max_bytes,
            permits: tokio::sync::Semaphore::new(workers),
            making: Mutex::default(),
            made: std::sync::atomic::AtomicU64::new(0),
            files: quick_cache::sync::Cache::with_weighter(1024, FILE_CACHE_BYTES, ByLength),
        }
    }

    /// How many variants this server has made (rendered and stored).
    pub fn variants_made(&self) -> u64 {
        self.made.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts a variant made.
    pub fn made_variant(&self) {
        self.made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs `work` on the blocking pool once a permit is free.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
        let _permit = self.permits.acquire().await.map_err(|err| err.to_string())?;
        tokio::task::spawn_blocking(work).await.map_err(|err| err.to_string())
    }

    /// The bytes of the file at `path` if they are in memory (noting that
    /// they are served now).
    pub fn served(&self, path: &Path) -> Option<bytes::Bytes> {
        let served = self.files.get(path)?;
        served.at.store(now_millis(), std::sync::atomic::Ordering::Relaxed);
        Some(served.bytes.clone())
    }

    /// Keeps the bytes of the file at `path` in memory, served now.
    pub fn keep(&self, path: &Path, bytes: bytes::Bytes) {
        let at = std::sync::atomic::AtomicU64::new(now_millis());
        self.files.insert(path.to_owned(), Arc::new(Served { bytes, at }));
    }

    /// Forgets the bytes of the file at `path` (removed from the store).
    pub fn forget(&self, path: &Path) {
        self.files.remove(path);
    }

    /// When the file at `path` was last served from memory, if it is there.
    pub fn last_served(&self, path: &Path) -> Option<std::time::SystemTime> {
        let at = self.files.peek(path)?.at.load(std::sync::atomic::Ordering::Relaxed);
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_millis(at))
    }

    /// The lock of the variant at `path`.
    pub fn making(&self, path: &Path) -> Arc<tokio::sync::Mutex<()>> {
        let mut making = self.making.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Locks no one holds any more are dropped, so the map stays small.
        making.retain(|_, lock| Arc::strong_count(lock) > 1);
        making.entry(path.to_owned()).or_default().clone()
    }
}

/// The asset directory `config` names: `LAMINA_ASSET_DIR`; else, with the
/// private cluster, `assets/` in its data directory; else (`DATABASE_URL`,
/// no data directory of ours) `lamina-assets/` in the OS's temporary directory.
pub fn asset_dir(config: &crate::config::Config) -> PathBuf {
    match (&config.asset_dir, &config.database_url) {
        (Some(dir), _) => dir.clone(),
        (None, None) => config.data_dir.join("assets"),
        (None, Some(_)) => std::env::temp_dir().join("lamina-assets"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cover_crop_is_centred_on_the_focal_point_as_far_as_it_fits() {
        let cover = |width, height, focal_x, focal_y| Cover {
            width,
            height,
            focal_x,
            focal_y,
        };
        // A 400×200 image to a square: 200×200, centred, at the left edge, at the right edge.
        assert_eq!(cover_rect(400, 200, cover(64, 64, 500, 500)), (100, 0, 200, 200));
        assert_eq!(cover_rect(400, 200, cover(64, 64, 0, 500)), (0, 0, 200, 200));
        assert_eq!(cover_rect(400, 200, cover(64, 64, 1000, 500)), (200, 0, 200, 200));
        assert_eq!(cover_rect(400, 200, cover(64, 64, 300, 500)), (20, 0, 200, 200));
        // To a wide strip: the full width, 100 rows around the focus.
        assert_eq!(cover_rect(400, 200, cover(256, 64, 500, 250)), (0, 0, 400, 100));
        assert_eq!(cover_rect(400, 200, cover(256, 64, 500, 750)), (0, 100, 400, 100));
    }

    /// A 4×2 PNG with `chunks` (type, data) inserted after its header.
    fn png_with(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut png = Vec::new();
        DynamicImage::new_rgb8(4, 2)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let header_end = 8 + 25;
        let mut out = png[..header_end].to_vec();
        for (kind, data) in chunks {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(*kind);
            out.extend_from_slice(data);
            let mut crc = crc32fast::Hasher::new();
            crc.update(*kind);
            crc.update(data);
            out.extend_from_slice(&crc.finalize().to_be_bytes());
        }
        out.extend_from_slice(&png[header_end..]);
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|window| window == needle)
    }

    #[test]
    fn png_metadata_is_removed_and_the_orientation_kept() {
        let mut exif = orientation_tiff(6);
        exif.extend_from_slice(b"GPSLatitude 48.2082");
        let xmp: &[u8] = b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>GPSLongitude 16.3738</x:xmpmeta>";
        let png = png_with(&[(b"eXIf", &exif), (b"iTXt", xmp), (b"tEXt", b"Comment\0at home")]);
        assert_eq!(probe(&png, Format::Png).unwrap().orientation, 6);
        let stripped = strip_metadata(&png, Format::Png, 6);
        for secret in [&b"GPSLatitude"[..], b"GPSLongitude", b"at home"] {
            assert!(contains(&png, secret) && !contains(&stripped, secret));
        }
        // Still a PNG every decoder reads, turned as before.
        let read = probe(&stripped, Format::Png).unwrap();
        assert_eq!((read.width, read.height, read.orientation), (2, 4, 6));
        // Without an orientation to keep, no eXIf at all.
        assert!(!contains(&strip_metadata(&png, Format::Png, 1), b"eXIf"));
    }

    #[test]
    fn webp_metadata_is_removed_and_the_orientation_kept() {
        let mut simple = Vec::new();
        DynamicImage::new_rgb8(4, 2)
            .write_to(&mut Cursor::new(&mut simple), image::ImageFormat::WebP)
            .unwrap();
        // Made extended: VP8X (EXIF and XMP flags), the image, EXIF, XMP.
        let mut exif = orientation_tiff(6);
        exif.extend_from_slice(b"GPSLatitude 48.2082");
        let xmp = b"<x:xmpmeta>GPSLongitude 16.3738</x:xmpmeta>!";
        let mut body = b"WEBP".to_vec();
        body.extend_from_slice(b"VP8X");
        body.extend_from_slice(&10u32.to_le_bytes());
        body.extend_from_slice(&[0x0C, 0, 0, 0, 3, 0, 0, 1, 0, 0]);
        body.extend_from_slice(&simple[12..]);
        for (kind, data) in [(b"EXIF", &exif[..]), (b"XMP ", &xmp[..])] {
            body.extend_from_slice(kind);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&(body.len() as u32).to_le_bytes());
        webp.extend_from_slice(&body);
        assert_eq!(probe(&webp, Format::Webp).unwrap().orientation, 6);
        let stripped = strip_metadata(&webp, Format::Webp, 6);
        for secret in [&b"GPSLatitude"[..], b"GPSLongitude"] {
            assert!(contains(&webp, secret) && !contains(&stripped, secret));
        }
        assert_eq!(stripped[20] & 0x0C, 0x08, "EXIF flag kept, XMP flag cleared");
        let read = probe(&stripped, Format::Webp).unwrap();
        assert_eq!((read.width, read.height, read.orientation), (2, 4, 6));
        assert_eq!(
            u32::from_le_bytes(stripped[4..8].try_into().unwrap()) as usize,
            stripped.len() - 8
        );
    }

    #[test]
    fn the_orientation_segment_is_read_back() {
        for orientation in 1..=8 {
            let segment = orientation_segment(orientation);
            assert_eq!(segment.len(), 2 + 0x22);
            assert_eq!(
                image::metadata::Orientation::from_exif_chunk(&segment[10..]).map(|o| o.to_exif()),
                Some(orientation)
            );
        }
    }

    #[test]
    fn the_magic_bytes_say_the_format() {
        assert_eq!(Format::sniff(b"\xFF\xD8\xFF\xE0rest"), Some(Format::Jpeg));
        assert_eq!(Format::sniff(b"\x89PNG\r\n\x1a\nrest"), Some(Format::Png));
        assert_eq!(Format::sniff(b"GIF89a..."), Some(Format::Gif));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(Format::sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(Format::sniff(b"<svg"), None);
        assert_eq!(Format::from_content_type("Image/JPEG; x=y"), Some(Format::Jpeg));
        assert_eq!(Format::from_content_type("image/svg+xml"), None);
    }
}

#[cfg(test)]
mod webp_tests {
    use super::*;

    /// A photo-like image: gradients and noise, so quality matters.
    fn noisy_jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut seed = 0x2545_f491_u32;
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = (seed % 48) as u8;
            image::Rgb([
                (x * 255 / width) as u8 ^ noise,
                (y * 255 / height) as u8,
                noise.wrapping_mul(3),
            ])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        out
    }

    fn webp(width: Option<u32>, quality: u8) -> Variant {
        Variant {
            width,
            format: Format::Webp,
            quality,
            cover: None,
        }
    }

    #[test]
    fn webp_variants_are_lossy_at_the_quality_asked() {
        let photo = noisy_jpeg(800, 600);
        let low = render(&photo, Format::Jpeg, webp(Some(640), 30)).unwrap();
        let high = render(&photo, Format::Jpeg, webp(Some(640), 90)).unwrap();
        assert!(
            low.len() < high.len(),
            "q=30: {} bytes, q=90: {} bytes",
            low.len(),
            high.len()
        );
        for bytes in [&low, &high] {
            assert_eq!(&bytes[8..12], b"WEBP");
            // VP8 (lossy), not VP8L.
            assert!(bytes.windows(4).any(|chunk| chunk == b"VP8 "), "not lossy");
            let decoded = image::load_from_memory_with_format(bytes, ImageFormat::WebP).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (640, 480));
        }
    }

    #[test]
    fn transparency_survives_a_lossy_webp() {
        let image = image::RgbaImage::from_fn(64, 64, |x, _| image::Rgba([200, 10, 10, if x < 32 { 0 } else { 255 }]));
        let mut png = Vec::new();
        DynamicImage::ImageRgba8(image)
            .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let bytes = render(&png, Format::Png, webp(None, 80)).unwrap();
        let decoded = image::load_from_memory_with_format(&bytes, ImageFormat::WebP)
            .unwrap()
            .to_rgba8();
        assert_eq!(decoded.get_pixel(5, 5)[3], 0);
        assert_eq!(decoded.get_pixel(50, 5)[3], 255);
    }

    #[test]
    fn lossy_webp_files_are_not_named_as_the_lossless_ones_were() {
        assert_eq!(webp(Some(640), 100).file_name(), "w640-q100-l.webp");
        let jpeg = Variant {
            format: Format::Jpeg,
            ..webp(Some(640), 80)
        };
        assert_eq!(jpeg.file_name(), "w640-q80.jpg");
    }

    /// Sizes and times of a 640w variant of a 12 MP photo (`LAMINA_BENCH_PHOTO`,
    /// scaled to 4000×3000): lossy WebP, lossless WebP (the encoder before) and JPEG.
    #[test]
    #[ignore = "a measurement: LAMINA_BENCH_PHOTO=photo.jpg cargo test --release --lib bench -- --ignored --nocapture"]
    fn bench_a_640w_variant_of_a_12_megapixel_photo() {
        let path = std::env::var("LAMINA_BENCH_PHOTO").unwrap();
        let source = image::open(path)
            .unwrap()
            .resize_exact(4000, 3000, image::imageops::FilterType::CatmullRom);
        let mut photo = Vec::new();
        source
            .write_to(&mut std::io::Cursor::new(&mut photo), ImageFormat::Jpeg)
            .unwrap();
        let time = |name: &str, run: &dyn Fn() -> usize| {
            let start = std::time::Instant::now();
            let size = run();
            println!(
                "{name}: {size} bytes in {:?} (decode + resize + encode)",
                start.elapsed()
            );
        };
        // Encoding alone: the same 640w image, as a PNG original, re-encoded.
        let mut small = Vec::new();
        source
            .resize_exact(640, 480, image::imageops::FilterType::CatmullRom)
            .write_to(&mut std::io::Cursor::new(&mut small), ImageFormat::Png)
            .unwrap();
        for quality in [80, 50] {
            time(&format!("640w PNG → webp q{quality}"), &|| {
                render(&small, Format::Png, webp(None, quality)).unwrap().len()
            });
        }
        let jpeg = Variant {
            format: Format::Jpeg,
            ..webp(None, 80)
        };
        time("640w PNG → jpeg q80", &|| {
            render(&small, Format::Png, jpeg).unwrap().len()
        });
        time("640w PNG → png", &|| {
            render(
                &small,
                Format::Png,
                Variant {
                    format: Format::Png,
                    ..jpeg
                },
            )
            .unwrap()
            .len()
        });
        time("webp lossy q80", &|| {
            render(&photo, Format::Jpeg, webp(Some(640), 80)).unwrap().len()
        });
        time("webp lossy q50", &|| {
            render(&photo, Format::Jpeg, webp(Some(640), 50)).unwrap().len()
        });
        let jpeg = Variant {
            format: Format::Jpeg,
            ..webp(Some(640), 80)
        };
        time("jpeg q80", &|| render(&photo, Format::Jpeg, jpeg).unwrap().len());
        time("webp lossless (before)", &|| {
            let small =
                decode(&photo, Format::Jpeg)
                    .unwrap()
                    .resize_exact(640, 480, image::imageops::FilterType::CatmullRom);
            let mut out = Vec::new();
            DynamicImage::ImageRgba8(small.to_rgba8())
                .write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out))
                .unwrap();
            out.len()
        });
    }
}

//! Media (API.md §15): uploading images (type from the bytes, size and
//! pixel limits), their metadata (If-Match), deleting them, and serving the
//! original and resized variants with immutable caching.

use std::io::Cursor;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use sha2::Digest;

use crate::common::{
    Reply, TestApp, TestService, bearer, call_if_match, delete_current, editing, editing_with, get_as, pointers, send,
    serving,
};

/// A `width`×`height` image with a gradient, encoded as `format`.
fn image(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x + y) % 256) as u8])
    });
    let mut bytes = Cursor::new(Vec::new());
    pixels.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    image(width, height, image::ImageFormat::Png)
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    image(width, height, image::ImageFormat::Jpeg)
}

/// A PNG whose header says `width`×`height` (its pixels are not there: a
/// decoder that trusted the header would allocate width×height×4 bytes).
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        bytes.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(data);
        bytes.extend_from_slice(&crc.sum().to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    bytes
}

/// `jpeg` with an EXIF segment after its SOI: orientation `orientation`
/// and a GPS IFD whose latitude reference is "N", followed by a marker text.
fn jpeg_with_gps(width: u32, height: u32, orientation: u8) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0 at 8: two entries (Orientation; GPSInfo → the GPS IFD at 38), no next IFD.
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0]);
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    // GPS IFD at 38: GPSLatitudeRef "N".
    tiff.extend_from_slice(&[0, 1, 0x00, 0x01, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend_from_slice(b"GPS-SECRET-48.8584N-2.2945E");
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&u16::try_from(2 + 6 + tiff.len()).unwrap().to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    let plain = jpeg(width, height);
    [&plain[..2], &segment, &plain[2..]].concat()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// `POST /v1/assets?filename=…` of `bytes` as `content_type` with `token`.
async fn upload<S: TestService<B>, B: actix_web::body::MessageBody>(
    service: &S,
    token: Option<&str>,
    filename: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> Reply {
    let mut request = TestRequest::post()
        .uri(&format!("/v1/assets?filename={filename}"))
        .insert_header(("Content-Type", content_type))
        .set_payload(bytes);
    if let Some(token) = token {
        request = request.insert_header(bearer(token));
    }
    send(service, request).await
}

/// `GET path` with `token` and extra headers.
async fn get_with<S: TestService<B>, B: actix_web::body::MessageBody>(
    service: &S,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = TestRequest::get().uri(path).insert_header(bearer(token));
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    send(service, request).await
}

/// Whether `Vary` lists `Accept` (CORS adds its own names).
fn varies_by_accept(reply: &Reply) -> bool {
    reply
        .header("vary")
        .is_some_and(|vary| vary.split(',').any(|name| name.trim().eq_ignore_ascii_case("accept")))
}

/// How many assets are stored.
async fn asset_count(app: &TestApp) -> i64 {
    use diesel::QueryDsl;
    use diesel_async::RunQueryDsl;
    lamina::db::schema::assets::table
        .count()
        .get_result(&mut app.db.conn().await)
        .await
        .unwrap()
}

/// The files below `dir` of the app's store (a directory, or an S3 bucket
/// under `.ci/s3`), by name.
fn stored_in(app: &TestApp, dir: &str) -> Vec<lamina::media::store::Listed> {
    let mut files = app.store().list(dir).unwrap();
    files.sort_by_key(|file| file.name());
    files
}

/// The names of the files in the store's originals directory.
fn originals(app: &TestApp) -> Vec<String> {
    stored_in(app, "originals").iter().map(|file| file.name()).collect()
}

/// The names of the stored variants of the asset with `sha256`.
fn variants(app: &TestApp, sha256: &str) -> Vec<String> {
    stored_in(app, &format!("variants/{sha256}"))
        .iter()
        .map(|file| file.name())
        .collect()
}

#[actix_web::test]
async fn an_upload_answers_the_asset_and_stores_its_file() {
    let (app, editor, service) = editing().await;
    let bytes = png(200, 150);
    let created = upload(&service, Some(&editor), "face.png", "image/png", bytes.clone()).await;
    created.assert_status(201);
    let asset = created.json();
    let id = asset["id"].as_str().unwrap().to_owned();
    let sha256 = format!("{:x}", sha2::Sha256::digest(&bytes));
    assert_eq!(created.header("location"), Some(format!("/v1/assets/{id}").as_str()));
    let etag = created.etag();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    let mut shape: Vec<&str> = asset.as_object().unwrap().keys().map(String::as_str).collect();
    shape.sort_unstable();
    assert_eq!(
        shape,
        [
            "alt",
            "bytes",
            "caption",
            "content_type",
            "created_at",
            "filename",
            "focal_point",
            "height",
            "id",
            "placeholder",
            "sha256",
            "url",
            "used_by",
            "version",
            "width"
        ]
    );
    assert_eq!(asset["filename"], "face.png");
    assert_eq!(asset["content_type"], "image/png");
    assert_eq!(asset["bytes"], bytes.len());
    assert_eq!(
        (asset["width"].as_u64(), asset["height"].as_u64()),
        (Some(200), Some(150))
    );
    assert_eq!(asset["sha256"], sha256);
    assert_eq!(asset["alt"], json!({}));
    assert_eq!(asset["caption"], Value::Null);
    assert_eq!(asset["focal_point"], json!({"x": 0.5, "y": 0.5}));
    assert_eq!(asset["url"], format!("/v1/assets/{id}/face.png"));
    assert_eq!(asset["used_by"], json!([]));
    assert_eq!(asset["version"], 1);
    // The placeholder is a ThumbHash of the image: its aspect ratio is the image's.
    use base64::Engine;
    let hash = base64::engine::general_purpose::STANDARD
        .decode(asset["placeholder"].as_str().unwrap())
        .unwrap();
    let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&hash).unwrap();
    assert!((ratio - 200.0 / 150.0).abs() < 0.1, "{ratio}");
    assert_eq!(originals(&app), std::slice::from_ref(&sha256));
    let store = app.store();
    assert_eq!(store.read(&store.original(&sha256)).unwrap(), bytes);

    let read = get_as(&service, &format!("/v1/assets/{id}"), &editor).await;
    read.assert_status(200);
    assert_eq!(read.json(), asset);
    assert_eq!(read.etag(), etag);

    // A JPEG too; and the same PNG again is a second asset sharing the file.
    let photo = upload(&service, Some(&editor), "photo.jpg", "image/jpeg", jpeg(300, 200)).await;
    photo.assert_status(201);
    assert_eq!(photo.json()["content_type"], "image/jpeg");
    assert_eq!(
        (photo.json()["width"].as_u64(), photo.json()["height"].as_u64()),
        (Some(300), Some(200))
    );
    let again = upload(&service, Some(&editor), "again.png", "image/png", bytes.clone()).await;
    again.assert_status(201);
    assert_ne!(again.json()["id"], asset["id"]);
    assert_eq!(again.json()["sha256"], sha256);
    assert_eq!(originals(&app).len(), 2);

    // The list, newest first, paged.
    let first = get_as(&service, "/v1/assets?limit=2", &editor).await;
    first.assert_status(200);
    let page = first.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["filename"], "again.png");
    let cursor = page["next_cursor"].as_str().unwrap();
    let second = get_as(&service, &format!("/v1/assets?limit=2&cursor={cursor}"), &editor).await;
    assert_eq!(second.json()["items"], json!([asset]));
    assert_eq!(second.json()["next_cursor"], Value::Null);
    get_as(&service, "/v1/assets?cursor=nope", &editor)
        .await
        .assert_problem(400, "invalid_cursor");
}

#[actix_web::test]
async fn an_upload_must_be_what_its_content_type_says() {
    let (app, editor, service) = editing().await;
    let refused = upload(&service, Some(&editor), "face.png", "image/jpeg", png(20, 20)).await;
    let problem = refused.assert_problem(415, "unsupported_media_type");
    assert!(problem["detail"].as_str().unwrap().contains("image/png"), "{problem}");
    upload(&service, Some(&editor), "face.png", "text/plain", png(20, 20))
        .await
        .assert_problem(415, "unsupported_media_type");
    upload(
        &service,
        Some(&editor),
        "face.svg",
        "image/png",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
    )
    .await
    .assert_problem(415, "unsupported_media_type");
    // PNG magic, then garbage: an image of its type that cannot be read.
    let mut broken = png(20, 20);
    broken.truncate(30);
    upload(&service, Some(&editor), "broken.png", "image/png", broken)
        .await
        .assert_problem(422, "invalid_image");
    upload(&service, Some(&editor), "a%2Fb.png", "image/png", png(20, 20))
        .await
        .assert_problem(400, "invalid_filename");
    assert_eq!(asset_count(&app).await, 0);
    assert_eq!(originals(&app), Vec::<String>::new());
}

#[actix_web::test]
async fn an_upload_over_the_byte_limit_is_413() {
    let (app, editor, service) = editing_with(|config| config.asset_max_bytes = 1_000).await;
    let big = png(300, 300);
    assert!(big.len() > 1_000);
    let problem = upload(&service, Some(&editor), "big.png", "image/png", big)
        .await
        .assert_problem(413, "payload_too_large");
    assert!(problem["detail"].as_str().unwrap().contains("1000 bytes"), "{problem}");
    // Under the limit is taken.
    let small = png(4, 4);
    assert!(small.len() < 1_000);
    assert_eq!(
        upload(&service, Some(&editor), "small.png", "image/png", small)
            .await
            .status,
        201
    );
    assert_eq!(asset_count(&app).await, 1);
}

#[actix_web::test]
async fn a_decompression_bomb_is_refused_from_its_header_at_once() {
    let (app, editor, service) = editing().await;
    let bomb = png_header(60_000, 60_000);
    assert!(bomb.len() < 100);
    let started = Instant::now();
    let problem = upload(&service, Some(&editor), "bomb.png", "image/png", bomb)
        .await
        .assert_problem(422, "image_too_large");
    let took = started.elapsed();
    eprintln!("a 60000×60000 PNG header refused in {took:?}");
    assert!(took < Duration::from_secs(1), "refused after {took:?}");
    assert!(problem["detail"].as_str().unwrap().contains("60000×60000"), "{problem}");
    assert_eq!(asset_count(&app).await, 0);
}

#[actix_web::test]
async fn uploads_need_an_editor_token() {
    let (app, service) = serving().await;
    upload(&service, None, "face.png", "image/png", png(10, 10))
        .await
        .assert_problem(401, "unauthorized");
    let preview = app.token("preview", lamina::auth::Role::Preview).await;
    upload(&service, Some(&preview), "face.png", "image/png", png(10, 10))
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(asset_count(&app).await, 0);
}

#[actix_web::test]
async fn put_changes_metadata_with_if_match() {
    let (_app, editor, service) = editing().await;
    let created = upload(&service, Some(&editor), "face.jpg", "image/jpeg", jpeg(64, 48)).await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/assets/{id}");
    let body = json!({
        "alt": {"en": "  A face after treatment "},
        "caption": {"en": "Day 3"},
        "focal_point": {"x": 0.25, "y": 0.75},
        "filename": "after.jpg",
    });
    let put = |tag: Option<String>, body: Value| {
        let mut request = TestRequest::put()
            .uri(&path)
            .insert_header(bearer(&editor))
            .set_json(body);
        if let Some(tag) = tag {
            request = request.insert_header(("If-Match", tag));
        }
        send(&service, request)
    };
    put(None, body.clone())
        .await
        .assert_problem(428, "precondition_required");
    put(
        Some("\"m.00000000000000000000000000000000.1\"".to_owned()),
        body.clone(),
    )
    .await
    .assert_problem(412, "precondition_failed");
    let changed = put(Some(created.etag()), body.clone()).await;
    changed.assert_status(200);
    let asset = changed.json();
    assert_eq!(asset["alt"], json!({"en": "A face after treatment"}));
    assert_eq!(asset["caption"], json!({"en": "Day 3"}));
    assert_eq!(asset["focal_point"], json!({"x": 0.25, "y": 0.75}));
    assert_eq!(asset["filename"], "after.jpg");
    assert_eq!(asset["url"], format!("/v1/assets/{id}/after.jpg"));
    assert_eq!(asset["version"], 2);
    assert_ne!(changed.etag(), created.etag());
    // The old tag no longer matches; the same change again keeps the version.
    put(Some(created.etag()), body.clone())
        .await
        .assert_problem(412, "precondition_failed");
    let same = put(Some(changed.etag()), body.clone()).await;
    assert_eq!((same.status.as_u16(), same.json()["version"].clone()), (200, json!(2)));
    assert_eq!(get_as(&service, &path, &editor).await.json(), asset);

    // Bad values: every problem with its pointer, nothing changed.
    let bad = put(
        Some("*".to_owned()),
        json!({"alt": {"en": ""}, "focal_point": {"x": 2, "y": 0.5}, "filename": "a/b", "size": 3}),
    )
    .await;
    bad.assert_problem(422, "validation_failed");
    let mut found = pointers(&bad.json()).into_iter().map(str::to_owned).collect::<Vec<_>>();
    found.sort();
    assert_eq!(found, ["/alt/en", "/filename", "/focal_point/x", "/size"]);
    put(Some("*".to_owned()), json!({"alt": {"xx": "Nope"}}))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(get_as(&service, &path, &editor).await.json(), asset);
}

#[actix_web::test]
async fn delete_needs_if_match_and_removes_the_file() {
    let (app, editor, service) = editing().await;
    let created = upload(&service, Some(&editor), "face.png", "image/png", png(80, 80)).await;
    let asset = created.json();
    let path = format!("/v1/assets/{}", asset["id"].as_str().unwrap());
    // A variant, to see it go too.
    let variant = get_as(&service, &format!("{}?w=64", asset["url"].as_str().unwrap()), &editor).await;
    variant.assert_status(200);
    delete_current(&service, &path, &editor, &created.etag(), "asset_not_found").await;
    get_as(&service, asset["url"].as_str().unwrap(), &editor)
        .await
        .assert_problem(404, "asset_not_found");
    assert_eq!(asset_count(&app).await, 0);
    assert_eq!(originals(&app), Vec::<String>::new());
    assert_eq!(variants(&app, asset["sha256"].as_str().unwrap()), Vec::<String>::new());
    call_if_match(&service, Method::DELETE, &path, &editor, "*")
        .await
        .assert_problem(404, "asset_not_found");
}

#[actix_web::test]
async fn files_are_served_immutable_with_variants_made_once() {
    let (app, editor, service) = editing().await;
    let bytes = png(300, 200);
    let asset = upload(&service, Some(&editor), "face.png", "image/png", bytes.clone())
        .await
        .json();
    let url = asset["url"].as_str().unwrap().to_owned();

    let original = get_as(&service, &url, &editor).await;
    original.assert_status(200);
    assert_eq!(original.body, bytes);
    assert_eq!(original.header("content-type"), Some("image/png"));
    assert_eq!(
        original.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let tag = original.etag();
    assert!(!tag.starts_with("W/"), "{tag}");
    assert_eq!(original.header("accept-ranges"), Some("bytes"));
    // Images are sent as they are, never compressed again.
    let gzip = get_with(&service, &url, &editor, &[("Accept-Encoding", "gzip, br")]).await;
    assert_eq!((gzip.header("content-encoding"), gzip.body == bytes), (None, true));
    let ten_bytes = [("Range", "bytes=10-19"), ("Accept-Encoding", "gzip")];
    let part = get_with(&service, &url, &editor, &ten_bytes).await;
    part.assert_status(206);
    assert_eq!(part.body, &bytes[10..20]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 10-19/{}", bytes.len()).as_str())
    );
    let tail = get_with(&service, &url, &editor, &[("Range", "bytes=-5"), ("If-Range", &tag)]).await;
    assert_eq!((tail.status.as_u16(), &tail.body[..]), (206, &bytes[bytes.len() - 5..]));
    let if_other = [("Range", "bytes=0-4"), ("If-Range", "\"o.other\"")];
    let stale = get_with(&service, &url, &editor, &if_other).await;
    assert_eq!((stale.status.as_u16(), stale.body.len()), (200, bytes.len()));
    let unsatisfiable = format!("bytes={}-", bytes.len() + 10);
    let whole = get_with(&service, &url, &editor, &[("Range", &unsatisfiable)]).await;
    assert_eq!((whole.status.as_u16(), whole.body.len()), (200, bytes.len()));
    let unchanged = get_with(&service, &url, &editor, &[("If-None-Match", &tag)]).await;
    unchanged.assert_status(304);
    assert!(unchanged.body.is_empty());

    let small = get_as(&service, &format!("{url}?w=64"), &editor).await;
    small.assert_status(200);
    assert_eq!(small.header("content-type"), Some("image/png"));
    assert_eq!(
        small.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let decoded = image::load_from_memory(&small.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 42));
    let small_tag = small.etag();
    assert_ne!(small_tag, tag);
    assert_eq!(variants(&app, asset["sha256"].as_str().unwrap()).len(), 1);
    let again = get_with(
        &service,
        &format!("{url}?w=64"),
        &editor,
        &[("If-None-Match", &small_tag)],
    )
    .await;
    again.assert_status(304);
    let repeat = get_as(&service, &format!("{url}?w=64"), &editor).await;
    assert_eq!((repeat.body == small.body, repeat.etag()), (true, small_tag.clone()));

    // JPEG at a quality, WebP by Accept with Vary.
    let photo = get_as(&service, &format!("{url}?w=128&fm=jpeg&q=50"), &editor).await;
    assert_eq!(photo.header("content-type"), Some("image/jpeg"));
    assert_eq!(image::load_from_memory(&photo.body).unwrap().width(), 128);
    let auto = format!("{url}?w=128&fm=auto");
    let webp = get_with(&service, &auto, &editor, &[("Accept", "image/avif,image/webp,*/*")]).await;
    assert_eq!(webp.header("content-type"), Some("image/webp"));
    assert!(varies_by_accept(&webp), "{:?}", webp.header("vary"));
    assert_eq!(image::load_from_memory(&webp.body).unwrap().width(), 128);
    let plain = get_with(&service, &auto, &editor, &[("Accept", "*/*")]).await;
    assert_eq!(plain.header("content-type"), Some("image/png"));
    assert!(varies_by_accept(&plain), "{:?}", plain.header("vary"));
    assert!(!varies_by_accept(&photo), "{:?}", photo.header("vary"));
    assert_ne!(plain.etag(), webp.etag());

    // Cropped to cover around the focal point (left edge: the red end of the gradient).
    let cover = format!("{url}?w=128&h=128&fit=cover");
    let centred = get_as(&service, &cover, &editor).await;
    centred.assert_status(200);
    let square = image::load_from_memory(&centred.body).unwrap().to_rgb8();
    assert_eq!(square.dimensions(), (128, 128));
    let id = asset["id"].as_str().unwrap();
    let moved = TestRequest::put()
        .uri(&format!("/v1/assets/{id}"))
        .insert_header(bearer(&editor))
        .insert_header(("If-Match", "*"))
        .set_json(json!({"focal_point": {"x": 0.0, "y": 0.5}}));
    assert_eq!(send(&service, moved).await.status, 200);
    let left = get_as(&service, &cover, &editor).await;
    assert_ne!(left.etag(), centred.etag());
    let left = image::load_from_memory(&left.body).unwrap().to_rgb8();
    // The gradient's red grows to the right: the left crop starts at 0, the centred one at 50.
    assert!(left.get_pixel(0, 64)[0] < 10, "{:?}", left.get_pixel(0, 64));
    assert!(square.get_pixel(0, 64)[0] > 30, "{:?}", square.get_pixel(0, 64));

    // Widths off the ladder or wider than the image; bad formats and qualities; h without fit.
    for query in [
        "w=100",
        "w=320",
        "w=0",
        "q=0",
        "q=101",
        "h=64",
        "fit=cover&w=64",
        "w=64&h=256&fit=cover",
    ] {
        get_as(&service, &format!("{url}?{query}"), &editor)
            .await
            .assert_problem(400, "invalid_variant");
    }
    get_as(&service, &format!("{url}?fm=tiff"), &editor)
        .await
        .assert_problem(400, "invalid_query");
    get_as(&service, &format!("{url}?width=64"), &editor)
        .await
        .assert_problem(400, "unknown_query_parameter");
    let other_name = url.replace("face.png", "other.png");
    get_as(&service, &other_name, &editor)
        .await
        .assert_problem(404, "asset_not_found");
    // Not public yet.
    crate::common::get(&service, &url)
        .await
        .assert_problem(401, "unauthorized");
}

#[actix_web::test]
async fn concurrent_first_requests_make_a_variant_once() {
    let app = TestApp::new().await;
    let (state, service) = app.node().await;
    let editor = app.editor().await;
    let asset = upload(&service, Some(&editor), "face.jpg", "image/jpeg", jpeg(1000, 600))
        .await
        .json();
    let url = format!("{}?w=640&fm=webp", asset["url"].as_str().unwrap());
    let started = Instant::now();
    let replies = futures_util::future::join_all((0..20).map(|_| get_as(&service, &url, &editor))).await;
    eprintln!(
        "20 concurrent first requests of a 640w WebP of a 1000×600 JPEG answered in {:?} (debug build)",
        started.elapsed()
    );
    let first = &replies[0];
    first.assert_status(200);
    for reply in &replies {
        assert_eq!(
            (reply.status, reply.etag(), reply.body == first.body),
            (first.status, first.etag(), true)
        );
    }
    let files = variants(&app, asset["sha256"].as_str().unwrap());
    // Made once: one file, no temporary left behind.
    assert_eq!(state.media.variants_made(), 1);
    assert_eq!(files.len(), 1, "{files:?}");
}

#[actix_web::test]
async fn gps_is_removed_and_orientation_applied() {
    let (_app, editor, service) = editing().await;
    // Stored 120×80, shown turned a quarter (orientation 6): 80×120.
    let uploaded = jpeg_with_gps(120, 80, 6);
    assert!(contains(&uploaded, b"GPS-SECRET"));
    let created = upload(&service, Some(&editor), "trip.jpg", "image/jpeg", uploaded.clone()).await;
    created.assert_status(201);
    let asset = created.json();
    assert_eq!(
        (asset["width"].as_u64(), asset["height"].as_u64()),
        (Some(80), Some(120))
    );
    let url = asset["url"].as_str().unwrap();

    // The original: no EXIF but the orientation, the image data untouched.
    let original = get_as(&service, url, &editor).await;
    original.assert_status(200);
    assert!(!contains(&original.body, b"GPS-SECRET"));
    assert!(!contains(&original.body, &[0x88, 0x25]), "the GPSInfo tag is gone");
    assert!(original.body.len() < uploaded.len());
    assert_eq!(asset["bytes"], original.body.len());
    assert_eq!(asset["sha256"], format!("{:x}", sha2::Sha256::digest(&original.body)));
    let mut decoder = image::ImageReader::new(Cursor::new(&original.body))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    use image::ImageDecoder;
    assert_eq!(decoder.orientation().unwrap(), image::metadata::Orientation::Rotate90);
    let decoded = image::load_from_memory(&original.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (120, 80));

    // A variant: turned, no EXIF at all.
    let variant = get_as(&service, &format!("{url}?w=64"), &editor).await;
    variant.assert_status(200);
    assert!(!contains(&variant.body, b"Exif"));
    let decoded = image::load_from_memory(&variant.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 96));
}

#[actix_web::test]
async fn variants_past_the_bound_go_least_recently_served_first() {
    let mut app = TestApp::new().await;
    let bytes = png(400, 300);
    // Room for the two smaller variants, not for a third.
    app.config.asset_cache_max_bytes = 70_000;
    let (state, service) = app.node().await;
    let editor = app.editor().await;
    let asset = upload(&service, Some(&editor), "face.png", "image/png", bytes.clone())
        .await
        .json();
    let url = asset["url"].as_str().unwrap().to_owned();
    let sha256 = asset["sha256"].as_str().unwrap();
    let stored = || variants(&app, sha256);
    let size = |name: &str| {
        let dir = format!("variants/{sha256}");
        stored_in(&app, &dir)
            .into_iter()
            .find(|file| file.name() == name)
            .unwrap()
            .bytes
    };
    assert_eq!(get_as(&service, &format!("{url}?w=64"), &editor).await.status, 200);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(get_as(&service, &format!("{url}?w=128"), &editor).await.status, 200);
    tokio::time::sleep(Duration::from_millis(20)).await;
    // w=64 served again: now the most recently used.
    assert_eq!(get_as(&service, &format!("{url}?w=64"), &editor).await.status, 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(stored(), ["w128-q100.png", "w64-q100.png"]);
    let (small, medium) = (size("w64-q100.png"), size("w128-q100.png"));
    assert!(small + medium < 70_000, "{small} + {medium}");
    let large = get_as(&service, &format!("{url}?w=256"), &editor).await;
    large.assert_status(200);
    let large = size("w256-q100.png");
    assert!(
        large + small + medium > 70_000 && large + small <= 70_000,
        "{large} {small} {medium}"
    );
    // w=128 was the least recently served: it went; the original stays.
    assert_eq!(stored(), ["w256-q100.png", "w64-q100.png"]);
    assert_eq!(originals(&app).len(), 1);
    assert_eq!(get_as(&service, &url, &editor).await.body, bytes);
    // Asked for again, it is made again.
    assert_eq!(state.media.variants_made(), 3);
    let again = get_as(&service, &format!("{url}?w=128"), &editor).await;
    again.assert_status(200);
    assert_eq!(state.media.variants_made(), 4);
}

// ---------------------------------------------------------------------------
// Images in content: hero_image and item images.

/// The seed article as the editor reads it, as a write body.
async fn seed_write<S: TestService<B>, B: actix_web::body::MessageBody>(service: &S, editor: &str) -> Value {
    crate::common::as_write(&get_as(service, crate::common::SEED, editor).await.json())
}

/// An editor's service with an uploaded `width`×`height` PNG, `face.png`: the asset and its id.
async fn with_asset(width: u32, height: u32) -> (TestApp, String, impl crate::common::AppService, Value, String) {
    let (app, editor, service) = editing().await;
    let created = upload(&service, Some(&editor), "face.png", "image/png", png(width, height)).await;
    created.assert_status(201);
    let asset = created.json();
    let id = asset["id"].as_str().unwrap().to_owned();
    (app, editor, service, asset, id)
}

#[actix_web::test]
async fn articles_show_images_with_srcset_and_published_ones_need_alt_text() {
    let (_app, editor, service, asset, id) = with_asset(800, 600).await;
    let id = id.as_str();
    let url = format!("/v1/assets/{id}/face.png");
    // Not used yet: the file is not public.
    crate::common::get(&service, &url)
        .await
        .assert_problem(401, "unauthorized");
    let before = get_as(&service, crate::common::SEED, &editor).await.json();
    assert_eq!(before["hero_image"], Value::Null);
    assert_eq!(before["sections"][1]["kind"], "steps");
    assert_eq!(before["sections"][1]["items"][0]["image"], Value::Null);

    // A published article: an image needs alt text (its own or the asset's) or decorative.
    let mut body = seed_write(&service, &editor).await;
    body["hero_image"] = json!({"asset_id": id});
    body["sections"][1]["items"][0]["image"] = json!({"asset_id": "00000000-0000-4000-8000-000000000000", "alt": "x"});
    let refused = crate::common::put_over(&service, crate::common::SEED, &editor, &body).await;
    crate::common::assert_invalid(&refused, &["/hero_image/alt", "/sections/1/items/0/image/asset_id"]);
    assert_eq!(get_as(&service, crate::common::SEED, &editor).await.json(), before);

    body["hero_image"] = json!({"asset_id": id, "alt": "A face after treatment"});
    body["sections"][1]["items"][0]["image"] = json!({"asset_id": id, "decorative": true});
    let written = crate::common::put_over(&service, crate::common::SEED, &editor, &body).await;
    written.assert_status(200);
    let read = crate::common::get(&service, crate::common::SEED).await;
    read.assert_status(200);
    let article = read.json();
    let ladder = [64, 128, 256, 320, 480, 640, 768]
        .map(|width| format!("{url}?w={width} {width}w"))
        .join(", ");
    assert_eq!(
        article["hero_image"],
        json!({
            "asset_id": id,
            "url": url,
            "width": 800,
            "height": 600,
            "alt": "A face after treatment",
            "decorative": false,
            "placeholder": asset["placeholder"],
            "srcset": format!("{ladder}, {url} 800w"),
        })
    );
    let step = &article["sections"][1]["items"][0]["image"];
    assert_eq!(
        (step["alt"].as_str(), step["decorative"].as_bool()),
        (Some(""), Some(true))
    );
    // The section and the item read on their own show it too.
    let steps = format!("{}/sections/steps", crate::common::SEED);
    assert_eq!(
        crate::common::get(&service, &steps).await.json()["items"][0]["image"],
        *step
    );
    let item_id = article["sections"][1]["items"][0]["id"].as_str().unwrap();
    let item = crate::common::get(&service, &format!("{steps}/items/{item_id}")).await;
    assert_eq!(item.json()["image"], *step);

    // Used by published content: anyone may fetch the file.
    crate::common::get(&service, &url).await.assert_status(200);
    // Where it is used, and no deletion while it is.
    let path = format!("/v1/assets/{id}");
    let listed = get_as(&service, &path, &editor).await.json();
    let slug = "explore-micro-needling-for-flawless-skin-today";
    assert_eq!(
        listed["used_by"],
        json!([
            {"slug": slug, "pointer": "/hero_image"},
            {"slug": slug, "pointer": "/sections/1/items/0/image"},
        ])
    );
    let in_use = call_if_match(&service, Method::DELETE, &path, &editor, "*").await;
    let problem = in_use.assert_problem(409, "asset_in_use");
    assert!(problem["detail"].as_str().unwrap().contains("/hero_image"), "{problem}");
    get_as(&service, &path, &editor).await.assert_status(200);

    // The read sent back is the same write: nothing changes.
    let again = crate::common::put_over(
        &service,
        crate::common::SEED,
        &editor,
        &crate::common::as_write(&article),
    )
    .await;
    again.assert_status(200);
    assert_eq!(again.json()["version"], article["version"]);
    // Images removed: the asset is free again.
    body["hero_image"] = Value::Null;
    body["sections"][1]["items"][0].as_object_mut().unwrap().remove("image");
    crate::common::put_over(&service, crate::common::SEED, &editor, &body)
        .await
        .assert_status(200);
    assert_eq!(get_as(&service, &path, &editor).await.json()["used_by"], json!([]));
    crate::common::get(&service, &url)
        .await
        .assert_problem(401, "unauthorized");
    call_if_match(&service, Method::DELETE, &path, &editor, "*")
        .await
        .assert_status(204);
}

#[actix_web::test]
async fn an_asset_change_is_a_change_of_every_article_showing_it() {
    let (app, editor, service, _, id) = with_asset(300, 200).await;
    let path = format!("/v1/assets/{id}");
    let alt = json!({"alt": {"en": "A face"}});
    let named = crate::common::put_over(&service, &path, &editor, &alt).await;
    named.assert_status(200);
    let mut body = seed_write(&service, &editor).await;
    body["hero_image"] = json!({"asset_id": id});
    crate::common::put_over(&service, crate::common::SEED, &editor, &body)
        .await
        .assert_status(200);
    let first = crate::common::get(&service, crate::common::SEED).await;
    assert_eq!(first.json()["hero_image"]["alt"], "A face");
    let revisions = app.revision_count().await;

    // The asset's alt text is what the article shows: its change is the article's.
    let renamed = json!({"alt": {"en": "A face, three days later"}, "filename": "later.png"});
    crate::common::put_over(&service, &path, &editor, &renamed)
        .await
        .assert_status(200);
    let second = crate::common::get(&service, crate::common::SEED).await;
    let article = second.json();
    assert_eq!(article["hero_image"]["alt"], "A face, three days later");
    assert_eq!(article["hero_image"]["url"], format!("/v1/assets/{id}/later.png"));
    assert_eq!(article["version"], first.json()["version"].as_i64().unwrap() + 1);
    assert_ne!(second.etag(), first.etag());
    assert_eq!(app.revision_count().await, revisions + 1);

    // A published use without alt text of its own keeps the asset's.
    let bare = crate::common::put_over(&service, &path, &editor, &json!({"alt": {}})).await;
    crate::common::assert_invalid(&bare, &["/alt/en"]);
    assert_eq!(
        crate::common::get(&service, crate::common::SEED).await.json()["hero_image"]["alt"],
        "A face, three days later"
    );
}

#[actix_web::test]
async fn an_image_shows_alt_text_in_the_locale_read() {
    let (app, editor, service, _, id) = with_asset(300, 200).await;
    let admin = app.token("admin", lamina::auth::Role::Admin).await;
    crate::common::put_as(&service, "/v1/locales/de", &admin, &json!({"name": "Deutsch"}))
        .await
        .assert_status(201);
    let path = format!("/v1/assets/{id}");
    crate::common::put_over(
        &service,
        &path,
        &editor,
        &json!({"alt": {"en": "A face", "de": "Ein Gesicht"}}),
    )
    .await
    .assert_status(200);
    let mut body = seed_write(&service, &editor).await;
    body["hero_image"] = json!({"asset_id": id});
    body["sections"][1]["items"][0]["image"] = json!({"asset_id": id, "alt": "The first step"});
    crate::common::put_over(&service, crate::common::SEED, &editor, &body)
        .await
        .assert_status(200);
    let german = get_as(&service, &format!("{}?locale=de", crate::common::SEED), &editor)
        .await
        .json();
    // The asset's German alt text; the use's own (English) one overrides the asset's, a fallback.
    assert_eq!(german["hero_image"]["alt"], "Ein Gesicht");
    assert_eq!(german["sections"][1]["items"][0]["image"]["alt"], "The first step");
    assert_eq!(german["fallbacks"].get("/hero_image/alt"), None);
    assert_eq!(german["fallbacks"]["/sections/1/items/0/image/alt"], "en");

    // The use's own text translated: a German write of the read.
    let mut translated = german.clone();
    translated["sections"][1]["items"][0]["image"]["alt"] = json!("Der erste Schritt");
    crate::common::write_in_locale(&service, &editor, "de", &translated).await;
    let german = get_as(&service, &format!("{}?locale=de", crate::common::SEED), &editor)
        .await
        .json();
    assert_eq!(german["sections"][1]["items"][0]["image"]["alt"], "Der erste Schritt");
    assert_eq!(german["fallbacks"].get("/sections/1/items/0/image/alt"), None);
    // A different asset in German is structure: refused.
    translated["hero_image"]["asset_id"] = json!("00000000-0000-4000-8000-000000000000");
    let refused = crate::common::put_over(
        &service,
        &format!("{}?locale=de", crate::common::SEED),
        &editor,
        &translated,
    )
    .await;
    crate::common::assert_invalid(&refused, &["/hero_image/asset_id"]);
    // The default locale still reads its own.
    let english = get_as(&service, crate::common::SEED, &editor).await.json();
    assert_eq!(english["hero_image"]["alt"], "A face");
    assert_eq!(english["sections"][1]["items"][0]["image"]["alt"], "The first step");
}

#[actix_web::test]
async fn nodes_sharing_a_store_serve_each_others_images() {
    // Two nodes, each with its own memory; under `.ci/s3` their store is one
    // S3 bucket, else one directory.
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let (a_state, a) = app.node().await;
    let (b_state, b) = app.node().await;
    let bytes = png(300, 200);
    let asset = upload(&a, Some(&editor), "face.png", "image/png", bytes.clone())
        .await
        .json();
    let (id, url) = (asset["id"].as_str().unwrap(), asset["url"].as_str().unwrap());
    assert_eq!(get_as(&b, url, &editor).await.body, bytes);
    // The variant B makes is the one A serves, without making it again.
    let made = get_as(&b, &format!("{url}?w=64"), &editor).await;
    made.assert_status(200);
    let served = get_as(&a, &format!("{url}?w=64"), &editor).await;
    assert_eq!((served.etag(), &served.body), (made.etag(), &made.body));
    assert_eq!((a_state.media.variants_made(), b_state.media.variants_made()), (0, 1));
    // Deleted through B: gone from the store, and from A.
    call_if_match(&b, Method::DELETE, &format!("/v1/assets/{id}"), &editor, "*")
        .await
        .assert_status(204);
    get_as(&a, url, &editor).await.assert_problem(404, "asset_not_found");
    assert_eq!(originals(&app), Vec::<String>::new());
    assert_eq!(variants(&app, asset["sha256"].as_str().unwrap()), Vec::<String>::new());
}

#[actix_web::test]
async fn an_unreachable_object_store_is_503_and_refused_at_start() {
    use crate::common::LaminaProcess;
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut app = TestApp::new().await;
    app.config.asset_store = Some("s3://lamina-test/unreachable".to_owned());
    app.config.asset_store_endpoint = Some(endpoint.clone());
    let (_, service) = app.node().await;
    let editor = app.editor().await;
    let refused = upload(&service, Some(&editor), "face.png", "image/png", png(20, 20)).await;
    let problem = refused.assert_problem(503, "service_unavailable");
    assert_eq!(problem["detail"], "The asset store is unreachable; try again shortly.");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(asset_count(&app).await, 0);

    let env = [
        ("LAMINA_ASSET_STORE", "s3://lamina-test/unreachable"),
        ("LAMINA_ASSET_STORE_ENDPOINT", endpoint.as_str()),
    ];
    let mut node = LaminaProcess::serve_with(&app.db.url, "unreachable-store", &env);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = node.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still running:\n{}",
            node.log()
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success());
    let log = node.log();
    assert!(
        log.contains(&format!(
            "the asset store (s3://lamina-test/unreachable/ at {endpoint}) cannot be used"
        )),
        "{log}"
    );
}

/// `lamina serve` on an object store whose bucket does not exist yet makes
/// it, then serves uploads from it. Only under `.ci/s3` (LAMINA_TEST_ASSET_STORE):
/// a directory has no bucket to make.
#[actix_web::test]
async fn serve_makes_a_missing_bucket() {
    use crate::common::LaminaProcess;
    let app = TestApp::new().await;
    let Some(store) = &app.config.asset_store else {
        eprintln!("serve_makes_a_missing_bucket: the test store is a directory; run under .ci/s3");
        return;
    };
    let (_, prefix) = store.trim_start_matches("s3://").split_once('/').unwrap();
    let url = format!("s3://{}/{prefix}", prefix.replace('_', "-"));
    let mut node = LaminaProcess::serve_with(&app.db.url, "new-bucket", &[("LAMINA_ASSET_STORE", url.as_str())]);
    node.wait_ready().await;
    assert!(node.log().contains("assets: created the bucket of "), "{}", node.log());
    let editor = app.editor().await;
    let client = awc::Client::default();
    let mut created = client
        .post(node.url("/v1/assets?filename=face.png"))
        .insert_header(crate::common::bearer(&editor))
        .insert_header(("Content-Type", "image/png"))
        .send_body(png(40, 30))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let asset: Value = created.json().await.unwrap();
    let mut file = client
        .get(node.url(asset["url"].as_str().unwrap()))
        .insert_header(crate::common::bearer(&editor))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.body().await.unwrap().to_vec(), png(40, 30));
}

#[actix_web::test]
async fn a_kill_during_uploads_leaves_no_file_without_its_row() {
    use crate::common::LaminaProcess;
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let store = app.store();
    let env = app.asset_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let mut node = LaminaProcess::serve_with(&app.db.url, "uploads", &env);
    node.wait_ready().await;
    // What an upload killed between placing its file and committing its
    // row leaves.
    let orphan = store.original(&"0".repeat(64));
    store.write(&orphan, &png(8, 8)).unwrap();
    // On disk, also an hour-old temporary file, and one being written now
    // (an object store has none: an object is written by one PUT).
    let temporaries = matches!(store, lamina::media::Store::Disk(_)).then(|| {
        let stale = orphan.with_file_name(".tmp-stale");
        std::fs::write(&stale, b"half an image").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(7200))
            .unwrap();
        let fresh = orphan.with_file_name(".tmp-fresh");
        std::fs::write(&fresh, b"being written").unwrap();
        (stale, fresh)
    });

    // Uploads in flight when the node is killed.
    let url = node.url("/v1/assets?filename=face.png");
    let uploads: Vec<_> = (0..6u32)
        .map(|n| {
            let (url, editor) = (url.clone(), editor.clone());
            actix_web::rt::spawn(async move {
                let client = awc::Client::builder().timeout(Duration::from_secs(10)).finish();
                for round in 0..50u32 {
                    let sent = client
                        .post(&url)
                        .insert_header(crate::common::bearer(&editor))
                        .insert_header(("Content-Type", "image/png"))
                        .send_body(png(16 + n, 16 + round))
                        .await;
                    if sent.is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    node.kill();
    for upload in uploads {
        let _ = upload.await;
    }
    let mut node = LaminaProcess::serve_with(&app.db.url, "uploads-again", &env);
    node.wait_ready().await;
    let swept = node.log_with("assets: removed").await;
    assert!(swept.contains("assets: removed"), "{swept}");

    // Every stored file has its row, every row its file.
    use diesel::QueryDsl;
    use diesel_async::RunQueryDsl;
    let mut keys: Vec<String> = lamina::db::schema::assets::table
        .select(lamina::db::schema::assets::storage_key)
        .distinct()
        .load(&mut app.db.conn().await)
        .await
        .unwrap();
    keys.sort();
    assert!(!keys.is_empty(), "some uploads finished before the kill");
    let files: Vec<String> = originals(&app)
        .into_iter()
        .filter(|name| !name.starts_with(".tmp-"))
        .collect();
    assert_eq!(files, keys);
    assert!(!store.exists(&orphan).unwrap());
    if let Some((stale, fresh)) = temporaries {
        assert!(!stale.exists() && fresh.exists());
    }
}

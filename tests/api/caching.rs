//! Validators, conditional GETs and HEAD.

use actix_web::test::TestRequest;

use crate::common::{SEED, TestApp, get, get_with, send, serving};

/// Asserts that the header `name` (a list, any case) names each of `expected`.
fn assert_lists(reply: &crate::common::Reply, name: &str, expected: &[&str]) {
    let listed = reply.header(name).unwrap().to_ascii_lowercase();
    for header in expected {
        assert!(listed.contains(header), "{listed}");
    }
}

#[actix_web::test]
async fn reads_carry_validators_and_cache_headers() {
    let (_app, service) = serving().await;
    let reply = get(&service, SEED).await;
    let etag = reply.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag}");
    assert!(reply.header("last-modified").unwrap().ends_with(" GMT"));
    let cache_control = reply.header("cache-control").unwrap();
    assert!(
        cache_control.contains("public")
            && cache_control.contains("s-maxage")
            && cache_control.contains("stale-while-revalidate")
    );
    let article = reply.json();
    let keys = reply.header("surrogate-key").unwrap();
    let article_id = article["id"].as_str().unwrap().replace('-', "");
    assert!(keys.contains(&format!("article-{article_id}")), "{keys}");
    for section in article["sections"].as_array().unwrap() {
        assert!(keys.contains(&format!("section-{}", section["id"].as_str().unwrap().replace('-', ""))));
    }
}

#[actix_web::test]
async fn if_none_match_answers_304_without_a_body() {
    let (_app, service) = serving().await;
    for path in [
        SEED.to_owned(),
        format!("{SEED}/sections/steps"),
        format!("{SEED}/sections"),
        "/v1/articles".to_owned(),
    ] {
        let etag = get(&service, &path).await.header("etag").unwrap().to_owned();
        for condition in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"other\", {etag}"),
            "*".to_owned(),
        ] {
            let reply = get_with(&service, &path, &[("If-None-Match", &condition)]).await;
            assert_eq!(reply.status, 304, "{path} with If-None-Match: {condition}");
            assert!(reply.body.is_empty());
            assert_eq!(reply.header("etag"), Some(etag.as_str()));
            assert!(reply.header("cache-control").is_some());
        }
        let reply = get_with(&service, &path, &[("If-None-Match", "\"stale\"")]).await;
        assert_eq!(reply.status, 200, "{path}");
        assert!(!reply.body.is_empty());
    }
}

#[actix_web::test]
async fn if_modified_since_is_honoured_without_if_none_match() {
    let (_app, service) = serving().await;
    let last_modified = get(&service, SEED).await.header("last-modified").unwrap().to_owned();
    let reply = get_with(&service, SEED, &[("If-Modified-Since", &last_modified)]).await;
    reply.assert_status(304);
    let reply = get_with(
        &service,
        SEED,
        &[("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")],
    )
    .await;
    reply.assert_status(200);
    // If-None-Match wins over If-Modified-Since.
    let reply = get_with(
        &service,
        SEED,
        &[("If-Modified-Since", &last_modified), ("If-None-Match", "\"stale\"")],
    )
    .await;
    reply.assert_status(200);
}

#[actix_web::test]
async fn head_answers_like_get_without_a_body() {
    let (_app, service) = serving().await;
    let full = get(&service, &format!("{SEED}/sections/risks")).await;
    let head = send(
        &service,
        TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(&format!("{SEED}/sections/risks")),
    )
    .await;
    head.assert_status(200);
    assert_eq!(head.header("etag"), full.header("etag"));
    assert_eq!(head.header("content-type"), Some("application/json"));
}

#[actix_web::test]
async fn browsers_may_call_the_api_and_read_its_validators() {
    let (_app, service) = serving().await;
    let reply = get_with(&service, SEED, &[("Origin", "https://front.example")]).await;
    reply.assert_status(200);
    assert!(reply.header("access-control-allow-origin").is_some());
    assert_lists(
        &reply,
        "access-control-expose-headers",
        &["etag", "location", "x-request-id"],
    );
    // Only a browser's cross-origin request reads it: others go without.
    let plain = get(&service, SEED).await;
    assert_eq!(plain.header("access-control-expose-headers"), None);
    assert!(plain.header("vary").is_some_and(|vary| vary.contains("Origin")));

    let preflight = send(
        &service,
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri(&format!("{SEED}/sections/steps"))
            .insert_header(("Origin", "https://front.example"))
            .insert_header(("Access-Control-Request-Method", "PUT"))
            .insert_header((
                "Access-Control-Request-Headers",
                "authorization, if-match, content-type",
            )),
    )
    .await;
    preflight.assert_status(200);
    assert_lists(
        &preflight,
        "access-control-allow-headers",
        &["authorization", "if-match", "content-type"],
    );
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("PUT")
    );
}

#[actix_web::test]
async fn cors_origins_can_be_restricted() {
    let mut app = TestApp::new().await;
    app.config.cors_origins = "https://allowed.example".to_owned();
    let service = app.service().await;
    let allowed = get_with(&service, SEED, &[("Origin", "https://allowed.example")]).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://allowed.example")
    );
    let other = get_with(&service, SEED, &[("Origin", "https://evil.example")]).await;
    assert!(other.header("access-control-allow-origin").is_none());
    // A refused preflight is a problem document like every other error.
    let preflight = send(
        &service,
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri(SEED)
            .insert_header(("Origin", "https://evil.example"))
            .insert_header(("Access-Control-Request-Method", "PUT")),
    )
    .await;
    preflight.assert_problem(400, "cors_request_refused");
    assert!(preflight.header("x-request-id").is_some());
}

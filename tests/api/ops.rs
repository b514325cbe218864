//! What operators rely on: health, readiness, metrics, request ids, compression.

use crate::common::{SEED, get, get_with, serving};

#[actix_web::test]
async fn health_readiness_and_metrics() {
    let (_app, service) = serving().await;
    let health = get(&service, "/healthz").await;
    health.assert_status(200);
    assert_eq!(health.json()["status"], "ok");
    let ready = get(&service, "/readyz").await;
    ready.assert_status(200);
    assert_eq!(ready.json()["status"], "ready");

    get(&service, SEED).await;
    get(&service, SEED).await;
    get(&service, "/v1/articles/nope").await;
    let metrics = get(&service, "/metrics").await;
    metrics.assert_status(200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(
        text.contains(r#"lamina_http_requests_total{route="/v1/articles/{slug}",method="GET",status="200"} 2"#),
        "{text}"
    );
    assert!(text.contains(r#"lamina_http_requests_total{route="/v1/articles/{slug}",method="GET",status="404"} 1"#));
    assert!(text.contains("lamina_http_request_duration_seconds_bucket"));
    for name in [
        "lamina_db_pool_connections",
        "lamina_db_pool_waiting",
        "lamina_db_pool_max",
        "lamina_cache_hits",
        "lamina_cache_misses",
    ] {
        assert!(text.contains(name), "{name} missing");
    }
}

#[actix_web::test]
async fn request_ids_are_echoed_and_named_in_problems() {
    let (_app, service) = serving().await;
    let reply = get_with(&service, SEED, &[("X-Request-Id", "trace-42")]).await;
    assert_eq!(reply.header("x-request-id"), Some("trace-42"));
    let generated = get(&service, SEED).await;
    let id = generated.header("x-request-id").unwrap().to_owned();
    assert!(!id.is_empty());
    assert_ne!(
        get(&service, SEED).await.header("x-request-id"),
        Some(id.as_str()),
        "ids differ per request"
    );

    let unsafe_id = "x".repeat(200);
    let replaced = get_with(&service, SEED, &[("X-Request-Id", &unsafe_id)]).await;
    assert_ne!(
        replaced.header("x-request-id"),
        Some(unsafe_id.as_str()),
        "an over-long id is replaced"
    );

    let problem = get_with(&service, "/v1/articles/nope", &[("X-Request-Id", "trace-43")]).await;
    let body = problem.assert_problem(404, "article_not_found");
    assert_eq!(body["request_id"], "trace-43");
    assert_eq!(problem.header("x-request-id"), Some("trace-43"));
}

#[actix_web::test]
async fn json_is_compressed_for_clients_that_ask() {
    let (_app, service) = serving().await;
    let plain = get(&service, SEED).await;
    for encoding in ["gzip", "br"] {
        let reply = get_with(&service, SEED, &[("Accept-Encoding", encoding)]).await;
        reply.assert_status(200);
        assert_eq!(reply.header("content-encoding"), Some(encoding));
        assert!(
            reply.body.len() * 4 < plain.body.len() * 3,
            "{encoding}: {} of {} bytes",
            reply.body.len(),
            plain.body.len()
        );
        assert_eq!(reply.header("etag"), plain.header("etag"));
        // A miss answers at once (compressed on the fly) and queues the
        // stored variant, which then replaces it: once stored, the same
        // bytes are sent again and again.
        let mut again = get_with(&service, SEED, &[("Accept-Encoding", encoding)]).await;
        let mut stored = get_with(&service, SEED, &[("Accept-Encoding", encoding)]).await;
        for _ in 0..100 {
            if again.body == stored.body {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            again = stored;
            stored = get_with(&service, SEED, &[("Accept-Encoding", encoding)]).await;
        }
        assert_eq!(again.body, stored.body, "{encoding}: the cached variant is sent again");
        assert_eq!(stored.header("etag"), plain.header("etag"));
    }
    let gzipped = get_with(&service, SEED, &[("Accept-Encoding", "gzip")]).await;
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped.body[..]), &mut decoded).unwrap();
    assert_eq!(decoded, plain.body, "the gzip variant is the same JSON");
    let problem = get_with(&service, "/v1/articles/nope", &[("Accept-Encoding", "gzip")]).await;
    problem.assert_status(404);
}

#[actix_web::test]
async fn bodies_too_small_to_pay_for_compression_are_sent_as_they_are() {
    let (_app, service) = serving().await;
    let section = get(&service, &format!("{SEED}/sections/steps")).await.json();
    let id = section["items"][0]["id"].as_str().unwrap();
    let path = format!("{SEED}/sections/steps/items/{id}");
    let plain = get(&service, &path).await;
    plain.assert_status(200);
    assert!(plain.body.len() < 512, "an item of {} bytes", plain.body.len());
    for encoding in ["gzip", "br", "gzip, deflate, br"] {
        // The first fills the cache, the others are answered again as it was.
        for _ in 0..3 {
            let reply = get_with(&service, &path, &[("Accept-Encoding", encoding)]).await;
            reply.assert_status(200);
            assert_eq!(reply.header("content-encoding"), None, "{encoding}");
            assert_eq!(reply.body, plain.body, "{encoding}");
            assert_eq!(reply.header("etag"), plain.header("etag"));
            assert_eq!(reply.header("vary"), plain.header("vary"));
        }
    }
    // A large body is still compressed for the same client.
    let article = get_with(&service, SEED, &[("Accept-Encoding", "br")]).await;
    assert_eq!(article.header("content-encoding"), Some("br"));
}

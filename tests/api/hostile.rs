//! Hostile clients: nothing an anonymous client sends may grow memory
//! without bound, flush the shared cache, or get a 5xx.

use actix_web::http::Method;
use actix_web::test::TestRequest;

use serde_json::json;

use crate::common::{SEED, TestApp, bearer, get, send};

/// Made-up method names share the `other` label: 20,000 of them leave
/// `/metrics` as large as one does.
#[actix_web::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = TestApp::new().await;
    let service = app.service().await;
    let mut rng = fastrand::Rng::with_seed(8);
    let mut random_method = || {
        let name: String = (0..12).map(|_| rng.uppercase()).collect();
        Method::from_bytes(name.as_bytes()).unwrap()
    };
    send(&service, TestRequest::default().method(random_method()).uri("/x")).await;
    let before = get(&service, "/metrics").await.body.len();
    for _ in 0..20_000 {
        let reply = send(&service, TestRequest::default().method(random_method()).uri("/x")).await;
        assert_eq!(reply.status, 404);
    }
    let metrics = get(&service, "/metrics").await;
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(
        text.contains(r#"lamina_http_requests_total{route="unmatched",method="other",status="404"} 20001"#),
        "{text}"
    );
    // Only counters' digits may grow (and the `/metrics` route's own series).
    assert!(
        text.len() < before + 2_048,
        "/metrics grew from {before} to {} bytes",
        text.len()
    );
}

/// Only UTF-8 `application/json` without a content coding is read as JSON.
#[actix_web::test]
async fn bodies_that_are_not_plain_utf8_json_get_415_and_change_nothing() {
    let app = TestApp::new().await;
    let token = app.editor().await;
    let service = app.service().await;
    let path = format!("{SEED}/sections/overview");
    let before = get(&service, &path).await.body;
    let body = json!({"kind": "overview", "heading": "H", "body": "Sent as something else."}).to_string();
    let put = |headers: &[(&str, &str)]| {
        let mut request = TestRequest::put()
            .uri(&path)
            .insert_header(bearer(&token))
            .insert_header(("If-Match", "*"))
            .set_payload(body.clone());
        for header in headers {
            request = request.insert_header(*header);
        }
        request
    };
    for headers in [
        &[("Content-Type", "application/merge-patch+json")][..],
        &[("Content-Type", "application/problem+json")],
        &[("Content-Type", "application/json; charset=latin1")],
        &[("Content-Type", "application/json; boundary=x")],
        &[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
        &[("Content-Type", "application/json"), ("Content-Encoding", "br")],
    ] {
        send(&service, put(headers))
            .await
            .assert_problem(415, "unsupported_media_type");
    }
    assert_eq!(get(&service, &path).await.body, before, "nothing was written");
    for content_type in [
        "application/json",
        "Application/JSON; charset=UTF-8",
        "application/json;charset=\"utf-8\"",
    ] {
        let reply = send(&service, put(&[("Content-Type", content_type)])).await;
        assert_eq!(
            reply.status,
            200,
            "{content_type}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
}

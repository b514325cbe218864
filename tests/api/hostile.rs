//! Hostile clients: nothing an anonymous client sends may grow memory
//! without bound, flush the shared cache, or get a 5xx.

use actix_web::http::Method;
use actix_web::test::TestRequest;

use crate::common::{TestApp, get, send};

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

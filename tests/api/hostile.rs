//! Hostile clients: nothing an anonymous client sends may grow memory
//! without bound, flush the shared cache, or get a 5xx.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use futures_util::StreamExt;

use serde_json::{Value, json};

use crate::common::{
    SEED, TestApp, bearer, call_if_match, editing, editing_with, get, get_as, get_problem, put_as, put_over, send,
    serving,
};

/// Made-up method names share the `other` label: 20,000 of them leave
/// `/metrics` as large as one does.
#[actix_web::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let (_app, service) = serving().await;
    let mut rng = fastrand::Rng::with_seed(8);
    let mut random_method = || {
        let name: String = (0..12).map(|_| rng.uppercase()).collect();
        Method::from_bytes(name.as_bytes()).unwrap()
    };
    send(&service, TestRequest::default().method(random_method()).uri("/x")).await;
    let before = get(&service, "/metrics").await.body.len();
    for _ in 0..20_000 {
        let reply = send(&service, TestRequest::default().method(random_method()).uri("/x")).await;
        reply.assert_status(404);
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
    let (_app, token, service) = editing().await;
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

/// Dates outside 1000-01-01..9999-12-31 (which broke paging) and item ids the
/// client made up (or copied from another article) are 422s with pointers,
/// also when creating; nothing is stored.
#[actix_web::test]
async fn out_of_range_dates_and_client_chosen_item_ids_are_refused() {
    let (_app, token, service) = editing().await;
    let seeded = get(&service, SEED).await.json();
    let copied_id = seeded["sections"][1]["items"][0]["id"].as_str().unwrap().to_owned();
    let article = |date: &str, item: Value| {
        json!({
            "title": "New", "author": "A", "published_on": date, "status": "published", "summary": "S",
            "sections": [{"kind": "steps", "heading": "Steps", "items": [item]}]
        })
    };
    let path = "/v1/articles/brand-new";
    for date in ["0000-06-01", "0999-12-31"] {
        let reply = put_as(
            &service,
            path,
            &token,
            &article(date, json!({"title": "T", "body": "B"})),
        )
        .await;
        let problem = reply.assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "/published_on");
    }
    for id in [copied_id.as_str(), "5d1f8a52-1c39-4d1e-a3a7-6f0e2b9c4d21"] {
        let item = json!({"id": id, "title": "T", "body": "B"});
        let reply = put_as(&service, path, &token, &article("2025-01-01", item)).await;
        let problem = reply.assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "/sections/0/items/0/id", "{problem}");
    }
    assert_eq!(get(&service, path).await.status, 404, "nothing was created");
    let created = put_as(
        &service,
        path,
        &token,
        &article("2025-01-01", json!({"title": "T", "body": "B"})),
    )
    .await;
    created.assert_status(201);
    assert_ne!(created.json()["sections"][0]["items"][0]["id"], copied_id.as_str());
}

/// A body that stops arriving is cut off after `LAMINA_BODY_TIMEOUT_SECS`
/// with a 408 problem, even from an authenticated client; nothing is written.
#[actix_web::test]
async fn a_slow_body_is_timed_out_with_408() {
    use actix_web::web::Bytes;
    let (_app, token, service) = editing_with(|config| config.body_timeout_secs = 1).await;
    let path = format!("{SEED}/sections/overview");
    let before = get(&service, &path).await.body;
    let trickle: actix_http::BoxedPayloadStream = Box::pin(
        futures_util::stream::iter([Ok::<_, actix_http::error::PayloadError>(Bytes::from_static(
            b"{\"kind\":",
        ))])
        .chain(futures_util::stream::pending()),
    );
    let request = TestRequest::put()
        .uri(&path)
        .insert_header(bearer(&token))
        .insert_header(("If-Match", "*"))
        .insert_header(("Content-Type", "application/json"))
        .to_request();
    let (request, _) = request.replace_payload(actix_http::Payload::from(trickle));
    let started = std::time::Instant::now();
    let response = actix_web::test::call_service(&service, request).await;
    assert_eq!(response.status(), 408);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let body = actix_web::test::read_body(response).await;
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "request_timeout");
    assert_eq!(get(&service, &path).await.body, before);
}

/// Behind a trusted proxy, failed authentication is counted per forwarded
/// client, so one attacker does not lock out everyone behind the proxy;
/// from an untrusted peer the header is ignored.
#[actix_web::test]
async fn trusted_proxies_name_the_client_for_rate_limits() {
    let mut app = TestApp::new().await;
    app.config.auth_failures_per_minute = 2;
    app.config.trusted_proxies = "10.0.0.0/8".parse().unwrap();
    let service = app.service().await;
    let attempt = |peer: &str, forwarded_for: &str| {
        TestRequest::get()
            .uri(SEED)
            .peer_addr(peer.parse().unwrap())
            .insert_header(("X-Forwarded-For", forwarded_for.to_owned()))
            .insert_header(bearer("lamina_guess"))
    };
    for _ in 0..2 {
        send(&service, attempt("10.0.0.1:1000", "198.51.100.1"))
            .await
            .assert_problem(401, "unauthorized");
    }
    send(&service, attempt("10.0.0.1:1000", "198.51.100.1"))
        .await
        .assert_problem(429, "too_many_requests");
    // Another client behind the same proxy is not affected.
    send(&service, attempt("10.0.0.1:1000", "198.51.100.2"))
        .await
        .assert_problem(401, "unauthorized");
    // An untrusted peer cannot choose its address by header: it is its own peer address.
    for _ in 0..2 {
        send(
            &service,
            attempt("203.0.113.5:1000", &format!("192.0.2.{}", fastrand::u8(..))),
        )
        .await;
    }
    send(&service, attempt("203.0.113.5:1000", "192.0.2.250"))
        .await
        .assert_problem(429, "too_many_requests");
}

/// Unknown query parameters are 400s naming them and never reach the cache:
/// 10,000 distinct junk queries change neither the hits of the real URLs nor
/// what the cache holds; and a scan of many distinct valid URLs does not push
/// out what is read again and again, nor the cache past its bound.
#[actix_web::test]
async fn junk_queries_neither_flush_nor_grow_the_cache() {
    let mut app = TestApp::new().await;
    app.config.cache_max_bytes = 512 * 1024;
    let (state, service) = app.node().await;
    crate::cache::wait_until_subscribed(&state).await;
    let steps = format!("{SEED}/sections/steps");
    let item_id = get(&service, &steps).await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = format!("{steps}/items/{item_id}");
    let real = [SEED.to_owned(), steps.clone(), item.clone()];
    for _ in 0..3 {
        for url in &real {
            assert_eq!(get(&service, url).await.status, 200);
        }
    }
    // Entries weigh more once their compressed variants are made (off the request path).
    crate::common::compression_done(&state.cache).await;

    let typo = get(&service, &format!("{SEED}?section=steps")).await;
    let problem = typo.assert_problem(400, "unknown_query_parameter");
    assert!(problem["detail"].as_str().unwrap().contains("\"section\""), "{problem}");
    get_problem(&service, &format!("{item}?123"), 400, "unknown_query_parameter").await;
    let tracked = "/v1/articles?limit=5&utm_source=x";
    get_problem(&service, tracked, 400, "unknown_query_parameter").await;

    let (hits, misses) = state.cache.counts();
    let bytes = state.cache.bytes();
    for n in 0..10_000 {
        let url = &real[n % 3];
        let reply = get(&service, &format!("{url}?junk{n}={n}")).await;
        reply.assert_status(400);
    }
    assert_eq!(state.cache.counts(), (hits, misses), "junk never reached the cache");
    assert_eq!(state.cache.bytes(), bytes);
    for url in &real {
        get(&service, url).await;
    }
    assert_eq!(state.cache.counts(), (hits + 3, misses), "the real URLs still hit");

    // A scan of every distinct `?sections=` selection (255 of them, far more
    // than fit) keeps the cache within its bound and the hot URLs in it.
    let kinds = lamina::content::SectionKind::ALL.map(|kind| kind.as_str());
    for mask in 1u32..256 {
        let selection: Vec<&str> = (0..8)
            .filter(|bit| mask & (1 << bit) != 0)
            .map(|bit| kinds[bit])
            .collect();
        let reply = get(&service, &format!("{SEED}?sections={}", selection.join(","))).await;
        reply.assert_status(200);
        // Its compressed variants, made off the request path, replace it
        // before the next step: the same sequence on a busy machine as on
        // an idle one (it used to depend on how far the compression lagged).
        crate::common::compression_done(&state.cache).await;
        assert!(
            state.cache.bytes() <= 512 * 1024,
            "{} bytes cached",
            state.cache.bytes()
        );
    }
    let (hits, _) = state.cache.counts();
    for url in &real {
        get(&service, url).await;
    }
    assert_eq!(state.cache.counts().0, hits + 3, "the hot URLs survived the scan");
}

/// A revision stored under older, looser content rules cannot be restored as
/// it is: 409 `revision_not_restorable`, never a 500, and nothing changes.
#[actix_web::test]
async fn restoring_a_revision_that_breaks_todays_rules_is_409() {
    use diesel_async::RunQueryDsl;
    let (app, token, service) = editing().await;
    let before = get(&service, SEED).await;
    let mut conn = app.db.conn().await;
    diesel::sql_query(
        "UPDATE revisions SET snapshot = jsonb_set(snapshot, '{title}', to_jsonb(E'Bidi \\u202E text'::text))",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let revisions = get_as(&service, &format!("{SEED}/revisions"), &token).await.json();
    let id = revisions["items"][0]["id"].as_str().unwrap();
    let reply = call_if_match(
        &service,
        Method::POST,
        &format!("{SEED}/revisions/{id}/restore"),
        &token,
        "*",
    )
    .await;
    let problem = reply.assert_problem(409, "revision_not_restorable");
    assert!(problem["detail"].as_str().unwrap().contains("/title"), "{problem}");
    assert_eq!(get(&service, SEED).await.body, before.body);
}

/// Text that shows nothing is empty, whatever invisible characters make it
/// up (judged by Unicode properties, not a list): 422 at its pointer, and
/// nothing stored changes.
#[actix_web::test]
async fn titles_of_invisible_characters_are_refused_and_change_nothing() {
    let (_app, token, service) = editing().await;
    let path = format!("{SEED}/sections/overview");
    let before = get(&service, &path).await.body;
    for heading in [
        "\u{2062}\u{FE0F}",
        "\u{3164}\u{1160}",
        "\u{17B4}",
        "\u{2800}",
        "\u{E0041}",
        "\u{0301}",
    ] {
        let body = json!({"kind": "overview", "heading": heading, "body": "Fine."});
        let reply = put_over(&service, &path, &token, &body).await;
        let problem = reply.assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "/heading", "{heading:?}");
    }
    assert_eq!(get(&service, &path).await.body, before);
}

/// 422 amplification (issue 24.6): 150 KB of 50,000 empty items break the
/// rules over 100,000 times; the answer lists the first 100 and says the total.
#[actix_web::test]
async fn a_body_with_thousands_of_problems_gets_a_small_422_with_the_total() {
    let (_app, token, service) = editing().await;
    let path = format!("{SEED}/sections/steps");
    let before = get(&service, &path).await.body;
    let items = vec![json!({}); 50_000];
    let body = json!({"kind": "steps", "heading": "Steps", "items": items});
    assert!(body.to_string().len() > 150_000);
    let reply = put_as(&service, &path, &token, &body).await;
    assert!(reply.body.len() < 16_384, "a 422 of {} bytes", reply.body.len());
    let problem = reply.assert_problem(422, "validation_failed");
    let total = problem["errors_total"].as_u64().unwrap();
    assert!(total >= 100_000, "{problem}");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 100);
    assert_eq!(problem["errors"][0]["pointer"], "/items", "{problem}");
    assert_eq!(problem["errors"][1]["pointer"], "/items/0/title");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("first 100 of {total}")), "{detail}");
    // A body with few problems lists them all, and says so.
    let reply = put_as(
        &service,
        &path,
        &token,
        &json!({"kind": "steps", "heading": "", "items": []}),
    )
    .await;
    let problem = reply.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors_total"], problem["errors"].as_array().unwrap().len());
    assert_eq!(get(&service, &path).await.body, before, "nothing was written");
}

/// Swagger UI under `/docs/` (issue 24.16): a Content-Security-Policy and no
/// framing on every response; a file it does not have is a 404 problem.
#[actix_web::test]
async fn the_docs_are_not_framed_and_unknown_files_are_problems() {
    let (_app, service) = serving().await;
    let files = ["", "swagger-initializer.js", "swagger-ui.css", "nope.js"];
    for path in files.map(|file| format!("/docs/{file}")) {
        let reply = get(&service, &path).await;
        let policy = reply.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy:?}");
        assert!(
            policy.contains("script-src 'self'") && policy.contains("default-src 'none'"),
            "{path}: {policy:?}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
    }
    let ui = get(&service, "/docs/").await;
    ui.assert_status(200);
    let page = String::from_utf8_lossy(&ui.body).into_owned();
    assert!(page.contains("swagger-initializer.js"), "{page}");
    assert!(
        !page.contains("<script>"),
        "no inline script the policy would block: {page}"
    );
    let initializer = get(&service, "/docs/swagger-initializer.js").await;
    initializer.assert_status(200);
    assert!(String::from_utf8_lossy(&initializer.body).contains("/openapi.json"));
    for path in ["/docs/nope.js", "/docs/a/b/c.css", "/docs/..%2f..%2fetc%2fpasswd"] {
        let reply = get(&service, path).await;
        let problem = reply.assert_problem(404, "route_not_found");
        assert!(problem["detail"].as_str().unwrap().contains("/docs/"), "{problem}");
        assert!(problem["request_id"].is_string(), "{problem}");
    }
    // The spec itself is unaffected.
    let spec = get(&service, "/openapi.json").await;
    spec.assert_status(200);
    assert_eq!(spec.header("x-frame-options"), None);
}

/// A stalled log pipe (issue 24.10): `lamina serve 2>&1 | sleep 600` hung
/// every request once the pipe and the buffer were full. Now log lines past
/// the buffer are dropped and counted, and the server keeps answering.
#[actix_web::test]
async fn a_stalled_log_pipe_does_not_hang_the_server() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let app = TestApp::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lamina"))
        .arg("serve")
        .env("DATABASE_URL", &app.db.url)
        .env("LAMINA_BIND", format!("127.0.0.1:{port}"))
        .env("LAMINA_WORKERS", "1")
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        // A pipe nobody reads: it fills after 64 KiB.
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _unread = child.stderr.take();
    // Killed however the test ends.
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Killed(child);
    let exchange = |request: &str| -> Option<String> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).ok()?;
        Some(String::from_utf8_lossy(&answer).into_owned())
    };
    let healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let started = Instant::now();
    while exchange(healthz).is_none_or(|answer| !answer.starts_with("HTTP/1.1 200")) {
        assert!(started.elapsed() < Duration::from_secs(60), "lamina did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    // 4 KB access lines: 1,500 of them are 6 MB, far past the pipe and the buffer.
    let long = format!("/{}", "x".repeat(4_000));
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let request = format!("GET {long} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    for n in 0..1_500 {
        stream.write_all(request.as_bytes()).unwrap();
        // Read one whole answer (head, then its content-length of body).
        let mut length = 0;
        loop {
            let mut line = String::new();
            let read = std::io::BufRead::read_line(&mut reader, &mut line);
            assert!(read.is_ok_and(|bytes| bytes > 0), "no answer to request {n}");
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).unwrap();
    }
    let answered = Instant::now();
    let health = exchange(healthz).unwrap_or_default();
    assert!(health.starts_with("HTTP/1.1 200"), "{health:?}");
    assert!(answered.elapsed() < Duration::from_secs(2));
    let metrics = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap_or_default();
    let dropped: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("lamina_log_lines_dropped_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no lamina_log_lines_dropped_total in {metrics}"));
    assert!(dropped > 100, "{dropped} lines dropped");
}

//! A database outage: no panic, no long hang; cached public reads go on,
//! the rest answers 503; lamina recovers by itself once the database is back.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::common::{
    Proxy, SEED, TestApp, bearer, create_release, editing_node, get, get_as, get_problem, put_over, send,
};

#[actix_web::test]
async fn an_outage_serves_cached_reads_answers_503_and_recovers_within_5_s() {
    let app = TestApp::new().await;
    let token = app.editor().await;
    let proxy = Proxy::start(&app.db);
    let (state, service) = app.node_for(&proxy.url).await;
    let started = Instant::now();
    while !state.cache.is_subscribed() {
        assert!(started.elapsed() < Duration::from_secs(10));
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    let article = get(&service, SEED).await;
    article.assert_status(200);
    let risks_path = format!("{SEED}/sections/risks");
    let risks_before = get(&app.service().await, &risks_path).await.body;

    proxy.cut();
    // The cached article is still served, promptly.
    for _ in 0..3 {
        let asked = Instant::now();
        let reply = get(&service, SEED).await;
        reply.assert_status(200);
        assert_eq!(reply.body, article.body);
        assert_eq!(reply.header("etag"), article.header("etag"));
        assert!(asked.elapsed() < Duration::from_secs(4), "took {:?}", asked.elapsed());
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    // What was never cached: 503 with Retry-After, within the pool's timeout.
    let asked = Instant::now();
    let reply = get(&service, &format!("{SEED}/sections/steps")).await;
    reply.assert_problem(503, "service_unavailable");
    assert!(reply.header("retry-after").is_some());
    assert!(asked.elapsed() < Duration::from_secs(4), "took {:?}", asked.elapsed());
    get_problem(&service, "/readyz", 503, "service_unavailable").await;
    assert_eq!(get(&service, "/healthz").await.status, 200, "alive all the same");
    // Writes: 503, nothing half-written.
    let body = json!({"kind": "risks", "heading": "Written during the outage", "items": []});
    let reply = put_over(&service, &risks_path, &token, &body).await;
    reply.assert_problem(503, "service_unavailable");

    proxy.restore();
    let restored = Instant::now();
    loop {
        let ready = get(&service, "/readyz").await;
        let steps = get(&service, &format!("{SEED}/sections/steps")).await;
        if ready.status == 200 && steps.status == 200 {
            break;
        }
        assert!(
            restored.elapsed() < Duration::from_secs(5),
            "not recovered after 5 s: {} / {}",
            ready.status,
            steps.status
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        get(&app.service().await, &risks_path).await.body,
        risks_before,
        "the failed write left nothing"
    );
    let reply = get_as(&service, &risks_path, &token).await;
    assert_eq!(reply.status, 200, "authenticated requests work again");
}

/// A connection dropped in the middle of a write (here: the backend is
/// terminated while the write waits for a row lock) answers 503 with
/// `Retry-After` saying nothing was written, never 500; the revision list
/// tells the same; and every pooled connection carries lamina's timeouts.
#[actix_web::test]
async fn a_connection_lost_mid_write_is_503_saying_nothing_was_written() {
    use diesel_async::RunQueryDsl;
    let (app, token, state, service) = editing_node().await;

    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement_timeout: String,
    }
    let mut pooled = state.pool.get().await.unwrap();
    let setting: Setting = diesel::sql_query("SHOW statement_timeout")
        .get_result(&mut pooled)
        .await
        .unwrap();
    assert_eq!(setting.statement_timeout, "3s");
    drop(pooled);

    let revisions = app.revision_count().await;
    let locker = app.client().await;
    locker
        .batch_execute("BEGIN; SELECT 1 FROM articles FOR UPDATE")
        .await
        .unwrap();
    let path = format!("{SEED}/sections/overview");
    let body = json!({"kind": "overview", "heading": "Lost", "body": "Written while the connection dies."});
    let terminate = async {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        let rows = locker
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "the write was waiting for the lock");
    };
    let (reply, ()) = tokio::join!(put_over(&service, &path, &token, &body), terminate);
    let problem = reply.assert_problem(503, "service_unavailable");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(
        problem["detail"].as_str().unwrap().contains("nothing was written"),
        "{problem}"
    );
    locker.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(app.revision_count().await, revisions, "no revision was recorded");
    assert_ne!(get(&service, &path).await.json()["heading"], "Lost");
}

/// Issue 24, item 11: with PostgreSQL stalled (SIGSTOP), `GET /v1/releases`
/// got no answer for 19 s. Every operation of the spec is sent against a
/// database that answers nothing but the token lookup (a proxy holds back
/// every other statement, as a stalled server never reads it): every one
/// must be answered within 5 s, with 503 and `Retry-After` wherever it
/// needs the database beyond the token.
#[actix_web::test]
async fn every_route_answers_a_stalled_database_within_5_s() {
    use crate::common::{Hold, call_if_match, get_as, write_as};
    use futures_util::future::join_all;
    let app = TestApp::new().await;
    let admin = app.token("admin", lamina::auth::Role::Admin).await;
    let mut state = app.state();
    state.webhook_allow_private = true;
    let service = actix_web::test::init_service(lamina::build_app(state)).await;
    // Something for every path parameter to name.
    let (release, _) = create_release(&service, &admin, "Stalled").await;
    let release = release.trim_start_matches("/v1/releases/").to_owned();
    let webhook = json!({"url": "http://127.0.0.1:9/", "events": ["*"]});
    let webhook = write_as(&service, Method::POST, "/v1/webhooks", &admin, &webhook).await;
    let webhook = webhook.json()["id"].as_str().unwrap().to_owned();
    let ping = call_if_match(
        &service,
        Method::POST,
        &format!("/v1/webhooks/{webhook}/ping"),
        &admin,
        "*",
    )
    .await;
    let delivery = ping.json()["id"].as_str().unwrap().to_owned();
    let revisions = get_as(&service, &format!("{SEED}/revisions"), &admin).await;
    let revision = revisions.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let steps = get(&service, &format!("{SEED}/sections/steps")).await;
    let item = steps.json()["items"][0]["id"].as_str().unwrap().to_owned();

    let spec: Value = serde_json::from_str(&lamina::openapi::spec_json()).unwrap();
    let mut requests = Vec::new();
    for (template, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let id = if template.starts_with("/v1/releases/") {
                &release
            } else if template.starts_with("/v1/webhooks/") {
                &webhook
            } else if template.contains("/revisions/") {
                &revision
            } else {
                &item
            };
            let body = operation["requestBody"]["content"]["application/json"]
                .get("schema")
                .and_then(|schema| crate::timeless::examples(&spec, schema).into_iter().next());
            let kind = body.as_ref().and_then(|body| body["kind"].as_str()).unwrap_or("steps");
            let path = template
                .replace("{slug}", SEED.trim_start_matches("/v1/articles/"))
                .replace("{kind}", kind)
                .replace("{delivery_id}", &delivery)
                .replace("{id}", id)
                .replace("{code}", "de")
                .replace("{locale}", "de")
                .replace("{filename}", "face.png");
            assert!(!path.contains('{'), "a path parameter this test does not fill: {path}");
            // Required query parameters (a search's `q`) with their examples.
            let required: Vec<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| parameter["in"] == "query" && parameter["required"] == true)
                .map(|parameter| {
                    let example = parameter["example"]
                        .as_str()
                        .or(parameter["schema"]["example"].as_str());
                    format!(
                        "{}={}",
                        parameter["name"].as_str().unwrap(),
                        example.expect("an example")
                    )
                })
                .collect();
            let path = if required.is_empty() {
                path
            } else {
                format!("{path}?{}", required.join("&"))
            };
            requests.push((method.to_uppercase(), template.clone(), path, body));
        }
    }
    assert!(requests.len() >= 30, "only {} operations found", requests.len());

    let proxy = Proxy::start(&app.db);
    // Only what authenticating a token needs passes: the pool's ping and the
    // token lookup, on connections opened before the stall.
    let stall = || Hold::AllBut([&b"api_tokens"[..], b"SELECT $1"].map(<[u8]>::to_vec).to_vec());
    // A few at a time: each waits out the deadline, and the machine is small.
    let mut answers = Vec::new();
    for batch in requests.chunks(6) {
        // Each through a node of its own, its connection opened and the
        // token lookup prepared before the stall (an authenticated request
        // refused before any other query: malformed JSON).
        proxy.release();
        let mut nodes = Vec::new();
        for _ in batch {
            let mut state = app.state_for(&proxy.url);
            state.webhook_allow_private = true;
            let node = actix_web::test::init_service(lamina::build_app(state)).await;
            let malformed = TestRequest::put()
                .uri(&format!("/v1/releases/{release}"))
                .insert_header(bearer(&admin))
                .insert_header(("Content-Type", "application/json"))
                .set_payload("{");
            send(&node, malformed).await.assert_problem(400, "malformed_json");
            nodes.push(node);
        }
        proxy.hold(stall());
        answers.extend(
            join_all(batch.iter().zip(&nodes).map(|((method, template, path, body), node)| {
                let admin = &admin;
                async move {
                    let method: Method = method.parse().unwrap();
                    let mut request = TestRequest::default()
                        .method(method.clone())
                        .uri(path)
                        .insert_header(bearer(admin))
                        .insert_header(("If-Match", "*"));
                    if let Some(body) = body {
                        request = request
                            .insert_header(("Content-Type", "application/json"))
                            .set_payload(body.to_string());
                    } else if method == Method::POST && template == "/v1/assets" {
                        // An upload: a real image, checked before the database is needed.
                        let mut png = std::io::Cursor::new(Vec::new());
                        image::RgbImage::new(8, 8)
                            .write_to(&mut png, image::ImageFormat::Png)
                            .unwrap();
                        request = request
                            .uri(&format!("{path}?filename=face.png"))
                            .insert_header(("Content-Type", "image/png"))
                            .set_payload(png.into_inner());
                    }
                    let asked = Instant::now();
                    let reply = tokio::time::timeout(Duration::from_secs(10), send(node, request)).await;
                    (format!("{method} {template}"), reply.ok(), asked.elapsed())
                }
            }))
            .await,
        );
    }
    proxy.release();
    let mut late = Vec::new();
    for (operation, reply, took) in answers {
        let status = reply.as_ref().map(|reply| reply.status.as_u16());
        eprintln!("stalled database: {operation} → {status:?} in {} ms", took.as_millis());
        match reply {
            Some(reply) if took < Duration::from_secs(5) => {
                // Routes that answer without the database: probes, the spec, metrics.
                if !["GET /healthz", "GET /metrics"].contains(&operation.as_str()) {
                    let problem = reply.assert_problem(503, "service_unavailable");
                    assert_eq!(reply.header("retry-after"), Some("1"), "{operation}: {problem}");
                }
            }
            _ => late.push(format!("{operation}: {status:?} after {took:?}")),
        }
    }
    assert!(late.is_empty(), "not answered within 5 s:\n{}", late.join("\n"));
}

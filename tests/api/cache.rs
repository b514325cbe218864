//! The representation cache: hits skip the database, writes are seen at once
//! on the same node and within 100 ms on another node.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{SEED, TestApp, editing_node, editing_two_nodes, get, get_as, get_with, put_over};

pub(crate) async fn wait_until_subscribed(state: &lamina::AppState) {
    let started = Instant::now();
    while !state.cache.is_subscribed() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the cache listener did not subscribe"
        );
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
}

#[actix_web::test]
async fn public_reads_are_served_from_memory_and_writes_are_seen_at_once() {
    let (_app, token, state, service) = editing_node().await;
    wait_until_subscribed(&state).await;
    let path = format!("{SEED}/sections/overview");

    let first = get(&service, &path).await;
    let (hits, _) = state.cache.counts();
    let second = get(&service, &path).await;
    assert_eq!(state.cache.counts().0, hits + 1, "the second read is a hit");
    assert_eq!(first.body, second.body);
    assert_eq!(first.header("etag"), second.header("etag"));
    let revalidated = get_with(&service, &path, &[("If-None-Match", first.header("etag").unwrap())]).await;
    assert_eq!(revalidated.status, 304, "a hit answers conditional requests too");

    // Authenticated readers are never served from (or stored in) the shared cache.
    let (hits, misses) = state.cache.counts();
    let private = get_as(&service, &path, &token).await;
    assert_eq!(private.header("cache-control"), Some("private, no-store"));
    assert_eq!(state.cache.counts(), (hits, misses));

    let body = json!({"kind": "overview", "heading": "What is it?", "body": "Seen at once."});
    let reply = put_over(&service, &path, &token, &body).await;
    reply.assert_status(200);
    let after = get(&service, &path).await;
    assert_eq!(after.json()["body"], "Seen at once.");
    assert_eq!(after.header("etag"), reply.header("etag"));
    assert_eq!(
        get(&service, SEED).await.json()["sections"][0]["body"],
        "Seen at once.",
        "the article too"
    );
}

#[actix_web::test]
async fn another_node_sees_a_write_within_100_ms_twenty_times_in_a_row() {
    let (_app, token, (state_a, node_a), (state_b, node_b)) = editing_two_nodes().await;
    wait_until_subscribed(&state_a).await;
    wait_until_subscribed(&state_b).await;
    let path = format!("{SEED}/sections/risks");

    for round in 0..20 {
        // B holds the current version in its cache.
        let before = get(&node_b, &path).await;
        let (hits, _) = state_b.cache.counts();
        assert_eq!(get(&node_b, &path).await.header("etag"), before.header("etag"));
        assert_eq!(
            state_b.cache.counts().0,
            hits + 1,
            "round {round}: B serves from its cache"
        );

        let body = json!({"kind": "risks", "heading": format!("Risks, round {round}"), "items": []});
        let written = put_over(&node_a, &path, &token, &body).await;
        written.assert_status(200);
        let new_etag = written.header("etag").unwrap().to_owned();
        let committed = Instant::now();
        loop {
            let seen = get(&node_b, &path).await;
            if seen.header("etag") == Some(new_etag.as_str()) {
                assert_eq!(seen.json()["heading"], format!("Risks, round {round}"));
                break;
            }
            assert!(
                committed.elapsed() < Duration::from_millis(100),
                "round {round}: B still serves the old version after 100 ms"
            );
            actix_web::rt::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let _ = state_a;
}

#[actix_web::test]
async fn a_lost_notification_connection_drops_the_cache_and_resubscribes() {
    let app = TestApp::new().await;
    let (state, service) = app.node().await;
    wait_until_subscribed(&state).await;
    get(&service, SEED).await;
    get(&service, SEED).await;
    assert!(state.cache.bytes() > 0);

    // Cut every listener's connection, as a restart or network fault would.
    let mut conn = app.db.conn().await;
    use diesel_async::RunQueryDsl;
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 \
         AND datname = current_database() AND pid <> pg_backend_pid()",
    )
    .bind::<diesel::sql_types::Text, _>(lamina::cache::LISTENER_NAME)
    .execute(&mut conn)
    .await
    .unwrap();
    let started = Instant::now();
    while state.cache.is_subscribed() && state.cache.bytes() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the lost connection went unnoticed"
        );
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    // What was cached before the loss is no longer served as current.
    let (hits, _) = state.cache.counts();
    get(&service, SEED).await;
    assert_eq!(state.cache.counts().0, hits, "the cache was dropped");
    wait_until_subscribed(&state).await;
    get(&service, SEED).await;
    assert!(state.cache.bytes() > 0, "caching resumes once subscribed again");
}

/// The backend pids of this database's cache listeners.
pub(crate) async fn listener_pids(app: &TestApp) -> std::collections::BTreeSet<i32> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Backend {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let mut conn = app.db.conn().await;
    let backends: Vec<Backend> = diesel::sql_query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
    )
    .bind::<diesel::sql_types::Text, _>(lamina::cache::LISTENER_NAME)
    .load(&mut conn)
    .await
    .unwrap();
    backends.into_iter().map(|backend| backend.pid).collect()
}

/// Sends SIGCONT to the stopped backends when dropped, so a failing
/// assertion never leaves the cluster with frozen processes.
pub(crate) struct Stopped(Vec<i32>);

impl Stopped {
    fn signal(pids: &[i32], signal: &str) {
        for pid in pids {
            let status = std::process::Command::new("kill")
                .args([signal, &pid.to_string()])
                .status()
                .unwrap();
            assert!(status.success(), "kill {signal} {pid}");
        }
    }

    pub(crate) fn stop(pids: Vec<i32>) -> Stopped {
        Stopped::signal(&pids, "-STOP");
        Stopped(pids)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .status();
        }
    }
}

#[actix_web::test]
async fn a_stalled_notification_connection_stops_serving_the_cache_within_100_ms() {
    let (app, token, (_, node_a), (state_b, node_b)) = editing_two_nodes().await;
    wait_until_subscribed(&state_b).await;
    let path = format!("{SEED}/sections/risks");
    let before = get(&node_b, &path).await;
    let (hits, _) = state_b.cache.counts();
    get(&node_b, &path).await;
    assert_eq!(state_b.cache.counts().0, hits + 1, "B serves from its cache");

    // Freeze the listeners' backends (as a stuck backend or a silently
    // dropped network path would): their connections stay open, but deliver
    // nothing.
    let listeners = listener_pids(&app).await;
    assert_eq!(listeners.len(), 2, "one listener a node");
    let stopped = Stopped::stop(listeners.into_iter().collect());

    let body = json!({"kind": "risks", "heading": "Written while B cannot hear", "items": []});
    let written = put_over(&node_a, &path, &token, &body).await;
    written.assert_status(200);
    let committed = Instant::now();
    loop {
        let seen = get(&node_b, &path).await;
        if seen.header("etag") == written.header("etag") {
            assert_eq!(seen.json()["heading"], "Written while B cannot hear");
            break;
        }
        assert_eq!(seen.header("etag"), before.header("etag"));
        assert!(
            committed.elapsed() < Duration::from_millis(100),
            "B still serves the old version after 100 ms"
        );
        actix_web::rt::time::sleep(Duration::from_millis(2)).await;
    }

    // B replaces the silent connection and serves from its cache again,
    // even while the old backend stays frozen.
    let started = Instant::now();
    loop {
        get(&node_b, &path).await;
        let (hits, _) = state_b.cache.counts();
        let again = get(&node_b, &path).await;
        if state_b.cache.counts().0 > hits {
            assert_eq!(again.header("etag"), written.header("etag"));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "B never caches again");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    drop(stopped);
}

/// The series of the article route counted by `/metrics` for `method` and `status`.
async fn article_requests<S: crate::common::TestService<B>, B: actix_web::body::MessageBody>(
    service: &S,
    method: &str,
    status: u16,
) -> u64 {
    let text = String::from_utf8(get(service, "/metrics").await.body).unwrap();
    let series =
        format!(r#"lamina_http_requests_total{{route="/v1/articles/{{slug}}",method="{method}",status="{status}"}} "#);
    text.lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |count| count.trim().parse().unwrap())
}

/// Repeats of a cached read are answered in front of the application
/// (`lamina::repeat`): each repeat is answered exactly as the first, headers
/// and body, with its own request id, counted in metrics and as a cache
/// hit; requests differing in any header are answered on their own; and a
/// write is seen at once.
#[actix_web::test]
async fn repeated_reads_are_answered_alike_and_see_writes_at_once() {
    use actix_web::http::Method;
    let (_app, token, state, service) = editing_node().await;
    wait_until_subscribed(&state).await;
    let path = SEED.to_owned();
    let first = get(&service, &path).await;
    let etag = first.header("etag").unwrap().to_owned();
    // The pre-compressed variants replace the entry once made: wait for them.
    crate::common::compression_done(&state.cache).await;
    let variants: Vec<(Method, Vec<(&str, &str)>)> = vec![
        (Method::GET, vec![]),
        (Method::GET, vec![("Accept-Encoding", "gzip, deflate, br")]),
        (Method::GET, vec![("Accept-Encoding", "gzip")]),
        (Method::GET, vec![("If-None-Match", etag.as_str())]),
        (Method::GET, vec![("Origin", "https://front.example")]),
        (Method::GET, vec![("Accept-Language", "de, en;q=0.5")]),
        (Method::HEAD, vec![]),
    ];
    let mut answers = Vec::new();
    for (method, headers) in &variants {
        let get_before = article_requests(&service, method.as_str(), 200).await;
        let not_modified_before = article_requests(&service, method.as_str(), 304).await;
        let mut replies = Vec::new();
        for n in 0..3 {
            let (hits, misses) = state.cache.counts();
            let mut request = actix_web::test::TestRequest::default()
                .method(method.clone())
                .uri(&path)
                .insert_header(("X-Request-Id", format!("repeat-{n}")));
            for header in headers {
                request = request.insert_header(*header);
            }
            let reply = crate::common::send(&service, request).await;
            assert_eq!(state.cache.counts(), (hits + 1, misses), "{method} {headers:?}: a hit");
            assert_eq!(reply.header("x-request-id"), Some(format!("repeat-{n}").as_str()));
            replies.push(reply);
        }
        for reply in &replies[1..] {
            assert_eq!(reply.status, replies[0].status, "{method} {headers:?}");
            assert_eq!(reply.body, replies[0].body, "{method} {headers:?}");
            let without_id = |reply: &crate::common::Reply| {
                let mut all: Vec<(String, String)> = reply
                    .headers
                    .iter()
                    .filter(|(name, _)| name.as_str() != "x-request-id")
                    .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
                    .collect();
                all.sort();
                all
            };
            assert_eq!(without_id(reply), without_id(&replies[0]), "{method} {headers:?}");
        }
        let (counted, before) = if replies[0].status == 304 {
            (
                article_requests(&service, method.as_str(), 304).await,
                not_modified_before,
            )
        } else {
            (article_requests(&service, method.as_str(), 200).await, get_before)
        };
        assert_eq!(counted, before + 3, "{method} {headers:?}: each repeat is counted");
        answers.push(replies.swap_remove(0));
    }
    assert_eq!(answers[3].status, 304);
    assert_eq!(answers[1].header("content-encoding"), Some("br"));
    assert_eq!(answers[2].header("content-encoding"), Some("gzip"));
    assert_eq!(answers[0].header("content-encoding"), None);
    assert!(answers[4].header("access-control-allow-origin").is_some());
    assert!(answers[0].header("access-control-allow-origin").is_none());

    let section = format!("{SEED}/sections/overview");
    let body = json!({"kind": "overview", "heading": "What is it?", "body": "Repeated no more."});
    put_over(&service, &section, &token, &body).await.assert_status(200);
    for (method, headers) in &variants[..1] {
        let mut request = actix_web::test::TestRequest::default()
            .method(method.clone())
            .uri(&path);
        for header in headers {
            request = request.insert_header(*header);
        }
        let after = crate::common::send(&service, request).await;
        assert_eq!(after.json()["sections"][0]["body"], "Repeated no more.");
        assert_ne!(after.header("etag"), Some(etag.as_str()));
    }
    let revalidated = get_with(&service, &path, &[("If-None-Match", etag.as_str())]).await;
    assert_eq!(revalidated.status, 200, "the old ETag is no longer current");
}

//! A database outage: no panic, no long hang; cached public reads go on,
//! the rest answers 503; lamina recovers by itself once the database is back.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{Proxy, SEED, TestApp, bearer, get, send, write};

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
    assert_eq!(article.status, 200);
    let risks_path = format!("{SEED}/sections/risks");
    let risks_before = get(&app.service().await, &risks_path).await.body;

    proxy.cut();
    // The cached article is still served, promptly.
    for _ in 0..3 {
        let asked = Instant::now();
        let reply = get(&service, SEED).await;
        assert_eq!(reply.status, 200);
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
    get(&service, "/readyz")
        .await
        .assert_problem(503, "service_unavailable");
    assert_eq!(get(&service, "/healthz").await.status, 200, "alive all the same");
    // Writes: 503, nothing half-written.
    let body = json!({"kind": "risks", "heading": "Written during the outage", "items": []});
    let reply = send(
        &service,
        write(Method::PUT, &risks_path, &token, &body).insert_header(("If-Match", "*")),
    )
    .await;
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
    let reply = send(
        &service,
        TestRequest::get().uri(&risks_path).insert_header(bearer(&token)),
    )
    .await;
    assert_eq!(reply.status, 200, "authenticated requests work again");
}

/// A connection dropped in the middle of a write (here: the backend is
/// terminated while the write waits for a row lock) answers 503 with
/// `Retry-After` saying nothing was written, never 500; the revision list
/// tells the same; and every pooled connection carries lamina's timeouts.
#[actix_web::test]
async fn a_connection_lost_mid_write_is_503_saying_nothing_was_written() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::new().await;
    let token = app.editor().await;
    let (state, service) = app.node().await;

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
    let (locker, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
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
    let (reply, ()) = tokio::join!(
        send(
            &service,
            write(Method::PUT, &path, &token, &body).insert_header(("If-Match", "*"))
        ),
        terminate
    );
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

//! `GET /v1/sync`: initial sync, deltas, pages, visibility, expiry, and no
//! change skipped whatever order writes commit in.

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::common::{SEED, TestApp, bearer, get, send, write};

/// Sends through any service (the harness's is an opaque `impl Service`).
macro_rules! call {
    ($service:expr, $request:expr) => {
        send($service, $request).await
    };
}

/// `GET` with the caller's token, if any.
fn request(path: &str, token: Option<&str>) -> TestRequest {
    let request = TestRequest::get().uri(path);
    match token {
        Some(token) => request.insert_header(bearer(token)),
        None => request,
    }
}

/// The `article` of each article entry of a feed body, as the bytes sent
/// (serde_json's `Value` would reorder keys). The marker cannot occur inside
/// a string, where its quotes would be escaped.
fn raw_articles(body: &[u8]) -> Vec<Vec<u8>> {
    const MARKER: &[u8] = br#"{"type":"article","article":"#;
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = body[at..].windows(MARKER.len()).position(|window| window == MARKER) {
        let start = at + offset + MARKER.len();
        let (mut depth, mut in_string, mut escaped, mut end) = (0, false, false, start);
        for (index, &byte) in body[start..].iter().enumerate() {
            match (in_string, escaped, byte) {
                (true, true, _) => escaped = false,
                (true, false, b'\\') => escaped = true,
                (true, false, b'"') => in_string = false,
                (true, false, _) => {}
                (false, _, b'"') => in_string = true,
                (false, _, b'{' | b'[') => depth += 1,
                (false, _, b'}' | b']') => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + index + 1;
                        break;
                    }
                }
                (false, _, _) => {}
            }
        }
        found.push(body[start..end].to_vec());
        at = end;
    }
    found
}

/// A client keeping a copy of the content through the feed.
struct Client {
    token: Option<String>,
    cursor: Option<String>,
    /// Article id → the article's bytes, as the entries carried them.
    copy: BTreeMap<String, Vec<u8>>,
}

impl Client {
    fn new(token: Option<String>) -> Client {
        Client {
            token,
            cursor: None,
            copy: BTreeMap::new(),
        }
    }

    fn path(&self, limit: usize) -> String {
        match &self.cursor {
            None => format!("/v1/sync?limit={limit}"),
            Some(cursor) => format!("/v1/sync?limit={limit}&cursor={cursor}"),
        }
    }

    /// Applies one answer; returns `has_more`.
    fn apply(&mut self, reply: &crate::common::Reply) -> bool {
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        let expected_cache = if self.token.is_some() {
            "private, no-store"
        } else {
            "no-store"
        };
        assert_eq!(reply.header("cache-control"), Some(expected_cache));
        let initial = self.cursor.as_deref().is_none_or(|cursor| cursor.starts_with("i-"));
        let page = reply.json();
        let mut raw = raw_articles(&reply.body).into_iter();
        for entry in page["entries"].as_array().unwrap() {
            match entry["type"].as_str().unwrap() {
                "article" => {
                    let id = entry["article"]["id"].as_str().unwrap().to_owned();
                    let bytes = raw.next().expect("as many raw articles as article entries");
                    let parsed: Value = serde_json::from_slice(&bytes).unwrap();
                    assert_eq!(parsed, entry["article"]);
                    self.copy.insert(id, bytes);
                }
                "deleted" => {
                    assert!(!initial, "an initial sync holds no deletions: {entry}");
                    assert_eq!(entry.as_object().unwrap().len(), 3, "{entry}");
                    assert!(entry["slug"].is_string());
                    self.copy.remove(entry["id"].as_str().unwrap());
                }
                other => panic!("unknown entry type {other}"),
            }
        }
        assert!(raw.next().is_none());
        self.cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
        page["has_more"].as_bool().unwrap()
    }
}

macro_rules! sync_page {
    ($service:expr, $client:expr, $limit:expr) => {{
        let path = $client.path($limit);
        let reply = call!($service, request(&path, $client.token.as_deref()));
        $client.apply(&reply)
    }};
}

macro_rules! sync_all {
    ($service:expr, $client:expr, $limit:expr) => {{
        let mut pages = 0;
        while sync_page!($service, $client, $limit) {
            pages += 1;
            assert!(pages < 1000, "the feed never ends");
        }
    }};
}

/// Every article the caller can list, id → its `GET` body.
macro_rules! readable {
    ($service:expr, $token:expr) => {{
        let token: Option<&str> = $token;
        let list = call!($service, request("/v1/articles?limit=100", token));
        assert_eq!(list.status, 200);
        let list = list.json();
        assert!(list["next_cursor"].is_null(), "more than 100 articles");
        let mut articles = BTreeMap::new();
        for item in list["items"].as_array().unwrap() {
            let reply = call!(
                $service,
                request(&format!("/v1/articles/{}", item["slug"].as_str().unwrap()), token)
            );
            assert_eq!(reply.status, 200);
            articles.insert(item["id"].as_str().unwrap().to_owned(), reply.body);
        }
        articles
    }};
}

fn assert_same(client: &Client, expected: &BTreeMap<String, Vec<u8>>, context: &str) {
    let ids = |map: &BTreeMap<String, Vec<u8>>| map.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        ids(&client.copy),
        ids(expected),
        "{context}: the copy holds other articles"
    );
    for (id, bytes) in expected {
        assert_eq!(
            String::from_utf8_lossy(&client.copy[id]),
            String::from_utf8_lossy(bytes),
            "{context}: article {id} differs"
        );
    }
}

fn article_body(title: &str, status: &str) -> Value {
    json!({
        "title": title, "author": "sd80464", "published_on": "2025-02-01", "status": status,
        "summary": format!("All about {title}."),
        "sections": [
            {"kind": "overview", "heading": "Overview", "body": "An overview."},
            {"kind": "steps", "heading": "Steps", "items": [
                {"title": "One", "body": "First."}, {"title": "Two", "body": "Second."}, {"title": "Three", "body": "Third."}
            ]}
        ]
    })
}

/// An article's `GET` body (as an editor sees it) turned into a write body.
fn as_write(article: &Value) -> Value {
    let mut body = json!({});
    for field in ["title", "author", "published_on", "status", "summary"] {
        body[field] = article[field].clone();
    }
    body["sections"] = article["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|section| {
            let mut section = section.clone();
            let object = section.as_object_mut().unwrap();
            for field in ["id", "position", "version", "updated_at"] {
                object.remove(field);
            }
            section
        })
        .collect();
    body
}

#[actix_web::test]
async fn the_feed_reproduces_get_bodies_through_random_writes() {
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let preview = app.token("preview", lamina::auth::Role::Preview).await;
    let service = app.service().await;
    let seed = std::env::var("LAMINA_SYNC_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x5eed_u64);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut clients = [Client::new(None), Client::new(Some(preview.clone()))];
    for client in &mut clients {
        sync_all!(&service, client, rng.usize(1..=3));
    }
    let mut created = 0;
    for round in 0..15 {
        for _ in 0..rng.usize(1..=4) {
            let slugs: Vec<String> = readable!(&service, Some(editor.as_str()))
                .values()
                .map(|body| {
                    serde_json::from_slice::<Value>(body).unwrap()["slug"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            let pick = (!slugs.is_empty()).then(|| slugs[rng.usize(..slugs.len())].clone());
            let op = if pick.is_none() { 0 } else { rng.usize(0..6) };
            match (op, pick) {
                (0, _) | (_, None) => {
                    created += 1;
                    let status = if rng.bool() { "published" } else { "draft" };
                    let path = format!("/v1/articles/article-{created}");
                    let reply = call!(
                        &service,
                        write(
                            Method::PUT,
                            &path,
                            &editor,
                            &article_body(&format!("Article {created}"), status)
                        )
                    );
                    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
                }
                (1, Some(slug)) => {
                    let reply = call!(&service, request(&format!("/v1/articles/{slug}"), Some(&editor)));
                    let article = reply.json();
                    let mut body = as_write(&article);
                    body["status"] = json!(if article["status"] == "published" {
                        "draft"
                    } else {
                        "published"
                    });
                    let reply = call!(
                        &service,
                        write(Method::PUT, &format!("/v1/articles/{slug}"), &editor, &body)
                            .insert_header(("If-Match", "*"))
                    );
                    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
                }
                (2, Some(slug)) => {
                    let reply = call!(&service, request(&format!("/v1/articles/{slug}"), Some(&editor)));
                    let article = reply.json();
                    let Some(steps) = article["sections"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|s| s["kind"] == "steps")
                    else {
                        continue;
                    };
                    // Reorder by PUT with ids, and add one.
                    let mut items: Vec<Value> = steps["items"].as_array().unwrap().clone();
                    rng.shuffle(&mut items);
                    items.truncate(5);
                    items.push(json!({"title": format!("New in round {round}"), "body": "Added."}));
                    let body = json!({"kind": "steps", "heading": format!("Steps, round {round}"), "items": items});
                    let reply = call!(
                        &service,
                        write(
                            Method::PUT,
                            &format!("/v1/articles/{slug}/sections/steps"),
                            &editor,
                            &body
                        )
                        .insert_header(("If-Match", "*"))
                    );
                    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
                }
                (3, Some(slug)) => {
                    let risks = json!({"kind": "risks", "heading": "Risks", "items": [{"title": "Redness", "body": format!("Round {round}.")}]});
                    let path = format!("/v1/articles/{slug}/sections/risks");
                    let reply = call!(&service, request(&path, Some(&editor)));
                    let request = write(Method::PUT, &path, &editor, &risks);
                    let request = if reply.status == 200 {
                        request.insert_header(("If-Match", "*"))
                    } else {
                        request
                    };
                    let reply = call!(&service, request);
                    assert!([200, 201].contains(&reply.status.as_u16()));
                }
                (4, Some(slug)) => {
                    let reply = call!(
                        &service,
                        TestRequest::delete()
                            .uri(&format!("/v1/articles/{slug}/sections/overview"))
                            .insert_header(bearer(&editor))
                            .insert_header(("If-Match", "*"))
                    );
                    assert!([204, 404].contains(&reply.status.as_u16()));
                }
                (_, Some(slug)) => {
                    let reply = call!(
                        &service,
                        TestRequest::delete()
                            .uri(&format!("/v1/articles/{slug}"))
                            .insert_header(bearer(&editor))
                            .insert_header(("If-Match", "*"))
                    );
                    assert_eq!(reply.status, 204);
                }
            }
            // Sometimes a client reads a page in the middle of the writes.
            if rng.u8(..4) == 0 {
                let client = &mut clients[rng.usize(..2)];
                sync_page!(&service, client, rng.usize(1..=3));
            }
        }
        let [anonymous, preview_client] = &mut clients;
        // The first run ends the window a page in the middle of the round
        // began (it keeps its end); the second asks for what changed since.
        for _ in 0..2 {
            sync_all!(&service, anonymous, rng.usize(1..=4));
            sync_all!(&service, preview_client, rng.usize(1..=4));
        }
        assert_same(
            anonymous,
            &readable!(&service, None),
            &format!("anonymous, round {round}"),
        );
        assert_same(
            preview_client,
            &readable!(&service, Some(preview.as_str())),
            &format!("preview, round {round}"),
        );
        // A fresh initial sync gives the same.
        let mut fresh = Client::new(Some(preview.clone()));
        sync_all!(&service, &mut fresh, 2);
        assert_same(&fresh, &preview_client.copy, &format!("initial sync, round {round}"));
    }
    // The writes were of every kind (published or unpublished, depending on the seed).
    let (db, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
    let events: Vec<String> = db
        .query("SELECT DISTINCT event FROM changes", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    for event in ["article.created", "article.updated", "article.deleted"] {
        assert!(events.iter().any(|found| found == event), "no {event}: {events:?}");
    }
    assert!(
        events
            .iter()
            .any(|found| found == "article.published" || found == "article.unpublished"),
        "no status change: {events:?}"
    );
}

#[actix_web::test]
async fn a_write_waiting_on_a_lock_during_a_sync_call_is_delivered_by_the_next() {
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let service = app.service().await;
    let mut client = Client::new(None);
    sync_all!(&service, &mut client, 100);

    let (locker, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
    locker
        .batch_execute(
            "BEGIN; SELECT 1 FROM articles \
             WHERE slug = 'explore-micro-needling-for-flawless-skin-today' FOR UPDATE",
        )
        .await
        .unwrap();
    let seed = get(&service, SEED).await.json();
    let mut body = as_write(&seed);
    body["title"] = json!("Written under a lock");
    let put = send(
        &service,
        write(Method::PUT, SEED, &editor, &body).insert_header(("If-Match", "*")),
    );
    let meanwhile = async {
        // Let the write reach the lock.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        let reply = get(&service, &client.path(100)).await;
        locker.batch_execute("COMMIT").await.unwrap();
        reply
    };
    let (put, meanwhile) = tokio::join!(put, meanwhile);
    assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
    assert!(!client.apply(&meanwhile));
    assert_eq!(meanwhile.json()["entries"], json!([]));
    let reply = get(&service, &client.path(100)).await;
    assert!(!client.apply(&reply));
    assert_eq!(reply.json()["entries"][0]["article"]["title"], "Written under a lock");
    assert_same(&client, &readable!(&service, None), "after the write");
}

#[actix_web::test]
async fn a_write_committed_after_a_younger_one_is_delivered_by_the_next_call() {
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let service = app.service().await;
    let mut client = Client::new(Some(editor.clone()));
    sync_all!(&service, &mut client, 100);
    assert_eq!(client.copy.len(), 1);

    // An older transaction changes the seed article (as a write does: the
    // row and a change row) and stays open…
    let (held, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
    held.batch_execute(
        "BEGIN; \
         UPDATE articles SET title = 'Held open', version = version + 1 \
             WHERE slug = 'explore-micro-needling-for-flawless-skin-today'; \
         INSERT INTO changes (article_id, slug, event, version, revision_id) \
             SELECT id, slug, 'article.updated', version, gen_random_uuid() FROM articles \
             WHERE slug = 'explore-micro-needling-for-flawless-skin-today'",
    )
    .await
    .unwrap();
    // …while a younger one commits.
    let reply = call!(
        &service,
        write(
            Method::PUT,
            "/v1/articles/younger",
            &editor,
            &article_body("Younger", "published")
        )
    );
    assert_eq!(reply.status, 201);

    // The call made meanwhile delivers neither: the younger write waits for the older.
    let reply = call!(&service, request(&client.path(100), Some(&editor)));
    assert!(!client.apply(&reply));
    assert_eq!(reply.json()["entries"], json!([]), "delivered past an open transaction");

    held.batch_execute("COMMIT").await.unwrap();
    let reply = call!(&service, request(&client.path(100), Some(&editor)));
    assert!(!client.apply(&reply));
    let entries = reply.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let titles: Vec<&str> = entries
        .iter()
        .map(|entry| entry["article"]["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Held open") && titles.contains(&"Younger"),
        "{titles:?}"
    );

    // Nothing more, nothing twice.
    let reply = call!(&service, request(&client.path(100), Some(&editor)));
    assert!(!client.apply(&reply));
    assert_eq!(reply.json()["entries"], json!([]));
}

#[actix_web::test]
async fn pages_visibility_and_deletions() {
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let service = app.service().await;
    for (slug, status) in [("one", "published"), ("two", "draft"), ("three", "published")] {
        let reply = call!(
            &service,
            write(
                Method::PUT,
                &format!("/v1/articles/{slug}"),
                &editor,
                &article_body(slug, status)
            )
        );
        assert_eq!(reply.status, 201);
    }
    // Anonymous: the three published articles, one a page, in id order.
    let mut anonymous = Client::new(None);
    let mut ids = Vec::new();
    let mut more = Vec::new();
    loop {
        let reply = get(&service, &anonymous.path(1)).await;
        let page = reply.json();
        assert_eq!(page["entries"].as_array().unwrap().len(), 1);
        ids.push(page["entries"][0]["article"]["id"].as_str().unwrap().to_owned());
        more.push(anonymous.apply(&reply));
        if !more.last().unwrap() {
            break;
        }
    }
    assert_eq!(more, [true, true, false]);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    let mut editor_client = Client::new(Some(editor.clone()));
    sync_all!(&service, &mut editor_client, 500);
    assert_eq!(editor_client.copy.len(), 4);

    // Unpublishing is a deletion to anonymous callers, an update to the others.
    let reply = call!(&service, request("/v1/articles/one", Some(&editor)));
    let mut body = as_write(&reply.json());
    body["status"] = json!("draft");
    let reply = call!(
        &service,
        write(Method::PUT, "/v1/articles/one", &editor, &body).insert_header(("If-Match", "*"))
    );
    assert_eq!(reply.status, 200);
    let one = reply.json()["id"].as_str().unwrap().to_owned();
    let reply = call!(
        &service,
        TestRequest::delete()
            .uri("/v1/articles/three")
            .insert_header(bearer(&editor))
            .insert_header(("If-Match", "*"))
    );
    assert_eq!(reply.status, 204);

    let reply = get(&service, &anonymous.path(1)).await;
    assert!(anonymous.apply(&reply));
    let first = reply.json()["entries"][0].clone();
    let reply = get(&service, &anonymous.path(1)).await;
    assert!(!anonymous.apply(&reply));
    let second = reply.json()["entries"][0].clone();
    let mut deleted = [first, second];
    deleted.sort_by_key(|entry| entry["slug"].as_str().unwrap().to_owned());
    assert_eq!(deleted[0]["type"], "deleted");
    assert_eq!(deleted[0]["slug"], "one");
    assert_eq!(deleted[0]["id"], one.as_str());
    assert_eq!(deleted[1]["type"], "deleted");
    assert_eq!(deleted[1]["slug"], "three");
    assert_same(&anonymous, &readable!(&service, None), "anonymous");

    let reply = call!(&service, request(&editor_client.path(10), Some(&editor)));
    assert!(!editor_client.apply(&reply));
    let entries = reply.json()["entries"].clone();
    assert_eq!(entries.as_array().unwrap().len(), 2);
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["type"] == "article"
                && entry["article"]["status"] == "draft"
                && entry["article"]["id"] == one.as_str())
    );
    assert_same(&editor_client, &readable!(&service, Some(editor.as_str())), "editor");

    // The change log says what happened.
    let (db, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
    let events: Vec<String> = db
        .query("SELECT event FROM changes ORDER BY seq", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        events,
        [
            "article.created",
            "article.created",
            "article.created",
            "article.created",
            "article.unpublished",
            "article.deleted"
        ]
    );
}

#[actix_web::test]
async fn pruned_cursors_answer_410_and_bad_queries_400() {
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let service = app.service().await;
    let mut client = Client::new(None);
    sync_all!(&service, &mut client, 100);
    let old = client.cursor.clone().unwrap();
    let mut paging = Client::new(None);
    let reply = call!(
        &service,
        write(
            Method::PUT,
            "/v1/articles/two",
            &editor,
            &article_body("Two", "published")
        )
    );
    assert_eq!(reply.status, 201);
    assert!(sync_page!(&service, &mut paging, 1));
    let mid_initial = paging.cursor.clone().unwrap();

    // A write prunes changes older than LAMINA_SYNC_KEEP_DAYS and moves the horizon past them.
    let (db, connection) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_web::rt::spawn(connection);
    db.batch_execute("UPDATE changes SET created_at = now() - interval '31 days'")
        .await
        .unwrap();
    let reply = call!(
        &service,
        write(
            Method::PUT,
            "/v1/articles/three",
            &editor,
            &article_body("Three", "published")
        )
    );
    assert_eq!(reply.status, 201);
    let left: i64 = db.query_one("SELECT count(*) FROM changes", &[]).await.unwrap().get(0);
    assert_eq!(left, 1, "the old changes are pruned");
    get(&service, &format!("/v1/sync?cursor={old}"))
        .await
        .assert_problem(410, "sync_cursor_expired");
    // The initial sync began after the pruned changes: it goes on.
    assert_eq!(
        get(&service, &format!("/v1/sync?cursor={mid_initial}")).await.status,
        200
    );
    // Starting again works, and its cursor is served.
    let mut again = Client::new(None);
    sync_all!(&service, &mut again, 100);
    assert_eq!(again.copy.len(), 3);
    let reply = get(&service, &again.path(100)).await;
    assert!(!again.apply(&reply));

    // A horizon moved by hand (as pruning would) expires a current cursor too.
    db.batch_execute("UPDATE sync_horizon SET pruned_before = '999999999999'")
        .await
        .unwrap();
    for cursor in [again.cursor.as_deref().unwrap(), &mid_initial] {
        get(&service, &format!("/v1/sync?cursor={cursor}"))
            .await
            .assert_problem(410, "sync_cursor_expired");
    }

    for junk in [
        "",
        "junk",
        "s-",
        "s-zz",
        "s-1-2",
        "i-1",
        "d-1-2-3",
        "s-A",
        "s-10000000000000000",
        "%E2%9C%93",
    ] {
        get(&service, &format!("/v1/sync?cursor={junk}"))
            .await
            .assert_problem(400, "invalid_cursor");
    }
    for limit in ["0", "501"] {
        get(&service, &format!("/v1/sync?limit={limit}"))
            .await
            .assert_problem(400, "invalid_limit");
    }
    get(&service, "/v1/sync?limit=x")
        .await
        .assert_problem(400, "invalid_query");
    get(&service, "/v1/sync?since=s-1")
        .await
        .assert_problem(400, "unknown_query_parameter");
    let reply = call!(&service, request("/v1/sync", Some("not-a-token")));
    reply.assert_problem(401, "unauthorized");
    assert_eq!(get(&service, "/v1/sync?limit=500").await.status, 200);
    assert_eq!(get(&service, SEED).await.status, 200);
}

//! `GET /v1/sync`: initial sync, deltas, pages, visibility, expiry, and no
//! change skipped whatever order writes commit in.

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::common::{SEED, TestApp, bearer, call_if_match, editing, get, get_problem, put_over, send, serving, write};

/// Sends through any service (the harness's is an opaque `impl Service`).
macro_rules! call {
    ($service:expr, $request:expr) => {
        send($service, $request).await
    };
}

/// A plain connection to the database at `url`, to look at or change what is stored.
async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    actix_web::rt::spawn(connection);
    client
}

/// `GET` with the caller's token, if any.
fn request(path: &str, token: Option<&str>) -> TestRequest {
    let request = TestRequest::get().uri(path);
    match token {
        Some(token) => request.insert_header(bearer(token)),
        None => request,
    }
}

/// The one text column of each row `query` selects.
async fn texts(db: &tokio_postgres::Client, query: &str) -> Vec<String> {
    db.query(query, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// The sync path that resumes at `cursor`.
fn at_cursor(cursor: &str) -> String {
    format!("/v1/sync?cursor={cursor}")
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

/// A client keeping a copy of the content through the feed, keyed by id and,
/// as a mirror with `UNIQUE(slug)` would be, by slug.
struct Client {
    token: Option<String>,
    cursor: Option<String>,
    /// Article id → the article's bytes, as the entries carried them.
    copy: BTreeMap<String, Vec<u8>>,
    /// Slug → the id of the article holding it in the copy.
    slugs: BTreeMap<String, String>,
    /// Whether an initial sync is under way (no `has_more: false` yet).
    initial: bool,
    /// Whether its initial sync may hold `deleted` entries: only when
    /// articles are deleted while it runs.
    deletions_while_initial: bool,
}

impl Client {
    fn new(token: Option<String>) -> Client {
        Client {
            token,
            cursor: None,
            copy: BTreeMap::new(),
            slugs: BTreeMap::new(),
            initial: true,
            deletions_while_initial: false,
        }
    }

    fn path(&self, limit: usize) -> String {
        crate::common::from_cursor(&format!("/v1/sync?limit={limit}"), self.cursor.as_deref())
    }

    fn forget(&mut self, id: &str) {
        if let Some(bytes) = self.copy.remove(id) {
            let slug = serde_json::from_slice::<Value>(&bytes).unwrap()["slug"]
                .as_str()
                .unwrap()
                .to_owned();
            self.slugs.remove(&slug);
        }
    }

    /// Applies one answer; returns `has_more`.
    fn apply(&mut self, reply: &crate::common::Reply) -> bool {
        reply.assert_status(200);
        let expected_cache = if self.token.is_some() {
            "private, no-store"
        } else {
            "no-store"
        };
        assert_eq!(reply.header("cache-control"), Some(expected_cache));
        let page = reply.json();
        let mut raw = raw_articles(&reply.body).into_iter();
        for entry in page["entries"].as_array().unwrap() {
            match entry["type"].as_str().unwrap() {
                "article" => {
                    let id = entry["article"]["id"].as_str().unwrap().to_owned();
                    let slug = entry["article"]["slug"].as_str().unwrap().to_owned();
                    let bytes = raw.next().expect("as many raw articles as article entries");
                    let parsed: Value = serde_json::from_slice(&bytes).unwrap();
                    assert_eq!(parsed, entry["article"]);
                    self.forget(&id);
                    if let Some(holder) = self.slugs.insert(slug.clone(), id.clone()) {
                        panic!("{id} arrived while {holder} still holds the slug {slug}");
                    }
                    self.copy.insert(id, bytes);
                }
                "deleted" => {
                    assert!(
                        !self.initial || self.deletions_while_initial,
                        "a quiet initial sync holds no deletions: {entry}"
                    );
                    assert_eq!(entry.as_object().unwrap().len(), 3, "{entry}");
                    assert!(entry["slug"].is_string());
                    self.forget(entry["id"].as_str().unwrap());
                }
                other => panic!("unknown entry type {other}"),
            }
        }
        assert!(raw.next().is_none());
        self.cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
        let has_more = page["has_more"].as_bool().unwrap();
        self.initial &= has_more;
        has_more
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

/// An anonymous client that has read the whole feed.
async fn caught_up<S: crate::common::AppService>(service: &S) -> Client {
    let mut client = Client::new(None);
    sync_all!(service, &mut client, 100);
    client
}

/// Every article the caller can list, id → its `GET` body.
macro_rules! readable {
    ($service:expr, $token:expr) => {{
        let token: Option<&str> = $token;
        let list = call!($service, request("/v1/articles?limit=100", token));
        list.assert_status(200);
        let list = list.json();
        assert!(list["next_cursor"].is_null(), "more than 100 articles");
        let mut articles = BTreeMap::new();
        for item in list["items"].as_array().unwrap() {
            let reply = call!(
                $service,
                request(&format!("/v1/articles/{}", item["slug"].as_str().unwrap()), token)
            );
            reply.assert_status(200);
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
    let (app, editor, service) = editing().await;
    let preview = app.token("preview", lamina::auth::Role::Preview).await;
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
                    reply.assert_status(201);
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
                    reply.assert_status(200);
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
                    reply.assert_status(200);
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
                    let reply = call_if_match(
                        &service,
                        Method::DELETE,
                        &format!("/v1/articles/{slug}/sections/overview"),
                        &editor,
                        "*",
                    )
                    .await;
                    assert!([204, 404].contains(&reply.status.as_u16()));
                }
                (_, Some(slug)) => {
                    let reply =
                        call_if_match(&service, Method::DELETE, &format!("/v1/articles/{slug}"), &editor, "*").await;
                    reply.assert_status(204);
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
        // Deletions of this round may lie above its horizon (when another
        // transaction of the cluster holds it back): they come as entries.
        fresh.deletions_while_initial = true;
        sync_all!(&service, &mut fresh, 2);
        assert_same(&fresh, &preview_client.copy, &format!("initial sync, round {round}"));
    }
    // The writes were of every kind (published or unpublished, depending on the seed).
    let db = connect(&app.db.url).await;
    let events = texts(&db, "SELECT DISTINCT event FROM changes").await;
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
    let (app, editor, service) = editing().await;
    let mut client = caught_up(&service).await;

    let locker = connect(&app.db.url).await;
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
    let put = put_over(&service, SEED, &editor, &body);
    let meanwhile = async {
        // Let the write reach the lock.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        let reply = get(&service, &client.path(100)).await;
        locker.batch_execute("COMMIT").await.unwrap();
        reply
    };
    let (put, meanwhile) = tokio::join!(put, meanwhile);
    put.assert_status(200);
    assert!(!client.apply(&meanwhile));
    assert_eq!(meanwhile.json()["entries"], json!([]));
    let reply = get(&service, &client.path(100)).await;
    assert!(!client.apply(&reply));
    assert_eq!(reply.json()["entries"][0]["article"]["title"], "Written under a lock");
    assert_same(&client, &readable!(&service, None), "after the write");
}

#[actix_web::test]
async fn a_write_committed_after_a_younger_one_is_delivered_by_the_next_call() {
    let (app, editor, service) = editing().await;
    let mut client = Client::new(Some(editor.clone()));
    sync_all!(&service, &mut client, 100);
    assert_eq!(client.copy.len(), 1);

    // An older transaction changes the seed article (as a write does: the
    // row and a change row) and stays open…
    let held = connect(&app.db.url).await;
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
    let reply = put_article(&service, &editor, "younger", "Younger", "published").await;
    reply.assert_status(201);

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
    let (app, editor, service) = editing().await;
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
        reply.assert_status(201);
    }
    // Anonymous: the three published articles, one a page (in id order, but
    // for any changed above the horizon: they come after, in change order).
    let mut anonymous = Client::new(None);
    let mut pages = 0;
    loop {
        let reply = get(&service, &anonymous.path(1)).await;
        assert!(reply.json()["entries"].as_array().unwrap().len() <= 1);
        pages += 1;
        if !anonymous.apply(&reply) {
            break;
        }
    }
    assert!(pages >= 3, "{pages}");
    assert_eq!(anonymous.copy.len(), 3);
    assert_same(&anonymous, &readable!(&service, None), "anonymous, initial");
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
    reply.assert_status(200);
    let one = reply.json()["id"].as_str().unwrap().to_owned();
    let three = get(&service, "/v1/articles/three").await.json()["id"].clone();
    let reply = call_if_match(&service, Method::DELETE, "/v1/articles/three", &editor, "*").await;
    reply.assert_status(204);

    // One a page, in the order of the changes.
    let mut entries = Vec::new();
    loop {
        let reply = get(&service, &anonymous.path(1)).await;
        entries.extend(reply.json()["entries"].as_array().unwrap().iter().cloned());
        if !anonymous.apply(&reply) {
            break;
        }
    }
    assert_eq!(
        entries,
        [
            json!({"type": "deleted", "id": one, "slug": "one"}),
            json!({"type": "deleted", "id": three, "slug": "three"})
        ]
    );
    assert_same(&anonymous, &readable!(&service, None), "anonymous");

    let mut entries = Vec::new();
    loop {
        let reply = call!(&service, request(&editor_client.path(10), Some(&editor)));
        entries.extend(reply.json()["entries"].as_array().unwrap().iter().cloned());
        if !editor_client.apply(&reply) {
            break;
        }
    }
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["type"], "article");
    assert_eq!(entries[0]["article"]["status"], "draft");
    assert_eq!(entries[0]["article"]["id"], one.as_str());
    assert_eq!(entries[1], json!({"type": "deleted", "id": three, "slug": "three"}));
    assert_same(&editor_client, &readable!(&service, Some(editor.as_str())), "editor");

    // The change log says what happened.
    let db = connect(&app.db.url).await;
    let events = texts(&db, "SELECT event FROM changes ORDER BY seq").await;
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
    let (app, editor, service) = editing().await;
    let client = caught_up(&service).await;
    let old = client.cursor.clone().unwrap();
    let mut paging = Client::new(None);
    let reply = put_article(&service, &editor, "two", "Two", "published").await;
    reply.assert_status(201);
    assert!(sync_page!(&service, &mut paging, 1));
    let mid_initial = paging.cursor.clone().unwrap();

    // A write prunes changes older than LAMINA_SYNC_KEEP_DAYS and moves the horizon past them.
    let db = connect(&app.db.url).await;
    db.batch_execute("UPDATE changes SET created_at = now() - interval '31 days'")
        .await
        .unwrap();
    let reply = put_article(&service, &editor, "three", "Three", "published").await;
    reply.assert_status(201);
    let left: i64 = db.query_one("SELECT count(*) FROM changes", &[]).await.unwrap().get(0);
    assert_eq!(left, 1, "the old changes are pruned");
    get_problem(&service, &format!("/v1/sync?cursor={old}"), 410, "sync_cursor_expired").await;
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
        get_problem(&service, &at_cursor(cursor), 410, "sync_cursor_expired").await;
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
        get_problem(&service, &format!("/v1/sync?cursor={junk}"), 400, "invalid_cursor").await;
    }
    for limit in ["0", "501"] {
        get_problem(&service, &format!("/v1/sync?limit={limit}"), 400, "invalid_limit").await;
    }
    get_problem(&service, "/v1/sync?limit=x", 400, "invalid_query").await;
    get_problem(&service, "/v1/sync?since=s-1", 400, "unknown_query_parameter").await;
    let reply = call!(&service, request("/v1/sync", Some("not-a-token")));
    reply.assert_problem(401, "unauthorized");
    assert_eq!(get(&service, "/v1/sync?limit=500").await.status, 200);
    assert_eq!(get(&service, SEED).await.status, 200);
}

/// Sends `request`, asserts the answer's status; returns the answer.
macro_rules! expect {
    ($service:expr, $request:expr, $status:expr) => {{
        let reply = call!($service, $request);
        assert_eq!(reply.status, $status, "{}", String::from_utf8_lossy(&reply.body));
        reply
    }};
}

/// `PUT /v1/articles/{slug}` of an article titled `title` in `status`, sent.
async fn put_article<S: crate::common::AppService>(
    service: &S,
    editor: &str,
    slug: &str,
    title: &str,
    status: &str,
) -> crate::common::Reply {
    send(
        service,
        write(
            Method::PUT,
            &format!("/v1/articles/{slug}"),
            editor,
            &article_body(title, status),
        ),
    )
    .await
}

/// Creates an article (201): the request.
fn creating(editor: &str, slug: &str, status: &str) -> TestRequest {
    write(
        Method::PUT,
        &format!("/v1/articles/{slug}"),
        editor,
        &article_body(slug, status),
    )
}

/// Replaces an article's title and status (200): the request.
fn replacing(editor: &str, slug: &str, title: &str, status: &str) -> TestRequest {
    write(
        Method::PUT,
        &format!("/v1/articles/{slug}"),
        editor,
        &article_body(title, status),
    )
    .insert_header(("If-Match", "*"))
}

/// Deletes an article (204): the request.
fn deleting(editor: &str, slug: &str) -> TestRequest {
    TestRequest::delete()
        .uri(&format!("/v1/articles/{slug}"))
        .insert_header(bearer(editor))
        .insert_header(("If-Match", "*"))
}

/// The `id` of a written article.
fn id_of(reply: &crate::common::Reply) -> String {
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// Follows the feed until `has_more` is false; returns every answer's body.
macro_rules! sync_bodies {
    ($service:expr, $client:expr, $limit:expr) => {{
        let mut bodies = Vec::new();
        loop {
            let path = $client.path($limit);
            let reply = call!($service, request(&path, $client.token.as_deref()));
            let more = $client.apply(&reply);
            bodies.push(reply.body);
            if !more {
                break bodies;
            }
            assert!(bodies.len() < 1000, "the feed never ends");
        }
    }};
}

/// The entries of answers, in order.
fn entries_of(bodies: &[Vec<u8>]) -> Vec<Value> {
    bodies
        .iter()
        .flat_map(|body| {
            serde_json::from_slice::<Value>(body).unwrap()["entries"]
                .as_array()
                .unwrap()
                .clone()
        })
        .collect()
}

#[actix_web::test]
async fn anonymous_callers_learn_nothing_of_drafts_they_never_could_see() {
    let (app, editor, service) = editing().await;
    let preview = app.token("preview", lamina::auth::Role::Preview).await;
    let mut anonymous = Client::new(None);
    sync_all!(&service, &mut anonymous, 100);
    let mut previewer = Client::new(Some(preview.clone()));
    sync_all!(&service, &mut previewer, 100);

    // An embargoed draft: created, edited twice, deleted. Each time the
    // anonymous feed says nothing, not even its slug; preview readers follow it.
    let slug = "acme-acquired-by-globex-embargoed";
    let id = id_of(&expect!(&service, creating(&editor, slug, "draft"), 201));
    let mut quiet = Vec::new();
    quiet.extend(sync_bodies!(&service, anonymous, 10));
    let entries = entries_of(&sync_bodies!(&service, previewer, 10));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["article"]["id"], id.as_str());
    for round in 0..2 {
        expect!(
            &service,
            replacing(&editor, slug, &format!("Embargoed, take {round}"), "draft"),
            200
        );
        quiet.extend(sync_bodies!(&service, anonymous, 10));
        assert_eq!(entries_of(&sync_bodies!(&service, previewer, 10)).len(), 1);
    }
    expect!(&service, deleting(&editor, slug), 204);
    quiet.extend(sync_bodies!(&service, anonymous, 10));
    assert_eq!(
        entries_of(&sync_bodies!(&service, previewer, 10)),
        [json!({"type": "deleted", "id": id, "slug": slug})]
    );
    assert_eq!(entries_of(&quiet), Vec::<Value>::new());
    for body in &quiet {
        assert!(!String::from_utf8_lossy(body).contains("embargoed"));
    }

    // An article they could see, unpublished: a deletion. Its later draft
    // edits: nothing more.
    let id = id_of(&expect!(&service, creating(&editor, "public", "published"), 201));
    let entries = entries_of(&sync_bodies!(&service, anonymous, 10));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["article"]["id"], id.as_str());
    expect!(&service, replacing(&editor, "public", "Public, drafted", "draft"), 200);
    assert_eq!(
        entries_of(&sync_bodies!(&service, anonymous, 10)),
        [json!({"type": "deleted", "id": id, "slug": "public"})]
    );
    expect!(
        &service,
        replacing(&editor, "public", "Public, drafted again", "draft"),
        200
    );
    assert_eq!(entries_of(&sync_bodies!(&service, anonymous, 10)), Vec::<Value>::new());
    // Published and drafted again between two calls: it was public meanwhile,
    // so a deletion may tell them; then deleted: nothing more.
    expect!(&service, replacing(&editor, "public", "Public again", "published"), 200);
    expect!(
        &service,
        replacing(&editor, "public", "Public, drafted once more", "draft"),
        200
    );
    let entries = entries_of(&sync_bodies!(&service, anonymous, 10));
    assert_eq!(entries, [json!({"type": "deleted", "id": id, "slug": "public"})]);
    expect!(&service, deleting(&editor, "public"), 204);
    assert_eq!(entries_of(&sync_bodies!(&service, anonymous, 10)), Vec::<Value>::new());
    assert_same(&anonymous, &readable!(&service, None), "anonymous");
    sync_all!(&service, &mut previewer, 10);
    assert_same(&previewer, &readable!(&service, Some(preview.as_str())), "preview");
}

#[actix_web::test]
async fn a_slug_deleted_and_taken_again_comes_deleted_first_also_across_pages() {
    let (app, editor, service) = editing().await;
    let preview = app.token("preview", lamina::auth::Role::Preview).await;
    // Eight slugs: entries in any order but that of the changes (article
    // ids are random) would put some new article before its slug's deletion.
    let slugs: Vec<String> = (0..8).map(|i| format!("reused-{i}")).collect();
    let mut old = Vec::new();
    for slug in &slugs {
        old.push(id_of(&expect!(&service, creating(&editor, slug, "published"), 201)));
    }
    let mut clients = [(Client::new(None), 1), (Client::new(Some(preview.clone())), 3)];
    for (client, limit) in &mut clients {
        sync_all!(&service, client, *limit);
    }
    let mut new = Vec::new();
    for slug in &slugs {
        expect!(&service, deleting(&editor, slug), 204);
        new.push(id_of(&expect!(&service, creating(&editor, slug, "published"), 201)));
    }
    for (client, limit) in &mut clients {
        // The client's copy holds one article per slug after every entry
        // (it panics otherwise), whatever the page boundaries.
        let entries = entries_of(&sync_bodies!(&service, client, *limit));
        let expected: Vec<Value> = slugs
            .iter()
            .zip(old.iter().zip(&new))
            .flat_map(|(slug, (old, new))| {
                [
                    json!({"type": "deleted", "id": old, "slug": slug}),
                    json!({"type": "article", "id": new, "slug": slug}),
                ]
            })
            .collect();
        let got: Vec<Value> = entries
            .iter()
            .map(|entry| match entry["type"].as_str().unwrap() {
                "article" => json!({"type": "article", "id": entry["article"]["id"], "slug": entry["article"]["slug"]}),
                _ => entry.clone(),
            })
            .collect();
        assert_eq!(got, expected, "limit {limit}");
    }
    assert_same(&clients[0].0, &readable!(&service, None), "anonymous");
    assert_same(&clients[1].0, &readable!(&service, Some(preview.as_str())), "preview");
}

#[actix_web::test]
async fn an_initial_sync_during_deletes_ends_with_what_is_readable() {
    let (_app, editor, service) = editing().await;
    for i in 0..6 {
        expect!(&service, creating(&editor, &format!("during-{i}"), "published"), 201);
    }
    let mut client = Client::new(None);
    client.deletions_while_initial = true;
    assert!(sync_page!(&service, client, 3));
    let slug_of = |bytes: &Vec<u8>| {
        serde_json::from_slice::<Value>(bytes).unwrap()["slug"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let delivered: Vec<String> = client.copy.values().map(slug_of).collect();
    let pending: Vec<String> = readable!(&service, None)
        .values()
        .map(slug_of)
        .filter(|slug| !delivered.contains(slug))
        .collect();
    assert_eq!((delivered.len(), pending.len()), (3, 4));
    // Meanwhile: an article it holds is deleted and its slug taken by a new
    // one; one it does not hold yet is deleted; one is unpublished; one is new.
    expect!(&service, deleting(&editor, &delivered[0]), 204);
    expect!(&service, creating(&editor, &delivered[0], "published"), 201);
    expect!(&service, deleting(&editor, &pending[0]), 204);
    expect!(&service, replacing(&editor, &delivered[1], "Drafted", "draft"), 200);
    expect!(&service, creating(&editor, "during-new", "published"), 201);
    sync_all!(&service, &mut client, 3);
    assert_same(&client, &readable!(&service, None), "after the initial sync");
}

/// Writing an article of about 1 MiB (four sections of 50 items of 5,000
/// characters), a section at a time (a request body is at most 256 KiB):
/// the requests, each answered 201.
fn creating_large(editor: &str, slug: &str) -> Vec<TestRequest> {
    let text: String = "lorem ipsum dolor sit amet ".repeat(200).chars().take(5000).collect();
    let body = json!({
        "title": slug, "author": "sd80464", "published_on": "2025-02-01", "status": "published",
        "summary": "Large.", "sections": [{"kind": "overview", "heading": "Overview", "body": text.trim()}]
    });
    let mut requests = vec![write(Method::PUT, &format!("/v1/articles/{slug}"), editor, &body)];
    for kind in ["steps", "benefits", "aftercare_tips", "risks"] {
        let items: Vec<Value> = (0..50)
            .map(|i| json!({"title": format!("Item {i}"), "body": text.trim()}))
            .collect();
        let section = json!({"kind": kind, "heading": kind, "items": items});
        let path = format!("/v1/articles/{slug}/sections/{kind}");
        requests.push(write(Method::PUT, &path, editor, &section));
    }
    requests
}

#[actix_web::test]
async fn a_page_takes_no_more_entries_once_it_passes_four_mebibytes() {
    let (_app, editor, service) = editing().await;
    // Six: five pass 4 MiB, whatever their order.
    for i in 0..6 {
        for request in creating_large(&editor, &format!("large-{i}")) {
            expect!(&service, request, 201);
        }
    }
    let readable = readable!(&service, None);
    let largest = readable.values().map(Vec::len).max().unwrap();
    assert!(largest > 1_000_000, "{largest}");
    let mut client = Client::new(None);
    let bodies = sync_bodies!(&service, client, 500);
    assert!(bodies.len() >= 2, "{} pages", bodies.len());
    for (page, body) in bodies.iter().enumerate() {
        assert!(
            !entries_of(std::slice::from_ref(body)).is_empty(),
            "page {page} is empty"
        );
        // It stops once past 4 MiB: at most one article more.
        assert!(
            body.len() < (4 << 20) + largest + 1024,
            "page {page}: {} bytes",
            body.len()
        );
    }
    assert!(bodies[0].len() >= 4 << 20, "{}", bodies[0].len());
    assert_same(&client, &readable, "anonymous");
}

/// A database migrated and seeded from scratch, as another installation of
/// lamina has (not a copy of the test template); dropped with the value.
fn another_installation(app: &TestApp) -> crate::common::TestDb {
    let name = format!("{}_other", app.db.name);
    let url = app.db.url.replace(&app.db.name, &name);
    let admin = app.db.url.replace(&app.db.name, "postgres");
    let (create, migrate) = (name.clone(), url.clone());
    // Migrations need a multi-threaded runtime of their own.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (admin, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            admin.batch_execute(&format!("CREATE DATABASE {create}")).await.unwrap();
            lamina::db::migrate(&migrate).await.unwrap();
            let mut conn = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&migrate)
                .await
                .unwrap();
            lamina::content::seed::seed(&mut conn).await.unwrap();
        });
    })
    .join()
    .unwrap();
    crate::common::TestDb { name, url }
}

#[actix_web::test]
async fn cursors_this_database_never_handed_out_are_400() {
    let (app, service) = serving().await;
    let client = caught_up(&service).await;
    let cursor = client.cursor.clone().unwrap();
    assert_eq!(get(&service, &at_cursor(&cursor)).await.status, 200);

    // Edited: any character.
    for at in [0, cursor.len() / 2, cursor.len() - 1] {
        let mut edited = cursor.clone().into_bytes();
        edited[at] = if edited[at] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(edited).unwrap();
        get_problem(&service, &format!("/v1/sync?cursor={edited}"), 400, "invalid_cursor").await;
    }
    // Another installation's, and ours there.
    let other = another_installation(&app);
    let (_, other_service) = app.node_for(&other.url).await;
    let mut stranger = Client::new(None);
    sync_all!(&other_service, &mut stranger, 100);
    let foreign = stranger.cursor.clone().unwrap();
    assert_eq!(
        get(&other_service, &format!("/v1/sync?cursor={foreign}")).await.status,
        200
    );
    get_problem(&service, &format!("/v1/sync?cursor={foreign}"), 400, "invalid_cursor").await;
    get_problem(&other_service, &at_cursor(&cursor), 400, "invalid_cursor").await;
    // Cursors of the format before cursors were signed: from the future
    // (ahead of every transaction of this database) 400, others 410.
    get_problem(&service, "/v1/sync?cursor=s-99999999999", 400, "invalid_cursor").await;
    get_problem(&service, "/v1/sync?cursor=s-ffffffffffffffff", 400, "invalid_cursor").await;
    for old in [
        "s-1",
        "i-2-0b0c6f2e8a414c3b9d7e2f5a1b3c4d5e",
        "d-1-3-0b0c6f2e8a414c3b9d7e2f5a1b3c4d5e",
    ] {
        let problem = get_problem(&service, &format!("/v1/sync?cursor={old}"), 410, "sync_cursor_expired").await;
        assert!(problem["detail"].as_str().unwrap().contains("start again"), "{problem}");
    }
}

#[actix_web::test]
async fn a_restore_from_an_older_backup_expires_the_cursors_handed_out_since() {
    let app = TestApp::new().await;
    let admin_url = app.db.url.replace(&app.db.name, "postgres");
    let admin = connect(&admin_url).await;
    // The backup: a copy of the database as it is now (nobody is connected to it yet).
    let backup = crate::common::TestDb {
        name: format!("{}_backup", app.db.name),
        url: app.db.url.replace(&app.db.name, &format!("{}_backup", app.db.name)),
    };
    admin
        .batch_execute(&format!("CREATE DATABASE {} TEMPLATE {}", backup.name, app.db.name))
        .await
        .unwrap();
    let editor = app.editor().await;
    let service = app.service().await;
    let mut client = caught_up(&service).await;
    let before_write = client.cursor.clone().unwrap();
    expect!(&service, creating(&editor, "after-the-backup", "published"), 201);
    sync_all!(&service, &mut client, 100);
    let after_write = client.cursor.clone().unwrap();

    // Restored into a new database (as pg_restore or a copy does): every
    // cursor this database handed out names history that may not be there.
    let restored = crate::common::TestDb {
        name: format!("{}_restored", app.db.name),
        url: app.db.url.replace(&app.db.name, &format!("{}_restored", app.db.name)),
    };
    admin
        .batch_execute(&format!("CREATE DATABASE {} TEMPLATE {}", restored.name, backup.name))
        .await
        .unwrap();
    let (_, restored_service) = app.node_for(&restored.url).await;
    for cursor in [&before_write, &after_write] {
        let problem = get_problem(&restored_service, &at_cursor(cursor), 410, "sync_cursor_expired").await;
        assert!(problem["detail"].as_str().unwrap().contains("restored"), "{problem}");
    }
    // Starting again works there.
    let mut again = Client::new(None);
    sync_all!(&restored_service, &mut again, 100);
    assert_same(&again, &readable!(&restored_service, None), "restored");
    assert_eq!(get(&restored_service, &again.path(100)).await.status, 200);

    // Restored in place (as from a physical backup): the change rows written
    // after the backup are gone. (A physical restore also turns the
    // transaction counter back, which a shared test cluster cannot do; a
    // cursor ahead of the counter is refused by the same rule, see the unit
    // tests of `content::sync`.) The cursor handed out before the lost write
    // names history the database holds and goes on; the one after does not.
    let db = connect(&app.db.url).await;
    let mut kept = Client::new(None);
    sync_all!(&service, &mut kept, 100);
    let newest: i64 = db.query_one("SELECT max(seq) FROM changes", &[]).await.unwrap().get(0);
    expect!(&service, creating(&editor, "lost-in-the-restore", "published"), 201);
    let mut lost = Client::new(None);
    sync_all!(&service, &mut lost, 100);
    db.batch_execute(&format!(
        "DELETE FROM changes WHERE seq > {newest}; DELETE FROM articles WHERE slug = 'lost-in-the-restore'"
    ))
    .await
    .unwrap();
    for _ in 0..2 {
        let problem = get_problem(&service, &lost.path(100), 410, "sync_cursor_expired").await;
        assert!(problem["detail"].as_str().unwrap().contains("restored"), "{problem}");
        sync_all!(&service, &mut kept, 100);
        assert_same(&kept, &readable!(&service, None), "the cursor from before the backup");
        // Writes after the restore do not make the lost cursor good again.
        let slug = format!("after-the-restore-{}", kept.copy.len());
        expect!(&service, creating(&editor, &slug, "published"), 201);
    }
}

/// Rows of `changes` read so far, by sequential and index scans, as the
/// statistics of ended backends (and of this one, flushed) count them.
async fn change_rows_read(db: &tokio_postgres::Client) -> i64 {
    db.batch_execute("SELECT pg_stat_force_next_flush()").await.unwrap();
    db.batch_execute("SELECT pg_stat_clear_snapshot()").await.unwrap();
    db.query_one(
        "SELECT (SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables WHERE relname = 'changes') \
              + (SELECT coalesce(sum(idx_tup_read), 0)::bigint FROM pg_stat_user_indexes WHERE relname = 'changes')",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

#[actix_web::test]
async fn a_page_from_an_old_cursor_reads_a_bounded_slice_of_the_log() {
    let app = TestApp::new().await;
    let db = connect(&app.db.url).await;
    db.batch_execute("ALTER TABLE changes SET (autovacuum_enabled = false)")
        .await
        .unwrap();
    let (state, service) = app.node().await;
    let mut client = caught_up(&service).await;
    // A log of 100,000 changes since that cursor, in 100 transactions.
    db.batch_execute(
        "DO $$ BEGIN FOR t IN 1..100 LOOP \
             INSERT INTO changes (article_id, slug, event, version, revision_id) \
             SELECT gen_random_uuid(), 'gone-' || t || '-' || i, 'article.deleted', 1, gen_random_uuid() \
             FROM generate_series(1, 1000) AS i; \
             COMMIT; END LOOP; END $$",
    )
    .await
    .unwrap();
    db.batch_execute("VACUUM ANALYZE changes").await.unwrap();
    let before = change_rows_read(&db).await;
    const PAGES: i64 = 10;
    for _ in 0..PAGES {
        let reply = get(&service, &client.path(100)).await;
        assert!(client.apply(&reply));
    }
    // The node's connections end, and with them their statistics are written.
    drop((state, service));
    for _ in 0..100 {
        let others: i64 = db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND query NOT LIKE 'LISTEN%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if others == 0 {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let read = change_rows_read(&db).await - before;
    // Each page reads its window (at most 1,000 rows) and probes the 208 rows
    // a page of 100 looks at (about 1,700 rows in all): not the 100,000 of the
    // log, which is what every page read before.
    assert!(read < PAGES * 3_000, "{read} change rows read for {PAGES} pages");
    assert!(read > 0, "statistics were not counted");
}

//! Releases (API.md §10): management, staging, preview, publishing with
//! conflicts and atomicity, and scheduled publishing across nodes.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use lamina::auth::Role;
use serde_json::{Value, json};

use crate::common::{
    SEED, TestApp, TestService, call_as, call_if_match, create_release, delete_current, editing, editing_node,
    editing_two_nodes, get, get_as, get_problem, new_release, put_as, put_if_match, put_over, send, write,
};

/// An article read back as a write body: without the fields the server sets.
fn writable(read: &Value) -> Value {
    let mut body = read.clone();
    let object = body.as_object_mut().unwrap();
    for name in [
        "id",
        "version",
        "created_at",
        "updated_at",
        "reading_time_minutes",
        "word_count",
    ] {
        object.remove(name);
    }
    for section in object["sections"].as_array_mut().unwrap() {
        let section = section.as_object_mut().unwrap();
        for name in ["id", "position", "updated_at", "version"] {
            section.remove(name);
        }
    }
    body
}

fn article(title: &str) -> Value {
    json!({
        "title": title, "author": "sd80464", "published_on": "2025-02-01", "status": "published",
        "summary": "Peels renew the skin.",
        "sections": [{"kind": "overview", "heading": "What is a peel?", "body": "An acid solution."}]
    })
}

#[actix_web::test]
async fn releases_are_created_read_changed_and_deleted_by_editors() {
    let (app, token, service) = editing().await;
    let preview = app.token("preview", Role::Preview).await;

    send(&service, TestRequest::get().uri("/v1/releases"))
        .await
        .assert_problem(401, "unauthorized");
    get_as(&service, "/v1/releases", &preview)
        .await
        .assert_problem(403, "forbidden");

    let created = new_release(&service, &token, "Spring", None).await;
    created.assert_status(201);
    let release = created.json();
    assert_eq!(release["state"], "open");
    let id = release["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/releases/{id}");
    assert_eq!(created.header("location"), Some(path.as_str()));
    assert!(created.etag().starts_with("\"r."));

    let past = new_release(&service, &token, "Late", Some("2020-01-01T00:00:00Z"))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(past["errors"][0]["pointer"], "/publish_at");

    let read = get_as(&service, &path, &token).await;
    read.assert_status(200);
    assert_eq!(read.etag(), created.etag());

    let next_year = (chrono::Utc::now() + chrono::Duration::days(365)).to_rfc3339();
    let change = json!({"title": "Spring menu", "publish_at": next_year});
    put_as(&service, &path, &token, &change)
        .await
        .assert_problem(428, "precondition_required");
    put_if_match(
        &service,
        &path,
        &token,
        &format!("\"r.{}.9\"", id.replace('-', "")),
        &change,
    )
    .await
    .assert_problem(412, "precondition_failed");
    let changed = put_if_match(&service, &path, &token, &read.etag(), &change).await;
    changed.assert_status(200);
    assert_eq!(changed.json()["state"], "scheduled");
    assert_eq!(changed.json()["title"], "Spring menu");

    let list = get_as(&service, "/v1/releases", &token).await;
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1);

    delete_current(&service, &path, &token, &changed.etag(), "release_not_found").await;
}

#[actix_web::test]
async fn staging_validates_records_the_base_version_and_leaves_live_alone() {
    let (_app, token, service, release) = with_release().await;
    let before = get(&service, SEED).await;
    let live = before.json();

    let mut changed = writable(&live);
    changed["title"] = json!("A new title");
    let staged = stage_in(&service, &token, &release, &SEED[3..], &changed).await;
    staged.assert_status(200);
    let items = staged.json()["items"].clone();
    assert_eq!(items[0]["kind"], Value::Null);
    assert_eq!(items[0]["base_version"], live["version"]);
    assert_eq!(
        get(&service, SEED).await.body,
        before.body,
        "the live article does not change"
    );

    let section = json!({"kind": "risks", "heading": "Risks", "items": [{"title": "Peeling", "body": "Expected."}]});
    let staged = stage_in(&service, &token, &release, &seed_section("risks"), &section).await;
    staged.assert_status(200);
    assert_eq!(staged.json()["items"].as_array().unwrap().len(), 2);

    // A new article stages with no base version.
    let staged = stage_in(&service, &token, &release, "/articles/peels", &article("Peels")).await;
    assert_eq!(staged.json()["items"][2]["base_version"], Value::Null);

    // The same validation as the live PUT.
    stage_in(&service, &token, &release, "/articles/peels", &json!({"title": ""}))
        .await
        .assert_problem(422, "validation_failed");

    // Unstaging.
    let unstaged = call_as(&service, Method::DELETE, &format!("{release}/articles/peels"), &token).await;
    unstaged.assert_status(200);
    assert_eq!(unstaged.json()["items"].as_array().unwrap().len(), 2);

    // An unknown release.
    stage_in(
        &service,
        &token,
        &format!("/v1/releases/{}", uuid::Uuid::new_v4()),
        "/articles/peels",
        &article("Peels"),
    )
    .await
    .assert_problem(404, "release_not_found");
}

#[actix_web::test]
async fn an_if_match_on_staging_refuses_a_copy_of_an_older_version() {
    let (_app, token, service, release) = with_release().await;
    let stage = |path: String, body: Value, if_match: Option<String>| {
        let mut request = write(Method::PUT, &path, &token, &body);
        if let Some(tag) = if_match {
            request = request.insert_header(("If-Match", tag));
        }
        request
    };
    let article_path = format!("{release}{}", &SEED[3..]);
    let section_path = format!("{article_path}/sections/risks");

    // An editor reads the article and a section; a colleague then changes the article live.
    let read = get(&service, SEED).await;
    let old_article = read.etag();
    let old_section = get(&service, &format!("{SEED}/sections/risks")).await.etag();
    let mut copy = writable(&read.json());
    copy["title"] = json!("Staged from version 1");
    let mut theirs = writable(&read.json());
    theirs["summary"] = json!("A colleague's live change.");
    let live = put_if_match(&service, SEED, &token, &old_article, &theirs).await;
    live.assert_status(200);

    // Staging the old copy with the ETag it was made from: 412 with the current ETag, nothing staged.
    let refused = send(
        &service,
        stage(article_path.clone(), copy.clone(), Some(old_article.clone())),
    )
    .await;
    let problem = refused.assert_problem(412, "precondition_failed");
    assert_eq!(problem["current_etag"], json!(live.etag()));
    let section = json!({"kind": "risks", "heading": "Risks", "items": []});
    let unchanged_section = send(
        &service,
        stage(section_path.clone(), section.clone(), Some(old_section.clone())),
    )
    .await;
    assert_eq!(
        unchanged_section.status, 200,
        "the section itself did not change: its old ETag is current"
    );
    let after_section = unchanged_section.json()["items"].as_array().unwrap().len();
    assert_eq!(after_section, 1, "only the section is staged");

    // With the current ETag (or none, as before) it is staged, based on the current version.
    let staged = send(&service, stage(article_path.clone(), copy.clone(), Some(live.etag()))).await;
    staged.assert_status(200);
    let items = staged.json()["items"].clone();
    let whole = items
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["kind"].is_null())
        .unwrap()
        .clone();
    assert_eq!(whole["base_version"], live.json()["version"]);

    // A section whose ETag is stale, and any If-Match on an article that does not exist: 412.
    let mut risks = get(&service, &format!("{SEED}/sections/risks")).await.json();
    for name in ["id", "position", "updated_at", "version"] {
        risks.as_object_mut().unwrap().remove(name);
    }
    risks["heading"] = json!("Risks, changed live");
    let changed = put_over(&service, &format!("{SEED}/sections/risks"), &token, &risks).await;
    changed.assert_status(200);
    send(&service, stage(section_path, section, Some(old_section)))
        .await
        .assert_problem(412, "precondition_failed");
    send(
        &service,
        stage(format!("{release}/articles/peels"), article("Peels"), Some("*".into())),
    )
    .await
    .assert_problem(412, "precondition_failed");
    let listed = get_as(&service, &release, &token).await;
    assert_eq!(
        listed.json()["items"].as_array().unwrap().len(),
        2,
        "nothing more was staged by the refused requests"
    );
}

/// A fresh application, an editor token, its service and a new release's path: how most tests here start.
async fn with_release() -> (TestApp, String, impl crate::common::AppService + use<>, String) {
    let (app, token, service) = editing().await;
    let (release, _) = create_release(&service, &token, "R").await;
    (app, token, service, release)
}

/// Stages `body` at `rest` (an article or section path below `/v1`) in `release`: the answer.
async fn stage_in<S, B>(service: &S, token: &str, release: &str, rest: &str, body: &Value) -> crate::common::Reply
where
    S: TestService<B>,
    B: actix_web::body::MessageBody,
{
    put_as(service, &format!("{release}{rest}"), token, body).await
}

/// The seed article's section `kind` as staged in a release (below `/v1`).
fn seed_section(kind: &str) -> String {
    format!("{}/sections/{kind}", &SEED[3..])
}

/// The revisions written by a release's actor.
async fn release_revisions(app: &TestApp, release: &str) -> Vec<String> {
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    let id = release.rsplit('/').next().unwrap();
    let mut conn = app.db.conn().await;
    lamina::db::schema::revisions::table
        .filter(lamina::db::schema::revisions::actor.eq(format!("release:{id}")))
        .select(lamina::db::schema::revisions::slug)
        .order(lamina::db::schema::revisions::seq.asc())
        .load(&mut conn)
        .await
        .unwrap()
}

async fn current_etag<S, B>(service: &S, path: &str, token: &str) -> String
where
    S: TestService<B>,
    B: actix_web::body::MessageBody,
{
    get_as(service, path, token).await.etag()
}

#[actix_web::test]
async fn publishing_applies_everything_and_closes_the_release() {
    let (app, token, service, release) = with_release().await;
    // An endpoint subscribed to release events (stored directly: no receiver needed).
    {
        use diesel::ExpressionMethods;
        use diesel_async::RunQueryDsl;
        use lamina::db::schema::webhook_endpoints as endpoints;
        let mut conn = app.db.conn().await;
        diesel::insert_into(endpoints::table)
            .values((
                endpoints::id.eq(uuid::Uuid::new_v4()),
                endpoints::url.eq("https://example.com/hooks"),
                endpoints::events.eq(vec!["release.published".to_owned()]),
                endpoints::secret.eq("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                endpoints::enabled.eq(true),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let mut changed = writable(&get(&service, SEED).await.json());
    changed["title"] = json!("Staged title");
    let staged = stage_in(&service, &token, &release, &SEED[3..], &changed).await;
    staged.assert_status(200);
    let section = json!({"kind": "risks", "heading": "Risks", "items": [{"title": "Peeling", "body": "Expected."}]});
    stage_in(&service, &token, &release, "/articles/peels", &article("Peels")).await;
    stage_in(&service, &token, &release, "/articles/peels/sections/risks", &section).await;

    call_as(&service, Method::POST, &format!("{release}/publish"), &token)
        .await
        .assert_problem(428, "precondition_required");
    let published = call_if_match(
        &service,
        Method::POST,
        &format!("{release}/publish"),
        &token,
        &current_etag(&service, &release, &token).await,
    )
    .await;
    published.assert_status(200);
    assert_eq!(published.json()["state"], "published");
    assert!(published.json()["published_at"].is_string());

    assert_eq!(get(&service, SEED).await.json()["title"], "Staged title");
    let peels = get(&service, "/v1/articles/peels").await.json();
    assert_eq!(peels["title"], "Peels");
    assert_eq!(peels["sections"][1]["kind"], "risks");
    let slugs = release_revisions(&app, &release).await;
    assert_eq!(slugs.len(), 3, "one revision per staged change: {slugs:?}");
    {
        use diesel::{ExpressionMethods, QueryDsl};
        use diesel_async::RunQueryDsl;
        use lamina::db::schema::webhook_deliveries as deliveries;
        let mut conn = app.db.conn().await;
        let payloads: Vec<Value> = deliveries::table
            .filter(deliveries::event.eq("release.published"))
            .select(deliveries::payload)
            .load(&mut conn)
            .await
            .unwrap();
        assert_eq!(payloads.len(), 1, "{payloads:?}");
        assert_eq!(payloads[0]["data"]["url"], release.as_str());
    }

    // A published release no longer changes.
    stage_in(&service, &token, &release, "/articles/peels", &article("Again"))
        .await
        .assert_problem(409, "release_closed");
    call_if_match(&service, Method::POST, &format!("{release}/publish"), &token, "*")
        .await
        .assert_problem(409, "release_closed");
}

#[actix_web::test]
async fn a_conflict_applies_nothing_and_leaves_the_release_open() {
    let (app, token, service, release) = with_release().await;
    let live = get(&service, SEED).await;
    let mut staged = writable(&live.json());
    staged["title"] = json!("Staged title");
    stage_in(&service, &token, &release, &SEED[3..], &staged).await;
    stage_in(&service, &token, &release, "/articles/peels", &article("Peels")).await;

    // The live article moves on.
    let mut edit = writable(&live.json());
    edit["title"] = json!("Edited live");
    let edited = put_if_match(&service, SEED, &token, &live.etag(), &edit).await;
    edited.assert_status(200);

    let before = get(&service, SEED).await.body;
    let conflict = call_if_match(&service, Method::POST, &format!("{release}/publish"), &token, "*")
        .await
        .assert_problem(409, "release_conflict");
    let slug = &SEED["/v1/articles/".len()..];
    assert_eq!(
        conflict["conflicts"],
        json!([{
            "slug": slug, "kind": null,
            "staged_base_version": live.json()["version"],
            "current_version": edited.json()["version"],
        }])
    );
    assert_eq!(get(&service, SEED).await.body, before);
    get_problem(&service, "/v1/articles/peels", 404, "article_not_found").await;
    assert!(release_revisions(&app, &release).await.is_empty());
    let read = get_as(&service, &release, &token).await;
    assert_eq!(read.json()["state"], "open");
}

#[actix_web::test]
async fn a_release_applies_all_or_nothing() {
    let (app, token, service, release) = with_release().await;
    for slug in ["one", "two"] {
        let staged = stage_in(&service, &token, &release, &format!("/articles/{slug}"), &article(slug)).await;
        staged.assert_status(200);
    }
    // The third is a section of an article that will not exist: it cannot be applied.
    let section = json!({"kind": "risks", "heading": "Risks", "items": [{"title": "Peeling", "body": "Expected."}]});
    let staged = stage_in(&service, &token, &release, "/articles/three/sections/risks", &section).await;
    staged.assert_status(200);
    let revisions = app.revision_count().await;
    let failed = call_if_match(&service, Method::POST, &format!("{release}/publish"), &token, "*").await;
    // Not a 404 (the release exists) nor a 422 (the request has no body): the staged section is named.
    let problem = failed.assert_problem(409, "release_unappliable");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("The section risks of \"three\" staged in this release cannot be applied: the article \"three\" does not exist."),
        "{problem}"
    );
    for slug in ["one", "two"] {
        get_problem(&service, &format!("/v1/articles/{slug}"), 404, "article_not_found").await;
    }
    assert_eq!(app.revision_count().await, revisions);
    let read = get_as(&service, &release, &token).await;
    assert_eq!(read.json()["state"], "open");
}

/// Waits (up to 5 s) until the release leaves `scheduled`; its body.
async fn settled<S, B>(service: &S, release: &str, token: &str) -> Value
where
    S: TestService<B>,
    B: actix_web::body::MessageBody,
{
    for _ in 0..100 {
        let read = get_as(service, release, token).await;
        let body = read.json();
        if body["state"] != "scheduled" {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the release {release} never left `scheduled`");
}

#[actix_web::test]
async fn a_scheduled_release_publishes_once_across_two_nodes() {
    let (app, token, (state_a, service), (state_b, _other)) = editing_two_nodes().await;
    let publish_at = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let created = new_release(&service, &token, "Soon", Some(&publish_at)).await;
    created.assert_status(201);
    assert_eq!(created.json()["state"], "scheduled");
    let release = format!("/v1/releases/{}", created.json()["id"].as_str().unwrap());
    for slug in ["one", "two"] {
        stage_in(&service, &token, &release, &format!("/articles/{slug}"), &article(slug)).await;
    }
    let _a = lamina::releases::spawn(state_a);
    let _b = lamina::releases::spawn(state_b);
    let started = std::time::Instant::now();
    let body = settled(&service, &release, &token).await;
    assert_eq!(body["state"], "published", "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    // Both nodes keep polling: still exactly one revision per article.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let mut slugs = release_revisions(&app, &release).await;
    slugs.sort();
    assert_eq!(slugs, ["one", "two"]);
    assert_eq!(get(&service, "/v1/articles/one").await.json()["title"], "one");
}

#[actix_web::test]
async fn a_scheduled_release_with_a_conflict_fails_and_applies_nothing() {
    let (app, token, state, service) = editing_node().await;
    let publish_at = (chrono::Utc::now() + chrono::Duration::milliseconds(800)).to_rfc3339();
    let created = new_release(&service, &token, "Soon", Some(&publish_at)).await;
    let release = format!("/v1/releases/{}", created.json()["id"].as_str().unwrap());
    stage_in(&service, &token, &release, "/articles/peels", &article("Staged")).await;
    // The article appears live before the release is due.
    put_as(&service, "/v1/articles/peels", &token, &article("Live")).await;
    let _scheduler = lamina::releases::spawn(state);
    let body = settled(&service, &release, &token).await;
    assert_eq!(body["state"], "failed");
    assert_eq!(body["conflicts"][0]["slug"], "peels");
    assert_eq!(body["conflicts"][0]["staged_base_version"], Value::Null);
    assert_eq!(body["conflicts"][0]["current_version"], 1);
    assert_eq!(get(&service, "/v1/articles/peels").await.json()["title"], "Live");
    assert!(release_revisions(&app, &release).await.is_empty());
}

#[actix_web::test]
async fn a_scheduled_release_that_cannot_be_applied_fails_and_applies_nothing() {
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    let (app, token, state, service) = editing_node().await;
    let (release, _) = create_release(&service, &token, "R").await;
    stage_in(&service, &token, &release, "/articles/peels", &article("Peels")).await;
    // A section of an article that neither exists nor is staged.
    let section = json!({"kind": "risks", "heading": "Risks", "items": [{"title": "Peeling", "body": "Expected."}]});
    let staged = stage_in(&service, &token, &release, "/articles/three/sections/risks", &section).await;
    staged.assert_status(200);
    let id: uuid::Uuid = release.rsplit('/').next().unwrap().parse().unwrap();
    let mut conn = app.db.conn().await;
    diesel::update(lamina::db::schema::releases::table.find(id))
        .set((
            lamina::db::schema::releases::state.eq("scheduled"),
            lamina::db::schema::releases::publish_at.eq(chrono::Utc::now() - chrono::Duration::seconds(1)),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    let _scheduler = lamina::releases::spawn(state);
    let body = settled(&service, &release, &token).await;
    assert_eq!(body["state"], "failed", "{body}");
    assert_eq!(body["conflicts"], json!([]));
    get_problem(&service, "/v1/articles/peels", 404, "article_not_found").await;
    assert!(release_revisions(&app, &release).await.is_empty());
}

/// A body without what the server assigns anew on each write (ids, versions, times).
fn content_of(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(name, _)| !["id", "version", "created_at", "updated_at"].contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), content_of(value)))
                .collect(),
        ),
        Value::Array(values) => Value::Array(values.iter().map(content_of).collect()),
        other => other.clone(),
    }
}

#[actix_web::test]
async fn a_preview_shows_what_publishing_will_store() {
    let (app, token, service) = editing().await;
    let preview_token = app.token("previewer", Role::Preview).await;
    let (release, _) = create_release(&service, &token, "R").await;
    let live = get(&service, SEED).await;
    let mut staged = writable(&live.json());
    staged["title"] = json!("Staged title");
    staged["sections"].as_array_mut().unwrap().pop();
    stage_in(&service, &token, &release, &SEED[3..], &staged).await;
    let risks =
        json!({"kind": "risks", "heading": "Staged risks", "items": [{"title": "Peeling", "body": "Expected."}]});
    stage_in(&service, &token, &release, &seed_section("risks"), &risks).await;
    stage_in(&service, &token, &release, "/articles/peels", &article("Peels")).await;
    let id = release.rsplit('/').next().unwrap();
    let preview_path = format!("{SEED}?release={id}");

    send(&service, TestRequest::get().uri(&preview_path))
        .await
        .assert_problem(401, "unauthorized");
    let revisions = app.revision_count().await;
    let preview = get_as(&service, &preview_path, &preview_token).await;
    preview.assert_status(200);
    assert_eq!(preview.header("cache-control"), Some("private, no-store"));
    assert_eq!(preview.json()["title"], "Staged title");
    let new_article = get_as(&service, &format!("/v1/articles/peels?release={id}"), &token).await;
    new_article.assert_status(200);
    let section_preview = get_as(&service, &format!("{SEED}/sections/risks?release={id}"), &preview_token).await;
    section_preview.assert_status(200);
    assert_eq!(section_preview.header("cache-control"), Some("private, no-store"));
    assert_eq!(section_preview.json()["heading"], "Staged risks");
    // An item the release keeps (staged with its id) previews on the item route.
    let steps = get(&service, &format!("{SEED}/sections/steps")).await.json();
    let item_id = steps["items"][0]["id"].as_str().unwrap().to_owned();
    let item_preview = get_as(
        &service,
        &format!("{SEED}/sections/steps/items/{item_id}?release={id}"),
        &preview_token,
    )
    .await;
    item_preview.assert_status(200);
    assert_eq!(item_preview.header("cache-control"), Some("private, no-store"));
    send(
        &service,
        TestRequest::get().uri(&format!("{SEED}/sections/risks?release={id}")),
    )
    .await
    .assert_problem(401, "unauthorized");
    // Nothing live changed, nothing recorded; anonymous readers still get the live article.
    assert_eq!(get(&service, SEED).await.body, live.body);
    get_problem(&service, "/v1/articles/peels", 404, "article_not_found").await;
    assert_eq!(app.revision_count().await, revisions);
    get_as(&service, &format!("{SEED}?release={}", uuid::Uuid::new_v4()), &token)
        .await
        .assert_problem(404, "release_not_found");

    let published = call_if_match(&service, Method::POST, &format!("{release}/publish"), &token, "*").await;
    published.assert_status(200);
    assert_eq!(
        content_of(&get(&service, SEED).await.json()),
        content_of(&preview.json())
    );
    assert_eq!(
        content_of(&get(&service, "/v1/articles/peels").await.json()),
        content_of(&new_article.json())
    );
}

#[actix_web::test]
async fn an_overdue_release_publishes_when_the_scheduler_starts() {
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    let (app, token, state, service) = editing_node().await;
    let publish_at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let created = new_release(&service, &token, "Later", Some(&publish_at)).await;
    let id: uuid::Uuid = created.json()["id"].as_str().unwrap().parse().unwrap();
    let release = format!("/v1/releases/{id}");
    stage_in(&service, &token, &release, "/articles/peels", &article("Peels")).await;
    // While no node ran, its time passed.
    let mut conn = app.db.conn().await;
    diesel::update(lamina::db::schema::releases::table.find(id))
        .set(lamina::db::schema::releases::publish_at.eq(chrono::Utc::now() - chrono::Duration::minutes(5)))
        .execute(&mut conn)
        .await
        .unwrap();
    let _scheduler = lamina::releases::spawn(state);
    let body = settled(&service, &release, &token).await;
    assert_eq!(body["state"], "published");
    assert_eq!(get(&service, "/v1/articles/peels").await.json()["title"], "Peels");
}

/// The backends of the test database that wait for a lock: pid,
/// `application_name` and query, with the pids blocking each.
async fn lock_waiters(db: &tokio_postgres::Client) -> Vec<(i32, String, String, Vec<i32>)> {
    db.query(
        "SELECT pid, application_name, query, pg_blocking_pids(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock' ORDER BY pid",
        &[],
    )
    .await
    .unwrap()
    .into_iter()
    .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
    .collect()
}

/// Issue 11: "kill the process holding the claim mid-publish → the other
/// publishes it, once". Two real `lamina serve` processes on one database;
/// a release of two new articles is due in 1 s. The test's own open
/// transaction has inserted the second article's row, so whichever node
/// claims the release stalls inside its publishing transaction: the first
/// article and its revision written, the claim (the release's row lock)
/// held, its INSERT of the second article waiting on the test's. That node
/// is found through `pg_stat_activity` (each names itself with
/// `application_name`) and SIGKILLed; then the test rolls back. A dead
/// client's transaction never commits: PostgreSQL aborts it when the
/// backend next talks to the gone client, and the claim is free again.
///
/// It fails if the claim were not exclusive (the other node would also be
/// inside the publication, waiting on a lock, while the first holds it), if
/// the claim were committed apart from the publication (a "claimed" mark
/// would outlive the killed node: the release would never publish), or if
/// the changes were not written in the claiming transaction (the killed
/// node's first article and revision would survive, and the other node
/// would write a second revision, or fail the release on a conflict).
#[actix_web::test]
async fn a_release_claimed_by_a_killed_node_is_published_once_by_the_other() {
    use actix_web::http::Method;
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};

    use crate::common::{LaminaProcess, call, with_application_name};

    let app = TestApp::new().await;
    let token = app.editor().await;
    let names = ["lamina-node-0", "lamina-node-1"];
    let mut nodes = names.map(|name| LaminaProcess::serve(&with_application_name(&app.db.url, name), name));
    for node in &mut nodes {
        node.wait_ready().await;
    }
    let db = app.client().await;
    // Release events go to the outbox in the publishing transaction: one is expected.
    db.batch_execute(
        "INSERT INTO webhook_endpoints (id, url, events, secret) VALUES \
         (gen_random_uuid(), 'https://example.com/hooks', ARRAY['release.published'], \
          'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')",
    )
    .await
    .unwrap();

    let (status, release) = call(
        Method::POST,
        &nodes[0].url("/v1/releases"),
        Some(&token),
        None,
        Some(&json!({"title": "Killed mid-publish", "publish_at": null})),
    )
    .await;
    assert_eq!(status, 201, "{release}");
    let id = release["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/releases/{id}");
    // Staged in this order, published in this order: "one" is written before "two".
    for slug in ["one", "two"] {
        let (status, body) = call(
            Method::PUT,
            &nodes[0].url(&format!("{path}/articles/{slug}")),
            Some(&token),
            None,
            Some(&article(slug)),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    let blocker = app.client().await;
    let blocker_pid: i32 = blocker.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    blocker
        .batch_execute(
            "BEGIN; INSERT INTO articles \
             (id, slug, title, author, published_on, status, summary, word_count, reading_time_minutes) \
             VALUES (gen_random_uuid(), 'two', 'Blocker', 'test', '2025-01-01', 'draft', 'Holds the slug.', 0, 1)",
        )
        .await
        .unwrap();

    let publish_at = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let (status, body) = call(
        Method::PUT,
        &nodes[0].url(&path),
        Some(&token),
        Some("*"),
        Some(&json!({"title": "Killed mid-publish", "publish_at": publish_at})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "scheduled");

    // The claimer reaches the test's row (within a few polls of publish_at).
    let deadline = Instant::now() + Duration::from_secs(10);
    let (claimer_pid, claimer_name, query) = loop {
        let waiters = lock_waiters(&db).await;
        if let [(pid, name, query, blocking)] = waiters.as_slice() {
            assert_eq!(
                blocking,
                &[blocker_pid],
                "the one node inside the publication waits for the test's row, not for another publication: {waiters:?}"
            );
            break (*pid, name.clone(), query.clone());
        }
        assert!(waiters.is_empty(), "only one node publishes: {waiters:?}");
        assert!(
            Instant::now() < deadline,
            "no node reached the publication within 10 s:\n{}\n{}",
            nodes[0].log(),
            nodes[1].log()
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    };
    let stalled_at = Instant::now();
    let killed = names
        .iter()
        .position(|name| *name == claimer_name)
        .unwrap_or_else(|| panic!("a lamina node waits, not {claimer_name:?}"));
    let survivor = 1 - killed;
    assert!(query.starts_with("INSERT INTO \"articles\""), "{query}");
    // Mid-publish: its transaction already wrote the first article's revision…
    let wrote: bool = db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 \
             AND relation = 'revisions'::regclass AND mode = 'RowExclusiveLock' AND granted)",
            &[&claimer_pid],
        )
        .await
        .unwrap()
        .get(0);
    assert!(wrote, "the claimer had written a revision before it stalled");
    // …which no one else sees, and it holds the claim.
    let visible = revisions_of_one_and_two(&db).await;
    assert_eq!(visible, 0);
    let free = db
        .query(
            "SELECT id FROM releases WHERE id = $1::text::uuid FOR UPDATE SKIP LOCKED",
            &[&id],
        )
        .await
        .unwrap();
    assert!(free.is_empty(), "the claimer holds the release's row");

    // The other node polls meanwhile and keeps out: nothing else waits, nothing is published.
    while stalled_at.elapsed() < lamina::releases::POLL * 2 + Duration::from_millis(100) {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        let waiters = lock_waiters(&db).await;
        assert_eq!(
            waiters.iter().map(|waiter| waiter.0).collect::<Vec<_>>(),
            [claimer_pid],
            "only the claimer publishes: {waiters:?}"
        );
    }
    let (_, read) = call(Method::GET, &nodes[survivor].url(&path), Some(&token), None, None).await;
    assert_eq!(read["state"], "scheduled", "{read}");
    // Killed while it still waits (lamina's lock timeout would end the wait
    // by itself after lamina::db::LOCK_TIMEOUT).
    assert!(
        stalled_at.elapsed() < lamina::db::LOCK_TIMEOUT,
        "the hold outlasted the lock timeout"
    );
    let status = nodes[killed].kill();
    assert_eq!(status.signal(), Some(9), "{status}");
    blocker.batch_execute("ROLLBACK").await.unwrap();
    let killed_at = Instant::now();

    let body = loop {
        let (status, body) = call(Method::GET, &nodes[survivor].url(&path), Some(&token), None, None).await;
        assert_eq!(status, 200, "{body}");
        if body["state"] != "scheduled" {
            break body;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(10),
            "not published within 10 s of the kill:\n{}",
            nodes[survivor].log()
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(body["state"], "published", "{body}");
    eprintln!(
        "{claimer_name} claimed the release and was killed after stalling {} ms; the other node published it {} ms later",
        (killed_at - stalled_at).as_millis(),
        killed_at.elapsed().as_millis()
    );
    let log = nodes[survivor]
        .log_with(&format!("published the scheduled release {id}"))
        .await;
    assert!(
        log.contains(&format!("published the scheduled release {id}")),
        "the surviving node published it:\n{log}"
    );

    // Once: one revision per article, by the release, the articles at version 1, one event.
    let mut slugs = release_revisions(&app, &path).await;
    slugs.sort();
    assert_eq!(slugs, ["one", "two"]);
    let all = revisions_of_one_and_two(&db).await;
    assert_eq!(all, 2);
    for slug in ["one", "two"] {
        let (status, live) = call(
            Method::GET,
            &nodes[survivor].url(&format!("/v1/articles/{slug}")),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(status, 200, "{live}");
        assert_eq!(live["title"], slug);
        assert_eq!(live["version"], 1, "{live}");
    }
    let events: Vec<Value> = db
        .query(
            "SELECT payload::text FROM webhook_deliveries WHERE event = 'release.published'",
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|row| serde_json::from_str(row.get(0)).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["release_id"], id.as_str());
}

#[actix_web::test]
async fn unstaging_what_was_never_staged_is_its_own_404() {
    let (_app, token, service, release) = with_release().await;
    for path in [
        format!("{release}/articles/peels"),
        format!("{release}/articles/peels/sections/risks"),
    ] {
        let problem = call_as(&service, Method::DELETE, &path, &token)
            .await
            .assert_problem(404, "staged_change_not_found");
        assert!(problem["detail"].as_str().unwrap().contains("peels"), "{problem}");
    }
    // An unknown release is still `release_not_found`.
    call_as(
        &service,
        Method::DELETE,
        &format!("/v1/releases/{}/articles/peels", uuid::Uuid::new_v4()),
        &token,
    )
    .await
    .assert_problem(404, "release_not_found");
}

/// Issue 24, item 2: staging while a publication runs was acknowledged and
/// then dropped (checked open, stored after the publication had read what to
/// apply). Twelve stagers race one publication of forty staged articles:
/// every acknowledged stage must be live afterwards, every other one refused
/// with 409 `release_closed`; and the race must really have happened (some
/// stage met the publication).
#[actix_web::test]
async fn staging_during_a_publication_is_applied_or_refused_never_dropped() {
    use futures_util::future::join_all;
    let (_app, token, service, release) = with_release().await;
    for n in 0..40 {
        let path = format!("{release}/articles/bulk-{n}");
        let staged = put_as(&service, &path, &token, &article(&format!("Bulk {n}"))).await;
        staged.assert_status(200);
    }
    let publish_path = format!("{release}/publish");
    // The first stagers come just before the publication, the others during it.
    let publish = async {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        call_if_match(&service, Method::POST, &publish_path, &token, "*").await
    };
    let stagers = (0..12).map(|n| {
        let (service, token, release) = (&service, &token, &release);
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(10 * n)).await;
            let path = format!("{release}/articles/late-{n}");
            (n, put_as(service, &path, token, &article(&format!("Late {n}"))).await)
        }
    });
    let (published, staged) = tokio::join!(publish, join_all(stagers));
    published.assert_status(200);
    let mut refused = 0;
    for (n, reply) in staged {
        match reply.status.as_u16() {
            200 => {
                let live = get(&service, &format!("/v1/articles/late-{n}")).await;
                assert_eq!(live.status, 200, "stage {n} was acknowledged, then dropped");
            }
            _ => {
                let problem = reply.assert_problem(409, "release_closed");
                eprintln!("stage {n}: {}", problem["detail"]);
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "no stage met the publication: the race did not happen");
}

/// Stages the seed article with a new title in `release`; the live article.
async fn stage_a_new_title<S, B>(service: &S, token: &str, release: &str) -> crate::common::Reply
where
    S: TestService<B>,
    B: actix_web::body::MessageBody,
{
    let live = get(service, SEED).await;
    let mut changed = writable(&live.json());
    changed["title"] = json!("Staged title");
    let staged = stage_in(service, token, release, &SEED[3..], &changed).await;
    staged.assert_status(200);
    live
}

/// A transaction of its own that holds the seed article's row, so a
/// publication touching it waits into the lock timeout; dropped, it ends.
async fn hold_the_seed(app: &TestApp) -> tokio_postgres::Client {
    let blocker = app.client().await;
    blocker
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM articles WHERE slug = '{}' FOR UPDATE",
            &SEED["/v1/articles/".len()..]
        ))
        .await
        .unwrap();
    blocker
}

/// Issue 24, item 3: a publication that runs out of time said "the
/// connection was lost before this write was committed". It says what
/// happened: it did not finish in time (here: a lock wait past the lock
/// timeout), nothing was written.
#[actix_web::test]
async fn a_publication_that_times_out_says_so() {
    let (app, token, service, release) = with_release().await;
    stage_a_new_title(&service, &token, &release).await;
    let blocker = hold_the_seed(&app).await;
    let started = std::time::Instant::now();
    let reply = call_if_match(&service, Method::POST, &format!("{release}/publish"), &token, "*").await;
    let problem = reply.assert_problem(503, "service_unavailable");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("did not finish in time"), "{detail}");
    assert!(detail.contains("nothing was written"), "{detail}");
    assert!(!detail.contains("connection was lost"), "{detail}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(blocker);
    let published = call_if_match(&service, Method::POST, &format!("{release}/publish"), &token, "*").await;
    published.assert_status(200);
}

/// Issue 24, item 3: a scheduled release that cannot be published was
/// retried at every poll for ever. Each failure now postpones it (2 s, then
/// longer), and after `MAX_PUBLISH_ATTEMPTS` failures it is `failed` with
/// nothing applied.
#[actix_web::test]
async fn a_scheduled_release_that_cannot_publish_backs_off_then_fails() {
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    use lamina::db::schema::releases;
    let (app, token, state, service) = editing_node().await;
    let (release, _) = create_release(&service, &token, "R").await;
    let live = stage_a_new_title(&service, &token, &release).await;
    let id: uuid::Uuid = release.rsplit('/').next().unwrap().parse().unwrap();
    let mut conn = app.db.conn().await;
    diesel::update(releases::table.find(id))
        .set((
            releases::state.eq("scheduled"),
            releases::publish_at.eq(chrono::Utc::now() - chrono::Duration::seconds(1)),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    let blocker = hold_the_seed(&app).await;
    let _scheduler = lamina::releases::spawn(state);

    // The first attempt waits into the lock timeout, fails, and is postponed.
    let attempts = || async {
        let mut conn = app.db.conn().await;
        releases::table
            .find(id)
            .select((releases::publish_attempts, releases::retry_at, releases::state))
            .first::<(i32, Option<chrono::DateTime<chrono::Utc>>, String)>(&mut conn)
            .await
            .unwrap()
    };
    let started = std::time::Instant::now();
    let (count, retry_at, state) = loop {
        let row = attempts().await;
        if row.0 > 0 {
            break row;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no attempt was recorded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!((count, state.as_str()), (1, "scheduled"));
    let wait = retry_at.unwrap() - chrono::Utc::now();
    assert!(wait > chrono::Duration::milliseconds(1500), "retried after {wait}");
    // Not at every poll: nothing more until retry_at.
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert_eq!(attempts().await.0, 1, "tried again before retry_at");

    // The last allowed attempt fails too: the release is failed, nothing applied.
    diesel::update(releases::table.find(id))
        .set((
            releases::publish_attempts.eq(lamina::content::releases::MAX_PUBLISH_ATTEMPTS - 1),
            releases::retry_at.eq(chrono::Utc::now()),
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    let body = settled(&service, &release, &token).await;
    assert_eq!(body["state"], "failed", "{body}");
    drop(blocker);
    assert_eq!(get(&service, SEED).await.body, live.body, "nothing was applied");
}

/// Issue 24, item 3: a release too large to publish within the deadline
/// could be staged, and then never published. Staging refuses the change
/// past `MAX_STAGED_CHANGES` with 409 `release_too_large` (restaging a
/// staged target still replaces it); the README states the same limit.
#[actix_web::test]
async fn a_release_stages_at_most_the_documented_number_of_changes() {
    let limit = lamina::content::releases::MAX_STAGED_CHANGES;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&format!("a release stages at most {limit} changes")),
        "the README states the limit"
    );
    let (app, token, service, release) = with_release().await;
    assert_eq!(
        stage_in(&service, &token, &release, "/articles/many-0", &article("Many"))
            .await
            .status,
        200
    );
    // The rest of the limit, copies of the first (staging each through the API takes long in a debug build).
    let client = app.client().await;
    client
        .batch_execute(&format!(
            "INSERT INTO release_items (id, release_id, slug, kind, body, base_version, staged_at) \
             SELECT gen_random_uuid(), release_id, 'many-' || n, kind, body, base_version, now() \
             FROM release_items, generate_series(1, {}) AS n WHERE slug = 'many-0'",
            limit - 1
        ))
        .await
        .unwrap();
    let refused = stage_in(&service, &token, &release, "/articles/one-more", &article("One more")).await;
    let problem = refused.assert_problem(409, "release_too_large");
    assert!(
        problem["detail"].as_str().unwrap().contains(&limit.to_string()),
        "{problem}"
    );
    let section = json!({"kind": "risks", "heading": "Risks", "items": []});
    stage_in(&service, &token, &release, "/articles/many-1/sections/risks", &section)
        .await
        .assert_problem(409, "release_too_large");
    // Restaging what is staged replaces it; unstaging makes room.
    assert_eq!(
        stage_in(&service, &token, &release, "/articles/many-7", &article("Again"))
            .await
            .status,
        200
    );
    assert_eq!(
        call_as(&service, Method::DELETE, &format!("{release}/articles/many-7"), &token)
            .await
            .status,
        200
    );
    let read = get_as(&service, &release, &token).await.json();
    assert_eq!(read["items"].as_array().unwrap().len() as i64, limit - 1);
    assert_eq!(
        stage_in(&service, &token, &release, "/articles/one-more", &article("One more"))
            .await
            .status,
        200
    );
}

/// Issue 24, item 9: a preview ran the release's staged writes on the live
/// rows in a rolled-back transaction, and its row locks made editors wait
/// (24 preview clients: editor write p50 7 → 514 ms). Here a preview's
/// transaction is held open at its very end (a proxy in front of the
/// previewing node holds back its ROLLBACK, so it keeps whatever it locked)
/// while an editor writes the same article through another node: the write
/// completes at once.
#[actix_web::test]
async fn a_preview_in_flight_does_not_block_a_write() {
    use crate::common::{Hold, Proxy};
    use std::time::{Duration, Instant};
    let (app, token, service, release) = with_release().await;
    stage_a_new_title(&service, &token, &release).await;
    let risks =
        json!({"kind": "risks", "heading": "Staged risks", "items": [{"title": "Peeling", "body": "Expected."}]});
    let staged = stage_in(&service, &token, &release, &seed_section("risks"), &risks).await;
    staged.assert_status(200);
    let proxy = Proxy::start(&app.db);
    let (_, previewer) = app.node_for(&proxy.url).await;
    let id = release.rsplit('/').next().unwrap();
    let preview_path = format!("{SEED}?release={id}");
    assert_eq!(
        get_as(&previewer, &preview_path, &token).await.status,
        200,
        "previews work through the proxy"
    );

    proxy.hold(Hold::Matching(vec![b"ROLLBACK".to_vec()]));
    let preview = get_as(&previewer, &preview_path, &token);
    let write = async {
        // The preview has done its work and waits, its transaction open.
        let started = Instant::now();
        while proxy.held() == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "the preview never got that far"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut overview = get(&service, &format!("{SEED}/sections/overview")).await.json();
        for name in ["id", "position", "updated_at", "version"] {
            overview.as_object_mut().unwrap().remove(name);
        }
        overview["heading"] = json!("Written while a preview is in flight");
        let started = Instant::now();
        let written = put_over(&service, &format!("{SEED}/sections/overview"), &token, &overview).await;
        (written, started.elapsed())
    };
    let (_, (written, took)) = tokio::join!(preview, write);
    proxy.release();
    written.assert_status(200);
    assert!(
        took < Duration::from_millis(1000),
        "the write waited {took:?} for the preview"
    );
}

/// How many revisions the articles `one` and `two` have, as `db` sees them.
async fn revisions_of_one_and_two(db: &tokio_postgres::Client) -> i64 {
    let count = "SELECT count(*) FROM revisions WHERE slug IN ('one', 'two')";
    db.query_one(count, &[]).await.unwrap().get(0)
}

//! Editor writes: PUT/DELETE of articles, sections and items, with If-Match.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::common::{
    SEED, TestApp, TestService, call_as, call_if_match, editing, get, get_problem, put_if_match, put_over, raw_put,
    send, write, write_as,
};

/// What a reader sees plus how many revisions exist: must not change on a failed write.
async fn state<S, B>(app: &TestApp, service: &S) -> (Vec<u8>, i64)
where
    S: TestService<B>,
    B: actix_web::body::MessageBody,
{
    (get(service, SEED).await.body, app.revision_count().await)
}

#[actix_web::test]
async fn a_section_put_keeps_item_ids_reorders_adds_and_deletes() {
    let (app, token, service) = editing().await;
    let path = format!("{SEED}/sections/steps");
    let before = get(&service, &path).await;
    let section = before.json();
    let items = section["items"].as_array().unwrap();
    let article_before = get(&service, SEED).await.json();
    let revisions = app.revision_count().await;

    // Keep item 3 (edited) then item 1, add one, drop items 2 and 4.
    let body = json!({
        "kind": "steps",
        "heading": "How It Works",
        "intro": "  Three steps:  ",
        "items": [
            {"id": items[2]["id"], "title": "Needling", "body": "The practitioner works in passes."},
            {"id": items[0]["id"], "title": items[0]["title"], "body": items[0]["body"]},
            {"title": "Rest", "body": "Go home and rest."}
        ]
    });
    let reply = put_if_match(&service, &path, &token, &before.etag(), &body).await;
    reply.assert_status(200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let stored = reply.json();
    assert_eq!(stored["version"], section["version"].as_i64().unwrap() + 1);
    assert_eq!(stored["intro"], "Three steps:", "text is trimmed");
    assert_eq!(stored["items"][0]["id"], items[2]["id"]);
    assert_eq!(stored["items"][1]["id"], items[0]["id"]);
    let new_id = stored["items"][2]["id"].as_str().unwrap();
    assert!(
        items.iter().all(|item| item["id"] != new_id),
        "a new item gets a new id"
    );
    assert_eq!(stored["items"].as_array().unwrap().len(), 3);
    assert_ne!(reply.etag(), before.etag());

    let read = get(&service, &path).await;
    assert_eq!(read.json(), stored, "the response is what is stored");
    assert_eq!(read.etag(), reply.etag());
    let removed_item = format!("{path}/items/{}", items[1]["id"].as_str().unwrap());
    get_problem(&service, &removed_item, 404, "item_not_found").await;

    let article = get(&service, SEED).await.json();
    assert_eq!(article["version"], article_before["version"].as_i64().unwrap() + 1);
    assert!(
        article["word_count"].as_i64().unwrap() < article_before["word_count"].as_i64().unwrap(),
        "word count is derived again"
    );
    assert_eq!(
        article["sections"][0], article_before["sections"][0],
        "other sections are untouched"
    );
    assert_eq!(app.revision_count().await, revisions + 1);
}

#[actix_web::test]
async fn if_match_is_required_and_checked() {
    let (app, token, service) = editing().await;
    let path = format!("{SEED}/sections/risks");
    let current = get(&service, &path).await;
    let body = json!({"kind": "risks", "heading": "Risks", "items": []});
    let unchanged = state(&app, &service).await;

    write_as(&service, Method::PUT, &path, &token, &body)
        .await
        .assert_problem(428, "precondition_required");
    let stale = put_if_match(&service, &path, &token, "\"s.0.1\"", &body).await;
    let problem = stale.assert_problem(412, "precondition_failed");
    assert_eq!(problem["current_etag"], current.etag());
    assert_eq!(problem["current_version"], current.json()["version"]);
    let weak = put_if_match(&service, &path, &token, &format!("W/{}", current.etag()), &body).await;
    weak.assert_problem(412, "precondition_failed");
    assert_eq!(state(&app, &service).await, unchanged, "failed writes change nothing");

    let listed = put_if_match(&service, &path, &token, &format!("\"x\", {}", current.etag()), &body).await;
    listed.assert_status(200);
    let star = put_over(&service, &path, &token, &body).await;
    star.assert_status(200);
    // The same body again changes nothing: no new version (API.md §3).
    assert_eq!(star.json()["version"], current.json()["version"].as_i64().unwrap() + 1);
}

#[actix_web::test]
async fn creating_sections_and_articles() {
    let (_app, token, service) = editing().await;
    let article = json!({
        "title": "Chemical Peels", "author": "sd80464", "published_on": "2025-02-01", "status": "published",
        "summary": "Peels renew the skin.",
        "sections": [{"kind": "overview", "heading": "What is a peel?", "body": "An acid solution."}]
    });
    let path = "/v1/articles/chemical-peels";
    let with_if_match = put_over(&service, path, &token, &article).await;
    with_if_match.assert_problem(412, "precondition_failed");

    let created = write_as(&service, Method::PUT, path, &token, &article).await;
    created.assert_status(201);
    assert_eq!(created.header("location"), Some(path));
    assert_eq!(created.json()["sections"][0]["body"], "An acid solution.");
    assert_eq!(get(&service, path).await.json(), created.json());
    write_as(&service, Method::PUT, path, &token, &article)
        .await
        .assert_problem(428, "precondition_required");

    // A new section goes last, and answers 201 with its Location.
    let risks = json!({"kind": "risks", "heading": "Risks", "items": [{"title": "Peeling", "body": "Expected."}]});
    let section_path = format!("{path}/sections/risks");
    let created = write_as(&service, Method::PUT, &section_path, &token, &risks).await;
    created.assert_status(201);
    assert_eq!(created.header("location"), Some(section_path.as_str()));
    assert_eq!(created.json()["position"], 2);
    put_over(
        &service,
        &format!("{path}/sections/steps"),
        &token,
        &json!({"kind": "steps", "heading": "S", "items": []}),
    )
    .await
    .assert_problem(412, "precondition_failed");

    // Replacing the article: sections left out go, metadata changes, drafts hide it.
    let current = get(&service, path).await;
    let mut replacement = article.clone();
    replacement["status"] = json!("draft");
    replacement["title"] = json!("Chemical Peels, Explained");
    let replaced = put_if_match(&service, path, &token, &current.etag(), &replacement).await;
    replaced.assert_status(200);
    let stored = replaced.json();
    assert_eq!(stored["sections"].as_array().unwrap().len(), 1);
    assert_eq!(
        stored["sections"][0]["id"],
        current.json()["sections"][0]["id"],
        "a kept section keeps its id"
    );
    assert_eq!(
        stored["sections"][0]["version"], 1,
        "an unchanged section keeps its version"
    );
    get_problem(&service, path, 404, "article_not_found").await;

    write_as(&service, Method::PUT, "/v1/articles/Bad_Slug", &token, &article)
        .await
        .assert_problem(400, "invalid_slug");
}

#[actix_web::test]
async fn deleting_sections_and_articles() {
    let (app, token, service) = editing().await;
    let path = format!("{SEED}/sections/benefits");
    let benefits = get(&service, &path).await;
    let revisions = app.revision_count().await;
    call_as(&service, Method::DELETE, &path, &token)
        .await
        .assert_problem(428, "precondition_required");
    let deleted = call_if_match(&service, Method::DELETE, &path, &token, &benefits.etag()).await;
    deleted.assert_status(204);
    get_problem(&service, &path, 404, "section_not_found").await;
    let article = get(&service, SEED).await.json();
    let positions = crate::common::positions(&article);
    assert_eq!(positions, [1, 2, 3, 4, 5, 6, 7], "later sections move up");
    assert_eq!(article["sections"][2]["kind"], "expectations");
    call_if_match(&service, Method::DELETE, &path, &token, "*")
        .await
        .assert_problem(404, "section_not_found");

    let current = get(&service, SEED).await;
    call_if_match(&service, Method::DELETE, SEED, &token, "\"a.0.0\"")
        .await
        .assert_problem(412, "precondition_failed");
    let deleted = call_if_match(&service, Method::DELETE, SEED, &token, &current.etag()).await;
    deleted.assert_status(204);
    get_problem(&service, SEED, 404, "article_not_found").await;
    assert_eq!(get(&service, "/v1/articles").await.json()["items"], json!([]));
    assert_eq!(app.revision_count().await, revisions + 2, "deletes are recorded too");
}

#[actix_web::test]
async fn an_item_put_replaces_one_item() {
    let (_app, token, service) = editing().await;
    let section = get(&service, &format!("{SEED}/sections/expectations")).await.json();
    let id = section["items"][1]["id"].as_str().unwrap();
    let path = format!("{SEED}/sections/expectations/items/{id}");
    let item = get(&service, &path).await;
    // The body is the item as read, without its id: `kind` included.
    for (bad, message) in [
        (json!({"phase": "before", "title": "T", "body": "B"}), "is required"),
        (
            json!({"kind": "steps", "phase": "before", "title": "T", "body": "B"}),
            "must be \"expectations\"",
        ),
    ] {
        let problem = put_over(&service, &path, &token, &bad)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], "/kind", "{problem}");
        assert!(
            problem["errors"][0]["message"].as_str().unwrap().starts_with(message),
            "{problem}"
        );
    }
    let body = json!({"kind": "expectations", "phase": "before", "title": "Numbing cream", "body": "Applied 30 minutes before."});
    write_as(&service, Method::PUT, &path, &token, &body)
        .await
        .assert_problem(428, "precondition_required");
    let reply = put_if_match(&service, &path, &token, &item.etag(), &body).await;
    reply.assert_status(200);
    assert_eq!(
        crate::common::in_default_locale(reply.json()),
        json!({"id": id, "kind": "expectations", "phase": "before", "title": "Numbing cream", "body": "Applied 30 minutes before.", "image": null})
    );
    let after = get(&service, &format!("{SEED}/sections/expectations")).await.json();
    assert_eq!(after["items"][0], section["items"][0]);
    assert_eq!(after["items"][1]["title"], "Numbing cream");
    assert_eq!(after["version"], section["version"].as_i64().unwrap() + 1);
    // The old ETag is stale now, for the item and its section.
    put_if_match(&service, &path, &token, &item.etag(), &body)
        .await
        .assert_problem(412, "precondition_failed");

    let missing = uuid::Uuid::new_v4();
    put_over(
        &service,
        &format!("{SEED}/sections/expectations/items/{missing}"),
        &token,
        &body,
    )
    .await
    .assert_problem(404, "item_not_found");
    put_over(&service, &format!("{SEED}/sections/overview/items/{id}"), &token, &body)
        .await
        .assert_problem(404, "item_not_found");
}

#[actix_web::test]
async fn bad_bodies_are_rejected_with_every_problem_and_nothing_changes() {
    let (app, token, service) = editing().await;
    let steps = get(&service, &format!("{SEED}/sections/steps")).await;
    let risks = get(&service, &format!("{SEED}/sections/risks")).await.json();
    let path = format!("{SEED}/sections/steps");
    let unchanged = state(&app, &service).await;
    let put = |body: &Value| write(Method::PUT, &path, &token, body).insert_header(("If-Match", "*"));

    // Malformed JSON, wrong content type, too large.
    send(
        &service,
        raw_put(&path, &token, Some("application/json"), "{\"kind\": "),
    )
    .await
    .assert_problem(400, "malformed_json");
    send(&service, raw_put(&path, &token, Some("text/plain"), "{}"))
        .await
        .assert_problem(415, "unsupported_media_type");
    send(&service, raw_put(&path, &token, None, "{}"))
        .await
        .assert_problem(415, "unsupported_media_type");
    let huge = json!({"kind": "steps", "heading": "x".repeat(300 * 1024), "items": []});
    send(&service, put(&huge))
        .await
        .assert_problem(413, "payload_too_large");

    // Every problem at once, each with a pointer.
    let body = json!({
        "kind": "steps",
        "heading": "",
        "colour": "red",
        "version": 3,
        "items": [
            {"title": "Fine", "body": "Fine."},
            {"title": "t".repeat(201), "body": "Bell\u{7} rings"},
            {"id": "not-a-uuid", "title": "T", "body": 5},
            {"title": "No body"}
        ]
    });
    let reply = send(&service, put(&body)).await;
    let problem = crate::common::assert_invalid(
        &reply,
        &[
            "/heading",
            "/colour",
            "/version",
            "/items/1/title",
            "/items/1/body",
            "/items/2/id",
            "/items/2/body",
            "/items/3/body",
        ],
    );
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty()))
    );

    // A kind that contradicts the path; duplicate ids; an item of another section; too many items.
    let wrong_kind = send(&service, put(&json!({"kind": "risks", "heading": "H", "items": []})))
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(wrong_kind["errors"][0]["pointer"], "/kind");
    let id = steps.json()["items"][0]["id"].clone();
    let twice = send(&service, put(&json!({"kind": "steps", "heading": "H", "items": [{"id": id, "title": "a", "body": "b"}, {"id": id, "title": "a", "body": "b"}]}))).await;
    assert_eq!(
        twice.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/items/1/id"
    );
    let foreign = send(&service, put(&json!({"kind": "steps", "heading": "H", "items": [{"title": "a", "body": "b"}, {"id": risks["items"][0]["id"], "title": "a", "body": "b"}]}))).await;
    assert_eq!(
        foreign.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/items/1/id"
    );
    let many: Vec<Value> = (0..51)
        .map(|n| json!({"title": format!("Step {n}"), "body": "b"}))
        .collect();
    let too_many = send(&service, put(&json!({"kind": "steps", "heading": "H", "items": many}))).await;
    assert_eq!(
        too_many.assert_problem(422, "validation_failed")["errors"][0]["pointer"],
        "/items"
    );
    send(&service, put(&json!(["not", "an", "object"])))
        .await
        .assert_problem(422, "validation_failed");

    // Article bodies: every missing field at once.
    let reply = put_over(
        &service,
        SEED,
        &token,
        &json!({"title": " ", "published_on": "2024-02-30", "status": "live", "sections": [{"kind": "nope"}]}),
    )
    .await;
    crate::common::assert_invalid(
        &reply,
        &[
            "/title",
            "/author",
            "/summary",
            "/published_on",
            "/status",
            "/sections/0/kind",
        ],
    );

    assert_eq!(state(&app, &service).await, unchanged, "nothing stored changed");
}

/// A write that changes nothing (the body equals what is stored) answers 200
/// with the current resource and ETag, and records nothing: no version, no
/// revision, no change (API.md §3).
#[actix_web::test]
async fn a_write_that_changes_nothing_records_nothing() {
    let (app, token, service) = editing().await;
    let section = get(&service, &format!("{SEED}/sections/steps")).await;
    let read = section.json();
    let mut body = json!({"kind": "steps", "heading": read["heading"], "intro": read["intro"], "items": read["items"]});
    let revisions = app.revision_count().await;
    let path = format!("{SEED}/sections/steps");
    let again = put_if_match(&service, &path, &token, &section.etag(), &body).await;
    again.assert_status(200);
    assert_eq!(again.etag(), section.etag());
    assert_eq!(again.json()["version"], read["version"]);
    let item = &read["items"][0];
    let item_path = format!("{path}/items/{}", item["id"].as_str().unwrap());
    let item_read = get(&service, &item_path).await;
    let same_item = json!({"kind": "steps", "title": item["title"], "body": item["body"]});
    let reply = put_over(&service, &item_path, &token, &same_item).await;
    reply.assert_status(200);
    assert_eq!(reply.etag(), item_read.etag());
    let article = get(&service, SEED).await;
    let whole = crate::common::as_write(&article.json());
    let reply = put_if_match(&service, SEED, &token, &article.etag(), &whole).await;
    reply.assert_status(200);
    assert_eq!(reply.etag(), article.etag());
    assert_eq!(
        app.revision_count().await,
        revisions,
        "no revision for writes that change nothing"
    );
    // A real change still is one.
    body["heading"] = json!("How It Works");
    let changed = put_over(&service, &path, &token, &body).await;
    assert_eq!(changed.json()["version"], read["version"].as_i64().unwrap() + 1);
    assert_eq!(app.revision_count().await, revisions + 1);
}

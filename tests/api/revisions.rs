//! Concurrency (no lost updates) and the revision history.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{SEED, TestApp, bearer, get, send, write};

#[actix_web::test]
async fn race_twenty_concurrent_puts_exactly_one_wins() {
    let app = TestApp::new().await;
    let token = app.editor().await;
    let service = app.service().await;
    let path = format!("{SEED}/sections/risks");
    let current = get(&service, &path).await;
    let etag = current.header("etag").unwrap().to_owned();
    let revisions_before = app.revision_count().await;

    let bodies: Vec<_> = (0..20)
        .map(|n| json!({"kind": "risks", "heading": format!("Risks, take {n}"), "items": []}))
        .collect();
    let requests = bodies.iter().map(|body| {
        send(
            &service,
            write(Method::PUT, &path, &token, body).insert_header(("If-Match", etag.as_str())),
        )
    });
    let replies = futures_util::future::join_all(requests).await;

    let winners: Vec<usize> = replies
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == 200)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "statuses: {:?}",
        replies.iter().map(|r| r.status.as_u16()).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status != 200) {
        reply.assert_problem(412, "precondition_failed");
    }
    let stored = get(&service, &path).await.json();
    assert_eq!(
        stored["heading"],
        format!("Risks, take {}", winners[0]),
        "the stored state is the winner's"
    );
    assert_eq!(stored["version"], current.json()["version"].as_i64().unwrap() + 1);
    assert_eq!(
        app.revision_count().await,
        revisions_before + 1,
        "exactly one revision was added"
    );
}

#[actix_web::test]
async fn revisions_record_who_what_and_when_and_can_be_restored() {
    let app = TestApp::new().await;
    let token = app.editor().await;
    let preview = app.token("preview", lamina::auth::Role::Preview).await;
    let service = app.service().await;
    let path = format!("{SEED}/sections/overview");
    let original = get(&service, SEED).await.json();

    let first = send(
        &service,
        write(
            Method::PUT,
            &path,
            &token,
            &json!({"kind": "overview", "heading": "What is it?", "body": "First edit."}),
        )
        .insert_header(("If-Match", "*"))
        .insert_header(("X-Request-Id", "edit-one")),
    )
    .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-request-id"), Some("edit-one"));
    let second = send(
        &service,
        write(
            Method::PUT,
            &path,
            &token,
            &json!({"kind": "overview", "heading": "What is it?", "body": "Second edit."}),
        )
        .insert_header(("If-Match", "*")),
    )
    .await;
    assert_eq!(second.status, 200);

    let list_path = format!("{SEED}/revisions");
    get(&service, &list_path).await.assert_problem(401, "unauthorized");
    send(
        &service,
        TestRequest::get().uri(&list_path).insert_header(bearer(&preview)),
    )
    .await
    .assert_problem(403, "forbidden");
    let list = send(
        &service,
        TestRequest::get().uri(&list_path).insert_header(bearer(&token)),
    )
    .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.header("cache-control"), Some("private, no-store"));
    let page = list.json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[2]["actor"],
        lamina::content::seed::ACTOR,
        "the seed is the first revision"
    );
    assert_eq!(items[2]["action"], "create");
    assert_eq!(items[1]["request_id"], "edit-one", "oldest last");
    assert_eq!(items[0]["actor"], "editor");
    assert_eq!(items[0]["target"], "section");
    assert_eq!(items[0]["section_kind"], "overview");
    assert_eq!(items[0]["action"], "replace");
    assert_eq!(items[0]["article_version"], original["version"].as_i64().unwrap() + 2);

    // Paging.
    let first_page = send(
        &service,
        TestRequest::get()
            .uri(&format!("{list_path}?limit=2"))
            .insert_header(bearer(&token)),
    )
    .await
    .json();
    let cursor = first_page["next_cursor"].as_str().unwrap();
    let next = send(
        &service,
        TestRequest::get()
            .uri(&format!("{list_path}?limit=2&cursor={cursor}"))
            .insert_header(bearer(&token)),
    )
    .await
    .json();
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert_eq!(next["items"][0]["id"], items[2]["id"]);
    assert_eq!(next["next_cursor"], serde_json::Value::Null);

    // One revision, with the article as it was after that write.
    let first_id = items[1]["id"].as_str().unwrap();
    let revision = send(
        &service,
        TestRequest::get()
            .uri(&format!("{list_path}/{first_id}"))
            .insert_header(bearer(&token)),
    )
    .await
    .json();
    assert_eq!(revision["snapshot"]["sections"][0]["body"], "First edit.");
    assert_eq!(
        revision["snapshot"]["sections"][1]["items"][0]["id"],
        original["sections"][1]["items"][0]["id"]
    );

    // Restore it: needs If-Match, makes a new revision, keeps item ids.
    let restore = format!("{list_path}/{first_id}/restore");
    send(
        &service,
        TestRequest::post().uri(&restore).insert_header(bearer(&token)),
    )
    .await
    .assert_problem(428, "precondition_required");
    let current = get(&service, SEED).await;
    let restored = send(
        &service,
        TestRequest::post()
            .uri(&restore)
            .insert_header(bearer(&token))
            .insert_header(("If-Match", current.header("etag").unwrap())),
    )
    .await;
    assert_eq!(restored.status, 200, "{}", String::from_utf8_lossy(&restored.body));
    let article = get(&service, SEED).await.json();
    assert_eq!(article["sections"][0]["body"], "First edit.");
    assert_eq!(
        article["sections"][1], original["sections"][1],
        "untouched sections keep id and version"
    );
    assert_eq!(app.revision_count().await, 4);
    let newest = send(
        &service,
        TestRequest::get().uri(&list_path).insert_header(bearer(&token)),
    )
    .await
    .json();
    assert_eq!(newest["items"][0]["action"], "restore");

    let unknown = uuid::Uuid::new_v4();
    send(
        &service,
        TestRequest::get()
            .uri(&format!("{list_path}/{unknown}"))
            .insert_header(bearer(&token)),
    )
    .await
    .assert_problem(404, "revision_not_found");
    send(
        &service,
        TestRequest::post()
            .uri(&format!("{list_path}/{unknown}/restore"))
            .insert_header(bearer(&token))
            .insert_header(("If-Match", "*")),
    )
    .await
    .assert_problem(404, "revision_not_found");
}

#[actix_web::test]
async fn old_revisions_are_pruned() {
    let mut app = TestApp::new().await;
    app.config.revisions_keep = 3;
    let token = app.editor().await;
    let service = app.service().await;
    let path = format!("{SEED}/sections/overview");
    for n in 0..5 {
        let body = json!({"kind": "overview", "heading": "What is it?", "body": format!("Edit {n}.")});
        assert_eq!(
            send(
                &service,
                write(Method::PUT, &path, &token, &body).insert_header(("If-Match", "*"))
            )
            .await
            .status,
            200
        );
    }
    assert_eq!(app.revision_count().await, 3);
    let page = send(
        &service,
        TestRequest::get()
            .uri(&format!("{SEED}/revisions"))
            .insert_header(bearer(&token)),
    )
    .await
    .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let newest = page["items"][0]["id"].as_str().unwrap();
    let revision = send(
        &service,
        TestRequest::get()
            .uri(&format!("{SEED}/revisions/{newest}"))
            .insert_header(bearer(&token)),
    )
    .await
    .json();
    assert_eq!(revision["snapshot"]["sections"][0]["body"], "Edit 4.");
}

//! Concurrency (no lost updates) and the revision history.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{
    SEED, call_as, call_if_match, editing, editing_with, get, get_as, get_problem, put_as, put_if_match, put_over,
    send, write,
};

#[actix_web::test]
async fn race_twenty_concurrent_puts_exactly_one_wins() {
    let (app, token, service) = editing().await;
    let path = format!("{SEED}/sections/risks");
    let current = get(&service, &path).await;
    let etag = current.header("etag").unwrap().to_owned();
    let revisions_before = app.revision_count().await;

    let bodies: Vec<_> = (0..20)
        .map(|n| json!({"kind": "risks", "heading": format!("Risks, take {n}"), "items": []}))
        .collect();
    let requests = bodies
        .iter()
        .map(|body| put_if_match(&service, &path, &token, &etag, body));
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
    let (app, token, service) = editing().await;
    let preview = app.token("preview", lamina::auth::Role::Preview).await;
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
    first.assert_status(200);
    assert_eq!(first.header("x-request-id"), Some("edit-one"));
    let edit = json!({"kind": "overview", "heading": "What is it?", "body": "Second edit."});
    let second = put_over(&service, &path, &token, &edit).await;
    second.assert_status(200);

    let list_path = format!("{SEED}/revisions");
    get_problem(&service, &list_path, 401, "unauthorized").await;
    get_as(&service, &list_path, &preview)
        .await
        .assert_problem(403, "forbidden");
    let list = get_as(&service, &list_path, &token).await;
    list.assert_status(200);
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
    let first_page = get_as(&service, &format!("{list_path}?limit=2"), &token).await.json();
    let cursor = first_page["next_cursor"].as_str().unwrap();
    let next = get_as(&service, &format!("{list_path}?limit=2&cursor={cursor}"), &token)
        .await
        .json();
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert_eq!(next["items"][0]["id"], items[2]["id"]);
    assert_eq!(next["next_cursor"], serde_json::Value::Null);

    // One revision, with the article as it was after that write.
    let first_id = items[1]["id"].as_str().unwrap();
    let revision = get_as(&service, &format!("{list_path}/{first_id}"), &token)
        .await
        .json();
    assert_eq!(revision["snapshot"]["sections"][0]["body"], "First edit.");
    assert_eq!(
        revision["snapshot"]["sections"][1]["items"][0]["id"],
        original["sections"][1]["items"][0]["id"]
    );

    // Restore it: needs If-Match, makes a new revision, keeps item ids.
    let restore = format!("{list_path}/{first_id}/restore");
    call_as(&service, Method::POST, &restore, &token)
        .await
        .assert_problem(428, "precondition_required");
    let current = get(&service, SEED).await;
    let restored = call_if_match(
        &service,
        Method::POST,
        &restore,
        &token,
        current.header("etag").unwrap(),
    )
    .await;
    restored.assert_status(200);
    let article = get(&service, SEED).await.json();
    assert_eq!(article["sections"][0]["body"], "First edit.");
    assert_eq!(
        article["sections"][1], original["sections"][1],
        "untouched sections keep id and version"
    );
    assert_eq!(app.revision_count().await, 4);
    let newest = get_as(&service, &list_path, &token).await.json();
    assert_eq!(newest["items"][0]["action"], "restore");

    let unknown = uuid::Uuid::new_v4();
    get_as(&service, &format!("{list_path}/{unknown}"), &token)
        .await
        .assert_problem(404, "revision_not_found");
    call_if_match(
        &service,
        Method::POST,
        &format!("{list_path}/{unknown}/restore"),
        &token,
        "*",
    )
    .await
    .assert_problem(404, "revision_not_found");
}

#[actix_web::test]
async fn old_revisions_are_pruned() {
    let (app, token, service) = editing_with(|config| config.revisions_keep = 3).await;
    let path = format!("{SEED}/sections/overview");
    for n in 0..5 {
        let body = json!({"kind": "overview", "heading": "What is it?", "body": format!("Edit {n}.")});
        assert_eq!(put_over(&service, &path, &token, &body).await.status, 200);
    }
    assert_eq!(app.revision_count().await, 3);
    let page = get_as(&service, &format!("{SEED}/revisions"), &token).await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let newest = page["items"][0]["id"].as_str().unwrap();
    let revision = get_as(&service, &format!("{SEED}/revisions/{newest}"), &token)
        .await
        .json();
    assert_eq!(revision["snapshot"]["sections"][0]["body"], "Edit 4.");
}

#[actix_web::test]
async fn deleted_articles_are_listed_restored_and_purged() {
    use diesel_async::RunQueryDsl;
    let (app, editor, service) = editing().await;
    let preview = app.token("preview", lamina::auth::Role::Preview).await;
    let trash = "/v1/articles?deleted=true";
    let peels = json!({
        "title": "Chemical Peels", "author": "sd80464", "published_on": "2025-02-01", "status": "published",
        "summary": "Peels renew the skin.",
        "sections": [{"kind": "steps", "heading": "How", "items": [{"title": "Cleanse", "body": "First."}]}]
    });
    let created = put_as(&service, "/v1/articles/peels", &editor, &peels).await;
    created.assert_status(201);
    let before = created.json();

    send(&service, TestRequest::get().uri(trash))
        .await
        .assert_problem(401, "unauthorized");
    get_as(&service, trash, &preview).await.assert_problem(403, "forbidden");
    let empty = get_as(&service, trash, &editor).await;
    empty.assert_status(200);
    assert_eq!(empty.json()["items"], json!([]));

    let deleted = call_if_match(&service, Method::DELETE, "/v1/articles/peels", &editor, "*").await;
    deleted.assert_status(204);
    let listed = get_as(&service, trash, &editor).await;
    listed.assert_status(200);
    assert_eq!(listed.header("cache-control"), Some("private, no-store"));
    let items = listed.json()["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    let item = &items[0];
    assert_eq!(item["slug"], "peels");
    assert_eq!(item["title"], "Chemical Peels");
    assert_eq!(item["id"], before["id"]);
    assert_eq!(item["section_kinds"], json!(["steps"]));
    assert_eq!(item["deleted"]["by"], "editor");
    let revision = item["deleted"]["revision_id"].as_str().unwrap().to_owned();
    assert!(
        get(&service, "/v1/articles").await.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|live| live["slug"] != "peels" && live.get("deleted").is_none()),
        "the live list neither shows it nor carries `deleted`"
    );

    // Its history answers editors; a restore with If-Match has nothing to match.
    let history = get_as(&service, "/v1/articles/peels/revisions", &editor).await;
    history.assert_status(200);
    let actions: Vec<&str> = history.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|revision| revision["action"].as_str().unwrap().to_owned().leak() as &str)
        .collect();
    assert_eq!(actions, ["delete", "create"]);
    let restore = format!("/v1/articles/peels/revisions/{revision}/restore");
    call_if_match(&service, Method::POST, &restore, &editor, "*")
        .await
        .assert_problem(412, "precondition_failed");
    let restored = call_as(&service, Method::POST, &restore, &editor).await;
    restored.assert_status(201);
    assert_eq!(restored.header("location"), Some("/v1/articles/peels"));
    let again = get(&service, "/v1/articles/peels").await.json();
    assert_eq!(again["id"], before["id"], "re-created under its own id");
    assert_eq!(
        again["sections"][0]["items"][0]["id"],
        before["sections"][0]["items"][0]["id"]
    );
    assert!(
        again["version"].as_i64() > before["version"].as_i64(),
        "its version counts on"
    );
    let empty = get_as(&service, trash, &editor).await;
    assert_eq!(empty.json()["items"], json!([]));

    // Deleted again, and 31 days later any write purges it with its history.
    let deleted = call_if_match(&service, Method::DELETE, "/v1/articles/peels", &editor, "*").await;
    deleted.assert_status(204);
    diesel::sql_query(
        "UPDATE revisions SET created_at = created_at - interval '31 days' WHERE slug = 'peels' AND action = 'delete'",
    )
    .execute(&mut app.db.conn().await)
    .await
    .unwrap();
    let other = json!({"kind": "risks", "heading": "Risks", "items": []});
    let written = put_over(&service, &format!("{SEED}/sections/risks"), &editor, &other).await;
    written.assert_status(200);
    let left: i64 = diesel::sql_query("SELECT count(*) AS n FROM revisions WHERE slug = 'peels'")
        .get_result::<Count>(&mut app.db.conn().await)
        .await
        .unwrap()
        .n;
    assert_eq!(left, 0, "purged with its revisions");
    get_as(&service, "/v1/articles/peels/revisions", &editor)
        .await
        .assert_problem(404, "article_not_found");
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

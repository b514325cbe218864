//! Tokens: who may read drafts, who may write, and what is stored.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lamina::auth::Role;
use serde_json::json;

use crate::common::{
    SEED, TestApp, bearer, call_if_match, editing_with, get, get_as, get_problem, put_over, send, serving,
};
use crate::reads::insert;

fn overview() -> serde_json::Value {
    json!({"kind": "overview", "heading": "What is it?", "body": "Changed."})
}

#[actix_web::test]
async fn writes_need_a_valid_token_with_the_editor_role() {
    let app = TestApp::new().await;
    let preview = app.token("front-end-preview", Role::Preview).await;
    let service = app.service().await;
    let path = format!("{SEED}/sections/overview");
    let before = get(&service, &path).await;
    let revisions = app.revision_count().await;

    let anonymous = send(
        &service,
        TestRequest::put()
            .uri(&path)
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("If-Match", "*"))
            .set_payload(overview().to_string()),
    )
    .await;
    anonymous.assert_problem(401, "unauthorized");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer realm=\"lamina\""));

    let bogus = put_over(&service, &path, "lamina_not-a-real-token", &overview()).await;
    bogus.assert_problem(401, "unauthorized");
    assert!(bogus.header("www-authenticate").unwrap().starts_with("Bearer"));

    let basic = send(
        &service,
        TestRequest::put()
            .uri(&path)
            .insert_header(("Authorization", "Basic dXNlcjpwdw=="))
            .insert_header(("If-Match", "*")),
    )
    .await;
    basic.assert_problem(401, "unauthorized");

    let forbidden = put_over(&service, &path, &preview, &overview()).await;
    forbidden.assert_problem(403, "forbidden");

    let deleted = call_if_match(&service, Method::DELETE, &path, &preview, "*").await;
    deleted.assert_problem(403, "forbidden");

    assert_eq!(get(&service, &path).await.body, before.body, "nothing changed");
    assert_eq!(app.revision_count().await, revisions);
}

#[actix_web::test]
async fn an_invalid_token_on_a_read_is_401_not_anonymous() {
    let (_app, service) = serving().await;
    for path in [
        SEED.to_owned(),
        "/v1/articles".to_owned(),
        format!("{SEED}/sections/steps"),
    ] {
        let reply = get_as(&service, &path, "lamina_wrong").await;
        reply.assert_problem(401, "unauthorized");
    }
}

#[actix_web::test]
async fn drafts_are_for_token_holders_and_never_cached() {
    let app = TestApp::new().await;
    insert(&app.db, "coming-soon", "2026-12-01", "draft").await;
    let preview = app.token("preview", Role::Preview).await;
    let service = app.service().await;

    get_problem(&service, "/v1/articles/coming-soon", 404, "article_not_found").await;
    let unpublished_section = "/v1/articles/coming-soon/sections/risks";
    get_problem(&service, unpublished_section, 404, "article_not_found").await;

    for path in [
        "/v1/articles/coming-soon",
        "/v1/articles/coming-soon/sections",
        "/v1/articles/coming-soon/sections/risks",
        "/v1/articles",
    ] {
        let reply = get_as(&service, path, &preview).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("cache-control"), Some("private, no-store"), "{path}");
        assert!(reply.header("surrogate-key").is_none());
    }
    let list = get_as(&service, "/v1/articles", &preview).await.json();
    assert_eq!(list["items"][0]["slug"], "coming-soon");
    assert_eq!(list["items"][0]["status"], "draft");
}

#[actix_web::test]
async fn expired_and_revoked_tokens_stop_working() {
    let app = TestApp::new().await;
    let mut conn = app.db.conn().await;
    let expired = lamina::auth::create_token(&mut conn, "expired", Role::Editor, Some(1))
        .await
        .unwrap();
    assert!(
        lamina::auth::create_token(&mut conn, "born-expired", Role::Editor, Some(0))
            .await
            .is_err(),
        "a token cannot be born expired"
    );
    for days in [3651, 96_000_000, u32::MAX] {
        let refused = lamina::auth::create_token(&mut conn, "forever", Role::Editor, Some(days)).await;
        let message = refused.err().map(|err| err.to_string()).unwrap_or_default();
        assert!(message.contains("at most 3650 days"), "{days}: {message:?}");
    }
    diesel::sql_query("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'expired'")
        .execute(&mut conn)
        .await
        .unwrap();
    let revoked = app.token("revoked", Role::Admin).await;
    let service = app.service().await;
    let reply = get_as(&service, SEED, &revoked).await;
    reply.assert_status(200);
    assert!(lamina::auth::revoke_token(&mut conn, "revoked").await.unwrap());
    assert!(
        !lamina::auth::revoke_token(&mut conn, "revoked").await.unwrap(),
        "already revoked"
    );

    let reply = get_as(&service, SEED, &revoked).await;
    let body = reply.assert_problem(401, "unauthorized");
    assert!(body["detail"].as_str().unwrap().contains("revoked"));
    let reply = get_as(&service, SEED, &expired).await;
    let body = reply.assert_problem(401, "unauthorized");
    assert!(body["detail"].as_str().unwrap().contains("expired"));
}

#[actix_web::test]
async fn only_a_hash_of_the_secret_is_stored() {
    let app = TestApp::new().await;
    let secret = app.editor().await;
    assert!(secret.starts_with("lamina_") && secret.len() == 7 + 64, "{secret}");
    let service = app.service().await;
    get_as(&service, SEED, &secret).await;

    let mut conn = app.db.conn().await;
    use lamina::db::schema::api_tokens::dsl::*;
    let (stored_prefix, hash, used): (String, Vec<u8>, Option<chrono::DateTime<chrono::Utc>>) = api_tokens
        .select((prefix, secret_hash, last_used_at))
        .first(&mut conn)
        .await
        .unwrap();
    assert!(secret.starts_with(&stored_prefix) && stored_prefix.len() < 16);
    assert_eq!(hash.len(), 32);
    assert!(!hash.windows(8).any(|w| secret.as_bytes().windows(8).any(|s| s == w)));
    assert!(used.is_some(), "last use is recorded");
    // Nothing in the table's text contains the secret.
    let dump: String = diesel::sql_query("SELECT row_to_json(t)::text AS dump FROM api_tokens t")
        .load::<Dump>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.dump)
        .collect();
    assert!(!dump.contains(&secret[7..]), "{dump}");
}

#[derive(QueryableByName)]
struct Dump {
    #[diesel(sql_type = diesel::sql_types::Text)]
    dump: String,
}

#[actix_web::test]
async fn failed_authentication_is_rate_limited_per_address() {
    let (_app, token, service) = editing_with(|config| config.auth_failures_per_minute = 3).await;
    let from = |address: &str, secret: &str| {
        TestRequest::get()
            .uri(SEED)
            .peer_addr(address.parse().unwrap())
            .insert_header(bearer(secret))
    };
    for _ in 0..3 {
        send(&service, from("10.0.0.1:4000", "lamina_guess"))
            .await
            .assert_problem(401, "unauthorized");
    }
    let limited = send(&service, from("10.0.0.1:4000", "lamina_guess")).await;
    limited.assert_problem(429, "too_many_requests");
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(limited.header("ratelimit-limit"), Some("3"));
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    assert!(limited.header("ratelimit-reset").is_some());
    // A valid token is never refused for someone else's failures from the same
    // address (a shared proxy); bad tokens from there stay refused.
    assert_eq!(send(&service, from("10.0.0.1:4000", &token)).await.status, 200);
    let lowercase = TestRequest::get()
        .uri(SEED)
        .peer_addr("10.0.0.1:4000".parse().unwrap())
        .insert_header(("Authorization", format!("BEARER {token}")));
    assert_eq!(
        send(&service, lowercase).await.status,
        200,
        "the scheme is case-insensitive"
    );
    send(&service, from("10.0.0.1:4000", "lamina_guess"))
        .await
        .assert_problem(429, "too_many_requests");
    // Other addresses, and reads without a token, are not affected.
    assert_eq!(send(&service, from("10.0.0.2:4000", &token)).await.status, 200);
    let anonymous = send(
        &service,
        TestRequest::get().uri(SEED).peer_addr("10.0.0.1:4000".parse().unwrap()),
    )
    .await;
    anonymous.assert_status(200);
}

#[actix_web::test]
async fn writes_are_rate_limited_per_token() {
    let mut app = TestApp::new().await;
    app.config.writes_per_minute = 2;
    let token = app.editor().await;
    let other = app.token("other-editor", Role::Editor).await;
    let service = app.service().await;
    let path = format!("{SEED}/sections/overview");
    for _ in 0..2 {
        let reply = put_over(&service, &path, &token, &overview()).await;
        reply.assert_status(200);
    }
    let before = get(&service, &path).await.body;
    let third = json!({"kind": "overview", "heading": "H", "body": "Third."});
    let limited = put_over(&service, &path, &token, &third).await;
    limited.assert_problem(429, "too_many_requests");
    assert!(limited.header("retry-after").is_some());
    assert_eq!(
        get(&service, &path).await.body,
        before,
        "the limited write changed nothing"
    );
    // Reads by the same token are not limited; another token may still write.
    assert_eq!(get_as(&service, &format!("{SEED}/revisions"), &token).await.status, 200);
    let reply = put_over(&service, &path, &other, &overview()).await;
    reply.assert_status(200);
}

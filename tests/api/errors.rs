//! Every error the server produces is problem+json with a stable code.

use actix_web::test::TestRequest;

use crate::common::{SEED, get, get_problem, send, serving};

#[actix_web::test]
async fn unknown_routes_and_wrong_methods() {
    let (_app, service) = serving().await;
    get_problem(&service, "/nope", 404, "route_not_found").await;
    get_problem(&service, "/v1/articles/a/b/c/d/e/f", 404, "route_not_found").await;

    let reply = send(&service, TestRequest::post().uri("/v1/articles")).await;
    reply.assert_problem(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    let reply = send(&service, TestRequest::patch().uri(&format!("{SEED}/sections/steps"))).await;
    reply.assert_problem(405, "method_not_allowed");
    assert!(reply.header("allow").unwrap().contains("GET"));
}

#[actix_web::test]
async fn bad_query_parameters() {
    let (_app, service) = serving().await;
    for limit in ["0", "101", "-1"] {
        get(&service, &format!("/v1/articles?limit={limit}"))
            .await
            .assert_problem(
                400,
                if limit == "-1" {
                    "invalid_query"
                } else {
                    "invalid_limit"
                },
            );
    }
    get_problem(&service, "/v1/articles?limit=abc", 400, "invalid_query").await;
    get_problem(&service, "/v1/articles?cursor=abc", 400, "invalid_cursor").await;
    let garbled = "/v1/articles?cursor=zzzzzzzz0000000000000000000000000000000z";
    get_problem(&service, garbled, 400, "invalid_cursor").await;
    get_problem(&service, &format!("{SEED}?sections=bogus"), 400, "invalid_sections").await;
    get_problem(&service, &format!("{SEED}?sections="), 400, "invalid_sections").await;
    let empty_kind = format!("{SEED}?sections=steps,,risks");
    get_problem(&service, &empty_kind, 400, "invalid_sections").await;
}

#[actix_web::test]
async fn odd_requests_never_yield_a_server_error() {
    let (_app, service) = serving().await;
    let paths = [
        "/v1/articles/%00",
        "/v1/articles/%F0%9F%92%A9",
        "/v1/articles/%ff%fe",
        "/v1/articles/'%3B%20DROP%20TABLE%20articles%3B--",
        "/v1/articles/explore-micro-needling-for-flawless-skin-today/sections/%00/items/x",
        "/v1/articles?limit=99999999999999999999",
        "/v1/articles?cursor=%00%00",
        "/v1/articles?limit=1&limit=2",
        "/v1/articles/explore-micro-needling-for-flawless-skin-today?sections=%E2%80%99",
    ];
    for path in paths {
        let reply = get(&service, path).await;
        assert!(reply.status.as_u16() < 500, "{path} gave {}", reply.status);
        if !reply.status.is_success() {
            assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{path}");
        }
    }
    // The table is still there.
    assert_eq!(get(&service, SEED).await.status, 200);
}

//! The studio's page and assets (API.md §11): served from the binary, under a
//! strict Content-Security-Policy, assets cached for a year under a version
//! that changes with their content. What the page does is tested in a real
//! browser by `.ci/studio` (tests/browser).

use std::collections::{HashMap, HashSet};

use actix_web::test;

use crate::common::{get, get_problem, get_with, send, serving};

/// Every `href="…"` and `src="…"` of the page that points at an asset.
fn asset_paths(page: &str) -> Vec<String> {
    page.split(['"', '\''])
        .filter(|part| part.starts_with("/studio/assets/"))
        .map(str::to_owned)
        .collect()
}

/// The module names a script imports (`from "./x.js"`, `import("./x.js")`).
fn imports(script: &str) -> Vec<String> {
    script
        .split(['"', '\''])
        .filter(|part| part.starts_with("./") && part.ends_with(".js"))
        .map(|part| part.trim_start_matches("./").to_owned())
        .collect()
}

/// Whether module `from` reaches `target` through the imports in `graph`.
fn reaches(graph: &HashMap<String, Vec<String>>, from: &str, target: &str, visited: &mut HashSet<String>) -> bool {
    graph
        .get(from)
        .into_iter()
        .flatten()
        .any(|next| next == target || (visited.insert(next.clone()) && reaches(graph, next, target, visited)))
}

fn assert_policy(reply: &crate::common::Reply, what: &str) {
    let policy = reply.header("content-security-policy").unwrap_or_default();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(
            policy.contains(directive),
            "{what}: {directive:?} missing from {policy:?}"
        );
    }
    assert!(!policy.contains("unsafe"), "{what}: {policy}");
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{what}");
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"), "{what}");
}

#[actix_web::test]
async fn the_studio_is_served_from_the_binary_under_a_strict_policy() {
    let (_app, service) = serving().await;

    let redirect = get(&service, "/studio").await;
    redirect.assert_status(308);
    assert_eq!(redirect.header("location"), Some("/studio/"));

    let page = get(&service, "/studio/").await;
    page.assert_status(200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        page.header("cache-control"),
        Some("no-cache"),
        "the page is revalidated: it names the assets"
    );
    assert_policy(&page, "page");
    let html = String::from_utf8(page.body.clone()).unwrap();
    // No inline script or style: the policy would refuse them, so none may be written.
    for script in html.split("<script").skip(1) {
        let open = &script[..script.find('>').unwrap()];
        assert!(open.contains(" src="), "inline script: <script{open}>");
        assert!(
            script[script.find('>').unwrap() + 1..].starts_with("</script>"),
            "script with a body"
        );
    }
    assert!(!html.contains("<style") && !html.contains(" style="), "inline style");
    assert!(
        !html.contains(" onclick=") && !html.contains(" onload="),
        "inline handler"
    );

    let etag = page.header("etag").unwrap().to_owned();
    let again = get_with(&service, "/studio/", &[("If-None-Match", &etag)]).await;
    again.assert_status(304);
    assert!(again.body.is_empty());

    let linked = asset_paths(&html);
    assert!(linked.iter().any(|path| path.ends_with("/app.js")), "{linked:?}");
    assert!(linked.iter().any(|path| path.ends_with("/studio.css")), "{linked:?}");
    let folder = linked[0].rsplit_once('/').unwrap().0.to_owned();
    assert!(
        linked.iter().all(|path| path.starts_with(&folder)),
        "one version for all: {linked:?}"
    );

    // Every module the scripts import (statically or on demand) is served from the same folder.
    let mut pending: Vec<String> = linked
        .iter()
        .map(|path| path.rsplit_once('/').unwrap().1.to_owned())
        .collect();
    let mut seen = Vec::new();
    let mut graph = HashMap::new();
    while let Some(file) = pending.pop() {
        if seen.contains(&file) {
            continue;
        }
        let path = format!("{folder}/{file}");
        let plain = get(&service, &path).await;
        assert_eq!(plain.status, 200, "{path}");
        assert_policy(&plain, &path);
        assert_eq!(
            plain.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
        let expected_type = match file.rsplit_once('.').unwrap().1 {
            "js" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "svg" => "image/svg+xml",
            other => panic!("unexpected asset type {other}"),
        };
        assert_eq!(plain.header("content-type"), Some(expected_type), "{path}");
        if file.ends_with(".js") {
            let script = String::from_utf8(plain.body.clone()).unwrap();
            // The token stays in sessionStorage: the one module that writes to
            // localStorage (unsaved edits kept in the browser) imports nothing,
            // so it cannot reach the session.
            if file == "drafts.js" {
                assert!(imports(&script).is_empty(), "drafts.js imports nothing");
                assert!(!script.contains("sessionStorage"), "drafts.js never reads the session");
            } else {
                assert!(
                    !script.contains("localStorage"),
                    "{file}: only drafts.js uses localStorage; the token stays in sessionStorage"
                );
            }
            assert!(!script.contains("innerHTML"), "{file}: text is set as text");
            pending.extend(imports(&script));
            graph.insert(file.clone(), imports(&script));
        }
        if plain.body.len() > 2048 {
            let compressed = get_with(&service, &path, &[("Accept-Encoding", "gzip, br")]).await;
            assert_eq!(compressed.header("content-encoding"), Some("br"), "{path}");
            assert!(compressed.body.len() < plain.body.len() / 2, "{path}");
        }
        seen.push(file);
    }
    // The page reaches every asset the binary holds: a module left out of the
    // imports (after a split, say) would be served to nobody.
    let mut held: Vec<&str> = lamina::studio::asset_names().collect();
    held.sort_unstable();
    seen.sort_unstable();
    assert_eq!(seen, held, "assets the page reaches vs assets held");
    // Imports run one way: no module reaches itself through the modules it imports.
    for module in graph.keys() {
        assert!(
            !reaches(&graph, module, module, &mut HashSet::new()),
            "{module} imports itself through others: {graph:?}"
        );
    }

    // An asset of another version (an older binary's page) or an unknown file is a 404 problem.
    let old_asset = "/studio/assets/0123456789abcdef01234567/app.js";
    get_problem(&service, old_asset, 404, "route_not_found").await;
    get_problem(&service, &format!("{folder}/secrets.js"), 404, "route_not_found").await;
    let head = send(
        &service,
        test::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri("/studio/"),
    )
    .await;
    assert_eq!(
        head.status, 200,
        "HEAD is GET without the body (the server drops it on the wire)"
    );
    let post = send(&service, test::TestRequest::post().uri("/studio/")).await;
    post.assert_problem(405, "method_not_allowed");
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

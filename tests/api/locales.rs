//! Locales (API.md §13): configured locales and their chains, reading in a
//! locale (`?locale`, `Accept-Language`), writing texts in a locale,
//! translation status and publishing.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::common::{
    SEED, TestApp, as_write, bearer, call_as, create_release, editing, get, get_problem, publish_translation, put_as,
    put_if_match, put_over, send, write, write_if_match, write_in_locale,
};

/// Configures `de` and `de-AT` (falling back to `de`) with an admin token.
async fn german<S, B>(service: &S, admin: &str)
where
    S: crate::common::TestService<B>,
    B: actix_web::body::MessageBody,
{
    for (code, body) in [
        ("de", json!({"name": "Deutsch", "fallback": null})),
        ("de-AT", json!({"name": "Deutsch (Österreich)", "fallback": "de"})),
    ] {
        let reply = put_as(service, &format!("/v1/locales/{code}"), admin, &body).await;
        reply.assert_status(201);
    }
}

/// A fresh application with `de` and `de-AT` configured: it, the admin
/// token that configured them, an editor token and its service.
async fn in_german() -> (
    crate::common::TestApp,
    String,
    String,
    impl crate::common::AppService + use<>,
) {
    let (app, editor, service) = editing().await;
    let admin = app.token("admin", lamina::auth::Role::Admin).await;
    german(&service, &admin).await;
    (app, admin, editor, service)
}

/// The message of a problem's first error.
fn first_message(problem: &Value) -> &str {
    problem["errors"][0]["message"].as_str().expect("a message")
}

/// `GET path` with a token (or none) and extra headers.
fn read(path: &str, token: Option<&str>, headers: &[(&'static str, &str)]) -> TestRequest {
    let mut request = TestRequest::get().uri(path);
    if let Some(token) = token {
        request = request.insert_header(bearer(token));
    }
    for (name, value) in headers {
        request = request.insert_header((*name, value.to_string()));
    }
    request
}

/// The article as read, in the default locale, as a write body in another
/// locale would send it back (texts replaced by `texts`, keyed by pointer).
fn translated(article: &Value, texts: &[(&str, &str)]) -> Value {
    let mut body = article.clone();
    for (pointer, text) in texts {
        *body.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = json!(text);
    }
    body
}

#[actix_web::test]
async fn locales_are_configured_by_admins_with_chains_checked() {
    let (app, editor, service) = editing().await;
    let admin = app.token("admin", lamina::auth::Role::Admin).await;

    let listed = get(&service, "/v1/locales").await;
    listed.assert_status(200);
    assert_eq!(
        listed.json(),
        json!([{"code": "en", "name": "English", "fallback": null, "default": true}])
    );

    let body = json!({"name": "Deutsch"});
    put_as(&service, "/v1/locales/de", &editor, &body)
        .await
        .assert_problem(403, "forbidden");
    let anonymous = TestRequest::put()
        .uri("/v1/locales/de")
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string());
    send(&service, anonymous).await.assert_problem(401, "unauthorized");

    german(&service, &admin).await;
    let again = put_as(&service, "/v1/locales/de", &admin, &json!({"name": "German"})).await;
    again.assert_status(200);
    assert_eq!(again.json()["name"], "German");

    let refused = |code: &'static str, body: Value| {
        let request = write(Method::PUT, &format!("/v1/locales/{code}"), &admin, &body);
        async { send(&service, request).await.assert_problem(422, "validation_failed") }
    };
    let cycle = refused("de", json!({"name": "Deutsch", "fallback": "de-AT"})).await;
    assert_eq!(cycle["errors"][0]["pointer"], "/fallback");
    assert!(first_message(&cycle).contains("cycle"), "{cycle}");
    let unknown = refused("fr", json!({"name": "Français", "fallback": "it"})).await;
    assert!(first_message(&unknown).contains("no configured locale"), "{unknown}");
    let malformed = refused("de-at", json!({"name": "x"})).await;
    assert!(first_message(&malformed).contains("\"de-AT\""), "{malformed}");
    refused("english", json!({"name": "x"})).await;
    let default = refused("en", json!({"name": "English", "fallback": "de"})).await;
    assert!(first_message(&default).contains("must be null"), "{default}");
    let listed = get(&service, "/v1/locales").await.json();
    let codes: Vec<&str> = crate::common::strings(&listed, "code");
    assert_eq!(codes, ["en", "de", "de-AT"], "nothing refused was stored");
    assert_eq!(listed[2]["fallback"], "de");

    // In use: the default, a fallback, a locale holding text.
    let delete = |code: &'static str| {
        let request = TestRequest::delete()
            .uri(&format!("/v1/locales/{code}"))
            .insert_header(bearer(&admin));
        async { send(&service, request).await }
    };
    delete("en").await.assert_problem(409, "locale_in_use");
    delete("de").await.assert_problem(409, "locale_in_use");
    delete("fr").await.assert_problem(404, "locale_not_found");
    let article = get(&service, SEED).await.json();
    let body = translated(&article, &[("/title", "Microneedling für makellose Haut")]);
    write_in_locale(&service, &editor, "de-AT", &body).await;
    delete("de-AT").await.assert_problem(409, "locale_in_use");
    let emptied = translated(&article, &[]);
    let mut emptied = emptied;
    emptied["title"] = Value::Null;
    write_in_locale(&service, &editor, "de-AT", &emptied).await;
    assert_eq!(delete("de-AT").await.status, 204);
    assert_eq!(delete("de").await.status, 204);
}

#[actix_web::test]
async fn a_chain_of_three_resolves_every_text_and_says_where_each_came_from() {
    let (_app, _admin, editor, service) = in_german().await;
    let article = get(&service, SEED).await.json();
    let steps_heading = article["sections"][1]["heading"].as_str().unwrap().to_owned();

    // German: the summary and the first step's body; Austrian: the title.
    let german_body = translated(
        &article,
        &[
            ("/summary", "Microneedling ist eine beliebte Hautbehandlung."),
            (
                "/sections/1/items/0/body",
                "Vor der Behandlung ist ein Beratungsgespräch unerlässlich.",
            ),
        ],
    );
    write_in_locale(&service, &editor, "de", &german_body).await;
    // The Austrian translator starts from the de-AT read: its German and
    // English texts are fallbacks, sent back as read, and stay fallbacks.
    let austrian = send(&service, read(&format!("{SEED}?locale=de-AT"), Some(&editor), &[]))
        .await
        .json();
    let austrian_body = translated(&austrian, &[("/title", "Microneedling für a makellose Haut")]);
    write_in_locale(&service, &editor, "de-AT", &austrian_body).await;

    // A token reads the drafts along the chain de-AT → de → en.
    let reply = send(&service, read(&format!("{SEED}?locale=de-AT"), Some(&editor), &[])).await;
    reply.assert_status(200);
    assert_eq!(reply.header("content-language"), Some("de-AT"));
    assert!(
        reply.header("etag").unwrap().ends_with("@de-AT\""),
        "{:?}",
        reply.header("etag")
    );
    assert_eq!(
        reply.header("content-location"),
        None,
        "an explicit locale is its own URL"
    );
    let body = reply.json();
    assert_eq!(body["locale"], "de-AT");
    assert_eq!(body["title"], "Microneedling für a makellose Haut");
    assert_eq!(body["summary"], "Microneedling ist eine beliebte Hautbehandlung.");
    assert_eq!(
        body["sections"][1]["items"][0]["body"],
        "Vor der Behandlung ist ein Beratungsgespräch unerlässlich."
    );
    assert_eq!(body["sections"][1]["heading"], steps_heading.as_str());
    let fallbacks = body["fallbacks"].as_object().unwrap();
    assert_eq!(fallbacks["/summary"], "de");
    assert_eq!(fallbacks["/sections/1/items/0/body"], "de");
    assert_eq!(fallbacks["/sections/1/heading"], "en");
    assert!(!fallbacks.contains_key("/title"), "the title is de-AT's own");
    assert_eq!(body["id"], article["id"], "structure is shared");
    assert_eq!(
        body["version"],
        article["version"].as_i64().unwrap() + 2,
        "each write is a version"
    );

    // Anonymous readers get the fallbacks until a translation is published.
    let anonymous = get(&service, &format!("{SEED}?locale=de-AT")).await.json();
    assert_eq!(anonymous["title"], article["title"]);
    assert_eq!(anonymous["fallbacks"]["/title"], "en");
    let etag = reply.header("etag").unwrap().to_owned();
    publish_translation(&service, &editor, "de", &etag).await;
    let anonymous = get(&service, &format!("{SEED}?locale=de-AT")).await.json();
    assert_eq!(anonymous["summary"], "Microneedling ist eine beliebte Hautbehandlung.");
    assert_eq!(anonymous["title"], article["title"], "de-AT is still a draft");
    assert_eq!(anonymous["fallbacks"]["/title"], "en");
    assert_eq!(anonymous["fallbacks"]["/summary"], "de");

    // One section and one item read on their own point into their own body.
    let section = get(&service, &format!("{SEED}/sections/steps?locale=de-AT"))
        .await
        .json();
    assert_eq!(section["locale"], "de-AT");
    assert_eq!(section["fallbacks"]["/items/0/body"], "de");
    assert_eq!(section["fallbacks"]["/heading"], "en");
    let item_id = section["items"][0]["id"].as_str().unwrap();
    let item = get(&service, &format!("{SEED}/sections/steps/items/{item_id}?locale=de"))
        .await
        .json();
    assert_eq!(
        item["body"],
        "Vor der Behandlung ist ein Beratungsgespräch unerlässlich."
    );
    assert_eq!(item["fallbacks"], json!({"/title": "en"}));
    let list = get(&service, "/v1/articles?locale=de").await.json();
    assert_eq!(list["locale"], "de");
    assert_eq!(
        list["items"][0]["summary"],
        "Microneedling ist eine beliebte Hautbehandlung."
    );
    assert_eq!(list["fallbacks"]["/items/0/title"], "en");
}

#[actix_web::test]
async fn accept_language_is_negotiated_and_the_default_reads_as_before() {
    let app = TestApp::new().await;
    let admin = app.token("admin", lamina::auth::Role::Admin).await;
    let service = app.service().await;
    let before = get(&service, SEED).await;
    german(&service, &admin).await;

    // No ?locale and no Accept-Language: today's bytes, plus the two fields.
    let plain = get(&service, SEED).await;
    let mut expected = before.json();
    expected["locale"] = json!("en");
    expected["fallbacks"] = json!({});
    assert_eq!(plain.json(), expected);
    assert_eq!(
        plain.body[..before.body.len() - 1],
        before.body[..before.body.len() - 1]
    );
    assert_eq!(plain.header("etag"), before.header("etag"));
    assert_eq!(plain.header("content-language"), Some("en"));
    assert!(plain.header("vary").unwrap().contains("Accept-Language"));
    assert_eq!(
        plain.header("content-location"),
        Some("/v1/articles/explore-micro-needling-for-flawless-skin-today?locale=en")
    );

    let negotiated = send(
        &service,
        read(SEED, None, &[("Accept-Language", "fr;q=0.9, de-AT;q=0.8, en;q=0.1")]),
    )
    .await;
    assert_eq!(negotiated.header("content-language"), Some("de-AT"));
    assert_eq!(negotiated.json()["locale"], "de-AT");
    assert!(negotiated.header("vary").unwrap().contains("Accept-Language"));
    assert!(
        negotiated
            .header("content-location")
            .unwrap()
            .ends_with("?locale=de-AT")
    );
    let truncated = send(&service, read(SEED, None, &[("Accept-Language", "de-CH")])).await;
    assert_eq!(truncated.json()["locale"], "de");
    let nothing = send(&service, read(SEED, None, &[("Accept-Language", "fr, it;q=0.5")])).await;
    assert_eq!(nothing.json()["locale"], "en");

    // ?locale wins over Accept-Language; an unknown one is a 400.
    let explicit = send(
        &service,
        read(&format!("{SEED}?locale=de"), None, &[("Accept-Language", "de-AT")]),
    )
    .await;
    assert_eq!(explicit.json()["locale"], "de");
    assert!(!explicit.header("vary").unwrap().contains("Accept-Language"));
    get_problem(&service, &format!("{SEED}?locale=fr"), 400, "unknown_locale").await;
    get_problem(&service, &format!("{SEED}?locale=de-at"), 400, "unknown_locale").await;

    // Each locale's answer has its own tag and revalidates on its own.
    let de_etag = explicit.header("etag").unwrap().to_owned();
    assert_ne!(Some(de_etag.as_str()), plain.header("etag"));
    let revalidated = send(
        &service,
        read(&format!("{SEED}?locale=de"), None, &[("If-None-Match", &de_etag)]),
    )
    .await;
    revalidated.assert_status(304);
    assert_eq!(revalidated.header("content-language"), Some("de"));
    let other = send(
        &service,
        read(&format!("{SEED}?locale=de-AT"), None, &[("If-None-Match", &de_etag)]),
    )
    .await;
    other.assert_status(200);
}

#[actix_web::test]
async fn a_write_in_another_locale_changes_text_only() {
    let (app, _admin, editor, service) = in_german().await;
    let article = get(&service, SEED).await.json();
    let steps = crate::common::in_default_locale(get(&service, &format!("{SEED}/sections/steps")).await.json());
    let path = format!("{SEED}/sections/steps?locale=de");

    // Structure: a removed item, a reordered one, a new kind, a changed status.
    let mut removed = steps.clone();
    removed["items"].as_array_mut().unwrap().pop();
    let mut reordered = steps.clone();
    reordered["items"].as_array_mut().unwrap().swap(0, 1);
    let mut added = steps.clone();
    added["items"]
        .as_array_mut()
        .unwrap()
        .push(json!({"title": "Neu", "body": "Neu."}));
    let mut status = article.clone();
    status["status"] = json!("draft");
    for (path, body, pointer) in [
        (path.as_str(), &removed, "/items"),
        (path.as_str(), &reordered, "/items/0/id"),
        (path.as_str(), &added, "/items"),
        (&format!("{SEED}?locale=de") as &str, &status, "/status"),
    ] {
        let problem = put_over(&service, path, &editor, body)
            .await
            .assert_problem(422, "validation_failed");
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["pointer"] == pointer),
            "{pointer}: {problem}"
        );
    }
    let texts: i64 = {
        use diesel::QueryDsl;
        use diesel_async::RunQueryDsl;
        lamina::db::schema::translations::table
            .count()
            .get_result(&mut app.db.conn().await)
            .await
            .unwrap()
    };
    assert_eq!(texts, 0, "nothing was stored");
    assert_eq!(get(&service, SEED).await.json(), article, "nor changed");

    // A section in German, then one text removed by null: it falls back.
    let mut german_steps = steps.clone();
    german_steps["heading"] = json!("Wie funktioniert Microneedling?");
    german_steps["items"][1]["title"] = json!("Reinigung");
    let reply = put_over(&service, &path, &editor, &german_steps).await;
    reply.assert_status(200);
    let written = reply.json();
    assert_eq!(written["locale"], "de");
    assert_eq!(written["heading"], "Wie funktioniert Microneedling?");
    assert_eq!(written["fallbacks"]["/items/0/title"], "en");
    assert!(written["fallbacks"].get("/heading").is_none());
    german_steps["heading"] = Value::Null;
    let reply = put_if_match(&service, &path, &editor, reply.header("etag").unwrap(), &german_steps).await;
    reply.assert_status(200);
    assert_eq!(reply.json()["heading"], steps["heading"]);
    assert_eq!(reply.json()["fallbacks"]["/heading"], "en");
    assert_eq!(reply.json()["items"][1]["title"], "Reinigung");

    // A German text is not a new English version of anything.
    let english = get(&service, SEED).await.json();
    assert_eq!(english["sections"][1]["heading"], steps["heading"]);
    assert_eq!(english["sections"][1]["items"][1]["title"], steps["items"][1]["title"]);
}

#[actix_web::test]
async fn translation_status_names_missing_and_outdated_texts() {
    let (_app, _admin, editor, service) = in_german().await;
    let article = get(&service, SEED).await.json();
    let body = translated(
        &article,
        &[("/title", "Microneedling"), ("/summary", "Eine Behandlung.")],
    );
    write_in_locale(&service, &editor, "de", &body).await;

    let status = |token: Option<&str>| {
        let request = read(&format!("{SEED}/translations"), token, &[]);
        async { send(&service, request).await }
    };
    status(None).await.assert_problem(401, "unauthorized");
    let report = status(Some(&editor)).await.json();
    assert_eq!(report[1]["locale"], "de-AT", "every locale but the default, in order");
    let de = report[0].clone();
    assert_eq!(de["locale"], "de");
    assert_eq!(de["translated"], 2);
    assert_eq!(de["outdated"], 0);
    assert_eq!(de["status"], "draft");
    let missing = de["missing"].as_u64().unwrap();
    assert!(missing > 50, "{de}");
    assert!(
        de["missing_pointers"]
            .as_array()
            .unwrap()
            .contains(&json!("/sections/1/heading"))
    );

    // The English summary changes: the German one is outdated until written again.
    let mut english = as_write(&article);
    english["summary"] = json!("Micro needling is a popular treatment.");
    let reply = put_over(&service, SEED, &editor, &english).await;
    reply.assert_status(200);
    let de = status(Some(&editor)).await.json()[0].clone();
    assert_eq!(de["outdated_pointers"], json!(["/summary"]));
    let body = translated(
        &get(&service, SEED).await.json(),
        &[("/title", "Microneedling"), ("/summary", "Eine beliebte Behandlung.")],
    );
    write_in_locale(&service, &editor, "de", &body).await;
    let de = status(Some(&editor)).await.json()[0].clone();
    assert_eq!(de["outdated"], 0, "{de}");
    assert_eq!(de["translated"], 2);
}

#[actix_web::test]
async fn a_change_to_a_text_a_locale_falls_back_to_reaches_its_readers() {
    let (_app, _admin, editor, service) = in_german().await;
    let cached = get(&service, &format!("{SEED}/sections/overview?locale=de-AT")).await;
    assert_eq!(cached.json()["fallbacks"]["/heading"], "en");
    let section = get(&service, &format!("{SEED}/sections/overview")).await.json();
    let changed = json!({"kind": "overview", "heading": "What Is Micro Needling, Really?", "body": section["body"]});
    let reply = put_over(&service, &format!("{SEED}/sections/overview"), &editor, &changed).await;
    reply.assert_status(200);
    let after = get(&service, &format!("{SEED}/sections/overview?locale=de-AT")).await;
    assert_eq!(after.json()["heading"], "What Is Micro Needling, Really?");
    assert_ne!(after.header("etag"), cached.header("etag"));
}

#[actix_web::test]
async fn revisions_record_the_locale_and_a_restore_brings_back_every_locale() {
    let (_app, _admin, editor, service) = in_german().await;
    let article = get(&service, SEED).await.json();
    let body = translated(&article, &[("/title", "Microneedling")]);
    write_in_locale(&service, &editor, "de", &body).await;
    let revisions = send(&service, read(&format!("{SEED}/revisions"), Some(&editor), &[]))
        .await
        .json();
    assert_eq!(
        revisions["items"][0]["locale"], "de",
        "a revision says the locale of its write"
    );
    assert_eq!(
        revisions["items"][1]["locale"],
        Value::Null,
        "the default's writes say null"
    );
    let german_revision = revisions["items"][0]["id"].as_str().unwrap().to_owned();

    let body = translated(&article, &[("/title", "Mikronadelung")]);
    write_in_locale(&service, &editor, "de", &body).await;
    assert_eq!(
        send(&service, read(&format!("{SEED}?locale=de"), Some(&editor), &[]))
            .await
            .json()["title"],
        "Mikronadelung"
    );
    let restore = write_if_match(
        &service,
        Method::POST,
        &format!("{SEED}/revisions/{german_revision}/restore"),
        &editor,
        "*",
        &json!({}),
    )
    .await;
    restore.assert_status(200);
    let restored = send(&service, read(&format!("{SEED}?locale=de"), Some(&editor), &[]))
        .await
        .json();
    assert_eq!(restored["title"], "Microneedling");
    assert_eq!(restored["summary"], article["summary"]);
}

#[actix_web::test]
async fn sync_in_a_locale_delivers_its_reads_and_the_changes_it_falls_back_to() {
    let (_app, _admin, editor, service) = in_german().await;
    let article = get(&service, SEED).await.json();
    let body = translated(&article, &[("/title", "Microneedling für makellose Haut")]);
    let reply = write_in_locale(&service, &editor, "de", &body).await;
    let etag = reply.header("etag").unwrap().to_owned();
    publish_translation(&service, &editor, "de", &etag).await;

    // The initial sync in German gives the article as ?locale=de reads it.
    let initial = get(&service, "/v1/sync?locale=de").await;
    assert_eq!(initial.header("content-language"), Some("de"));
    let page = initial.json();
    let entry = &page["entries"][0]["article"];
    assert_eq!(entry, &get(&service, &format!("{SEED}?locale=de")).await.json());
    assert_eq!(entry["title"], "Microneedling für makellose Haut");
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();

    // An English change to a text German falls back to is a German change.
    let overview = get(&service, &format!("{SEED}/sections/overview")).await.json();
    let changed = json!({"kind": "overview", "heading": "What Micro Needling Is", "body": overview["body"]});
    let reply = put_over(&service, &format!("{SEED}/sections/overview"), &editor, &changed).await;
    reply.assert_status(200);
    let delta = get(&service, &format!("/v1/sync?locale=de&cursor={cursor}"))
        .await
        .json();
    let entry = &delta["entries"][0]["article"];
    assert_eq!(entry["locale"], "de");
    assert_eq!(entry["title"], "Microneedling für makellose Haut");
    assert_eq!(entry["sections"][0]["heading"], "What Micro Needling Is");
    assert_eq!(entry["fallbacks"]["/sections/0/heading"], "en");
    get_problem(&service, "/v1/sync?locale=xx", 400, "unknown_locale").await;
}

#[actix_web::test]
async fn a_release_stages_translations_and_publishes_them_with_its_structure() {
    use crate::common::{call_if_match, get_as};
    let (_app, _admin, editor, service) = in_german().await;
    let (release, _) = create_release(&service, &editor, "Auf Deutsch").await;
    let steps = crate::common::in_default_locale(get(&service, &format!("{SEED}/sections/steps")).await.json());
    let staged_steps = format!("{release}{}/sections/steps", &SEED[3..]);

    // A translation that changes structure is refused, as a live one is; an unknown locale too.
    let mut reordered = steps.clone();
    reordered["items"].as_array_mut().unwrap().swap(0, 1);
    put_as(&service, &format!("{staged_steps}?locale=de"), &editor, &reordered)
        .await
        .assert_problem(422, "validation_failed");
    put_as(&service, &format!("{staged_steps}?locale=fr"), &editor, &steps)
        .await
        .assert_problem(400, "unknown_locale");

    // The German heading, and an English change to the same section, staged together.
    let mut german_steps = steps.clone();
    german_steps["heading"] = json!("Wie funktioniert Microneedling?");
    let reply = put_as(&service, &format!("{staged_steps}?locale=de"), &editor, &german_steps).await;
    reply.assert_status(200);
    let mut english_steps = steps.clone();
    english_steps["intro"] = json!("Staged with its translation.");
    for key in ["id", "position", "version", "updated_at"] {
        english_steps.as_object_mut().unwrap().remove(key);
    }
    let reply = put_as(&service, &staged_steps, &editor, &english_steps).await;
    reply.assert_status(200);
    let items = reply.json()["items"].clone();
    let locales: Vec<&Value> = items.as_array().unwrap().iter().map(|item| &item["locale"]).collect();
    assert_eq!(locales, [&json!("de"), &Value::Null], "{items}");

    // A staged translation of the whole article, then unstaged in its locale only.
    let article = get(&service, SEED).await.json();
    let staged_article = format!("{release}{}", &SEED[3..]);
    let german_article = translated(&as_write(&article), &[("/title", "Microneedling entdecken")]);
    let reply = put_as(
        &service,
        &format!("{staged_article}?locale=de"),
        &editor,
        &german_article,
    )
    .await;
    reply.assert_status(200);
    assert_eq!(reply.json()["items"].as_array().unwrap().len(), 3);
    let german = format!("{staged_article}?locale=de");
    let reply = call_as(&service, Method::DELETE, &german, &editor).await;
    reply.assert_status(200);
    assert_eq!(reply.json()["items"], items, "only the German article was unstaged");

    // Nothing is live before publishing.
    let live = get_as(&service, &format!("{SEED}/sections/steps?locale=de"), &editor)
        .await
        .json();
    assert_eq!(live["heading"], steps["heading"]);
    assert_eq!(live["fallbacks"]["/heading"], "en");

    let published = call_if_match(&service, Method::POST, &format!("{release}/publish"), &editor, "*").await;
    published.assert_status(200);
    let german = get_as(&service, &format!("{SEED}/sections/steps?locale=de"), &editor)
        .await
        .json();
    assert_eq!(german["heading"], "Wie funktioniert Microneedling?");
    assert!(german["fallbacks"].get("/heading").is_none(), "{german}");
    assert_eq!(
        german["intro"], "Staged with its translation.",
        "the English change, which German falls back to"
    );
    let english = get(&service, &format!("{SEED}/sections/steps")).await.json();
    assert_eq!(english["heading"], steps["heading"], "English keeps its heading");
    assert_eq!(english["intro"], "Staged with its translation.");
}

#[actix_web::test]
async fn a_write_may_send_back_locale_and_fallbacks_as_read_but_not_other_shapes() {
    let (_app, editor, service) = editing().await;
    let section = get(&service, &format!("{SEED}/sections/overview")).await.json();
    let mut body = json!({"kind": "overview", "heading": section["heading"], "body": section["body"]});
    for (key, value, pointer) in [
        ("fallbacks", json!([null, null]), "/fallbacks"),
        ("fallbacks", json!(null), "/fallbacks"),
        ("fallbacks", json!({"/heading": 1}), "/fallbacks"),
        ("locale", json!(7), "/locale"),
    ] {
        let mut wrong = body.clone();
        wrong[key] = value;
        let problem = put_over(&service, &format!("{SEED}/sections/overview"), &editor, &wrong)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }
    body["locale"] = json!("en");
    body["fallbacks"] = json!({"/heading": "en"});
    let reply = put_over(&service, &format!("{SEED}/sections/overview"), &editor, &body).await;
    reply.assert_status(200);
}

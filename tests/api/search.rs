//! Search (API.md §14): every text found at its pointer, stems, accents,
//! prefixes, exclusions, visibility, locales, paging, facets, suggestions,
//! bad queries, caching and the anonymous rate limit.

use std::collections::HashSet;

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::common::{
    SEED, TestService, call_if_match, create_release, editing, editing_two_nodes, editing_with, get, get_as,
    get_problem, get_with, publish_translation, put_as, put_over, serving, write_as, write_in_locale,
};

/// `/v1/search?…` with `q` (and more) encoded.
fn search_path(q: &str, rest: &str) -> String {
    let mut url = String::from("/v1/search?q=");
    for byte in q.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => url.push(char::from(*byte)),
            _ => url.push_str(&format!("%{byte:02X}")),
        }
    }
    if !rest.is_empty() {
        url.push('&');
        url.push_str(rest);
    }
    url
}

/// A successful search's body, anonymous or with `token`.
async fn search<S: TestService<B>, B: actix_web::body::MessageBody>(
    service: &S,
    q: &str,
    rest: &str,
    token: Option<&str>,
) -> Value {
    let path = search_path(q, rest);
    let reply = match token {
        Some(token) => get_as(service, &path, token).await,
        None => get(service, &path).await,
    };
    assert_eq!(reply.status, 200, "{path}: {}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

/// The pointers of a search's hits, in order.
fn pointers(found: &Value) -> Vec<String> {
    found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["pointer"].as_str().unwrap().to_owned())
        .collect()
}

/// Every text of an article as read, with its pointer.
fn texts(article: &Value) -> Vec<(String, String)> {
    fn walk(value: &Value, pointer: String, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(object) => {
                for (key, value) in object {
                    if matches!(
                        key.as_str(),
                        "id" | "slug"
                            | "author"
                            | "status"
                            | "kind"
                            | "phase"
                            | "published_on"
                            | "created_at"
                            | "updated_at"
                            | "locale"
                            | "fallbacks"
                    ) {
                        continue;
                    }
                    walk(value, format!("{pointer}/{key}"), out);
                }
            }
            Value::Array(values) => {
                for (index, value) in values.iter().enumerate() {
                    walk(value, format!("{pointer}/{index}"), out);
                }
            }
            Value::String(text) => out.push((pointer, text.clone())),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(article, String::new(), &mut out);
    out
}

/// A small published article (or draft) with one steps section.
fn article(title: &str, status: &str, step_body: &str) -> Value {
    json!({
        "title": title, "author": "tester", "published_on": "2031-05-01", "status": status,
        "summary": "A short summary.",
        "sections": [{"kind": "steps", "heading": "How it goes", "items": [
            {"title": "First step", "body": step_body}
        ]}]
    })
}

/// Creates the article `slug` with `body`, which must succeed.
async fn create<S: TestService<B>, B: actix_web::body::MessageBody>(
    service: &S,
    token: &str,
    slug: &str,
    body: &Value,
) {
    let created = write_as(service, Method::PUT, &format!("/v1/articles/{slug}"), token, body).await;
    created.assert_status(201);
}

#[actix_web::test]
async fn every_sentence_of_the_seed_is_found_at_its_pointer() {
    let (_app, token, service) = editing().await;
    let seed = get(&service, SEED).await.json();
    let texts = texts(&seed);
    assert!(texts.len() > 40, "{texts:?}");
    let mut searched = 0;
    for (pointer, text) in &texts {
        for sentence in text.split(". ") {
            // A phrase of up to 12 words of the sentence.
            let phrase: Vec<&str> = sentence.split_whitespace().take(12).collect();
            let phrase = phrase.join(" ").replace('"', "");
            if phrase.chars().filter(|c| c.is_alphabetic()).count() < 3 {
                continue;
            }
            let found = search(&service, &format!("\"{phrase}\""), "limit=50", Some(&token)).await;
            assert!(
                pointers(&found).contains(pointer),
                "{phrase:?} of {pointer} not found: {found}"
            );
            searched += 1;
        }
    }
    assert!(searched > 80, "{searched}");
}

#[actix_web::test]
async fn the_third_aftercare_tip_is_found_with_its_pointer_url_and_snippet() {
    let (_app, service) = serving().await;
    let seed = get(&service, SEED).await.json();
    let (index, tips) = seed["sections"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .find(|(_, section)| section["kind"] == "aftercare_tips")
        .unwrap();
    let tip = &tips["items"][2];
    assert_eq!(tip["title"], "Avoid Sun Exposure");

    let found = search(&service, "protect it from the sun", "", None).await;
    let pointer = format!("/sections/{index}/items/2/body");
    assert_eq!(found["hits"][0]["pointer"], pointer.as_str(), "{found}");
    let hit = &found["hits"][0];
    assert_eq!(hit["article"]["id"], seed["id"]);
    assert_eq!(hit["article"]["slug"], seed["slug"]);
    assert_eq!(hit["article"]["title"], seed["title"]);
    assert_eq!(hit["section"]["id"], tips["id"]);
    assert_eq!(hit["section"]["kind"], "aftercare_tips");
    assert_eq!(hit["section"]["heading"], tips["heading"]);
    assert_eq!(hit["item"]["id"], tip["id"]);
    assert_eq!(hit["field"], "body");
    assert!(hit["score"].as_f64().unwrap() > 0.0, "{hit}");
    let url = hit["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("{SEED}/sections/aftercare_tips/items/{}", tip["id"].as_str().unwrap())
    );
    let item = get(&service, url).await;
    item.assert_status(200);
    assert_eq!(item.json()["body"], tip["body"]);
    // The snippet: segments of the text as written, the matches marked, no HTML.
    let snippet = hit["snippet"].as_array().unwrap();
    let joined: String = snippet
        .iter()
        .map(|segment| segment["text"].as_str().unwrap())
        .collect();
    assert!(tip["body"].as_str().unwrap().contains(&joined), "{joined:?}");
    let matched: Vec<&str> = snippet
        .iter()
        .filter(|segment| segment["match"] == true)
        .map(|segment| segment["text"].as_str().unwrap())
        .collect();
    assert!(matched.contains(&"protect") && matched.contains(&"sun"), "{snippet:?}");
    assert!(snippet.iter().any(|segment| segment["match"] == false));
    assert!(!joined.contains('<'));
    for segment in snippet {
        assert_eq!(segment.as_object().unwrap().len(), 2, "{segment}");
    }
    // Titles rank first: the item's title comes before its body.
    let found = search(&service, "sun exposure", "", None).await;
    assert_eq!(
        found["hits"][0]["pointer"],
        format!("/sections/{index}/items/2/title"),
        "{found}"
    );
    assert_eq!(found["hits"][0]["field"], "title");
}

#[actix_web::test]
async fn words_match_by_stem_accents_fold_and_the_last_word_is_a_prefix() {
    let (_app, token, service) = editing().await;
    // The seed says "sunscreen"; "sunscreens" finds it, and the other way round.
    let found = search(&service, "sunscreens", "", None).await;
    let sunscreen = pointers(&found);
    assert_eq!(found["total"], 1, "{found}");
    let matched: Vec<&Value> = found["hits"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|segment| segment["match"] == true)
        .collect();
    assert_eq!(matched[0]["text"], "sunscreen");
    // Accents fold both ways.
    create(
        &service,
        &token,
        "creme",
        &article("Crème brûlée facials", "published", "Apply the crème gently."),
    )
    .await;
    let found = search(&service, "creme brulee", "", None).await;
    assert_eq!(found["hits"][0]["pointer"], "/title", "{found}");
    assert_eq!(found["hits"][0]["article"]["slug"], "creme");
    let found = search(&service, "sünscreen", "", None).await;
    assert_eq!(pointers(&found), sunscreen);
    // The last word as a prefix, while typing; not once it is finished or quoted.
    let typing = search(&service, "micro needl", "", None).await;
    assert!(typing["total"].as_i64().unwrap() > 10, "{typing}");
    assert_eq!(search(&service, "sunscr", "", None).await["total"], 1);
    assert_eq!(search(&service, "sunscr ", "", None).await["total"], 0);
    assert_eq!(search(&service, "\"sunscr\"", "", None).await["total"], 0);
    // Excluded words.
    let sun = pointers(&search(&service, "sun ", "limit=50", None).await);
    let without = pointers(&search(&service, "sun -sunscreen", "limit=50", None).await);
    assert!(sun.contains(&sunscreen[0]));
    assert!(!without.contains(&sunscreen[0]), "{without:?}");
    assert_eq!(without.len(), sun.len() - 1);
}

#[actix_web::test]
async fn drafts_are_invisible_anonymously_and_found_with_a_token_at_once_on_another_node() {
    let (_app, token, (_, writer), (_, reader)) = editing_two_nodes().await;
    let body = article("Zanzibarite masks", "draft", "Spread the zanzibarite paste evenly.");
    let created = write_as(&writer, Method::PUT, "/v1/articles/masks", &token, &body).await;
    created.assert_status(201);
    // Anonymous: nothing, not in hits, totals, facets or suggestions.
    let anonymous = search(&reader, "zanzibarite", "", None).await;
    assert_eq!(
        anonymous,
        json!({"hits": [], "facets": {"kinds": {}}, "total": 0, "suggestion": null, "next_cursor": null})
    );
    let near_miss = search(&reader, "zanzibarit", "", None).await;
    assert_eq!(near_miss["suggestion"], Value::Null, "{near_miss}");
    // Any token, on the other node, by the next request.
    let found = search(&reader, "zanzibarite", "", Some(&token)).await;
    assert_eq!(found["total"], 2, "{found}");
    assert_eq!(found["hits"][0]["pointer"], "/title");
    assert_eq!(found["hits"][1]["pointer"], "/sections/0/items/0/body");
    assert_eq!(found["facets"]["kinds"], json!({"steps": 1}));
    let misspelled = search(&reader, "zanzibarit paste", "", Some(&token)).await;
    assert_eq!(misspelled["total"], 1, "the last word is a prefix: {misspelled}");

    // Publishing shows it; an edit replaces the old text at once; a delete removes it.
    let mut published = body.clone();
    published["status"] = json!("published");
    published["sections"][0]["items"][0]["id"] = created.json()["sections"][0]["items"][0]["id"].clone();
    published["sections"][0]["items"][0]["body"] = json!("Spread the kaolinite paste evenly.");
    let reply = put_over(&writer, "/v1/articles/masks", &token, &published).await;
    reply.assert_status(200);
    assert_eq!(search(&reader, "zanzibarite", "", None).await["total"], 1);
    assert_eq!(search(&reader, "kaolinite", "", None).await["total"], 1);
    // Restoring the first revision brings the old text back, and only it.
    let revisions = get_as(&reader, "/v1/articles/masks/revisions", &token).await.json();
    let first = revisions["items"].as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let restored = call_if_match(
        &writer,
        Method::POST,
        &format!("/v1/articles/masks/revisions/{first}/restore"),
        &token,
        "*",
    )
    .await;
    restored.assert_status(200);
    assert_eq!(search(&reader, "kaolinite", "", Some(&token)).await["total"], 0);
    assert_eq!(search(&reader, "zanzibarite", "", Some(&token)).await["total"], 2);
    let deleted = call_if_match(&writer, Method::DELETE, "/v1/articles/masks", &token, "*").await;
    deleted.assert_status(204);
    assert_eq!(search(&reader, "zanzibarite", "", Some(&token)).await["total"], 0);
}

#[actix_web::test]
async fn a_german_text_is_found_in_german_once_its_translation_is_published() {
    let (app, editor, service) = editing().await;
    let admin = app.token("admin", lamina::auth::Role::Admin).await;
    let reply = put_as(
        &service,
        "/v1/locales/de",
        &admin,
        &json!({"name": "Deutsch", "fallback": null}),
    )
    .await;
    reply.assert_status(201);
    let mut german = get(&service, SEED).await.json();
    german["summary"] = json!("Microneedling ist eine beliebte Behandlung für makellose Häute.");
    let reply = write_in_locale(&service, &editor, "de", &german).await;
    let etag = reply.header("etag").unwrap().to_owned();

    // German stems ("makellosen" finds "makellose"); a draft translation only with a token.
    let found = search(&service, "makellosen", "locale=de", Some(&editor)).await;
    assert_eq!(pointers(&found), ["/summary"], "{found}");
    assert_eq!(found["hits"][0]["url"], format!("{SEED}?locale=de"));
    assert_eq!(search(&service, "makellosen", "locale=de", None).await["total"], 0);
    // The German text replaces the English one in German searches; other texts fall back.
    let english = search(&service, "popular skincare treatment", "locale=de", Some(&editor)).await;
    assert!(!pointers(&english).contains(&"/summary".to_owned()), "{english}");
    assert!(search(&service, "collagen", "locale=de", Some(&editor)).await["total"].as_i64() > Some(0));
    // English searches never see German text.
    assert_eq!(search(&service, "makellosen", "", Some(&editor)).await["total"], 0);

    publish_translation(&service, &editor, "de", &etag).await;
    let reply = get(&service, &search_path("Häute", "locale=de")).await;
    reply.assert_status(200);
    assert_eq!(reply.header("content-language"), Some("de"));
    assert_eq!(pointers(&reply.json()), ["/summary"], "{}", reply.json());
}

/// Rows of the search index that a rebuild from what is stored would not
/// make, plus rows it would make that are missing, and the rows indexed.
async fn index_drift(app: &crate::common::TestApp) -> (i64, i64) {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Drift {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        drift: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        indexed: i64,
    }
    let drift: Drift = diesel::sql_query(
        "WITH indexed AS (
             SELECT article_id, locale, key, section_id, section_kind, item_id, field, pointer,
                    rank_weight, public, published_on, text, document FROM search_texts
         ), rebuilt AS (
             SELECT a.id, f.*, to_tsvector(search_config(f.locale), f.text)
               FROM articles a CROSS JOIN LATERAL search_texts_of(a.id) f
         )
         SELECT (SELECT count(*) FROM ((TABLE indexed EXCEPT TABLE rebuilt)
                                       UNION ALL (TABLE rebuilt EXCEPT TABLE indexed)) d) AS drift,
                (SELECT count(*) FROM indexed) AS indexed",
    )
    .get_result(&mut app.db.conn().await)
    .await
    .unwrap();
    (drift.drift, drift.indexed)
}

/// A write re-indexes only the texts it changed; what is indexed after
/// edits, reorders, a translation, publishing and a deletion is exactly what
/// indexing everything again makes.
#[actix_web::test]
async fn the_index_after_writes_is_what_indexing_everything_makes() {
    let (app, editor, service) = editing().await;
    let (drift, indexed) = index_drift(&app).await;
    assert_eq!(drift, 0);
    assert!(indexed > 50, "{indexed} rows indexed");
    let admin = app.token("admin", lamina::auth::Role::Admin).await;
    put_as(
        &service,
        "/v1/locales/de",
        &admin,
        &json!({"name": "Deutsch", "fallback": null}),
    )
    .await
    .assert_status(201);

    // A heading changed and the items reversed: their pointers move.
    let path = format!("{SEED}/sections/steps");
    let read = get_as(&service, &path, &editor).await.json();
    let mut items: Vec<Value> = read["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| json!({"id": item["id"], "title": item["title"], "body": item["body"]}))
        .collect();
    items.reverse();
    let mut steps =
        json!({"kind": "steps", "heading": "The steps, in a new order", "intro": read["intro"], "items": items});
    put_over(&service, &path, &editor, &steps).await.assert_status(200);
    assert_eq!(index_drift(&app).await.0, 0, "after the section PUT");

    // A German summary, then published.
    let mut german = get(&service, SEED).await.json();
    german["summary"] = json!("Microneedling ist eine beliebte Behandlung für makellose Häute.");
    let etag = write_in_locale(&service, &editor, "de", &german)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    assert_eq!(index_drift(&app).await.0, 0, "after the translation");
    publish_translation(&service, &editor, "de", &etag).await;
    assert_eq!(index_drift(&app).await.0, 0, "after publishing it");

    // An item removed, and a new article.
    steps["items"].as_array_mut().unwrap().pop();
    put_over(&service, &path, &editor, &steps).await.assert_status(200);
    create(
        &service,
        &editor,
        "zebra-care",
        &article("Zebra care", "draft", "Brush daily."),
    )
    .await;
    let (drift, after) = index_drift(&app).await;
    assert_eq!(drift, 0, "after an item removal and a new article");
    assert!(after > indexed, "{after} rows indexed, {indexed} before");
}

#[actix_web::test]
async fn kinds_filter_and_facets_agree_and_paging_returns_each_hit_once() {
    let (_app, service) = serving().await;
    let all = search(&service, "skin", "limit=50", None).await;
    let total = all["total"].as_i64().unwrap();
    assert!(total > 20, "{all}");
    let facets = all["facets"]["kinds"].as_object().unwrap();
    let in_sections: i64 = facets.values().map(|n| n.as_i64().unwrap()).sum();
    assert!(in_sections < total, "the title and summary are in no section");
    // Ranking: titles, headings, item titles, then other texts.
    let weight = |pointer: &str| match pointer {
        "/title" => 1,
        _ if pointer.ends_with("/heading") || pointer.contains("/phase_headings/") => 2,
        _ if pointer.contains("/items/") && pointer.ends_with("/title") => 3,
        _ => 4,
    };
    let order: Vec<i32> = pointers(&all).iter().map(|pointer| weight(pointer)).collect();
    assert!(order.windows(2).all(|pair| pair[0] <= pair[1]), "{order:?}");

    // Pages of 4 give every hit once, in the same order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let rest = crate::common::from_cursor("limit=4", cursor.as_deref());
        let page = search(&service, "skin", &rest, None).await;
        assert_eq!(page["total"], total);
        seen.extend(pointers(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, total);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
    assert_eq!(seen[..], pointers(&all)[..seen.len().min(50)]);

    for (kind, count) in facets {
        let only = search(&service, "skin", &format!("kinds={kind}&limit=50"), None).await;
        assert_eq!(&only["total"], count, "{kind}");
        assert_eq!(only["facets"], all["facets"]);
        assert!(
            only["hits"]
                .as_array()
                .unwrap()
                .iter()
                .all(|hit| hit["section"]["kind"] == kind.as_str())
        );
    }
    // A cursor of another search, or an edited one, is refused.
    let first = search(&service, "skin", "limit=2", None).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let foreign = search_path("collagen", &format!("cursor={cursor}"));
    get_problem(&service, &foreign, 400, "invalid_cursor").await;
    let mut edited = cursor.to_owned();
    edited.replace_range(..1, if cursor.starts_with('A') { "B" } else { "A" });
    let tampered = search_path("skin", &format!("limit=2&cursor={edited}"));
    get_problem(&service, &tampered, 400, "invalid_cursor").await;
    get_problem(&service, &search_path("skin", "kinds=bogus"), 400, "invalid_sections").await;
}

#[actix_web::test]
async fn a_misspelling_gets_a_suggestion_and_bad_queries_are_refused() {
    let (_app, service) = serving().await;
    let found = search(&service, "micro neddling", "", None).await;
    assert_eq!(found["total"], 0);
    assert_eq!(found["suggestion"], "micro needling", "{found}");
    let fixed = search(&service, found["suggestion"].as_str().unwrap(), "", None).await;
    assert!(fixed["total"].as_i64().unwrap() > 0);
    assert_eq!(fixed["suggestion"], Value::Null);
    assert_eq!(search(&service, "qwxzvbn", "", None).await["suggestion"], Value::Null);

    for q in ["", "   ", &"skin ".repeat(41), "the of and", "!!!", "a\u{1}b"] {
        get_problem(&service, &search_path(q, ""), 400, "invalid_query").await;
    }
    get_problem(&service, "/v1/search", 400, "invalid_query").await;
    get_problem(&service, &search_path("skin", "limit=51"), 400, "invalid_limit").await;
    let unknown_lang = search_path("skin", "lang=de");
    get_problem(&service, &unknown_lang, 400, "unknown_query_parameter").await;
    get_problem(&service, &search_path("skin", "locale=xx"), 400, "unknown_locale").await;
}

#[actix_web::test]
async fn anonymous_answers_are_cached_briefly_and_limited_per_address() {
    let (_app, token, service) = editing_with(|config| config.searches_per_minute = 3).await;
    let anonymous = get(&service, &search_path("skin", "")).await;
    anonymous.assert_status(200);
    assert_eq!(anonymous.header("cache-control"), Some("public, max-age=10"));
    assert_eq!(anonymous.header("content-language"), Some("en"));
    assert!(anonymous.header("vary").unwrap().contains("Accept-Language"));
    let etag = anonymous.etag();
    let again = get_with(&service, &search_path("skin", ""), &[("If-None-Match", &etag)]).await;
    again.assert_status(304);
    assert!(again.body.is_empty());
    let personal = get_as(&service, &search_path("skin", ""), &token).await;
    assert_eq!(personal.header("cache-control"), Some("private, no-store"));
    // The fourth anonymous search within the minute is refused; tokens are not limited.
    get(&service, &search_path("skin", "")).await;
    let limited = get(&service, &search_path("skin", "")).await;
    limited.assert_problem(429, "too_many_requests");
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    for _ in 0..5 {
        assert_eq!(get_as(&service, &search_path("skin", ""), &token).await.status, 200);
    }
}

#[actix_web::test]
async fn a_release_is_searchable_once_published_and_not_while_staged_or_previewed() {
    let (_app, token, service) = editing().await;
    let (release, _) = create_release(&service, &token, "Peels").await;
    let body = article(
        "Glycolic peels",
        "published",
        "Neutralise the glycolic acid after three minutes.",
    );
    let staged = put_as(&service, &format!("{release}/articles/peels"), &token, &body).await;
    assert!(staged.status.is_success(), "{}", String::from_utf8_lossy(&staged.body));
    // A preview applies the release in a transaction that is rolled back.
    let previewed = get_as(
        &service,
        &format!(
            "/v1/articles/peels?release={}",
            release.trim_start_matches("/v1/releases/")
        ),
        &token,
    )
    .await;
    previewed.assert_status(200);
    assert_eq!(search(&service, "glycolic", "", Some(&token)).await["total"], 0);

    let published = call_if_match(&service, Method::POST, &format!("{release}/publish"), &token, "*").await;
    published.assert_status(200);
    let found = search(&service, "glycolic", "", None).await;
    assert_eq!(pointers(&found), ["/title", "/sections/0/items/0/body"], "{found}");
    assert_eq!(found["hits"][0]["url"], "/v1/articles/peels");
    assert_eq!(found["hits"][1]["section"]["heading"], "How it goes");
}

#[actix_web::test]
async fn hostile_queries_are_answered_without_errors() {
    let (_app, service) = serving().await;
    for q in [
        "o'neil",
        "back\\slash",
        "foo:*",
        "(((",
        "<->",
        "a & b | !c",
        "e-mail",
        "foo@bar.com",
        "\"unterminated",
        "x:A",
        "日本語",
        "s",
        "-skin",
        "skin -skin",
        "or or or",
        "\u{feff}skin",
        "'",
        "%",
    ] {
        let reply = get(&service, &search_path(q, "")).await;
        assert!(
            reply.status == 200 || reply.status == 400,
            "{q:?}: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        if reply.status == 400 {
            reply.assert_problem(400, "invalid_query");
        }
    }
    let long = "skin or ".repeat(25);
    let reply = get(&service, &search_path(long.trim(), "")).await;
    reply.assert_status(200);
}

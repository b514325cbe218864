//! The read endpoints: list, article, sections, one section, one item.

use crate::common::{SEED, TestApp, TestDb, get, get_problem, in_default_locale, serving};
use serde_json::{Value, json};

/// Stores an article straight through the store (as the seed does).
pub async fn insert(db: &TestDb, slug: &str, published_on: &str, status: &str) {
    let body = json!({
        "title": format!("Article {slug}"),
        "author": "tester",
        "published_on": published_on,
        "status": status,
        "summary": "A short summary.",
        "sections": [
            {"kind": "overview", "heading": "What", "body": "Overview text."},
            {"kind": "risks", "heading": "Risks", "items": [{"title": "Redness", "body": "Goes away."}]}
        ]
    });
    let article = lamina::content::input::parse_article(&body, slug).expect("valid article");
    let mut conn = db.conn().await;
    lamina::content::store::insert_article(&mut conn, (uuid::Uuid::new_v4(), 1), slug, &article)
        .await
        .expect("insert");
}

#[actix_web::test]
async fn the_list_pages_newest_first_and_hides_drafts() {
    let app = TestApp::new().await;
    insert(&app.db, "newest", "2025-03-01", "published").await;
    insert(&app.db, "middle", "2025-01-01", "published").await;
    insert(&app.db, "secret", "2026-01-01", "draft").await;
    let service = app.service().await;

    let first = get(&service, "/v1/articles?limit=2").await;
    first.assert_status(200);
    assert_eq!(first.header("content-type"), Some("application/json"));
    let page = first.json();
    let slugs: Vec<&str> = crate::common::strings(&page["items"], "slug");
    assert_eq!(slugs, ["newest", "middle"]);
    assert!(
        page["items"][0].get("sections").is_none(),
        "summaries carry no sections"
    );
    assert_eq!(page["items"][0]["section_kinds"], json!(["overview", "risks"]));

    let cursor = page["next_cursor"].as_str().expect("a next page");
    let second = get(&service, &format!("/v1/articles?limit=2&cursor={cursor}"))
        .await
        .json();
    let slugs: Vec<&str> = crate::common::strings(&second["items"], "slug");
    assert_eq!(slugs, ["explore-micro-needling-for-flawless-skin-today"]);
    assert_eq!(second["next_cursor"], Value::Null);

    let all = get(&service, "/v1/articles").await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 3, "the draft is not listed");
    assert_eq!(
        get(&service, "/v1/articles/secret").await.status,
        404,
        "drafts are hidden from anonymous readers"
    );
}

#[actix_web::test]
async fn the_list_pages_through_articles_of_one_day_each_once() {
    let app = TestApp::new().await;
    for slug in ["same-day-a", "same-day-b", "same-day-c"] {
        insert(&app.db, slug, "2030-01-01", "published").await;
    }
    let service = app.service().await;
    let mut seen = Vec::new();
    let mut path = "/v1/articles?limit=1".to_owned();
    loop {
        let page = get(&service, &path).await.json();
        seen.extend(
            crate::common::strings(&page["items"], "slug")
                .into_iter()
                .map(str::to_owned),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/articles?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    let mut first_three = seen[..3].to_vec();
    first_three.sort();
    assert_eq!(first_three, ["same-day-a", "same-day-b", "same-day-c"], "{seen:?}");
    assert_eq!(&seen[3..], ["explore-micro-needling-for-flawless-skin-today"]);
}

#[actix_web::test]
async fn sections_can_be_selected_and_each_selection_has_its_own_etag() {
    let (_app, service) = serving().await;
    let whole = get(&service, SEED).await;
    let some = get(&service, &format!("{SEED}?sections=risks,steps")).await;
    some.assert_status(200);
    let some_json = some.json();
    let kinds: Vec<&str> = crate::common::strings(&some_json["sections"], "kind");
    assert_eq!(kinds, ["steps", "risks"], "article order, not query order");
    assert_ne!(whole.header("etag"), some.header("etag"));
    let same = get(&service, &format!("{SEED}?sections=steps,risks")).await;
    assert_eq!(
        same.header("etag"),
        some.header("etag"),
        "the same selection in another order is the same representation"
    );
    assert_eq!(
        some_json["word_count"],
        whole.json()["word_count"],
        "article metadata is whole"
    );
}

#[actix_web::test]
async fn sections_one_section_and_one_item() {
    let (_app, service) = serving().await;
    let article = get(&service, SEED).await.json();

    let sections = get(&service, &format!("{SEED}/sections")).await;
    sections.assert_status(200);
    let listed: Vec<Value> = sections
        .json()
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .map(in_default_locale)
        .collect();
    assert_eq!(Value::from(listed), article["sections"]);

    let steps = get(&service, &format!("{SEED}/sections/steps")).await;
    steps.assert_status(200);
    let steps_json = in_default_locale(steps.json());
    assert_eq!(steps_json, article["sections"][1]);
    assert_eq!(steps_json["kind"], "steps");
    assert_eq!(steps_json["items"][0]["title"], "Consultation");
    assert!(steps.header("etag").unwrap().starts_with("\"s."));

    let expectations = get(&service, &format!("{SEED}/sections/expectations")).await.json();
    assert_eq!(expectations["phase_headings"]["during"], "During the Treatment");
    assert_eq!(expectations["items"][2]["phase"], "during");

    let audiences = get(&service, &format!("{SEED}/sections/target_audiences")).await.json();
    assert_eq!(audiences["items"].as_array().unwrap().len(), 4);
    assert!(
        audiences["note"]
            .as_str()
            .unwrap()
            .starts_with("However, it’s essential")
    );

    let conclusion = get(&service, &format!("{SEED}/sections/conclusion")).await.json();
    assert!(
        conclusion["call_to_action"]
            .as_str()
            .unwrap()
            .starts_with("Take the first step")
    );
    assert!(conclusion.get("items").is_none());

    let id = steps_json["items"][2]["id"].as_str().unwrap();
    let item = get(&service, &format!("{SEED}/sections/steps/items/{id}")).await;
    item.assert_status(200);
    assert_eq!(in_default_locale(item.json()), steps_json["items"][2]);
    assert_eq!(item.json()["title"], "Micro Needling");

    let audience_id = audiences["items"][0]["id"].as_str().unwrap();
    let audience = get(
        &service,
        &format!("{SEED}/sections/target_audiences/items/{audience_id}"),
    )
    .await
    .json();
    assert_eq!(
        in_default_locale(audience),
        json!({"id": audience_id, "kind": "target_audiences", "description": "Have fine lines and wrinkles"})
    );
}

#[actix_web::test]
async fn unknown_things_are_404_problems() {
    let app = TestApp::new().await;
    insert(&app.db, "short", "2025-01-01", "published").await;
    let service = app.service().await;
    let steps = get(&service, &format!("{SEED}/sections/steps")).await.json();
    let step_id = steps["items"][0]["id"].as_str().unwrap().to_owned();

    get_problem(&service, "/v1/articles/no-such-article", 404, "article_not_found").await;
    let no_sections = "/v1/articles/no-such-article/sections";
    get_problem(&service, no_sections, 404, "article_not_found").await;
    get_problem(&service, "/v1/articles/Not_A_Slug", 404, "article_not_found").await;
    get_problem(&service, &format!("{SEED}/sections/bogus"), 404, "unknown_section_kind").await;
    get_problem(&service, "/v1/articles/short/sections/steps", 404, "section_not_found").await;
    let not_a_uuid = format!("{SEED}/sections/steps/items/not-a-uuid");
    get_problem(&service, &not_a_uuid, 404, "item_not_found").await;
    let other = uuid::Uuid::new_v4();
    let unknown_item = format!("{SEED}/sections/steps/items/{other}");
    get_problem(&service, &unknown_item, 404, "item_not_found").await;
    // A real item, asked for under another section.
    let misplaced_item = format!("{SEED}/sections/risks/items/{step_id}");
    get_problem(&service, &misplaced_item, 404, "item_not_found").await;
}

/// Paging with `?limit=1` over articles with random dates (the whole accepted
/// range, many on the same day) and random ids sees each exactly once, in
/// order; dates outside 1000-01-01..9999-12-31 are refused.
#[actix_web::test]
async fn paging_sees_every_article_exactly_once() {
    use std::collections::BTreeSet;
    let app = TestApp::new().await;
    let mut rng = fastrand::Rng::with_seed(0x1a31a);
    let mut expected: BTreeSet<String> = ["explore-micro-needling-for-flawless-skin-today".to_owned()].into();
    for n in 0..40 {
        let date = match rng.u8(0..4) {
            0 => "1000-01-01".to_owned(),
            1 => "9999-12-31".to_owned(),
            2 => "2024-11-24".to_owned(),
            _ => format!(
                "{:04}-{:02}-{:02}",
                rng.u16(1000..=9999),
                rng.u8(1..=12),
                rng.u8(1..=28)
            ),
        };
        let slug = format!("a{n}-{}", rng.u32(..));
        insert(&app.db, &slug, &date, "published").await;
        expected.insert(slug);
    }
    let service = app.service().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = crate::common::from_cursor("/v1/articles?limit=1", cursor.as_deref());
        let page = get(&service, &path).await.json();
        for item in page["items"].as_array().unwrap() {
            seen.push((
                item["published_on"].as_str().unwrap().to_owned(),
                item["slug"].as_str().unwrap().to_owned(),
            ));
        }
        assert!(seen.len() <= expected.len(), "paging loops: {seen:?}");
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let slugs: BTreeSet<String> = seen.iter().map(|(_, slug)| slug.clone()).collect();
    assert_eq!(slugs.len(), seen.len(), "an article was listed twice");
    assert_eq!(slugs, expected);
    assert!(seen.windows(2).all(|pair| pair[0].0 >= pair[1].0), "newest first");
}

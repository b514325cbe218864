//! The micro-needling article comes back whole, verbatim and in order.

use crate::common::{SEED, TestApp, get, serving};
use serde_json::Value;

/// A copy of `../shared/content/micro-needling-article.txt`, so a clone without
/// `shared/` beside it can run the tests; see `the_fixture_is_the_shared_source`.
const SOURCE: &str = include_str!("fixtures/micro-needling-article.txt");

#[test]
fn the_fixture_is_the_shared_source() {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/content/micro-needling-article.txt"
    );
    if let Ok(original) = std::fs::read_to_string(shared) {
        assert_eq!(
            original, SOURCE,
            "tests/api/fixtures/ differs from {shared}: copy it again"
        );
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}

/// Lays the article out the way the source post does, line by line.
fn render(article: &Value) -> Vec<String> {
    let month_day = {
        let date = chrono::NaiveDate::parse_from_str(text(&article["published_on"]), "%Y-%m-%d").unwrap();
        date.format("%b %-d").to_string()
    };
    let mut lines = vec![
        text(&article["title"]).to_owned(),
        format!("- {}", text(&article["author"])),
        format!("- {month_day}"),
        format!("- {} min read", article["reading_time_minutes"]),
        text(&article["summary"]).to_owned(),
    ];
    for section in article["sections"].as_array().unwrap() {
        lines.push(text(&section["heading"]).to_owned());
        for field in ["intro", "body"] {
            if let Some(value) = section[field].as_str() {
                lines.push(value.to_owned());
            }
        }
        let items = section["items"].as_array().cloned().unwrap_or_default();
        match text(&section["kind"]) {
            // Numbered titles, each followed by its body.
            "benefits" | "aftercare_tips" => {
                for (n, item) in items.iter().enumerate() {
                    lines.push(format!("{}. {}", n + 1, text(&item["title"])));
                    lines.push(text(&item["body"]).to_owned());
                }
            }
            "target_audiences" => lines.extend(items.iter().map(|item| text(&item["description"]).to_owned())),
            "expectations" => {
                let mut phase = "";
                for item in &items {
                    if text(&item["phase"]) != phase {
                        phase = text(&item["phase"]);
                        lines.push(text(&section["phase_headings"][phase]).to_owned());
                    }
                    lines.push(format!("{}: {}", text(&item["title"]), text(&item["body"])));
                }
            }
            _ => lines.extend(
                items
                    .iter()
                    .map(|item| format!("{}: {}", text(&item["title"]), text(&item["body"]))),
            ),
        }
        for field in ["note", "call_to_action"] {
            if let Some(value) = section[field].as_str() {
                lines.push(value.to_owned());
            }
        }
    }
    lines
}

#[actix_web::test]
async fn every_line_of_the_source_comes_back_verbatim_and_in_order() {
    let (_app, service) = serving().await;
    let reply = get(&service, SEED).await;
    reply.assert_status(200);
    let article = reply.json();

    // The source's content lines: all but blank lines and the trailing "Comments" page chrome.
    let source: Vec<&str> = SOURCE
        .lines()
        .filter(|line| !line.trim().is_empty() && *line != "Comments")
        .collect();
    assert_eq!(render(&article), source);
    assert!(SOURCE.contains('’'), "the source uses typographic apostrophes");
    assert_eq!(article["reading_time_minutes"], 4);
    assert_eq!(article["status"], "published");
    assert_eq!(article["published_on"], "2024-11-24");

    let kinds: Vec<&str> = article["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| text(&s["kind"]))
        .collect();
    assert_eq!(
        kinds,
        [
            "overview",
            "steps",
            "benefits",
            "expectations",
            "aftercare_tips",
            "target_audiences",
            "risks",
            "conclusion"
        ]
    );
    let positions = crate::common::positions(&article);
    assert_eq!(positions, [1, 2, 3, 4, 5, 6, 7, 8]);
}

#[actix_web::test]
async fn seeding_twice_changes_nothing() {
    let app = TestApp::new().await;
    let mut conn = app.db.conn().await;
    let before = get(&app.service().await, SEED).await;
    let outcome = lamina::content::seed::seed(&mut conn).await.unwrap();
    assert_eq!(outcome, lamina::content::seed::Seeded::AlreadyPresent);
    let after = get(&app.service().await, SEED).await;
    assert_eq!(before.body, after.body);
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let articles: i64 = lamina::db::schema::articles::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(articles, 1);
}

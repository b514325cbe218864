//! Example response bodies for the spec, made from the seed article when the
//! spec is generated: the seed's write body, validated as the seed is, then
//! put into the read model and serialized by the same code as a real answer
//! (`content::model`). What the server makes when it stores the seed (ids
//! and timestamps) is fixed here: ids are constants, and every timestamp is
//! the seed's publication date at midnight UTC, so nothing depends on today.
//! `tests/api/spec.rs` checks each example against what a fresh server
//! answers for the seeded article.

use chrono::NaiveTime;
use serde_json::Value;
use uuid::Uuid;

use crate::content::SectionKind;
use crate::content::input::{ArticleInput, reading_time_minutes};
use crate::content::locales::LocaleRegistry;
use crate::content::model::{Article, ArticleMeta, ArticlePage, ArticleSummary, Fallbacks, Item, Localized, Section};
use crate::content::seed;

/// The seeded article's id in the examples.
pub const ARTICLE_ID: Uuid = Uuid::from_u128(0x0b0c_3c9e_5a4f_4d8e_9a57_3f1f_8e2b_6a10);
/// The section kind the section and item examples show.
pub const SECTION_KIND: SectionKind = SectionKind::Steps;

/// The id of the section at `position` (1-based) in the examples.
fn section_id(position: i32) -> Uuid {
    Uuid::from_u128(0x5ec7_0000_0000_4000_8000_0000_0000_0000 | u128::from(position.unsigned_abs()))
}

/// The id of item `index` (1-based) of the section at `position` in the examples.
fn item_id(position: i32, index: usize) -> Uuid {
    let index = u128::try_from(index).unwrap_or_default();
    Uuid::from_u128(0x17e3_0000_0000_4000_8000_0000_0000_0000 | (u128::from(position.unsigned_abs()) << 16) | index)
}

/// The seeded article as `GET /v1/articles/{slug}` reads it.
fn article(input: ArticleInput, locale: &str) -> Article {
    let at = input.published_on.and_time(NaiveTime::MIN).and_utc();
    let word_count = input.word_count();
    let sections = input
        .sections
        .into_iter()
        .zip(1..)
        .map(|(section, position)| {
            let kind = section.kind;
            let items = section
                .items
                .into_iter()
                .zip(1..)
                .map(|(item, index)| Item {
                    id: item_id(position, index),
                    kind,
                    content: item.content,
                })
                .collect();
            let content = crate::content::model::SectionContent {
                kind,
                heading: section.heading,
                intro: section.intro,
                body: section.body,
                note: section.note,
                call_to_action: section.call_to_action,
                phase_headings: section.phase_headings,
                items,
            };
            Section {
                id: section_id(position),
                position,
                content,
                version: 1,
                updated_at: at,
            }
        })
        .collect();
    Article {
        meta: ArticleMeta {
            id: ARTICLE_ID,
            slug: seed::SLUG.to_owned(),
            title: input.title,
            author: input.author,
            published_on: input.published_on,
            status: input.status,
            summary: input.summary,
            hero_image: input.hero_image,
            reading_time_minutes: reading_time_minutes(word_count),
            word_count,
            version: 1,
            created_at: at,
            updated_at: at,
        },
        sections,
        locale: locale.to_owned(),
        fallbacks: Fallbacks::default(),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

fn localized<T>(body: T, locale: &str) -> Localized<T> {
    Localized {
        body,
        locale: locale.to_owned(),
        fallbacks: Fallbacks::default(),
    }
}

/// The example bodies by operation: (path, method, statuses, body).
pub fn responses() -> Vec<(&'static str, &'static str, &'static [&'static str], Value)> {
    let Ok(input) = seed::article() else {
        return Vec::new();
    };
    let locales = LocaleRegistry::default().current();
    let locale = locales.default_code();
    let article = article(input, locale);
    let section = article
        .sections
        .iter()
        .find(|section| section.content.kind == SECTION_KIND)
        .cloned();
    let item = section
        .as_ref()
        .and_then(|section| section.content.items.first().cloned());
    let page = ArticlePage {
        items: vec![ArticleSummary {
            meta: article.meta.clone(),
            section_kinds: article.sections.iter().map(|section| section.content.kind).collect(),
            deleted: None,
        }],
        next_cursor: None,
        locale: locale.to_owned(),
        fallbacks: Fallbacks::default(),
    };
    let sections: Vec<Localized<Section>> = article
        .sections
        .iter()
        .map(|section| localized(section.clone(), locale))
        .collect();
    let mut examples = vec![
        ("/v1/articles", "get", &["200"][..], json(&page)),
        ("/v1/articles/{slug}", "get", &["200"][..], json(&article)),
        ("/v1/articles/{slug}", "put", &["200", "201"][..], json(&article)),
        ("/v1/articles/{slug}/sections", "get", &["200"][..], json(&sections)),
        ("/v1/locales", "get", &["200"][..], json(&locales.all())),
    ];
    if let Some(section) = section {
        let body = json(&localized(section, locale));
        examples.push(("/v1/articles/{slug}/sections/{kind}", "get", &["200"], body.clone()));
        examples.push(("/v1/articles/{slug}/sections/{kind}", "put", &["200", "201"], body));
    }
    if let Some(item) = item {
        let body = json(&localized(item, locale));
        examples.push((
            "/v1/articles/{slug}/sections/{kind}/items/{id}",
            "get",
            &["200"],
            body.clone(),
        ));
        examples.push(("/v1/articles/{slug}/sections/{kind}/items/{id}", "put", &["200"], body));
    }
    examples
}

/// Puts each example body on its response's `application/json` content,
/// and an `example` on every path parameter that can have one, which
/// Swagger UI's "Try it out" fills in: `steps` for a section's kind, else
/// the first of the parameter's schema's `examples` (the seed's slug for an
/// article). Ids are made when content is stored, so they have none.
pub fn add(spec: &mut Value) {
    if let Some(Value::Object(paths)) = spec.get_mut("paths") {
        for parameter in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|operations| operations.values_mut())
            .filter_map(|operation| operation.get_mut("parameters")?.as_array_mut())
            .flatten()
            .filter(|parameter| parameter["in"] == "path" && parameter.get("example").is_none())
        {
            let example = if parameter["name"] == "kind" {
                Value::String(SECTION_KIND.as_str().to_owned())
            } else {
                match parameter.pointer("/schema/examples/0") {
                    Some(example) => example.clone(),
                    None => continue,
                }
            };
            parameter["example"] = example;
        }
    }
    for (path, method, statuses, body) in responses() {
        for status in statuses {
            let pointer = format!(
                "/paths/{}/{method}/responses/{status}/content/application~1json",
                path.replace('~', "~0").replace('/', "~1")
            );
            if let Some(Value::Object(content)) = spec.pointer_mut(&pointer) {
                content.insert("example".to_owned(), body.clone());
            }
        }
    }
}

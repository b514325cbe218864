//! Example response bodies for the spec, made from the seed article when the
//! spec is generated: the seed's write body, validated as the seed is, then
//! put into the read model and serialized by the same code as a real answer
//! (`content::model`). What the server makes when it stores the seed (ids
//! and timestamps) is fixed here: ids are constants, and every timestamp is
//! the seed's publication date at midnight UTC, so nothing depends on today.
//!
//! The examples of the other operations are the answers of one story told
//! on a fresh server, step by step: the seed is searched and synced
//! anonymously and its first revision read; an admin adds the locale `de`
//! and an editor publishes the (untranslated) German translation (article
//! version 2); a release stages the article and its `steps`, unstages them,
//! stages the article again and is published; an admin registers a
//! webhook, replaces it, rotates its secret and pings it; an editor uploads a
//! 160×120 JPEG `face.jpg` and sets its alt text; the first revision is
//! restored (version 3), then the article deleted and restored again
//! (version 4, a new row). The requests are `answers` in
//! `tests/api/spec.rs`, which compares each example (a 202's too) with what
//! the server answered (ids, timestamps, secrets, cursors, ranks and file digests by
//! type only).

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

/// The first revision's id in the examples.
const REVISION_ID: Uuid = Uuid::from_u128(0x4e44_5689_c509_49f3_a0d8_c177_4a1c_ac18);
/// The release's id in the examples.
const RELEASE_ID: Uuid = Uuid::from_u128(0x7b19_2d0b_ed6a_4bb8_a821_2f5c_fa7b_7151);
/// The webhook endpoint's id in the examples.
const WEBHOOK_ID: Uuid = Uuid::from_u128(0xdee6_1a05_a1a1_4d95_b6db_c7a6_862c_1763);
/// The webhook ping's delivery id in the examples.
const DELIVERY_ID: Uuid = Uuid::from_u128(0x6a1f_0c2e_8a41_4c3b_9d7e_2f5a_1b3c_4d5e);
/// The asset's id in the examples.
const ASSET_ID: Uuid = Uuid::from_u128(0xee00_4b58_cca2_42db_9b65_e901_fe98_74b7);
/// The locale the story adds, and its translation.
const LOCALE: &str = "de";
/// What the search example searches for: the `q` example of `GET /v1/search`.
const SEARCH: &str = "sunscreen";

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
    examples.extend(story(&article));
    examples
}

/// `article` at `version`, its sections at `section_version`.
fn versioned(mut article: Article, version: i64, section_version: i64) -> Article {
    article.meta.version = version;
    for section in &mut article.sections {
        section.version = section_version;
    }
    article
}

/// The seed article as its first revision's snapshot holds it: the write
/// body of the seed with the ids its items were given.
fn snapshot() -> Option<Value> {
    let mut input = seed::article().ok()?;
    for (section, position) in input.sections.iter_mut().zip(1..) {
        for (item, index) in section.items.iter_mut().zip(1..) {
            item.id = Some(item_id(position, index));
        }
    }
    Some(input.to_body())
}

/// The pointers of the texts a translation of `article` into another locale
/// would hold: every default-locale text, as `GET …/translations` counts them.
fn text_pointers(article: &Article) -> Vec<String> {
    let mut contents: Vec<_> = article.sections.iter().map(|section| section.content.clone()).collect();
    crate::content::translations::default_texts(&article.meta.title, &article.meta.summary, None, &mut contents)
        .into_iter()
        .map(|(_, pointer, _)| pointer)
        .collect()
}

/// The one hit of searching the seed for [`SEARCH`]: the text that holds it.
fn search_page(article: &Article) -> Option<crate::routes::search::SearchPage> {
    use crate::routes::search::{Hit, HitArticle, HitItem, HitSection, SearchFacets, SearchPage, SnippetSegment};
    let read = json(article);
    let (position, index, field, text) = read["sections"]
        .as_array()?
        .iter()
        .enumerate()
        .flat_map(|(position, section)| {
            section["items"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .flat_map(move |(index, item)| {
                    item.as_object().into_iter().flatten().filter_map(move |(field, text)| {
                        Some((position, index, field.clone(), text.as_str()?.to_owned()))
                    })
                })
        })
        .find(|(_, _, _, text)| text.contains(SEARCH))?;
    let section = article.sections.get(position)?;
    let item = section.content.items.get(index)?;
    let kind = section.content.kind;
    let (before, after) = text.split_once(SEARCH)?;
    let slug = &article.meta.slug;
    Some(SearchPage {
        hits: vec![Hit {
            article: HitArticle {
                id: article.meta.id,
                slug: slug.clone(),
                title: article.meta.title.clone(),
            },
            section: Some(HitSection {
                id: section.id,
                kind,
                heading: section.content.heading.clone(),
            }),
            item: Some(HitItem { id: item.id }),
            pointer: format!("/sections/{position}/items/{index}/{field}"),
            field,
            url: format!("/v1/articles/{slug}/sections/{kind}/items/{}", item.id),
            snippet: [(before, false), (SEARCH, true), (after, false)]
                .into_iter()
                .map(|(text, matched)| SnippetSegment {
                    text: text.to_owned(),
                    matched,
                })
                .collect(),
            score: 0.060_792_71,
        }],
        facets: SearchFacets {
            kinds: [(kind.as_str().to_owned(), 1)].into(),
        },
        total: 1,
        suggestion: None,
        next_cursor: None,
    })
}

/// The examples of the story the module doc tells, from the seed `article`
/// as read in the default locale.
fn story(article: &Article) -> Vec<(&'static str, &'static str, &'static [&'static str], Value)> {
    use crate::content::history::{Revision, RevisionPage, RevisionSummary};
    use crate::content::locales::Locale;
    use crate::content::translations::TranslationStatus;
    use crate::routes::assets::{Asset, AssetPage, FocalPoint};
    use crate::routes::releases::{Release, ReleaseList, ReleaseState, StagedItem};
    use crate::routes::sync::{SyncArticle, SyncArticleType, SyncEntry, SyncPage};
    use crate::routes::system::Health;
    use crate::routes::webhooks::{Delivery, DeliveryList, DeliveryState, Webhook, WebhookCreated, WebhookList};

    let at = article.meta.created_at;
    let mut examples = Vec::new();
    let mut add = |path, method, statuses, body: Value| examples.push((path, method, statuses, body));
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let health = Health {
            status: status.to_owned(),
        };
        add(path, "get", &["200"][..], json(&health));
    }
    if let Some(page) = search_page(article) {
        add("/v1/search", "get", &["200"], json(&page));
    }
    let sync = SyncPage {
        entries: vec![SyncEntry::Article(SyncArticle {
            entry_type: SyncArticleType::Article,
            article: article.clone(),
        })],
        // Opaque and bound to the database that hands it out.
        next_cursor: "EQAAAAAAAATSAAAAAAAABNIAAAAAAAAAEZyga8a95KiVAAAAAAAAAAAAAAAAAAAAAAWionhPtPX0YFafmyGcKfrV45cq"
            .to_owned(),
        has_more: false,
    };
    add("/v1/sync", "get", &["200"], json(&sync));

    let summary = RevisionSummary {
        id: REVISION_ID,
        actor: seed::ACTOR.to_owned(),
        created_at: at,
        request_id: "seed".to_owned(),
        action: "create".to_owned(),
        target: "article".to_owned(),
        section_kind: None,
        item_id: None,
        article_version: 1,
        locale: None,
    };
    let page = RevisionPage {
        items: vec![summary.clone()],
        next_cursor: None,
    };
    add("/v1/articles/{slug}/revisions", "get", &["200"], json(&page));
    let revision = Revision {
        summary,
        snapshot: snapshot(),
        translations: None,
    };
    add("/v1/articles/{slug}/revisions/{id}", "get", &["200"], json(&revision));
    let restore = "/v1/articles/{slug}/revisions/{id}/restore";
    add(restore, "post", &["200"], json(&versioned(article.clone(), 3, 2)));
    add(restore, "post", &["201"], json(&versioned(article.clone(), 4, 1)));

    let locale = Locale {
        code: LOCALE.to_owned(),
        name: "Deutsch".to_owned(),
        fallback: None,
        default: false,
    };
    add("/v1/locales/{code}", "put", &["200", "201"], json(&locale));
    let pointers = text_pointers(article);
    let status = TranslationStatus {
        locale: LOCALE.to_owned(),
        status: "draft".to_owned(),
        translated: 0,
        missing: pointers.len(),
        outdated: 0,
        missing_pointers: pointers.clone(),
        outdated_pointers: Vec::new(),
    };
    add("/v1/articles/{slug}/translations", "get", &["200"], json(&[status]));
    let mut german = versioned(article.clone(), 2, 2);
    german.locale = LOCALE.to_owned();
    for pointer in pointers {
        german.fallbacks.push(pointer, &article.locale);
    }
    add(
        "/v1/articles/{slug}/translations/{locale}",
        "put",
        &["200"],
        json(&german),
    );

    let staged = |kind: Option<SectionKind>| StagedItem {
        slug: seed::SLUG.to_owned(),
        kind: kind.map(|kind| kind.as_str().to_owned()),
        locale: None,
        base_version: Some(2),
        staged_at: at,
    };
    let release = |items: Vec<StagedItem>| Release {
        id: RELEASE_ID,
        title: "Spring menu".to_owned(),
        publish_at: None,
        state: ReleaseState::Open,
        conflicts: Vec::new(),
        items,
        created_at: at,
        updated_at: at,
        published_at: None,
    };
    let both = release(vec![staged(None), staged(Some(SECTION_KIND))]);
    let releases = "/v1/releases/{id}";
    add("/v1/releases", "post", &["201"], json(&release(Vec::new())));
    add(releases, "put", &["200"], json(&release(Vec::new())));
    add(
        "/v1/releases/{id}/articles/{slug}",
        "put",
        &["200"],
        json(&release(vec![staged(None)])),
    );
    add(
        "/v1/releases/{id}/articles/{slug}/sections/{kind}",
        "put",
        &["200"],
        json(&both),
    );
    add(releases, "get", &["200"], json(&both));
    add(
        "/v1/releases",
        "get",
        &["200"],
        json(&ReleaseList { items: vec![both] }),
    );
    let one = json(&release(vec![staged(None)]));
    add(
        "/v1/releases/{id}/articles/{slug}/sections/{kind}",
        "delete",
        &["200"],
        one,
    );
    add(
        "/v1/releases/{id}/articles/{slug}",
        "delete",
        &["200"],
        json(&release(Vec::new())),
    );
    let published = Release {
        state: ReleaseState::Published,
        published_at: Some(at),
        ..release(vec![staged(None)])
    };
    add("/v1/releases/{id}/publish", "post", &["200"], json(&published));

    let webhook = Webhook {
        id: WEBHOOK_ID,
        url: "https://example.com/hooks/lamina".to_owned(),
        events: vec!["article.updated".to_owned()],
        description: "Purge the CDN".to_owned(),
        enabled: true,
        disabled_reason: None,
        created_at: at,
        updated_at: at,
        previous_secret_expires_at: None,
        slugs: None,
        section_kinds: None,
        status: None,
    };
    // A secret is random: these are the shape of one (`whsec_` + base64 of 32 bytes).
    let created = WebhookCreated {
        webhook: webhook.clone(),
        secret: "whsec_R6Wve7p4G25AXj30RwtPkA/Jlz9yI5WINtQCWhkbFB0=".to_owned(),
    };
    add("/v1/webhooks", "post", &["201"], json(&created));
    add("/v1/webhooks/{id}", "get", &["200"], json(&webhook));
    add("/v1/webhooks/{id}", "put", &["200"], json(&webhook));
    let list = WebhookList {
        items: vec![webhook.clone()],
    };
    add("/v1/webhooks", "get", &["200"], json(&list));
    let rotation = chrono::TimeDelta::hours(i64::from(crate::config::DEFAULT_WEBHOOK_ROTATION_HOURS));
    let rotated = WebhookCreated {
        webhook: Webhook {
            previous_secret_expires_at: Some(at + rotation),
            ..webhook
        },
        secret: "whsec_VXE6kzM8udUsTuSwX+ZyQVTrn1pMrsdrTDt0o/bkxwQ=".to_owned(),
    };
    add("/v1/webhooks/{id}/rotate-secret", "post", &["200"], json(&rotated));
    // The ping, queued and not yet sent (the worker runs apart from the API).
    let ping = Delivery {
        id: DELIVERY_ID,
        event: crate::content::webhooks::PING.to_owned(),
        state: DeliveryState::Pending,
        attempts: 0,
        last_status: None,
        last_error: None,
        next_attempt_at: Some(at),
        created_at: at,
        payload: serde_json::json!({
            "type": crate::content::webhooks::PING,
            "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": {"endpoint_id": WEBHOOK_ID},
        }),
        attempt_history: Vec::new(),
    };
    add("/v1/webhooks/{id}/ping", "post", &["202"], json(&ping));
    let deliveries = DeliveryList {
        items: vec![ping],
        next_cursor: None,
    };
    add("/v1/webhooks/{id}/deliveries", "get", &["200"], json(&deliveries));

    // What lamina stores for the story's 160×120 JPEG (its size, digest
    // and ThumbHash depend on the encoder that made it).
    let uploaded = Asset {
        id: ASSET_ID,
        filename: "face.jpg".to_owned(),
        content_type: "image/jpeg".to_owned(),
        bytes: 2140,
        width: 160,
        height: 120,
        sha256: "0d1e7c92137f6de7b7eda7af70c6be0898725c647941b8321ae61901dbe41a4c".to_owned(),
        placeholder: "FiYGJZCAh3dyeIh3h3iHeIByCNh4".to_owned(),
        alt: std::collections::BTreeMap::new(),
        caption: None,
        focal_point: FocalPoint { x: 0.5, y: 0.5 },
        url: format!("/v1/assets/{ASSET_ID}/face.jpg"),
        used_by: Vec::new(),
        created_at: at,
        version: 1,
    };
    let described = Asset {
        alt: [("en".to_owned(), "A face after treatment".to_owned())].into(),
        version: 2,
        ..uploaded.clone()
    };
    add("/v1/assets", "post", &["201"], json(&uploaded));
    add("/v1/assets/{id}", "get", &["200"], json(&uploaded));
    add("/v1/assets/{id}", "put", &["200"], json(&described));
    let assets = AssetPage {
        items: vec![described],
        next_cursor: None,
    };
    add("/v1/assets", "get", &["200"], json(&assets));
    examples
}

/// Puts each example body on its response's `application/json` content,
/// and an `example` on every path parameter that can have one, which
/// Swagger UI's "Try it out" fills in: `steps` for a section's kind, `de`
/// (the locale the story adds) for a locale's code, else
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
            } else if parameter["name"] == "code" || parameter["name"] == "locale" {
                Value::String(LOCALE.to_owned())
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

//! Writes in a locale other than the default (API.md §13): the texts of an
//! article, a section or an item in that locale (structure untouched), and
//! whether an article's translation into it is published.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use super::record::{Change, finish};
use super::{Target, Written, article_not_found, bump_sections, lock_article, nothing_written};
use crate::content::error::{Error, Resource};
use crate::content::kinds::SectionKind;
use crate::content::locales::Locales;
use crate::content::store::{self, ArticleRow, StoredSection};
pub use crate::content::translations::TranslationOf;
use crate::content::translations::{
    ReadLocale, load_texts, parse_texts, part_of, source_hash, walk_meta, walk_section,
};
use crate::db::schema::{article_locales, sections, translations};

/// Every default-locale text of the article, by key.
fn default_texts(article: &ArticleRow, sections: &[StoredSection]) -> Result<HashMap<String, String>, Error> {
    let mut texts = HashMap::new();
    let mut visit = |key: &str, _: &dyn Fn() -> String, slot: &mut Option<String>| {
        if let Some(text) = slot {
            texts.insert(key.to_owned(), text.clone());
        }
    };
    walk_meta(
        &mut article.title.clone(),
        &mut article.summary.clone(),
        Some(&mut article.hero_alt.clone()),
        "",
        &mut visit,
    );
    for section in sections {
        walk_section(&mut section.to_input()?, "", &mut visit);
    }
    Ok(texts)
}

/// What a write in a locale other than the default names: the texts of `of`
/// in `locale` from `body` (the read shape; structure as stored).
#[derive(Debug, Clone)]
pub struct Texts<'a> {
    /// The article, section or item the texts are of.
    pub of: TranslationOf,
    /// The locale written.
    pub locale: &'a str,
    /// The configured locales (for the fallback chain).
    pub locales: &'a Locales,
    /// The body as sent.
    pub body: &'a Value,
}

/// `PUT …?locale=<locale>` ([`super::Put::Texts`]), inside a transaction the
/// caller holds. A text equal to what the locale would show without its own
/// translation (its fallback's) is not one: it falls back. Texts that did not
/// change keep their translation's age (an outdated one stays outdated); a
/// write that changes nothing records nothing.
pub(super) async fn put_texts_in(
    conn: &mut AsyncPgConnection,
    target: &Target<'_>,
    article: ArticleRow,
    Texts {
        of,
        locale,
        locales,
        body,
    }: Texts<'_>,
    now: DateTime<Utc>,
) -> Result<Written, Error> {
    let slug = target.slug;
    let sections = store::load_sections(conn, article.id, None).await?;
    let (stored, scope, resource, version) = part_of(slug, &article, &sections, of)?;
    let texts = parse_texts(body, &stored, scope).map_err(Error::Invalid)?;
    target.precondition.check(resource, version)?;
    let defaults = default_texts(&article, &sections)?;
    let existing: HashMap<String, String> = translations::table
        .filter(translations::article_id.eq(article.id))
        .filter(translations::locale.eq(locale))
        .select((translations::key, translations::text))
        .load::<(String, String)>(conn)
        .await?
        .into_iter()
        .collect();
    // What each text would be without this locale's own: a text sent as
    // that (a read sent back, its fallbacks included) is no translation.
    let chain = ReadLocale::new(locales, locale);
    let beneath = load_texts(conn, &[article.id], &chain.beneath(), true, None)
        .await?
        .remove(&article.id)
        .unwrap_or_default();
    let mut changed: Vec<String> = Vec::new();
    for (key, text) in texts {
        let fallback = beneath.text_of(&key).or(defaults.get(&key).map(String::as_str));
        let text = text.filter(|text| Some(text.as_str()) != fallback);
        match (text, existing.get(&key)) {
            (Some(text), Some(old)) if *old == text => {}
            (Some(text), _) => {
                let source = source_hash(defaults.get(&key).map_or("", String::as_str));
                diesel::insert_into(translations::table)
                    .values((
                        translations::article_id.eq(article.id),
                        translations::locale.eq(locale),
                        translations::key.eq(&key),
                        translations::text.eq(&text),
                        translations::source_hash.eq(&source),
                        translations::updated_at.eq(now),
                    ))
                    .on_conflict((translations::article_id, translations::locale, translations::key))
                    .do_update()
                    .set((
                        translations::text.eq(&text),
                        translations::source_hash.eq(&source),
                        translations::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                changed.push(key);
            }
            (None, Some(_)) => {
                diesel::delete(translations::table.find((article.id, locale, &key)))
                    .execute(conn)
                    .await?;
                changed.push(key);
            }
            (None, None) => {}
        }
    }
    if changed.is_empty() {
        return Ok(Written::new((article, sections), false));
    }
    // The sections whose answer in this locale changed get a new version (and ETag).
    let kinds: Vec<&str> = changed
        .iter()
        .filter_map(|key| key.split_once('.').map(|(kind, _)| kind))
        .collect();
    bump_sections(conn, article.id, Box::new(sections::kind.eq_any(kinds)), now).await?;
    let (kind, item) = match of {
        TranslationOf::Article => (None, None),
        TranslationOf::Section(kind) => (Some(kind), None),
        TranslationOf::Item(kind, id) => (Some(kind), Some(id)),
    };
    let changed = match of {
        TranslationOf::Article => "article",
        TranslationOf::Section(_) => "section",
        TranslationOf::Item(..) => "item",
    };
    let change = Change {
        kind,
        item,
        locale: Some(locale.to_owned()),
        ..Change::new("replace", changed)
    };
    Ok(Written::new(
        finish(conn, article.id, &article.summary, target.actor, change, now).await?,
        false,
    ))
}

/// `PUT /v1/articles/{slug}/translations/{locale}`: publishes (or takes back
/// to draft) the article's translation into `locale`. A change for that
/// locale: every section's answer in it changes for anonymous readers.
pub async fn put_status(
    conn: &mut AsyncPgConnection,
    target: Target<'_>,
    locale: &str,
    published: bool,
) -> Result<Written, Error> {
    let slug = target.slug;
    write_transaction!(conn, |conn| {
        let now = Utc::now();
        let article = lock_article(conn, slug).await?.ok_or_else(|| article_not_found(slug))?;
        target.precondition.check(Resource::Article, article.version())?;
        let status = if published { "published" } else { "draft" };
        let stored: Option<String> = article_locales::table
            .find((article.id, locale))
            .select(article_locales::status)
            .first(conn)
            .await
            .optional()?;
        if stored.as_deref().unwrap_or("draft") == status {
            return nothing_written(conn, article).await;
        }
        diesel::insert_into(article_locales::table)
            .values((
                article_locales::article_id.eq(article.id),
                article_locales::locale.eq(locale),
                article_locales::status.eq(status),
                article_locales::updated_at.eq(now),
            ))
            .on_conflict((article_locales::article_id, article_locales::locale))
            .do_update()
            .set((article_locales::status.eq(status), article_locales::updated_at.eq(now)))
            .execute(conn)
            .await?;
        let kinds: Vec<&str> = SectionKind::ALL.iter().map(|kind| kind.as_str()).collect();
        bump_sections(conn, article.id, Box::new(sections::kind.eq_any(kinds)), now).await?;
        let change = Change {
            locale: Some(locale.to_owned()),
            ..Change::new("replace", "article")
        };
        Ok(Written::new(
            finish(conn, article.id, &article.summary, target.actor, change, now).await?,
            false,
        ))
    })
}

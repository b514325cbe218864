//! Writes: each runs in one transaction that locks the article row
//! (`SELECT … FOR UPDATE`), checks the precondition against the locked
//! version, applies the change (sections with a conditional update on the
//! version read, as a second guard), recomputes derived fields and records a
//! revision ([`record`]). Two editors racing with the same `If-Match`: the
//! second waits for the lock, then finds a newer version and fails. Section
//! merging is in [`merge`].

mod merge;
mod record;

use merge::{Ids, foreign_item_ids, replace_section, replace_sections};
use record::{Change, finish, record};

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::error::{Error, Precondition, Resource, Version};
use super::input::{ArticleInput, FieldError, ItemInput, SectionInput};
use super::kinds::SectionKind;
use super::store::{self, ArticleRow, StoredSection, Visibility};
use crate::db::schema::{articles, revisions, section_items, sections};

/// Runs `$body` (with the transaction's connection as `$tx`) as one transaction on `$conn`, cut off
/// at the database deadline. If the database is lost, the error says whether
/// the body had finished, i.e. whether COMMIT may have been sent.
macro_rules! write_transaction {
    ($conn:ident, |$tx:ident| $body:block) => {{
        let committing = AtomicBool::new(false);
        let reached_commit = &committing;
        let transaction = $conn.transaction(async move |$tx| {
            let outcome: Result<_, Error> = async { $body }.await;
            reached_commit.store(outcome.is_ok(), Ordering::Release);
            outcome
        });
        crate::db::deadline(transaction)
            .await
            .map_err(|err: Error| err.of_write(AtomicBool::load(&committing, Ordering::Acquire)))
    }};
}

mod images;
mod release;
pub use release::{Outcome, preview_article, publish_due, publish_release};
mod translate;
pub use translate::{Texts, TranslationOf, put_status};

/// Who writes, and under which request.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The token name.
    pub name: String,
    /// The request id, recorded with the revision.
    pub request_id: String,
    /// How many revisions to keep per article.
    pub revisions_keep: i64,
    /// How many days the change log keeps a change (`LAMINA_SYNC_KEEP_DAYS`).
    pub sync_keep_days: i32,
    /// How many days a deleted article stays restorable (`LAMINA_TRASH_KEEP_DAYS`).
    pub trash_keep_days: i32,
}

/// An article after a write, as stored.
#[derive(Debug, Clone)]
pub struct Written {
    /// The article row.
    pub article: ArticleRow,
    /// All its sections, in order.
    pub sections: Vec<StoredSection>,
    /// Whether the write created the resource (201).
    pub created: bool,
}

impl Written {
    /// The article as `finish` (or a load) left it.
    fn new((article, sections): (ArticleRow, Vec<StoredSection>), created: bool) -> Self {
        Written {
            article,
            sections,
            created,
        }
    }

    /// The written article's section of `kind`.
    pub fn section(&self, kind: SectionKind) -> Result<&StoredSection, Error> {
        self.sections
            .iter()
            .find(|section| section.row.kind == kind.as_str())
            .ok_or_else(|| Error::Corrupt(format!("the written {kind} section is missing")))
    }
}

/// The answer to a write that changes nothing: the article as stored, no revision recorded (API.md §3).
async fn nothing_written(conn: &mut AsyncPgConnection, article: ArticleRow) -> Result<Written, Error> {
    let sections = store::load_sections(conn, article.id, None).await?;
    Ok(Written::new((article, sections), false))
}

fn article_not_found(slug: &str) -> Error {
    Error::ArticleNotFound { slug: slug.to_owned() }
}

fn section_not_found(slug: &str, kind: SectionKind) -> Error {
    Error::SectionNotFound {
        slug: slug.to_owned(),
        kind,
    }
}

/// Locks the article row for the rest of the transaction.
pub(super) async fn lock_article(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<ArticleRow>> {
    articles::table
        .filter(articles::slug.eq(slug))
        .select(ArticleRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Locks the article and loads its section of `kind`; 404 if either is missing.
async fn lock_section(
    conn: &mut AsyncPgConnection,
    slug: &str,
    kind: SectionKind,
) -> Result<(ArticleRow, StoredSection), Error> {
    let article = lock_article(conn, slug).await?.ok_or_else(|| article_not_found(slug))?;
    let section = store::load_sections(conn, article.id, Some(&[kind]))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| section_not_found(slug, kind))?;
    Ok((article, section))
}

/// A write of a whole article, of one of its sections, or of texts in a locale.
#[derive(Debug, Clone)]
pub enum Put<'a> {
    /// `PUT /v1/articles/{slug}`: creates the article, or replaces it whole.
    Article(ArticleInput),
    /// `PUT /v1/articles/{slug}/sections/{kind}`: creates or replaces one section.
    Section(SectionInput),
    /// `PUT …?locale=<locale>`: the texts of an article, section or item in a
    /// locale other than the default ([`translate::put_texts_in`]).
    Texts(Texts<'a>),
}

/// Applies `put` to the article `slug` in a transaction of its own.
pub async fn put(conn: &mut AsyncPgConnection, target: Target<'_>, put: Put<'_>) -> Result<Written, Error> {
    write_transaction!(conn, |conn| { put_in(conn, target, put).await })
}

/// Where a write goes and on what terms: the article, the caller's precondition, who writes.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The article's slug.
    pub slug: &'a str,
    /// What the caller's `If-Match` (or the release) asks of the current version.
    pub precondition: Precondition,
    /// Who writes.
    pub actor: &'a Actor,
}

/// Applies `put` to `target` inside a transaction the caller holds (a release publishes several).
pub(crate) async fn put_in(conn: &mut AsyncPgConnection, target: Target<'_>, put: Put<'_>) -> Result<Written, Error> {
    let now = Utc::now();
    let current = lock_article(conn, target.slug).await?;
    let existing = |current: Option<ArticleRow>| current.ok_or_else(|| article_not_found(target.slug));
    match put {
        Put::Article(input) => put_article_in(conn, &target, current, input, now).await,
        Put::Section(input) => put_section_in(conn, &target, existing(current)?, input, now).await,
        Put::Texts(texts) => translate::put_texts_in(conn, &target, existing(current)?, texts, now).await,
    }
}

/// [`Put::Article`] on the locked article `current` (`None`: it is created).
async fn put_article_in(
    conn: &mut AsyncPgConnection,
    target: &Target<'_>,
    current: Option<ArticleRow>,
    mut input: ArticleInput,
    now: DateTime<Utc>,
) -> Result<Written, Error> {
    let slug = target.slug;
    let published = input.status == crate::content::kinds::ArticleStatus::Published;
    images::check(conn, images::of_article(&mut input), published).await?;
    let Some(current) = current else {
        target.precondition.check_absent()?;
        // Item ids are the server's: a new article has no items to keep.
        let errors: Vec<FieldError> = input
            .sections
            .iter()
            .enumerate()
            .flat_map(|(index, section)| {
                foreign_item_ids(&section.items, &[], section.kind, &format!("/sections/{index}"))
            })
            .collect();
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let id = insert_new(conn, (Uuid::new_v4(), 1), slug, &input).await?;
        let sections = store::load_sections(conn, id, None).await?;
        let article = store::find_article(conn, slug, Visibility::All)
            .await?
            .ok_or_else(|| article_not_found(slug))?;
        let snapshot = article.to_input(&sections)?.to_body();
        let change = Change::new("create", "article");
        record(conn, &article, &sections, target.actor, change, Some(snapshot), now).await?;
        return Ok(Written::new((article, sections), true));
    };
    target.precondition.check(Resource::Article, current.version())?;
    // A write that changes nothing records nothing (API.md §3).
    let stored = store::load_sections(conn, current.id, None).await?;
    if current.to_input(&stored)?
        == (ArticleInput {
            slug: None,
            ..input.clone()
        })
    {
        return Ok(Written::new((current, stored), false));
    }
    Ok(Written::new(
        replace_article(conn, &current, &input, Ids::Existing, target.actor, "replace", now).await?,
        false,
    ))
}

/// Overwrites an article's metadata and sections, then finishes the write.
async fn replace_article(
    conn: &mut AsyncPgConnection,
    current: &ArticleRow,
    input: &ArticleInput,
    ids: Ids,
    actor: &Actor,
    action: &'static str,
    now: DateTime<Utc>,
) -> Result<(ArticleRow, Vec<StoredSection>), Error> {
    // The version check is part of the update itself.
    let updated = diesel::update(
        articles::table
            .find(current.id)
            .filter(articles::version.eq(current.version)),
    )
    .set((
        articles::title.eq(&input.title),
        articles::author.eq(&input.author),
        articles::published_on.eq(input.published_on),
        articles::status.eq(input.status.as_str()),
        articles::summary.eq(&input.summary),
        store::hero_columns(input.hero_image.as_ref()),
    ))
    .execute(conn)
    .await?;
    if updated == 0 {
        return Err(stale(Resource::Article, current.id, current.version + 1));
    }
    replace_sections(conn, current.id, &input.sections, ids, now).await?;
    let change = Change {
        was_published: Some(current.status == super::kinds::ArticleStatus::Published.as_str()),
        ..Change::new(action, "article")
    };
    finish(conn, current.id, &input.summary, actor, change, now).await
}

/// The resource changed between its lock and its conditional update: the precondition failed.
pub(super) fn stale(resource: Resource, id: Uuid, version: i64) -> Error {
    Error::PreconditionFailed {
        current: Some((resource, Version { id, version })),
    }
}

/// `DELETE /v1/articles/{slug}`.
pub async fn delete_article(conn: &mut AsyncPgConnection, target: Target<'_>) -> Result<(), Error> {
    let slug = target.slug;
    write_transaction!(conn, |conn| {
        let current = lock_article(conn, slug).await?.ok_or_else(|| article_not_found(slug))?;
        target.precondition.check(Resource::Article, current.version())?;
        let sections = store::load_sections(conn, current.id, None).await?;
        let snapshot = current.to_input(&sections)?.to_body();
        diesel::delete(articles::table.find(current.id)).execute(conn).await?;
        let change = Change::new("delete", "article");
        record(
            conn,
            &current,
            &sections,
            target.actor,
            change,
            Some(snapshot),
            Utc::now(),
        )
        .await?;
        Ok(())
    })
}

/// [`Put::Section`] on the locked `article`.
async fn put_section_in(
    conn: &mut AsyncPgConnection,
    &Target {
        ref precondition,
        actor,
        ..
    }: &Target<'_>,
    article: ArticleRow,
    mut input: SectionInput,
    now: DateTime<Utc>,
) -> Result<Written, Error> {
    let published = article.status == crate::content::kinds::ArticleStatus::Published.as_str();
    images::check(conn, images::of_section(&mut input, ""), published).await?;
    let kind = input.kind;
    let existing = store::load_sections(conn, article.id, Some(&[kind]))
        .await?
        .into_iter()
        .next();
    let created = existing.is_none();
    match existing {
        None => {
            precondition.check_absent()?;
            let errors = foreign_item_ids(&input.items, &[], kind, "");
            if !errors.is_empty() {
                return Err(Error::Invalid(errors));
            }
            let position: Option<i32> = sections::table
                .filter(sections::article_id.eq(article.id))
                .select(diesel::dsl::max(sections::position))
                .first(conn)
                .await?;
            store::insert_section(conn, article.id, position.unwrap_or(0) + 1, &input, now).await?;
        }
        Some(stored) => {
            precondition.check(Resource::Section, stored.row.version())?;
            if stored.to_input()? == input {
                return nothing_written(conn, article).await;
            }
            let mut errors = Vec::new();
            replace_section(
                conn,
                &stored,
                &input,
                stored.row.position,
                "",
                Ids::Existing,
                true,
                now,
                &mut errors,
            )
            .await?;
            if !errors.is_empty() {
                return Err(Error::Invalid(errors));
            }
        }
    }
    let change = Change {
        kind: Some(kind),
        ..Change::new(if created { "create" } else { "replace" }, "section")
    };
    Ok(Written::new(
        finish(conn, article.id, &article.summary, actor, change, now).await?,
        created,
    ))
}

/// `DELETE /v1/articles/{slug}/sections/{kind}`; later sections move up.
pub async fn delete_section(conn: &mut AsyncPgConnection, target: Target<'_>, kind: SectionKind) -> Result<(), Error> {
    let slug = target.slug;
    write_transaction!(conn, |conn| {
        let now = Utc::now();
        let (article, stored) = lock_section(conn, slug, kind).await?;
        target.precondition.check(Resource::Section, stored.row.version())?;
        diesel::delete(sections::table.find(stored.row.id))
            .execute(conn)
            .await?;
        diesel::update(
            sections::table
                .filter(sections::article_id.eq(article.id))
                .filter(sections::position.gt(stored.row.position)),
        )
        .set((
            sections::position.eq(sections::position - 1),
            sections::version.eq(sections::version + 1),
            sections::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
        let change = Change {
            kind: Some(kind),
            section: Some(stored.row.id),
            ..Change::new("delete", "section")
        };
        finish(conn, article.id, &article.summary, target.actor, change, now).await?;
        Ok(())
    })
}

/// `PUT …/sections/{kind}/items/{id}`: replaces one existing item.
pub async fn put_item(
    conn: &mut AsyncPgConnection,
    target: Target<'_>,
    kind: SectionKind,
    item_id: Uuid,
    input: ItemInput,
) -> Result<Written, Error> {
    let slug = target.slug;
    write_transaction!(conn, |conn| {
        let now = Utc::now();
        let (article, stored) = lock_section(conn, slug, kind).await?;
        let published = article.status == crate::content::kinds::ArticleStatus::Published.as_str();
        let mut input = input;
        images::check(conn, images::of_item(&mut input), published).await?;
        let (image_asset_id, image_alt, image_decorative) =
            crate::content::images::Image::columns(input.content.image.as_ref());
        if !stored.items.iter().any(|item| item.id == item_id) {
            return Err(Error::ItemNotFound {
                slug: slug.to_owned(),
                kind,
                id: item_id,
            });
        }
        target
            .precondition
            .check(Resource::Item, stored.item_version(item_id))?;
        let unchanged = stored
            .to_input()?
            .items
            .iter()
            .any(|item| item.id == Some(item_id) && item.content == input.content);
        if unchanged {
            return nothing_written(conn, article).await;
        }
        let claimed = diesel::update(
            sections::table
                .find(stored.row.id)
                .filter(sections::version.eq(stored.row.version)),
        )
        .set((
            sections::version.eq(sections::version + 1),
            sections::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
        if claimed == 0 {
            return Err(stale(Resource::Item, item_id, stored.row.version + 1));
        }
        diesel::update(section_items::table.find(item_id))
            .set((
                section_items::phase.eq(input.content.phase.map(|phase| phase.as_str())),
                section_items::title.eq(&input.content.title),
                section_items::body.eq(&input.content.body),
                section_items::description.eq(&input.content.description),
                section_items::image_asset_id.eq(image_asset_id),
                section_items::image_alt.eq(image_alt),
                section_items::image_decorative.eq(image_decorative),
            ))
            .execute(conn)
            .await?;
        let change = Change {
            kind: Some(kind),
            item: Some(item_id),
            ..Change::new("replace", "item")
        };
        Ok(Written::new(
            finish(conn, article.id, &article.summary, target.actor, change, now).await?,
            false,
        ))
    })
}

/// [`store::insert_article`], a slug taken meanwhile said as such.
async fn insert_new(
    conn: &mut AsyncPgConnection,
    id: (Uuid, i64),
    slug: &str,
    input: &ArticleInput,
) -> Result<Uuid, Error> {
    store::insert_article(conn, id, slug, input)
        .await
        .map_err(|err| match err {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                Error::ArticleExists { slug: slug.to_owned() }
            }
            other => other.into(),
        })
}

/// A revision's snapshot and translations, if `revision_id` is one of the article `article_id`'s.
async fn revision_of(
    conn: &mut AsyncPgConnection,
    slug: &str,
    article_id: Uuid,
    revision_id: Uuid,
) -> Result<(serde_json::Value, Option<serde_json::Value>), Error> {
    let found: Option<(Option<serde_json::Value>, Option<serde_json::Value>)> = revisions::table
        .filter(revisions::id.eq(revision_id))
        .filter(revisions::article_id.eq(article_id))
        .select((revisions::snapshot, revisions::translations))
        .first(conn)
        .await
        .optional()?;
    let not_found = || Error::RevisionNotFound {
        slug: slug.to_owned(),
        id: revision_id,
    };
    let (snapshot, translations) = found.ok_or_else(not_found)?;
    Ok((snapshot.ok_or_else(not_found)?, translations))
}

/// `POST …/revisions/{id}/restore`: writes a revision's snapshot back. If
/// the article was deleted (API.md §3: it is in the trash), restoring one of
/// its revisions re-creates it, under its own id, its version counting on
/// from where it ended (`created`: 201).
pub async fn restore(conn: &mut AsyncPgConnection, target: Target<'_>, revision_id: Uuid) -> Result<Written, Error> {
    let slug = target.slug;
    write_transaction!(conn, |conn| {
        let now = Utc::now();
        // The live article of the slug, or else the last deleted one: the revision must be its.
        let live = lock_article(conn, slug).await?;
        let deleted = match &live {
            Some(_) => None,
            None => Some(
                super::history::trashed_by_slug(conn, slug)
                    .await?
                    .ok_or_else(|| article_not_found(slug))?,
            ),
        };
        let article_id = match (&live, &deleted) {
            (Some(current), _) => current.id,
            (None, Some(deleted)) => deleted.article_id,
            (None, None) => return Err(article_not_found(slug)),
        };
        let (snapshot, translations) = revision_of(conn, slug, article_id, revision_id).await?;
        match &live {
            Some(current) => target.precondition.check(Resource::Article, current.version())?,
            None => target.precondition.check_absent()?,
        }
        let input = super::input::parse_article(&snapshot, slug).map_err(|errors| Error::RevisionNotRestorable {
            id: revision_id,
            errors,
        })?;
        let (current, created) = match (live, deleted) {
            (Some(current), _) => (current, false),
            (None, Some(deleted)) => {
                // Re-created as it was, then restored below like a live article.
                insert_new(conn, (deleted.article_id, deleted.article_version), slug, &input).await?;
                let current = lock_article(conn, slug).await?.ok_or_else(|| article_not_found(slug))?;
                (current, true)
            }
            (None, None) => return Err(article_not_found(slug)),
        };
        // Every locale's text as it was: restored first, so that the
        // restored structure keeps them and the new revision records them.
        let locales = super::locales::Locales::load(conn).await?;
        super::translations::restore(conn, current.id, translations.as_ref(), &locales).await?;
        Ok(Written::new(
            replace_article(conn, &current, &input, Ids::AsGiven, target.actor, "restore", now).await?,
            created,
        ))
    })
}

/// Gives the sections of the article `article_id` that `which` selects a new
/// version (and ETag): what they answer changed, though they were not written.
async fn bump_sections<'a>(
    conn: &mut AsyncPgConnection,
    article_id: Uuid,
    which: Box<dyn BoxableExpression<sections::table, Pg, SqlType = Bool> + 'a>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        sections::table
            .filter(sections::article_id.eq(article_id))
            .filter(which),
    )
    .set((
        sections::version.eq(sections::version + 1),
        sections::updated_at.eq(now),
    ))
    .execute(conn)
    .await
}

/// An asset changed (its alt text, file name or focal point): every article
/// showing it (`showing`: their ids, as the asset's uses name them) changed
/// with it (API.md §15). The database has updated their copies of what is
/// shown of the asset; this raises the versions of the sections whose items
/// show it and records a change of each article (revision, change log,
/// webhook, caches), as any write would.
pub(crate) async fn asset_changed(
    conn: &mut AsyncPgConnection,
    asset_id: Uuid,
    showing: impl IntoIterator<Item = Uuid>,
    actor: &Actor,
) -> Result<(), Error> {
    let now = Utc::now();
    let mut ids: Vec<Uuid> = showing.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    for article_id in ids {
        let article: ArticleRow = articles::table
            .find(article_id)
            .select(ArticleRow::as_select())
            .for_update()
            .first(conn)
            .await?;
        let showing = section_items::table
            .filter(section_items::image_asset_id.eq(asset_id))
            .select(section_items::section_id);
        bump_sections(conn, article_id, Box::new(sections::id.eq_any(showing)), now).await?;
        let change = Change {
            was_published: Some(article.status == super::kinds::ArticleStatus::Published.as_str()),
            ..Change::new("replace", "article")
        };
        finish(conn, article_id, &article.summary, actor, change, now).await?;
    }
    Ok(())
}

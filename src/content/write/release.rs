//! Publishing a release: every staged change goes through the same write
//! code as a live PUT, all in one transaction, after checking that nothing
//! staged changed live since it was staged.

use chrono::Utc;
use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use super::translate::{Texts, TranslationOf};
use super::{Actor, Put, Target, lock_article, put_in};
use crate::content::error::{Error, Precondition, ReleaseConflict, Resource};
use crate::content::kinds::SectionKind;
use crate::content::locales::Locales;
use crate::content::releases::{self as release_store, StoredRelease};
use crate::content::{input, store, transaction};
use crate::db::DbPool;
use crate::db::schema::{release_items, releases};

/// How a publication ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every staged change is live; the slugs written.
    Published(Vec<String>),
    /// Staged changes moved live meanwhile: the release is now `failed`, nothing applied (scheduled only).
    Failed(Vec<ReleaseConflict>),
    /// Its changes could not be applied (not a conflict): `failed`, nothing applied.
    Unappliable(String),
}

/// One staged change, as read for publishing.
struct Staged {
    slug: String,
    kind: Option<String>,
    body: Value,
    base_version: Option<i64>,
    /// The locale of a staged translation; `None`: the default locale.
    locale: Option<String>,
}

/// The actor of a release's writes: `release:<id>`.
fn release_actor(id: Uuid, actor: &Actor) -> Actor {
    Actor {
        name: format!("release:{id}"),
        ..actor.clone()
    }
}

/// `POST /v1/releases/{id}/publish`: publishes now if `precondition` holds
/// for the release; the slugs written and the published release. A
/// conflict ([`Error::ReleaseConflict`]) or a change that cannot be applied
/// ([`Error::ReleaseUnappliable`]) is an error and leaves everything as it was.
pub async fn publish_release(
    pool: &DbPool,
    id: Uuid,
    precondition: Precondition,
    actor: Actor,
) -> Result<(Vec<String>, StoredRelease), Error> {
    transaction::write(pool, async |conn| {
        // Changes under way finish first; later ones meet a 409 until this ends.
        release_store::advisory_lock(conn, id, true, true).await?;
        let release = release_store::lock(conn, id).await?;
        precondition.check(Resource::Release, release.version())?;
        release.check_open()?;
        match apply(conn, id, &release_actor(id, &actor)).await? {
            Ok(slugs) => {
                let published = release_store::lock(conn, id).await?;
                Ok((slugs, release_store::stored(conn, published).await?))
            }
            Err(conflicts) => Err(Error::ReleaseConflict(conflicts)),
        }
    })
    .await
}

/// A scheduled publication that failed: the release it had claimed, if it
/// got that far, and why.
#[derive(Debug)]
pub struct DueFailure {
    pub release: Option<Uuid>,
    pub error: Error,
}

/// Claims one due scheduled release (`FOR UPDATE SKIP LOCKED`, so exactly
/// one node takes it) and publishes it in the same transaction; a conflict
/// leaves it `failed` with its conflicts. The release and how it ended, or
/// `None` if none was due (or another node holds it, or a change to it is
/// under way: it is tried again at the next poll). A release whose earlier
/// attempts failed waits for its `retry_at`.
pub async fn publish_due(pool: &DbPool, actor: Actor) -> Result<Option<(Uuid, Outcome)>, DueFailure> {
    let claimed = std::sync::Mutex::new(None);
    let outcome = transaction::write(pool, async |conn| {
        let due: Option<Uuid> = releases::table
            .filter(releases::state.eq(release_store::state::SCHEDULED))
            .filter(releases::publish_at.le(diesel::dsl::now))
            .filter(releases::retry_at.is_null().or(releases::retry_at.le(diesel::dsl::now)))
            .order(releases::publish_at.asc())
            .select(releases::id)
            .for_update()
            .skip_locked()
            .first(conn)
            .await
            .optional()?;
        let Some(id) = due else {
            return Ok(None);
        };
        if !release_store::advisory_lock(conn, id, true, false).await? {
            return Ok(None);
        }
        if let Ok(mut claimed) = claimed.lock() {
            *claimed = Some(id);
        }
        let actor = release_actor(id, &actor);
        // A savepoint: changes that cannot be applied roll back alone, and
        // the release is failed while this transaction still holds it.
        let applied = conn.transaction(async |conn| apply(conn, id, &actor).await).await;
        match applied {
            Ok(Ok(slugs)) => Ok(Some((id, Outcome::Published(slugs)))),
            Ok(Err(conflicts)) => {
                release_store::mark_failed(conn, id, &conflicts).await?;
                Ok(Some((id, Outcome::Failed(conflicts))))
            }
            Err(err @ (Error::Unavailable(_) | Error::WriteInterrupted { .. } | Error::TimedOut { .. })) => Err(err),
            Err(Error::ReleaseUnappliable { slug, kind, reason }) => {
                release_store::mark_failed(conn, id, &[]).await?;
                let what = kind.map_or_else(
                    || format!("the article {slug:?}"),
                    |kind| format!("the section {kind} of {slug:?}"),
                );
                Ok(Some((id, Outcome::Unappliable(format!("{what}: {reason}")))))
            }
            Err(err) => {
                release_store::mark_failed(conn, id, &[]).await?;
                Ok(Some((id, Outcome::Unappliable(err.to_string()))))
            }
        }
    })
    .await;
    outcome.map_err(|error| DueFailure {
        release: claimed.lock().ok().and_then(|claimed| *claimed),
        error,
    })
}

/// The staged changes of the release `id` (of the article `slug` only, if
/// given) in the order they are applied: translations first (they were
/// checked against the live structure, and a text in them equal to what the
/// locale falls back to today is then not stored as a translation), then
/// changes in the default locale (which may change structure, and apply to
/// every locale); whole articles before sections, each in staging order.
async fn staged(conn: &mut AsyncPgConnection, id: Uuid, slug: Option<&str>) -> QueryResult<Vec<Staged>> {
    let mut query = release_items::table
        .filter(release_items::release_id.eq(id))
        .order((
            release_items::locale.is_null(),
            release_items::kind.is_not_null(),
            release_items::staged_at.asc(),
            release_items::id.asc(),
        ))
        .select((
            release_items::slug,
            release_items::kind,
            release_items::body,
            release_items::base_version,
            release_items::locale,
        ))
        .into_boxed();
    if let Some(slug) = slug {
        query = query.filter(release_items::slug.eq(slug.to_owned()));
    }
    type Row = (String, Option<String>, Value, Option<i64>, Option<String>);
    let rows: Vec<Row> = query.load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(slug, kind, body, base_version, locale)| Staged {
            slug,
            kind,
            body,
            base_version,
            locale,
        })
        .collect())
}

/// Checks every staged change against the live versions (locking each
/// article), then applies them all: whole articles first, then sections.
/// The conflicts, if any, with nothing applied.
async fn apply(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    actor: &Actor,
) -> Result<Result<Vec<String>, Vec<ReleaseConflict>>, Error> {
    let staged = staged(conn, id, None).await?;
    let mut conflicts = Vec::new();
    for item in &staged {
        let kind = parse_kind(item.kind.as_deref())?;
        let article = lock_article(conn, &item.slug).await?;
        let version = match (article, kind) {
            (None, _) => None,
            (Some(article), None) => Some(article.version),
            (Some(article), Some(kind)) => store::load_sections(conn, article.id, Some(&[kind]))
                .await?
                .into_iter()
                .next()
                .map(|section| section.row.version),
        };
        if version != item.base_version {
            conflicts.push(ReleaseConflict {
                slug: item.slug.clone(),
                kind: item.kind.clone(),
                staged_base_version: item.base_version,
                current_version: version,
            });
        }
    }
    if !conflicts.is_empty() {
        return Ok(Err(conflicts));
    }
    let locales = Locales::load(conn).await?;
    let mut slugs: Vec<String> = Vec::new();
    for item in staged {
        apply_one(conn, &item, &locales, actor)
            .await
            .map_err(|err| unappliable(&item, err))?;
        if !slugs.contains(&item.slug) {
            slugs.push(item.slug);
        }
    }
    diesel::update(releases::table.find(id))
        .set((
            releases::state.eq(release_store::state::PUBLISHED),
            releases::published_at.eq(Utc::now()),
            releases::conflicts.eq(Value::Array(Vec::new())),
            releases::version.eq(releases::version + 1),
            releases::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .await?;
    release_store::release_event(conn, "release.published", id, serde_json::json!({"slugs": slugs})).await?;
    Ok(Ok(slugs))
}

/// Applies one staged change through the live write code.
async fn apply_one(conn: &mut AsyncPgConnection, item: &Staged, locales: &Locales, actor: &Actor) -> Result<(), Error> {
    let kind = parse_kind(item.kind.as_deref())?;
    let target = |precondition| Target {
        slug: &item.slug,
        precondition,
        actor,
    };
    if let Some(locale) = &item.locale {
        if locales.get(locale).is_none_or(|found| found.default) {
            return Err(Error::ReleaseUnappliable {
                slug: item.slug.clone(),
                kind: item.kind.clone(),
                reason: format!("the locale {locale:?} of its staged translation is no longer configured"),
            });
        }
        let of = kind.map_or(TranslationOf::Article, TranslationOf::Section);
        let texts = Texts {
            of,
            locale,
            locales,
            body: &item.body,
        };
        put_in(conn, target(Precondition::Any), Put::Texts(texts)).await?;
        return Ok(());
    }
    match kind {
        None => {
            // A new article staged whole does not exist yet (its base version is null).
            let exists = lock_article(conn, &item.slug).await?.is_some();
            let input = input::parse_article(&item.body, &item.slug).map_err(Error::Invalid)?;
            put_in(conn, target(any_or_absent(exists)), Put::Article(input)).await?;
        }
        Some(kind) => {
            let exists = match lock_article(conn, &item.slug).await? {
                Some(article) => !store::load_sections(conn, article.id, Some(&[kind])).await?.is_empty(),
                None => false,
            };
            let input = input::parse_section(&item.body, kind).map_err(Error::Invalid)?;
            put_in(conn, target(any_or_absent(exists)), Put::Section(input)).await?;
        }
    }
    Ok(())
}

/// A staged change the write code refused though nothing it was based on
/// moved live: [`Error::ReleaseUnappliable`], said for the editor (the
/// publish request itself names no article and has no body, so a bare 404 or
/// 422 would point at the wrong thing). Other errors pass as they are.
fn unappliable(item: &Staged, err: Error) -> Error {
    let reason = match err {
        Error::ArticleNotFound { slug } => format!("the article {slug:?} does not exist"),
        Error::Invalid(errors) => {
            let problems: Vec<String> = errors
                .iter()
                .map(|error| format!("{} {}", error.pointer, error.message))
                .collect();
            format!("the staged body breaks today's content rules ({})", problems.join("; "))
        }
        other => return other,
    };
    Error::ReleaseUnappliable {
        slug: item.slug.clone(),
        kind: item.kind.clone(),
        reason,
    }
}

fn any_or_absent(exists: bool) -> Precondition {
    if exists {
        Precondition::Any
    } else {
        Precondition::Absent
    }
}

fn parse_kind(kind: Option<&str>) -> Result<Option<SectionKind>, Error> {
    kind.map(|name| {
        SectionKind::parse(name).ok_or_else(|| Error::Corrupt(format!("a staged section of kind {name:?}")))
    })
    .transpose()
}

/// Why a preview transaction ended: it always rolls back.
enum PreviewExit {
    /// The article as the release would leave it (`None`: it would not exist).
    Done(Option<Box<(store::ArticleRow, Vec<store::StoredSection>)>>),
    /// Something failed.
    Failed(Error),
}

crate::content::error::wraps_content_errors!(PreviewExit::Failed);

/// The ids of a live article's copy, and of its sections' and items' copies.
struct Copy {
    /// The live article's id and the copy's.
    article: (Uuid, Uuid),
    /// Live section or item id → the copy's.
    ids: HashMap<Uuid, Uuid>,
}

impl Copy {
    /// The live id of a copy's id (an id made by the write code stays).
    fn live(&self, id: Uuid) -> Uuid {
        if id == self.article.1 {
            return self.article.0;
        }
        self.ids
            .iter()
            .find_map(|(live, copy)| (*copy == id).then_some(*live))
            .unwrap_or(id)
    }

    /// `body` with every item `id` of the live article as the copy's.
    fn body(&self, mut body: Value) -> Value {
        fn walk(value: &mut Value, ids: &HashMap<Uuid, Uuid>) {
            match value {
                Value::Object(object) => {
                    for (key, value) in object.iter_mut() {
                        match (key.as_str(), &*value) {
                            ("id", Value::String(text)) => {
                                if let Some(copy) = Uuid::try_parse(text).ok().and_then(|id| ids.get(&id)) {
                                    *value = Value::String(copy.to_string());
                                }
                            }
                            _ => walk(value, ids),
                        }
                    }
                }
                Value::Array(values) => values.iter_mut().for_each(|value| walk(value, ids)),
                _ => {}
            }
        }
        walk(&mut body, &self.ids);
        body
    }
}

/// Copies the live article (row, sections, items; every column, whatever
/// the tables hold) under `slug`, with new ids. Inserting takes no lock a
/// writer of the live article waits for.
async fn copy_article(conn: &mut AsyncPgConnection, live: &store::ArticleRow, slug: &str) -> Result<Copy, Error> {
    use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
    let sections = store::load_sections(conn, live.id, None).await?;
    let copy = Uuid::new_v4();
    let (mut section_ids, mut item_ids) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for section in &sections {
        section_ids.0.push(section.row.id);
        section_ids.1.push(Uuid::new_v4());
        for item in &section.items {
            item_ids.0.push(item.id);
            item_ids.1.push(Uuid::new_v4());
        }
    }
    diesel::sql_query(
        "INSERT INTO articles SELECT (jsonb_populate_record(NULL::articles, \
         to_jsonb(a) || jsonb_build_object('id', $2::uuid, 'slug', $3::text))).* FROM articles a WHERE a.id = $1",
    )
    .bind::<SqlUuid, _>(live.id)
    .bind::<SqlUuid, _>(copy)
    .bind::<Text, _>(slug)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO sections SELECT (jsonb_populate_record(NULL::sections, \
         to_jsonb(s) || jsonb_build_object('id', m.copy, 'article_id', $1::uuid))).* \
         FROM sections s JOIN unnest($2::uuid[], $3::uuid[]) AS m (live, copy) ON m.live = s.id",
    )
    .bind::<SqlUuid, _>(copy)
    .bind::<Array<SqlUuid>, _>(&section_ids.0)
    .bind::<Array<SqlUuid>, _>(&section_ids.1)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO section_items SELECT (jsonb_populate_record(NULL::section_items, \
         to_jsonb(i) || jsonb_build_object('id', m.copy, 'section_id', s.copy))).* \
         FROM section_items i JOIN unnest($1::uuid[], $2::uuid[]) AS m (live, copy) ON m.live = i.id \
         JOIN unnest($3::uuid[], $4::uuid[]) AS s (live, copy) ON s.live = i.section_id",
    )
    .bind::<Array<SqlUuid>, _>(&item_ids.0)
    .bind::<Array<SqlUuid>, _>(&item_ids.1)
    .bind::<Array<SqlUuid>, _>(&section_ids.0)
    .bind::<Array<SqlUuid>, _>(&section_ids.1)
    .execute(conn)
    .await?;
    let ids = section_ids
        .0
        .into_iter()
        .zip(section_ids.1)
        .chain(item_ids.0.into_iter().zip(item_ids.1))
        .collect();
    Ok(Copy {
        article: (live.id, copy),
        ids,
    })
}

/// The article `slug` as it will be once the release is published: its
/// staged changes applied through the write code, so that derived fields and
/// item ids are exactly what publishing stores, in a transaction that is
/// always rolled back (nothing is recorded, notified or sent). They are
/// applied to a copy of the live article under a slug of its own, never to
/// the live rows: a preview locks nothing a writer waits for.
pub async fn preview_article(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    slug: &str,
    visibility: store::Visibility,
    actor: Actor,
) -> Result<Option<(store::ArticleRow, Vec<store::StoredSection>)>, Error> {
    let outcome: Result<(), PreviewExit> = crate::db::deadline(conn.transaction(async |conn| {
        let exists: bool = diesel::select(diesel::dsl::exists(releases::table.find(id)))
            .get_result(conn)
            .await?;
        if !exists {
            return Err(PreviewExit::Failed(Error::ReleaseNotFound { id }));
        }
        let changes = staged(conn, id, Some(slug)).await?;
        let stand_in = format!("preview-{}", Uuid::new_v4().simple());
        let copy = match store::find_article(conn, slug, store::Visibility::All).await? {
            Some(live) => Some(copy_article(conn, &live, &stand_in).await?),
            None => None,
        };
        let actor = release_actor(id, &actor);
        let locales = Locales::load(conn).await?;
        // Staged translations are not previewed: a preview reads the default locale.
        for change in changes.into_iter().filter(|change| change.locale.is_none()) {
            let change = Staged {
                slug: stand_in.clone(),
                body: match &copy {
                    Some(copy) => copy.body(change.body),
                    None => change.body,
                },
                ..change
            };
            apply_one(conn, &change, &locales, &actor).await?;
        }
        // (Not `store::load_article`: it opens a transaction of its own.)
        let Some(mut article) = store::find_article(conn, &stand_in, visibility).await? else {
            return Err(PreviewExit::Done(None));
        };
        let mut sections = store::load_sections(conn, article.id, None).await?;
        article.slug = slug.to_owned();
        if let Some(copy) = &copy {
            article.id = copy.live(article.id);
            for section in &mut sections {
                section.row.id = copy.live(section.row.id);
                section.row.article_id = article.id;
                for item in &mut section.items {
                    item.id = copy.live(item.id);
                    item.section_id = section.row.id;
                }
            }
        }
        Err(PreviewExit::Done(Some(Box::new((article, sections)))))
    }))
    .await;
    match outcome {
        Ok(()) => Ok(None),
        Err(PreviewExit::Done(article)) => Ok(article.map(|article| *article)),
        Err(PreviewExit::Failed(err)) => Err(err),
    }
}

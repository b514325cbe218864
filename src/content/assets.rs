//! Uploaded images' metadata (API.md §15): the `assets` table, what a
//! `PUT` may change, and the queries. The files are [`crate::media::Store`]'s.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

pub use super::error::Use;
use super::error::{Error, Precondition, Resource, Version};
use super::fields::{FieldError, Text};
use super::locales::Locales;
use super::transaction;
use super::write::Actor;
use crate::db::DbPool;
use crate::db::schema::assets;
use crate::media::{Staged, Store};

/// Longest file name, in characters.
pub const MAX_FILENAME_CHARS: usize = 200;
pub use super::images::{AltText, MAX_ALT_CHARS};

/// A stored asset.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = assets)]
pub struct AssetRow {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub sha256: String,
    pub storage_key: String,
    pub placeholder: String,
    pub alt: Value,
    pub caption: Option<Value>,
    pub focal_x: f64,
    pub focal_y: f64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AssetRow {
    /// The version a precondition names.
    pub fn version(&self) -> Version {
        Version {
            id: self.id,
            version: self.version,
        }
    }
}

/// A new asset, its bytes already staged in the store.
#[derive(Debug, Clone)]
pub struct NewAsset {
    pub filename: String,
    pub content_type: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    /// The SHA-256 of the bytes, lowercase hex: also the storage key.
    pub sha256: String,
    pub placeholder: String,
}

/// What a `PUT` sets; what it leaves out stays as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetChanges {
    pub filename: Option<String>,
    pub alt: Option<BTreeMap<String, String>>,
    /// `Some(None)`: no caption.
    pub caption: Option<Option<BTreeMap<String, String>>>,
    pub focal_point: Option<(f64, f64)>,
}

/// Checks a file name: 1..=[`MAX_FILENAME_CHARS`] characters, one path
/// segment (no `/` or `\`, not `.` or `..`), no control characters.
pub fn check_filename(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_FILENAME_CHARS {
        Err(format!("must be 1-{MAX_FILENAME_CHARS} characters (got {chars})"))
    } else if name.contains(['/', '\\']) || name == "." || name == ".." {
        Err("must be a file name, not a path".to_owned())
    } else if name.chars().any(char::is_control) || name.trim() != name {
        Err("must not contain control characters or surrounding white space".to_owned())
    } else {
        Ok(())
    }
}

fn error(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// Reads `{locale: text}` at `pointer`.
fn texts<const MAX: usize>(value: &Value, pointer: &str, errors: &mut Vec<FieldError>) -> BTreeMap<String, String> {
    let Some(object) = value.as_object() else {
        errors.push(error(
            pointer,
            "must be an object of texts by locale, e.g. {\"en\": \"…\"}",
        ));
        return BTreeMap::new();
    };
    let mut texts = BTreeMap::new();
    for (locale, text) in object {
        let at = format!("{pointer}/{}", locale.replace('~', "~0").replace('/', "~1"));
        match text.as_str().map(|text| Text::<MAX>::parse(text.to_owned())) {
            Some(Ok(text)) => {
                texts.insert(locale.clone(), text.0);
            }
            Some(Err(invalid)) => errors.push(error(at, invalid.0)),
            None => errors.push(error(at, "must be a string")),
        }
    }
    texts
}

/// Reads a `PUT /v1/assets/{id}` body: `filename`, `alt`, `caption`,
/// `focal_point`, each optional. Every problem is listed.
pub fn parse_write(body: &Value) -> Result<AssetChanges, Vec<FieldError>> {
    const KNOWN: [&str; 4] = ["filename", "alt", "caption", "focal_point"];
    let Some(object) = body.as_object() else {
        return Err(vec![error("", "must be an object")]);
    };
    let mut errors = Vec::new();
    for name in object.keys().filter(|name| !KNOWN.contains(&name.as_str())) {
        errors.push(error(
            format!("/{name}"),
            format!("is not a field of an asset (known: {})", KNOWN.join(", ")),
        ));
    }
    let mut changes = AssetChanges::default();
    if let Some(filename) = object.get("filename") {
        match filename.as_str().map(|name| (name, check_filename(name))) {
            Some((name, Ok(()))) => changes.filename = Some(name.to_owned()),
            Some((_, Err(message))) => errors.push(error("/filename", message)),
            None => errors.push(error("/filename", "must be a string")),
        }
    }
    if let Some(alt) = object.get("alt") {
        changes.alt = Some(texts::<MAX_ALT_CHARS>(alt, "/alt", &mut errors));
    }
    if let Some(caption) = object.get("caption") {
        changes.caption = Some(match caption {
            Value::Null => None,
            caption => Some(texts::<{ super::fields::MAX_BODY_CHARS }>(
                caption,
                "/caption",
                &mut errors,
            )),
        });
    }
    if let Some(point) = object.get("focal_point") {
        let coordinate = |name: &str, errors: &mut Vec<FieldError>| match point.get(name).and_then(Value::as_f64) {
            Some(value) if (0.0..=1.0).contains(&value) => value,
            _ => {
                errors.push(error(format!("/focal_point/{name}"), "must be a number from 0 to 1"));
                0.5
            }
        };
        if point.is_object() {
            let x = coordinate("x", &mut errors);
            let y = coordinate("y", &mut errors);
            if let Some(extra) = point
                .as_object()
                .and_then(|point| point.keys().find(|key| *key != "x" && *key != "y"))
            {
                errors.push(error(
                    format!("/focal_point/{extra}"),
                    "is not a field of a focal point (x, y)",
                ));
            }
            changes.focal_point = Some((x, y));
        } else {
            errors.push(error("/focal_point", "must be an object {\"x\": 0..1, \"y\": 0..1}"));
        }
    }
    if errors.is_empty() { Ok(changes) } else { Err(errors) }
}

/// Checks that every locale `changes` gives texts in is configured.
fn check_locales(changes: &AssetChanges, locales: &Locales) -> Result<(), Error> {
    let mut errors = Vec::new();
    let fields = [
        ("alt", changes.alt.as_ref()),
        ("caption", changes.caption.as_ref().and_then(Option::as_ref)),
    ];
    for (field, texts) in fields {
        for locale in texts.into_iter().flat_map(BTreeMap::keys) {
            if locales.get(locale).is_none() {
                errors.push(error(
                    format!("/{field}/{}", locale.replace('~', "~0").replace('/', "~1")),
                    "is not a configured locale (GET /v1/locales)",
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

/// The asset `id`, locked for a change of its metadata (`for_delete`: for
/// its deletion, which also waits for the writes that are starting to use it).
async fn take(conn: &mut AsyncPgConnection, id: Uuid, for_delete: bool) -> Result<AssetRow, Error> {
    let query = assets::table.find(id).select(AssetRow::as_select());
    let row = if for_delete {
        query.for_update().first(conn).await
    } else {
        // Not FOR UPDATE: a content write holding its article's lock may
        // still take the key-share lock that keeps the asset while it is
        // used (write::images::check), so the two cannot deadlock.
        query.for_no_key_update().first(conn).await
    };
    row.optional()?.ok_or(Error::AssetNotFound { id })
}

/// Serializes the writes that place or remove the file of `key` (an upload
/// of the same bytes and the deletion of their last asset).
async fn lock_key(conn: &mut AsyncPgConnection, key: &str) -> Result<(), Error> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 20))")
        .bind::<diesel::sql_types::Text, _>(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a new asset whose bytes are staged in `staged`: the file is
/// placed (renamed into place, or written to the object store), then the
/// row inserted, in one transaction (a file
/// without a row can be left by a crash between the two; a row without its
/// file cannot).
pub async fn create(pool: &DbPool, store: &Store, staged: Staged, new: NewAsset) -> Result<AssetRow, Error> {
    let result = transaction::write(pool, async |conn| {
        lock_key(conn, &new.sha256).await?;
        let (path, staged) = (store.original(&new.sha256), staged.clone());
        store
            .blocking(move |store| store.place(&staged, &path))
            .await
            .map_err(|err| Error::store("placing an upload", err))?;
        let row = diesel::insert_into(assets::table)
            .values((
                assets::id.eq(Uuid::new_v4()),
                assets::filename.eq(&new.filename),
                assets::content_type.eq(&new.content_type),
                assets::bytes.eq(new.bytes),
                assets::width.eq(new.width),
                assets::height.eq(new.height),
                assets::sha256.eq(&new.sha256),
                assets::storage_key.eq(&new.sha256),
                assets::placeholder.eq(&new.placeholder),
            ))
            .returning(AssetRow::as_returning())
            .get_result(conn)
            .await?;
        asset_event(conn, "asset.created", &row).await?;
        Ok(row)
    })
    .await;
    if result.is_err() {
        // Placed or not, the staged file is not needed any more.
        if let Staged::File(temporary) = &staged {
            let _ = std::fs::remove_file(temporary);
        }
    }
    result
}

/// The asset `id`.
pub async fn find(pool: &DbPool, id: Uuid) -> Result<AssetRow, Error> {
    transaction::read(pool, async |conn| {
        assets::table
            .find(id)
            .select(AssetRow::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or(Error::AssetNotFound { id })
    })
    .await
}

/// Where a page of the asset list starts: after this asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    /// 48 hex digits: the time in microseconds, then the id.
    pub fn encode(&self) -> String {
        format!("{:016x}{}", self.created_at.timestamp_micros(), self.id.simple())
    }

    /// A cursor [`Cursor::encode`] made, if `text` is one.
    pub fn decode(text: &str) -> Option<Cursor> {
        if text.len() != 48
            || !text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        {
            return None;
        }
        let micros = i64::from_str_radix(&text[..16], 16).ok()?;
        Some(Cursor {
            created_at: DateTime::from_timestamp_micros(micros)?,
            id: Uuid::try_parse(&text[16..]).ok()?,
        })
    }
}

/// A page of at most `limit` assets, newest first, after `after`, each with
/// where content uses it; and whether more follow.
pub async fn list(
    pool: &DbPool,
    after: Option<Cursor>,
    limit: i64,
) -> Result<(Vec<(AssetRow, Vec<Use>)>, bool), Error> {
    transaction::read(pool, async |conn| {
        let mut query = assets::table
            .select(AssetRow::as_select())
            .order((assets::created_at.desc(), assets::id.desc()))
            .limit(limit + 1)
            .into_boxed();
        if let Some(after) = after {
            let (columns, at) = ("assets.created_at, assets.id", after.created_at);
            query = query.filter(crate::db::row_before::<_, diesel::sql_types::Timestamptz, _>(
                columns, at, after.id,
            ));
        }
        let (rows, more) = crate::db::page(query.load(conn).await?, limit);
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let mut all = uses(conn, &ids).await?;
        let page = rows
            .into_iter()
            .map(|row| {
                let (mine, rest) = all.drain(..).partition(|found| found.asset_id == row.id);
                all = rest;
                (row, mine)
            })
            .collect();
        Ok((page, more))
    })
    .await
}

fn texts_value(texts: &BTreeMap<String, String>) -> Value {
    Value::Object(
        texts
            .iter()
            .map(|(key, text)| (key.clone(), Value::String(text.clone())))
            .collect(),
    )
}

/// Applies `changes` to the asset `id` if `precondition` holds. A change
/// that changes nothing keeps the version.
pub async fn update(
    pool: &DbPool,
    id: Uuid,
    precondition: Precondition,
    changes: AssetChanges,
    actor: &Actor,
) -> Result<(AssetRow, Vec<Use>), Error> {
    transaction::write(pool, async |conn| {
        let current = take(conn, id, false).await?;
        precondition.check(Resource::Asset, current.version())?;
        let locales = Locales::load(conn).await?;
        check_locales(&changes, &locales)?;
        let uses = uses(conn, &[id]).await?;
        let mut next = current.clone();
        if let Some(filename) = &changes.filename {
            next.filename.clone_from(filename);
        }
        if let Some(alt) = &changes.alt {
            next.alt = texts_value(alt);
        }
        if let Some(caption) = &changes.caption {
            next.caption = caption.as_ref().map(texts_value);
        }
        if let Some((x, y)) = changes.focal_point {
            (next.focal_x, next.focal_y) = (x, y);
        }
        if next == current {
            return Ok((current, uses));
        }
        // A published article showing it with no alt text of its own needs the asset's.
        let default = locales.default_code();
        let bare: Vec<&Use> = uses
            .iter()
            .filter(|found| found.published && !found.needs_no_alt)
            .collect();
        if next.alt.get(default).is_none()
            && let Some(first) = <[&Use]>::first(&bare)
        {
            return Err(Error::Invalid(vec![error(
                format!("/alt/{default}"),
                format!(
                    "is required: the published article {:?} shows this image at {} without alt text of its own \
                     ({} such use(s) in all)",
                    first.slug,
                    first.pointer,
                    bare.len()
                ),
            )]));
        }
        let row = diesel::update(assets::table.find(id))
            .set((
                assets::filename.eq(&next.filename),
                assets::alt.eq(&next.alt),
                assets::caption.eq(&next.caption),
                assets::focal_x.eq(next.focal_x),
                assets::focal_y.eq(next.focal_y),
                assets::version.eq(assets::version + 1),
                assets::updated_at.eq(diesel::dsl::now),
            ))
            .returning(AssetRow::as_returning())
            .get_result(conn)
            .await?;
        // What the articles using it show changed with it (the database
        // updated their copies): each is a change of its article.
        super::write::asset_changed(conn, id, uses.iter().map(|found| found.article_id), actor).await?;
        asset_event(conn, "asset.updated", &row).await?;
        Ok((row, uses))
    })
    .await
}

/// Deletes the asset `id` if `precondition` holds, and its file (and the
/// file's variants) when no other asset has the same bytes.
pub async fn delete(pool: &DbPool, store: &Store, id: Uuid, precondition: Precondition) -> Result<(), Error> {
    transaction::write(pool, async |conn| {
        let current = take(conn, id, true).await?;
        precondition.check(Resource::Asset, current.version())?;
        let uses = uses(conn, &[id]).await?;
        if !uses.is_empty() {
            return Err(Error::AssetInUse { id, uses });
        }
        lock_key(conn, &current.storage_key).await?;
        diesel::delete(assets::table.find(id)).execute(conn).await?;
        asset_event(conn, "asset.deleted", &current).await?;
        let others: i64 = assets::table
            .filter(assets::storage_key.eq(&current.storage_key))
            .count()
            .get_result(conn)
            .await?;
        if others == 0 {
            // Under the key's lock, so no upload of the same bytes places
            // the file meanwhile; removed before COMMIT, so a failed
            // removal keeps the row.
            let key = current.storage_key.clone();
            store
                .blocking(move |store| store.remove(&key))
                .await
                .map_err(|err| Error::store("removing an asset's files", err))?;
        }
        Ok(())
    })
    .await
}

/// Where content uses the assets `ids`, by article slug and pointer.
pub async fn uses(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> QueryResult<Vec<Use>> {
    diesel::sql_query(
        "SELECT hero_asset_id AS asset_id, id AS article_id, slug, '/hero_image' AS pointer, \
                status = 'published' AS published, (hero_alt IS NOT NULL OR hero_decorative) AS needs_no_alt \
         FROM articles WHERE hero_asset_id = ANY($1) \
         UNION ALL \
         SELECT i.image_asset_id, a.id, a.slug, \
                '/sections/' || (s.position - 1) || '/items/' || (i.position - 1) || '/image', \
                a.status = 'published', (i.image_alt IS NOT NULL OR i.image_decorative) \
         FROM section_items i JOIN sections s ON s.id = i.section_id JOIN articles a ON a.id = s.article_id \
         WHERE i.image_asset_id = ANY($1) \
         ORDER BY 3, 4",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .load(conn)
    .await
}

/// Whether published content shows the asset `id` (so anyone may fetch its file).
pub async fn is_public(pool: &DbPool, id: Uuid) -> Result<bool, Error> {
    // One EXISTS on the use indexes, not the listing of every use: this is
    // asked on every anonymous file GET.
    transaction::read(pool, async |conn| {
        let published =
            diesel::dsl::sql::<diesel::sql_types::Bool>("EXISTS (SELECT 1 FROM articles WHERE hero_asset_id = ")
                .bind::<diesel::sql_types::Uuid, _>(id)
                .sql(
                    " AND status = 'published') OR EXISTS (SELECT 1 FROM section_items i \
             JOIN sections s ON s.id = i.section_id JOIN articles a ON a.id = s.article_id \
             WHERE i.image_asset_id = ",
                )
                .bind::<diesel::sql_types::Uuid, _>(id)
                .sql(" AND a.status = 'published')");
        Ok(diesel::select(published).get_result(conn).await?)
    })
    .await
}

/// The asset `id` and where content uses it.
pub async fn find_with_uses(pool: &DbPool, id: Uuid) -> Result<(AssetRow, Vec<Use>), Error> {
    transaction::read(pool, async |conn| {
        let row = assets::table
            .find(id)
            .select(AssetRow::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or(Error::AssetNotFound { id })?;
        Ok((row, uses(conn, &[id]).await?))
    })
    .await
}

/// An `asset.*` webhook event of `row`, in the write's transaction.
async fn asset_event(conn: &mut AsyncPgConnection, event: &str, row: &AssetRow) -> QueryResult<()> {
    let data = serde_json::json!({
        "asset_id": row.id,
        "filename": row.filename,
        "version": row.version,
        "url": super::images::file_url(row.id, &row.filename),
    });
    super::webhooks::enqueue_event(conn, event, data).await
}

/// How old a temporary file must be before [`sweep`] removes it: older than
/// any upload or variant in progress (on any node sharing the store).
pub const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(3600);

/// What a crash can leave in the store, removed (run at start): a file of
/// originals that no asset names (its upload was killed between placing the
/// file and committing the row), with its variants, and temporary files
/// older than [`STALE_TEMPORARY`]. An original is removed only under its
/// key's lock with no row found, so an upload of the same bytes in progress
/// (it places the file under that lock) keeps it. Returns how many files went.
pub async fn sweep(pool: &DbPool, store: &Store) -> Result<usize, Error> {
    let (keys, temporaries) = store
        .blocking(|store| store.leftovers(STALE_TEMPORARY))
        .await
        .map_err(|err| Error::store("listing what a crash left", err))?;
    let mut removed = 0;
    for path in temporaries {
        if store.blocking(move |store| store.remove_file(&path)).await.is_ok() {
            removed += 1;
        }
    }
    if keys.is_empty() {
        return Ok(removed);
    }
    let named: Vec<String> = transaction::read(pool, async |conn| {
        Ok(assets::table
            .filter(assets::storage_key.eq_any(&keys))
            .select(assets::storage_key)
            .distinct()
            .load(conn)
            .await?)
    })
    .await?;
    for key in keys.into_iter().filter(|key| !named.contains(key)) {
        let gone = transaction::write(pool, async |conn| {
            let locked: bool = diesel::select(
                diesel::dsl::sql::<diesel::sql_types::Bool>("pg_try_advisory_xact_lock(hashtextextended(")
                    .bind::<diesel::sql_types::Text, _>(&key)
                    .sql(", 20))"),
            )
            .get_result(conn)
            .await?;
            let exists: bool = diesel::select(diesel::dsl::exists(assets::table.filter(assets::storage_key.eq(&key))))
                .get_result(conn)
                .await?;
            if !locked || exists {
                return Ok(false);
            }
            let key = key.clone();
            store
                .blocking(move |store| store.remove(&key))
                .await
                .map_err(|err| Error::store("removing an asset's files", err))?;
            Ok(true)
        })
        .await?;
        removed += usize::from(gone);
    }
    Ok(removed)
}

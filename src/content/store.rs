//! Queries over the content tables. Each function takes a connection and
//! returns `QueryResult`; callers compose them inside one transaction.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::body::AsRead;
use super::images::Image;
use super::input::{ArticleInput, ItemInput, SectionInput, reading_time_minutes};
use super::kinds::{ArticleStatus, Phase, SectionKind};
use super::model::{ArticleMeta, Item, ItemContent, PhaseHeadings, Section, SectionContent};
use crate::db::schema::{articles, section_items, sections};

/// An `articles` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(diesel::pg::Pg))]
pub struct ArticleRow {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub author: String,
    pub published_on: NaiveDate,
    pub status: String,
    pub summary: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub hero_asset_id: Option<Uuid>,
    pub hero_alt: Option<String>,
    pub hero_decorative: bool,
    /// What a read shows of the hero image's asset (kept by the database).
    pub hero_asset: Option<serde_json::Value>,
}

/// A `sections` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sections, check_for_backend(diesel::pg::Pg))]
pub struct SectionRow {
    pub id: Uuid,
    pub article_id: Uuid,
    pub kind: String,
    pub position: i32,
    pub heading: String,
    pub intro: Option<String>,
    pub body: Option<String>,
    pub note: Option<String>,
    pub call_to_action: Option<String>,
    pub phase_headings: Option<serde_json::Value>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// A `section_items` row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = section_items, check_for_backend(diesel::pg::Pg))]
pub struct ItemRow {
    pub id: Uuid,
    pub section_id: Uuid,
    pub kind: String,
    pub position: i32,
    pub phase: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub description: Option<String>,
    pub image_asset_id: Option<Uuid>,
    pub image_alt: Option<String>,
    pub image_decorative: bool,
    /// What a read shows of the image's asset (kept by the database).
    pub image_asset: Option<serde_json::Value>,
}

/// A section with its items, as stored.
#[derive(Debug, Clone)]
pub struct StoredSection {
    pub row: SectionRow,
    pub items: Vec<ItemRow>,
}

/// Who is reading: anonymous readers see published articles only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Published articles only.
    Published,
    /// Drafts too.
    All,
}

/// A stored value the model cannot represent: only possible if the database
/// was changed behind lamina's back, since its constraints mirror the model.
fn corrupt(what: String) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(what.into())
}

impl ArticleRow {
    /// The article's id and version.
    pub fn version(&self) -> super::Version {
        super::Version {
            id: self.id,
            version: self.version,
        }
    }

    /// The article metadata of the API.
    pub fn to_meta(&self) -> QueryResult<ArticleMeta> {
        let status =
            ArticleStatus::parse(&self.status).ok_or_else(|| corrupt(format!("bad status {:?}", self.status)))?;
        Ok(ArticleMeta {
            id: self.id,
            slug: self.slug.clone(),
            title: self.title.clone(),
            author: self.author.clone(),
            published_on: self.published_on,
            status,
            summary: self.summary.clone(),
            hero_image: self.hero_image(),
            reading_time_minutes: self.reading_time_minutes,
            word_count: self.word_count,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl ArticleRow {
    /// The hero image, as stored.
    pub fn hero_image(&self) -> Option<Image> {
        Image::stored(
            self.hero_asset_id,
            self.hero_alt.clone(),
            self.hero_decorative,
            self.hero_asset.as_ref(),
        )
    }
}

impl SectionRow {
    /// The section's id and version.
    pub fn version(&self) -> super::Version {
        super::Version {
            id: self.id,
            version: self.version,
        }
    }

    /// The expectations section's sub-headings, if stored.
    pub fn phase_headings(&self) -> QueryResult<Option<PhaseHeadings>> {
        self.phase_headings
            .as_ref()
            .map(|value| {
                serde_json::from_value::<PhaseHeadings>(value.clone())
                    .map_err(|err| corrupt(format!("phase_headings of {}: {err}", self.id)))
            })
            .transpose()
    }

    /// The section's kind.
    pub fn kind(&self) -> QueryResult<SectionKind> {
        SectionKind::parse(&self.kind).ok_or_else(|| corrupt(format!("bad section kind {:?}", self.kind)))
    }
}

impl ItemRow {
    /// The item's fields, checked against the shape of its kind.
    fn content(&self, kind: SectionKind) -> QueryResult<ItemContent> {
        let phase = match &self.phase {
            None => None,
            Some(name) => Some(Phase::parse(name).ok_or_else(|| corrupt(format!("bad phase in {}", self.id)))?),
        };
        let content = ItemContent {
            phase,
            title: self.title.clone(),
            body: self.body.clone(),
            description: self.description.clone(),
            image: Image::stored(
                self.image_asset_id,
                self.image_alt.clone(),
                self.image_decorative,
                self.image_asset.as_ref(),
            ),
        };
        let shape = kind
            .item_shape()
            .ok_or_else(|| corrupt(format!("item {} in a section without items", self.id)))?;
        for &field in shape.fields() {
            let present = content.text(field).map_or(content.phase.is_some(), Option::is_some);
            if !present {
                return Err(corrupt(format!("{} is missing in {}", field.name(), self.id)));
            }
        }
        Ok(content)
    }

    /// The item in the API shape of its kind.
    pub fn to_api(&self) -> QueryResult<Item> {
        let kind = SectionKind::parse(&self.kind).ok_or_else(|| corrupt(format!("bad item kind {:?}", self.kind)))?;
        Ok(Item {
            id: self.id,
            kind,
            content: self.content(kind)?,
        })
    }

    /// The item as a write body would give it, with its id.
    fn to_input(&self, kind: SectionKind) -> QueryResult<ItemInput> {
        Ok(ItemInput {
            id: Some(self.id),
            content: self.content(kind)?,
        })
    }
}

impl StoredSection {
    /// The version of its item `item_id`: an item changes with its section.
    pub fn item_version(&self, item_id: Uuid) -> super::Version {
        super::Version {
            id: item_id,
            version: self.row.version,
        }
    }

    /// The section's content with `items`.
    fn content<I>(&self, items: Vec<I>) -> QueryResult<SectionContent<I>> {
        let row = &self.row;
        let content = SectionContent {
            kind: row.kind()?,
            heading: row.heading.clone(),
            intro: row.intro.clone(),
            body: row.body.clone(),
            note: row.note.clone(),
            call_to_action: row.call_to_action.clone(),
            phase_headings: row.phase_headings()?,
            items,
        };
        Ok(content)
    }

    /// The section in the API shape of its kind.
    pub fn to_api(&self) -> QueryResult<Section> {
        let items = self.items.iter().map(ItemRow::to_api).collect::<QueryResult<_>>()?;
        Ok(Section {
            id: self.row.id,
            position: self.row.position,
            content: self.content(items)?,
            version: self.row.version,
            updated_at: self.row.updated_at,
        })
    }

    /// The section as a write body would give it, items with their ids: for
    /// change detection and revision snapshots.
    pub fn to_input(&self) -> QueryResult<SectionInput> {
        let kind = self.row.kind()?;
        let items = self
            .items
            .iter()
            .map(|item| item.to_input(kind))
            .collect::<QueryResult<_>>()?;
        self.content(items)
    }
}

/// The article with this slug, if the reader may see it.
pub async fn find_article(
    conn: &mut AsyncPgConnection,
    slug: &str,
    visibility: Visibility,
) -> QueryResult<Option<ArticleRow>> {
    let mut query = articles::table
        .filter(articles::slug.eq(slug))
        .select(ArticleRow::as_select())
        .into_boxed();
    if visibility == Visibility::Published {
        query = query.filter(articles::status.eq(ArticleStatus::Published.as_str()));
    }
    query.first(conn).await.optional()
}

/// The article with this slug, if the reader may see it, and its sections of
/// `kinds` (all if `None`), read in one snapshot.
pub async fn load_article(
    conn: &mut AsyncPgConnection,
    slug: &str,
    visibility: Visibility,
    kinds: Option<&[SectionKind]>,
) -> QueryResult<Option<(ArticleRow, Vec<StoredSection>)>> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(async move |conn| {
            let Some(row) = find_article(conn, slug, visibility).await? else {
                return Ok(None);
            };
            let sections = load_sections(conn, row.id, kinds).await?;
            Ok(Some((row, sections)))
        })
        .await
}

/// The sections of an article in order, with their items; only `kinds` if given.
pub async fn load_sections(
    conn: &mut AsyncPgConnection,
    article_id: Uuid,
    kinds: Option<&[SectionKind]>,
) -> QueryResult<Vec<StoredSection>> {
    let mut query = sections::table
        .filter(sections::article_id.eq(article_id))
        .order(sections::position.asc())
        .select(SectionRow::as_select())
        .into_boxed();
    if let Some(kinds) = kinds {
        query = query.filter(sections::kind.eq_any(kinds.iter().map(|kind| kind.as_str())));
    }
    let rows: Vec<SectionRow> = query.load(conn).await?;
    with_items(conn, rows).await
}

/// The sections of several articles, each article's in order, with their
/// items: two queries however many articles.
pub async fn load_sections_of(
    conn: &mut AsyncPgConnection,
    article_ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, Vec<StoredSection>>> {
    let rows: Vec<SectionRow> = if article_ids.is_empty() {
        Vec::new()
    } else {
        sections::table
            .filter(sections::article_id.eq_any(article_ids))
            .order((sections::article_id, sections::position.asc()))
            .select(SectionRow::as_select())
            .load(conn)
            .await?
    };
    let mut by_article: std::collections::HashMap<Uuid, Vec<StoredSection>> = std::collections::HashMap::new();
    for section in with_items(conn, rows).await? {
        by_article.entry(section.row.article_id).or_default().push(section);
    }
    Ok(by_article)
}

/// Section rows with their items, in the rows' order.
async fn with_items(conn: &mut AsyncPgConnection, rows: Vec<SectionRow>) -> QueryResult<Vec<StoredSection>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let items: Vec<ItemRow> = if !ids.is_empty() {
        section_items::table
            .filter(section_items::section_id.eq_any(&ids))
            .order((section_items::section_id, section_items::position.asc()))
            .select(ItemRow::as_select())
            .load(conn)
            .await?
    } else {
        Vec::new()
    };
    let mut by_section: std::collections::HashMap<Uuid, Vec<ItemRow>> = std::collections::HashMap::new();
    for item in items {
        by_section.entry(item.section_id).or_default().push(item);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let items = by_section.remove(&row.id).unwrap_or_default();
            StoredSection { row, items }
        })
        .collect())
}

/// Where a listing page starts: after this (published_on, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub published_on: NaiveDate,
    pub id: Uuid,
}

impl Cursor {
    /// The opaque form handed to clients: the date as six hex digits of days
    /// since the common era, then the id; every string of 38 hex digits decodes.
    pub fn encode(&self) -> String {
        format!(
            "{:06x}{}",
            self.published_on.num_days_from_ce().max(0),
            self.id.simple()
        )
    }

    /// Parses the opaque form; `None` unless it is 38 hex digits.
    pub fn decode(text: &str) -> Option<Cursor> {
        if text.len() != 38 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return None;
        }
        let days = i32::from_str_radix(&text[..6], 16).ok()?;
        let published_on = NaiveDate::from_num_days_from_ce_opt(days)?;
        let id = Uuid::try_parse(&text[6..]).ok()?;
        Some(Cursor { published_on, id })
    }
}

/// One page of articles, newest `published_on` first, with their section kinds,
/// plus whether more follow.
pub async fn list_articles(
    conn: &mut AsyncPgConnection,
    after: Option<Cursor>,
    limit: i64,
    visibility: Visibility,
) -> QueryResult<(Vec<(ArticleRow, Vec<String>)>, bool)> {
    let mut query = articles::table
        .order((articles::published_on.desc(), articles::id.desc()))
        .select(ArticleRow::as_select())
        .limit(limit + 1)
        .into_boxed();
    if visibility == Visibility::Published {
        query = query.filter(articles::status.eq(ArticleStatus::Published.as_str()));
    }
    if let Some(cursor) = after {
        let (columns, date) = ("articles.published_on, articles.id", cursor.published_on);
        query = query.filter(crate::db::row_before::<_, diesel::sql_types::Date, _>(
            columns, date, cursor.id,
        ));
    }
    let (rows, more) = crate::db::page::<ArticleRow>(query.load(conn).await?, limit);
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let kinds: Vec<(Uuid, String)> = sections::table
        .filter(sections::article_id.eq_any(&ids))
        .order((sections::article_id, sections::position))
        .select((sections::article_id, sections::kind))
        .load(conn)
        .await?;
    let page = rows
        .into_iter()
        .map(|row| {
            let mine = kinds
                .iter()
                .filter(|(id, _)| *id == row.id)
                .map(|(_, kind)| kind.clone())
                .collect();
            (row, mine)
        })
        .collect();
    Ok((page, more))
}

/// Inserts a section and its items at `position`; new items get new ids.
pub async fn insert_section(
    conn: &mut AsyncPgConnection,
    article_id: Uuid,
    position: i32,
    section: &SectionInput,
    now: DateTime<Utc>,
) -> QueryResult<Uuid> {
    let id = Uuid::new_v4();
    let phase_headings = match &section.phase_headings {
        Some(headings) => Some(serde_json::to_value(headings).map_err(|err| corrupt(err.to_string()))?),
        None => None,
    };
    diesel::insert_into(sections::table)
        .values(SectionRow {
            id,
            article_id,
            kind: section.kind.as_str().to_owned(),
            position,
            heading: section.heading.clone(),
            intro: section.intro.clone(),
            body: section.body.clone(),
            note: section.note.clone(),
            call_to_action: section.call_to_action.clone(),
            phase_headings,
            version: 1,
            updated_at: now,
        })
        .execute(conn)
        .await?;
    insert_items(conn, id, section.kind, &section.items).await?;
    Ok(id)
}

/// Inserts items in order; those without an id get a new one.
pub async fn insert_items(
    conn: &mut AsyncPgConnection,
    section_id: Uuid,
    kind: SectionKind,
    items: &[ItemInput],
) -> QueryResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let rows: Vec<ItemRow> = items
        .iter()
        .zip(1..)
        .map(|(item, position)| {
            let (image_asset_id, image_alt, image_decorative) = Image::columns(item.content.image.as_ref());
            ItemRow {
                id: item.id.unwrap_or_else(Uuid::new_v4),
                section_id,
                kind: kind.as_str().to_owned(),
                position,
                phase: item.content.phase.map(|phase| phase.as_str().to_owned()),
                title: item.content.title.clone(),
                body: item.content.body.clone(),
                description: item.content.description.clone(),
                image_asset_id,
                image_alt,
                image_decorative,
                // Filled in by the database from the asset.
                image_asset: None,
            }
        })
        .collect();
    diesel::insert_into(section_items::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Creates an article with its sections (new item ids) under `id`, at
/// `version`. The caller runs it in a transaction.
pub async fn insert_article(
    conn: &mut AsyncPgConnection,
    (id, version): (Uuid, i64),
    slug: &str,
    article: &ArticleInput,
) -> QueryResult<Uuid> {
    let now = Utc::now();
    let word_count = article.word_count();
    diesel::insert_into(articles::table)
        .values((
            articles::id.eq(id),
            articles::slug.eq(slug),
            articles::title.eq(&article.title),
            articles::author.eq(&article.author),
            articles::published_on.eq(article.published_on),
            articles::status.eq(article.status.as_str()),
            articles::summary.eq(&article.summary),
            hero_columns(article.hero_image.as_ref()),
            articles::word_count.eq(word_count),
            articles::reading_time_minutes.eq(reading_time_minutes(word_count)),
            articles::version.eq(version),
            articles::created_at.eq(now),
            articles::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    for (section, position) in article.sections.iter().zip(1..) {
        insert_section(conn, id, position, section, now).await?;
    }
    Ok(id)
}

impl ArticleRow {
    /// The article as a write body would give it (sections in order, item ids kept).
    pub fn to_input(&self, sections: &[StoredSection]) -> QueryResult<ArticleInput> {
        Ok(ArticleInput {
            slug: None,
            title: self.title.clone(),
            author: self.author.clone(),
            published_on: self.published_on,
            status: ArticleStatus::parse(&self.status)
                .ok_or_else(|| corrupt(format!("bad status {:?}", self.status)))?,
            summary: self.summary.clone(),
            hero_image: self.hero_image(),
            sections: sections
                .iter()
                .map(StoredSection::to_input)
                .collect::<QueryResult<_>>()?,
            locale: AsRead,
            fallbacks: AsRead,
        })
    }
}

/// The columns of an article's hero image use (what a read shows of the
/// asset is the database's to fill in).
#[expect(clippy::type_complexity, reason = "diesel's assignment types")]
pub fn hero_columns(
    image: Option<&Image>,
) -> (
    diesel::dsl::Eq<articles::hero_asset_id, Option<Uuid>>,
    diesel::dsl::Eq<articles::hero_alt, Option<String>>,
    diesel::dsl::Eq<articles::hero_decorative, bool>,
) {
    let (asset_id, alt, decorative) = Image::columns(image);
    (
        articles::hero_asset_id.eq(asset_id),
        articles::hero_alt.eq(alt),
        articles::hero_decorative.eq(decorative),
    )
}

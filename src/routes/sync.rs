//! `/v1/sync`: the change feed, for clients that keep a copy of the content
//! (how it never skips a change: [`crate::content::sync`]).

use actix_web::{HttpResponse, get};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::articles::article_body;
use super::parts::Reading;
use super::{Query, ReadProblems};
use crate::content::error::Error as ContentError;
use crate::content::model::Article;
use crate::content::sync::{self as feed, Expiry, PageLimits, SyncError};
use crate::content::translations::ReadLocale;
use crate::error::{AppError, Code, Problem};

/// Default page size of the feed.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page size of the feed.
pub const MAX_LIMIT: u32 = 500;

/// Query of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// Entries per page, 1–500 (default 100). A page also stops taking
    /// entries once its body passes 4 MiB (it always holds at least one).
    #[param(minimum = 1, maximum = 500, example = 100)]
    limit: Option<u32>,
    /// `next_cursor` of a previous answer (opaque, bound to the database
    /// that handed it out); leave out to start an initial sync.
    #[param(pattern = "^[A-Za-z0-9_-]{92}$")]
    cursor: Option<String>,
    /// A configured locale: articles as `?locale=` reads them (API.md §13);
    /// a change to a text it falls back to is a change for it. Without it,
    /// `Accept-Language` chooses. Keep one locale per cursor.
    #[param(example = "en", schema_with = crate::content::locales::tag_schema)]
    locale: Option<String>,
}

impl super::KnownParams for SyncQuery {
    const NAMES: &'static [&'static str] = &["limit", "cursor", "locale"];
}

/// The `type` of an article entry.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncArticleType {
    /// An article to upsert.
    Article,
}

/// The `type` of a deletion entry.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncDeletedType {
    /// An article to remove.
    Deleted,
}

/// An article that is new or changed: upsert it by `id`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncArticle {
    /// `article`: the discriminator of `SyncEntry`.
    #[serde(rename = "type")]
    pub entry_type: SyncArticleType,
    /// The whole article, exactly as `GET /v1/articles/{slug}` answers it to the same caller.
    pub article: Article,
}

/// An article that was deleted or is no longer visible to the caller (a
/// draft, to anonymous callers): remove it by `id`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncDeleted {
    /// `deleted`: the discriminator of `SyncEntry`.
    #[serde(rename = "type")]
    pub entry_type: SyncDeletedType,
    /// The article's id.
    #[schema(example = "0b0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e")]
    pub id: Uuid,
    /// The article's slug.
    #[schema(example = "explore-micro-needling-for-flawless-skin-today")]
    pub slug: String,
}

/// One entry of the feed, typed by `type`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(discriminator(property_name = "type", mapping(
    ("article" = "#/components/schemas/SyncArticle"),
    ("deleted" = "#/components/schemas/SyncDeleted"),
)))]
#[expect(
    clippy::large_enum_variant,
    reason = "an entry is made, serialized and dropped: a box would only add an allocation per article"
)]
pub enum SyncEntry {
    // Plain comments, not doc comments: a variant's doc would become a
    // `description` beside its `$ref` in `oneOf`, which openapi-generator
    // reads as an inline schema (issue 22).
    Article(SyncArticle),
    Deleted(SyncDeleted),
}

/// One answer of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncPage {
    /// Apply in order (the order of the changes they carry): upsert `article`
    /// entries by `id`, remove `deleted` ones. An article changed several
    /// times may come once; a long catch-up may bring it again on a later
    /// page. An initial sync holds no `deleted` entries unless articles are
    /// deleted (or unpublished) while it runs.
    pub entries: Vec<SyncEntry>,
    /// Ask with this next: at once while `has_more`, otherwise later, for the
    /// changes since. Opaque; it works on every node sharing the database.
    #[schema(example = "EQAAAAAAAATSAAAAAAAABNIAAAAAAAAAEZyga8a95KiVAAAAAAAAAAAAAAAAAAAAAAWionhPtPX0YFafmyGcKfrV45cq")]
    pub next_cursor: String,
    /// Whether more entries are ready now (follow `next_cursor` at once).
    #[schema(example = false)]
    pub has_more: bool,
}

/// Failures particular to the feed.
#[derive(utoipa::IntoResponses)]
pub enum SyncProblems {
    /// Bad `limit` (`invalid_limit`), a cursor this database did not hand
    /// out (`invalid_cursor`: malformed, edited, or another database's) or an
    /// unknown query parameter.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// `sync_cursor_expired`: start again without a cursor. The cursor is
    /// older than the change log keeps (`LAMINA_SYNC_KEEP_DAYS`), or names
    /// changes the database no longer holds (it was restored from a backup
    /// taken before the cursor was handed out, or the cursor comes from a
    /// copy of it), or is of the format lamina used before cursors were bound
    /// to their database.
    #[response(status = 410, content_type = "application/problem+json")]
    Gone(Problem),
}

/// Sync a copy of the content: an initial sync, then the changes since.
///
/// Without `cursor`: every article the caller can read, in id order, then
/// (while `has_more`) what changed while that ran. With the `next_cursor` of
/// a previous answer: follow it while `has_more`; keep the last one and ask
/// with it later for what changed since. Entries come in the order of the
/// changes they carry (a `deleted` entry before an article that takes its
/// slug). Applying them in order gives exactly the articles the caller can
/// read, as `GET /v1/articles/{slug}` answers them. No change is ever
/// skipped, whatever order writes commit in: a write shows up once every
/// write that began before it has finished. Anonymous callers see published
/// articles, and get `deleted` entries only for articles they could see; any
/// token sees drafts too. A page holds at most `limit` entries and stops
/// taking more once it passes 4 MiB. Never cached (`Cache-Control: no-store`).
#[utoipa::path(
    tag = "sync",
    params(SyncQuery),
    responses(
        (status = 200, description = "A page of the feed", body = SyncPage),
        SyncProblems,
        ReadProblems,
    )
)]
#[get("/sync")]
pub async fn sync(Reading { state, req, reader }: Reading, query: Query<SyncQuery>) -> Result<HttpResponse, AppError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::bad_request(
            Code::InvalidLimit,
            format!("`limit` must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let limits = PageLimits {
        entries: usize::try_from(limit).unwrap_or(usize::MAX),
        bytes: feed::PAGE_BYTES,
    };
    let visibility = reader.visibility();
    // The page is written as its entries come, and measured as it grows.
    let choice = super::parts::locale_of(&state, &req, query.locale.as_deref()).await?;
    let locale = choice.read_locale();
    let mut body = PageBody::new(locale.clone());
    let end = crate::db::deadline(async {
        let mut conn = state.pool.get().await.map_err(|err| SyncError::Content(err.into()))?;
        feed::sync(
            &mut conn,
            query.cursor.as_deref(),
            limits,
            visibility,
            &locale,
            &mut |entry| body.push(entry),
        )
        .await
    })
    .await
    .map_err(sync_problem)?;
    let body = body.finish(&end.next_cursor, end.has_more)?;
    // Per caller and per moment: no cache may keep it.
    let cache_control = if reader.is_authenticated() {
        "private, no-store"
    } else {
        "no-store"
    };
    let mut response = HttpResponse::Ok();
    response
        .insert_header((actix_web::http::header::CACHE_CONTROL, cache_control))
        .insert_header((actix_web::http::header::CONTENT_LANGUAGE, choice.code.as_str()));
    if query.locale.is_none() {
        response.insert_header((actix_web::http::header::VARY, "Authorization, Accept-Language"));
    }
    Ok(response.content_type("application/json").body(body))
}

/// A [`SyncPage`] written as its entries come: `{"entries":[`, the entries,
/// then `next_cursor` and `has_more` once the page knows where it ends.
struct PageBody {
    bytes: Vec<u8>,
    entries: usize,
    /// The locale articles are written in.
    locale: ReadLocale,
}

impl PageBody {
    const HEAD: &[u8] = br#"{"entries":["#;

    fn new(locale: ReadLocale) -> PageBody {
        PageBody {
            bytes: Self::HEAD.to_vec(),
            entries: 0,
            locale,
        }
    }

    /// Appends one entry; returns the length of the body so far.
    fn push(&mut self, entry: feed::SyncEntry) -> Result<usize, ContentError> {
        let entry = match entry {
            feed::SyncEntry::Article(row, sections, texts) => SyncEntry::Article(SyncArticle {
                entry_type: SyncArticleType::Article,
                article: article_body(&row, &sections, &self.locale, &texts)?,
            }),
            feed::SyncEntry::Deleted { id, slug } => SyncEntry::Deleted(SyncDeleted {
                entry_type: SyncDeletedType::Deleted,
                id,
                slug,
            }),
        };
        if self.entries > 0 {
            self.bytes.push(b',');
        }
        serde_json::to_writer(&mut self.bytes, &entry)
            .map_err(|err| ContentError::Corrupt(format!("serializing a sync entry: {err}")))?;
        self.entries += 1;
        Ok(self.bytes.len())
    }

    /// The whole body.
    fn finish(mut self, next_cursor: &str, has_more: bool) -> Result<Vec<u8>, serde_json::Error> {
        self.bytes.extend_from_slice(br#"],"next_cursor":"#);
        serde_json::to_writer(&mut self.bytes, next_cursor)?;
        self.bytes.extend_from_slice(br#","has_more":"#);
        serde_json::to_writer(&mut self.bytes, &has_more)?;
        self.bytes.push(b'}');
        Ok(self.bytes)
    }
}

/// The problem a failed sync call answers.
fn sync_problem(err: SyncError) -> AppError {
    let detail = match err {
        SyncError::InvalidCursor => {
            return AppError::bad_request(
                Code::InvalidCursor,
                "`cursor` is not one this database handed out; start again without it.",
            );
        }
        SyncError::Expired(Expiry::Pruned) => "This cursor is older than the change log keeps",
        SyncError::Expired(Expiry::Restored) => {
            "This cursor names changes this database does not hold: it was restored from a backup \
             taken before the cursor was handed out, or the cursor comes from a copy of it"
        }
        SyncError::Expired(Expiry::OldFormat) => {
            "This cursor is of the format lamina used before cursors were bound to their database"
        }
        SyncError::Content(err) => return err.into(),
    };
    AppError::Gone {
        code: Code::SyncCursorExpired,
        detail: format!("{detail}; start again without a cursor."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_cursor_pattern_is_the_decoders() {
        let params = SyncQuery::into_params(|| None);
        let cursor = params.iter().find(|param| param.name == "cursor").unwrap();
        let schema = serde_json::to_value(&cursor.schema).unwrap();
        assert_eq!(schema["pattern"], feed::PATTERN, "{schema}");
    }

    #[test]
    fn a_page_written_entry_by_entry_is_a_sync_page() {
        let id = Uuid::new_v4();
        let locale = || ReadLocale::new(&Default::default(), "en");
        let mut body = PageBody::new(locale());
        for slug in ["one", "two"] {
            body.push(feed::SyncEntry::Deleted {
                id,
                slug: slug.to_owned(),
            })
            .unwrap();
        }
        let deleted = |slug: &str| {
            SyncEntry::Deleted(SyncDeleted {
                entry_type: SyncDeletedType::Deleted,
                id,
                slug: slug.to_owned(),
            })
        };
        let page = SyncPage {
            entries: vec![deleted("one"), deleted("two")],
            next_cursor: "next \"quoted\"".to_owned(),
            has_more: true,
        };
        assert_eq!(
            String::from_utf8(body.finish(&page.next_cursor, page.has_more).unwrap()).unwrap(),
            serde_json::to_string(&page).unwrap()
        );
        assert_eq!(
            String::from_utf8(PageBody::new(locale()).finish("c", false).unwrap()).unwrap(),
            r#"{"entries":[],"next_cursor":"c","has_more":false}"#
        );
    }
}

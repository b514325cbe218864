//! `/v1/search`: full-text search over every text of every article, each
//! hit naming the most precise thing that matched (how: [`crate::content::search`]).

use std::collections::BTreeMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::caching::{etag_of, not_modified};
use super::parts::Reading;
use super::{Query, ReadProblems, with_connection};
use crate::cache::Representation;
use crate::content::SectionKind;
use crate::content::search::{self as engine, Cursor, DEFAULT_LIMIT, MAX_LIMIT, Search, SearchError};
use crate::error::{AppError, Code, Problem};

/// Query of a search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to search for, 1–200 characters, in web-search syntax:
    /// `"a quoted phrase"`, `-excluded`, `or`. Words match by stem in the
    /// locale's language with accents folded; the last word also matches as
    /// a prefix (search as you type) unless the query ends in a space or a
    /// quote or the word is a single letter.
    #[param(min_length = 1, max_length = 200, example = "sunscreen")]
    q: String,
    /// A configured locale (`GET /v1/locales`): each text as that locale
    /// reads it (its own translation, else its fallback's). Without it,
    /// `Accept-Language` chooses.
    #[param(example = "en", schema_with = crate::content::locales::tag_schema)]
    locale: Option<String>,
    /// Section kinds, comma-separated (`steps,aftercare_tips`): only hits in
    /// those sections (the article's title and summary belong to none).
    /// `facets` still counts every kind. A kind the server does not know is
    /// a 400 `invalid_sections`.
    #[param(
        value_type = Option<Vec<SectionKind>>,
        style = Form,
        explode = false,
        min_items = 1,
        example = json!(["steps", "aftercare_tips"])
    )]
    kinds: Option<String>,
    /// Hits per page, 1–50 (default 10).
    #[param(minimum = 1, maximum = 50, example = 10)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page of the same search; leave out for the first page.
    #[param(pattern = "^[A-Za-z0-9_-]{58,191}$")]
    cursor: Option<String>,
}

impl super::KnownParams for SearchQuery {
    const NAMES: &'static [&'static str] = &["q", "locale", "kinds", "limit", "cursor"];
}

/// The article a hit is in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitArticle {
    /// The article's id.
    #[schema(example = "0b0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e")]
    pub id: Uuid,
    /// Its slug.
    #[schema(example = "explore-micro-needling-for-flawless-skin-today")]
    pub slug: String,
    /// Its title, in the locale searched.
    #[schema(example = "Explore Micro Needling for Flawless Skin Today")]
    pub title: String,
}

/// The section a hit is in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitSection {
    /// The section's id.
    #[schema(example = "5d1f0a3e-2b4c-4d6e-8f10-213243546576")]
    pub id: Uuid,
    /// Its kind.
    pub kind: SectionKind,
    /// Its heading, in the locale searched.
    #[schema(example = "Aftercare Tips")]
    pub heading: String,
}

/// The item a hit is in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitItem {
    /// The item's id.
    #[schema(example = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d")]
    pub id: Uuid,
}

/// A piece of a snippet: text as written, and whether it is what matched.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnippetSegment {
    /// The text (plain text, never HTML).
    #[schema(example = "sun")]
    pub text: String,
    /// Whether this text matched the query (show it highlighted).
    #[serde(rename = "match")]
    #[schema(example = true)]
    pub matched: bool,
}

/// One text that matched: the most precise thing that holds it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hit {
    /// The article.
    pub article: HitArticle,
    /// The section the text belongs to; `null` for the article's title and summary.
    #[schema(required = true)]
    pub section: Option<HitSection>,
    /// The item the text belongs to; `null` for texts of the article or the section.
    #[schema(required = true)]
    pub item: Option<HitItem>,
    /// The field that matched: `title`, `summary`, `heading`, `intro`,
    /// `body`, `note`, `call_to_action`, `phase_headings` or `description`.
    #[schema(example = "body")]
    pub field: String,
    /// JSON pointer of the text in the article as `GET /v1/articles/{slug}` reads it.
    #[schema(example = "/sections/4/items/2/body")]
    pub pointer: String,
    /// Where to read the most precise resource that holds it: the item, the section or the article.
    #[schema(
        example = "/v1/articles/explore-micro-needling-for-flawless-skin-today/sections/aftercare_tips/items/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
    )]
    pub url: String,
    /// The text around the matches (up to two passages joined by " … "), in segments.
    pub snippet: Vec<SnippetSegment>,
    /// How well the text matches the query (PostgreSQL's `ts_rank`; comparable within one search).
    #[schema(example = 0.0607927)]
    pub score: f32,
}

/// Counts of the matching texts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchFacets {
    /// Matching texts per section kind (only kinds with matches), whatever `kinds` filters.
    #[schema(example = json!({"aftercare_tips": 2, "steps": 1}))]
    pub kinds: BTreeMap<String, i64>,
}

/// One page of search results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchPage {
    /// The hits, best first: texts of article titles, then section headings,
    /// then item titles, then other texts; within each, by `score`; ties
    /// newest `published_on` first.
    pub hits: Vec<Hit>,
    /// Counts per section kind.
    pub facets: SearchFacets,
    /// How many texts match in all (within `kinds`). A search ranks and
    /// counts at most 10,000 matching titles and headings and 10,000 other
    /// matching texts: past that it is a lower bound.
    #[schema(example = 3)]
    pub total: i64,
    /// When nothing matches: the query spelled with words that exist, if one is close.
    #[schema(required = true, example = json!(null))]
    pub suggestion: Option<String>,
    /// Ask with this `cursor` (and the same query) for the next page; `null` on the last.
    #[schema(required = true, example = json!(null))]
    pub next_cursor: Option<String>,
}

/// Failures particular to search.
#[derive(utoipa::IntoResponses)]
pub enum SearchProblems {
    /// `invalid_query`: `q` is empty, longer than 200 characters or holds
    /// nothing to search for (only stop words); `invalid_limit`;
    /// `invalid_cursor` (not a cursor of this search); `invalid_sections`
    /// (an unknown kind in `kinds`); `unknown_locale`; an unknown query parameter.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
}

/// Search every text of every article.
///
/// Each hit names the most precise thing that matched (the article, a
/// section or an item) with its JSON pointer, the URL to read it, and a
/// snippet in segments. Anonymous callers search published articles (and
/// published translations); any token searches drafts too. A write is
/// searchable by the next request. Anonymous searches are limited per
/// client address (`LAMINA_SEARCHES_PER_MINUTE`, then 429) and cacheable
/// for 10 s.
#[utoipa::path(
    tag = "search",
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of hits", body = SearchPage,
            headers(
                ("ETag" = String, description = "Strong validator of this answer"),
                ("Content-Language" = String, description = "The locale searched"),
            )),
        (status = 304, description = "The copy named by If-None-Match is current"),
        SearchProblems,
        ReadProblems,
    )
)]
#[get("/search")]
pub async fn search(
    Reading { state, req, reader }: Reading,
    query: Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    if !reader.is_authenticated() {
        let address = state
            .limits
            .client_address(req.peer_addr().map(|address| address.ip()), req.headers());
        state.limits.search(address)?;
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::bad_request(
            Code::InvalidLimit,
            format!("`limit` must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let kinds = query
        .kinds
        .as_deref()
        .map(|text| super::articles::parse_kinds(text, "kinds"))
        .transpose()?;
    let after = query
        .cursor
        .as_deref()
        .map(|text| Cursor::decode(text).ok_or_else(invalid_cursor))
        .transpose()?;
    let choice = super::parts::locale_of(&state, &req, query.locale.as_deref()).await?;
    let locale = choice.read_locale();
    let search = Search {
        text: &query.q,
        chain: locale.chain(),
        drafts: reader.is_authenticated(),
        kinds: kinds.as_deref(),
        limit,
        after,
    };
    let found = with_connection(&state, async |conn| {
        crate::db::deadline(async { Ok::<_, AppError>(engine::search(conn, &search).await) }).await
    })
    .await?
    .map_err(|err| match err {
        SearchError::InvalidQuery(detail) => AppError::bad_request(Code::InvalidQuery, detail),
        SearchError::InvalidCursor => invalid_cursor(),
        SearchError::Content(err) => err.into(),
    })?;
    let suffix = if choice.is_default() {
        String::new()
    } else {
        format!("?locale={}", choice.code)
    };
    let page = SearchPage {
        hits: found.hits.into_iter().map(|hit| hit_body(hit, &suffix)).collect(),
        facets: SearchFacets { kinds: found.facets },
        total: found.total,
        suggestion: found.suggestion,
        next_cursor: found.next.map(|cursor| cursor.encode()),
    };
    let body = serde_json::to_vec(&page).map_err(|err| AppError::Internal(err.to_string()))?;
    let etag = etag_of("s", &body);
    let representation = Representation::new(body.into(), etag, None, String::new());
    Ok(respond(&req, &representation, reader.is_authenticated(), &choice))
}

fn invalid_cursor() -> AppError {
    AppError::bad_request(
        Code::InvalidCursor,
        "`cursor` is not one this search handed out; start again without it.",
    )
}

/// The hit as answered; `suffix` (`?locale=…` outside the default locale) ends its URL.
fn hit_body(hit: engine::Hit, suffix: &str) -> Hit {
    let article_url = format!("/v1/articles/{}", hit.slug);
    let url = match (&hit.section, hit.item) {
        (Some((_, kind, _)), Some(item)) => format!("{article_url}/sections/{kind}/items/{item}{suffix}"),
        (Some((_, kind, _)), None) => format!("{article_url}/sections/{kind}{suffix}"),
        (None, _) => format!("{article_url}{suffix}"),
    };
    Hit {
        article: HitArticle {
            id: hit.article_id,
            slug: hit.slug,
            title: hit.title,
        },
        section: hit.section.map(|(id, kind, heading)| HitSection { id, kind, heading }),
        item: hit.item.map(|id| HitItem { id }),
        field: hit.field,
        pointer: hit.pointer,
        url,
        snippet: hit
            .snippet
            .into_iter()
            .map(|(text, matched)| SnippetSegment { text, matched })
            .collect(),
        score: hit.score,
    }
}

/// 200 (or 304) with the caching headers of a search: anonymous answers may
/// be kept 10 s by any cache, answers to a token by none.
fn respond(
    req: &HttpRequest,
    representation: &Representation,
    private: bool,
    choice: &super::parts::LocaleChoice,
) -> HttpResponse {
    let fresh = not_modified(req, representation);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response.insert_header((header::ETAG, representation.etag_header().clone()));
    response.insert_header((
        header::CACHE_CONTROL,
        HeaderValue::from_static(if private {
            "private, no-store"
        } else {
            "public, max-age=10"
        }),
    ));
    if let Ok(language) = HeaderValue::from_str(&choice.code) {
        response.insert_header((header::CONTENT_LANGUAGE, language));
    }
    response.insert_header((
        header::VARY,
        HeaderValue::from_static(if choice.explicit {
            "Authorization, Accept-Encoding"
        } else {
            "Authorization, Accept-Encoding, Accept-Language"
        }),
    ));
    if fresh {
        return response.finish();
    }
    response
        .content_type("application/json")
        .body(representation.body.clone())
}

//! Search (API.md §14), in PostgreSQL itself: every text of every article
//! in every locale is a row of `search_texts` (see the migration
//! `2026-12-04-000500_search`), rewritten by [`reindex`] in the transaction
//! of every write, so a committed write is searchable by the next request
//! on any node. A search in a locale looks at each text as that locale reads
//! it (its own translation, else its fallback's; anonymous callers skip
//! draft translations and draft articles), stemmed by the text's language
//! with accents folded.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Float, Integer, Nullable, SmallInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2_v11::{Digest, Sha256};
use uuid::Uuid;

use super::error::Error;
use super::kinds::SectionKind;

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Default number of hits per page.
pub const DEFAULT_LIMIT: u32 = 10;
/// Largest number of hits per page.
pub const MAX_LIMIT: u32 = 50;
/// Most matching texts a search ranks and counts, of titles and headings
/// and again of other texts: past that, `total` is a lower bound and the
/// hits are the best of the texts looked at.
pub const MAX_MATCHES: u32 = 10_000;
/// Most words of a query a suggestion corrects (each costs a lookup).
const MAX_SUGGESTED_WORDS: usize = 10;

/// Where a snippet's match starts and ends (ts_headline's `StartSel` and
/// `StopSel`): control characters no stored text holds.
const MATCH_START: char = '\u{1}';
const MATCH_END: char = '\u{2}';

/// Rewrites the search rows of the article `id` from what is stored (none
/// if it no longer exists). Part of every write's transaction.
pub async fn reindex(conn: &mut AsyncPgConnection, id: Uuid) -> diesel::QueryResult<()> {
    diesel::sql_query("SELECT search_reindex($1)")
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A search.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// What the caller typed (web-search syntax).
    pub text: &'a str,
    /// The locale's chain: the locale, its fallbacks, the default last.
    pub chain: &'a [String],
    /// Whether drafts (articles and translations) are searched too: any token.
    pub drafts: bool,
    /// Only hits in sections of these kinds; `None`: everything.
    pub kinds: Option<&'a [SectionKind]>,
    /// Hits per page.
    pub limit: u32,
    /// Where the previous page ended.
    pub after: Option<Cursor>,
}

/// Why a search cannot run.
#[derive(Debug)]
pub enum SearchError {
    /// The query is empty, too long, or holds nothing to search for.
    InvalidQuery(String),
    /// The cursor is not one this search handed out.
    InvalidCursor,
    /// The database failed.
    Content(Error),
}

impl From<diesel::result::Error> for SearchError {
    fn from(err: diesel::result::Error) -> Self {
        SearchError::Content(err.into())
    }
}

/// The most precise thing that matched: a text of an article, a section or an item.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The article.
    pub article_id: Uuid,
    /// Its slug.
    pub slug: String,
    /// Its title, as the locale reads it.
    pub title: String,
    /// The section the text belongs to, if any: id, kind, heading as the locale reads it.
    pub section: Option<(Uuid, SectionKind, String)>,
    /// The item the text belongs to, if any.
    pub item: Option<Uuid>,
    /// The field: `title`, `summary`, `heading`, `intro`, `body`, `note`, …
    pub field: String,
    /// JSON pointer of the text in the article as read.
    pub pointer: String,
    /// The text around the matches: `(text, is a match)` in order.
    pub snippet: Vec<(String, bool)>,
    /// How well the text matches (PostgreSQL's `ts_rank`).
    pub score: f32,
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The hits, best first.
    pub hits: Vec<Hit>,
    /// How many texts match, per section kind (the `kinds` filter aside).
    pub facets: std::collections::BTreeMap<String, i64>,
    /// How many texts match in all (within the `kinds` filter).
    pub total: i64,
    /// A query spelled like this one that finds something, when this one finds nothing.
    pub suggestion: Option<String>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// Where a page of hits ended: the last hit's place in the order
/// (kind of field, score, date, article, text), bound to its search.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    weight: i16,
    /// The negated score (the order is ascending in it).
    score: f32,
    /// Days from `published_on` to 9999-12-31 (ascending: newest first).
    age: i32,
    article_id: Uuid,
    key: String,
    /// Which search it belongs to (see [`fingerprint`]).
    fingerprint: [u8; 8],
}

const CURSOR_VERSION: u8 = 1;
/// Bytes before the key: version, weight, score, age, article, fingerprint.
const CURSOR_HEAD: usize = 1 + 2 + 4 + 4 + 16 + 8;
const CURSOR_CHECK: usize = 8;
/// Longest key a cursor carries (translation keys are at most 100 characters).
const MAX_CURSOR_KEY: usize = 100;

/// A cursor's fixed length at most, in base64 characters (for the documented pattern).
pub const MAX_CURSOR_CHARS: usize = ((CURSOR_HEAD + MAX_CURSOR_KEY + CURSOR_CHECK) * 4).div_ceil(3);

/// What binds a cursor to its search: the query, the locale, the kinds and the visibility.
fn fingerprint(search: &Search<'_>) -> [u8; 8] {
    let mut hasher = Sha256::new();
    hasher.update(search.text.as_bytes());
    hasher.update([0]);
    hasher.update(search.chain.join(",").as_bytes());
    hasher.update([0]);
    for kind in search.kinds.unwrap_or_default() {
        hasher.update(kind.as_str().as_bytes());
        hasher.update([b',']);
    }
    hasher.update([u8::from(search.drafts)]);
    let digest = hasher.finalize();
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&digest[..8]);
    bytes
}

fn checksum(bytes: &[u8]) -> [u8; CURSOR_CHECK] {
    let digest = Sha256::new()
        .chain_update(b"lamina search cursor")
        .chain_update(bytes)
        .finalize();
    let mut check = [0; CURSOR_CHECK];
    check.copy_from_slice(&digest[..CURSOR_CHECK]);
    check
}

impl Cursor {
    /// The opaque text handed to clients (base64url, checksummed). Not a
    /// secret: a forged cursor can only move where a page of the same
    /// search starts.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(CURSOR_HEAD + self.key.len() + CURSOR_CHECK);
        bytes.push(CURSOR_VERSION);
        bytes.extend_from_slice(&self.weight.to_be_bytes());
        bytes.extend_from_slice(&self.score.to_bits().to_be_bytes());
        bytes.extend_from_slice(&self.age.to_be_bytes());
        bytes.extend_from_slice(self.article_id.as_bytes());
        bytes.extend_from_slice(&self.fingerprint);
        bytes.extend_from_slice(self.key.as_bytes());
        let check = checksum(&bytes);
        bytes.extend_from_slice(&check);
        BASE64.encode(bytes)
    }

    /// [`Cursor::encode`]'s text, if it is intact.
    pub fn decode(text: &str) -> Option<Cursor> {
        if text.len() > MAX_CURSOR_CHARS {
            return None;
        }
        let bytes = BASE64.decode(text).ok()?;
        if bytes.len() < CURSOR_HEAD + CURSOR_CHECK || bytes.len() > CURSOR_HEAD + MAX_CURSOR_KEY + CURSOR_CHECK {
            return None;
        }
        let (body, check) = bytes.split_at(bytes.len() - CURSOR_CHECK);
        if checksum(body) != check || body[0] != CURSOR_VERSION {
            return None;
        }
        let weight = i16::from_be_bytes(body[1..3].try_into().ok()?);
        let score = f32::from_bits(u32::from_be_bytes(body[3..7].try_into().ok()?));
        let age = i32::from_be_bytes(body[7..11].try_into().ok()?);
        let article_id = Uuid::from_slice(&body[11..27]).ok()?;
        let fingerprint = body[27..35].try_into().ok()?;
        let key = String::from_utf8(body[CURSOR_HEAD..].to_vec()).ok()?;
        score.is_finite().then_some(Cursor {
            weight,
            score,
            age,
            article_id,
            key,
            fingerprint,
        })
    }
}

/// The query, checked: 1–200 characters once trimmed, no control characters.
fn checked(text: &str) -> Result<&str, SearchError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SearchError::InvalidQuery(
            "`q` is empty: say what to search for.".to_owned(),
        ));
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(SearchError::InvalidQuery(format!(
            "`q` is longer than {MAX_QUERY_CHARS} characters."
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(SearchError::InvalidQuery("`q` holds control characters.".to_owned()));
    }
    Ok(text)
}

/// Whether the last word of `text` (as typed, untrimmed) is one being
/// typed: the text ends in a letter or digit, outside quotes, and the word
/// has two or more of them and is not excluded (`-word`).
fn last_word_is_prefix(text: &str) -> bool {
    let quotes = text.chars().filter(|c| *c == '"').count();
    let last = text.split_whitespace().next_back().unwrap_or_default();
    // A single letter would match most words: it is a word of its own.
    quotes % 2 == 0
        && text.chars().next_back().is_some_and(char::is_alphanumeric)
        && !last.starts_with('-')
        && last.chars().filter(|c| c.is_alphanumeric()).count() >= 2
}

/// The chain, its text search configurations, and the query parsed in each
/// (`$1` the query, `$2` the chain, `$3` whether the last word is a prefix):
/// shared by the search and the suggestion.
const QUERIES: &str = "\
chain AS (
    SELECT c.locale, c.depth, search_config(c.locale) AS config
      FROM unnest($2::text[]) WITH ORDINALITY AS c (locale, depth)
), parsed AS (
    SELECT locale, depth, config, websearch_to_tsquery(config, $1) AS query FROM chain
), queries AS (
    SELECT locale, depth, config,
           CASE WHEN $3 AND numnode(query) > 0
                THEN regexp_replace(query::text, '(''(?:[^'']|'''')*'')$', '\\1:*')::tsquery
                ELSE query END AS query
      FROM parsed
)";

/// One page of a search with its total, facets and (on no match) suggestion.
pub async fn search(conn: &mut AsyncPgConnection, search: &Search<'_>) -> Result<Found, SearchError> {
    let text = checked(search.text)?;
    let fingerprint = fingerprint(search);
    if search
        .after
        .as_ref()
        .is_some_and(|after| after.fingerprint != fingerprint)
    {
        return Err(SearchError::InvalidCursor);
    }
    let kinds: Option<Vec<&str>> = search
        .kinds
        .map(|kinds| kinds.iter().map(|kind| kind.as_str()).collect());
    let after = search.after.as_ref();
    let options = format!(
        "StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=30, MinWords=12, ShortWord=2, \
         MaxFragments=2, FragmentDelimiter=\" … \""
    );
    // A text of a locale further down the chain counts only where no
    // locale before it has that text (the reader sees the first one); a
    // search in the default locale alone has nothing to skip, and does not
    // pay for looking (one index probe per matching text).
    let shadowed = if search.chain.len() > 1 {
        "
       AND (q.depth = 1 OR NOT EXISTS (
           SELECT 1 FROM search_texts o JOIN chain oc ON oc.locale = o.locale
            WHERE o.article_id = t.article_id AND o.key = t.key AND oc.depth < q.depth
              AND ($4 OR o.public)))"
    } else {
        ""
    };
    // Titles and headings (a partial index of their own), then other
    // texts, each at most MAX_MATCHES: what a common word costs stays bounded.
    let arm = |which: &str| {
        format!(
            "(SELECT t.article_id, t.key, t.section_id, t.section_kind, t.item_id, t.field, t.pointer,
           t.rank_weight, t.published_on, t.text, t.document, q.config, q.query
      FROM queries q
      JOIN search_texts t ON t.locale = q.locale AND t.document @@ q.query
     WHERE {which} AND numnode(q.query) > 0 AND ($4 OR t.public){shadowed}
     LIMIT {MAX_MATCHES})"
        )
    };
    let (titles, texts) = (arm("t.rank_weight < 4"), arm("t.rank_weight = 4"));
    let sql = format!(
        "WITH {QUERIES}, matches AS MATERIALIZED (
    SELECT m.*, ts_rank(m.document, m.query) AS score
      FROM ({titles} UNION ALL {texts}) AS m
), filtered AS (
    SELECT * FROM matches WHERE $5::text[] IS NULL OR section_kind = ANY ($5::text[])
), page AS (
    SELECT * FROM filtered
     WHERE $6::smallint IS NULL
        OR (rank_weight, -score, DATE '9999-12-31' - published_on, article_id, key)
           > ($6::smallint, $7::real, $8::integer, $9::uuid, $10::text)
     ORDER BY rank_weight, score DESC, published_on DESC, article_id, key
     LIMIT $11
)
SELECT s.usable, s.total, s.facets, p.article_id, a.slug,
       (SELECT o.text FROM search_texts o JOIN chain oc ON oc.locale = o.locale
         WHERE o.article_id = p.article_id AND o.key = 'title' AND ($4 OR o.public)
         ORDER BY oc.depth LIMIT 1) AS title,
       p.key, p.section_id, p.section_kind,
       (SELECT o.text FROM search_texts o JOIN chain oc ON oc.locale = o.locale
         WHERE o.article_id = p.article_id AND o.key = p.section_kind || '.heading' AND ($4 OR o.public)
         ORDER BY oc.depth LIMIT 1) AS heading,
       p.item_id, p.field, p.pointer, p.rank_weight, p.score,
       DATE '9999-12-31' - p.published_on AS age,
       ts_headline(p.config, p.text, p.query, $12) AS snippet
  FROM (SELECT (SELECT coalesce(bool_or(numnode(query) > 0), false) FROM queries) AS usable,
               (SELECT count(*) FROM filtered) AS total,
               (SELECT coalesce(json_object_agg(section_kind, n ORDER BY section_kind), '{{}}')::text
                  FROM (SELECT section_kind, count(*) AS n FROM matches
                         WHERE section_kind IS NOT NULL GROUP BY section_kind) f) AS facets) s
  LEFT JOIN page p ON true
  LEFT JOIN articles a ON a.id = p.article_id
 ORDER BY p.rank_weight, p.score DESC, p.published_on DESC, p.article_id, p.key"
    );
    let rows: Vec<Row> = diesel::sql_query(sql)
        .bind::<Text, _>(text)
        .bind::<Array<Text>, _>(search.chain)
        .bind::<Bool, _>(last_word_is_prefix(search.text))
        .bind::<Bool, _>(search.drafts)
        .bind::<Nullable<Array<Text>>, _>(kinds)
        .bind::<Nullable<SmallInt>, _>(after.map(|after| after.weight))
        .bind::<Nullable<Float>, _>(after.map(|after| after.score))
        .bind::<Nullable<Integer>, _>(after.map(|after| after.age))
        .bind::<Nullable<SqlUuid>, _>(after.map(|after| after.article_id))
        .bind::<Nullable<Text>, _>(after.map(|after| after.key.as_str()))
        .bind::<BigInt, _>(i64::from(search.limit) + 1)
        .bind::<Text, _>(options)
        .load(conn)
        .await?;
    let Some(first) = <[Row]>::first(&rows) else {
        return Err(SearchError::Content(Error::Corrupt(
            "a search answered no row".to_owned(),
        )));
    };
    if !first.usable {
        return Err(SearchError::InvalidQuery(
            "`q` holds nothing to search for (only stop words or punctuation).".to_owned(),
        ));
    }
    let total = first.total;
    let facets = serde_json::from_str(&first.facets)
        .map_err(|err| SearchError::Content(Error::Corrupt(format!("search facets: {err}"))))?;
    let mut hits = Vec::new();
    let mut next = None;
    let limit = usize::try_from(search.limit).unwrap_or(usize::MAX);
    let mut last = None;
    for row in rows {
        let Some(hit) = row.hit()? else { continue };
        if hits.len() == limit {
            next = last.take();
            break;
        }
        last = Some(Cursor {
            weight: row.rank_weight.unwrap_or_default(),
            score: -row.score.unwrap_or_default(),
            age: row.age.unwrap_or_default(),
            article_id: hit.article_id,
            key: row.key.clone().unwrap_or_default(),
            fingerprint,
        });
        hits.push(hit);
    }
    let suggestion = if total == 0 && search.after.is_none() {
        suggest(conn, text, search).await?
    } else {
        None
    };
    Ok(Found {
        hits,
        facets,
        total,
        suggestion,
        next,
    })
}

/// A row of the search: the summary (`usable`, `total`, `facets`) and one hit, if any.
#[derive(Debug, QueryableByName)]
struct Row {
    #[diesel(sql_type = Bool)]
    usable: bool,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = Text)]
    facets: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    article_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    slug: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    title: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    section_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    section_kind: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    heading: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    item_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    field: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pointer: Option<String>,
    #[diesel(sql_type = Nullable<SmallInt>)]
    rank_weight: Option<i16>,
    #[diesel(sql_type = Nullable<Float>)]
    score: Option<f32>,
    #[diesel(sql_type = Nullable<Integer>)]
    age: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    snippet: Option<String>,
}

impl Row {
    /// The hit of this row; `None` for the summary row of a search that found nothing on this page.
    fn hit(&self) -> Result<Option<Hit>, SearchError> {
        let Some(article_id) = self.article_id else {
            return Ok(None);
        };
        let corrupt = |what: &str| SearchError::Content(Error::Corrupt(format!("a search hit without {what}")));
        let section = match (self.section_id, &self.section_kind) {
            (Some(id), Some(kind)) => {
                let kind = SectionKind::parse(kind).ok_or_else(|| corrupt("a known section kind"))?;
                Some((id, kind, self.heading.clone().ok_or_else(|| corrupt("a heading"))?))
            }
            _ => None,
        };
        Ok(Some(Hit {
            article_id,
            slug: self.slug.clone().ok_or_else(|| corrupt("a slug"))?,
            title: self.title.clone().ok_or_else(|| corrupt("a title"))?,
            section,
            item: self.item_id,
            field: self.field.clone().ok_or_else(|| corrupt("a field"))?,
            pointer: self.pointer.clone().ok_or_else(|| corrupt("a pointer"))?,
            snippet: segments(self.snippet.as_deref().unwrap_or_default()),
            score: self.score.unwrap_or_default(),
        }))
    }
}

/// A headline with match markers as segments: `(text, is a match)`, no empty ones.
fn segments(headline: &str) -> Vec<(String, bool)> {
    let mut segments: Vec<(String, bool)> = Vec::new();
    let mut matched = false;
    let mut current = String::new();
    let mut flush = |current: &mut String, matched: bool| {
        if current.is_empty() {
            return;
        }
        match segments.last_mut() {
            Some((text, was)) if *was == matched => text.push_str(current),
            _ => segments.push((current.clone(), matched)),
        }
        current.clear();
    };
    for c in headline.chars() {
        match c {
            MATCH_START | MATCH_END => {
                flush(&mut current, matched);
                matched = c == MATCH_START;
            }
            _ => current.push(c),
        }
    }
    flush(&mut current, matched);
    segments
}

/// A spelling of `text` whose words the caller can find, each word that is
/// not such a word replaced by the most similar one that is (trigram
/// similarity); `None` if every word is fine or nothing is close.
async fn suggest(conn: &mut AsyncPgConnection, text: &str, search: &Search<'_>) -> Result<Option<String>, SearchError> {
    #[derive(QueryableByName)]
    struct Word {
        #[diesel(sql_type = Text)]
        word: String,
        #[diesel(sql_type = Text)]
        folded: String,
    }
    let sql = format!(
        "WITH {QUERIES}, candidates AS (
    SELECT word, similarity(word, lower(unaccent($1))) AS sim FROM search_words
     WHERE word % lower(unaccent($1))
     ORDER BY sim DESC, word LIMIT 8
)
SELECT c.word, lower(unaccent($1)) AS folded FROM candidates c
 WHERE EXISTS (SELECT 1 FROM chain ch JOIN search_texts t ON t.locale = ch.locale
                WHERE t.document @@ plainto_tsquery(ch.config, c.word) AND ($4 OR t.public))
 ORDER BY c.sim DESC, c.word LIMIT 1"
    );
    let mut suggestion = String::with_capacity(text.len());
    let mut changed = false;
    let mut at = 0;
    let words = word_spans(text);
    for (start, end) in words.into_iter().take(MAX_SUGGESTED_WORDS) {
        let word = &text[start..end];
        suggestion.push_str(&text[at..start]);
        at = end;
        let best: Option<Word> = if word.chars().count() >= 3 {
            diesel::sql_query(&sql)
                .bind::<Text, _>(word)
                .bind::<Array<Text>, _>(search.chain)
                .bind::<Bool, _>(false)
                .bind::<Bool, _>(search.drafts)
                .get_result(conn)
                .await
                .map(Some)
                .or_else(|err| match err {
                    diesel::result::Error::NotFound => Ok(None),
                    other => Err(other),
                })?
        } else {
            None
        };
        match best {
            Some(best) if best.word != best.folded => {
                suggestion.push_str(&best.word);
                changed = true;
            }
            _ => suggestion.push_str(word),
        }
    }
    suggestion.push_str(&text[at..]);
    Ok(changed.then_some(suggestion))
}

/// Byte ranges of the words (letters and digits) of `text`.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                spans.push((from, at));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        spans.push((from, text.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headlines_become_segments() {
        let headline = "protect it from the \u{1}sun\u{2} and \u{1}sun\u{2}\u{1}screen\u{2}";
        assert_eq!(
            segments(headline),
            vec![
                ("protect it from the ".to_owned(), false),
                ("sun".to_owned(), true),
                (" and ".to_owned(), false),
                ("sunscreen".to_owned(), true),
            ]
        );
        assert_eq!(segments(""), vec![]);
    }

    #[test]
    fn cursors_round_trip_and_refuse_edits() {
        let cursor = Cursor {
            weight: 3,
            score: -0.0607927,
            age: 2_000_000,
            article_id: Uuid::new_v4(),
            key: "aftercare_tips.0b0c6f2e-8a41-4c3b-9d7e-2f5a1b3c4d5e.body".to_owned(),
            fingerprint: [7; 8],
        };
        let text = cursor.encode();
        assert!(text.len() <= MAX_CURSOR_CHARS);
        assert_eq!(Cursor::decode(&text), Some(cursor));
        let mut edited = text.clone().into_bytes();
        edited[5] = if edited[5] == b'A' { b'B' } else { b'A' };
        assert_eq!(Cursor::decode(&String::from_utf8(edited).unwrap()), None);
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(""), None);
    }

    #[test]
    fn only_a_word_being_typed_is_a_prefix() {
        assert!(last_word_is_prefix("micro needl"));
        assert!(!last_word_is_prefix("micro needl "));
        assert!(!last_word_is_prefix("\"micro needling\""));
        assert!(!last_word_is_prefix("needling -sun"));
        assert!(!last_word_is_prefix("\"micro needl"));
        assert!(!last_word_is_prefix("vitamin c"));
    }

    #[test]
    fn queries_are_checked() {
        assert!(matches!(checked("  "), Err(SearchError::InvalidQuery(_))));
        assert!(matches!(checked(&"a".repeat(201)), Err(SearchError::InvalidQuery(_))));
        assert!(matches!(checked("a\u{0}b"), Err(SearchError::InvalidQuery(_))));
        assert_eq!(checked(" sun ").ok(), Some("sun"));
        assert_eq!(word_spans("micro, neddling"), vec![(0, 5), (7, 15)]);
    }
}

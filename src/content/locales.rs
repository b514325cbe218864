//! Locales (API.md §13): the configured locales and their fallback chains,
//! how a request's locale is chosen (`?locale`, or `Accept-Language`
//! negotiated by RFC 4647 lookup), and the admin writes that configure them.

use std::sync::{Arc, RwLock};

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::Error;
use super::error::FieldError;
use crate::db::schema::{article_locales, locales, translations};

/// Longest locale tag, in characters (BCP 47 recommends supporting 35).
pub const MAX_TAG_CHARS: usize = 35;
/// The pattern of a tag [`check_tag`] accepts, for the spec: language, then
/// optional script, region and variants, in canonical case.
pub const TAG_PATTERN: &str =
    "^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?(-([0-9a-z]{5,8}|[0-9][0-9a-z]{3}))*$";

/// The schema of a `locale` query parameter: a tag of [`TAG_PATTERN`]. Which
/// tags are configured is state (`GET /v1/locales`); any other is a 400
/// `unknown_locale`.
pub fn tag_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(TAG_PATTERN))
        .max_length(Some(MAX_TAG_CHARS))
        .examples(["en"])
        .build()
}

/// Longest locale name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A configured locale.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = locales, check_for_backend(diesel::pg::Pg))]
pub struct Locale {
    /// BCP 47 tag in canonical case: `en`, `de`, `de-AT`, `pt-BR`.
    #[schema(example = "de-AT")]
    pub code: String,
    /// What editors call it.
    #[schema(example = "Deutsch (Österreich)")]
    pub name: String,
    /// The locale its missing texts come from; `null`: the default locale (or, for the default, none).
    #[schema(example = "de", required = true)]
    pub fallback: Option<String>,
    /// Whether it is the default locale, whose texts every chain ends at.
    #[serde(rename = "default")]
    #[diesel(column_name = is_default)]
    #[schema(example = false)]
    pub default: bool,
}

/// Whether `tag` is a BCP 47 language tag in canonical case (language,
/// optional script, region and variants; no extensions or private use);
/// otherwise what is wrong with it.
pub fn check_tag(tag: &str) -> Result<(), String> {
    let malformed = || {
        format!(
            "must be a BCP 47 language tag such as \"en\", \"de-AT\" or \"zh-Hant-TW\" \
             (language, then optional script, region and variants, joined by \"-\"), at most {MAX_TAG_CHARS} characters"
        )
    };
    if tag.is_empty() || tag.len() > MAX_TAG_CHARS || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(malformed());
    }
    let canonical = canonical_case(tag);
    let mut parts = canonical.split('-').peekable();
    let language = parts.next().unwrap_or_default();
    if !(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(malformed());
    }
    if parts
        .peek()
        .is_some_and(|part| part.len() == 4 && part.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        parts.next();
    }
    if parts.peek().is_some_and(|part| {
        (part.len() == 2 && part.bytes().all(|b| b.is_ascii_alphabetic()))
            || (part.len() == 3 && part.bytes().all(|b| b.is_ascii_digit()))
    }) {
        parts.next();
    }
    for variant in parts {
        let ok = (5..=8).contains(&variant.len()) || (variant.len() == 4 && variant.as_bytes()[0].is_ascii_digit());
        if !ok {
            return Err(malformed());
        }
    }
    if canonical != tag {
        return Err(format!("must be in canonical case: {canonical:?}"));
    }
    Ok(())
}

/// `tag` in the canonical case of BCP 47: language and variants lower case,
/// script title case, region upper case.
pub fn canonical_case(tag: &str) -> String {
    tag.split('-')
        .enumerate()
        .map(|(index, part)| match part.len() {
            _ if index == 0 => part.to_ascii_lowercase(),
            4 if part.bytes().all(|b| b.is_ascii_alphabetic()) => {
                let lower = part.to_ascii_lowercase();
                lower[..1].to_ascii_uppercase() + &lower[1..]
            }
            2 => part.to_ascii_uppercase(),
            _ => part.to_ascii_lowercase(),
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The configured locales, as this node last read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locales {
    list: Vec<Locale>,
}

impl Locales {
    /// Reads the configured locales, the default first, then by code.
    pub async fn load(conn: &mut AsyncPgConnection) -> QueryResult<Locales> {
        let list = locales::table
            .order((locales::is_default.desc(), locales::code.asc()))
            .select(Locale::as_select())
            .load(conn)
            .await?;
        Ok(Locales { list })
    }

    /// Every locale, the default first.
    pub fn all(&self) -> &[Locale] {
        &self.list
    }

    /// The default locale's code (`en` until configured otherwise).
    pub fn default_code(&self) -> &str {
        self.list
            .iter()
            .find(|locale| locale.default)
            .map_or("en", |locale| locale.code.as_str())
    }

    /// The locale `code`, if configured.
    pub fn get(&self, code: &str) -> Option<&Locale> {
        self.list.iter().find(|locale| locale.code == code)
    }

    /// The chain of `code`: itself, its fallbacks in turn, and the default
    /// last (`de-AT`, `de`, `en`). Each locale once, however the table is.
    pub fn chain(&self, code: &str) -> Vec<String> {
        let default = self.default_code();
        let mut chain: Vec<String> = Vec::new();
        let mut at = Some(code);
        while let Some(code) = at {
            if chain.iter().any(|seen| seen == code) || code == default {
                break;
            }
            chain.push(code.to_owned());
            at = self.get(code).and_then(|locale| locale.fallback.as_deref());
        }
        chain.push(default.to_owned());
        chain
    }

    /// The locale `Accept-Language` asks for, by RFC 4647 lookup: ranges in
    /// order of their q-values (ties in order given), each shortened from the
    /// end until it names a configured locale; `*` is the default. `None` when
    /// nothing matches (the caller answers in the default).
    pub fn negotiate(&self, accept_language: &str) -> Option<&Locale> {
        let mut ranges: Vec<(u16, usize, &str)> = accept_language
            .split(',')
            .enumerate()
            .filter_map(|(order, item)| {
                let mut parts = item.split(';').map(str::trim);
                let range = parts.next().filter(|range| !range.is_empty())?;
                let quality = parts
                    .find_map(|param| {
                        let (name, value) = param.split_once('=')?;
                        name.trim().eq_ignore_ascii_case("q").then(|| quality(value.trim()))
                    })
                    .unwrap_or(Some(1000))?;
                (quality > 0).then_some((quality, order, range))
            })
            .take(32)
            .collect();
        ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, _, range) in ranges {
            if range == "*" {
                return self.list.iter().find(|locale| locale.default);
            }
            let mut candidate = canonical_case(range);
            loop {
                if let Some(locale) = self.get(&candidate) {
                    return Some(locale);
                }
                match candidate.rfind('-') {
                    // A lone singleton is dropped with what follows (RFC 4647 §3.4).
                    Some(at) => {
                        candidate.truncate(at);
                        if candidate.rfind('-').is_some_and(|dash| candidate.len() - dash == 2) {
                            candidate.truncate(candidate.rfind('-').unwrap_or(0));
                        }
                    }
                    None => break,
                }
            }
        }
        None
    }
}

/// A q-value in thousandths; `None` if malformed (the range is then ignored).
fn quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// What one node knows of the configured locales: a snapshot, read again
/// when a locale is written here, when a request names a locale the
/// snapshot lacks, and every second (another node may have changed them).
#[derive(Debug)]
pub struct LocaleRegistry {
    current: RwLock<Arc<Locales>>,
    /// Bumped whenever the snapshot changes (read without a lock).
    generation: std::sync::atomic::AtomicU64,
    read_at: RwLock<std::time::Instant>,
}

/// How often a node reads the locales again at most when asked for one it does not know.
const RELOAD_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

impl Default for LocaleRegistry {
    fn default() -> Self {
        LocaleRegistry {
            current: RwLock::new(Arc::new(Locales {
                list: vec![Locale {
                    code: "en".to_owned(),
                    name: "English".to_owned(),
                    fallback: None,
                    default: true,
                }],
            })),
            generation: std::sync::atomic::AtomicU64::new(0),
            read_at: RwLock::new(std::time::Instant::now() - RELOAD_AT_MOST_EVERY),
        }
    }
}

impl LocaleRegistry {
    /// The current snapshot.
    pub fn current(&self) -> Arc<Locales> {
        self.current.read().map(|locales| locales.clone()).unwrap_or_default()
    }

    /// Which snapshot is current: changes whenever it does.
    pub fn generation(&self) -> u64 {
        std::sync::atomic::AtomicU64::load(&self.generation, std::sync::atomic::Ordering::Acquire)
    }

    /// Keeps `locales` as the snapshot; `true` if they differ from the last.
    pub fn set(&self, locales: Locales) -> bool {
        if let Ok(mut at) = self.read_at.write() {
            *at = std::time::Instant::now();
        }
        match self.current.write() {
            Ok(mut current) if **current != locales => {
                *current = Arc::new(locales);
                self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                true
            }
            _ => false,
        }
    }

    /// Whether the snapshot is old enough to read again for an unknown locale.
    pub fn may_reload(&self) -> bool {
        self.read_at
            .read()
            .map(|at| at.elapsed() >= RELOAD_AT_MOST_EVERY)
            .unwrap_or(true)
    }
}

/// Keeps `registry` current: reads the locales now and every second (another
/// node may change them), dropping `cache` when they changed (fallbacks
/// decide what every localized answer says).
pub async fn refresh(
    pool: crate::db::DbPool,
    registry: Arc<LocaleRegistry>,
    cache: Arc<crate::cache::RepresentationCache>,
) {
    loop {
        if let Ok(mut conn) = pool.get().await
            && let Ok(Ok(locales)) =
                tokio::time::timeout(std::time::Duration::from_secs(2), Locales::load(&mut conn)).await
            && registry.set(locales)
        {
            cache.clear();
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// What an admin sets on a locale.
#[derive(Debug, Clone)]
pub struct LocaleInput {
    pub name: String,
    pub fallback: Option<String>,
}

/// Checks `input` for the locale `code` against the other locales: the
/// fallback must exist, and the chain must end at the default without a cycle.
fn check_chain(code: &str, input: &LocaleInput, locales: &Locales) -> Vec<FieldError> {
    let problem = |pointer: &str, message: String| FieldError {
        pointer: pointer.to_owned(),
        message,
    };
    let mut errors = Vec::new();
    let is_default = locales.get(code).is_some_and(|locale| locale.default);
    let Some(fallback) = input.fallback.as_deref() else {
        return errors;
    };
    if is_default {
        errors.push(problem(
            "/fallback",
            "must be null: the default locale falls back to nothing".to_owned(),
        ));
    } else if fallback == code {
        errors.push(problem("/fallback", "must not be the locale itself".to_owned()));
    } else if locales.get(fallback).is_none() {
        errors.push(problem(
            "/fallback",
            format!("names no configured locale ({fallback:?}); create it first"),
        ));
    } else {
        // Follow the chain from the fallback: reaching `code` again is a cycle.
        let mut at = Some(fallback);
        let mut steps = 0;
        while let Some(next) = at {
            if next == code {
                errors.push(problem(
                    "/fallback",
                    format!("makes a cycle: {fallback:?} falls back to {code:?}"),
                ));
                break;
            }
            steps += 1;
            if steps > locales.all().len() {
                break;
            }
            at = locales.get(next).and_then(|locale| locale.fallback.as_deref());
        }
    }
    errors
}

/// Creates or changes the locale `code`; `true` if it was created.
pub async fn put_locale(conn: &mut AsyncPgConnection, code: &str, input: LocaleInput) -> Result<bool, Error> {
    if let Err(message) = check_tag(code) {
        return Err(Error::Invalid(vec![FieldError {
            pointer: String::new(),
            message: format!("the locale in the path {message}"),
        }]));
    }
    conn.transaction(async |conn| {
        // One writer of the locale table at a time, so two chains cannot cross into a cycle.
        diesel::sql_query("LOCK TABLE locales IN SHARE ROW EXCLUSIVE MODE")
            .execute(conn)
            .await?;
        let locales = Locales::load(conn).await?;
        let errors = check_chain(code, &input, &locales);
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let now = Utc::now();
        let created = locales.get(code).is_none();
        diesel::insert_into(locales::table)
            .values((
                locales::code.eq(code),
                locales::name.eq(&input.name),
                locales::fallback.eq(&input.fallback),
            ))
            .on_conflict(locales::code)
            .do_update()
            .set((
                locales::name.eq(&input.name),
                locales::fallback.eq(&input.fallback),
                locales::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        Ok(created)
    })
    .await
}

/// Why a locale cannot be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InUse {
    /// It is the default locale.
    Default,
    /// Articles hold text in it (how many).
    Text(i64),
    /// Other locales fall back to it.
    Fallback(Vec<String>),
}

/// Deletes the locale `code`: `Ok(false)` if there is none, `Err(InUse)` if
/// it is the default, holds text or is another locale's fallback.
pub async fn delete_locale(conn: &mut AsyncPgConnection, code: &str) -> Result<Result<bool, InUse>, Error> {
    conn.transaction(async |conn| {
        diesel::sql_query("LOCK TABLE locales IN SHARE ROW EXCLUSIVE MODE")
            .execute(conn)
            .await?;
        let locales = Locales::load(conn).await?;
        let Some(locale) = locales.get(code) else {
            return Ok(Ok(false));
        };
        if locale.default {
            return Ok(Err(InUse::Default));
        }
        let dependents: Vec<String> = locales
            .all()
            .iter()
            .filter(|other| other.fallback.as_deref() == Some(code))
            .map(|other| other.code.clone())
            .collect();
        if !dependents.is_empty() {
            return Ok(Err(InUse::Fallback(dependents)));
        }
        let articles: i64 = translations::table
            .filter(translations::locale.eq(code))
            .select(diesel::dsl::count(translations::article_id).aggregate_distinct())
            .first(conn)
            .await?;
        if articles > 0 {
            return Ok(Err(InUse::Text(articles)));
        }
        diesel::delete(article_locales::table.filter(article_locales::locale.eq(code)))
            .execute(conn)
            .await?;
        diesel::delete(locales::table.find(code)).execute(conn).await?;
        Ok(Ok(true))
    })
    .await
}

/// Makes `code` the default locale if the database holds no text in any
/// other locale yet (`LAMINA_DEFAULT_LOCALE` takes effect before the first
/// start); otherwise keeps the stored default and says so.
pub async fn configure_default(conn: &mut AsyncPgConnection, code: &str) -> Result<(), String> {
    check_tag(code).map_err(|message| format!("LAMINA_DEFAULT_LOCALE {message}"))?;
    let outcome = conn
        .transaction(async |conn| {
            let locales = Locales::load(conn).await?;
            let stored = locales.default_code().to_owned();
            if stored == code {
                return Ok::<_, diesel::result::Error>(None);
            }
            let texts: i64 = translations::table.count().get_result(conn).await?;
            if texts > 0 || locales.all().len() > 1 {
                return Ok(Some(stored));
            }
            diesel::update(locales::table.filter(locales::is_default.eq(true)))
                .set((
                    locales::code.eq(code),
                    locales::name.eq(language_name(code)),
                    locales::updated_at.eq(Utc::now()),
                ))
                .execute(conn)
                .await?;
            // Every text is now in the new default locale, stemmed by its language.
            diesel::sql_query("SELECT search_reindex(id) FROM articles")
                .execute(conn)
                .await?;
            Ok(None)
        })
        .await
        .map_err(|err| format!("configuring the default locale: {err}"))?;
    if let Some(stored) = outcome {
        log::warn!(
            "LAMINA_DEFAULT_LOCALE is {code:?}, but this database's default locale is {stored:?} and it already \
             holds other locales; keeping {stored:?} (the default can change only before the first start)"
        );
    }
    Ok(())
}

/// A name for a locale nobody named yet: the language's own name for a few common ones.
fn language_name(code: &str) -> String {
    let language = code.split('-').next().unwrap_or(code);
    match language {
        "en" => "English",
        "de" => "Deutsch",
        "fr" => "Français",
        "es" => "Español",
        "it" => "Italiano",
        "nl" => "Nederlands",
        "pt" => "Português",
        "sv" => "Svenska",
        "da" => "Dansk",
        "nb" | "no" => "Norsk",
        "fi" => "Suomi",
        "pl" => "Polski",
        "cs" => "Čeština",
        "tr" => "Türkçe",
        "ru" => "Русский",
        "ja" => "日本語",
        "zh" => "中文",
        "ko" => "한국어",
        _ => code,
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_pattern_accepts_exactly_the_tags_check_tag_accepts() {
        let pattern = regex_lite::Regex::new(TAG_PATTERN).unwrap();
        let mut tags: Vec<String> = [
            "en",
            "de",
            "de-AT",
            "pt-BR",
            "zh-Hant-TW",
            "es-419",
            "sl-rozaj",
            "de-CH-1901",
            "ca-valencia",
            "en-US-posix",
            "EN",
            "de-at",
            "zh-hant",
            "e",
            "engl",
            "en-",
            "-en",
            "en--US",
            "en-12",
            "en-Latn-Latn",
            "en-abcdefghi",
            "en-1ab",
            "x-private",
            "en-US-x-twain",
            "de_AT",
            "d3",
            "",
        ]
        .map(str::to_owned)
        .to_vec();
        let mut rng = fastrand::Rng::with_seed(7);
        let alphabet = b"aZ09-eEnNuUsSlLtT1x";
        for _ in 0..20_000 {
            let len = rng.usize(1..14);
            tags.push(
                (0..len)
                    .map(|_| alphabet[rng.usize(..alphabet.len())] as char)
                    .collect(),
            );
        }
        for tag in tags {
            let documented = pattern.is_match(&tag) && tag.len() <= MAX_TAG_CHARS;
            assert_eq!(documented, check_tag(&tag).is_ok(), "{tag:?}");
        }
    }

    fn locales() -> Locales {
        let locale = |code: &str, fallback: Option<&str>, default: bool| Locale {
            code: code.to_owned(),
            name: code.to_owned(),
            fallback: fallback.map(str::to_owned),
            default,
        };
        Locales {
            list: vec![
                locale("en", None, true),
                locale("de", None, false),
                locale("de-AT", Some("de"), false),
                locale("pt-BR", None, false),
            ],
        }
    }

    #[test]
    fn tags_must_be_well_formed_and_canonical() {
        for good in ["en", "de-AT", "pt-BR", "zh-Hant-TW", "es-419", "sl-rozaj", "de-CH-1901"] {
            assert_eq!(check_tag(good), Ok(()), "{good}");
        }
        assert!(check_tag("de-at").unwrap_err().contains("\"de-AT\""));
        assert!(check_tag("EN").unwrap_err().contains("\"en\""));
        for bad in [
            "",
            "e",
            "english",
            "de_AT",
            "de-",
            "-de",
            "de--AT",
            "x-private",
            "de-A1",
            "en-US-x",
        ] {
            assert!(check_tag(bad).is_err(), "{bad}");
        }
        assert!(check_tag(&"a".repeat(36)).is_err());
    }

    #[test]
    fn chains_end_at_the_default() {
        let locales = locales();
        assert_eq!(locales.chain("de-AT"), ["de-AT", "de", "en"]);
        assert_eq!(locales.chain("de"), ["de", "en"]);
        assert_eq!(locales.chain("en"), ["en"]);
    }

    #[test]
    fn accept_language_is_a_lookup_by_q_value() {
        let locales = locales();
        let pick = |header: &str| locales.negotiate(header).map(|locale| locale.code.as_str());
        assert_eq!(pick("de-AT"), Some("de-AT"));
        assert_eq!(pick("de-CH"), Some("de"), "truncated to a configured locale");
        assert_eq!(pick("fr, de;q=0.5"), Some("de"));
        assert_eq!(pick("de;q=0.5, pt-BR;q=0.8"), Some("pt-BR"));
        assert_eq!(pick("de;q=0.5, pt-br;q=0.5"), Some("de"), "ties in order given");
        assert_eq!(pick("de;q=0, fr"), None);
        assert_eq!(pick("*"), Some("en"));
        assert_eq!(pick("fr, *;q=0.1"), Some("en"));
        assert_eq!(pick("de-AT-x-foo"), Some("de-AT"), "a singleton goes with what follows");
        assert_eq!(pick("de;q=1.5"), None, "a malformed q-value drops the range");
        assert_eq!(pick(""), None);
        assert_eq!(pick("fr"), None);
    }

    #[test]
    fn chains_are_checked() {
        let locales = locales();
        let input = |fallback: &str| LocaleInput {
            name: "x".into(),
            fallback: Some(fallback.into()),
        };
        assert!(
            check_chain("de", &input("de-AT"), &locales)[0]
                .message
                .contains("cycle")
        );
        assert!(
            check_chain("fr", &input("it"), &locales)[0]
                .message
                .contains("no configured locale")
        );
        assert!(
            check_chain("en", &input("de"), &locales)[0]
                .message
                .contains("must be null")
        );
        assert!(check_chain("de", &input("de"), &locales)[0].message.contains("itself"));
        assert!(check_chain("fr", &input("de-AT"), &locales).is_empty());
    }
}

//! The first article, micro-needling, kept as a write body in
//! `src/content/seed/micro-needling.json` and stored through the same
//! validation and insert path as an editor's `PUT`.

use diesel_async::AsyncPgConnection;

use super::error::{Error, Precondition};
use super::input::{ArticleInput, parse_article};
use super::store::{self, Visibility};
use super::write::{self, Actor};

/// The seed article's slug.
pub const SLUG: &str = "explore-micro-needling-for-flawless-skin-today";

/// The seed article as a `PUT /v1/articles/{slug}` body.
pub const DOCUMENT: &str = include_str!("seed/micro-needling.json");

/// The seed article, validated.
pub fn article() -> Result<ArticleInput, String> {
    let body: serde_json::Value =
        serde_json::from_str(DOCUMENT).map_err(|err| format!("the seed is not JSON: {err}"))?;
    parse_article(&body, SLUG).map_err(|errors| {
        let list: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.pointer, e.message)).collect();
        format!("the seed breaks the content rules: {}", list.join("; "))
    })
}

/// What `seed` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeded {
    /// The article was stored now.
    Inserted,
    /// An article with the slug already exists; nothing was changed.
    AlreadyPresent,
}

/// The actor recorded with the seed's revision.
pub const ACTOR: &str = "lamina-seed";

/// Stores the seed article unless an article with its slug exists, through
/// the same write path as an editor's `PUT` (so it has a first revision to
/// restore).
pub async fn seed(conn: &mut AsyncPgConnection) -> Result<Seeded, String> {
    let article = article()?;
    if store::find_article(conn, SLUG, Visibility::All)
        .await
        .map_err(|err| err.to_string())?
        .is_some()
    {
        return Ok(Seeded::AlreadyPresent);
    }
    let actor = Actor {
        name: ACTOR.to_owned(),
        request_id: "seed".to_owned(),
        revisions_keep: i64::MAX,
        sync_keep_days: crate::config::DEFAULT_SYNC_KEEP_DAYS.cast_signed(),
        trash_keep_days: crate::config::DEFAULT_TRASH_KEEP_DAYS.cast_signed(),
    };
    match write::put(
        conn,
        write::Target {
            slug: SLUG,
            precondition: Precondition::Absent,
            actor: &actor,
        },
        write::Put::Article(article),
    )
    .await
    {
        Ok(_) => Ok(Seeded::Inserted),
        // Another process seeded it between our check and our write.
        Err(Error::ArticleExists { .. } | Error::PreconditionFailed { .. }) => Ok(Seeded::AlreadyPresent),
        Err(err) => Err(format!("storing the seed failed: {err}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_seed_passes_validation_and_reads_in_four_minutes() {
        let article = super::article().unwrap();
        assert_eq!(article.sections.len(), 8);
        assert_eq!(super::super::input::reading_time_minutes(article.word_count()), 4);
    }
}

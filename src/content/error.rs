//! What can go wrong in the domain, said without HTTP: routes map each case
//! to a problem (as omicron maps its `Error` to `HttpError`).

use uuid::Uuid;

use super::kinds::SectionKind;

/// One problem with a write body: where (an RFC 6901 pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// RFC 6901 pointer to the offending value in the request body (`""` is the whole body).
    pub pointer: String,
    /// What is wrong, in plain words.
    pub message: String,
}

/// One use of an asset in content (what `asset_in_use` lists).
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Use {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub asset_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub article_id: Uuid,
    /// The article's slug.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub slug: String,
    /// Where in the article's read: `/hero_image`, `/sections/2/items/0/image`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub pointer: String,
    /// Whether the article is published.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub published: bool,
    /// Whether the use gives alt text of its own, or is decorative: it needs none of the asset's.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub needs_no_alt: bool,
}

/// A resource that carries a version, and so can be the target of a precondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A whole article: its version.
    Article,
    /// A section: its version.
    Section,
    /// An item: the version of its section.
    Item,
    /// A release: its version.
    Release,
    /// An uploaded image's metadata: its version.
    Asset,
}

/// A resource at one version: what a client's precondition names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// The article's, section's or item's id.
    pub id: Uuid,
    /// Its version (an item's is its section's).
    pub version: i64,
}

/// What a write requires of the resource's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Nothing said: the resource must not exist (to create), otherwise the
    /// write needs a precondition.
    Absent,
    /// Any current version.
    Any,
    /// One of these versions (none: nothing can match).
    OneOf(Vec<Version>),
}

impl Precondition {
    /// Checks the precondition against an existing `resource` at `current`.
    pub fn check(&self, resource: Resource, current: Version) -> Result<(), Error> {
        match self {
            Precondition::Absent => Err(Error::PreconditionRequired),
            Precondition::Any => Ok(()),
            Precondition::OneOf(versions) if versions.contains(&current) => Ok(()),
            Precondition::OneOf(_) => Err(Error::PreconditionFailed {
                current: Some((resource, current)),
            }),
        }
    }

    /// For a write that needs no precondition but honours one (staging):
    /// nothing said always holds; otherwise as [`check`](Self::check) against
    /// `current`, or [`check_absent`](Self::check_absent) when there is none.
    pub fn check_if_given(&self, resource: Resource, current: Option<Version>) -> Result<(), Error> {
        match (self, current) {
            (Precondition::Absent, _) => Ok(()),
            (_, Some(current)) => self.check(resource, current),
            (_, None) => self.check_absent(),
        }
    }

    /// For a resource that does not exist: only [`Precondition::Absent`] holds.
    pub fn check_absent(&self) -> Result<(), Error> {
        match self {
            Precondition::Absent => Ok(()),
            _ => Err(Error::PreconditionFailed { current: None }),
        }
    }
}

/// A staged article or section that changed live since it was staged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ReleaseConflict {
    /// The article's slug.
    #[schema(example = "tomato-soup")]
    pub slug: String,
    /// The section's kind, or `null` for a whole article.
    #[schema(example = json!(null))]
    pub kind: Option<String>,
    /// The live version it was staged on (`null`: it did not exist).
    #[schema(example = 3)]
    pub staged_base_version: Option<i64>,
    /// The live version now (`null`: it does not exist).
    #[schema(example = 4)]
    pub current_version: Option<i64>,
}

/// Everything a read or write of content can fail with.
#[derive(Debug)]
pub enum Error {
    /// No article has this slug (or the reader may not see it).
    ArticleNotFound { slug: String },
    /// The article has no section of this kind.
    SectionNotFound { slug: String, kind: SectionKind },
    /// The section has no such item.
    ItemNotFound { slug: String, kind: SectionKind, id: Uuid },
    /// The article has no such revision (or it holds no snapshot).
    RevisionNotFound { slug: String, id: Uuid },
    /// The revision's snapshot breaks today's content rules (it was stored under older ones).
    RevisionNotRestorable { id: Uuid, errors: Vec<FieldError> },
    /// Another write created the article first.
    ArticleExists { slug: String },
    /// A write to an existing resource said nothing of its version.
    PreconditionRequired,
    /// The precondition does not hold: the resource's current version, if it exists.
    PreconditionFailed { current: Option<(Resource, Version)> },
    /// The write breaks the content rules.
    Invalid(Vec<FieldError>),
    /// The database did not answer or could not be used.
    Unavailable(String),
    /// The database was lost during a write; `maybe_committed` if while committing.
    WriteInterrupted { maybe_committed: bool, cause: String },
    /// A write did not finish in time: the request's deadline passed, or a
    /// statement or lock wait ran past its timeout (`cause` says which);
    /// `maybe_committed` if that happened while committing.
    TimedOut { maybe_committed: bool, cause: String },
    /// Any other database failure.
    Database(diesel::result::Error),
    /// Stored content the model cannot represent.
    Corrupt(String),
    /// No release has this id.
    ReleaseNotFound { id: Uuid },
    /// The release stages nothing for this article or section.
    NotStaged {
        id: Uuid,
        slug: String,
        kind: Option<SectionKind>,
    },
    /// The release is published or failed.
    ReleaseClosed { id: Uuid, state: String },
    /// The release already stages as many changes as one publication can apply.
    ReleaseTooLarge { id: Uuid, limit: i64 },
    /// Staged changes whose live versions moved: nothing was applied.
    ReleaseConflict(Vec<ReleaseConflict>),
    /// A staged change cannot be applied as it stands, though nothing moved
    /// live (a section of an article that does not exist, a body that breaks
    /// today's rules): nothing was applied.
    ReleaseUnappliable {
        slug: String,
        kind: Option<String>,
        reason: String,
    },
    /// A sync cursor from before the pruned horizon: changes it needs are gone.
    SyncCursorExpired,
    /// No webhook endpoint has this id.
    WebhookNotFound { id: Uuid },
    /// The webhook endpoint has no such delivery.
    DeliveryNotFound { id: Uuid },
    /// No asset has this id.
    AssetNotFound { id: Uuid },
    /// Content uses the asset: it cannot be deleted.
    AssetInUse { id: Uuid, uses: Vec<Use> },
    /// The asset store failed (a disk error): not the request's fault.
    Storage(String),
    /// The asset store cannot be reached now (an object store's network
    /// error, 5xx or 429): the request may be tried again.
    StoreUnavailable(String),
}

impl Error {
    /// The error of the asset store's `err` while `doing` something: the
    /// store cannot be reached now, or it failed.
    pub fn store(doing: &str, err: std::io::Error) -> Error {
        let cause = format!("{doing}: {err}");
        if crate::media::s3::is_unreachable(&err) {
            Error::StoreUnavailable(cause)
        } else {
            Error::Storage(cause)
        }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(err: diesel::result::Error) -> Error {
        if crate::db::is_unavailable(&err) {
            Error::Unavailable(err.to_string())
        } else {
            Error::Database(err)
        }
    }
}

impl From<crate::db::DeadlineExceeded> for Error {
    fn from(_: crate::db::DeadlineExceeded) -> Error {
        Error::Unavailable(crate::db::deadline_cause())
    }
}

/// `From` the failures of a content query (a `diesel` error, the statement
/// deadline, an [`Error`]) for an error type that carries an [`Error`] in
/// the variant `$variant`, so `?` works on queries inside its code.
macro_rules! wraps_content_errors {
    ($type:ident :: $variant:ident) => {
        impl From<diesel::result::Error> for $type {
            fn from(err: diesel::result::Error) -> $type {
                $type::$variant(err.into())
            }
        }

        impl From<crate::db::DeadlineExceeded> for $type {
            fn from(err: crate::db::DeadlineExceeded) -> $type {
                $type::$variant(err.into())
            }
        }

        impl From<crate::content::Error> for $type {
            fn from(err: crate::content::Error) -> $type {
                $type::$variant(err)
            }
        }
    };
}
pub(crate) use wraps_content_errors;

impl From<crate::db::PoolError> for Error {
    fn from(err: crate::db::PoolError) -> Error {
        Error::Unavailable(err.to_string())
    }
}

impl Error {
    /// This error as the outcome of a write transaction: a lost database
    /// becomes [`Error::WriteInterrupted`], saying whether COMMIT had been
    /// reached (`committing`).
    pub fn of_write(self, committing: bool) -> Error {
        match self {
            Error::Unavailable(cause) if crate::db::is_timeout(&cause) => Error::TimedOut {
                maybe_committed: committing,
                cause,
            },
            Error::Unavailable(cause) => Error::WriteInterrupted {
                maybe_committed: committing,
                cause,
            },
            other => other,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for Error {}

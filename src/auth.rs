//! API tokens and who is asking: bearer tokens with a role, stored as hashes.

use std::future::{Future, Ready, ready};
use std::net::IpAddr;

use futures_util::future::Either;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::AppState;
use crate::content::store::Visibility;
use crate::db::schema::api_tokens;
use crate::error::AppError;

/// Every secret starts with this, so leaked tokens are easy to recognise.
const SECRET_PREFIX: &str = "lamina_";
/// How many characters of a secret are stored and shown to tell tokens apart.
const VISIBLE_CHARS: usize = SECRET_PREFIX.len() + 6;
/// `last_used_at` is written at most this often per token.
const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read drafts (for preview deployments of a front end).
    Preview,
    /// Also write content and read revisions.
    Editor,
    /// Everything.
    Admin,
}

impl Role {
    /// The storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Preview => "preview",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    fn parse(name: &str) -> Option<Role> {
        match name {
            "preview" => Some(Role::Preview),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A stored token, without its secret.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Why a token could not be created.
#[derive(Debug)]
pub enum TokenError {
    /// The name is taken or malformed, or the expiry is not in the future.
    BadName(String),
    /// The operating system's random source failed.
    Random(String),
    /// The database failed.
    Database(diesel::result::Error),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::BadName(detail) | TokenError::Random(detail) => f.write_str(detail),
            TokenError::Database(err) => write!(f, "database: {err}"),
        }
    }
}

impl std::error::Error for TokenError {}

/// The longest a token may live: ten years. A longer lifetime is refused
/// (`expires_at` must stay a date PostgreSQL and chrono can hold).
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// Creates a token and returns its secret, which is not stored and cannot be shown again.
pub async fn create_token(
    conn: &mut AsyncPgConnection,
    name: &str,
    role: Role,
    expires_in_days: Option<u32>,
) -> Result<String, TokenError> {
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if expires_in_days == Some(0) {
        return Err(TokenError::BadName(
            "a token must live at least one day: --expires-in-days 1 or more".to_owned(),
        ));
    }
    if expires_in_days.is_some_and(|days| days > MAX_TOKEN_DAYS) {
        return Err(TokenError::BadName(format!(
            "a token may live at most {MAX_TOKEN_DAYS} days (ten years): --expires-in-days 1 to {MAX_TOKEN_DAYS}, \
             or leave it out for a token that never expires"
        )));
    }
    if !valid_name {
        return Err(TokenError::BadName(format!(
            "token name {name:?} must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit"
        )));
    }
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|err| TokenError::Random(format!("no randomness: {err}")))?;
    let secret: String = std::iter::once(SECRET_PREFIX.to_owned())
        .chain(random.iter().map(|b| format!("{b:02x}")))
        .collect();
    let now = Utc::now();
    let expires_at = match expires_in_days {
        None => None,
        Some(days) => Some(
            now.checked_add_signed(Duration::days(i64::from(days)))
                .ok_or_else(|| TokenError::BadName(format!("{days} days from now is no date")))?,
        ),
    };
    let inserted = diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::id.eq(Uuid::new_v4()),
            api_tokens::name.eq(name),
            api_tokens::role.eq(role.as_str()),
            api_tokens::prefix.eq(&secret[..VISIBLE_CHARS]),
            api_tokens::secret_hash.eq(hash(&secret)),
            api_tokens::created_at.eq(now),
            api_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await;
    match inserted {
        Ok(_) => Ok(secret),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Err(TokenError::BadName(format!(
                "an active token is named {name:?}; revoke it or choose another name"
            )))
        }
        Err(err) => Err(TokenError::Database(err)),
    }
}

/// Every token, oldest first.
pub async fn list_tokens(conn: &mut AsyncPgConnection) -> QueryResult<Vec<TokenRow>> {
    api_tokens::table
        .order(api_tokens::created_at.asc())
        .select(TokenRow::as_select())
        .load(conn)
        .await
}

/// Revokes the token named `name`; `false` if there is no such unrevoked token.
pub async fn revoke_token(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<bool> {
    let changed = diesel::update(
        api_tokens::table
            .filter(api_tokens::name.eq(name))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Utc::now()))
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// Who is asking: anonymous, or the holder of a valid token.
#[derive(Debug, Clone)]
pub enum Reader {
    /// No `Authorization` header.
    Anonymous,
    /// A valid token.
    Token {
        /// The token's name: recorded as the actor of writes.
        name: String,
        /// What it may do.
        role: Role,
    },
}

impl Reader {
    /// Which articles this reader may see.
    pub fn visibility(&self) -> Visibility {
        match self {
            Reader::Anonymous => Visibility::Published,
            Reader::Token { .. } => Visibility::All,
        }
    }

    /// Whether responses are personal (and so `private, no-store`).
    pub fn is_authenticated(&self) -> bool {
        !matches!(self, Reader::Anonymous)
    }
}

fn unauthorized(detail: &str) -> AppError {
    AppError::Unauthorized {
        detail: detail.to_owned(),
    }
}

/// Who an `Authorization` header value names: anonymous without one, the
/// token's holder, or 401. The token is checked before the address's failure
/// limit, so a valid token is never refused because of someone else's
/// failures from the same address (a shared proxy, say); only failures count
/// towards the limit, and a blocked address gets 429 for them.
pub async fn authenticate_header(
    state: &AppState,
    authorization: Option<&header::HeaderValue>,
    address: Option<IpAddr>,
) -> Result<Reader, AppError> {
    let Some(value) = authorization else {
        return Ok(Reader::Anonymous);
    };
    match crate::db::deadline(verify(state, value)).await {
        Err(failure @ AppError::Unauthorized { .. }) => {
            state.limits.check_address(address)?;
            Err(state.limits.auth_failed(address, failure))
        }
        outcome => outcome,
    }
}

/// Checks the request's bearer token, if any. An unusable token is a 401, never anonymous.
async fn authenticate(req: HttpRequest) -> Result<Reader, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal("application state is missing".to_owned()))?;
    let address = state
        .limits
        .client_address(req.peer_addr().map(|address| address.ip()), req.headers());
    authenticate_header(state, req.headers().get(header::AUTHORIZATION), address).await
}

/// The secret of a `Bearer <token>` value; the scheme is case-insensitive (RFC 9110 §11.1).
fn bearer_secret(value: &header::HeaderValue) -> Option<&str> {
    let (scheme, secret) = value.to_str().ok()?.trim().split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

/// Looks the token up: its reader, or 401.
async fn verify(state: &AppState, value: &header::HeaderValue) -> Result<Reader, AppError> {
    let secret =
        bearer_secret(value).ok_or_else(|| unauthorized("The Authorization header must be `Bearer <token>`."))?;
    let mut conn = state.pool.get().await?;
    let token: Option<TokenRow> = api_tokens::table
        .filter(api_tokens::secret_hash.eq(hash(secret)))
        .select(TokenRow::as_select())
        .first(&mut conn)
        .await
        .optional()?;
    let now = Utc::now();
    let token = token.ok_or_else(|| unauthorized("The token is not valid."))?;
    if token.revoked_at.is_some() {
        return Err(unauthorized("The token has been revoked."));
    }
    if token.expires_at.is_some_and(|expires| expires <= now) {
        return Err(unauthorized("The token has expired."));
    }
    let role = Role::parse(&token.role)
        .ok_or_else(|| AppError::Internal(format!("token {} has role {:?}", token.name, token.role)))?;
    if token
        .last_used_at
        .is_none_or(|used| (now - used).num_seconds() >= LAST_USED_RESOLUTION_SECONDS)
    {
        diesel::update(api_tokens::table.find(token.id))
            .set(api_tokens::last_used_at.eq(now))
            .execute(&mut conn)
            .await?;
    }
    Ok(Reader::Token { name: token.name, role })
}

impl FromRequest for Reader {
    type Error = AppError;
    type Future = Either<Ready<Result<Reader, AppError>>, Pin<Box<dyn Future<Output = Result<Reader, AppError>>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        // Most reads are anonymous: answer them without a boxed future.
        if !req.headers().contains_key(header::AUTHORIZATION) {
            return Either::Left(ready(Ok(Reader::Anonymous)));
        }
        Either::Right(Box::pin(authenticate(req.clone())))
    }
}

/// The holder of a token of at least some role: [`Editor`] or [`Admin`].
/// `ADMIN` says which (a `const` parameter: a role is not one yet).
#[derive(Debug, Clone)]
pub struct Holder<const ADMIN: bool> {
    /// The token's name, recorded as the actor of writes.
    pub name: String,
}

/// The holder of an `editor` or `admin` token: the only ones who write.
pub type Editor = Holder<false>;

/// The holder of an `admin` token: the only ones who manage webhooks.
pub type Admin = Holder<true>;

impl<const ADMIN: bool> FromRequest for Holder<ADMIN> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let least = if ADMIN { Role::Admin } else { Role::Editor };
        Box::pin(async move {
            Ok(Holder {
                name: require(req, least).await?,
            })
        })
    }
}

/// The name of the token of `req` if its role is `least` or above (its
/// writes counted against the write limit), else 401 or 403 saying what is needed.
async fn require(req: HttpRequest, least: Role) -> Result<String, AppError> {
    let needed = match least {
        Role::Admin => "admin",
        _ => "editor or admin",
    };
    match authenticate(req.clone()).await? {
        Reader::Anonymous => Err(unauthorized(&format!(
            "This needs an {} token: `Authorization: Bearer <token>`.",
            least.as_str()
        ))),
        Reader::Token { name, role } if role < least => Err(AppError::Forbidden {
            detail: format!(
                "The token {name:?} has the {} role; this needs {needed}.",
                role.as_str()
            ),
        }),
        Reader::Token { name, .. } => {
            if req.method() != actix_web::http::Method::GET
                && let Some(state) = req.app_data::<web::Data<AppState>>()
            {
                state.limits.write(&name)?;
            }
            Ok(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let secret = |value: &'static str| super::bearer_secret(&HeaderValue::from_static(value)).map(str::to_owned);
        for value in ["Bearer abc", "bearer abc", "BEARER abc", "BeArEr   abc  "] {
            assert_eq!(secret(value).as_deref(), Some("abc"), "{value}");
        }
        for value in ["Basic abc", "Bearer", "Bearer  ", "Bearerabc", ""] {
            assert_eq!(secret(value), None, "{value}");
        }
    }
}

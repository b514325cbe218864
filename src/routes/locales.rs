//! `/v1/locales`: the configured locales (API.md §13).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, put, web};
use deserr::Deserr;
use utoipa::ToSchema;

use super::caching::{Representation, etag_of, respond};
use super::paths::LocalePath;
use super::{NoParams, Query, ReadProblems, read_json, with_connection};
use crate::AppState;
use crate::auth::Admin;
use crate::content::fields::{BodyErrors, Text};
use crate::content::locales::{self, InUse, Locale, LocaleInput, Locales, MAX_NAME_CHARS};
use crate::error::{AppError, Code};

/// What an admin sets on a locale.
#[derive(Debug, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct LocaleWrite {
    /// What editors call it, 1–100 characters.
    #[deserr(from(Text<MAX_NAME_CHARS>) = Text::into_string)]
    #[schema(example = "Deutsch (Österreich)", min_length = 1, max_length = 100)]
    pub name: String,
    /// The locale its missing texts come from (configured, no cycle); `null`
    /// or left out: the default locale. Must be `null` for the default.
    #[deserr(default)]
    #[schema(example = "de", required = true)]
    pub fallback: Option<String>,
}

super::problem_responses! {
    /// The failures of the locale admin routes.
    LocaleProblems {
        400 => "Malformed JSON or an unknown query parameter.",
        401 => "No token, or an unknown, expired or revoked one.",
        403 => "The token is not an admin's.",
        404 => "No locale has this code.",
        409 => "`locale_in_use`: the locale holds text, is another locale's fallback, or is the default.",
        415 => "The body is not `application/json`.",
        422 => "A malformed tag, an unknown fallback, a cycle, or a fallback on the default.",
        429 => "Over a rate limit.",
    }
}

/// Reads the locales again on this node after a change (other nodes do
/// within a second), dropping cached answers when they changed.
async fn reload(state: &AppState) -> Result<(), AppError> {
    let current = with_connection(state, async |conn| Ok(Locales::load(conn).await?)).await?;
    if state.locales.set(current) {
        state.cache.clear();
    }
    Ok(())
}

/// List the configured locales, the default first.
///
/// Each locale's BCP 47 code, its name, its fallback and whether it is the default; every
/// fallback chain ends at the default locale. Pass a code as `?locale=` on reads. Public and
/// cacheable: a strong ETag and 304 to `If-None-Match`.
#[utoipa::path(
    tag = "locales",
    responses(
        (status = 200, description = "Every configured locale", body = Vec<Locale>,
            headers(("ETag" = String, description = "Strong validator of the list"))),
        (status = 304, description = "The copy named by If-None-Match is current"),
        ReadProblems,
    )
)]
#[get("/locales")]
pub async fn list_locales(
    state: web::Data<AppState>,
    req: HttpRequest,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let locales = crate::db::deadline(async {
        let mut conn = state.pool.get().await?;
        Ok::<_, AppError>(Locales::load(&mut conn).await?)
    })
    .await?;
    let body = serde_json::to_vec(locales.all())?;
    let etag = etag_of("loc", &body);
    let representation = Representation::new(body.into(), etag, None, "locales".to_owned());
    Ok(respond(&req, &representation, &state.cache_policy, false))
}

/// Create or change a locale (admin).
///
/// Every chain ends at the default locale: a fallback that is not
/// configured, that makes a cycle, or a fallback on the default is a 422, as
/// is a tag that is not BCP 47 in canonical case.
#[utoipa::path(
    tag = "locales",
    params(LocalePath),
    request_body(content = LocaleWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed", body = Locale),
        (status = 201, description = "Created", body = Locale,
            headers(("Location" = String, description = "The locale's URL"))),
        LocaleProblems,
    )
)]
#[put("/locales/{code}")]
pub async fn put_locale(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: Admin,
    LocalePath { code }: LocalePath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_json(&req, body).await?;
    let write = deserr::deserialize::<LocaleWrite, _, BodyErrors>(body)
        .map_err(|errors| AppError::from(crate::content::Error::Invalid(errors.into_field_errors())))?;
    let input = LocaleInput {
        name: write.name,
        fallback: write.fallback,
    };
    let created = crate::db::deadline(async {
        let mut conn = state.pool.get().await?;
        Ok::<_, AppError>(locales::put_locale(&mut conn, &code, input).await?)
    })
    .await?;
    reload(&state).await?;
    let locales = state.locales.current();
    let locale = locales
        .get(&code)
        .ok_or_else(|| AppError::Internal(format!("the locale {code} just written is missing")))?;
    let mut response = HttpResponse::build(if created { StatusCode::CREATED } else { StatusCode::OK });
    if created {
        response.insert_header((actix_web::http::header::LOCATION, format!("/v1/locales/{code}")));
    }
    Ok(response
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(locale))
}

/// Delete a locale (admin).
///
/// Refused with 409 `locale_in_use` while any text is written in the locale, while it is
/// another locale's fallback, or when it is the default locale.
#[utoipa::path(
    tag = "locales",
    params(LocalePath),
    security(("bearer" = [])),
    responses(super::Deleted<LocaleProblems>),
)]
#[delete("/locales/{code}")]
pub async fn delete_locale(
    state: web::Data<AppState>,
    _admin: Admin,
    LocalePath { code }: LocalePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    let outcome = crate::db::deadline(async {
        let mut conn = state.pool.get().await?;
        Ok::<_, AppError>(locales::delete_locale(&mut conn, &code).await?)
    })
    .await?;
    let in_use = |detail: String| AppError::Conflict {
        code: Code::LocaleInUse,
        detail,
    };
    match outcome {
        Ok(true) => {
            reload(&state).await?;
            Ok(HttpResponse::NoContent()
                .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .finish())
        }
        Ok(false) => Err(AppError::not_found(
            Code::LocaleNotFound,
            format!(
                "No locale has the code {:?}.",
                code.chars().take(40).collect::<String>()
            ),
        )),
        Err(InUse::Default) => Err(in_use(format!("{code:?} is the default locale; it cannot be deleted."))),
        Err(InUse::Text(articles)) => Err(in_use(format!(
            "{code:?} holds text in {articles} article(s); delete those translations first."
        ))),
        Err(InUse::Fallback(dependents)) => Err(in_use(format!(
            "{code:?} is the fallback of {}; change their fallback first.",
            dependents.join(", ")
        ))),
    }
}

//! `/v1/articles/{slug}/translations`: where each locale's translation of an
//! article stands, and publishing it (API.md §13).

use actix_web::{HttpResponse, get, put, web};
use deserr::Deserr;
use utoipa::ToSchema;

use super::parts::{self, Edit, Part};
use super::paths::{ArticlePath, TranslationPath, article_not_found};
use super::{NoParams, Query, ReadProblems, Reader, WriteProblems, read_json, with_connection};
use crate::AppState;
use crate::content::fields::BodyErrors;
use crate::content::kinds::ArticleStatus;
use crate::content::translations::{self, TranslationStatus};
use crate::content::{Resource, store, write};
use crate::error::{AppError, Code};

/// How far an article's translations are, per locale (any token).
///
/// One entry per configured locale other than the default: how many texts are translated,
/// missing (they fall back) and outdated (written before the default locale's text last
/// changed), the JSON pointers of the missing and outdated ones in the article as read, and
/// whether the translation is published. Any valid token may ask; anonymous callers get 401.
#[utoipa::path(
    tag = "locales",
    params(ArticlePath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One entry per locale other than the default", body = Vec<TranslationStatus>),
        (status = 404, description = "No such article", body = crate::error::Problem, content_type = "application/problem+json"),
        ReadProblems,
    )
)]
#[get("/articles/{slug}/translations")]
pub async fn list_translations(
    state: web::Data<AppState>,
    reader: Reader,
    ArticlePath { slug }: ArticlePath,
    _query: Query<NoParams>,
) -> Result<HttpResponse, AppError> {
    if !reader.is_authenticated() {
        return Err(AppError::Unauthorized {
            detail: "Translation status is for editors and translators: send a token.".to_owned(),
        });
    }
    let report = crate::db::deadline(async {
        let mut conn = state.pool.get().await?;
        let (row, sections) = store::load_article(&mut conn, &slug, reader.visibility(), None)
            .await?
            .ok_or_else(|| article_not_found(&slug))?;
        Ok::<_, AppError>(translations::report(&mut conn, &row, &sections, &state.locales.current()).await?)
    })
    .await?;
    super::private_json(actix_web::http::StatusCode::OK, &report)
}

/// Whether an article's translation is live.
#[derive(Debug, Deserr, ToSchema)]
#[deserr(error = BodyErrors, deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub struct TranslationWrite {
    /// `published`: anonymous readers get the translation; `draft`: they get
    /// the fallback's text instead (tokens see the draft).
    pub status: ArticleStatus,
}

/// Publish an article's translation into a locale, or take it back to draft (editor).
///
/// Anonymous readers get a locale's texts only once its translation is `published`; a `draft`
/// translation serves them the fallback's text instead (tokens see the draft). The article's
/// own `status` still decides whether it is visible at all. `If-Match` is the article's
/// current ETag in any locale, or `*`. The answer is the article as now read in that locale.
#[utoipa::path(
    tag = "locales",
    params(TranslationPath, ("If-Match" = String, Header, description = "The article's current ETag (in any locale), or `*`")),
    request_body(content = TranslationWrite, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article as now read in that locale", body = crate::content::model::Article,
            headers(("ETag" = String, description = "The new version, in that locale"))),
        WriteProblems,
    )
)]
#[put("/articles/{slug}/translations/{locale}")]
pub async fn put_translation_status(
    edit: Edit,
    TranslationPath { slug, locale }: TranslationPath,
    _query: Query<NoParams>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_json(&edit.req, body).await?;
    let write = deserr::deserialize::<TranslationWrite, _, BodyErrors>(body)
        .map_err(|errors| AppError::from(crate::content::Error::Invalid(errors.into_field_errors())))?;
    let Some(choice) = parts::write_locale(&edit.state, &edit.req, Some(&locale)).await? else {
        return Err(AppError::bad_request(
            Code::UnknownLocale,
            format!("{locale:?} is the default locale: the article's own `status` publishes it."),
        ));
    };
    let target = edit.on(&slug, Resource::Article);
    let published = write.status == ArticleStatus::Published;
    let written = with_connection(&edit.state, async |conn| {
        Ok(write::put_status(conn, target, &choice.code, published).await?)
    })
    .await?;
    parts::written_in(&edit.state, &slug, Part::Article(None), &written, &choice).await
}

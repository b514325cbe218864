//! Entity tags: how versions are written in `ETag` and read back from
//! `If-Match` (RFC 9110 §8.8.3, §13.1.1). The domain deals in versions; the
//! tag formats live here.

use actix_web::HttpRequest;
use actix_web::http::header::{Header, IfMatch};
use uuid::Uuid;

use crate::content::translations::ReadLocale;
use crate::content::{Precondition, Resource, SectionKind, Version};

/// The tag's prefix for each resource, so a tag of one kind never matches another.
fn prefix(resource: Resource) -> &'static str {
    match resource {
        Resource::Article => "a",
        Resource::Section => "s",
        Resource::Item => "i",
        Resource::Release => "r",
        Resource::Asset => "m",
    }
}

/// The strong entity tag of `resource` at `version`, quoted: `"s.<id>.<version>"`.
pub fn etag(resource: Resource, version: Version) -> String {
    format!("\"{}.{}.{}\"", prefix(resource), version.id.simple(), version.version)
}

/// The entity tag of an article showing only the sections of `kinds`.
pub fn selection_etag(article: Version, kinds: &[SectionKind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|kind| kind.as_str()).collect();
    format!("\"a.{}.{}.{}\"", article.id.simple(), article.version, names.join("+"))
}

/// The entity tag of an article's section list.
pub fn section_list_etag(article: Version) -> String {
    format!("\"ss.{}.{}\"", article.id.simple(), article.version)
}

/// The tag of a representation in a locale other than the default: the
/// version's tag with `@<locale>` (each locale's answer has its own tag; the
/// default locale's is the tag lamina always gave).
pub fn in_locale(etag: String, locale: &ReadLocale) -> String {
    if locale.is_default() {
        return etag;
    }
    match etag.strip_suffix('"') {
        Some(open) => format!("{open}@{}\"", locale.code()),
        None => etag,
    }
}

/// The version a strong tag of `resource` names, if it is one of ours. The
/// tag of any locale's answer names its version (`@<locale>` is ignored).
fn parse(resource: Resource, tag: &str) -> Option<Version> {
    let tag = tag.split_once('@').map_or(tag, |(version, _)| version);
    let mut parts = tag.split('.');
    let (kind, id, version) = (parts.next()?, parts.next()?, parts.next()?);
    if kind != prefix(resource) || parts.next().is_some() {
        return None;
    }
    Some(Version {
        id: Uuid::try_parse(id).ok()?,
        version: version.parse().ok()?,
    })
}

/// The request's `If-Match` as a precondition on `resource`: absent, `*`, or
/// the versions its strong tags name (weak tags never match; a header that
/// cannot be read names nothing, so it fails).
pub fn precondition(req: &HttpRequest, resource: Resource) -> Precondition {
    if !req.headers().contains_key(actix_web::http::header::IF_MATCH) {
        return Precondition::Absent;
    }
    match IfMatch::parse(req) {
        Ok(IfMatch::Any) => Precondition::Any,
        Ok(IfMatch::Items(tags)) => Precondition::OneOf(
            tags.iter()
                .filter(|tag| !tag.weak)
                .filter_map(|tag| parse(resource, tag.tag()))
                .collect(),
        ),
        Err(_) => Precondition::OneOf(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_names_versions_of_one_resource_kind() {
        let id = Uuid::new_v4();
        let tag = etag(Resource::Section, Version { id, version: 3 });
        let request = |value: &str| {
            actix_web::test::TestRequest::default()
                .insert_header(("If-Match", value.to_owned()))
                .to_http_request()
        };
        assert_eq!(
            precondition(&request(&tag), Resource::Section),
            Precondition::OneOf(vec![Version { id, version: 3 }])
        );
        assert_eq!(
            precondition(&request(&tag), Resource::Article),
            Precondition::OneOf(vec![])
        );
        assert_eq!(
            precondition(&request(&format!("W/{tag}")), Resource::Section),
            Precondition::OneOf(vec![])
        );
        assert_eq!(precondition(&request("*"), Resource::Item), Precondition::Any);
        let list = format!("\"x\", {tag}");
        assert_eq!(
            precondition(&request(&list), Resource::Section).clone(),
            Precondition::OneOf(vec![Version { id, version: 3 }])
        );
        let none = actix_web::test::TestRequest::default().to_http_request();
        assert_eq!(precondition(&none, Resource::Article), Precondition::Absent);
    }
}

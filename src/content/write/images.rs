//! The rules a write's images must keep (API.md §15): each names an
//! existing asset, and a published article's have alt text or are decorative.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use uuid::Uuid;

use crate::content::error::Error;
use crate::content::fields::FieldError;
use crate::content::images::Image;
use crate::content::input::{ArticleInput, ItemInput, SectionInput};
use crate::db::schema::assets;

/// Every image of `section`, with its pointer below `base`.
pub fn of_section<'a>(section: &'a mut SectionInput, base: &str) -> Vec<(String, &'a mut Image)> {
    section
        .items
        .iter_mut()
        .enumerate()
        .filter_map(|(index, item)| Some((format!("{base}/items/{index}/image"), item.content.image.as_mut()?)))
        .collect()
}

/// Every image of `article`, with its pointer in the article's body.
pub fn of_article(article: &mut ArticleInput) -> Vec<(String, &mut Image)> {
    let hero = article
        .hero_image
        .as_mut()
        .map(|image| ("/hero_image".to_owned(), image));
    hero.into_iter()
        .chain(
            article
                .sections
                .iter_mut()
                .enumerate()
                .flat_map(|(index, section)| of_section(section, &format!("/sections/{index}"))),
        )
        .collect()
}

/// The image of an item body.
pub fn of_item(item: &mut ItemInput) -> Vec<(String, &mut Image)> {
    item.content
        .image
        .iter_mut()
        .map(|image| ("/image".to_owned(), image))
        .collect()
}

/// Checks the images a write stores (`uses`, each with its pointer in the
/// body): each names an existing asset, which stays until the write commits
/// (a key-share lock: its deletion waits, then finds it in use); and in a
/// `published` article each is decorative or has alt text in the default
/// locale, its own or the asset's (API.md §15). A use's alt text equal to
/// the asset's is not one of its own (a read sent back shows the asset's):
/// it is dropped, so the use keeps following the asset's; a decorative
/// image has none.
pub async fn check(
    conn: &mut AsyncPgConnection,
    mut uses: Vec<(String, &mut Image)>,
    published: bool,
) -> Result<(), Error> {
    if uses.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = uses.iter().map(|(_, image)| image.asset_id).collect();
    let found: Vec<(Uuid, serde_json::Value)> = assets::table
        .filter(assets::id.eq_any(&ids))
        .select((assets::id, assets::alt))
        .for_key_share()
        .load(conn)
        .await?;
    let default = crate::content::locales::Locales::load(conn)
        .await?
        .default_code()
        .to_owned();
    let mut errors = Vec::new();
    for (pointer, image) in &mut uses {
        let Some((_, alt)) = found.iter().find(|(id, _)| *id == image.asset_id) else {
            errors.push(FieldError {
                pointer: format!("{pointer}/asset_id"),
                message: "is no asset's id (upload the image with POST /v1/assets first)".to_owned(),
            });
            continue;
        };
        let asset_alt = alt.get(&default).and_then(serde_json::Value::as_str);
        if image.decorative || (image.alt.is_some() && image.alt.as_deref() == asset_alt) {
            image.alt = None;
        }
        let asset_alt = asset_alt.is_some();
        if published && !image.decorative && image.alt.is_none() && !asset_alt {
            errors.push(FieldError {
                pointer: format!("{pointer}/alt"),
                message: format!(
                    "is required in a published article: alt text in {default} here or on the asset \
                     (PUT /v1/assets/{}), or \"decorative\": true",
                    image.asset_id
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

//! Merging a section write into what is stored: items keep their ids, new
//! ones are made, ids that are not the section's are refused.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::stale;
use crate::content::error::{Error, Resource};
use crate::content::input::{FieldError, ItemInput, SectionInput};
use crate::content::kinds::SectionKind;
use crate::content::store::{self, ItemRow, StoredSection};
use crate::db::schema::{section_items, sections};

/// How item ids in a write are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ids {
    /// An id must name an item of the same section (editor writes).
    Existing,
    /// Ids are taken as given (restoring a snapshot).
    AsGiven,
}

/// Item ids in `items` that are not among `known` (the stored items of the
/// section; none when the section is new), as validation errors under `pointer`.
pub(super) fn foreign_item_ids(
    items: &[ItemInput],
    known: &[ItemRow],
    kind: SectionKind,
    pointer: &str,
) -> Vec<FieldError> {
    items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| item.id.map(|id| (index, id)))
        .filter(|(_, id)| !known.iter().any(|stored| stored.id == *id))
        .map(|(index, id)| FieldError {
            pointer: format!("{pointer}/items/{index}/id"),
            message: format!("{id} is not an item of this {kind} section; leave `id` out for a new item"),
        })
        .collect()
}

/// Replaces a stored section's fields and items (items keep their ids) with
/// a conditional update on the version read; an unchanged section is left
/// alone unless `always`. Ids that are not items of the section are reported
/// as validation errors.
#[expect(clippy::too_many_arguments, reason = "two callers, every argument named")]
pub(super) async fn replace_section(
    conn: &mut AsyncPgConnection,
    existing: &StoredSection,
    input: &SectionInput,
    position: i32,
    pointer: &str,
    ids: Ids,
    always: bool,
    now: DateTime<Utc>,
    errors: &mut Vec<FieldError>,
) -> Result<(), Error> {
    if ids == Ids::Existing {
        errors.extend(foreign_item_ids(&input.items, &existing.items, input.kind, pointer));
    }
    if !errors.is_empty() {
        return Ok(());
    }
    if !always && existing.to_input()? == *input && existing.row.position == position {
        return Ok(());
    }
    let phase_headings = input
        .phase_headings
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|err| Error::Corrupt(err.to_string()))?;
    let version = existing.row.version;
    let updated = diesel::update(
        sections::table
            .find(existing.row.id)
            .filter(sections::version.eq(version)),
    )
    .set((
        sections::position.eq(position),
        sections::heading.eq(&input.heading),
        sections::intro.eq(&input.intro),
        sections::body.eq(&input.body),
        sections::note.eq(&input.note),
        sections::call_to_action.eq(&input.call_to_action),
        sections::phase_headings.eq(phase_headings),
        sections::version.eq(sections::version + 1),
        sections::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    if updated == 0 {
        return Err(stale(Resource::Section, existing.row.id, version + 1));
    }
    diesel::delete(section_items::table.filter(section_items::section_id.eq(existing.row.id)))
        .execute(conn)
        .await?;
    store::insert_items(conn, existing.row.id, input.kind, &input.items).await?;
    Ok(())
}

/// Makes the article's sections those of `input`, in its order.
pub(super) async fn replace_sections(
    conn: &mut AsyncPgConnection,
    article_id: Uuid,
    input: &[SectionInput],
    ids: Ids,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let existing = store::load_sections(conn, article_id, None).await?;
    let mut errors = Vec::new();
    for (index, (section, position)) in input.iter().zip(1..).enumerate() {
        let stored = existing.iter().find(|stored| stored.row.kind == section.kind.as_str());
        match stored {
            Some(stored) => {
                let pointer = format!("/sections/{index}");
                replace_section(conn, stored, section, position, &pointer, ids, false, now, &mut errors).await?;
            }
            None => {
                if ids == Ids::Existing {
                    errors.extend(foreign_item_ids(
                        &section.items,
                        &[],
                        section.kind,
                        &format!("/sections/{index}"),
                    ));
                }
                if errors.is_empty() {
                    // Positions are unique again by commit (a deferred constraint).
                    store::insert_section(conn, article_id, position, section, now).await?;
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let kept: Vec<&str> = input.iter().map(|section| section.kind.as_str()).collect();
    diesel::delete(
        sections::table
            .filter(sections::article_id.eq(article_id))
            .filter(sections::kind.ne_all(kept)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

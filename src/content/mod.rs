//! The domain: articles made of typed sections, how writes are validated, how
//! they are stored and read back.

pub mod assets;
pub mod body;
pub mod error;
pub mod fields;
pub mod history;
pub mod images;
pub mod input;
pub mod kinds;
pub mod locales;
pub mod model;
pub mod releases;
pub mod search;
pub mod seed;
pub mod store;
pub mod sync;
pub mod transaction;
pub mod translations;
pub mod webhooks;
pub mod write;

pub use error::{Error, Precondition, Resource, Version};
pub use kinds::{ArticleStatus, ItemShape, Phase, SectionKind};

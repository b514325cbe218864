//! HTTP-level tests of lamina, through the same `build_app` as production.
//! One test binary (faster to build); each test on its own database.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a panic is how a test or its harness fails"
)]
mod common;

mod auth;
mod cache;
mod caching;
mod editing;
mod errors;
mod hostile;
mod http_layer;
mod locales;
mod media;
mod ops;
mod outage;
mod reads;
mod releases;
mod revisions;
mod running;
mod search;
mod seed;
mod spec;
mod studio;
mod supervision;
mod sync;
mod timeless;
mod webhooks;

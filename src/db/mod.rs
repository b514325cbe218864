//! The database: connection pool, embedded migrations, and the private
//! PostgreSQL cluster used when no `DATABASE_URL` is given.

pub mod cluster;
pub mod schema;

use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{BuildError, Pool};
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The migrations of `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The connection pool every request draws from.
pub type DbPool = Pool<AsyncPgConnection>;

/// The longest a request waits for a database connection: past it, 503.
pub const POOL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Builds a pool of at most `size` connections to `url`. Connections are opened lazily.
pub fn build_pool(url: &str, size: usize) -> Result<DbPool, BuildError> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(POOL_TIMEOUT))
        .create_timeout(Some(POOL_TIMEOUT))
        .recycle_timeout(Some(POOL_TIMEOUT))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
}

/// Runs every pending migration on the database at `url`; returns how many ran.
pub async fn migrate(url: &str) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let conn = AsyncPgConnection::establish(url).await?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = tokio::task::block_in_place(|| harness.run_pending_migrations(MIGRATIONS).map(|done| done.len()))?;
    Ok(applied)
}

/// The URL with any password replaced by `***`, for log lines.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Creates database `name` on the server of `admin_url` unless it exists.
pub async fn ensure_database(admin_url: &str, name: &str) -> Result<(), diesel::result::Error> {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;

    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }

    let mut conn = AsyncPgConnection::establish(admin_url)
        .await
        .map_err(|err| diesel::result::Error::QueryBuilderError(err.into()))?;
    let exists = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found")
        .bind::<Text, _>(name)
        .get_result::<Found>(&mut conn)
        .await?
        .found;
    if !exists {
        // Identifiers cannot be bound; `name` is a constant of ours, quoted anyway.
        diesel::sql_query(format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\"")))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            super::redact_url("postgresql:///db?host=/tmp"),
            "postgresql:///db?host=/tmp"
        );
    }
}

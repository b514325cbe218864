//! The database: connection pool, embedded migrations, and the private
//! PostgreSQL cluster used when no `DATABASE_URL` is given.

pub mod cluster;
pub mod schema;

use std::future::Future;
use std::time::Duration;

use diesel_async::pooled_connection::deadpool::{BuildError, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// The migrations of `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The `NOTIFY` channel of content changes; the payload is the article's slug.
pub const CONTENT_CHANNEL: &str = "lamina_content";

/// The `NOTIFY` channel that wakes webhook workers: a transaction added
/// deliveries or made some due.
pub const WAKE_CHANNEL: &str = "lamina_webhooks";

/// Why no connection could be had from the pool.
pub use diesel_async::pooled_connection::deadpool::PoolError;

/// The connection pool every request draws from.
pub type DbPool = Pool<AsyncPgConnection>;

/// The longest a request waits for a database connection: past it, 503.
pub const POOL_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest one statement may run on the server (`statement_timeout`).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(3);
/// The longest a statement waits for a lock (`lock_timeout`).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest a request's database work may take, whatever the server
/// does (a stalled server enforces no timeout of its own): then 503, so every
/// request is answered within 5 s.
pub const DEADLINE: Duration = Duration::from_secs(4);

/// The database did not answer within [`DEADLINE`].
#[derive(Debug, Clone, Copy)]
pub struct DeadlineExceeded;

/// Runs `work` (database work of one request) within [`DEADLINE`]. Dropping
/// work cut short drops its connection too: one taken out mid-transaction
/// is broken, and the pool discards it.
pub async fn deadline<T, E: From<DeadlineExceeded>>(work: impl Future<Output = Result<T, E>>) -> Result<T, E> {
    tokio::time::timeout(DEADLINE, work)
        .await
        .unwrap_or_else(|_| Err(DeadlineExceeded.into()))
}

/// What [`DeadlineExceeded`] says, as a cause.
pub fn deadline_cause() -> String {
    format!("the database did not answer within {} s", DEADLINE.as_secs())
}

/// Whether the cause of an unavailable database (as [`is_unavailable`]
/// found it, or [`deadline_cause`]) is a timeout rather than a lost connection.
pub fn is_timeout(cause: &str) -> bool {
    cause == deadline_cause()
        || [
            "canceling statement due to statement timeout",
            "canceling statement due to lock timeout",
        ]
        .iter()
        .any(|prefix| cause.starts_with(prefix))
}

/// Whether `err` means the database could not be used (connection lost,
/// server shutting down, starting or recovering, a statement or lock
/// timeout) rather than a fault of the query. PostgreSQL's SQLSTATE is not
/// exposed through diesel's error, so its (English) message is matched.
pub fn is_unavailable(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match err {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
        | Error::BrokenTransactionManager => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            [
                "terminating connection",
                "canceling statement due to statement timeout",
                "canceling statement due to lock timeout",
                "the database system is",
                "connection to server",
                "server closed the connection",
            ]
            .iter()
            .any(|prefix| message.starts_with(prefix))
        }
        _ => false,
    }
}

/// Opens a connection with lamina's session settings: statement and lock timeouts.
async fn establish(url: &str) -> diesel::ConnectionResult<AsyncPgConnection> {
    use diesel_async::SimpleAsyncConnection;
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!(
        "SET statement_timeout = {}; SET lock_timeout = {}",
        STATEMENT_TIMEOUT.as_millis(),
        LOCK_TIMEOUT.as_millis()
    ))
    .await
    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// Builds a pool of at most `size` connections to `url`. Connections are opened lazily.
pub fn build_pool(url: &str, size: usize) -> Result<DbPool, BuildError> {
    let mut config = ManagerConfig::default();
    config.custom_setup = Box::new(|url| Box::pin(establish(url)));
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
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

/// A page of rows fetched with `LIMIT limit + 1`: the first `limit`, and
/// whether there were more.
pub fn page<T>(mut rows: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    (rows, more)
}

/// `(<columns>) < (first, id)`: where a keyset page (in descending order of
/// `columns`, the last an id) starts, after the row `(first, id)`. A row
/// comparison, not `a < x OR (a = x AND id < y)`: the index scan then starts
/// at the cursor instead of filtering every row before it (with the OR, a walk
/// to the end of 100,000 articles took quadratic time; benches/scale).
pub fn row_before<QS, ST, T>(
    columns: &'static str,
    first: T,
    id: uuid::Uuid,
) -> Box<dyn diesel::BoxableExpression<QS, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>>
where
    ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType + 'static,
    diesel::pg::Pg: diesel::sql_types::HasSqlType<ST>,
    T: diesel::expression::AsExpression<ST>,
    T::Expression: diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send + 'static,
{
    use diesel::sql_types::{Bool, Uuid};
    Box::new(
        diesel::dsl::sql::<Bool>("(")
            .sql(columns)
            .sql(") < (")
            .bind::<ST, _>(first)
            .sql(", ")
            .bind::<Uuid, _>(id)
            .sql(")"),
    )
}

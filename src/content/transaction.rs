//! The database work of one request, all of it (the wait for a connection
//! too) within [`crate::db::DEADLINE`], so a stalled database is answered
//! in time: [`read`] on a pooled connection, [`write`] as one transaction
//! whose loss says whether COMMIT had been sent.

use std::sync::atomic::{AtomicBool, Ordering};

use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};

use super::error::Error;
use crate::db::DbPool;

/// Runs `work` on a connection of `pool` within the deadline.
pub async fn read<T>(
    pool: &DbPool,
    work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, Error>,
) -> Result<T, Error> {
    crate::db::deadline(async {
        let mut conn = pool.get().await?;
        work(&mut conn).await
    })
    .await
}

/// Runs `work` as one transaction on a connection of `pool` within the
/// deadline; an error of `work` rolls it back. If the database is lost (or
/// the deadline passes), the error says whether COMMIT may have been sent.
pub async fn write<T>(
    pool: &DbPool,
    work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, Error>,
) -> Result<T, Error> {
    let committing = AtomicBool::new(false);
    crate::db::deadline(async {
        let mut conn = pool.get().await?;
        let conn: &mut AsyncPgConnection = &mut conn;
        AnsiTransactionManager::begin_transaction(conn).await?;
        match work(conn).await {
            Ok(value) => {
                committing.store(true, Ordering::Release);
                AnsiTransactionManager::commit_transaction(conn).await?;
                Ok(value)
            }
            Err(err) => {
                // A failed rollback leaves the connection broken: the pool drops it.
                let _ = AnsiTransactionManager::rollback_transaction(conn).await;
                Err(err)
            }
        }
    })
    .await
    .map_err(|err: Error| err.of_write(committing.load(Ordering::Acquire)))
}

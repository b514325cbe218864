//! The release scheduler: on every node, a task that publishes due
//! scheduled releases. Each claim is `FOR UPDATE SKIP LOCKED` inside the
//! publishing transaction, so a release publishes exactly once across nodes
//! and restarts; overdue ones publish at start-up.

use std::time::Duration;

use crate::AppState;
use crate::content::releases::{self, Postponed};
use crate::content::write::{self, Outcome};

/// How often each node looks for due releases.
pub const POLL: Duration = Duration::from_millis(250);

/// The running scheduler; it stops when dropped.
pub struct Scheduler(tokio::task::JoinHandle<()>);

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the scheduler of this node.
pub fn spawn(state: AppState) -> Scheduler {
    Scheduler(tokio::spawn(run(state)))
}

/// Publishes due releases every [`POLL`], forever.
pub async fn run(state: AppState) {
    loop {
        publish_due(&state).await;
        tokio::time::sleep(POLL).await;
    }
}

/// Publishes every release due now. A publication that fails (the
/// database failed or timed out) is logged, and its release tried again
/// after a growing delay ([`releases::postpone`]) while the others go on.
pub async fn publish_due(state: &AppState) {
    loop {
        let actor = state.actor("scheduler".to_owned(), "scheduler".to_owned());
        match write::publish_due(&state.pool, actor).await {
            Ok(None) => return,
            Ok(Some((id, Outcome::Published(slugs)))) => {
                for slug in &slugs {
                    state.cache.invalidate(slug);
                }
                log::info!(
                    "releases: published the scheduled release {id} ({} article(s))",
                    slugs.len()
                );
            }
            Ok(Some((id, Outcome::Failed(conflicts)))) => {
                log::warn!(
                    "releases: the scheduled release {id} failed with {} conflict(s)",
                    conflicts.len()
                );
            }
            Ok(Some((id, Outcome::Unappliable(cause)))) => {
                log::warn!("releases: the scheduled release {id} failed: {cause}");
            }
            Err(failure) => {
                let Some(id) = failure.release else {
                    log::debug!("releases: looking for due releases failed: {}", failure.error);
                    return;
                };
                match releases::postpone(&state.pool, id).await {
                    Ok(Postponed::Until(at)) => log::warn!(
                        "releases: publishing the scheduled release {id} failed ({}); trying again at {at}",
                        failure.error
                    ),
                    Ok(Postponed::Failed) => log::warn!(
                        "releases: the scheduled release {id} failed: {} attempts to publish it failed, the last with {}",
                        releases::MAX_PUBLISH_ATTEMPTS,
                        failure.error
                    ),
                    Ok(Postponed::Gone) => {}
                    Err(err) => log::warn!(
                        "releases: publishing the scheduled release {id} failed ({}), and so did recording it: {err}",
                        failure.error
                    ),
                }
            }
        }
    }
}

//! The record of auditor reads: every request an `auditor` makes to a complaint's history, its past
//! state (`as_of`, `at_position`), its changes, the global log or the checkpoints is written to table
//! `audit_reads` (who, what, when) before it is answered. Reads are not domain events, so they stay
//! out of the event log; admins list them at `GET /v1/audit/reads`.

use chrono::Utc;
use cms_domain::actor::{Actor, Role};

use cms_eventstore::audit::{self, Read};
use cms_eventstore::store::{EventStore, StoreError};

/// The routes whose auditor reads are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    History,
    AsOf,
    Changes,
    Events,
    Checkpoints,
}

impl Route {
    /// The route template, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::History => "/v1/complaints/{id}/history",
            Route::AsOf => "/v1/complaints/{id}",
            Route::Changes => "/v1/complaints/{id}/changes",
            Route::Events => "/v1/audit/events",
            Route::Checkpoints => "/v1/audit/checkpoints",
        }
    }
}

/// Records the read when `actor` is an auditor; anyone else's reads are not recorded.
///
/// # Errors
/// Storage failures: an auditor read that cannot be recorded is not served.
pub async fn record_if_auditor(
    store: &EventStore,
    actor: &Actor,
    route: Route,
    target: Option<&str>,
    span: Option<&str>,
) -> Result<(), StoreError> {
    if actor.role != Role::Auditor {
        return Ok(());
    }
    let user = actor.id.to_string();
    let role = actor.role.to_string();
    audit::record_read(
        store.db(),
        audit::NewRead {
            read_at: Utc::now(),
            user_id: &user,
            role: &role,
            route: route.as_str(),
            target,
            span,
        },
    )
    .await
}

/// Up to `limit` recorded reads with an id above `after`, oldest first.
///
/// # Errors
/// Storage failures.
pub async fn list(store: &EventStore, after: i64, limit: i64) -> Result<Vec<Read>, StoreError> {
    audit::reads(store.db(), after, limit).await
}

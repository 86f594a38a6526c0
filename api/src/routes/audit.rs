//! Auditor routes: the global log in order (`GET /v1/audit/events`), the signed checkpoints
//! (`GET /v1/audit/checkpoints`) and the key that signs them (`GET /v1/audit/key`, public). The log
//! and the checkpoints are for auditors and admins only (an auditor's reads are recorded); the record
//! of those reads (`GET /v1/audit/reads`) is for admins only. The log and the record of reads span
//! every hostel, so they also need a token scoped to every hostel (`hostels: ["*"]`): an auditor or
//! admin of some hostels reads their complaints' histories instead.

use axum::extract::State;
use axum::Json;
use cms_domain::actor::{Actor, HostelScope, Role};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::chain::canonical_time;
use crate::audit::reads;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;
use cms_eventstore::audit as audit_store;

/// The largest page of `GET /v1/audit/events`.
pub const MAX_PAGE: i64 = 1000;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(checkpoints))
        .routes(routes!(key))
        .routes(routes!(audit_reads))
}

fn require_auditor(actor: &Actor) -> Result<(), ApiError> {
    match actor.role {
        Role::Auditor | Role::Admin => Ok(()),
        Role::Resident | Role::Staff | Role::Warden | Role::Service => Err(ApiError::forbidden(
            "action_not_permitted",
            "only auditors and admins read the audit log",
        )),
    }
}

/// The global log holds every hostel's events: only a token scoped to every hostel reads it.
fn require_every_hostel(actor: &Actor, what: &str) -> Result<(), ApiError> {
    match actor.scope {
        HostelScope::All => Ok(()),
        HostelScope::Only(_) => Err(ApiError::forbidden(
            "hostel_scope_required",
            format!(
                "{what} spans every hostel and needs a token scoped to all of them (hostels [\"*\"]); \
                 read a complaint's history at /v1/complaints/{{id}}/history instead"
            ),
        )),
    }
}

/// A page of the log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    /// Events with a position above this one (default 0).
    #[serde(default)]
    after: i64,
    /// At most this many (default and maximum 1000).
    limit: Option<i64>,
}

/// Read the global log in position order.
#[utoipa::path(
    get, path = "/v1/audit/events", tag = "audit", security(("bearer" = [])),
    params(
        ("after" = Option<i64>, Query, description = "events after this position (default 0)"),
        ("limit" = Option<i64>, Query, description = "page size, 1 to 1000 (default 1000)")
    ),
    responses((status = 200, description = "a page of events"), (status = 403, description = "not an auditor or admin, or a token scoped to some hostels only"))
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    require_auditor(&actor)?;
    require_every_hostel(&actor, "the audit log")?;
    let limit = query.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) || query.after < 0 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be 1 to 1000 and after not negative",
        ));
    }
    let store = state.executor.store();
    reads::record_if_auditor(
        store,
        &actor,
        reads::Route::Events,
        None,
        Some(&format!("after={},limit={limit}", query.after)),
    )
    .await?;
    let events = store.read_log(query.after, limit).await?;
    let until = events.last().map_or(query.after, |e| e.global_position);
    let links: std::collections::BTreeMap<i64, _> =
        audit_store::links(store.db(), query.after, until)
            .await?
            .into_iter()
            .collect();
    let rendered: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "position": e.global_position,
                "event_id": e.event_id,
                // Exactly as it enters the chain (six fractional digits, `Z`).
                "recorded_at": canonical_time(&e.recorded_at),
                "aggregate_type": e.aggregate_type,
                "aggregate_id": e.aggregate_id,
                "sequence": e.sequence,
                "type": e.event_type,
                "version": e.event_version,
                "payload": e.payload,
                "metadata": e.metadata,
                "chain_hash": links.get(&e.global_position).map(hex::encode),
            })
        })
        .collect();
    Ok(Json(json!({ "events": rendered, "next_after": until })))
}

/// Who read what, when: the recorded auditor reads, oldest first (admins only).
#[utoipa::path(
    get, path = "/v1/audit/reads", tag = "audit", security(("bearer" = [])),
    params(
        ("after" = Option<i64>, Query, description = "reads with an id above this one (default 0)"),
        ("limit" = Option<i64>, Query, description = "page size, 1 to 1000 (default 1000)")
    ),
    responses((status = 200, description = "a page of recorded reads"), (status = 403, description = "not an admin, or a token scoped to some hostels only"))
)]
pub(crate) async fn audit_reads(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    if actor.role != Role::Admin {
        return Err(ApiError::forbidden(
            "action_not_permitted",
            "only admins read the record of auditor reads",
        ));
    }
    require_every_hostel(&actor, "the record of auditor reads")?;
    let limit = query.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) || query.after < 0 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be 1 to 1000 and after not negative",
        ));
    }
    let page = reads::list(state.executor.store(), query.after, limit).await?;
    let next_after = page.last().map_or(query.after, |r| r.id);
    Ok(Json(json!({ "reads": page, "next_after": next_after })))
}

/// The signed checkpoints, oldest first.
#[utoipa::path(
    get, path = "/v1/audit/checkpoints", tag = "audit", security(("bearer" = [])),
    responses((status = 200, description = "every checkpoint"), (status = 403, description = "not an auditor or admin"))
)]
pub(crate) async fn checkpoints(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
) -> Result<Json<Value>, ApiError> {
    require_auditor(&actor)?;
    reads::record_if_auditor(
        state.executor.store(),
        &actor,
        reads::Route::Checkpoints,
        None,
        None,
    )
    .await?;
    let all = audit_store::checkpoints(state.executor.store().db()).await?;
    let rendered: Vec<Value> = all
        .iter()
        .map(|c| {
            json!({
                "position": c.position,
                "chain_hash": hex::encode(c.chain_hash),
                "time": c.signed_at,
                "public_key": hex::encode(&c.public_key),
                "signature": hex::encode(&c.signature),
            })
        })
        .collect();
    Ok(Json(json!({ "checkpoints": rendered })))
}

/// The Ed25519 public key that signs checkpoints (no token needed).
#[utoipa::path(
    get, path = "/v1/audit/key", tag = "audit",
    responses((status = 200, description = "the public key, hex and SPKI PEM"), (status = 404, description = "no signing key configured"))
)]
pub(crate) async fn key(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let signer = state.audit_signer.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "audit_key_not_configured",
            "no audit signing key is configured",
        )
    })?;
    Ok(Json(json!({
        "algorithm": "Ed25519",
        "public_key": hex::encode(signer.public_key_bytes()),
        "pem": signer.public_key_pem(),
    })))
}

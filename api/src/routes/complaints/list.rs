//! `GET /v1/complaints`: the complaint list, served from the `complaint_list` projection with filters,
//! three sorts and keyset pagination. Residents see only their own complaints, staff, wardens and
//! services only their hostels', admins and auditors all.
//!
//! Read-your-writes: `Min-Position: N` (or `?min_position=N`) is served by a replica that has reached N,
//! else by the primary once it has, else answers 503 `projection_behind` with `Retry-After`
//! ([`crate::reads`]). Every answer carries the position it reflects (`position`, header
//! `Consistency-Token`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use cms_domain::actor::{HostelScope, Role};
use cms_domain::complaint::{Priority, Severity, Status};
use cms_projections::complaint_list::{self, Cursor, ListQuery, Sort, Visibility, MAX_LIMIT};
use cms_projections::Projection;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::AuthUser;
use crate::commands::http::CONSISTENCY_TOKEN;
use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

const DEFAULT_LIMIT: i64 = 20;

/// Query parameters of the list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this hostel.
    hostel: Option<String>,
    /// One or more statuses, comma-separated (`filed,triaged`).
    status: Option<String>,
    category: Option<String>,
    /// `low`, `medium`, `high` or `urgent`.
    severity: Option<String>,
    /// `P1` .. `P4`.
    priority: Option<String>,
    assignee: Option<String>,
    reporter: Option<String>,
    /// Text in the title or description (case-insensitive).
    q: Option<String>,
    /// Filed at or after (RFC 3339).
    filed_from: Option<DateTime<Utc>>,
    /// Filed before (RFC 3339).
    filed_to: Option<DateTime<Utc>>,
    /// `filed_at` (default, newest first), `updated_at` (newest first) or `priority` (P1 first).
    sort: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Wait until the list reflects at least this log position (like the `Min-Position` header).
    min_position: Option<i64>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

/// Parses a stored enum name (`high`, `P2`, `in_progress`) through the domain type.
fn known<T: DeserializeOwned>(field: &str, value: &str) -> Result<String, ApiError> {
    serde_json::from_value::<T>(json!(value))
        .map(|_| value.to_owned())
        .map_err(|_| invalid(format!("{field}: unknown value {value:?}")))
}

fn to_query(params: &ListParams) -> Result<ListQuery, ApiError> {
    let sort = match params.sort.as_deref() {
        None | Some("filed_at") => Sort::FiledAt,
        Some("updated_at") => Sort::UpdatedAt,
        Some("priority") => Sort::Priority,
        Some(other) => return Err(invalid(format!("sort: unknown value {other:?}"))),
    };
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid(format!("limit: must be 1 to {MAX_LIMIT}")));
    }
    // Each status once, so the query binds at most one parameter per known status however long
    // the list is.
    let statuses = match &params.status {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| known::<Status>("status", s.trim()))
            .collect::<Result<std::collections::BTreeSet<_>, _>>()?
            .into_iter()
            .collect(),
    };
    let cursor = match &params.cursor {
        None => None,
        Some(text) => Some(Cursor::decode(text, sort).map_err(|_| {
            ApiError::bad_request("invalid_cursor", "the cursor is not valid for this listing")
        })?),
    };
    let text = params
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned);
    Ok(ListQuery {
        hostel: params.hostel.clone(),
        statuses,
        category: params.category.clone(),
        severity: params
            .severity
            .as_deref()
            .map(|s| known::<Severity>("severity", s))
            .transpose()?,
        priority: params
            .priority
            .as_deref()
            .map(|p| known::<Priority>("priority", p))
            .transpose()?,
        assignee: params.assignee.clone(),
        reporter: params.reporter.clone(),
        text,
        filed_from: params.filed_from,
        filed_to: params.filed_to,
        sort,
        limit,
        cursor,
    })
}

fn visibility(actor: &cms_domain::actor::Actor) -> Visibility {
    match actor.role {
        Role::Resident => Visibility::ReportedBy(actor.id.to_string()),
        Role::Staff | Role::Warden | Role::Admin | Role::Auditor | Role::Service => {
            match &actor.scope {
                HostelScope::All => Visibility::All,
                HostelScope::Only(hostels) => {
                    Visibility::Hostels(hostels.iter().map(ToString::to_string).collect())
                }
            }
        }
    }
}

/// The position a read must reflect: the `Min-Position` header, else the `min_position` parameter.
///
/// # Errors
/// 400 `invalid_query` for a header that is not a non-negative integer.
pub(crate) fn min_position(
    headers: &HeaderMap,
    parameter: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    let header = match headers.get("min-position") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|v| *v >= 0)
                .ok_or_else(|| invalid("Min-Position: must be a non-negative integer"))?,
        ),
    };
    if parameter.is_some_and(|p| p < 0) {
        return Err(invalid("min_position: must be a non-negative integer"));
    }
    Ok(header.or(parameter))
}

/// What a listing (JSON or CSV) needs: the read database, the parsed query and the caller's
/// visibility, after waiting for `Min-Position` when one was given.
pub(super) async fn prepare(
    state: &AppState,
    actor: &cms_domain::actor::Actor,
    headers: &HeaderMap,
    params: &ListParams,
) -> Result<(cms_eventstore::Db, ListQuery, Visibility), Response> {
    let query = to_query(params).map_err(IntoResponse::into_response)?;
    let wanted = min_position(headers, params.min_position).map_err(IntoResponse::into_response)?;
    let db = state
        .reads
        .for_query(Projection::ComplaintList, wanted)
        .await?;
    Ok((db, query, visibility(actor)))
}

impl ListParams {
    /// Whether the request pages by hand (`limit` or `cursor`), which an export does not.
    pub(super) fn pages(&self) -> bool {
        self.limit.is_some() || self.cursor.is_some()
    }
}

/// Where the API serves the first photo's 320 px thumbnail, once the worker has rendered it.
pub(super) fn thumbnail_url(row: &complaint_list::ListRow) -> Option<String> {
    match (&row.first_photo_id, &row.first_thumbnail) {
        (Some(photo), Some(_)) => Some(format!(
            "/v1/complaints/{}/photos/{photo}?size=thumb",
            row.id
        )),
        _ => None,
    }
}

/// A list row with `first_thumbnail_url` (null before the thumbnail is rendered) in place of the
/// thumbnail's object key, which clients never see (they get the API's URL, as for every photo).
fn with_thumbnail_url(row: &complaint_list::ListRow) -> Value {
    let mut value = serde_json::to_value(row).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("first_thumbnail");
        map.insert("first_thumbnail_url".into(), json!(thumbnail_url(row)));
    }
    value
}

/// List complaints (from the complaint list projection).
#[utoipa::path(
    get, path = "/v1/complaints", tag = "complaints", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "a page: `items`, `next_cursor`, `position`"),
        (status = 400, description = "`invalid_query` or `invalid_cursor`"),
        (status = 503, description = "`projection_behind`: the list has not reached `Min-Position`")
    )
)]
pub(super) async fn list_complaints(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, Response> {
    let (db, query, visibility) = prepare(&state, &actor, &headers, &params).await?;
    let page = complaint_list::list(&db, &query, &visibility)
        .await
        .map_err(|e| ApiError::internal(e).into_response())?;
    let items: Vec<Value> = page.items.iter().map(with_thumbnail_url).collect();
    let body = json!({
        "items": items,
        "next_cursor": page.next_cursor,
        "position": page.position,
    });
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(CONSISTENCY_TOKEN, HeaderValue::from(page.position));
    Ok(response)
}

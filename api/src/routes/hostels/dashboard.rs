//! `GET /v1/hostels/{id}/dashboard`: the hostel's dashboard, computed from the `dashboard` projection
//! at request time (windows end now). Staff, wardens and services see the hostels in their scope,
//! admins and auditors every hostel; `Min-Position` (or `?min_position=`) waits for the projection as
//! on the list; a hostel outside the scope (or unknown) is 404 like every hostel
//! route, and residents are refused with 403 `action_not_permitted` (they may read the hostel, not its
//! workload).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use cms_domain::actor::Role;
use cms_domain::ids::HostelId;
use cms_projections::{dashboard, Projection};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::commands::hostels::load_visible;
use crate::commands::http::CONSISTENCY_TOKEN;
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::routes::complaints::list::min_position;
use crate::state::AppState;

/// Query parameters of the dashboard.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardParams {
    /// Wait until the dashboard reflects at least this log position (like the `Min-Position` header).
    min_position: Option<i64>,
}

/// A hostel's dashboard.
#[utoipa::path(
    get, path = "/v1/hostels/{id}/dashboard", tag = "hostels", security(("bearer" = [])),
    params(("id" = String, Path, description = "hostel slug"), DashboardParams),
    responses(
        (status = 200, description = "counts, oldest open complaint, times to assign and resolve, \
            resolutions per day, reopen rate, average rating, staff load, `position`"),
        (status = 403, description = "`action_not_permitted`: residents"),
        (status = 404, description = "no such hostel in scope"),
        (status = 503, description = "`projection_behind`: not yet at `Min-Position`")
    )
)]
pub(super) async fn hostel_dashboard(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiPath(id): ApiPath<HostelId>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<DashboardParams>,
) -> Result<Response, Response> {
    match actor.role {
        Role::Resident => {
            return Err(ApiError::forbidden(
                "action_not_permitted",
                "residents cannot read hostel dashboards",
            )
            .into_response())
        }
        Role::Staff | Role::Warden | Role::Admin | Role::Auditor | Role::Service => {}
    }
    load_visible(&state.executor, &actor, &id)
        .await
        .map_err(IntoResponse::into_response)?;
    let wanted =
        min_position(&headers, params.min_position).map_err(IntoResponse::into_response)?;
    let db = state.reads.for_query(Projection::Dashboard, wanted).await?;
    let board = dashboard::dashboard(&db, id.as_str(), Utc::now())
        .await
        .map_err(|e| ApiError::internal(e).into_response())?;
    let position = board.position;
    let mut response = Json(board).into_response();
    response
        .headers_mut()
        .insert(CONSISTENCY_TOKEN, HeaderValue::from(position));
    Ok(response)
}

//! Hostel administration: register a hostel, keep its category catalogue, staff and policy, read it
//! back, and read its dashboard. Every route checks that the hostel lies in the caller's scope (outside it: 404); the
//! aggregate decides which roles may change what.

mod categories;
mod dashboard;
mod get;
mod policy;
mod register;
mod staff;

use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register::register_hostel, get::list_hostels))
        .routes(routes!(get::get_hostel))
        .routes(routes!(dashboard::hostel_dashboard))
        .routes(routes!(categories::add_category))
        .routes(routes!(categories::retire_category))
        .routes(routes!(staff::add_staff_member))
        .routes(routes!(staff::remove_staff_member))
        .routes(routes!(policy::set_policy))
}

fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}

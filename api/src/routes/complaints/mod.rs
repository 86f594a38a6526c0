//! Complaint routes. Commands, one file per command family (the same names as the domain's
//! `decide` modules and the OpenAPI tags): [`filing`] (file, triage, withdraw), [`work`] (assign,
//! start, hold, resume, resolve), [`feedback`] (confirm, dispute, rate), [`closing`] (close,
//! reject), [`comments`] and [`photos`]. Reads: the detail view ([`get`]), the list and its CSV
//! export (both from the `complaint_list` projection), the history and the changes between two
//! moments.
//!
//! Every route first loads the complaint and checks that the caller may see it (residents: only their
//! own; everyone else: only inside their hostel scope). A complaint the caller may not see answers 404,
//! exactly like one that does not exist, so ids leak nothing. The aggregate then decides whether the
//! caller's role may do what it asks.

mod changes;
mod closing;
mod comments;
mod export;
mod feedback;
mod filing;
mod get;
mod history;
pub(crate) mod list;
mod photos;
mod work;

use chrono::Utc;
use cms_domain::complaint::Complaint;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::commands::executor::{Executor, Loaded};
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(filing::file_complaint, list::list_complaints))
        .routes(routes!(export::export_csv))
        .routes(routes!(get::get_complaint))
        .routes(routes!(history::history))
        .routes(routes!(changes::changes))
        .routes(routes!(filing::triage))
        .routes(routes!(filing::withdraw))
        .routes(routes!(work::assign))
        .routes(routes!(work::start))
        .routes(routes!(work::hold))
        .routes(routes!(work::resume))
        .routes(routes!(work::resolve))
        .routes(routes!(feedback::confirm))
        .routes(routes!(feedback::dispute))
        .routes(routes!(feedback::rate))
        .routes(routes!(closing::close))
        .routes(routes!(closing::reject))
        .routes(routes!(comments::add_comment))
        .merge(photos::router())
}

/// Parses an optional RFC 3339 query parameter `name`.
///
/// # Errors
/// 400 `invalid_query` when the text is not an RFC 3339 time.
pub(crate) fn parse_time(
    name: &str,
    text: Option<&str>,
) -> Result<Option<chrono::DateTime<Utc>>, ApiError> {
    text.map(|text| {
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::bad_request("invalid_query", format!("{name} must be an RFC 3339 time"))
            })
    })
    .transpose()
}

/// The complaint as its events left it at a past moment: only events recorded at or before `as_of`
/// and at or before position `at_position` (either bound may be absent).
///
/// # Errors
/// A stored event that no longer deserialises.
pub(crate) fn fold_until(
    executor: &Executor,
    events: &[cms_eventstore::store::RecordedEvent],
    as_of: Option<chrono::DateTime<Utc>>,
    at_position: Option<i64>,
) -> Result<Loaded<Complaint>, ApiError> {
    let past = events
        .iter()
        .take_while(|e| {
            as_of.is_none_or(|t| e.recorded_at <= t)
                && at_position.is_none_or(|p| e.global_position <= p)
        })
        .cloned()
        .collect();
    Ok(executor.fold::<Complaint>(past)?)
}

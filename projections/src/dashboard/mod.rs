//! The hostel dashboard read model: per complaint, the facts a dashboard aggregates (hostel, category,
//! priority, status, assignee, and the times of filing, first assignment and latest resolution, with
//! counts of resolutions and reopenings and the rating), plus one row per resolution (who and when).
//!
//! [`fold`] is the pure part. Windows ("the last 7 days") are never stored: [`query`] computes every
//! aggregate in SQL at request time, relative to the request's clock, so the model never goes stale.

mod query;
mod store;

pub use query::{dashboard, Dashboard, Durations, OldestOpen, ResolvedOnDay, StaffLoad};
pub(crate) use store::{lite, pg};

use chrono::{DateTime, Utc};
use cms_domain::complaint::ComplaintEvent;

use crate::complaint_list::{decode, ApplyError};
use cms_eventstore::log::LogEvent;

/// Statuses in which a complaint still needs work (resolved waits on the reporter, so it is not open).
pub const OPEN_STATUSES: [&str; 6] = [
    "filed",
    "triaged",
    "assigned",
    "in_progress",
    "on_hold",
    "reopened",
];

/// One complaint as the dashboard sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DashboardRow {
    pub id: String,
    pub hostel: String,
    pub category: String,
    pub priority: Option<String>,
    pub status: String,
    pub assignee: Option<String>,
    pub filed_at: DateTime<Utc>,
    /// When the complaint was first assigned (reassignments do not move it).
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// When it was last resolved (kept after a reopening until the next resolution).
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolutions: i64,
    pub reopens: i64,
    /// The reporter's latest rating, 1-5.
    pub rating: Option<i64>,
    pub last_position: i64,
}

/// One resolution: by whom and when.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResolutionRow {
    pub complaint_id: String,
    /// 1 for the first resolution of the complaint, 2 for the next, ...
    pub seq: i64,
    pub hostel: String,
    pub resolved_by: String,
    pub resolved_at: DateTime<Utc>,
}

fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Applies `event` (a complaint event) to `row` and returns the resolution it records, if it is one.
/// Nothing changes when it fails.
///
/// # Errors
/// An undecodable event, a second filing, or an event for a complaint that was never filed.
pub fn fold(
    row: &mut Option<DashboardRow>,
    event: &LogEvent,
) -> Result<Option<ResolutionRow>, ApplyError> {
    let decoded = decode(event)?;
    let inconsistent = |reason| ApplyError::Inconsistent {
        position: event.global_position,
        event_type: event.event_type.clone(),
        id: event.aggregate_id.clone(),
        reason,
    };
    let at = micros(decoded.at());
    if let ComplaintEvent::Filed {
        id,
        hostel,
        category,
        ..
    } = &decoded
    {
        if row.is_some() {
            return Err(inconsistent("filed twice"));
        }
        *row = Some(DashboardRow {
            id: id.to_string(),
            hostel: hostel.to_string(),
            category: category.to_string(),
            priority: None,
            status: "filed".to_owned(),
            assignee: None,
            filed_at: at,
            first_assigned_at: None,
            resolved_at: None,
            resolutions: 0,
            reopens: 0,
            rating: None,
            last_position: event.global_position,
        });
        return Ok(None);
    }
    let Some(row) = row.as_mut() else {
        return Err(inconsistent("the complaint was never filed"));
    };
    row.last_position = event.global_position;
    let mut resolution = None;
    match decoded {
        ComplaintEvent::Filed { .. }
        | ComplaintEvent::CommentAdded { .. }
        | ComplaintEvent::ResolutionConfirmed { .. }
        | ComplaintEvent::PhotoAttached { .. }
        | ComplaintEvent::ThumbnailGenerated { .. }
        | ComplaintEvent::ResolutionDisputed { .. }
        | ComplaintEvent::ThumbnailFailed { .. } => {}
        ComplaintEvent::Triaged {
            priority, category, ..
        } => {
            row.priority = Some(name_of(&priority));
            if let Some(category) = category {
                row.category = category.to_string();
            }
            row.status = "triaged".to_owned();
        }
        ComplaintEvent::Assigned { assignee, .. } => {
            row.assignee = Some(assignee.to_string());
            row.first_assigned_at.get_or_insert(at);
            row.status = "assigned".to_owned();
        }
        ComplaintEvent::WorkStarted { .. } | ComplaintEvent::WorkResumed { .. } => {
            row.status = "in_progress".to_owned();
        }
        ComplaintEvent::PutOnHold { .. } => row.status = "on_hold".to_owned(),
        ComplaintEvent::Resolved { by, .. } => {
            row.status = "resolved".to_owned();
            row.resolved_at = Some(at);
            row.resolutions += 1;
            resolution = Some(ResolutionRow {
                complaint_id: row.id.clone(),
                seq: row.resolutions,
                hostel: row.hostel.clone(),
                resolved_by: by.to_string(),
                resolved_at: at,
            });
        }
        ComplaintEvent::Reopened { .. } => {
            row.status = "reopened".to_owned();
            row.reopens += 1;
        }
        ComplaintEvent::Closed { .. } => row.status = "closed".to_owned(),
        ComplaintEvent::Rejected { .. } => row.status = "rejected".to_owned(),
        ComplaintEvent::Withdrawn { .. } => row.status = "withdrawn".to_owned(),
        ComplaintEvent::ResolutionRated { stars, .. } => row.rating = Some(i64::from(stars)),
    }
    Ok(resolution)
}

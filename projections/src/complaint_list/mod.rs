//! The complaint list read model: one row per complaint with what listings filter, sort and show.
//!
//! [`fold`] is the pure part: the row before an event and the event give the row after. It mirrors the
//! aggregate's own fold (domain `ComplaintState`) for the listed fields; the end-to-end tests compare
//! every row with the aggregate after a random workload. An event it cannot decode, or one that makes
//! no sense for the row (a second filing, an event before filing), is an [`ApplyError`]: the projection
//! stops there.

mod query;
mod store;

pub use query::{list, Cursor, InvalidCursor, ListPage, ListQuery, Sort, Visibility, MAX_LIMIT};
pub(crate) use store::{lite, pg};

use chrono::{DateTime, Utc};
use cms_domain::complaint::{ComplaintEvent, ThumbnailSize};
use serde::Serialize;

use cms_eventstore::log::LogEvent;

use cms_domain::complaint::AGGREGATE_TYPE;

/// Whether `event` is a complaint's (what the per-complaint read models fold).
pub(crate) fn concerns(event: &LogEvent) -> bool {
    event.aggregate_type == AGGREGATE_TYPE
}

/// One complaint as listings show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ListRow {
    pub id: String,
    pub hostel: String,
    pub wing: Option<String>,
    pub room: String,
    pub category: String,
    pub severity: String,
    pub priority: Option<String>,
    /// 1..4 for P1..P4, 5 when not triaged (the priority sort key).
    #[serde(skip)]
    pub priority_rank: i64,
    pub status: String,
    pub assignee: Option<String>,
    pub reporter: String,
    pub title: String,
    pub description: String,
    pub filed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub photo_count: i64,
    #[serde(skip)]
    pub first_photo_id: Option<String>,
    /// Object key of the 320 px thumbnail of the first photo, once generated.
    pub first_thumbnail: Option<String>,
    /// The log position of the last event applied to this row.
    pub last_position: i64,
}

/// Why an event cannot be applied to the list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("event at position {position} does not decode: {reason}")]
    Undecodable { position: i64, reason: String },
    #[error("event at position {position} ({event_type}) does not fit complaint {id}: {reason}")]
    Inconsistent {
        position: i64,
        event_type: String,
        id: String,
        reason: &'static str,
    },
}

/// The stored snake_case (or `P1`) name of a serialisable enum value.
fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Times at the precision both databases keep (microseconds), so a row reads back as it was written.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// Decodes a complaint event of the log.
///
/// # Errors
/// [`ApplyError::Undecodable`] for an unknown version or a payload that is not a `ComplaintEvent`.
pub fn decode(event: &LogEvent) -> Result<ComplaintEvent, ApplyError> {
    let undecodable = |reason: String| ApplyError::Undecodable {
        position: event.global_position,
        reason,
    };
    if event.event_version != "1" {
        return Err(undecodable(format!(
            "unknown version {:?} of {}",
            event.event_version, event.event_type
        )));
    }
    let decoded: ComplaintEvent =
        serde_json::from_str(&event.payload).map_err(|e| undecodable(e.to_string()))?;
    if decoded.stored_name() != event.event_type {
        return Err(undecodable(format!(
            "payload is {} but the row says {}",
            decoded.stored_name(),
            event.event_type
        )));
    }
    Ok(decoded)
}

/// Applies `event` (a complaint event) to `row`. Nothing changes when it fails.
///
/// # Errors
/// An undecodable event, a second filing, or an event for a complaint that was never filed.
pub fn fold(row: &mut Option<ListRow>, event: &LogEvent) -> Result<(), ApplyError> {
    let decoded = decode(event)?;
    let inconsistent = |reason| ApplyError::Inconsistent {
        position: event.global_position,
        event_type: event.event_type.clone(),
        id: event.aggregate_id.clone(),
        reason,
    };
    let position = event.global_position;
    let at = micros(decoded.at());
    if let ComplaintEvent::Filed {
        id,
        hostel,
        wing,
        room,
        category,
        severity,
        title,
        description,
        reporter,
        ..
    } = decoded
    {
        if row.is_some() {
            return Err(inconsistent("filed twice"));
        }
        *row = Some(ListRow {
            id: id.to_string(),
            hostel: hostel.to_string(),
            wing: wing.map(|w| w.to_string()),
            room,
            category: category.to_string(),
            severity: name_of(&severity),
            priority: None,
            priority_rank: 5,
            status: "filed".to_owned(),
            assignee: None,
            reporter: reporter.to_string(),
            title,
            description,
            filed_at: at,
            updated_at: at,
            photo_count: 0,
            first_photo_id: None,
            first_thumbnail: None,
            last_position: position,
        });
        return Ok(());
    }
    let Some(row) = row.as_mut() else {
        return Err(inconsistent("the complaint was never filed"));
    };
    // As in the domain: an internal comment does not move `updated_at` (residents see it).
    if !decoded.is_internal() {
        row.updated_at = at;
    }
    row.last_position = position;
    match decoded {
        ComplaintEvent::Filed { .. } => {}
        ComplaintEvent::Triaged {
            priority, category, ..
        } => {
            let name = name_of(&priority);
            row.priority_rank = priority_rank(&name);
            row.priority = Some(name);
            if let Some(category) = category {
                row.category = category.to_string();
            }
            row.status = "triaged".to_owned();
        }
        ComplaintEvent::Assigned { assignee, .. } => {
            row.assignee = Some(assignee.to_string());
            row.status = "assigned".to_owned();
        }
        ComplaintEvent::WorkStarted { .. } | ComplaintEvent::WorkResumed { .. } => {
            row.status = "in_progress".to_owned();
        }
        ComplaintEvent::PutOnHold { .. } => row.status = "on_hold".to_owned(),
        ComplaintEvent::Resolved { .. } => row.status = "resolved".to_owned(),
        ComplaintEvent::Reopened { .. } => row.status = "reopened".to_owned(),
        ComplaintEvent::Closed { .. } => row.status = "closed".to_owned(),
        ComplaintEvent::Rejected { .. } => row.status = "rejected".to_owned(),
        ComplaintEvent::Withdrawn { .. } => row.status = "withdrawn".to_owned(),
        ComplaintEvent::PhotoAttached { photo_id, .. } => {
            row.photo_count += 1;
            if row.first_photo_id.is_none() {
                row.first_photo_id = Some(photo_id.to_string());
            }
        }
        ComplaintEvent::ThumbnailGenerated {
            photo_id,
            thumbnails,
            ..
        } => {
            if row.first_photo_id.as_deref() == Some(photo_id.to_string().as_str()) {
                let thumb = thumbnails
                    .iter()
                    .find(|t| t.size == ThumbnailSize::Thumb320)
                    .or(thumbnails.first());
                row.first_thumbnail = thumb.map(|t| t.object_key.clone());
            }
        }
        ComplaintEvent::CommentAdded { .. }
        | ComplaintEvent::ResolutionConfirmed { .. }
        | ComplaintEvent::ResolutionDisputed { .. }
        | ComplaintEvent::ResolutionRated { .. }
        | ComplaintEvent::ThumbnailFailed { .. } => {}
    }
    Ok(())
}

/// The sort rank of a stored priority name: P1 first, untriaged last.
pub fn priority_rank(name: &str) -> i64 {
    match name {
        "P1" => 1,
        "P2" => 2,
        "P3" => 3,
        "P4" => 4,
        _ => 5,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn event(position: i64, event_type: &str, payload: serde_json::Value) -> LogEvent {
        LogEvent {
            global_position: position,
            aggregate_type: AGGREGATE_TYPE.into(),
            aggregate_id: "0190f1c2-0000-7000-8000-000000000001".into(),
            event_type: event_type.into(),
            event_version: "1".into(),
            payload: payload.to_string(),
        }
    }

    fn filed() -> LogEvent {
        event(
            1,
            "ComplaintFiled",
            serde_json::json!({"ComplaintFiled": {
                "id": "0190f1c2-0000-7000-8000-000000000001", "hostel": "north", "wing": "B",
                "room": "B204", "category": "plumbing", "severity": "high", "title": "Tap",
                "description": "Drips", "reporter": "res-1", "by": "res-1",
                "at": "2026-11-26T10:00:00.123456789Z"}}),
        )
    }

    #[test]
    fn filing_creates_the_row_and_triage_sets_priority_and_status() {
        let mut row = None;
        fold(&mut row, &filed()).unwrap();
        assert_eq!(row.as_ref().unwrap().status, "filed");
        assert_eq!(row.as_ref().unwrap().priority_rank, 5);
        let filed_at = row.as_ref().unwrap().filed_at;
        assert_eq!(filed_at.timestamp_subsec_nanos(), 123_456_000);
        let triaged = event(
            2,
            "ComplaintTriaged",
            serde_json::json!({"ComplaintTriaged": {"priority": "P2", "category": null,
                "previous_category": null, "by": "warden-w", "at": "2026-11-26T11:00:00Z"}}),
        );
        fold(&mut row, &triaged).unwrap();
        let row = row.unwrap();
        assert_eq!(row.priority.as_deref(), Some("P2"));
        assert_eq!((row.priority_rank, row.status.as_str()), (2, "triaged"));
        assert_eq!(row.last_position, 2);
    }

    #[test]
    fn an_internal_comment_does_not_move_updated_at() {
        let mut row = None;
        fold(&mut row, &filed()).unwrap();
        let filed_at = row.as_ref().unwrap().updated_at;
        let comment = |position: i64, visibility: &str, at: &str| {
            event(
                position,
                "CommentAdded",
                serde_json::json!({"CommentAdded": {
                    "comment_id": "0190f1c2-0000-7000-8000-0000000000c1", "body": "Noted",
                    "visibility": visibility, "by": "warden-w", "at": at}}),
            )
        };

        fold(&mut row, &comment(2, "internal", "2026-11-26T12:00:00Z")).unwrap();
        assert_eq!(row.as_ref().unwrap().updated_at, filed_at);
        assert_eq!(row.as_ref().unwrap().last_position, 2);

        fold(&mut row, &comment(3, "public", "2026-11-26T13:00:00Z")).unwrap();
        assert_eq!(
            row.as_ref().unwrap().updated_at.to_rfc3339(),
            "2026-11-26T13:00:00+00:00"
        );
    }

    #[test]
    fn an_undecodable_or_out_of_order_event_is_an_error() {
        let poison = event(7, "ComplaintFiled", serde_json::json!({"nonsense": true}));
        let mut row = None;
        assert!(matches!(
            fold(&mut row, &poison),
            Err(ApplyError::Undecodable { position: 7, .. })
        ));
        assert_eq!(row, None, "a failed event changes nothing");
        fold(&mut row, &filed()).unwrap();
        let before = row.clone();
        assert!(matches!(
            fold(&mut row, &filed()),
            Err(ApplyError::Inconsistent { .. })
        ));
        assert_eq!(row, before, "a failed event changes nothing");
    }
}

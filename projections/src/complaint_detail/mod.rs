//! The complaint detail read model: per complaint, the aggregate's state as the domain folds it (so the
//! detail screen shows exactly what the write side knows) and a timeline of its events, for
//! `GET /v1/complaints/{id}`.
//!
//! [`fold`] is the pure part. The state is the domain's own [`Complaint`] fold, stored as JSON; the
//! timeline lists every event with its position, type, time, actor and whether it is internal (an
//! internal comment), so a resident's view can leave those out. An event that does not decode, or that
//! does not fit (a second filing, an event before filing), stops the projection there.

mod store;

pub(crate) use store::{lite, pg};

use chrono::{DateTime, Utc};
use cms_domain::complaint::{Complaint, ComplaintEvent};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::complaint_list::{decode, ApplyError};
use crate::Projection;
use cms_eventstore::log::LogEvent;
use cms_eventstore::Db;

/// One event of a complaint as its timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Global log position.
    pub position: i64,
    /// Stored event name, e.g. `ComplaintAssigned`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened (the command's time).
    pub at: DateTime<Utc>,
    /// Who caused it.
    pub by: String,
    /// True for what residents never see (internal comments).
    pub internal: bool,
}

impl TimelineEntry {
    /// The entry for `event` at `position`.
    pub fn of(position: i64, event: &ComplaintEvent) -> Self {
        let internal = event.is_internal();
        Self {
            position,
            event_type: event.stored_name().to_owned(),
            at: event.at(),
            by: event.by().to_string(),
            internal,
        }
    }
}

/// One complaint's detail row.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailRow {
    /// The complaint id.
    pub id: String,
    /// Its state after the last event applied.
    pub complaint: Complaint,
    /// Every event so far, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Position of the last event applied to this row.
    pub last_position: i64,
}

/// Applies `event` (a complaint event) to `row`. Nothing changes when it fails.
///
/// # Errors
/// An undecodable event, a second filing, or an event for a complaint that was never filed.
pub fn fold(row: &mut Option<DetailRow>, event: &LogEvent) -> Result<(), ApplyError> {
    let decoded = decode(event)?;
    let inconsistent = |reason| ApplyError::Inconsistent {
        position: event.global_position,
        event_type: event.event_type.clone(),
        id: event.aggregate_id.clone(),
        reason,
    };
    let filing = matches!(decoded, ComplaintEvent::Filed { .. });
    match (row.is_some(), filing) {
        (true, true) => return Err(inconsistent("filed twice")),
        (false, false) => return Err(inconsistent("not filed")),
        _ => {}
    }
    let row = row.get_or_insert_with(|| DetailRow {
        id: event.aggregate_id.clone(),
        complaint: Complaint::default(),
        timeline: Vec::new(),
        last_position: 0,
    });
    row.timeline
        .push(TimelineEntry::of(event.global_position, &decoded));
    row.complaint.apply(decoded);
    row.last_position = event.global_position;
    Ok(())
}

/// A complaint's detail and the checkpoint it reflects, read in one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    /// The row; `None` when the projection has no such complaint (yet).
    pub row: Option<DetailRow>,
    /// The projection's checkpoint when the row was read.
    pub position: i64,
}

/// Reads complaint `id` and the projection's checkpoint in one snapshot.
///
/// # Errors
/// Storage failures, or a stored row that does not decode (a bug: the projector wrote it).
pub async fn get(db: &Db, id: &str) -> Result<Detail, sqlx::Error> {
    cms_eventstore::on_backend!(
        db.reader(),
        snapshot | conn,
        backend | {
            let position = sqlx::query_scalar::<Sql, i64>(crate::checkpoint::POSITION)
                .bind(Projection::ComplaintDetail.name())
                .fetch_optional(&mut *conn)
                .await?;
            let row = backend::load(conn, id).await?;
            Ok(Detail {
                row,
                position: position.unwrap_or(0),
            })
        }
    )
}

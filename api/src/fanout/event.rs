//! [`BusEvent`]: one log event as the bus carries it. The relay adds what a consumer needs to route
//! and filter without reading the database: the hostel and, for complaints, the reporter (both from
//! the complaint's first event), and whether the event is an internal comment. The subject a bus
//! event is published on is derived here too:
//! `cms.complaints.<hostel>.<complaint>.<EventType>` and `cms.hostels.<hostel>.<EventType>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use cms_eventstore::store::RecordedEvent;

use cms_domain::complaint::AGGREGATE_TYPE as COMPLAINT;
use cms_domain::hostel::AGGREGATE_TYPE as HOSTEL;

/// The facts about a complaint that never change after filing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintFacts {
    /// The hostel it was filed in.
    pub hostel: String,
    /// The resident it is for.
    pub reporter: String,
}

/// One event of the log with its routing facts, as published on the bus (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusEvent {
    /// The global position (equal to the stream sequence on NATS).
    pub position: i64,
    /// The event's id (`Nats-Msg-Id`).
    pub event_id: Uuid,
    /// The stored event name (`ComplaintFiled`, ...).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The stored event version.
    pub version: String,
    /// `Complaint` or `Hostel`.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// The hostel the event belongs to; `None` only when it could not be found (a damaged log).
    pub hostel: Option<String>,
    /// The complaint's reporter (complaint events only).
    pub reporter: Option<String>,
    /// True for comments that residents may not see.
    pub internal: bool,
    /// When the event was committed.
    pub at: DateTime<Utc>,
    /// The payload as stored.
    pub data: Value,
    /// The W3C `traceparent` of the request that caused the event (from its metadata); published as
    /// the NATS header `traceparent` so the fan-out joins the command's trace. Never sent to sockets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl BusEvent {
    /// The bus event of `event`, given the facts of its complaint (when it is a complaint event).
    pub fn new(event: &RecordedEvent, facts: Option<&ComplaintFacts>) -> Self {
        let (hostel, reporter) = match event.aggregate_type.as_str() {
            COMPLAINT => (
                facts.map(|f| f.hostel.clone()),
                facts.map(|f| f.reporter.clone()),
            ),
            HOSTEL => (Some(event.aggregate_id.clone()), None),
            _ => (None, None),
        };
        Self {
            position: event.global_position,
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            version: event.event_version.clone(),
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            hostel,
            reporter,
            internal: is_internal_comment(event),
            at: event.recorded_at,
            data: event.payload.clone(),
            traceparent: event.metadata["traceparent"].as_str().map(str::to_owned),
        }
    }

    /// The complaint's id, for complaint events.
    pub fn complaint_id(&self) -> Option<&str> {
        (self.aggregate_type == COMPLAINT).then_some(self.aggregate_id.as_str())
    }

    /// The subject under `prefix` (`cms`): `cms.complaints.<hostel>.<complaint>.<EventType>`,
    /// `cms.hostels.<hostel>.<EventType>`, or `cms.other.<type>.<id>.<EventType>`; an unknown hostel
    /// is `_`. Every part is a validated slug, UUID or event name, so it holds no `.`, `*` or `>`.
    pub fn subject(&self, prefix: &str) -> String {
        let hostel = self.hostel.as_deref().map_or("_", token);
        match self.aggregate_type.as_str() {
            COMPLAINT => format!(
                "{prefix}.complaints.{hostel}.{}.{}",
                token(&self.aggregate_id),
                token(&self.event_type)
            ),
            HOSTEL => format!("{prefix}.hostels.{hostel}.{}", token(&self.event_type)),
            other => format!(
                "{prefix}.other.{}.{}.{}",
                token(other),
                token(&self.aggregate_id),
                token(&self.event_type)
            ),
        }
    }
}

/// A subject token: the text itself when it is safe, else `_` (never a wildcard or separator).
fn token(text: &str) -> &str {
    let safe = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if safe {
        text
    } else {
        "_"
    }
}

/// Residents never see internal comments (the same rule as the complaint history).
pub fn is_internal_comment(event: &RecordedEvent) -> bool {
    event.event_type == "CommentAdded"
        && event.payload["CommentAdded"]["visibility"].as_str() != Some("public")
}

/// The facts a `ComplaintFiled` payload carries.
pub fn facts_of_filing(event: &RecordedEvent) -> Option<ComplaintFacts> {
    if event.aggregate_type != COMPLAINT || event.event_type != "ComplaintFiled" {
        return None;
    }
    let filed = &event.payload["ComplaintFiled"];
    Some(ComplaintFacts {
        hostel: filed["hostel"].as_str()?.to_owned(),
        reporter: filed["reporter"].as_str()?.to_owned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn recorded(aggregate_type: &str, id: &str, event_type: &str, payload: Value) -> RecordedEvent {
        RecordedEvent {
            global_position: 7,
            event_id: Uuid::nil(),
            recorded_at: Utc::now(),
            aggregate_type: aggregate_type.into(),
            aggregate_id: id.into(),
            sequence: 1,
            event_type: event_type.into(),
            event_version: "1".into(),
            payload,
            metadata: json!({}),
        }
    }

    #[test]
    fn complaint_and_hostel_events_get_the_documented_subjects() {
        let id = "0190f1c2-0000-7000-8000-000000000001";
        let filed = recorded(
            COMPLAINT,
            id,
            "ComplaintFiled",
            json!({"ComplaintFiled": {"hostel": "north", "reporter": "res-1"}}),
        );
        let facts = facts_of_filing(&filed).unwrap();
        let event = BusEvent::new(&filed, Some(&facts));
        assert_eq!(
            event.subject("cms"),
            format!("cms.complaints.north.{id}.ComplaintFiled")
        );
        let hostel = recorded(HOSTEL, "north", "StaffAdded", json!({}));
        assert_eq!(
            BusEvent::new(&hostel, None).subject("cms"),
            "cms.hostels.north.StaffAdded"
        );
    }

    #[test]
    fn unsafe_subject_tokens_become_underscores() {
        let event = recorded(COMPLAINT, "a.b", "X*", json!({}));
        assert_eq!(
            BusEvent::new(&event, None).subject("cms"),
            "cms.complaints._._._"
        );
    }

    #[test]
    fn only_public_comments_are_not_internal() {
        let public = recorded(
            COMPLAINT,
            "c",
            "CommentAdded",
            json!({"CommentAdded": {"visibility": "public"}}),
        );
        let internal = recorded(
            COMPLAINT,
            "c",
            "CommentAdded",
            json!({"CommentAdded": {"visibility": "internal"}}),
        );
        assert!(!is_internal_comment(&public));
        assert!(is_internal_comment(&internal));
    }
}

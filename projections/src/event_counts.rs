//! The `event_counts` read model: events per (aggregate type, event type), with the position of the
//! last one. It reads only the log's columns, never a payload, so it keeps going when another
//! projection stops on an undecodable event; its counts add up to its checkpoint (a completeness check
//! for auditors).

use std::collections::BTreeMap;

use crate::Applied;
use cms_eventstore::log::LogEvent;

const UPSERT: &str =
    "INSERT INTO event_counts (aggregate_type, event_type, events, last_position) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (aggregate_type, event_type) DO UPDATE SET \
     events = event_counts.events + excluded.events, last_position = excluded.last_position";

/// One row of the read model.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventCount {
    pub aggregate_type: String,
    pub event_type: String,
    pub events: i64,
    pub last_position: i64,
}

cms_eventstore::for_each_backend! {
    /// Counts `events` (contiguous, after `checkpoint`); nothing here can fail on an event.
    pub(crate) async fn apply(
        conn: &mut Conn,
        checkpoint: i64,
        events: &[LogEvent],
    ) -> Result<Applied, sqlx::Error> {
        let mut counts: BTreeMap<(&str, &str), (i64, i64)> = BTreeMap::new();
        for event in events {
            let entry = counts
                .entry((event.aggregate_type.as_str(), event.event_type.as_str()))
                .or_insert((0, 0));
            entry.0 += 1;
            entry.1 = event.global_position;
        }
        for ((aggregate_type, event_type), (n, last)) in counts {
            sqlx::query::<Sql>(UPSERT)
                .bind(aggregate_type)
                .bind(event_type)
                .bind(n)
                .bind(last)
                .execute(&mut *conn)
                .await?;
        }
        Ok(Applied {
            through: events.last().map_or(checkpoint, |e| e.global_position),
            failure: None,
        })
    }
}

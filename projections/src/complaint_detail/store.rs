//! Writing the complaint detail: a batch is folded in memory (rows loaded once, written once) and the
//! touched rows are upserted inside the projector's transaction.

use std::collections::HashMap;

use super::{concerns, fold, DetailRow, TimelineEntry};
use crate::log::LogEvent;
use crate::Applied;

const UPSERT: &str = "INSERT INTO complaint_detail (id, hostel, reporter, state, timeline, \
     last_position) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
     hostel = excluded.hostel, reporter = excluded.reporter, state = excluded.state, \
     timeline = excluded.timeline, last_position = excluded.last_position";

#[derive(sqlx::FromRow)]
struct Stored {
    id: String,
    state: String,
    timeline: String,
    last_position: i64,
}

fn decode(stored: Stored) -> Result<DetailRow, sqlx::Error> {
    let corrupt = |e: serde_json::Error| {
        sqlx::Error::Decode(format!("complaint_detail row {}: {e}", stored.id).into())
    };
    let complaint = serde_json::from_str(&stored.state).map_err(corrupt)?;
    let timeline: Vec<TimelineEntry> = serde_json::from_str(&stored.timeline).map_err(corrupt)?;
    Ok(DetailRow {
        id: stored.id,
        complaint,
        timeline,
        last_position: stored.last_position,
    })
}

crate::for_each_backend! {
    /// The row of complaint `id`, if any.
    pub(crate) async fn load(conn: &mut Conn, id: &str) -> Result<Option<DetailRow>, sqlx::Error> {
        let stored = sqlx::query_as::<Db, Stored>(
            "SELECT id, state, timeline, last_position FROM complaint_detail WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        stored.map(decode).transpose()
    }

    async fn upsert(conn: &mut Conn, row: &DetailRow) -> Result<(), sqlx::Error> {
        let encode = |e: serde_json::Error| sqlx::Error::Encode(Box::new(e));
        let state = serde_json::to_string(&row.complaint).map_err(encode)?;
        let timeline = serde_json::to_string(&row.timeline).map_err(encode)?;
        let filed = row.complaint.state();
        sqlx::query::<Db>(UPSERT)
            .bind(&row.id)
            .bind(filed.map(|c| c.hostel().to_string()).unwrap_or_default())
            .bind(filed.map(|c| c.reporter().to_string()).unwrap_or_default())
            .bind(state)
            .bind(timeline)
            .bind(row.last_position)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Empties the read model (inside a rebuild's transaction).
    pub(crate) async fn clear(conn: &mut Conn) -> Result<(), sqlx::Error> {
        sqlx::query::<Db>("DELETE FROM complaint_detail").execute(&mut *conn).await?;
        Ok(())
    }

    /// Applies `events` (contiguous, after `checkpoint`) in order, stopping at the first one that
    /// cannot be applied; writes the rows of every event before it.
    pub(crate) async fn apply(
        conn: &mut Conn,
        checkpoint: i64,
        events: &[LogEvent],
    ) -> Result<Applied, sqlx::Error> {
        let mut rows: HashMap<String, Option<DetailRow>> = HashMap::new();
        let mut touched: Vec<String> = Vec::new();
        let mut applied = Applied { through: checkpoint, failure: None };
        for event in events {
            if concerns(event) {
                if !rows.contains_key(&event.aggregate_id) {
                    let row = load(conn, &event.aggregate_id).await?;
                    rows.insert(event.aggregate_id.clone(), row);
                }
                let row = rows.entry(event.aggregate_id.clone()).or_default();
                if let Err(error) = fold(row, event) {
                    applied.failure = Some(error.to_string());
                    break;
                }
                if !touched.contains(&event.aggregate_id) {
                    touched.push(event.aggregate_id.clone());
                }
            }
            applied.through = event.global_position;
        }
        for id in &touched {
            if let Some(Some(row)) = rows.get(id) {
                upsert(conn, row).await?;
            }
        }
        Ok(applied)
    }
}

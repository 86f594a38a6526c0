//! Writing the complaint detail: a batch's complaints are loaded in one query, folded in memory and
//! upserted in one statement, inside the projector's transaction ([`crate::batch`]).

use std::collections::HashMap;

use super::{fold, DetailRow, TimelineEntry};
use crate::batch;
use crate::complaint_list::concerns;
use crate::Applied;
use cms_eventstore::log::LogEvent;

/// `INSERT INTO complaint_detail (...) VALUES (...), (...) ON CONFLICT ...`: the head before the rows.
const INSERT: &str =
    "INSERT INTO complaint_detail (id, hostel, reporter, state, timeline, last_position) ";

/// ... and the tail after them.
const ON_CONFLICT: &str = " ON CONFLICT (id) DO UPDATE SET hostel = excluded.hostel, \
     reporter = excluded.reporter, state = excluded.state, timeline = excluded.timeline, \
     last_position = excluded.last_position";

/// A row as stored: the state and timeline as JSON text.
struct Encoded {
    id: String,
    hostel: String,
    reporter: String,
    state: String,
    timeline: String,
    last_position: i64,
}

fn encode(row: &DetailRow) -> Result<Encoded, sqlx::Error> {
    let encode = |e: serde_json::Error| sqlx::Error::Encode(Box::new(e));
    let filed = row.complaint.state();
    Ok(Encoded {
        id: row.id.clone(),
        hostel: filed.map(|c| c.hostel().to_string()).unwrap_or_default(),
        reporter: filed.map(|c| c.reporter().to_string()).unwrap_or_default(),
        state: serde_json::to_string(&row.complaint).map_err(encode)?,
        timeline: serde_json::to_string(&row.timeline).map_err(encode)?,
        last_position: row.last_position,
    })
}

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

cms_eventstore::for_each_backend! {
    same_backend(crate::batch as batch_sql);
    /// The row of complaint `id`, if any.
    pub(crate) async fn load(conn: &mut Conn, id: &str) -> Result<Option<DetailRow>, sqlx::Error> {
        let stored = sqlx::query_as::<Sql, Stored>(
            "SELECT id, state, timeline, last_position FROM complaint_detail WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        stored.map(decode).transpose()
    }

    /// The stored rows of complaints `ids`, by id (one query).
    async fn load_many(
        conn: &mut Conn,
        ids: &[&str],
    ) -> Result<HashMap<String, DetailRow>, sqlx::Error> {
        let select = "SELECT id, state, timeline, last_position FROM complaint_detail";
        let stored: Vec<Stored> = batch_sql::load(conn, select, ids).await?;
        stored
            .into_iter()
            .map(|stored| decode(stored).map(|row| (row.id.clone(), row)))
            .collect()
    }

    /// Writes `rows` (distinct complaints), a few hundred per statement.
    async fn upsert(conn: &mut Conn, rows: &[DetailRow]) -> Result<(), sqlx::Error> {
        let encoded = rows.iter().map(encode).collect::<Result<Vec<_>, _>>()?;
        batch_sql::insert(conn, INSERT, ON_CONFLICT, &encoded, |mut values, row| {
            values
                .push_bind(&row.id)
                .push_bind(&row.hostel)
                .push_bind(&row.reporter)
                .push_bind(&row.state)
                .push_bind(&row.timeline)
                .push_bind(row.last_position);
        })
        .await
    }

    /// Applies `events` (contiguous, after `checkpoint`) in order, stopping at the first one that
    /// cannot be applied; writes the rows of every event before it.
    pub(crate) async fn apply(
        conn: &mut Conn,
        checkpoint: i64,
        events: &[LogEvent],
    ) -> Result<Applied, sqlx::Error> {
        let loaded = load_many(conn, &batch::ids(events, concerns)).await?;
        let folded = batch::fold(checkpoint, events, loaded, concerns, fold);
        upsert(conn, &folded.rows).await?;
        Ok(folded.applied)
    }
}

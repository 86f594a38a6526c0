//! Writing the complaint list: a batch's complaints are loaded in one query, folded in memory and
//! upserted in one statement, inside the projector's transaction ([`crate::batch`]).

use std::collections::HashMap;

use super::{concerns, fold, ListRow};
use crate::batch;
use crate::Applied;
use cms_eventstore::log::LogEvent;

pub(super) const COLUMNS: &str = "id, hostel, wing, room, category, severity, priority, \
     priority_rank, status, assignee, reporter, title, description, filed_at, updated_at, \
     photo_count, first_photo_id, first_thumbnail, last_position";

/// `INSERT INTO complaint_list (...) VALUES (...), (...) ON CONFLICT ...`: the head before the rows.
const INSERT: &str = "INSERT INTO complaint_list (id, hostel, wing, room, category, severity, \
     priority, priority_rank, status, assignee, reporter, title, description, filed_at, updated_at, \
     photo_count, first_photo_id, first_thumbnail, last_position) ";

/// ... and the tail after them.
const ON_CONFLICT: &str = " ON CONFLICT (id) DO UPDATE SET \
     hostel = excluded.hostel, wing = excluded.wing, room = excluded.room, \
     category = excluded.category, severity = excluded.severity, priority = excluded.priority, \
     priority_rank = excluded.priority_rank, status = excluded.status, \
     assignee = excluded.assignee, reporter = excluded.reporter, title = excluded.title, \
     description = excluded.description, filed_at = excluded.filed_at, \
     updated_at = excluded.updated_at, photo_count = excluded.photo_count, \
     first_photo_id = excluded.first_photo_id, first_thumbnail = excluded.first_thumbnail, \
     last_position = excluded.last_position";

cms_eventstore::for_each_backend! {
    same_backend(crate::batch as batch_sql);
    /// The stored rows of complaints `ids`, by id (one query).
    async fn load(conn: &mut Conn, ids: &[&str]) -> Result<HashMap<String, ListRow>, sqlx::Error> {
        let select = format!("SELECT {COLUMNS} FROM complaint_list");
        let rows: Vec<ListRow> = batch_sql::load(conn, &select, ids).await?;
        Ok(rows.into_iter().map(|row| (row.id.clone(), row)).collect())
    }

    /// Writes `rows` (distinct complaints), a few hundred per statement.
    async fn upsert(conn: &mut Conn, rows: &[ListRow]) -> Result<(), sqlx::Error> {
        batch_sql::insert(conn, INSERT, ON_CONFLICT, rows, |mut values, row| {
            values
                .push_bind(&row.id)
                .push_bind(&row.hostel)
                .push_bind(&row.wing)
                .push_bind(&row.room)
                .push_bind(&row.category)
                .push_bind(&row.severity)
                .push_bind(&row.priority)
                .push_bind(row.priority_rank)
                .push_bind(&row.status)
                .push_bind(&row.assignee)
                .push_bind(&row.reporter)
                .push_bind(&row.title)
                .push_bind(&row.description)
                .push_bind(row.filed_at)
                .push_bind(row.updated_at)
                .push_bind(row.photo_count)
                .push_bind(&row.first_photo_id)
                .push_bind(&row.first_thumbnail)
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
        let loaded = load(conn, &batch::ids(events, concerns)).await?;
        let folded = batch::fold(checkpoint, events, loaded, concerns, fold);
        upsert(conn, &folded.rows).await?;
        Ok(folded.applied)
    }
}

//! Writing the dashboard model: a batch's complaints are loaded in one query, folded in memory, and the
//! touched rows and new resolutions written a statement each, inside the projector's transaction
//! ([`crate::batch`]).

use std::collections::HashMap;

use super::{fold, DashboardRow, ResolutionRow};
use crate::batch;
use crate::complaint_list::concerns;
use crate::Applied;
use cms_eventstore::log::LogEvent;

pub(crate) const COLUMNS: &str = "id, hostel, category, priority, status, assignee, filed_at, \
     first_assigned_at, resolved_at, resolutions, reopens, rating, last_position";

/// `INSERT INTO dashboard_complaints (...) VALUES (...), (...) ON CONFLICT ...`: the head before the rows.
const INSERT: &str = "INSERT INTO dashboard_complaints (id, hostel, category, priority, status, \
     assignee, filed_at, first_assigned_at, resolved_at, resolutions, reopens, rating, \
     last_position) ";

/// ... and the tail after them.
const ON_CONFLICT: &str = " ON CONFLICT (id) DO UPDATE SET hostel = excluded.hostel, \
     category = excluded.category, priority = excluded.priority, status = excluded.status, \
     assignee = excluded.assignee, filed_at = excluded.filed_at, \
     first_assigned_at = excluded.first_assigned_at, resolved_at = excluded.resolved_at, \
     resolutions = excluded.resolutions, reopens = excluded.reopens, rating = excluded.rating, \
     last_position = excluded.last_position";

const INSERT_RESOLUTIONS: &str = "INSERT INTO dashboard_resolutions \
     (complaint_id, seq, hostel, resolved_by, resolved_at) ";

cms_eventstore::for_each_backend! {
    same_backend(crate::batch as batch_sql);
    /// The stored rows of complaints `ids`, by id (one query).
    async fn load(
        conn: &mut Conn,
        ids: &[&str],
    ) -> Result<HashMap<String, DashboardRow>, sqlx::Error> {
        let select = format!("SELECT {COLUMNS} FROM dashboard_complaints");
        let rows: Vec<DashboardRow> = batch_sql::load(conn, &select, ids).await?;
        Ok(rows.into_iter().map(|row| (row.id.clone(), row)).collect())
    }

    /// Writes `rows` (distinct complaints), a few hundred per statement.
    async fn upsert(conn: &mut Conn, rows: &[DashboardRow]) -> Result<(), sqlx::Error> {
        batch_sql::insert(conn, INSERT, ON_CONFLICT, rows, |mut values, row| {
            values
                .push_bind(&row.id)
                .push_bind(&row.hostel)
                .push_bind(&row.category)
                .push_bind(&row.priority)
                .push_bind(&row.status)
                .push_bind(&row.assignee)
                .push_bind(row.filed_at)
                .push_bind(row.first_assigned_at)
                .push_bind(row.resolved_at)
                .push_bind(row.resolutions)
                .push_bind(row.reopens)
                .push_bind(row.rating)
                .push_bind(row.last_position);
        })
        .await
    }

    /// Inserts `rows`, a few hundred per statement.
    async fn insert_resolutions(conn: &mut Conn, rows: &[ResolutionRow]) -> Result<(), sqlx::Error> {
        batch_sql::insert(conn, INSERT_RESOLUTIONS, "", rows, |mut values, row| {
            values
                .push_bind(&row.complaint_id)
                .push_bind(row.seq)
                .push_bind(&row.hostel)
                .push_bind(&row.resolved_by)
                .push_bind(row.resolved_at);
        })
        .await
    }

    /// Applies `events` (contiguous, after `checkpoint`) in order, stopping at the first one that
    /// cannot be applied; writes the rows and resolutions of every event before it.
    pub(crate) async fn apply(
        conn: &mut Conn,
        checkpoint: i64,
        events: &[LogEvent],
    ) -> Result<Applied, sqlx::Error> {
        let loaded = load(conn, &batch::ids(events, concerns)).await?;
        let mut resolutions: Vec<ResolutionRow> = Vec::new();
        let folded = batch::fold(checkpoint, events, loaded, concerns, |row, event| {
            resolutions.extend(fold(row, event)?);
            Ok(())
        });
        upsert(conn, &folded.rows).await?;
        insert_resolutions(conn, &resolutions).await?;
        Ok(folded.applied)
    }
}

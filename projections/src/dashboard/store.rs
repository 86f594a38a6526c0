//! Writing the dashboard model: a batch is folded in memory (each complaint loaded once, written once)
//! and the touched rows and new resolutions are written inside the projector's transaction.

use std::collections::HashMap;

use super::{fold, DashboardRow, ResolutionRow};
use crate::complaint_list::AGGREGATE_TYPE;
use crate::log::LogEvent;
use crate::Applied;

pub(crate) const COLUMNS: &str = "id, hostel, category, priority, status, assignee, filed_at, \
     first_assigned_at, resolved_at, resolutions, reopens, rating, last_position";

const UPSERT: &str = "INSERT INTO dashboard_complaints (id, hostel, category, priority, status, \
     assignee, filed_at, first_assigned_at, resolved_at, resolutions, reopens, rating, \
     last_position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (id) DO UPDATE SET hostel = excluded.hostel, category = excluded.category, \
     priority = excluded.priority, status = excluded.status, assignee = excluded.assignee, \
     filed_at = excluded.filed_at, first_assigned_at = excluded.first_assigned_at, \
     resolved_at = excluded.resolved_at, resolutions = excluded.resolutions, \
     reopens = excluded.reopens, rating = excluded.rating, last_position = excluded.last_position";

const INSERT_RESOLUTION: &str = "INSERT INTO dashboard_resolutions \
     (complaint_id, seq, hostel, resolved_by, resolved_at) VALUES ($1, $2, $3, $4, $5)";

crate::for_each_backend! {
    async fn load(conn: &mut Conn, id: &str) -> Result<Option<DashboardRow>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM dashboard_complaints WHERE id = $1");
        sqlx::query_as::<Db, DashboardRow>(&sql).bind(id).fetch_optional(&mut *conn).await
    }

    async fn upsert(conn: &mut Conn, row: &DashboardRow) -> Result<(), sqlx::Error> {
        sqlx::query::<Db>(UPSERT)
            .bind(&row.id)
            .bind(&row.hostel)
            .bind(&row.category)
            .bind(&row.priority)
            .bind(&row.status)
            .bind(&row.assignee)
            .bind(row.filed_at)
            .bind(row.first_assigned_at)
            .bind(row.resolved_at)
            .bind(row.resolutions)
            .bind(row.reopens)
            .bind(row.rating)
            .bind(row.last_position)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn insert_resolution(conn: &mut Conn, row: &ResolutionRow) -> Result<(), sqlx::Error> {
        sqlx::query::<Db>(INSERT_RESOLUTION)
            .bind(&row.complaint_id)
            .bind(row.seq)
            .bind(&row.hostel)
            .bind(&row.resolved_by)
            .bind(row.resolved_at)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Empties the read model (inside a rebuild's transaction).
    pub(crate) async fn clear(conn: &mut Conn) -> Result<(), sqlx::Error> {
        sqlx::query::<Db>("DELETE FROM dashboard_resolutions").execute(&mut *conn).await?;
        sqlx::query::<Db>("DELETE FROM dashboard_complaints").execute(&mut *conn).await?;
        Ok(())
    }

    /// Applies `events` (contiguous, after `checkpoint`) in order, stopping at the first one that
    /// cannot be applied; writes the rows of every event before it.
    pub(crate) async fn apply(
        conn: &mut Conn,
        checkpoint: i64,
        events: &[LogEvent],
    ) -> Result<Applied, sqlx::Error> {
        let mut rows: HashMap<String, Option<DashboardRow>> = HashMap::new();
        let mut touched: Vec<String> = Vec::new();
        let mut resolutions: Vec<ResolutionRow> = Vec::new();
        let mut applied = Applied { through: checkpoint, failure: None };
        for event in events {
            if event.aggregate_type == AGGREGATE_TYPE {
                if !rows.contains_key(&event.aggregate_id) {
                    let row = load(conn, &event.aggregate_id).await?;
                    rows.insert(event.aggregate_id.clone(), row);
                }
                let before = rows.get(&event.aggregate_id).cloned().flatten();
                match fold(before, event) {
                    Ok((row, resolution)) => {
                        if !touched.contains(&event.aggregate_id) {
                            touched.push(event.aggregate_id.clone());
                        }
                        rows.insert(event.aggregate_id.clone(), Some(row));
                        resolutions.extend(resolution);
                    }
                    Err(error) => {
                        applied.failure = Some(error.to_string());
                        break;
                    }
                }
            }
            applied.through = event.global_position;
        }
        for id in &touched {
            if let Some(Some(row)) = rows.get(id) {
                upsert(conn, row).await?;
            }
        }
        for resolution in &resolutions {
            insert_resolution(conn, resolution).await?;
        }
        Ok(applied)
    }
}

//! Writing the complaint list: a batch is folded in memory (rows loaded once, written once) and the
//! touched rows are upserted inside the projector's transaction.

use std::collections::HashMap;

use super::{fold, ListRow, AGGREGATE_TYPE};
use crate::log::LogEvent;
use crate::Applied;

pub(super) const COLUMNS: &str = "id, hostel, wing, room, category, severity, priority, \
     priority_rank, status, assignee, reporter, title, description, filed_at, updated_at, \
     photo_count, first_photo_id, first_thumbnail, last_position";

const UPSERT: &str = "INSERT INTO complaint_list (id, hostel, wing, room, category, severity, \
     priority, priority_rank, status, assignee, reporter, title, description, filed_at, updated_at, \
     photo_count, first_photo_id, first_thumbnail, last_position) VALUES ($1, $2, $3, $4, $5, $6, \
     $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (id) DO UPDATE SET \
     hostel = excluded.hostel, wing = excluded.wing, room = excluded.room, \
     category = excluded.category, severity = excluded.severity, priority = excluded.priority, \
     priority_rank = excluded.priority_rank, status = excluded.status, \
     assignee = excluded.assignee, reporter = excluded.reporter, title = excluded.title, \
     description = excluded.description, filed_at = excluded.filed_at, \
     updated_at = excluded.updated_at, photo_count = excluded.photo_count, \
     first_photo_id = excluded.first_photo_id, first_thumbnail = excluded.first_thumbnail, \
     last_position = excluded.last_position";

crate::for_each_backend! {
    async fn load(conn: &mut Conn, id: &str) -> Result<Option<ListRow>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM complaint_list WHERE id = $1");
        sqlx::query_as::<Db, ListRow>(&sql).bind(id).fetch_optional(&mut *conn).await
    }

    async fn upsert(conn: &mut Conn, row: &ListRow) -> Result<(), sqlx::Error> {
        sqlx::query::<Db>(UPSERT)
            .bind(&row.id)
            .bind(&row.hostel)
            .bind(&row.wing)
            .bind(&row.room)
            .bind(&row.category)
            .bind(&row.severity)
            .bind(&row.priority)
            .bind(row.priority_rank)
            .bind(&row.status)
            .bind(&row.assignee)
            .bind(&row.reporter)
            .bind(&row.title)
            .bind(&row.description)
            .bind(row.filed_at)
            .bind(row.updated_at)
            .bind(row.photo_count)
            .bind(&row.first_photo_id)
            .bind(&row.first_thumbnail)
            .bind(row.last_position)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Empties the read model (inside a rebuild's transaction).
    pub(crate) async fn clear(conn: &mut Conn) -> Result<(), sqlx::Error> {
        sqlx::query::<Db>("DELETE FROM complaint_list").execute(&mut *conn).await?;
        Ok(())
    }

    /// Applies `events` (contiguous, after `checkpoint`) in order, stopping at the first one that
    /// cannot be applied; writes the rows of every event before it.
    pub(crate) async fn apply(
        conn: &mut Conn,
        checkpoint: i64,
        events: &[LogEvent],
    ) -> Result<Applied, sqlx::Error> {
        let mut rows: HashMap<String, Option<ListRow>> = HashMap::new();
        let mut touched: Vec<String> = Vec::new();
        let mut applied = Applied { through: checkpoint, failure: None };
        for event in events {
            if event.aggregate_type == AGGREGATE_TYPE {
                if !rows.contains_key(&event.aggregate_id) {
                    let row = load(conn, &event.aggregate_id).await?;
                    rows.insert(event.aggregate_id.clone(), row);
                }
                let before = rows.get(&event.aggregate_id).cloned().flatten();
                match fold(before, event) {
                    Ok(row) => {
                        if !touched.contains(&event.aggregate_id) {
                            touched.push(event.aggregate_id.clone());
                        }
                        rows.insert(event.aggregate_id.clone(), Some(row));
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
        Ok(applied)
    }
}

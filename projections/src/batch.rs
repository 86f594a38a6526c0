//! What the per-complaint read models share when they apply a batch: the complaints it concerns are
//! loaded in one query, the events are folded in memory in log order, and the rows they touched are
//! written in one statement. A batch of 500 events then costs two round trips, not two per complaint.

use std::collections::HashMap;

use crate::complaint_list::ApplyError;
use crate::Applied;
use cms_eventstore::log::LogEvent;

/// The most rows one multi-row statement writes; keeps the bound parameters (rows × columns) under
/// SQLite's limit of 32,766 and PostgreSQL's of 65,535.
const ROWS_PER_STATEMENT: usize = 500;

/// The aggregate ids of the events of `events` that `concerns` selects, each once, oldest first.
pub(crate) fn ids(events: &[LogEvent], concerns: impl Fn(&LogEvent) -> bool) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    events
        .iter()
        .filter(|event| concerns(event))
        .map(|event| event.aggregate_id.as_str())
        .filter(|id| seen.insert(*id))
        .collect()
}

/// The ids as one JSON array, the single parameter of a batch load; [`ids_sql`] expands it.
fn ids_json(ids: &[&str]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

/// A subquery yielding the ids of the JSON array bound as `$1`, for `WHERE id IN (...)`.
const fn ids_sql(postgres: bool) -> &'static str {
    if postgres {
        "SELECT jsonb_array_elements_text($1::jsonb)"
    } else {
        "SELECT value FROM json_each($1)"
    }
}

cms_eventstore::for_each_backend! {
    /// The rows of `select` (`SELECT <columns> FROM <table>`) whose `id` is one of `ids`, in one
    /// query.
    pub(crate) async fn load<R>(
        conn: &mut Conn,
        select: &str,
        ids: &[&str],
    ) -> Result<Vec<R>, sqlx::Error>
    where
        R: for<'r> sqlx::FromRow<'r, <Sql as sqlx::Database>::Row> + Send + Unpin,
    {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{select} WHERE id IN ({})", ids_sql(DIALECT.is_postgres()));
        sqlx::query_as::<Sql, R>(&sql)
            .bind(ids_json(ids))
            .fetch_all(&mut *conn)
            .await
    }

    /// Writes `rows` as `<insert> VALUES (..), (..) <tail>`, [`ROWS_PER_STATEMENT`] rows per
    /// statement; `bind` pushes one row's values in the insert's column order.
    pub(crate) async fn insert<'a, T>(
        conn: &mut Conn,
        insert: &str,
        tail: &str,
        rows: &'a [T],
        mut bind: impl FnMut(sqlx::query_builder::Separated<'_, 'a, Sql, &'static str>, &'a T),
    ) -> Result<(), sqlx::Error> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut statement = sqlx::QueryBuilder::<Sql>::new(insert);
            statement.push_values(chunk, &mut bind);
            statement.push(tail);
            statement.build().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// A batch folded over its rows: how far it got, and the rows it changed in the order first touched.
#[derive(Debug)]
pub(crate) struct Folded<Row> {
    /// The new checkpoint, and the event that stopped the batch, if one did.
    pub applied: Applied,
    /// Every row changed by an event before the stop.
    pub rows: Vec<Row>,
}

/// Folds `events` (contiguous, after `checkpoint`) in order over `loaded` (the stored rows of the
/// concerned complaints, by id). `fold` applies one event to its complaint's row and must change
/// nothing when it fails; the batch stops at the first failure, keeping what came before it.
pub(crate) fn fold<Row>(
    checkpoint: i64,
    events: &[LogEvent],
    mut loaded: HashMap<String, Row>,
    concerns: impl Fn(&LogEvent) -> bool,
    mut fold: impl FnMut(&mut Option<Row>, &LogEvent) -> Result<(), ApplyError>,
) -> Folded<Row> {
    // One slot per concerned complaint, in first-touched order.
    let mut slots: Vec<(Option<Row>, bool)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut applied = Applied {
        through: checkpoint,
        failure: None,
    };
    for event in events {
        if concerns(event) {
            let slot = *index.entry(&event.aggregate_id).or_insert_with(|| {
                slots.push((loaded.remove(&event.aggregate_id), false));
                slots.len() - 1
            });
            let (row, touched) = &mut slots[slot];
            if let Err(error) = fold(row, event) {
                applied.failure = Some(error.to_string());
                break;
            }
            *touched = true;
        }
        applied.through = event.global_position;
    }
    let rows = slots
        .into_iter()
        .filter_map(|(row, touched)| row.filter(|_| touched))
        .collect();
    Folded { applied, rows }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn event(position: i64, id: &str, concerned: bool) -> LogEvent {
        LogEvent {
            global_position: position,
            aggregate_type: if concerned { "Complaint" } else { "Hostel" }.into(),
            aggregate_id: id.into(),
            event_type: "Counted".into(),
            event_version: "1".into(),
            payload: "{}".into(),
        }
    }

    fn complaint(event: &LogEvent) -> bool {
        event.aggregate_type == cms_domain::complaint::AGGREGATE_TYPE
    }

    /// Counts events per complaint; a complaint named `bad` refuses its third event.
    fn count(row: &mut Option<(String, i64)>, event: &LogEvent) -> Result<(), ApplyError> {
        let seen = row.as_ref().map_or(0, |r| r.1);
        if event.aggregate_id == "bad" && seen == 2 {
            return Err(ApplyError::Inconsistent {
                position: event.global_position,
                event_type: event.event_type.clone(),
                id: event.aggregate_id.clone(),
                reason: "refused",
            });
        }
        *row = Some((event.aggregate_id.clone(), seen + 1));
        Ok(())
    }

    #[test]
    fn ids_are_the_concerned_aggregates_once_in_first_seen_order() {
        let events = [
            event(1, "b", true),
            event(2, "h", false),
            event(3, "a", true),
            event(4, "b", true),
        ];
        assert_eq!(ids(&events, complaint), ["b", "a"]);
        assert_eq!(ids_json(&ids(&events, complaint)), r#"["b","a"]"#);
    }

    #[test]
    fn a_batch_folds_over_the_loaded_rows_and_returns_each_touched_row_once() {
        let events = [
            event(11, "a", true),
            event(12, "h", false),
            event(13, "b", true),
            event(14, "a", true),
            event(15, "h", false),
        ];
        let loaded = HashMap::from([("a".to_owned(), ("a".to_owned(), 5))]);

        let folded = fold(10, &events, loaded, complaint, count);

        assert_eq!(folded.applied.through, 15);
        assert_eq!(folded.applied.failure, None);
        assert_eq!(
            folded.rows,
            [("a".to_owned(), 7), ("b".to_owned(), 1)],
            "a continues from its stored row, b starts empty; first-touched order"
        );
    }

    #[test]
    fn a_failing_event_stops_the_batch_and_keeps_what_came_before_it() {
        let events = [
            event(21, "bad", true),
            event(22, "a", true),
            event(23, "bad", true),
            event(24, "bad", true),
            event(25, "a", true),
        ];

        let folded = fold(20, &events, HashMap::new(), complaint, count);

        assert_eq!(folded.applied.through, 23);
        assert!(folded.applied.failure.unwrap().contains("refused"));
        assert_eq!(folded.rows, [("bad".to_owned(), 2), ("a".to_owned(), 1)]);
    }

    #[test]
    fn a_batch_that_fails_on_its_first_event_writes_nothing() {
        let loaded = HashMap::from([("bad".to_owned(), ("bad".to_owned(), 2))]);
        let folded = fold(30, &[event(31, "bad", true)], loaded, complaint, count);
        assert_eq!(folded.applied.through, 30);
        assert!(folded.applied.failure.is_some());
        assert!(folded.rows.is_empty());
    }
}

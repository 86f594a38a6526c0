//! The dashboard of one hostel, computed in SQL at request time from the dashboard model: counts by
//! status, category and priority; the oldest open complaint; mean and median time to assign and to
//! resolve over the last 7 and 30 days; resolutions per day over the last 30 days; reopen rate;
//! average rating; and per staff member their open and in-progress load and recent resolutions.
//! Everything, with the checkpoint it reflects, is read in one snapshot.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::OPEN_STATUSES;
use crate::Projection;
use cms_eventstore::Db;

/// Mean and median of durations, in seconds, over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Durations {
    /// How many complaints the window holds.
    pub count: i64,
    pub mean_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
}

/// The same durations over the last 7 and the last 30 days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Windows {
    pub last_7_days: Durations,
    pub last_30_days: Durations,
}

/// The open complaint filed first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct OldestOpen {
    pub id: String,
    pub filed_at: DateTime<Utc>,
}

/// Resolutions on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedOnDay {
    pub day: NaiveDate,
    pub resolved: i64,
}

/// One staff member's load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StaffLoad {
    pub staff: String,
    /// Assigned to them and still open (assigned, in progress, on hold or reopened).
    pub open_assigned: i64,
    /// Of those, in progress.
    pub in_progress: i64,
    /// Resolutions they recorded in the last 7 days.
    pub resolved_last_7_days: i64,
}

/// A hostel's dashboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub hostel: String,
    /// The time the windows end at.
    pub as_of: DateTime<Utc>,
    pub by_status: BTreeMap<String, i64>,
    pub by_category: BTreeMap<String, i64>,
    /// `P1`..`P4`, and `untriaged`.
    pub by_priority: BTreeMap<String, i64>,
    pub oldest_open: Option<OldestOpen>,
    /// Filing to first assignment, over complaints first assigned in the window.
    pub time_to_assign: Windows,
    /// Filing to (latest) resolution, over complaints resolved in the window.
    pub time_to_resolve: Windows,
    /// The last 30 UTC days, oldest first, today last (days without resolutions count 0).
    pub resolved_per_day: Vec<ResolvedOnDay>,
    /// Reopenings divided by resolutions (all time); `None` before the first resolution.
    pub reopen_rate: Option<f64>,
    pub average_rating: Option<f64>,
    pub ratings: i64,
    /// By staff id.
    pub staff: Vec<StaffLoad>,
    /// The dashboard projection's checkpoint, read in the same snapshot.
    pub position: i64,
}

#[derive(sqlx::FromRow)]
struct Count {
    key: Option<String>,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct Summary {
    n: i64,
    mean: Option<f64>,
}

fn open_list() -> String {
    OPEN_STATUSES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The seconds from `from` to `to`, in each backend's dialect.
fn seconds(postgres: bool, from: &str, to: &str) -> String {
    if postgres {
        format!("CAST(EXTRACT(EPOCH FROM ({to} - {from})) AS DOUBLE PRECISION)")
    } else {
        format!("((julianday({to}) - julianday({from})) * 86400.0)")
    }
}

fn day_of(postgres: bool, column: &str) -> String {
    if postgres {
        format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
    } else {
        format!("substr({column}, 1, 10)")
    }
}

cms_eventstore::for_each_backend! {
    async fn counts(conn: &mut Conn, column: &str, hostel: &str) -> Result<BTreeMap<String, i64>, sqlx::Error> {
        let sql = format!(
            "SELECT {column} AS key, COUNT(*) AS n FROM dashboard_complaints \
             WHERE hostel = $1 GROUP BY {column}"
        );
        let rows = sqlx::query_as::<Sql, Count>(&sql).bind(hostel).fetch_all(&mut *conn).await?;
        Ok(rows
            .into_iter()
            .map(|c| (c.key.unwrap_or_else(|| "untriaged".to_owned()), c.n))
            .collect())
    }

    async fn durations(
        conn: &mut Conn,
        column: &str,
        hostel: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Durations, sqlx::Error> {
        let d = seconds(DIALECT.is_postgres(), "filed_at", column);
        let filter = format!(
            "FROM dashboard_complaints WHERE hostel = $1 AND {column} IS NOT NULL \
             AND {column} >= $2 AND {column} <= $3"
        );
        let summary = sqlx::query_as::<Sql, Summary>(&format!(
            "SELECT COUNT(*) AS n, AVG({d}) AS mean {filter}"
        ))
        .bind(hostel)
        .bind(since)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        let median = if summary.n == 0 {
            None
        } else {
            let middle: Vec<f64> = sqlx::query_scalar::<Sql, f64>(&format!(
                "SELECT {d} AS d {filter} ORDER BY d LIMIT $4 OFFSET $5"
            ))
            .bind(hostel)
            .bind(since)
            .bind(now)
            .bind(2 - summary.n % 2)
            .bind((summary.n - 1) / 2)
            .fetch_all(&mut *conn)
            .await?;
            #[allow(clippy::cast_precision_loss)]
            let len = middle.len() as f64;
            (!middle.is_empty()).then(|| middle.iter().sum::<f64>() / len)
        };
        Ok(Durations { count: summary.n, mean_seconds: summary.mean, median_seconds: median })
    }

    async fn windows(
        conn: &mut Conn,
        column: &str,
        hostel: &str,
        now: DateTime<Utc>,
    ) -> Result<Windows, sqlx::Error> {
        Ok(Windows {
            last_7_days: durations(conn, column, hostel, now - Duration::days(7), now).await?,
            last_30_days: durations(conn, column, hostel, now - Duration::days(30), now).await?,
        })
    }

    pub(crate) async fn read(
        conn: &mut Conn,
        hostel: &str,
        now: DateTime<Utc>,
        position: i64,
    ) -> Result<Dashboard, sqlx::Error> {
        let open = open_list();
        let oldest_open = sqlx::query_as::<Sql, OldestOpen>(&format!(
            "SELECT id, filed_at FROM dashboard_complaints WHERE hostel = $1 \
             AND status IN ({open}) ORDER BY filed_at, id LIMIT 1"
        ))
        .bind(hostel)
        .fetch_optional(&mut *conn)
        .await?;
        let first_day = now.date_naive() - Duration::days(29);
        let day = day_of(DIALECT.is_postgres(), "resolved_at");
        let per_day: BTreeMap<String, i64> = sqlx::query_as::<Sql, Count>(&format!(
            "SELECT {day} AS key, COUNT(*) AS n FROM dashboard_resolutions \
             WHERE hostel = $1 AND resolved_at >= $2 AND resolved_at <= $3 GROUP BY {day}"
        ))
        .bind(hostel)
        .bind(first_day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .bind(now)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .filter_map(|c| c.key.map(|k| (k, c.n)))
        .collect();
        let resolved_per_day = first_day
            .iter_days()
            .take(30)
            .map(|day| ResolvedOnDay {
                day,
                resolved: per_day.get(&day.format("%Y-%m-%d").to_string()).copied().unwrap_or(0),
            })
            .collect();
        let (resolutions, reopens, ratings, average_rating): (i64, i64, i64, Option<f64>) =
            sqlx::query_as::<Sql, (i64, i64, i64, Option<f64>)>(
                "SELECT CAST(COALESCE(SUM(resolutions), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(reopens), 0) AS BIGINT), COUNT(rating), \
                 AVG(CAST(rating AS DOUBLE PRECISION)) FROM dashboard_complaints WHERE hostel = $1",
            )
            .bind(hostel)
            .fetch_one(&mut *conn)
            .await?;
        #[allow(clippy::cast_precision_loss)]
        let reopen_rate = (resolutions > 0).then(|| reopens as f64 / resolutions as f64);
        let mut staff: BTreeMap<String, StaffLoad> = BTreeMap::new();
        let loads = sqlx::query_as::<Sql, (String, i64, i64)>(
            "SELECT assignee, COUNT(*), \
             COALESCE(SUM(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END), 0) \
             FROM dashboard_complaints WHERE hostel = $1 AND assignee IS NOT NULL \
             AND status IN ('assigned', 'in_progress', 'on_hold', 'reopened') GROUP BY assignee",
        )
        .bind(hostel)
        .fetch_all(&mut *conn)
        .await?;
        for (who, open_assigned, in_progress) in loads {
            let entry = staff.entry(who.clone()).or_default();
            entry.staff = who;
            entry.open_assigned = open_assigned;
            entry.in_progress = in_progress;
        }
        let recent = sqlx::query_as::<Sql, (String, i64)>(
            "SELECT resolved_by, COUNT(*) FROM dashboard_resolutions WHERE hostel = $1 \
             AND resolved_at >= $2 AND resolved_at <= $3 GROUP BY resolved_by",
        )
        .bind(hostel)
        .bind(now - Duration::days(7))
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
        for (who, n) in recent {
            let entry = staff.entry(who.clone()).or_default();
            entry.staff = who;
            entry.resolved_last_7_days = n;
        }
        Ok(Dashboard {
            hostel: hostel.to_owned(),
            as_of: now,
            by_status: counts(conn, "status", hostel).await?,
            by_category: counts(conn, "category", hostel).await?,
            by_priority: counts(conn, "priority", hostel).await?,
            oldest_open,
            time_to_assign: windows(conn, "first_assigned_at", hostel, now).await?,
            time_to_resolve: windows(conn, "resolved_at", hostel, now).await?,
            resolved_per_day,
            reopen_rate,
            average_rating,
            ratings,
            staff: staff.into_values().collect(),
            position,
        })
    }
}

/// The dashboard of `hostel` as of `now`, with the checkpoint it reflects (one snapshot).
///
/// # Errors
/// Storage failures.
pub async fn dashboard(
    db: &Db,
    hostel: &str,
    now: DateTime<Utc>,
) -> Result<Dashboard, sqlx::Error> {
    cms_eventstore::on_backend!(
        db.reader(),
        snapshot | conn,
        backend | {
            let position = sqlx::query_scalar::<Sql, i64>(crate::checkpoint::POSITION)
                .bind(Projection::Dashboard.name())
                .fetch_optional(&mut *conn)
                .await?
                .unwrap_or(0);
            backend::read(conn, hostel, now, position).await
        }
    )
}

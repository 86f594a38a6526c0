//! Querying the complaint list: filters, three sorts, keyset pagination with an opaque cursor, and the
//! caller's visibility. The checkpoint and the page are read in one snapshot (a REPEATABLE READ
//! transaction on PostgreSQL, a read transaction on SQLite), so the position a page reports is exactly
//! the log prefix it reflects.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::COLUMNS;
use super::ListRow;
use crate::Projection;
use cms_eventstore::Db;

/// The largest page.
pub const MAX_LIMIT: i64 = 100;

/// Which complaints the caller may see at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Only those this user filed (residents).
    ReportedBy(String),
    /// Only those in these hostels (staff, wardens, services).
    Hostels(Vec<String>),
    /// All (admins, auditors).
    All,
}

/// The order of a listing; ties are broken by id so the order is total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Newest filed first (the default).
    #[default]
    FiledAt,
    /// Most recently changed first.
    UpdatedAt,
    /// P1 first, untriaged last; then by id.
    Priority,
}

/// Where the next page starts: the sort key and id of the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// The sort it belongs to.
    s: Sort,
    /// The time (filed_at / updated_at sorts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<DateTime<Utc>>,
    /// The priority rank (priority sort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<i64>,
    /// The id of the last row.
    id: String,
}

/// A cursor that was not made by this server for this sort.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor")]
pub struct InvalidCursor;

impl Cursor {
    fn after(sort: Sort, row: &ListRow) -> Cursor {
        let (t, r) = match sort {
            Sort::FiledAt => (Some(row.filed_at), None),
            Sort::UpdatedAt => (Some(row.updated_at), None),
            Sort::Priority => (None, Some(row.priority_rank)),
        };
        Cursor {
            s: sort,
            t,
            r,
            id: row.id.clone(),
        }
    }

    /// The opaque form (URL-safe base64 of the JSON).
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Parses the opaque form for `sort`.
    ///
    /// # Errors
    /// [`InvalidCursor`] when it does not decode, belongs to another sort or lacks its key.
    pub fn decode(text: &str, sort: Sort) -> Result<Cursor, InvalidCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| InvalidCursor)?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)?;
        let keyed = match sort {
            Sort::FiledAt | Sort::UpdatedAt => cursor.t.is_some() && cursor.r.is_none(),
            Sort::Priority => cursor.r.is_some() && cursor.t.is_none(),
        };
        if cursor.s != sort || !keyed || cursor.id.is_empty() {
            return Err(InvalidCursor);
        }
        Ok(cursor)
    }
}

/// A listing request; every filter is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub hostel: Option<String>,
    /// Any of these statuses (empty: any status).
    pub statuses: Vec<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    pub priority: Option<String>,
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    /// Text contained in the title or the description, case-insensitively.
    pub text: Option<String>,
    /// Filed at or after.
    pub filed_from: Option<DateTime<Utc>>,
    /// Filed before.
    pub filed_to: Option<DateTime<Utc>>,
    pub sort: Sort,
    /// 1..=[`MAX_LIMIT`].
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub items: Vec<ListRow>,
    /// Where the next page starts, when there is one.
    pub next_cursor: Option<String>,
    /// The complaint list's checkpoint, read in the same snapshot as the rows.
    pub position: i64,
}

enum Param {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
}

struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    fn push(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }
}

/// `%` and `_` in the user's text match themselves.
fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn build(query: &ListQuery, visibility: &Visibility) -> Sql {
    let mut sql = Sql {
        text: String::new(),
        params: Vec::new(),
    };
    let mut clauses: Vec<String> = Vec::new();
    match visibility {
        Visibility::ReportedBy(user) => {
            let p = sql.push(Param::Text(user.clone()));
            clauses.push(format!("reporter = {p}"));
        }
        Visibility::Hostels(hostels) if hostels.is_empty() => clauses.push("1 = 0".to_owned()),
        Visibility::Hostels(hostels) => {
            let ps: Vec<String> = hostels
                .iter()
                .map(|h| sql.push(Param::Text(h.clone())))
                .collect();
            clauses.push(format!("hostel IN ({})", ps.join(", ")));
        }
        Visibility::All => {}
    }
    let equal = [
        ("hostel", &query.hostel),
        ("category", &query.category),
        ("severity", &query.severity),
        ("priority", &query.priority),
        ("assignee", &query.assignee),
        ("reporter", &query.reporter),
    ];
    for (column, value) in equal {
        if let Some(value) = value {
            let p = sql.push(Param::Text(value.clone()));
            clauses.push(format!("{column} = {p}"));
        }
    }
    if !query.statuses.is_empty() {
        let ps: Vec<String> = query
            .statuses
            .iter()
            .map(|s| sql.push(Param::Text(s.clone())))
            .collect();
        clauses.push(format!("status IN ({})", ps.join(", ")));
    }
    if let Some(text) = &query.text {
        let p = sql.push(Param::Text(like_pattern(text)));
        clauses.push(format!(
            "(lower(title) LIKE {p} ESCAPE '\\' OR lower(description) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(from) = query.filed_from {
        let p = sql.push(Param::Time(from));
        clauses.push(format!("filed_at >= {p}"));
    }
    if let Some(to) = query.filed_to {
        let p = sql.push(Param::Time(to));
        clauses.push(format!("filed_at < {p}"));
    }
    let (key, direction) = match query.sort {
        Sort::FiledAt => ("filed_at", "DESC"),
        Sort::UpdatedAt => ("updated_at", "DESC"),
        Sort::Priority => ("priority_rank", "ASC"),
    };
    if let Some(cursor) = &query.cursor {
        let k = match (cursor.t, cursor.r) {
            (Some(t), _) => sql.push(Param::Time(t)),
            (None, r) => sql.push(Param::Int(r.unwrap_or(5))),
        };
        let id = sql.push(Param::Text(cursor.id.clone()));
        let op = if direction == "DESC" { "<" } else { ">" };
        clauses.push(format!("({key}, id) {op} ({k}, {id})"));
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let limit = sql.push(Param::Int(query.limit.clamp(1, MAX_LIMIT) + 1));
    sql.text = format!(
        "SELECT {COLUMNS} FROM complaint_list{filter} \
         ORDER BY {key} {direction}, id {direction} LIMIT {limit}"
    );
    sql
}

cms_eventstore::for_each_backend! {
    pub(crate) async fn page(
        conn: &mut Conn,
        query: &ListQuery,
        visibility: &Visibility,
    ) -> Result<Vec<ListRow>, sqlx::Error> {
        let sql = build(query, visibility);
        let mut q = sqlx::query_as::<Sql, ListRow>(&sql.text);
        for param in sql.params {
            q = match param {
                Param::Text(s) => q.bind(s),
                Param::Int(i) => q.bind(i),
                Param::Time(t) => q.bind(t),
            };
        }
        q.fetch_all(&mut *conn).await
    }
}

fn finish(mut rows: Vec<ListRow>, query: &ListQuery, position: i64) -> ListPage {
    let limit = usize::try_from(query.limit.clamp(1, MAX_LIMIT)).unwrap_or(20);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last()
            .map(|row| Cursor::after(query.sort, row).encode())
    } else {
        None
    };
    ListPage {
        items: rows,
        next_cursor,
        position,
    }
}

/// One page of complaints the caller may see, with the checkpoint it reflects.
///
/// # Errors
/// Storage failures.
pub async fn list(
    db: &Db,
    query: &ListQuery,
    visibility: &Visibility,
) -> Result<ListPage, sqlx::Error> {
    cms_eventstore::on_backend!(
        db.reader(),
        snapshot | conn,
        backend | {
            let position = sqlx::query_scalar::<Sql, i64>(crate::checkpoint::POSITION)
                .bind(Projection::ComplaintList.name())
                .fetch_optional(&mut *conn)
                .await?;
            let rows = backend::page(conn, query, visibility).await?;
            Ok(finish(rows, query, position.unwrap_or(0)))
        }
    )
}

//! `GET /v1/complaints.csv`: the complaint list as CSV, with the same filters, sort and scoping as
//! `GET /v1/complaints`. The body is streamed row by row while the keyset query is paged internally
//! (100 rows at a time), so an export never holds more than one page in memory. The
//! `Consistency-Token` is the position of the first page; later pages are read in snapshots of their
//! own, and the keyset order means no complaint comes twice.
//!
//! Cells are quoted as RFC 4180 says (fields holding a comma, quote or line break are quoted, quotes
//! doubled; lines end in CRLF), and a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
//! return gets a leading `'`, so a spreadsheet never evaluates a resident's title as a formula.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use cms_eventstore::Db;
use cms_projections::complaint_list::MAX_LIMIT;
use cms_projections::complaint_list::{self, Cursor, ListPage, ListQuery, ListRow, Visibility};
use futures::stream::{self, Stream, StreamExt};

use super::list::{prepare, ListParams};
use crate::auth::AuthUser;
use crate::commands::http::CONSISTENCY_TOKEN;
use crate::error::{ApiError, ApiQuery};
use crate::state::AppState;

/// The header row, in column order.
pub const HEADER: [&str; 16] = [
    "id",
    "hostel",
    "wing",
    "room",
    "category",
    "severity",
    "priority",
    "status",
    "assignee",
    "reporter",
    "title",
    "description",
    "filed_at",
    "updated_at",
    "photo_count",
    "first_thumbnail_url",
];

/// Appends one cell: neutralised against formula evaluation, then quoted when it must be.
fn push_cell(line: &mut String, value: &str) {
    let neutral = matches!(
        value.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    let quoted = value.contains([',', '"', '\n', '\r']);
    if quoted {
        line.push('"');
    }
    if neutral {
        line.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            line.push('"');
        }
        line.push(c);
    }
    if quoted {
        line.push('"');
    }
}

/// One CSV line (ending in CRLF) from its cells.
fn line<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_cell(&mut out, cell);
    }
    out.push_str("\r\n");
    out
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A complaint as one CSV line, in [`HEADER`] order.
fn row_line(row: &ListRow) -> String {
    let filed_at = time(row.filed_at);
    let updated_at = time(row.updated_at);
    let photo_count = row.photo_count.to_string();
    let thumbnail_url = super::list::thumbnail_url(row);
    line([
        row.id.as_str(),
        row.hostel.as_str(),
        row.wing.as_deref().unwrap_or(""),
        row.room.as_str(),
        row.category.as_str(),
        row.severity.as_str(),
        row.priority.as_deref().unwrap_or(""),
        row.status.as_str(),
        row.assignee.as_deref().unwrap_or(""),
        row.reporter.as_str(),
        row.title.as_str(),
        row.description.as_str(),
        filed_at.as_str(),
        updated_at.as_str(),
        photo_count.as_str(),
        thumbnail_url.as_deref().unwrap_or(""),
    ])
}

/// Where the walk through the pages stands.
struct Walk {
    db: Db,
    query: ListQuery,
    visibility: Visibility,
    /// The first page, read before answering (its position is the token).
    first: Option<ListPage>,
    done: bool,
}

/// The next page's rows as lines, or `None` when the listing is exhausted. A storage failure mid-way
/// ends the body with an error (the client sees a truncated transfer, never a silently short file).
async fn next_page(mut walk: Walk) -> Option<(Result<Vec<Bytes>, std::io::Error>, Walk)> {
    if walk.done {
        return None;
    }
    let page = match walk.first.take() {
        Some(page) => page,
        None => match complaint_list::list(&walk.db, &walk.query, &walk.visibility).await {
            Ok(page) => page,
            Err(error) => {
                tracing::error!(%error, "CSV export stopped on a storage failure");
                walk.done = true;
                return Some((Err(std::io::Error::other("storage failure")), walk));
            }
        },
    };
    match page
        .next_cursor
        .as_deref()
        .map(|c| Cursor::decode(c, walk.query.sort))
    {
        Some(Ok(cursor)) => walk.query.cursor = Some(cursor),
        Some(Err(_)) | None => walk.done = true,
    }
    let lines = page
        .items
        .iter()
        .map(|row| Bytes::from(row_line(row)))
        .collect();
    Some((Ok(lines), walk))
}

fn rows(walk: Walk) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let header = Bytes::from(line(HEADER));
    stream::once(async move { Ok(header) }).chain(stream::unfold(walk, next_page).flat_map(
        |page| match page {
            Ok(lines) => stream::iter(lines.into_iter().map(Ok).collect::<Vec<_>>()),
            Err(error) => stream::iter(vec![Err(error)]),
        },
    ))
}

/// Export complaints as CSV (from the complaint list projection).
#[utoipa::path(
    get, path = "/v1/complaints.csv", tag = "complaints", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "CSV with a header row, streamed", content_type = "text/csv"),
        (status = 400, description = "`invalid_query` (also for `limit` and `cursor`: an export has no pages)"),
        (status = 503, description = "`projection_behind`: the list has not reached `Min-Position`")
    )
)]
pub(super) async fn export_csv(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, Response> {
    if params.pages() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "an export has no pages: drop limit and cursor",
        )
        .into_response());
    }
    let (db, mut query, visibility) = prepare(&state, &actor, &headers, &params).await?;
    query.limit = MAX_LIMIT;
    let first = complaint_list::list(&db, &query, &visibility)
        .await
        .map_err(|e| ApiError::internal(e).into_response())?;
    let position = first.position;
    let walk = Walk {
        db,
        query,
        visibility,
        first: Some(first),
        done: false,
    };
    let mut response = Body::from_stream(rows(walk)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"complaints.csv\""),
    );
    headers.insert(CONSISTENCY_TOKEN, HeaderValue::from(position));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn plain_cells_are_left_alone_and_lines_end_in_crlf() {
        assert_eq!(line(["a", "b c", ""]), "a,b c,\r\n");
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        assert_eq!(
            line(["x,y", "say \"hi\"", "two\nlines"]),
            "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(
            line(["=1+1", "+a", "-b", "@c", "a=b"]),
            "'=1+1,'+a,'-b,'@c,a=b\r\n"
        );
        assert_eq!(
            line(["=HYPERLINK(\"x\",1)"]),
            "\"'=HYPERLINK(\"\"x\"\",1)\"\r\n"
        );
    }
}

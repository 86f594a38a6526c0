//! `GET /v1/complaints.csv`: the complaint list as CSV, with the same filters, sort and scoping as
//! `GET /v1/complaints`. The body is streamed a page at a time while the keyset query is paged
//! internally (100 rows at a time), so an export never holds more than one page in memory. The
//! `Consistency-Token` is the position of the first page; later pages are read in snapshots of their
//! own, and the keyset order means no complaint comes twice.
//!
//! The `csv` crate writes the lines: cells are quoted as RFC 4180 says (fields holding a comma, quote
//! or line break are quoted, quotes doubled; lines end in CRLF). Before that, a text cell starting
//! with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet never
//! evaluates a resident's title as a formula.

use std::borrow::Cow;

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

/// The writer every chunk of the export goes through: RFC 4180 quoting (only the fields that need
/// it), CRLF line ends.
fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

/// `value` neutralised against formula evaluation: a leading `'` when it starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return.
fn neutralise(value: &str) -> Cow<'_, [u8]> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned([b"'", value.as_bytes()].concat())
    } else {
        Cow::Borrowed(value.as_bytes())
    }
}

/// The CSV text of `records`, one line each, every cell neutralised and then quoted when it must be.
///
/// # Errors
///
/// None in practice: the writer only writes to memory. The error type is the one the body stream
/// carries.
fn csv_text<R, C>(records: impl IntoIterator<Item = R>) -> Result<Bytes, std::io::Error>
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut out = writer();
    for record in records {
        let cells: Vec<C> = record.into_iter().collect();
        out.write_record(cells.iter().map(|cell| neutralise(cell.as_ref())))?;
    }
    let text = out.into_inner().map_err(csv::IntoInnerError::into_error)?;
    Ok(Bytes::from(text))
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A complaint's cells, in [`HEADER`] order.
fn row_cells(row: &ListRow) -> [Cow<'_, str>; 16] {
    [
        Cow::Borrowed(row.id.as_str()),
        Cow::Borrowed(row.hostel.as_str()),
        Cow::Borrowed(row.wing.as_deref().unwrap_or("")),
        Cow::Borrowed(row.room.as_str()),
        Cow::Borrowed(row.category.as_str()),
        Cow::Borrowed(row.severity.as_str()),
        Cow::Borrowed(row.priority.as_deref().unwrap_or("")),
        Cow::Borrowed(row.status.as_str()),
        Cow::Borrowed(row.assignee.as_deref().unwrap_or("")),
        Cow::Borrowed(row.reporter.as_str()),
        Cow::Borrowed(row.title.as_str()),
        Cow::Borrowed(row.description.as_str()),
        Cow::Owned(time(row.filed_at)),
        Cow::Owned(time(row.updated_at)),
        Cow::Owned(row.photo_count.to_string()),
        Cow::Owned(super::list::thumbnail_url(row).unwrap_or_default()),
    ]
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

/// The next page's rows as CSV lines, or `None` when the listing is exhausted. A storage failure
/// mid-way ends the body with an error (the client sees a truncated transfer, never a silently short
/// file).
async fn next_page(mut walk: Walk) -> Option<(Result<Bytes, std::io::Error>, Walk)> {
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
    Some((csv_text(page.items.iter().map(row_cells)), walk))
}

/// The body: the header line, then one chunk per page.
fn rows(walk: Walk) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let header = csv_text([HEADER]);
    stream::once(async move { header }).chain(stream::unfold(walk, next_page))
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
#[allow(clippy::unwrap_used)]
mod tests {
    fn line<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
        String::from_utf8(super::csv_text([cells]).unwrap().to_vec()).unwrap()
    }

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
        // A leading tab stays unquoted; a leading carriage return is quoted, the `'` inside the quotes.
        assert_eq!(
            line(["\tx", "\rx", "'=already"]),
            "'\tx,\"'\rx\",'=already\r\n"
        );
    }

    #[test]
    fn a_page_is_one_line_per_record() {
        let text = super::csv_text([["a", ""], ["", "b"], ["", ""]]).unwrap();
        assert_eq!(&text[..], b"a,\r\n,b\r\n,\r\n");
    }
}

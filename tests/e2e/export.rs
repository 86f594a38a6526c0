//! `GET /v1/complaints.csv` on PostgreSQL and SQLite: the export holds exactly what the JSON list
//! holds for the same filters (walked page by page), honours scoping, round-trips commas, quotes and
//! line breaks, and neutralises cells a spreadsheet would evaluate as formulas. The CSV is parsed here
//! by a reader of the test's own (RFC 4180), sharing no code with the server.

use cms_domain::actor::Role;
use cms_tests::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::read_side::{act, caught_up, file_as, seed_south, SOUTH};
use crate::support::{file_body, TestApp, HOSTEL};

on_both_backends!(
    flavor = "multi_thread", worker_threads = 2;
    the_csv_export_holds_what_the_list_holds_and_is_scoped,
    tricky_cells_round_trip_and_formulas_are_neutralised,
);

const COLUMNS: [&str; 16] = [
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

/// Parses RFC 4180 CSV (CRLF records, quoted fields with doubled quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c @ ('"' | '\r' | '\n')) => {
                panic!("unexpected {c:?} outside quotes after {field:?}")
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && record.is_empty(), "unterminated record");
    records
}

struct Csv {
    position: i64,
    rows: Vec<Vec<String>>,
}

async fn export(app: &TestApp, query: &str, token: &str) -> Csv {
    let response = app
        .client
        .get(format!("{}/v1/complaints.csv?{query}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let position = headers["consistency-token"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut rows = parse_csv(&response.text().await.unwrap());
    assert_eq!(rows.remove(0), COLUMNS, "header row");
    Csv { position, rows }
}

/// Every item of the JSON list for `query`, walking the cursor; and the first page's position.
async fn walk(app: &TestApp, query: &str, token: &str) -> (i64, Vec<Value>) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let mut position = None;
    loop {
        let mut path = format!("/v1/complaints?limit=7&{query}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = app.get(&path, token).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {:?}", page.body);
        position.get_or_insert(page.position());
        items.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (position.unwrap(), items),
        }
    }
}

/// A JSON list item as the export should write it.
fn expected_cells(item: &Value) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|column| {
            let text = match &item[*column] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{text}")
            } else {
                text
            }
        })
        .collect()
}

/// Compares cells, reading the two time columns as instants (the formats may differ in precision).
fn assert_same(csv: &[Vec<String>], items: &[Value], what: &str) {
    assert_eq!(csv.len(), items.len(), "{what}: row count");
    for (row, item) in csv.iter().zip(items) {
        let expected = expected_cells(item);
        for (i, column) in COLUMNS.iter().enumerate() {
            if column.ends_with("_at") {
                let a = chrono::DateTime::parse_from_rfc3339(&row[i]).unwrap();
                let b = chrono::DateTime::parse_from_rfc3339(&expected[i]).unwrap();
                assert_eq!(a, b, "{what}: {column} of {}", row[0]);
            } else {
                assert_eq!(row[i], expected[i], "{what}: {column} of {}", row[0]);
            }
        }
    }
}

async fn the_csv_export_holds_what_the_list_holds_and_is_scoped(backend: Backend) {
    // Arrange: more complaints than one internal page (100), in two hostels, some triaged.
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    seed_south(&app).await;
    let warden = app.token(Role::Warden, "warden-w", &[HOSTEL]);
    for n in 0..130 {
        let hostel = if n % 5 == 0 { SOUTH } else { HOSTEL };
        let mut body = file_body();
        body["title"] = json!(format!("Problem {n}"));
        body["category"] = json!(if n % 3 == 0 { "electrical" } else { "plumbing" });
        let id = file_as(&app, &format!("res-{}", n % 4), hostel, body).await;
        if hostel == HOSTEL && n % 2 == 0 {
            let priority = ["P1", "P2", "P3", "P4"][n % 4];
            assert!(act(
                &app,
                &warden,
                &id,
                "triage",
                json!({ "priority": priority })
            )
            .await
            .is_some());
        }
    }
    caught_up(&app).await;
    let admin = app.admin();

    // Act + Assert: for several filters and sorts, the export equals the walked list.
    for query in [
        "",
        "sort=priority",
        "sort=updated_at&category=electrical",
        "status=triaged&hostel=north",
        "q=problem%201",
    ] {
        let (position, items) = walk(&app, query, &admin).await;
        let csv = export(&app, query, &admin).await;
        assert_eq!(csv.position, position, "{query}");
        assert_same(&csv.rows, &items, query);
    }
    assert_eq!(export(&app, "", &admin).await.rows.len(), 130);

    // Scoping: a resident gets only their own, a warden only their hostel.
    let resident = app.token(Role::Resident, "res-1", &[HOSTEL]);
    let mine = export(&app, "", &resident).await;
    assert!(!mine.rows.is_empty());
    assert!(mine.rows.iter().all(|r| r[9] == "res-1"));
    assert_same(&mine.rows, &walk(&app, "", &resident).await.1, "resident");
    let north = export(&app, "", &warden).await;
    assert_eq!(north.rows.len(), 104);
    assert!(north.rows.iter().all(|r| r[1] == HOSTEL));
    let outsider = app.token(Role::Warden, "warden-x", &["east"]);
    assert!(export(&app, "", &outsider).await.rows.is_empty());

    // An export has no pages, and the list's validation applies.
    for query in ["limit=5", "cursor=abc", "status=lost", "colour=red"] {
        let answer = app
            .get(&format!("/v1/complaints.csv?{query}"), &admin)
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(answer.code(), "invalid_query", "{query}");
    }
    let anonymous = app.get("/v1/complaints.csv", "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn tricky_cells_round_trip_and_formulas_are_neutralised(backend: Backend) {
    // Arrange: titles and descriptions with separators, quotes, line breaks and formulas.
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    let cases = [
        (
            "Tap, sink and \"shower\"",
            "Line one\nline two, with \"quotes\"\r\nand three",
        ),
        ("=HYPERLINK(\"http://evil\",\"x\")", "+1 call now"),
        ("-2 degrees in the room", "@SUM(A1:A9)"),
        ("Plain title", "plain description"),
    ];
    for (title, description) in cases {
        let mut body = file_body();
        body["title"] = json!(title);
        body["description"] = json!(description);
        file_as(&app, "res-a", HOSTEL, body).await;
    }
    caught_up(&app).await;
    let admin = app.admin();

    // Act
    let csv = export(&app, "sort=filed_at", &admin).await;
    let (_, items) = walk(&app, "sort=filed_at", &admin).await;

    // Assert: every cell reads back; formula cells start with a quote mark and nothing else changed.
    assert_same(&csv.rows, &items, "tricky");
    let by_title = |title: &str| {
        csv.rows
            .iter()
            .find(|r| r[10].trim_start_matches('\'') == title)
            .unwrap()
            .clone()
    };
    let first = by_title("Tap, sink and \"shower\"");
    assert_eq!(
        first[11],
        items
            .iter()
            .find(|i| i["title"] == json!(cases[0].0))
            .unwrap()["description"]
            .as_str()
            .unwrap()
    );
    let formula = by_title("=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(formula[10], "'=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(formula[11], "'+1 call now");
    let minus = by_title("-2 degrees in the room");
    assert_eq!(minus[10], "'-2 degrees in the room");
    assert_eq!(minus[11], "'@SUM(A1:A9)");
    assert_eq!(by_title("Plain title")[10], "Plain title");
    for row in &csv.rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell:?}");
        }
    }
}

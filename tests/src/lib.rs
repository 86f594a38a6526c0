//! Test harness for the CMS end-to-end tests (crate `cms_tests`).
//!
//! Every test gets its own database:
//!
//! * [`TestDatabase::postgres`] creates a fresh `cms_test_<uuid>` database on the PostgreSQL server named by
//!   `CMS_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and drops it again
//!   when the value is dropped. A missing server is a test failure, never a skip: run `scripts/test.sh`,
//!   which provides one.
//! * [`TestDatabase::sqlite`] creates `cms.db` in a temp dir that lives as long as the value.
//! * [`TestDatabase::new`] takes a [`Backend`], so one test body can run on both stores. The body is an
//!   `async fn` of the backend; in the end-to-end tests, `on_both_backends!(a_rule)` (one macro, in
//!   `e2e/backends.rs`) turns it into two tests, `a_rule::on_postgres` and `a_rule::on_sqlite`:
//!
//! ```no_run
//! use cms_tests::{Backend, TestDatabase};
//!
//! async fn a_fresh_database_answers(backend: Backend) {
//!     let db = TestDatabase::new(backend).await;
//!     // hand db.url() to the code under test ...
//!     # let _ = db.url();
//! }
//! ```
//!
//! Photo tests also need a real S3-compatible server: [`s3::S3Server`] starts s3s-fs.
//!
//! Pools built with [`pg_pool_options`] / [`sqlite_pool_options`] (or [`TestDatabase::pg_pool`] /
//! [`TestDatabase::sqlite_pool`]) hold at most [`MAX_POOL_CONNECTIONS`] connections, because many tests run
//! at once against one server (PostgreSQL's default `max_connections` is 100).

pub mod nats;
pub mod replica;
pub mod s3;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};

/// Environment variable holding the URL of the PostgreSQL server tests create their databases on.
pub const DATABASE_URL_ENV: &str = "CMS_TEST_DATABASE_URL";
/// Server used when [`DATABASE_URL_ENV`] is unset.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Set to `1` to keep test databases after the test (for debugging); their names are printed.
pub const KEEP_DATABASES_ENV: &str = "CMS_TEST_KEEP_DB";
/// Upper bound for connections per test pool.
pub const MAX_POOL_CONNECTIONS: u32 = 5;
/// Prefix of every database the harness creates.
pub const DATABASE_PREFIX: &str = "cms_test_";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The storage backends the end-to-end tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A database that exists for the lifetime of this value.
pub struct TestDatabase {
    url: String,
    kind: Kind,
}

enum Kind {
    Postgres {
        /// URL of the server's maintenance database, used to create and drop.
        admin_url: String,
        name: String,
    },
    Sqlite {
        path: PathBuf,
        /// Removed (with the database file) on drop.
        _dir: tempfile::TempDir,
    },
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("backend", &self.backend())
            .field("url", &redact(&self.url))
            .finish()
    }
}

impl TestDatabase {
    /// A fresh database on `backend`.
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Postgres => TestDatabase::postgres().await,
            Backend::Sqlite => TestDatabase::sqlite(),
        }
    }

    /// A fresh, empty PostgreSQL database `cms_test_<uuid>`, dropped (with `FORCE`) when this value is.
    ///
    /// # Panics
    /// When the server is unreachable or refuses `CREATE DATABASE`: the test fails, it is never skipped.
    pub async fn postgres() -> TestDatabase {
        let admin_url = server_url();
        let name = format!("{DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());

        let mut conn = admin_connect(&admin_url).await.unwrap_or_else(|err| {
            panic!(
                "cannot connect to PostgreSQL at {} ({err}).\n\
                 The end-to-end tests need a real PostgreSQL server. Run them with `scripts/test.sh` (it uses \
                 127.0.0.1:5432 or starts a private server), or point {DATABASE_URL_ENV} at a server whose \
                 user may CREATE DATABASE.",
                redact(&admin_url)
            )
        });

        // CREATE DATABASE can fail transiently while another session holds a lock on the template.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match conn
                .execute(format!("CREATE DATABASE {}", quote_ident(&name)).as_str())
                .await
            {
                Ok(_) => break,
                Err(err) if attempt < 5 => {
                    eprintln!("cms_tests: CREATE DATABASE {name} failed ({err}); retrying");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(err) => panic!(
                    "CREATE DATABASE {name} on {} failed: {err}",
                    redact(&admin_url)
                ),
            }
        }
        let _ = conn.close().await;

        TestDatabase {
            url: with_database(&admin_url, &name),
            kind: Kind::Postgres { admin_url, name },
        }
    }

    /// A fresh SQLite database file `cms.db` in a new temp dir; the URL is `sqlite://<path>?mode=rwc`.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::Builder::new()
            .prefix("cms-test-sqlite-")
            .tempdir()
            .expect("create temp dir for the SQLite test database");
        let path = dir.path().join("cms.db");
        TestDatabase {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            kind: Kind::Sqlite { path, _dir: dir },
        }
    }

    /// Connection URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        match self.kind {
            Kind::Postgres { .. } => Backend::Postgres,
            Kind::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// The PostgreSQL database name (`cms_test_...`), or `None` for SQLite.
    pub fn database_name(&self) -> Option<&str> {
        match &self.kind {
            Kind::Postgres { name, .. } => Some(name),
            Kind::Sqlite { .. } => None,
        }
    }

    /// The SQLite file, or `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Postgres { .. } => None,
            Kind::Sqlite { path, .. } => Some(path),
        }
    }

    /// A small pool ([`MAX_POOL_CONNECTIONS`]) on this PostgreSQL database.
    ///
    /// # Panics
    /// On a SQLite database, or when connecting fails.
    pub async fn pg_pool(&self) -> PgPool {
        assert_eq!(
            self.backend(),
            Backend::Postgres,
            "pg_pool() on a {} test database",
            self.backend()
        );
        pg_pool_options()
            .connect(&self.url)
            .await
            .unwrap_or_else(|err| panic!("connect to {}: {err}", redact(&self.url)))
    }

    /// A small pool ([`MAX_POOL_CONNECTIONS`]) on this SQLite database (WAL, 10 s busy timeout).
    ///
    /// # Panics
    /// On a PostgreSQL database, or when opening fails.
    pub async fn sqlite_pool(&self) -> SqlitePool {
        assert_eq!(
            self.backend(),
            Backend::Sqlite,
            "sqlite_pool() on a {} test database",
            self.backend()
        );
        let options = SqliteConnectOptions::from_str(&self.url)
            .unwrap_or_else(|err| panic!("bad SQLite URL {}: {err}", self.url))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        sqlite_pool_options()
            .connect_with(options)
            .await
            .unwrap_or_else(|err| panic!("open {}: {err}", self.url))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Kind::Postgres { admin_url, name } = &self.kind else {
            return; // the TempDir removes the SQLite file
        };
        if std::env::var(KEEP_DATABASES_ENV).is_ok_and(|v| v == "1") {
            eprintln!("cms_tests: keeping test database {name} ({KEEP_DATABASES_ENV}=1)");
            return;
        }
        // Drop may run inside a tokio runtime (where block_on is not allowed) or during a panic; use a
        // separate thread with its own runtime and wait for it, so the database is gone when the test ends.
        let (admin_url, name) = (admin_url.clone(), name.clone());
        let worker = std::thread::Builder::new()
            .name(format!("drop-{name}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(err) => {
                        eprintln!("cms_tests: cannot drop test database {name}: no runtime: {err}");
                        return;
                    }
                };
                let result = runtime.block_on(async {
                    let mut conn = admin_connect(&admin_url).await?;
                    conn.execute(
                        format!(
                            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                            quote_ident(&name)
                        )
                        .as_str(),
                    )
                    .await?;
                    conn.close().await
                });
                if let Err(err) = result {
                    eprintln!("cms_tests: could not drop test database {name}: {err}");
                }
            });
        if let Ok(handle) = worker {
            let _ = handle.join();
        }
    }
}

/// URL of the PostgreSQL server used for test databases: `CMS_TEST_DATABASE_URL` or [`DEFAULT_POSTGRES_URL`].
pub fn server_url() -> String {
    match std::env::var(DATABASE_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => DEFAULT_POSTGRES_URL.to_owned(),
    }
}

/// Pool options for PostgreSQL tests: at most [`MAX_POOL_CONNECTIONS`] connections.
pub fn pg_pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(MAX_POOL_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
}

/// Pool options for SQLite tests: at most [`MAX_POOL_CONNECTIONS`] connections.
pub fn sqlite_pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(MAX_POOL_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
}

async fn admin_connect(url: &str) -> Result<PgConnection, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.disable_statement_logging();
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(result) => result,
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no connection within {CONNECT_TIMEOUT:?}"),
        ))),
    }
}

fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// `url` with its database (the path) replaced by `database`; query parameters are kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// `url` with any password replaced by `***`, for messages.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &rest[..colon],
                &rest[at..]
            ),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// A port on 127.0.0.1 that was free a moment ago (the servers the tests start bind it).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_the_path_and_keeps_the_query() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "cms_test_x"),
            "postgres://postgres@127.0.0.1:5432/cms_test_x"
        );
        assert_eq!(
            with_database(
                "postgres://u:p@h:1/db?sslmode=disable&application_name=a/b",
                "t"
            ),
            "postgres://u:p@h:1/t?sslmode=disable&application_name=a/b"
        );
        assert_eq!(with_database("postgres://h:1", "t"), "postgres://h:1/t");
        assert_eq!(
            with_database("postgresql://h?host=/tmp", "t"),
            "postgresql://h/t?host=/tmp"
        );
    }

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(
            redact("postgres://u:secret@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(redact("postgres://u@h:5/db"), "postgres://u@h:5/db");
        assert_eq!(redact("postgres://h:5/db?x=a@b"), "postgres://h:5/db?x=a@b");
    }

    #[test]
    fn quote_ident_escapes_quotes() {
        assert_eq!(quote_ident("cms_test_1"), "\"cms_test_1\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn sqlite_database_lives_in_its_temp_dir() {
        let db = TestDatabase::sqlite();
        let path = db.sqlite_path().expect("sqlite path").to_path_buf();
        let dir = path.parent().expect("parent").to_path_buf();
        assert!(dir.is_dir());
        assert_eq!(db.url(), format!("sqlite://{}?mode=rwc", path.display()));
        assert_eq!(db.backend(), Backend::Sqlite);
        drop(db);
        assert!(
            !dir.exists(),
            "temp dir must be removed with the TestDatabase"
        );
    }
}

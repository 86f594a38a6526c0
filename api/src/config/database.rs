//! The database settings and the [`DatabaseTarget`] they resolve to: PostgreSQL (a primary and
//! optional read replicas) or a SQLite file, by default `<data_dir>/cms.db`.

use anyhow::bail;

use super::types::{non_empty_secret, List};
use super::DataDir;
use crate::secret::{redact_url, Secret};

/// Where events and read models live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A SQLite file (the embedded default). `url` is an sqlx SQLite URL.
    Sqlite {
        /// For example `sqlite://./data/cms.db?mode=rwc`.
        url: String,
        /// Pool size.
        max_connections: u32,
    },
    /// PostgreSQL: a primary for writes and optional replicas for reads.
    Postgres {
        /// The primary.
        write_url: Secret<String>,
        /// Hot standbys; empty means read from the primary.
        read_urls: Vec<Secret<String>>,
        /// Pool size, per pool.
        max_connections: u32,
    },
}

impl DatabaseTarget {
    /// A one-line description safe to log: passwords are replaced by `***`.
    pub fn describe(&self) -> String {
        match self {
            DatabaseTarget::Sqlite { url, .. } => url.clone(),
            DatabaseTarget::Postgres {
                write_url,
                read_urls,
                ..
            } => {
                let mut text = redact_url(write_url.expose());
                if !read_urls.is_empty() {
                    let reads: Vec<String> =
                        read_urls.iter().map(|u| redact_url(u.expose())).collect();
                    text.push_str(&format!(" (reads: {})", reads.join(", ")));
                }
                text
            }
        }
    }
}

/// The database URLs and pool size.
#[derive(Clone, Debug, clap::Args)]
pub struct DatabaseSettings {
    /// Database URL: `postgres://...` or `sqlite:...`. Absent: the SQLite file `<data_dir>/cms.db`.
    #[arg(long, global = true, env = "CMS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret<String>>,

    /// Comma-separated PostgreSQL replica URLs for reads (PostgreSQL only).
    #[arg(
        long,
        global = true,
        env = "CMS_DATABASE_READ_URLS",
        default_value = "",
        hide_default_value = true,
        hide_env_values = true
    )]
    pub database_read_urls: List<Secret<String>>,

    /// Maximum connections per database pool.
    #[arg(long, global = true, env = "CMS_DATABASE_MAX_CONNECTIONS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_max_connections: u32,
}

impl DatabaseSettings {
    /// `CMS_DATABASE_URL`, if set and not empty.
    pub fn url(&self) -> Option<&str> {
        non_empty_secret(&self.database_url)
    }

    /// The database to use: `CMS_DATABASE_URL`, else the SQLite file in `data_dir`.
    ///
    /// # Errors
    /// When the URL is neither `postgres://` nor `sqlite:`, is an in-memory SQLite URL (a pool would
    /// give every connection its own empty database), or read URLs are set for SQLite or are not
    /// PostgreSQL URLs.
    pub fn target(&self, data_dir: &DataDir) -> anyhow::Result<DatabaseTarget> {
        let max_connections = self.database_max_connections;
        let Some(url) = self.url() else {
            if !self.database_read_urls.is_empty() {
                bail!("CMS_DATABASE_READ_URLS needs a PostgreSQL CMS_DATABASE_URL");
            }
            let file = data_dir.sqlite_file();
            return Ok(DatabaseTarget::Sqlite {
                url: format!("sqlite://{}?mode=rwc", file.display()),
                max_connections,
            });
        };
        let url = url.trim();
        if is_postgres(url) {
            if let Some(bad) = self
                .database_read_urls
                .items()
                .iter()
                .find(|u| !is_postgres(u.expose()))
            {
                bail!(
                    "CMS_DATABASE_READ_URLS entry `{}` is not a postgres:// URL",
                    redact_url(bad.expose())
                );
            }
            return Ok(DatabaseTarget::Postgres {
                write_url: Secret::new(url.to_owned()),
                read_urls: self.database_read_urls.0.clone(),
                max_connections,
            });
        }
        if url.starts_with("sqlite:") {
            if !self.database_read_urls.is_empty() {
                bail!("CMS_DATABASE_READ_URLS needs a PostgreSQL CMS_DATABASE_URL");
            }
            if url.contains(":memory:") || url.contains("mode=memory") {
                bail!("in-memory SQLite gives every pooled connection its own empty database; use a file (for example a temporary one)");
            }
            return Ok(DatabaseTarget::Sqlite {
                url: url.to_owned(),
                max_connections,
            });
        }
        bail!(
            "CMS_DATABASE_URL `{}` is neither a postgres:// nor a sqlite: URL",
            redact_url(url)
        )
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::test_support::parse;
    use crate::config::Settings;

    fn target(s: &Settings) -> anyhow::Result<DatabaseTarget> {
        s.database.target(&s.data_dir)
    }

    #[test]
    fn without_a_url_the_database_is_a_sqlite_file_in_the_data_dir() {
        let target = target(&parse(&["--data-dir", "/var/lib/cms"])).unwrap();
        assert_eq!(
            target,
            DatabaseTarget::Sqlite {
                url: "sqlite:///var/lib/cms/cms.db?mode=rwc".to_owned(),
                max_connections: 10
            }
        );
    }

    #[test]
    fn a_postgres_url_with_replicas_is_a_postgres_target() {
        let s = parse(&[
            "--database-url",
            "postgres://cms:pw@db/cms",
            "--database-read-urls",
            "postgres://cms:pw@r1/cms,postgresql://cms:pw@r2/cms",
        ]);
        let DatabaseTarget::Postgres {
            write_url,
            read_urls,
            ..
        } = target(&s).unwrap()
        else {
            panic!("expected postgres");
        };
        assert_eq!(write_url.expose(), "postgres://cms:pw@db/cms");
        assert_eq!(read_urls.len(), 2);
        assert_eq!(
            target(&s).unwrap().describe(),
            "postgres://cms:***@db/cms (reads: postgres://cms:***@r1/cms, postgresql://cms:***@r2/cms)"
        );
    }

    #[test]
    fn unsupported_database_urls_are_refused() {
        for args in [
            &["--database-url", "mysql://x/y"][..],
            &["--database-url", "sqlite::memory:"],
            &[
                "--database-url",
                "sqlite://x.db",
                "--database-read-urls",
                "postgres://r/x",
            ],
            &["--database-read-urls", "postgres://r/x"],
            &[
                "--database-url",
                "postgres://p/x",
                "--database-read-urls",
                "sqlite://r.db",
            ],
        ] {
            assert!(target(&parse(args)).is_err(), "{args:?}");
        }
        assert!(target(&parse(&["--database-url", "sqlite://x.db"])).is_ok());
    }
}

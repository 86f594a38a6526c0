//! Every setting of the `cms` binary: [`Settings`], a clap `Args` struct made of one flattened group
//! per concern, each in its own file with its validation and what it derives (`http`, `database`,
//! `nats`, `ws`, `s3`, `telemetry`, `jwt`, `audit`, `photos`; the shared value types are in `types`).
//! Every field reads a `CMS_*` environment variable or a flag, accepted before or after any
//! subcommand; the doc comments are the `--help` text, and `docs/configuration.md` lists them all.
//! With nothing configured, the service runs on a SQLite file and an HS256 secret created once in the
//! data directory, so `cms serve` and `cms token` agree out of the box. Secrets print as `***` in
//! `Debug` and `Display`.

use clap::builder::{PathBufValueParser, TypedValueParser};

mod audit;
mod data_dir;
mod database;
mod http;
mod jwt;
mod nats;
mod photos;
mod s3;
mod telemetry;
#[cfg(test)]
mod test_support;
mod types;
mod ws;

pub use audit::AuditSettings;
pub use data_dir::DataDir;
pub use database::{DatabaseSettings, DatabaseTarget};
pub use http::HttpSettings;
pub use jwt::{JwtSettings, PublicKeyPath, MIN_SECRET_BYTES};
pub use nats::NatsSettings;
pub use photos::PhotoSettings;
pub use s3::S3Settings;
pub use telemetry::{LogFormat, TelemetrySettings};
pub use types::List;
pub use ws::WsSettings;

/// Global settings, accepted before or after any subcommand.
///
/// Container env files often set a variable to the empty string to mean "unset". Read the optional
/// text settings (URLs, names, secrets, paths) through the groups' accessor methods, which treat an
/// empty value as unset; typed settings (addresses, numbers) refuse an empty value.
///
/// A group's field names stay the flag names (`settings.jwt.jwt_issuer` is `--jwt-issuer`), because
/// clap derives both the flag and its `--help` value name from them.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Settings (flag or CMS_* environment variable)")]
pub struct Settings {
    /// The HTTP API: address, body limit, shutdown grace.
    #[command(flatten)]
    pub http: HttpSettings,

    /// Directory for the embedded defaults: the SQLite file, the development JWT secret, local photos.
    #[arg(long, global = true, env = "CMS_DATA_DIR", default_value = "./data",
          value_parser = PathBufValueParser::new().map(DataDir::from))]
    pub data_dir: DataDir,

    /// The event store and read models.
    #[command(flatten)]
    pub database: DatabaseSettings,

    /// JetStream and the relay.
    #[command(flatten)]
    pub nats: NatsSettings,

    /// The WebSocket gateway.
    #[command(flatten)]
    pub ws: WsSettings,

    /// The object store.
    #[command(flatten)]
    pub s3: S3Settings,

    /// Logs and metrics.
    #[command(flatten)]
    pub telemetry: TelemetrySettings,

    /// Bearer tokens.
    #[command(flatten)]
    pub jwt: JwtSettings,

    /// Audit checkpoints.
    #[command(flatten)]
    pub audit: AuditSettings,

    /// The thumbnail worker.
    #[command(flatten)]
    pub photos: PhotoSettings,
}

impl Settings {
    /// Parses settings from command-line style arguments (the first is the program name) and the
    /// environment, as a subcommand would.
    ///
    /// # Errors
    /// clap's error for an invalid or out-of-range value.
    pub fn try_parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            settings: Settings,
        }
        <Only as clap::Parser>::try_parse_from(args).map(|only| only.settings)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::test_support::{in_dir, parse, spec};
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn defaults_match_the_documentation() {
        let s = parse(&[]);
        assert_eq!(s.http.http_addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.data_dir.path(), Path::new("./data"));
        assert_eq!(s.database.database_max_connections, 10);
        assert_eq!(
            (s.jwt.jwt_issuer.as_str(), s.jwt.jwt_audience.as_str()),
            ("cms", "cms-api")
        );
        assert_eq!(s.jwt.leeway(), Duration::from_secs(30));
        assert_eq!(s.http.body_limit_bytes, 65536);
        assert_eq!(s.telemetry.log_format, LogFormat::Text);
        assert_eq!(s.s3.s3_region, "us-east-1");
    }

    #[test]
    fn settings_are_accepted_before_and_after_a_subcommand() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            settings: Settings,
            #[command(subcommand)]
            command: Option<Sub>,
        }
        #[derive(clap::Subcommand)]
        enum Sub {
            Serve,
        }
        let parse = |args: &[&str]| <Cli as clap::Parser>::try_parse_from(args).unwrap();
        for args in [
            &["cms", "serve", "--http-addr", "0.0.0.0:9000"][..],
            &["cms", "--http-addr", "0.0.0.0:9000", "serve"],
        ] {
            let cli = parse(args);
            assert!(matches!(cli.command, Some(Sub::Serve)));
            assert_eq!(
                cli.settings.http.http_addr,
                "0.0.0.0:9000".parse().unwrap(),
                "{args:?}"
            );
            assert_eq!(cli.settings.jwt.jwt_issuer, "cms");
        }
        assert_eq!(
            parse(&["cms"]).settings.http.http_addr,
            "127.0.0.1:8080".parse().unwrap()
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let dir = tempfile::tempdir().unwrap();
        let s = in_dir(
            dir.path(),
            &[
                "--database-url=",
                "--database-read-urls=",
                "--nats-url=",
                "--s3-bucket=",
                "--jwt-secret=",
                "--jwt-public-keys=",
                "--jwt-jwks-file=",
                "--jwt-private-key=",
                "--jwt-kid=",
            ],
        );
        assert!(matches!(
            s.database.target(&s.data_dir).unwrap(),
            DatabaseTarget::Sqlite { .. }
        ));
        assert_eq!(
            (s.nats.url(), s.s3.bucket(), s.jwt.kid()),
            (None, None, None)
        );
        let token = s
            .jwt
            .token_minter(&s.data_dir)
            .unwrap()
            .mint(&spec())
            .unwrap();
        assert!(s.jwt.verifier(&s.data_dir).unwrap().verify(&token).is_ok());
        assert!(s.data_dir.dev_secret_file().exists());
        let list: List<Secret<String>> = " a , ,b,".parse().unwrap();
        assert_eq!(list.items().len(), 2);
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let s = parse(&[
            "--jwt-secret",
            "super-secret-value-that-is-long-enough",
            "--database-url",
            "postgres://cms:hunter2@db/cms",
            "--nats-url",
            "nats://u:natspw@nats:4222",
            "--s3-secret-access-key",
            "s3-very-secret",
        ]);
        let text = format!("{s:?}");
        for secret in ["super-secret-value", "hunter2", "natspw", "s3-very-secret"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(format!("{}", Secret::new("x")), "***");
        let s3 = parse(&[
            "--s3-endpoint",
            "http://127.0.0.1:9000",
            "--s3-bucket",
            "photos",
            "--s3-access-key-id",
            "AKIDSECRETISH",
            "--s3-secret-access-key",
            "s3-very-secret",
        ]);
        let config = s3.s3.config().unwrap().unwrap();
        let store = s3.s3.object_store(&s3.data_dir).unwrap();
        for text in [format!("{config:?}"), format!("{store:?}")] {
            assert!(!text.contains("s3-very-secret"), "{text}");
            assert!(!text.contains("AKIDSECRETISH"), "{text}");
        }
        assert_eq!(format!("{:?}", Secret::new("x")), "***");
    }
}

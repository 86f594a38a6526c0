//! Every setting of the `cms` binary, in one place: a clap `Args` struct whose fields read `CMS_*`
//! environment variables or flags (the doc comments are the `--help` text, and
//! `docs/configuration.md` lists them all). It also turns the raw settings into what the service needs:
//! the database target, the JWT verifier and the token minter. With nothing configured, the service
//! runs on a SQLite file and an HS256 secret created once in the data directory, so `cms serve` and
//! `cms token` agree out of the box. Secrets print as `***` in `Debug` and `Display`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use cms_domain::actor::Role;

use crate::auth::{
    load_or_create_dev_secret, JwtVerifier, PublicKeySet, SigningAlgorithm, TokenMinter, TokenSpec,
    VerifyingKeys, DEV_SECRET_FILE,
};

/// A value that must never be printed: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself; keep the borrow short and never log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: FromStr> FromStr for Secret<T> {
    type Err = T::Err;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

/// One entry of `CMS_JWT_PUBLIC_KEYS`: `path` or `kid=path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyPath {
    /// The explicit key id, if given.
    pub kid: Option<String>,
    /// The PEM file.
    pub path: PathBuf,
}

impl PublicKeyPath {
    /// The key id: the explicit one, else the file name without extension (`keys/2025.pem` -> `2025`).
    pub fn kid(&self) -> String {
        match &self.kid {
            Some(kid) => kid.clone(),
            None => self
                .path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

impl FromStr for PublicKeyPath {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (kid, path) = match s.split_once('=') {
            Some((kid, path)) => (Some(kid.trim().to_owned()), path.trim()),
            None => (None, s),
        };
        if path.is_empty() || kid.as_deref() == Some("") {
            return Err(format!("expected `path` or `kid=path`, got `{s}`"));
        }
        Ok(Self {
            kid,
            path: PathBuf::from(path),
        })
    }
}

/// A comma-separated list. Empty items are skipped, so an empty variable is an empty list.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct List<T>(pub Vec<T>);

impl<T> List<T> {
    /// The items.
    pub fn items(&self) -> &[T] {
        &self.0
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: FromStr> FromStr for List<T>
where
    T::Err: fmt::Display,
{
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| item.parse().map_err(|e: T::Err| e.to_string()))
            .collect::<Result<Vec<T>, String>>()
            .map(List)
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

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

/// Global settings, accepted before or after any subcommand.
///
/// Container env files often set a variable to the empty string to mean "unset". Read the optional
/// text settings (URLs, names, secrets, paths) through the accessor methods, which treat an empty
/// value as unset; typed settings (addresses, numbers) refuse an empty value.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Settings (flag or CMS_* environment variable)")]
pub struct Settings {
    /// Address the HTTP API listens on.
    #[arg(
        long,
        global = true,
        env = "CMS_HTTP_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub http_addr: SocketAddr,

    /// Directory for the embedded defaults: the SQLite file, the development JWT secret, local photos.
    #[arg(long, global = true, env = "CMS_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

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

    /// NATS server URL (enables JetStream); absent: the in-process bus.
    #[arg(long, global = true, env = "CMS_NATS_URL", hide_env_values = true)]
    pub nats_url: Option<Secret<String>>,

    /// JetStream: how long stream `CMS_EVENTS` keeps events (limits retention), in seconds.
    #[arg(long, global = true, env = "CMS_NATS_STREAM_MAX_AGE_SECS", default_value_t = 604_800,
          value_parser = clap::value_parser!(u64).range(60..))]
    pub nats_stream_max_age_secs: u64,

    /// JetStream: replicas of stream `CMS_EVENTS` (3 in a production cluster).
    #[arg(long, global = true, env = "CMS_NATS_REPLICAS", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=5))]
    pub nats_replicas: u64,

    /// Run the relay (log -> bus) inside `cms serve`; `false` when `cms relay` runs on its own.
    #[arg(long, global = true, env = "CMS_RELAY_IN_SERVE", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub relay_in_serve: bool,

    /// Comma-separated browser origins allowed to open WebSockets (`*` for any); requests without
    /// `Origin` and same-host origins are always allowed.
    #[arg(
        long,
        global = true,
        env = "CMS_WS_ALLOWED_ORIGINS",
        default_value = "",
        hide_default_value = true
    )]
    pub ws_allowed_origins: List<String>,

    /// Lifetime of a WebSocket ticket from `POST /v1/ws/ticket`, in seconds.
    #[arg(long, global = true, env = "CMS_WS_TICKET_TTL_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub ws_ticket_ttl_secs: u64,

    /// A WebSocket resume (`after=N`) more than this many events behind gets `resync`.
    #[arg(long, global = true, env = "CMS_WS_MAX_CATCHUP", default_value_t = 10_000,
          value_parser = clap::value_parser!(i64).range(0..))]
    pub ws_max_catchup: i64,

    /// Live events queued per WebSocket; a socket whose queue fills gets `resync` and is closed.
    #[arg(long, global = true, env = "CMS_WS_QUEUE", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub ws_queue: u64,

    /// Open WebSockets per user, across every instance.
    #[arg(long, global = true, env = "CMS_WS_MAX_SOCKETS_PER_USER", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub ws_max_sockets_per_user: u64,

    /// Largest inbound WebSocket message, in bytes.
    #[arg(long, global = true, env = "CMS_WS_MAX_MESSAGE_BYTES", default_value_t = 4096,
          value_parser = clap::value_parser!(u64).range(256..=1_048_576))]
    pub ws_max_message_bytes: u64,

    /// Seconds between server pings; a socket silent for three intervals is closed.
    #[arg(long, global = true, env = "CMS_WS_PING_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ws_ping_secs: u64,

    /// Seconds a WebSocket send may block (the client stopped reading) before the socket is closed.
    #[arg(long, global = true, env = "CMS_WS_SEND_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub ws_send_timeout_secs: u64,

    /// S3 endpoint URL (for example `http://127.0.0.1:9000`); absent: photos and checkpoint copies in
    /// `<data_dir>/objects`.
    #[arg(long, global = true, env = "CMS_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// S3 bucket for photos and thumbnails.
    #[arg(long, global = true, env = "CMS_S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// S3 region.
    #[arg(
        long,
        global = true,
        env = "CMS_S3_REGION",
        default_value = "us-east-1"
    )]
    pub s3_region: String,

    /// S3 access key id (static credentials).
    #[arg(
        long,
        global = true,
        env = "CMS_S3_ACCESS_KEY_ID",
        hide_env_values = true
    )]
    pub s3_access_key_id: Option<String>,

    /// S3 secret access key (static credentials).
    #[arg(
        long,
        global = true,
        env = "CMS_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<Secret<String>>,

    /// Address of the separate Prometheus metrics listener; absent: no metrics listener.
    #[arg(long, global = true, env = "CMS_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// HS256 secret (at least 32 bytes). With no secret and no public keys, a random one is created
    /// once at `<data_dir>/jwt-secret` (mode 0600) and reused.
    #[arg(long, global = true, env = "CMS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret<String>>,

    /// Comma-separated PEM public keys (RS256 or EdDSA) as `path` or `kid=path`; the kid defaults to
    /// the file name without extension.
    #[arg(
        long,
        global = true,
        env = "CMS_JWT_PUBLIC_KEYS",
        default_value = "",
        hide_default_value = true
    )]
    pub jwt_public_keys: List<PublicKeyPath>,

    /// JWKS file with RS256 (RSA) and EdDSA (Ed25519) public keys, chosen by `kid`.
    #[arg(long, global = true, env = "CMS_JWT_JWKS_FILE", value_parser = any_path)]
    pub jwt_jwks_file: Option<PathBuf>,

    /// PEM private key (RS256 or EdDSA) used by `cms token` to mint tokens.
    #[arg(long, global = true, env = "CMS_JWT_PRIVATE_KEY", value_parser = any_path)]
    pub jwt_private_key: Option<PathBuf>,

    /// Key id written into minted tokens' headers.
    #[arg(long, global = true, env = "CMS_JWT_KID")]
    pub jwt_kid: Option<String>,

    /// Algorithm of the PEM keys; absent: detected (RSA first, then Ed25519).
    #[arg(long, global = true, env = "CMS_JWT_ALGORITHM", value_enum)]
    pub jwt_algorithm: Option<SigningAlgorithm>,

    /// Expected `iss` claim.
    #[arg(long, global = true, env = "CMS_JWT_ISSUER", default_value = "cms")]
    pub jwt_issuer: String,

    /// Expected `aud` claim.
    #[arg(
        long,
        global = true,
        env = "CMS_JWT_AUDIENCE",
        default_value = "cms-api"
    )]
    pub jwt_audience: String,

    /// Clock-skew allowance for `exp` and `nbf`, in seconds (0-30).
    #[arg(long, global = true, env = "CMS_JWT_LEEWAY_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=30))]
    pub jwt_leeway_secs: u64,

    /// Maximum size of a JSON request body, in bytes.
    #[arg(long, global = true, env = "CMS_BODY_LIMIT_BYTES", default_value_t = 65536,
          value_parser = parse_body_limit)]
    pub body_limit_bytes: usize,

    /// Log format.
    #[arg(long, global = true, env = "CMS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// On SIGTERM, how long in-flight requests may take to finish, and then the projectors their
    /// current batch, in seconds; whatever is still running then is dropped.
    #[arg(long, global = true, env = "CMS_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub shutdown_timeout_secs: u64,

    /// Ed25519 key that signs audit checkpoints: a PKCS#8 PEM file or a file with the 32-byte seed in
    /// hex. Default: `<data_dir>/audit-signing-key`, created once with mode 0600.
    #[arg(long, global = true, env = "CMS_AUDIT_SIGNING_KEY", value_parser = any_path)]
    pub audit_signing_key: Option<PathBuf>,

    /// Sign an audit checkpoint after this many events.
    #[arg(long, global = true, env = "CMS_AUDIT_CHECKPOINT_EVERY", default_value_t = 1000,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub audit_checkpoint_every: i64,

    /// Or after this many seconds, when events were sealed since the last checkpoint.
    #[arg(long, global = true, env = "CMS_AUDIT_CHECKPOINT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub audit_checkpoint_secs: u64,

    /// Run the thumbnail worker inside `cms serve` (the embedded default). Set to `false` when
    /// `cms worker thumbnails` runs separately.
    #[arg(long, global = true, env = "CMS_SERVE_THUMBNAILS", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub serve_thumbnails: bool,

    /// Deliveries of one thumbnail job before the photo is marked `ThumbnailFailed`.
    #[arg(long, global = true, env = "CMS_THUMBNAIL_MAX_DELIVERIES", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub thumbnail_max_deliveries: u32,

    /// Seconds a thumbnail job stays leased to a worker before it is delivered again (a worker that
    /// died mid-job is noticed after this long).
    #[arg(long, global = true, env = "CMS_THUMBNAIL_ACK_WAIT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub thumbnail_ack_wait_secs: u64,
}

/// The smallest HS256 secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

/// Where the verification keys come from.
enum KeySource {
    /// PEM public keys and/or a JWKS file.
    Public,
    /// Only a private key: its public half verifies.
    PrivateKeyOnly,
    /// An HS256 secret (configured or the development file).
    Secret(Secret<Vec<u8>>),
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

    /// `CMS_DATABASE_URL`, if set and not empty.
    pub fn database_url(&self) -> Option<&str> {
        non_empty_secret(&self.database_url)
    }

    /// `CMS_NATS_URL`, if set and not empty.
    pub fn nats_url(&self) -> Option<&str> {
        non_empty_secret(&self.nats_url)
    }

    /// `CMS_S3_ENDPOINT`, if set and not empty.
    pub fn s3_endpoint(&self) -> Option<&str> {
        non_empty(&self.s3_endpoint)
    }

    /// `CMS_S3_BUCKET`, if set and not empty.
    pub fn s3_bucket(&self) -> Option<&str> {
        non_empty(&self.s3_bucket)
    }

    /// `CMS_S3_ACCESS_KEY_ID`, if set and not empty.
    pub fn s3_access_key_id(&self) -> Option<&str> {
        non_empty(&self.s3_access_key_id)
    }

    /// `CMS_S3_SECRET_ACCESS_KEY`, if set and not empty.
    pub fn s3_secret_access_key(&self) -> Option<&str> {
        non_empty_secret(&self.s3_secret_access_key)
    }

    /// `CMS_JWT_KID`, if set and not empty.
    pub fn jwt_kid(&self) -> Option<&str> {
        non_empty(&self.jwt_kid)
    }

    fn jwt_secret(&self) -> Option<&str> {
        non_empty_secret(&self.jwt_secret)
    }

    fn jwt_jwks_file(&self) -> Option<&Path> {
        non_empty_path(&self.jwt_jwks_file)
    }

    fn jwt_private_key(&self) -> Option<&Path> {
        non_empty_path(&self.jwt_private_key)
    }

    /// The `exp`/`nbf` leeway.
    pub fn jwt_leeway(&self) -> Duration {
        Duration::from_secs(self.jwt_leeway_secs).min(JwtVerifier::MAX_LEEWAY)
    }

    /// The audit signing key: the configured file, else the embedded default's (created when absent).
    ///
    /// # Errors
    /// The file cannot be read or created, or holds no Ed25519 key.
    pub fn audit_signer(&self) -> anyhow::Result<crate::audit::AuditSigner> {
        match non_empty_path(&self.audit_signing_key) {
            Some(path) => crate::audit::AuditSigner::from_file(path),
            None => crate::audit::AuditSigner::load_or_create(
                &self.data_dir.join(crate::audit::AUDIT_KEY_FILE),
            ),
        }
    }

    /// The object store: the S3 bucket when `CMS_S3_ENDPOINT` is set, else the folder
    /// `<data_dir>/objects` (the embedded default).
    ///
    /// # Errors
    /// An S3 endpoint without a bucket or without both static credentials.
    pub fn object_store(&self) -> anyhow::Result<std::sync::Arc<dyn crate::objects::ObjectStore>> {
        match self.s3_config()? {
            Some(config) => Ok(std::sync::Arc::new(crate::objects::S3Store::new(&config))),
            None => Ok(std::sync::Arc::new(crate::objects::LocalFolder::new(
                self.data_dir.join("objects"),
            ))),
        }
    }

    /// The S3 settings, when `CMS_S3_ENDPOINT` is set.
    ///
    /// # Errors
    /// The endpoint is set but the bucket or a credential is missing.
    pub fn s3_config(&self) -> anyhow::Result<Option<crate::objects::S3Config>> {
        let Some(endpoint) = self.s3_endpoint() else {
            return Ok(None);
        };
        let missing = |name: &str| {
            anyhow::anyhow!("CMS_S3_ENDPOINT is set but {name} is not (it is required with S3)")
        };
        Ok(Some(crate::objects::S3Config {
            endpoint: endpoint.to_owned(),
            bucket: self
                .s3_bucket()
                .ok_or_else(|| missing("CMS_S3_BUCKET"))?
                .to_owned(),
            region: self.s3_region.clone(),
            access_key_id: Secret::new(
                self.s3_access_key_id()
                    .ok_or_else(|| missing("CMS_S3_ACCESS_KEY_ID"))?
                    .to_owned(),
            ),
            secret_access_key: Secret::new(
                self.s3_secret_access_key()
                    .ok_or_else(|| missing("CMS_S3_SECRET_ACCESS_KEY"))?
                    .to_owned(),
            ),
        }))
    }

    /// `CMS_SHUTDOWN_TIMEOUT_SECS` as a duration.
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    /// The JetStream settings, when `CMS_NATS_URL` is set (else the in-process bus).
    pub fn nats_config(&self) -> Option<crate::fanout::NatsConfig> {
        self.nats_url().map(|url| crate::fanout::NatsConfig {
            max_age: Duration::from_secs(self.nats_stream_max_age_secs),
            replicas: usize::try_from(self.nats_replicas).unwrap_or(1),
            ..crate::fanout::NatsConfig::new(url.trim())
        })
    }

    /// The WebSocket gateway's limits.
    pub fn gateway_config(&self) -> crate::fanout::GatewayConfig {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        crate::fanout::GatewayConfig {
            allowed_origins: self.ws_allowed_origins.items().to_vec(),
            ticket_ttl: Duration::from_secs(self.ws_ticket_ttl_secs),
            max_catchup: self.ws_max_catchup,
            queue: size(self.ws_queue),
            max_sockets_per_user: size(self.ws_max_sockets_per_user),
            session_ttl: crate::fanout::GatewayConfig::default().session_ttl,
            max_message_bytes: size(self.ws_max_message_bytes),
            ping_interval: Duration::from_secs(self.ws_ping_secs),
            send_timeout: Duration::from_secs(self.ws_send_timeout_secs),
        }
    }

    /// When the sealer signs checkpoints.
    pub fn audit_checkpoint_policy(&self) -> crate::audit::CheckpointPolicy {
        crate::audit::CheckpointPolicy {
            every: self.audit_checkpoint_every,
            interval: Duration::from_secs(self.audit_checkpoint_secs),
        }
    }

    /// The path of the development HS256 secret.
    pub fn dev_secret_path(&self) -> PathBuf {
        self.data_dir.join(DEV_SECRET_FILE)
    }

    /// The database to use.
    ///
    /// # Errors
    /// When the URL is neither `postgres://` nor `sqlite:`, is an in-memory SQLite URL (a pool would
    /// give every connection its own empty database), or read URLs are set for SQLite or are not
    /// PostgreSQL URLs.
    pub fn database(&self) -> anyhow::Result<DatabaseTarget> {
        let max_connections = self.database_max_connections;
        let Some(url) = self.database_url() else {
            if !self.database_read_urls.is_empty() {
                bail!("CMS_DATABASE_READ_URLS needs a PostgreSQL CMS_DATABASE_URL");
            }
            let file = self.data_dir.join("cms.db");
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

    /// The verifier for bearer tokens: public keys (PEM and JWKS) when configured; else the public
    /// half of `CMS_JWT_PRIVATE_KEY`; else the HS256 secret (`CMS_JWT_SECRET` or the development file,
    /// created on first use).
    ///
    /// # Errors
    /// When a key file cannot be read or parsed, a secret is too short, or both a secret and keys are
    /// configured.
    pub fn jwt_verifier(&self) -> anyhow::Result<JwtVerifier> {
        let keys = match self.key_source()? {
            KeySource::Public => self.public_keys()?,
            KeySource::PrivateKeyOnly => {
                let minter = self.pem_minter()?;
                let (key, alg) = minter
                    .public_key()?
                    .context("the private key has no public half")?;
                let mut set = PublicKeySet::new();
                let kid = minter.kid().unwrap_or("default").to_owned();
                set.add_key(kid, key, alg)?;
                set.build()?
            }
            KeySource::Secret(secret) => VerifyingKeys::hs256(secret.into_inner())?,
        };
        Ok(JwtVerifier::new(
            keys,
            &self.jwt_issuer,
            &self.jwt_audience,
            self.jwt_leeway(),
        ))
    }

    /// The minter for `cms token`. With public keys configured it needs `CMS_JWT_PRIVATE_KEY`, and it
    /// checks that a token it signs verifies with the configured keys.
    ///
    /// # Errors
    /// When production public keys are configured without the private key, the private key does not
    /// match them, or a key or secret cannot be loaded.
    pub fn token_minter(&self) -> anyhow::Result<TokenMinter> {
        match self.key_source()? {
            KeySource::Public => {
                if self.jwt_private_key().is_none() {
                    bail!("public keys are configured (CMS_JWT_PUBLIC_KEYS / CMS_JWT_JWKS_FILE): minting needs the matching private key in CMS_JWT_PRIVATE_KEY");
                }
                let minter = self.pem_minter()?;
                self.check_minter_matches_verifier(&minter)?;
                Ok(minter)
            }
            KeySource::PrivateKeyOnly => self.pem_minter(),
            KeySource::Secret(secret) => Ok(TokenMinter::hs256(
                secret.expose(),
                &self.jwt_issuer,
                &self.jwt_audience,
            )?),
        }
    }

    fn key_source(&self) -> anyhow::Result<KeySource> {
        let public = !self.jwt_public_keys.is_empty() || self.jwt_jwks_file().is_some();
        if self.jwt_secret().is_some() && (public || self.jwt_private_key().is_some()) {
            bail!("configure either CMS_JWT_SECRET (HS256) or key files (CMS_JWT_PUBLIC_KEYS, CMS_JWT_JWKS_FILE, CMS_JWT_PRIVATE_KEY), not both");
        }
        if public {
            return Ok(KeySource::Public);
        }
        if self.jwt_private_key().is_some() {
            return Ok(KeySource::PrivateKeyOnly);
        }
        let secret = match self.jwt_secret() {
            Some(secret) => Secret::new(secret.as_bytes().to_vec()),
            None => Secret::new(load_or_create_dev_secret(&self.dev_secret_path())?),
        };
        if secret.expose().len() < MIN_SECRET_BYTES {
            bail!("the JWT secret must be at least {MIN_SECRET_BYTES} bytes long");
        }
        Ok(KeySource::Secret(secret))
    }

    fn public_keys(&self) -> anyhow::Result<VerifyingKeys> {
        let mut set = PublicKeySet::new();
        for entry in self.jwt_public_keys.items() {
            let pem = std::fs::read(&entry.path)
                .with_context(|| format!("reading JWT public key {}", entry.path.display()))?;
            set.add_pem(entry.kid(), &pem, self.jwt_algorithm)
                .with_context(|| format!("loading JWT public key {}", entry.path.display()))?;
        }
        if let Some(path) = self.jwt_jwks_file() {
            let json = std::fs::read_to_string(path)
                .with_context(|| format!("reading JWKS file {}", path.display()))?;
            set.add_jwks(&json)
                .with_context(|| format!("loading JWKS file {}", path.display()))?;
        }
        Ok(set.build()?)
    }

    fn pem_minter(&self) -> anyhow::Result<TokenMinter> {
        let path = self
            .jwt_private_key()
            .context("CMS_JWT_PRIVATE_KEY is not set")?;
        let pem = Secret::new(
            std::fs::read(path)
                .with_context(|| format!("reading JWT private key {}", path.display()))?,
        );
        TokenMinter::from_private_pem(
            pem.expose(),
            self.jwt_algorithm,
            self.jwt_kid().map(str::to_owned),
            &self.jwt_issuer,
            &self.jwt_audience,
        )
        .with_context(|| format!("loading JWT private key {}", path.display()))
    }

    fn check_minter_matches_verifier(&self, minter: &TokenMinter) -> anyhow::Result<()> {
        let verifier = self.jwt_verifier()?;
        let probe = TokenSpec {
            sub: "cms-key-check".to_owned(),
            role: Role::Auditor,
            hostels: vec![crate::auth::ALL_HOSTELS.to_owned()],
            name: None,
            ttl: Duration::from_secs(60),
        };
        let token = minter.mint(&probe)?;
        verifier.verify(&token).map(|_| ()).with_context(|| {
            format!(
                "a token signed with CMS_JWT_PRIVATE_KEY (kid {:?}) does not verify with the configured public keys (kids {:?}); check CMS_JWT_KID",
                minter.kid(),
                verifier.keys().kids()
            )
        })
    }
}

fn parse_body_limit(s: &str) -> Result<usize, String> {
    let limit: usize = s.parse().map_err(|e| format!("{e}"))?;
    if limit < 1024 {
        return Err("the body limit must be at least 1024 bytes".to_owned());
    }
    Ok(limit)
}

/// Unlike clap's default path parser, accepts the empty string (read as unset by the accessors).
fn any_path(s: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(s))
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

fn non_empty_secret(value: &Option<Secret<String>>) -> Option<&str> {
    value
        .as_ref()
        .map(|v| v.expose().as_str())
        .filter(|v| !v.trim().is_empty())
}

fn non_empty_path(value: &Option<PathBuf>) -> Option<&Path> {
    value.as_deref().filter(|p| !p.as_os_str().is_empty())
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with the password of its user info and the values of secret-looking query parameters
/// replaced by `***`, for logs and messages.
pub fn redact_url(url: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match before_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => format!("{user}:***@{host}"),
                    None => format!("{userinfo}@{host}"),
                },
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => before_query.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _))
                    if ["password", "secret", "token", "key"]
                        .iter()
                        .any(|word| key.to_ascii_lowercase().contains(word)) =>
                {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::test_keys::keys;

    fn parse(args: &[&str]) -> Settings {
        let mut all = vec!["cms"];
        all.extend_from_slice(args);
        Settings::try_parse_from(all).unwrap()
    }

    fn in_dir(dir: &Path, args: &[&str]) -> Settings {
        let data_dir = dir.to_str().unwrap();
        let mut all = vec!["--data-dir", data_dir];
        all.extend_from_slice(args);
        parse(&all)
    }

    fn write(dir: &Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn spec() -> TokenSpec {
        TokenSpec {
            sub: "w-1".to_owned(),
            role: Role::Warden,
            hostels: vec!["north".to_owned()],
            name: None,
            ttl: Duration::from_secs(600),
        }
    }

    #[test]
    fn defaults_match_the_documentation() {
        let s = parse(&[]);
        assert_eq!(s.http_addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert_eq!(s.database_max_connections, 10);
        assert_eq!(
            (s.jwt_issuer.as_str(), s.jwt_audience.as_str()),
            ("cms", "cms-api")
        );
        assert_eq!(s.jwt_leeway(), Duration::from_secs(30));
        assert_eq!(s.body_limit_bytes, 65536);
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.s3_region, "us-east-1");
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
                cli.settings.http_addr,
                "0.0.0.0:9000".parse().unwrap(),
                "{args:?}"
            );
            assert_eq!(cli.settings.jwt_issuer, "cms");
        }
        assert_eq!(
            parse(&["cms"]).settings.http_addr,
            "127.0.0.1:8080".parse().unwrap()
        );
    }

    #[test]
    fn a_leeway_above_thirty_seconds_is_refused() {
        assert!(Settings::try_parse_from(["cms", "--jwt-leeway-secs", "31"]).is_err());
        assert_eq!(
            parse(&["--jwt-leeway-secs", "5"]).jwt_leeway(),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn without_a_url_the_database_is_a_sqlite_file_in_the_data_dir() {
        let target = parse(&["--data-dir", "/var/lib/cms"]).database().unwrap();
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
        } = s.database().unwrap()
        else {
            panic!("expected postgres");
        };
        assert_eq!(write_url.expose(), "postgres://cms:pw@db/cms");
        assert_eq!(read_urls.len(), 2);
        assert_eq!(
            s.database().unwrap().describe(),
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
            assert!(parse(args).database().is_err(), "{args:?}");
        }
        assert!(parse(&["--database-url", "sqlite://x.db"])
            .database()
            .is_ok());
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
            s.database().unwrap(),
            DatabaseTarget::Sqlite { .. }
        ));
        assert_eq!(
            (s.nats_url(), s.s3_bucket(), s.jwt_kid()),
            (None, None, None)
        );
        let token = s.token_minter().unwrap().mint(&spec()).unwrap();
        assert!(s.jwt_verifier().unwrap().verify(&token).is_ok());
        assert!(s.dev_secret_path().exists());
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
        let config = s3.s3_config().unwrap().unwrap();
        let store = s3.object_store().unwrap();
        for text in [format!("{config:?}"), format!("{store:?}")] {
            assert!(!text.contains("s3-very-secret"), "{text}");
            assert!(!text.contains("AKIDSECRETISH"), "{text}");
        }
        assert_eq!(format!("{:?}", Secret::new("x")), "***");
    }

    #[test]
    fn an_s3_endpoint_needs_a_bucket_and_both_credentials() {
        let full = [
            "--s3-endpoint",
            "http://127.0.0.1:9000",
            "--s3-bucket",
            "photos",
            "--s3-access-key-id",
            "id",
            "--s3-secret-access-key",
            "secret",
        ];
        assert!(parse(&full).s3_config().unwrap().is_some());
        assert!(parse(&[]).s3_config().unwrap().is_none());
        for drop in [2, 4, 6] {
            let mut args = full.to_vec();
            args.drain(drop..drop + 2);
            let error = parse(&args).s3_config().unwrap_err().to_string();
            assert!(error.contains("CMS_S3_"), "{error}");
        }
    }

    #[test]
    fn urls_are_redacted_for_logs() {
        assert_eq!(
            redact_url("postgres://u:p@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("postgres://h/db?sslmode=require&password=x"),
            "postgres://h/db?sslmode=require&password=***"
        );
        assert_eq!(redact_url("nats://h:4222"), "nats://h:4222");
    }

    #[test]
    fn public_key_entries_take_an_optional_kid() {
        let s = parse(&["--jwt-public-keys", "k1=/keys/a.pem,/keys/2025.pem"]);
        let kids: Vec<String> = s
            .jwt_public_keys
            .items()
            .iter()
            .map(PublicKeyPath::kid)
            .collect();
        assert_eq!(kids, vec!["k1", "2025"]);
        assert_eq!(
            s.jwt_public_keys.items()[0].path,
            PathBuf::from("/keys/a.pem")
        );
        assert!("=x.pem".parse::<PublicKeyPath>().is_err());
        assert!("k=".parse::<PublicKeyPath>().is_err());
    }

    #[test]
    fn with_nothing_configured_serve_and_token_share_a_secret_file_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = in_dir(dir.path(), &[]);
        let token = s.token_minter().unwrap().mint(&spec()).unwrap();
        let path = s.dev_secret_path();
        let first = std::fs::read_to_string(&path).unwrap();
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let actor = in_dir(dir.path(), &[])
            .jwt_verifier()
            .unwrap()
            .verify(&token)
            .unwrap();
        assert_eq!(actor.role, Role::Warden);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "only the secret file remains");
    }

    #[test]
    fn a_short_secret_and_a_secret_next_to_key_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(in_dir(dir.path(), &["--jwt-secret", "short"])
            .jwt_verifier()
            .is_err());
        let public = write(dir.path(), "k.pem", &keys().rsa.public);
        let both = in_dir(
            dir.path(),
            &[
                "--jwt-secret",
                &"s".repeat(40),
                "--jwt-public-keys",
                &public,
            ],
        );
        assert!(both.jwt_verifier().is_err());
        assert!(both.token_minter().is_err());
    }

    #[test]
    fn a_configured_secret_verifies_what_it_mints() {
        let dir = tempfile::tempdir().unwrap();
        let s = in_dir(dir.path(), &["--jwt-secret", &"s".repeat(40)]);
        let token = s.token_minter().unwrap().mint(&spec()).unwrap();
        assert!(s.jwt_verifier().unwrap().verify(&token).is_ok());
        assert!(!s.dev_secret_path().exists());
    }

    #[test]
    fn the_minter_refuses_public_key_config_without_the_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let public = write(dir.path(), "prod.pem", &keys().rsa.public);
        let s = in_dir(dir.path(), &["--jwt-public-keys", &public]);
        assert!(s.jwt_verifier().is_ok());
        let err = s.token_minter().unwrap_err().to_string();
        assert!(err.contains("CMS_JWT_PRIVATE_KEY"), "{err}");
        assert!(!s.dev_secret_path().exists());
    }

    #[test]
    fn public_keys_with_the_matching_private_key_mint_verifiable_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let k = keys();
        let rsa = write(dir.path(), "rsa.pem", &k.rsa.public);
        let ed = write(dir.path(), "ed.pem", &k.ed.public);
        let private = write(dir.path(), "ed.key", &k.ed.private);
        let list = format!("rsa-1={rsa},ed-1={ed}");
        let s = in_dir(
            dir.path(),
            &[
                "--jwt-public-keys",
                &list,
                "--jwt-private-key",
                &private,
                "--jwt-kid",
                "ed-1",
            ],
        );
        let token = s.token_minter().unwrap().mint(&spec()).unwrap();
        assert!(s.jwt_verifier().unwrap().verify(&token).is_ok());

        let wrong_kid = in_dir(
            dir.path(),
            &[
                "--jwt-public-keys",
                &list,
                "--jwt-private-key",
                &private,
                "--jwt-kid",
                "rsa-1",
            ],
        );
        let err = format!("{:#}", wrong_kid.token_minter().unwrap_err());
        assert!(err.contains("CMS_JWT_KID"), "{err}");
    }

    #[test]
    fn a_private_key_alone_verifies_with_its_public_half() {
        let dir = tempfile::tempdir().unwrap();
        let private = write(dir.path(), "rsa.key", &keys().rsa.private);
        let s = in_dir(dir.path(), &["--jwt-private-key", &private]);
        let token = s.token_minter().unwrap().mint(&spec()).unwrap();
        assert!(s.jwt_verifier().unwrap().verify(&token).is_ok());
    }

    #[test]
    fn a_jwks_file_is_loaded_and_bad_key_files_name_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let minter = TokenMinter::from_private_pem(
            keys().ed.private.as_bytes(),
            None,
            Some("ed-1".to_owned()),
            "cms",
            "cms-api",
        )
        .unwrap();
        let (key, alg) = minter.public_key().unwrap().unwrap();
        let mut jwk = jsonwebtoken::jwk::Jwk::from_decoding_key(&key, Some(alg)).unwrap();
        jwk.common.key_id = Some("ed-1".to_owned());
        let jwks = serde_json::json!({ "keys": [jwk] }).to_string();
        let file = write(dir.path(), "jwks.json", &jwks);
        let s = in_dir(dir.path(), &["--jwt-jwks-file", &file]);
        assert!(s
            .jwt_verifier()
            .unwrap()
            .verify(&minter.mint(&spec()).unwrap())
            .is_ok());

        let garbage = write(dir.path(), "bad.pem", "not a key");
        let err = format!(
            "{:#}",
            in_dir(dir.path(), &["--jwt-public-keys", &garbage])
                .jwt_verifier()
                .unwrap_err()
        );
        assert!(err.contains("bad.pem"), "{err}");
    }
}

//! Where queries run: on a PostgreSQL hot standby when `CMS_DATABASE_READ_URLS` names some, on the
//! primary otherwise. Commands, projectors and the audit sealer always use the primary.
//!
//! Read-your-writes: a read that carries `Min-Position: N` is served by a replica only once that
//! replica's projection checkpoint has reached N. Replicas replay the primary's WAL in order, so a
//! checkpoint seen there never goes back, and the query that follows (which reads the checkpoint again
//! in its own snapshot and reports it) reflects at least N. A replica that is behind for longer than
//! [`REPLICA_WAIT`] is passed over for the primary, where the read waits up to [`MIN_POSITION_WAIT`]
//! and otherwise answers 503 `projection_behind` with `Retry-After`. A replica that cannot be reached
//! is set aside for [`REPLICA_COOL_DOWN`] and its reads go to the next replica or the primary, so a
//! stopped standby costs one failed connection attempt, not an outage.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cms_eventstore::pool::{MeteredPgPool, MeteredPool, PoolRole};
use cms_eventstore::Db;
use cms_projections::checkpoint::{self, State as ProjectionState};
use cms_projections::Projection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::ApiError;
use crate::secret::{redact_url, Secret};

/// The longest a read waits for the projection to reach its `Min-Position` (on the primary).
pub const MIN_POSITION_WAIT: Duration = Duration::from_secs(2);
/// The longest a read waits for a replica to reach its `Min-Position` before asking the primary.
pub const REPLICA_WAIT: Duration = Duration::from_millis(250);
/// How long an unreachable replica is left out before it is tried again.
pub const REPLICA_COOL_DOWN: Duration = Duration::from_secs(5);
/// How long a query waits for a replica connection (a replica that does not answer is set aside).
const REPLICA_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

use crate::metrics::names::{READS_FALLBACK, READS_REPLICA, REPLICA_LAG_SECONDS};

/// One hot standby.
#[derive(Debug)]
struct Replica {
    /// Its URL with any password replaced, for logs.
    name: String,
    /// `replica N (host:port)`, for `/readyz`.
    endpoint: String,
    pool: MeteredPgPool,
    /// Left out until then after a failure.
    down_until: Mutex<Option<Instant>>,
}

impl Replica {
    fn db(&self) -> Db {
        Db::Postgres(self.pool.clone())
    }

    fn is_down(&self) -> bool {
        let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        match *down {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                *down = None;
                false
            }
            None => false,
        }
    }

    fn set_aside(&self, error: &sqlx::Error) {
        tracing::warn!(replica = %self.name, %error, "replica unreachable; reading from the primary for a while");
        *self.down_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + REPLICA_COOL_DOWN);
    }
}

/// The databases queries may run on.
#[derive(Debug)]
pub struct Reads {
    primary: Db,
    replicas: Vec<Replica>,
    next: AtomicUsize,
    served: [AtomicU64; 3],
}

/// Where this process's queries ran so far (the same counts as the metrics, readable in-process).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCounts {
    /// Served by a replica.
    pub replica: u64,
    /// Served by the primary because every replica was unreachable or set aside.
    pub primary_unreachable: u64,
    /// Served by the primary because the replica had not reached `Min-Position` in time.
    pub primary_behind: u64,
}

/// Why a read went to the primary although replicas are configured (index into `Reads::served`).
#[derive(Debug, Clone, Copy)]
enum Fallback {
    Unreachable = 1,
    Behind = 2,
}

impl Fallback {
    fn label(self) -> &'static str {
        match self {
            Fallback::Unreachable => "unreachable",
            Fallback::Behind => "behind",
        }
    }
}

/// How far one replica is behind the primary (`/readyz`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaLag {
    /// `replica N (host:port)`, N its index in `CMS_DATABASE_READ_URLS`: what the unauthenticated
    /// `/readyz` shows (no user or database name).
    pub endpoint: String,
    /// Seconds since the last replayed transaction, 0 when everything received is replayed; `None`
    /// when the replica could not be asked.
    pub seconds: Option<f64>,
    /// Events in the primary's log not yet on the replica.
    pub events: Option<i64>,
}

impl Reads {
    /// Queries go to `primary` (no replicas).
    pub fn primary_only(primary: Db) -> Self {
        Self {
            primary,
            replicas: Vec::new(),
            next: AtomicUsize::new(0),
            served: Default::default(),
        }
    }

    /// Queries go to the replicas at `urls` (round robin), falling back to `primary`. Pools connect
    /// lazily, so a replica that is down at start does not stop the service.
    ///
    /// # Errors
    /// A malformed URL, or replicas for a SQLite primary.
    pub fn with_replicas(
        primary: Db,
        urls: &[Secret<String>],
        max_connections: u32,
    ) -> Result<Self, sqlx::Error> {
        if !urls.is_empty() && !matches!(primary, Db::Postgres(_)) {
            return Err(sqlx::Error::Configuration(
                "read replicas need a PostgreSQL primary".into(),
            ));
        }
        let replicas = urls
            .iter()
            .enumerate()
            .map(|(index, url)| {
                let options: PgConnectOptions = url.expose().parse()?;
                let endpoint = format!(
                    "replica {index} ({}:{})",
                    options.get_host(),
                    options.get_port()
                );
                let pool = MeteredPool::new(
                    PgPoolOptions::new()
                        .max_connections(max_connections.max(1))
                        .acquire_timeout(REPLICA_ACQUIRE_TIMEOUT)
                        .connect_lazy_with(options),
                    PoolRole::Read,
                );
                Ok(Replica {
                    name: redact_url(url.expose()),
                    endpoint,
                    pool,
                    down_until: Mutex::new(None),
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Self {
            primary,
            replicas,
            next: AtomicUsize::new(0),
            served: Default::default(),
        })
    }

    /// The primary's read side (projector writes, checks that must see the newest state).
    pub fn primary(&self) -> &Db {
        &self.primary
    }

    /// Where this process's queries ran so far.
    pub fn counts(&self) -> ReadCounts {
        ReadCounts {
            replica: self.served[0].load(Ordering::Relaxed),
            primary_unreachable: self.served[Fallback::Unreachable as usize]
                .load(Ordering::Relaxed),
            primary_behind: self.served[Fallback::Behind as usize].load(Ordering::Relaxed),
        }
    }

    /// The replicas' pools (for the pool gauges).
    pub fn replica_pools(&self) -> impl Iterator<Item = &MeteredPgPool> {
        self.replicas.iter().map(|r| &r.pool)
    }

    /// How many replicas are configured.
    pub fn replica_count(&self) -> usize {
        self.replicas.len()
    }

    /// A database to run a query of `projection` on that reflects at least `wanted` when given.
    ///
    /// # Errors
    /// 503 `projection_behind` with `Retry-After` when even the primary's projection has not reached
    /// `wanted` within [`MIN_POSITION_WAIT`] (or is stopped on a failure); 500 when the primary cannot
    /// be asked.
    pub async fn for_query(
        &self,
        projection: Projection,
        wanted: Option<i64>,
    ) -> Result<Db, Response> {
        let count = self.replicas.len();
        if count > 0 {
            let start = self.next.fetch_add(1, Ordering::Relaxed);
            let mut fallback = Fallback::Unreachable;
            for offset in 0..count {
                let replica = &self.replicas[(start + offset) % count];
                if replica.is_down() {
                    continue;
                }
                let db = replica.db();
                match reached(&db, projection, wanted, REPLICA_WAIT).await {
                    Ok(Waited::Reached) => {
                        metrics::counter!(READS_REPLICA).increment(1);
                        self.served[0].fetch_add(1, Ordering::Relaxed);
                        return Ok(db);
                    }
                    // The others replay the same WAL and are unlikely to be further: ask the primary.
                    Ok(Waited::Behind(_)) => {
                        fallback = Fallback::Behind;
                        break;
                    }
                    Err(error) => replica.set_aside(&error),
                }
            }
            metrics::counter!(READS_FALLBACK, "reason" => fallback.label()).increment(1);
            self.served[fallback as usize].fetch_add(1, Ordering::Relaxed);
        }
        if let Some(wanted) = wanted {
            wait_for(&self.primary, projection, wanted).await?;
        }
        Ok(self.primary.clone())
    }

    /// Each replica's lag (also recorded as the [`REPLICA_LAG_SECONDS`] gauge).
    pub async fn replica_lag(&self) -> Vec<ReplicaLag> {
        let head = match &self.primary {
            Db::Postgres(_) => cms_eventstore::log::head(&self.primary).await.ok(),
            Db::Sqlite { .. } => None,
        };
        let mut out = Vec::with_capacity(self.replicas.len());
        for (index, replica) in self.replicas.iter().enumerate() {
            let seconds = cms_eventstore::postgres::replay_lag_seconds(&replica.pool).await;
            let events = match (
                head,
                cms_eventstore::log::head(&Db::Postgres(replica.pool.clone())).await,
            ) {
                (Some(head), Ok(there)) => Some((head - there).max(0)),
                _ => None,
            };
            if let Ok(seconds) = &seconds {
                metrics::gauge!(REPLICA_LAG_SECONDS, "replica" => index.to_string()).set(*seconds);
            }
            out.push(ReplicaLag {
                endpoint: replica.endpoint.clone(),
                seconds: seconds.ok(),
                events,
            });
        }
        out
    }
}

/// How a bounded wait for a checkpoint ended.
enum Waited {
    /// The projection reached the wanted position (or none was wanted).
    Reached,
    /// It stopped short, at this position (out of patience, or failed).
    Behind(i64),
}

/// Whether `projection` on `db` reaches `wanted` within `patience` (at once without one; the
/// checkpoint is still read, which also proves the database answers).
async fn reached(
    db: &Db,
    projection: Projection,
    wanted: Option<i64>,
    patience: Duration,
) -> Result<Waited, sqlx::Error> {
    let deadline = Instant::now() + patience;
    // Short first (a projector usually catches up within milliseconds), then doubling, so a position
    // that is far off (or never comes) costs a dozen checkpoint reads, not hundreds.
    let mut pause = Duration::from_millis(2);
    loop {
        let current = checkpoint::current(db, projection).await?;
        let Some(wanted) = wanted else {
            return Ok(Waited::Reached);
        };
        if current.position >= wanted {
            return Ok(Waited::Reached);
        }
        if current.state == ProjectionState::Failed || Instant::now() >= deadline {
            return Ok(Waited::Behind(current.position));
        }
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Waits (bounded) until `projection` on `db` reflects `wanted`.
///
/// # Errors
/// 503 `projection_behind` with `Retry-After` when it does not get there in [`MIN_POSITION_WAIT`] (or
/// is stopped on a failure); 500 when the database cannot be asked.
pub async fn wait_for(db: &Db, projection: Projection, wanted: i64) -> Result<(), Response> {
    let Waited::Behind(position) = reached(db, projection, Some(wanted), MIN_POSITION_WAIT)
        .await
        .map_err(|e| ApiError::internal(e).into_response())?
    else {
        return Ok(());
    };
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "projection_behind",
        format!("the {projection} projection reflects position {position}, not yet {wanted}"),
    )
    .into_response();
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from_static("1"));
    Err(response)
}

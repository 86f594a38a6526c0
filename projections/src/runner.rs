//! Running projections: one [`step`] locks a projection's checkpoint row, reads the next batch of the
//! log, checks it is contiguous, applies it and moves the checkpoint, all in one transaction
//! (exactly-once effect: a crash anywhere rolls the whole step back). [`spawn`] runs every projection
//! in its own task, waking on PostgreSQL `LISTEN cms_events` or a short poll. [`rebuild`] replays a
//! projection from 0 beside the live model and switches over in one transaction (`crate::rebuild`).

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::checkpoint::{Checkpoint, State};
use crate::{check_contiguous, Projection};
use cms_eventstore::log::LogEvent;
use cms_eventstore::Db;

/// Counter: events a projection stopped on (label `projection`). Exported once metrics are served.
pub const PROJECTION_ERRORS: &str = "cms_projection_errors_total";
/// Gauge: a projection's checkpoint position (label `projection`).
pub const PROJECTION_POSITION: &str = "cms_projection_position";

/// How a projector reads and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerConfig {
    /// Events per transaction.
    pub batch_size: i64,
    /// How often to look for new events without a notification (SQLite always polls; PostgreSQL
    /// polls this often as a fallback to LISTEN).
    pub poll_interval: Duration,
}

impl RunnerConfig {
    /// The defaults for a backend: batches of 500; a 50 ms poll on SQLite, a 1 s fallback on PostgreSQL.
    pub fn for_db(db: &Db) -> Self {
        let poll_interval = match db {
            Db::Postgres(_) => Duration::from_secs(1),
            Db::Sqlite { .. } => Duration::from_millis(50),
        };
        RunnerConfig {
            batch_size: 500,
            poll_interval,
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Applied this many events (the checkpoint moved on by as many positions).
    Applied(usize),
    /// Nothing new in the log.
    Idle,
    /// Another runner holds the projection.
    Busy,
    /// The projection is stopped on a failure (now or earlier).
    Failed(String),
}

cms_eventstore::for_each_backend! {
    same_backend(crate::checkpoint, crate::complaint_list, crate::complaint_detail, crate::dashboard, crate::event_counts, cms_eventstore::log);
    /// Inside a transaction that holds the checkpoint row: reads, checks and applies one batch and
    /// writes the checkpoint. Returns the step and the new checkpoint.
    pub(crate) async fn advance(
        conn: &mut Conn,
        projection: Projection,
        checkpoint: Checkpoint,
        batch_size: i64,
    ) -> Result<(Step, Checkpoint), sqlx::Error> {
        if checkpoint.state == State::Failed {
            let error = checkpoint.error.clone().unwrap_or_default();
            return Ok((Step::Failed(error), checkpoint));
        }
        let events: Vec<LogEvent> = log::read(conn, checkpoint.position, batch_size).await?;
        if events.is_empty() {
            return Ok((Step::Idle, checkpoint));
        }
        let next = match check_contiguous(
            checkpoint.position,
            events.iter().map(|e| e.global_position),
        ) {
            Err(hole) => Checkpoint {
                position: checkpoint.position,
                state: State::Failed,
                error: Some(hole.to_string()),
            },
            Ok(()) => {
                let applied = match projection {
                    Projection::ComplaintList => {
                        complaint_list::apply(conn, checkpoint.position, &events).await?
                    }
                    Projection::ComplaintDetail => {
                        complaint_detail::apply(conn, checkpoint.position, &events).await?
                    }
                    Projection::EventCounts => {
                        event_counts::apply(conn, checkpoint.position, &events).await?
                    }
                    Projection::Dashboard => {
                        dashboard::apply(conn, checkpoint.position, &events).await?
                    }
                };
                Checkpoint {
                    position: applied.through,
                    state: if applied.failure.is_some() { State::Failed } else { State::Running },
                    error: applied.failure,
                }
            }
        };
        checkpoint::write(conn, projection, &next).await?;
        let step = match &next.error {
            Some(error) => {
                metrics::counter!(PROJECTION_ERRORS, "projection" => projection.name()).increment(1);
                tracing::error!(projection = projection.name(), error = %error, "projection stopped");
                Step::Failed(error.clone())
            }
            None => {
                #[allow(clippy::cast_precision_loss)]
                metrics::gauge!(PROJECTION_POSITION, "projection" => projection.name())
                    .set(next.position as f64);
                Step::Applied(usize::try_from(next.position - checkpoint.position).unwrap_or(0))
            }
        };
        Ok((step, next))
    }

    /// One step inside a write transaction: locks the checkpoint (skipping when another runner holds
    /// it; a missing row is created for the next step), then [`advance`]s.
    pub(crate) async fn step(
        conn: &mut Conn,
        projection: Projection,
        batch_size: i64,
    ) -> Result<Step, sqlx::Error> {
        let Some(current) = checkpoint::lock(conn, projection, false).await? else {
            checkpoint::ensure(conn, projection).await?;
            return Ok(Step::Busy);
        };
        Ok(advance(conn, projection, current, batch_size).await?.0)
    }
}

/// Runs one step of `projection`: lock its checkpoint (skipping when another runner has it), apply
/// the next batch and move the checkpoint, in one transaction.
///
/// # Errors
/// Storage failures (the transaction rolls back; the step can simply be retried).
pub async fn step(db: &Db, projection: Projection, batch_size: i64) -> Result<Step, sqlx::Error> {
    cms_eventstore::on_backend!(
        db.writer(),
        tx | conn,
        backend | backend::step(conn, projection, batch_size).await
    )
}

/// Whether the log has moved past the projection's checkpoint, checked on a reader connection so an
/// idle SQLite projector does not take the single writer.
async fn has_work(db: &Db, projection: Projection) -> Result<bool, sqlx::Error> {
    let checkpoint = crate::checkpoint::current(db, projection).await?;
    if checkpoint.state == State::Failed {
        return Ok(false);
    }
    let head = cms_eventstore::log::head(db).await?;
    Ok(head > checkpoint.position)
}

/// Waits up to `pause` unless `stop` turns true first; returns whether to stop.
async fn pause_or_stop(stop: &mut watch::Receiver<bool>, pause: impl std::future::Future) -> bool {
    tokio::pin!(pause);
    tokio::select! {
        _ = &mut pause => {}
        changed = stop.changed() => {
            // A closed channel (the sender dropped) means nobody will ask to stop: just pause.
            if changed.is_err() {
                pause.await;
            }
        }
    }
    *stop.borrow()
}

/// Follows the log for `projection` until `stop` turns true. Storage errors are logged and retried
/// after a pause; a failed projection waits (a rebuild restarts it). On stop, a step (one batch, one
/// transaction) in progress is finished and committed first and nothing new is started, so a
/// shutdown flushes the batch instead of rolling it back.
pub async fn run(
    db: Db,
    projection: Projection,
    config: RunnerConfig,
    mut stop: watch::Receiver<bool>,
) {
    let mut listener = match db.postgres() {
        Some(pool) => match cms_eventstore::postgres::listen_for_events(pool).await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(%error, "LISTEN cms_events failed; polling instead");
                None
            }
        },
        None => None,
    };
    let mut last_failure: Option<String> = None;
    loop {
        if *stop.borrow() {
            tracing::debug!(projection = projection.name(), "projector stopped");
            return;
        }
        let busy = match has_work(&db, projection).await {
            Ok(false) => false,
            Ok(true) => match step(&db, projection, config.batch_size).await {
                Ok(Step::Applied(n)) => {
                    last_failure = None;
                    i64::try_from(n).unwrap_or(0) >= config.batch_size
                }
                Ok(Step::Idle | Step::Busy) => false,
                Ok(Step::Failed(error)) => {
                    if last_failure.as_ref() != Some(&error) {
                        tracing::error!(projection = projection.name(), %error, "projection failed");
                        last_failure = Some(error);
                    }
                    false
                }
                Err(error) => {
                    tracing::warn!(projection = projection.name(), %error, "projector step failed; retrying");
                    let pause =
                        tokio::time::sleep(config.poll_interval.max(Duration::from_millis(500)));
                    pause_or_stop(&mut stop, pause).await;
                    false
                }
            },
            Err(error) => {
                tracing::warn!(projection = projection.name(), %error, "projector check failed; retrying");
                let pause =
                    tokio::time::sleep(config.poll_interval.max(Duration::from_millis(500)));
                pause_or_stop(&mut stop, pause).await;
                false
            }
        };
        if busy {
            continue;
        }
        match listener.as_mut() {
            Some(listener) => {
                // A notification, the fallback poll, or a dropped connection (recv reconnects) all
                // just lead to the next check.
                let wait = tokio::time::timeout(config.poll_interval, listener.recv());
                pause_or_stop(&mut stop, wait).await;
            }
            None => {
                pause_or_stop(&mut stop, tokio::time::sleep(config.poll_interval)).await;
            }
        }
    }
}

/// The running projectors; dropping it aborts them (an in-flight step rolls back), [`shutdown`]
/// stops them after their current batch.
///
/// [`shutdown`]: Projectors::shutdown
#[derive(Debug)]
pub struct Projectors {
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl Projectors {
    /// Stops every projector at once (an in-flight step rolls back).
    pub fn abort(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }

    /// Asks every projector to stop after its current batch and waits up to `within` for them;
    /// those still running then are aborted. Returns whether all stopped on their own.
    pub async fn shutdown(mut self, within: Duration) -> bool {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut self.tasks);
        let aborts: Vec<_> = tasks.iter().map(JoinHandle::abort_handle).collect();
        let all = join_all(tasks);
        match tokio::time::timeout(within, all).await {
            Ok(()) => true,
            Err(_) => {
                tracing::warn!(?within, "projectors did not stop in time; aborting them");
                for abort in aborts {
                    abort.abort();
                }
                false
            }
        }
    }
}

/// Awaits every task (their results do not matter: a panicked projector has stopped too).
async fn join_all(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

impl Drop for Projectors {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Starts one task per projection.
pub fn spawn(db: &Db, config: RunnerConfig) -> Projectors {
    let (stop, stopping) = watch::channel(false);
    let tasks = Projection::ALL
        .into_iter()
        .map(|projection| {
            let span = tracing::info_span!("projector", projection = projection.name());
            tokio::spawn(run(db.clone(), projection, config, stopping.clone()).instrument(span))
        })
        .collect();
    Projectors { tasks, stop }
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq)]
pub struct Rebuilt {
    /// Events replayed.
    pub events: i64,
    /// The final checkpoint.
    pub checkpoint: Checkpoint,
    /// How long it took.
    pub elapsed: Duration,
}

impl Rebuilt {
    /// Events per second.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.events as f64 / secs
        } else {
            self.events as f64
        }
    }
}

pub use crate::rebuild::rebuild;

//! The command executor: load an aggregate from the log, let it decide, append what it decided, and
//! answer with the committed events and their global positions.
//!
//! This replaces cqrs-es's `CqrsFramework::execute`, which returns `()` (ARCHITECTURE section 2): the
//! caller here learns the position to hand back as a consistency token. Optimistic-concurrency
//! conflicts are retried a bounded number of times (reload, decide again); idempotency keys make a
//! repeated command answer its first response.

use std::time::{Duration, Instant};

use cms_domain::actor::Actor;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use rand::Rng;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::metrics::names::{
    CommandOutcome, APPEND_DURATION, COMMANDS, COMMAND_CONFLICT_RETRIES, COMMAND_DURATION,
    EVENTS_APPENDED,
};
use cms_eventstore::store::{
    Append, AppendError, EventStore, IdempotencyRecord, NewEvent, RecordedEvent, StoreError,
};

// Aggregate type names (cqrs-es `Aggregate::TYPE`) the span fields tell apart.
use cms_domain::complaint::AGGREGATE_TYPE as COMPLAINT;
use cms_domain::hostel::AGGREGATE_TYPE as HOSTEL;

/// Namespace for ids derived from idempotency keys (UUIDv5), so a repeated create names one aggregate.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d1f_5c7e_2b4a_4e0b_9a53_c0d3_8f1e_7a21);

/// A client-chosen key that makes a command idempotent (header `Idempotency-Key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Accepts 1 to 255 visible ASCII characters.
    ///
    /// # Errors
    /// Returns the reason when the key is empty, too long, or has other characters.
    pub fn parse(key: &str) -> Result<Self, &'static str> {
        if key.is_empty() || key.len() > 255 {
            return Err("Idempotency-Key must be 1 to 255 characters");
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("Idempotency-Key must be visible ASCII characters without spaces");
        }
        Ok(Self(key.to_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who sent a command and how it links to other work; stored in every event's metadata.
#[derive(Debug, Clone)]
pub struct CommandContext {
    pub actor: Actor,
    /// The command's name (`FileComplaint`, …), stored in metadata.
    pub command: &'static str,
    pub idempotency_key: Option<IdempotencyKey>,
    /// Hash of what was asked (see [`request_hash`]); a key reused for another request is refused.
    pub request_hash: String,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub traceparent: Option<String>,
    pub hostel_id: Option<String>,
}

impl CommandContext {
    /// The command's id: derived from the idempotency key when there is one, so retries share it.
    pub fn command_id(&self) -> Uuid {
        match self.idempotency_key {
            Some(_) => self.derive_id("command"),
            None => Uuid::now_v7(),
        }
    }

    /// A new aggregate id for a creating command: derived from the idempotency key (UUIDv5) when there
    /// is one, so concurrent duplicates collide on the same aggregate; random (UUIDv7) otherwise.
    pub fn new_aggregate_id(&self, kind: &str) -> Uuid {
        match self.idempotency_key {
            Some(_) => self.derive_id(kind),
            None => Uuid::now_v7(),
        }
    }

    fn derive_id(&self, kind: &str) -> Uuid {
        let key = self
            .idempotency_key
            .as_ref()
            .map_or("", IdempotencyKey::as_str);
        let name = format!("{kind}\n{}\n{key}", self.actor.id);
        Uuid::new_v5(&ID_NAMESPACE, name.as_bytes())
    }

    fn metadata(&self, command_id: Uuid) -> Value {
        let mut map = Map::new();
        map.insert("command".into(), json!(self.command));
        map.insert("command_id".into(), json!(command_id));
        map.insert("correlation_id".into(), json!(self.correlation_id));
        if let Some(causation) = self.causation_id {
            map.insert("causation_id".into(), json!(causation));
        }
        map.insert("actor_id".into(), json!(self.actor.id));
        map.insert("actor_role".into(), json!(self.actor.role));
        if let Some(hostel) = &self.hostel_id {
            map.insert("hostel_id".into(), json!(hostel));
        }
        if let Some(traceparent) = &self.traceparent {
            map.insert("traceparent".into(), json!(traceparent));
        }
        Value::Object(map)
    }
}

/// SHA-256 over the command name, the target and the request's canonical JSON.
pub fn request_hash(command: &str, target: &str, body: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(command.as_bytes());
    hasher.update([0]);
    hasher.update(target.as_bytes());
    hasher.update([0]);
    hasher.update(body.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// An aggregate rebuilt from its events.
#[derive(Debug, Clone)]
pub struct Loaded<A> {
    pub state: A,
    /// Sequence of its last event (0: it does not exist yet).
    pub sequence: i64,
    /// Global position of its last event (0: none).
    pub position: i64,
}

impl<A> Loaded<A> {
    /// True when the aggregate has at least one event.
    pub fn exists(&self) -> bool {
        self.sequence > 0
    }
}

/// What a command produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub aggregate_id: String,
    pub status_code: u16,
    /// The response body (without `position`).
    pub body: Value,
    /// The consistency token: the position the response reflects.
    pub position: i64,
    /// The events this request committed (empty for a replay or a no-op).
    pub events: Vec<RecordedEvent>,
    /// True when the answer is the stored response of an earlier request with the same key.
    pub replayed: bool,
}

/// Why a command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError<E: std::error::Error> {
    /// The aggregate refused the command.
    #[error(transparent)]
    Domain(E),
    /// Other writers kept changing the aggregate; every retry lost.
    #[error("the aggregate kept changing; retries exhausted")]
    Conflict,
    /// The idempotency key was already used for a different request.
    #[error("the idempotency key was already used for a different request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs commands against the event store.
pub struct Executor {
    store: EventStore,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    max_attempts: u32,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("backend", &self.store.backend())
            .field("upcasters", &self.upcasters.len())
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl Executor {
    /// An executor over `store` that retries a conflicting command up to 8 times.
    pub fn new(store: EventStore) -> Self {
        Self {
            store,
            upcasters: Vec::new(),
            max_attempts: 8,
        }
    }

    /// Adds event upcasters, applied to stored events before they are deserialised.
    #[must_use]
    pub fn with_upcasters(mut self, upcasters: Vec<Box<dyn EventUpcaster>>) -> Self {
        self.upcasters = upcasters;
        self
    }

    /// The store this executor writes to.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Rebuilds aggregate `id` from its events (through the upcasters).
    ///
    /// # Errors
    /// Storage failures, or a stored event that no longer deserialises.
    pub async fn load<A: Aggregate>(&self, id: &str) -> Result<Loaded<A>, StoreError> {
        let events = self.store.load(A::TYPE, id).await?;
        self.fold(events)
    }

    /// Rebuilds an aggregate from `events`, which must be one aggregate's events in sequence order.
    ///
    /// # Errors
    /// A stored event that no longer deserialises.
    pub fn fold<A: Aggregate>(&self, events: Vec<RecordedEvent>) -> Result<Loaded<A>, StoreError> {
        let mut loaded = Loaded {
            state: A::default(),
            sequence: 0,
            position: 0,
        };
        for event in events {
            loaded.sequence = event.sequence;
            loaded.position = event.global_position;
            let payload = self.upcast(event)?;
            let payload: A::Event = serde_json::from_value(payload)
                .map_err(|e| StoreError::Corrupt(format!("event does not deserialise: {e}")))?;
            loaded.state.apply(payload);
        }
        Ok(loaded)
    }

    fn upcast(&self, event: RecordedEvent) -> Result<Value, StoreError> {
        let sequence = usize::try_from(event.sequence)
            .map_err(|e| StoreError::Corrupt(format!("sequence: {e}")))?;
        let serialized = SerializedEvent::new(
            event.aggregate_id,
            sequence,
            event.aggregate_type,
            event.event_type,
            event.event_version,
            event.payload,
            event.metadata,
        );
        let upcast = self.upcasters.iter().fold(serialized, |event, upcaster| {
            if upcaster.can_upcast(&event.event_type, &event.event_version) {
                upcaster.upcast(event)
            } else {
                event
            }
        });
        Ok(upcast.payload)
    }

    /// Executes one command against aggregate `aggregate_id`.
    ///
    /// `command` is decided on the current state (again on every retry, after a reload, so it
    /// decides on fresh state); `render` makes the response body from the state after the command.
    /// `preloaded` saves the first load when the caller already rebuilt the aggregate (for example to
    /// check scope).
    ///
    /// # Errors
    /// [`ExecuteError::Domain`] when the aggregate refuses, [`ExecuteError::KeyReused`] for an
    /// idempotency key sent with another request, [`ExecuteError::Conflict`] when every retry lost a
    /// race, [`ExecuteError::Store`] for storage failures.
    #[tracing::instrument(
        name = "command",
        skip_all,
        fields(
            command = ctx.command,
            aggregate.kind = A::TYPE,
            aggregate.id = aggregate_id,
            complaint.id = tracing::field::Empty,
            hostel.id = tracing::field::Empty,
            user.id = %ctx.actor.id,
            user.role = %ctx.actor.role,
            correlation.id = %ctx.correlation_id,
            trace.parent = ctx.traceparent.as_deref(),
            event.type = tracing::field::Empty,
            position = tracing::field::Empty,
            outcome = tracing::field::Empty,
        )
    )]
    pub async fn execute<A, R>(
        &self,
        ctx: &CommandContext,
        aggregate_id: &str,
        preloaded: Option<Loaded<A>>,
        status_code: u16,
        command: A::Command,
        render: R,
    ) -> Result<Outcome, ExecuteError<A::Error>>
    where
        A: Aggregate<Services = ()>,
        A::Command: Clone + Send + Sync,
        R: Fn(&A) -> Value + Send + Sync,
    {
        let started = Instant::now();
        let span = tracing::Span::current();
        match A::TYPE {
            COMPLAINT => {
                span.record("complaint.id", aggregate_id);
                span.record("hostel.id", ctx.hostel_id.as_deref());
            }
            HOSTEL => {
                span.record(
                    "hostel.id",
                    ctx.hostel_id.as_deref().unwrap_or(aggregate_id),
                );
            }
            _ => {
                span.record("hostel.id", ctx.hostel_id.as_deref());
            }
        }
        let mut conflicts = 0_u32;
        let result = self
            .attempt(
                ctx,
                aggregate_id,
                preloaded,
                status_code,
                command,
                render,
                &mut conflicts,
            )
            .await;
        let outcome = match &result {
            Ok(outcome) if outcome.replayed => CommandOutcome::IdempotentReplay,
            Ok(_) if conflicts > 0 => CommandOutcome::Retried,
            Ok(_) => CommandOutcome::Ok,
            Err(ExecuteError::Domain(_)) => CommandOutcome::Rejected,
            Err(ExecuteError::Conflict) => CommandOutcome::Conflict,
            Err(ExecuteError::KeyReused) => CommandOutcome::KeyReused,
            Err(ExecuteError::Store(_)) => CommandOutcome::Error,
        };
        metrics::counter!(COMMANDS, "command" => ctx.command, "outcome" => outcome.as_str())
            .increment(1);
        metrics::histogram!(COMMAND_DURATION, "command" => ctx.command)
            .record(started.elapsed().as_secs_f64());
        span.record("outcome", outcome.as_str());
        if let Ok(done) = &result {
            span.record("position", done.position);
            if !done.events.is_empty() {
                let types: Vec<&str> = done.events.iter().map(|e| e.event_type.as_str()).collect();
                span.record("event.type", types.join(",").as_str());
            }
        }
        tracing::info!(
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            conflicts,
            "command {}",
            outcome.as_str()
        );
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt<A, R>(
        &self,
        ctx: &CommandContext,
        aggregate_id: &str,
        mut preloaded: Option<Loaded<A>>,
        status_code: u16,
        command: A::Command,
        render: R,
        conflicts: &mut u32,
    ) -> Result<Outcome, ExecuteError<A::Error>>
    where
        A: Aggregate<Services = ()>,
        A::Command: Clone + Send + Sync,
        R: Fn(&A) -> Value + Send + Sync,
    {
        let command_id = ctx.command_id();
        for attempt in 1..=self.max_attempts {
            if let Some(outcome) = self.replay(ctx).await? {
                return Ok(outcome);
            }
            let loaded = match preloaded.take() {
                Some(loaded) => loaded,
                None => self.load::<A>(aggregate_id).await?,
            };
            let Loaded {
                mut state,
                sequence,
                position,
            } = loaded;
            let sink = EventSink::default();
            let decision = state.handle(command.clone(), &(), &sink).await;
            if let Err(refusal) = decision {
                // A request with the same key may have committed between our idempotency check and
                // the load (its effect is then what this decision refuses): answer its response.
                return match self.replay(ctx).await? {
                    Some(outcome) => Ok(outcome),
                    None => Err(ExecuteError::Domain(refusal)),
                };
            }
            let decided = sink.collect().await;
            let body = render(&state);
            if decided.is_empty() && ctx.idempotency_key.is_none() {
                return Ok(Outcome {
                    aggregate_id: aggregate_id.to_owned(),
                    status_code,
                    body,
                    position,
                    events: Vec::new(),
                    replayed: false,
                });
            }
            let metadata = ctx.metadata(command_id);
            let events = decided
                .iter()
                .map(|event| {
                    Ok(NewEvent {
                        event_id: Uuid::now_v7(),
                        event_type: event.event_type(),
                        event_version: event.event_version(),
                        payload: serde_json::to_value(event).map_err(|e| {
                            StoreError::Corrupt(format!("event does not serialise: {e}"))
                        })?,
                        metadata: metadata.clone(),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let idempotency = ctx.idempotency_key.as_ref().map(|key| IdempotencyRecord {
                scope: ctx.actor.id.to_string(),
                key: key.as_str().to_owned(),
                request_hash: ctx.request_hash.clone(),
                aggregate_type: A::TYPE.to_owned(),
                aggregate_id: aggregate_id.to_owned(),
                status_code,
                response: body.clone(),
                position,
            });
            let append = Append {
                aggregate_type: A::TYPE.to_owned(),
                aggregate_id: aggregate_id.to_owned(),
                expected_sequence: sequence,
                events,
                idempotency,
            };
            let appending = Instant::now();
            let appended = self.store.append(append).await;
            metrics::histogram!(APPEND_DURATION).record(appending.elapsed().as_secs_f64());
            match appended {
                Ok(recorded) => {
                    metrics::counter!(EVENTS_APPENDED).increment(recorded.len() as u64);
                    let position = recorded.last().map_or(position, |e| e.global_position);
                    return Ok(Outcome {
                        aggregate_id: aggregate_id.to_owned(),
                        status_code,
                        body,
                        position,
                        events: recorded,
                        replayed: false,
                    });
                }
                Err(AppendError::Conflict) => {
                    *conflicts += 1;
                    metrics::counter!(COMMAND_CONFLICT_RETRIES, "command" => ctx.command)
                        .increment(1);
                    tracing::debug!(attempt, "append conflict; deciding again on fresh state");
                    backoff(attempt).await;
                }
                // A concurrent request with the same key won: the next round answers its response.
                Err(AppendError::DuplicateKey) => {}
                Err(AppendError::Store(e)) => return Err(e.into()),
            }
        }
        match self.replay(ctx).await? {
            Some(outcome) => Ok(outcome),
            None => Err(ExecuteError::Conflict),
        }
    }

    async fn replay<E: std::error::Error>(
        &self,
        ctx: &CommandContext,
    ) -> Result<Option<Outcome>, ExecuteError<E>> {
        let Some(key) = &ctx.idempotency_key else {
            return Ok(None);
        };
        let scope = ctx.actor.id.to_string();
        let Some(record) = self.store.idempotency_record(&scope, key.as_str()).await? else {
            return Ok(None);
        };
        if record.request_hash != ctx.request_hash {
            return Err(ExecuteError::KeyReused);
        }
        Ok(Some(Outcome {
            aggregate_id: record.aggregate_id,
            status_code: record.status_code,
            body: record.response,
            position: record.position,
            events: Vec::new(),
            replayed: true,
        }))
    }
}

/// Jittered, growing pause so racing writers spread out instead of colliding again.
async fn backoff(attempt: u32) {
    let ceiling = 2_u64.saturating_pow(attempt.min(6)); // 2 .. 64 ms
    let pause = rand::thread_rng().gen_range(1..=ceiling);
    tokio::time::sleep(Duration::from_millis(pause)).await;
}

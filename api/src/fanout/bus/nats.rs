//! The JetStream bus: stream `CMS_EVENTS` on subjects `cms.>` (file storage, limits retention, a
//! configurable max age). Every publish carries `Nats-Msg-Id = event id` and
//! `Nats-Expected-Last-Sequence = position - 1`, so the stream sequence equals the global position
//! and a retried or repeated publish can never store a second copy (docs/adr/0012).

use std::time::Duration;

use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy};
use async_nats::jetstream::context::{Context, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{
    Config as StreamConfig, DiscardPolicy, RetentionPolicy, StorageType,
};
use futures::StreamExt;

use super::{BusError, DurableOptions};
use crate::fanout::event::BusEvent;

/// What the JetStream bus needs.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// `nats://host:port`.
    pub url: String,
    /// The stream (`CMS_EVENTS`).
    pub stream: String,
    /// The first subject token (`cms`); the stream holds `<prefix>.>`.
    pub subject_prefix: String,
    /// How long the stream keeps events (limits retention).
    pub max_age: Duration,
    /// Stream replicas (3 in production clusters; 1 on a single server).
    pub replicas: usize,
    /// How long a publish waits for its acknowledgement.
    pub timeout: Duration,
}

impl NatsConfig {
    /// The defaults for `url`: stream `CMS_EVENTS`, prefix `cms`, 7 days, 1 replica, 5 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: "CMS_EVENTS".into(),
            subject_prefix: "cms".into(),
            max_age: Duration::from_secs(7 * 24 * 3600),
            replicas: 1,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The JetStream bus; clones share one connection.
#[derive(Debug, Clone)]
pub struct NatsBus {
    js: Context,
    config: NatsConfig,
}

fn unavailable(error: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(error.to_string())
}

impl NatsBus {
    /// Connects (in the background: the client keeps retrying while the server is away, so the
    /// API starts and takes commands without NATS).
    ///
    /// # Errors
    /// A malformed URL.
    pub async fn connect(config: NatsConfig) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .connect(config.url.as_str())
            .await
            .map_err(|e| BusError::Config(format!("NATS URL {}: {e}", redact(&config.url))))?;
        let mut js = async_nats::jetstream::new(client);
        js.set_timeout(config.timeout);
        Ok(Self { js, config })
    }

    /// The configuration.
    pub fn config(&self) -> &NatsConfig {
        &self.config
    }

    /// The subject prefix.
    pub fn subject_prefix(&self) -> &str {
        &self.config.subject_prefix
    }

    fn stream_config(&self) -> StreamConfig {
        StreamConfig {
            name: self.config.stream.clone(),
            subjects: vec![format!("{}.>", self.config.subject_prefix)],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            max_age: self.config.max_age,
            num_replicas: self.config.replicas,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        }
    }

    /// Creates the stream, or checks an existing one (file storage, limits retention, our subjects)
    /// and updates its max age when the configuration changed it.
    ///
    /// # Errors
    /// NATS unreachable, or an existing stream of another kind (named in the message).
    pub async fn ensure_stream(&self) -> Result<(), BusError> {
        let wanted = self.stream_config();
        let mut stream = self
            .js
            .get_or_create_stream(wanted.clone())
            .await
            .map_err(unavailable)?;
        let info = stream.info().await.map_err(unavailable)?.clone();
        let have = &info.config;
        if have.storage != StorageType::File || have.retention != RetentionPolicy::Limits {
            return Err(BusError::Config(format!(
                "stream {} exists with {:?} storage and {:?} retention; CMS needs file storage \
                 and limits retention (delete or migrate the stream)",
                wanted.name, have.storage, have.retention
            )));
        }
        if !have.subjects.contains(&wanted.subjects[0]) {
            return Err(BusError::Config(format!(
                "stream {} exists without the subject {}",
                wanted.name, wanted.subjects[0]
            )));
        }
        if have.max_age != wanted.max_age {
            let mut updated = have.clone();
            updated.max_age = wanted.max_age;
            self.js.update_stream(updated).await.map_err(unavailable)?;
        }
        Ok(())
    }

    pub(super) async fn last_sequence(&self) -> Result<u64, BusError> {
        let mut stream = self
            .js
            .get_stream(&self.config.stream)
            .await
            .map_err(unavailable)?;
        Ok(stream
            .info()
            .await
            .map_err(unavailable)?
            .state
            .last_sequence)
    }

    /// Publishes `events` (consecutive positions) pipelined: all are sent, then their acks are
    /// awaited in order. Each still carries its expected last sequence, so the server stores them
    /// strictly in order and refuses everything after the first one that fails; the result is how
    /// many, from the start, are stored, and the error that stopped the rest.
    pub(super) async fn publish_all(&self, events: &[BusEvent]) -> (usize, Option<BusError>) {
        let mut pending = Vec::with_capacity(events.len());
        let mut stopped = None;
        for event in events {
            let sequence = match super::sequence_of(event) {
                Ok(sequence) => sequence,
                Err(error) => {
                    stopped = Some(error);
                    break;
                }
            };
            let payload = match serde_json::to_vec(event) {
                Ok(payload) => payload,
                Err(e) => {
                    stopped = Some(BusError::Corrupt(e.to_string()));
                    break;
                }
            };
            let message = with_trace(
                PublishMessage::build()
                    .payload(payload.into())
                    .message_id(event.event_id.to_string())
                    .expected_last_sequence(sequence - 1),
                event,
            );
            let subject = event.subject(&self.config.subject_prefix);
            match self.js.send_publish(subject, message).await {
                Ok(ack) => pending.push((sequence, ack)),
                Err(e) => {
                    stopped = Some(publish_error(&e, sequence));
                    break;
                }
            }
        }
        let mut stored = 0;
        for (sequence, ack) in pending {
            match ack.await {
                Ok(ack) if ack.duplicate || ack.sequence == sequence => stored += 1,
                Ok(ack) => {
                    return (
                        stored,
                        Some(BusError::Corrupt(format!(
                            "event at position {sequence} was stored at stream sequence {}",
                            ack.sequence
                        ))),
                    )
                }
                Err(e) => return (stored, Some(publish_error(&e, sequence))),
            }
        }
        (stored, stopped)
    }

    /// An ordered consumer of every event after `after` (ephemeral, flow-controlled, recreated by
    /// the client on a sequence mismatch).
    pub(super) async fn subscribe(&self, after: u64) -> Result<super::Subscription, BusError> {
        let stream = self
            .js
            .get_stream(&self.config.stream)
            .await
            .map_err(unavailable)?;
        let consumer = stream
            .create_consumer(OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: after + 1,
                },
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        let messages = consumer.messages().await.map_err(unavailable)?;
        let events = messages.map(|message| {
            let message = message.map_err(unavailable)?;
            serde_json::from_slice::<BusEvent>(&message.payload)
                .map(std::sync::Arc::new)
                .map_err(|e| BusError::Corrupt(format!("undecodable bus message: {e}")))
        });
        Ok(super::Subscription::Stream(Box::pin(events)))
    }

    /// A durable pull consumer `name` on `filter` (a subject under the prefix, wildcards allowed)
    /// with explicit acks; created, or reused when it exists.
    pub(super) async fn durable(
        &self,
        name: &str,
        filter: &str,
        options: &DurableOptions,
    ) -> Result<super::DurableConsumer, BusError> {
        let stream = self
            .js
            .get_stream(&self.config.stream)
            .await
            .map_err(unavailable)?;
        let consumer = stream
            .get_or_create_consumer(
                name,
                async_nats::jetstream::consumer::pull::Config {
                    durable_name: Some(name.to_owned()),
                    filter_subject: filter.to_owned(),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: options.ack_wait,
                    max_deliver: options.max_deliver,
                    backoff: options.backoff.clone(),
                    deliver_policy: DeliverPolicy::All,
                    ..Default::default()
                },
            )
            .await
            .map_err(unavailable)?;
        Ok(super::DurableConsumer::Nats(Box::new(consumer)))
    }
}

fn publish_error(error: &async_nats::jetstream::context::PublishError, sequence: u64) -> BusError {
    match error.kind() {
        PublishErrorKind::WrongLastSequence => BusError::WrongLastSequence {
            expected: sequence - 1,
            actual: 0,
        },
        _ => BusError::Unavailable(format!("publishing position {sequence}: {error}")),
    }
}

/// `url` without credentials, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Adds the event's `traceparent` header, when the command that caused it carried one.
fn with_trace(message: PublishMessage, event: &BusEvent) -> PublishMessage {
    match &event.traceparent {
        Some(traceparent) => message.header("traceparent", traceparent.as_str()),
        None => message,
    }
}

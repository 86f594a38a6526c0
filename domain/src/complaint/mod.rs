//! The Complaint aggregate: a resident's maintenance complaint from filing to closure. Commands carry
//! the actor, the time and the hostel's facts; `decide` checks who may do what in which status and
//! returns the events; `apply` folds them. See [`Status::allows`] for the transition table.

mod command;
mod decide;
mod error;
mod event;
mod getters;
mod state;
mod status;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
mod types;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

pub use command::{ActionKind, ComplaintAction, ComplaintCommand};
pub use error::{ComplaintError, PhotoProblem, TextField};
pub use event::ComplaintEvent;
pub use state::{Complaint, ComplaintState};
pub use status::Status;
pub use types::{
    Assignment, Comment, Dispute, Hold, Outcome, Photo, PhotoRole, Priority, Rating, Resolution,
    Severity, Thumbnail, ThumbnailSize, Visibility,
};

/// The aggregate type of complaints in the event store (`events.aggregate_type`): stored, so stable.
pub const AGGREGATE_TYPE: &str = "Complaint";

/// The most photos a complaint may hold.
pub const MAX_PHOTOS: usize = 10;
/// The largest photo accepted, in bytes (10 MiB): the one limit, enforced by the domain and by the
/// API before it reads a byte more.
pub const MAX_PHOTO_BYTES: u64 = 10 * 1024 * 1024;
/// Content types accepted for photos.
pub const PHOTO_CONTENT_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

impl Aggregate for Complaint {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = ComplaintCommand;
    type Event = ComplaintEvent;
    type Error = ComplaintError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _service: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.fold(event);
    }
}

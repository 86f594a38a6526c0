//! Read-only accessors of a filed complaint, for the detail view and for decisions.

use chrono::{DateTime, Utc};

use super::state::ComplaintState;
use super::status::Status;
use super::types::{
    Assignment, Comment, Dispute, Hold, Outcome, Photo, Priority, Rating, Resolution, Severity,
};
use crate::ids::{CategoryId, ComplaintId, HostelId, UserId, WingId};

impl ComplaintState {
    /// The complaint id.
    pub fn id(&self) -> ComplaintId {
        self.id
    }

    /// The hostel it was filed in.
    pub fn hostel(&self) -> &HostelId {
        &self.hostel
    }

    /// The wing, if given.
    pub fn wing(&self) -> Option<&WingId> {
        self.wing.as_ref()
    }

    /// The room.
    pub fn room(&self) -> &str {
        &self.room
    }

    /// The current category (possibly corrected at triage).
    pub fn category(&self) -> &CategoryId {
        &self.category
    }

    /// The reporter's severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The priority, once triaged.
    pub fn priority(&self) -> Option<Priority> {
        self.priority
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The resident the complaint is for.
    pub fn reporter(&self) -> &UserId {
        &self.reporter
    }

    /// The current assignee, if any.
    pub fn assignee(&self) -> Option<&UserId> {
        self.assignee.as_ref()
    }

    /// Every assignment, oldest first.
    pub fn assignments(&self) -> &[Assignment] {
        &self.assignments
    }

    /// Every comment, oldest first (public and internal; the caller filters).
    pub fn comments(&self) -> &[Comment] {
        &self.comments
    }

    /// Every photo, in attachment order.
    pub fn photos(&self) -> &[Photo] {
        &self.photos
    }

    /// The current resolution (cleared when the complaint reopens).
    pub fn resolution(&self) -> Option<&Resolution> {
        self.resolution.as_ref()
    }

    /// The reporter's rating, if given.
    pub fn rating(&self) -> Option<&Rating> {
        self.rating.as_ref()
    }

    /// Why work is paused, while on hold.
    pub fn hold(&self) -> Option<&Hold> {
        self.hold.as_ref()
    }

    /// Every dispute, oldest first.
    pub fn disputes(&self) -> &[Dispute] {
        &self.disputes
    }

    /// How the complaint ended, once Closed, Rejected or Withdrawn.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// When it was filed.
    pub fn filed_at(&self) -> DateTime<Utc> {
        self.filed_at
    }

    /// When it last changed, internal comments left out (residents never learn of those).
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

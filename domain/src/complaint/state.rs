//! The Complaint aggregate's state and its total `apply`. [`Complaint`] is empty until filed; once filed
//! it holds a [`ComplaintState`], whose getters feed the detail view. Nothing here decides anything.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::ComplaintEvent;
use super::status::Status;
use super::types::{
    Assignment, Comment, Dispute, Hold, Outcome, Photo, Priority, Rating, Resolution, Severity,
};
use crate::ids::{CategoryId, ComplaintId, HostelId, PhotoId, UserId, WingId};

/// A complaint, folded from its events. `Default` is the state before filing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Complaint {
    pub(super) state: Option<ComplaintState>,
}

impl Complaint {
    /// Whether the complaint has been filed.
    pub fn is_filed(&self) -> bool {
        self.state.is_some()
    }

    /// The filed complaint's state, `None` before filing.
    pub fn state(&self) -> Option<&ComplaintState> {
        self.state.as_ref()
    }

    /// The complaint id, once filed.
    pub fn id(&self) -> Option<ComplaintId> {
        self.state.as_ref().map(|s| s.id)
    }

    /// The hostel, once filed.
    pub fn hostel(&self) -> Option<&HostelId> {
        self.state.as_ref().map(|s| &s.hostel)
    }

    /// The status, once filed.
    pub fn status(&self) -> Option<Status> {
        self.state.as_ref().map(|s| s.status)
    }

    /// Folds one event into the state. Total: an event that cannot apply (none can, after a valid
    /// decision) leaves the state unchanged except for `updated_at`.
    pub(super) fn fold(&mut self, event: ComplaintEvent) {
        if let ComplaintEvent::Filed {
            id,
            hostel,
            wing,
            room,
            category,
            severity,
            title,
            description,
            reporter,
            at,
            ..
        } = event
        {
            self.state = Some(ComplaintState {
                id,
                hostel,
                wing,
                room,
                category,
                severity,
                priority: None,
                status: Status::Filed,
                title,
                description,
                reporter,
                assignee: None,
                assignments: Vec::new(),
                comments: Vec::new(),
                photos: Vec::new(),
                resolution: None,
                rating: None,
                hold: None,
                disputes: Vec::new(),
                outcome: None,
                filed_at: at,
                updated_at: at,
            });
            return;
        }
        if let Some(state) = &mut self.state {
            state.fold(event);
        }
    }
}

/// A filed complaint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComplaintState {
    pub(super) id: ComplaintId,
    pub(super) hostel: HostelId,
    pub(super) wing: Option<WingId>,
    pub(super) room: String,
    pub(super) category: CategoryId,
    pub(super) severity: Severity,
    pub(super) priority: Option<Priority>,
    pub(super) status: Status,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) reporter: UserId,
    pub(super) assignee: Option<UserId>,
    pub(super) assignments: Vec<Assignment>,
    pub(super) comments: Vec<Comment>,
    pub(super) photos: Vec<Photo>,
    pub(super) resolution: Option<Resolution>,
    pub(super) rating: Option<Rating>,
    pub(super) hold: Option<Hold>,
    pub(super) disputes: Vec<Dispute>,
    pub(super) outcome: Option<Outcome>,
    pub(super) filed_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
}

impl ComplaintState {
    fn fold(&mut self, event: ComplaintEvent) {
        // `updated_at` is the last change everyone who sees the complaint sees: an internal comment
        // does not move it, or the reporter could tell that one was written.
        if !event.is_internal() {
            self.updated_at = event.at();
        }
        match event {
            ComplaintEvent::Filed { .. } | ComplaintEvent::ResolutionConfirmed { .. } => {}
            ComplaintEvent::Triaged {
                priority, category, ..
            } => {
                self.priority = Some(priority);
                if let Some(category) = category {
                    self.category = category;
                }
                self.status = Status::Triaged;
            }
            ComplaintEvent::Assigned {
                assignee, by, at, ..
            } => {
                self.assignments.push(Assignment {
                    assignee: assignee.clone(),
                    by,
                    at,
                });
                self.assignee = Some(assignee);
                self.hold = None;
                self.status = Status::Assigned;
            }
            ComplaintEvent::WorkStarted { .. } => self.status = Status::InProgress,
            ComplaintEvent::PutOnHold {
                reason,
                until,
                by,
                at,
            } => {
                self.hold = Some(Hold {
                    reason,
                    until,
                    by,
                    at,
                });
                self.status = Status::OnHold;
            }
            ComplaintEvent::WorkResumed { .. } => {
                self.hold = None;
                self.status = Status::InProgress;
            }
            ComplaintEvent::CommentAdded {
                comment_id,
                body,
                visibility,
                by,
                at,
            } => self.comments.push(Comment {
                id: comment_id,
                by,
                body,
                visibility,
                at,
            }),
            ComplaintEvent::Resolved {
                note,
                after_photos,
                by,
                at,
            } => {
                self.resolution = Some(Resolution {
                    note,
                    after_photos,
                    by,
                    at,
                });
                self.status = Status::Resolved;
            }
            ComplaintEvent::ResolutionDisputed { reason, by, at } => {
                self.disputes.push(Dispute { reason, by, at });
            }
            ComplaintEvent::Reopened { .. } => {
                self.resolution = None;
                self.status = Status::Reopened;
            }
            ComplaintEvent::Closed { reason, by, at } => {
                self.end(Status::Closed, reason, by, at);
            }
            ComplaintEvent::Rejected { reason, by, at } => {
                self.end(Status::Rejected, Some(reason), by, at);
            }
            ComplaintEvent::Withdrawn { reason, by, at } => {
                self.end(Status::Withdrawn, reason, by, at);
            }
            ComplaintEvent::ResolutionRated {
                stars,
                comment,
                by,
                at,
            } => {
                self.rating = Some(Rating {
                    stars,
                    comment,
                    by,
                    at,
                });
            }
            ComplaintEvent::PhotoAttached {
                photo_id,
                object_key,
                content_type,
                size,
                sha256,
                role,
                by,
                at,
            } => self.photos.push(Photo {
                id: photo_id,
                object_key,
                content_type,
                size,
                sha256,
                role,
                by,
                at,
                thumbnails: Vec::new(),
                thumbnail_failed: None,
            }),
            ComplaintEvent::ThumbnailGenerated {
                photo_id,
                thumbnails,
                ..
            } => {
                if let Some(photo) = self.photos.iter_mut().find(|p| p.id == photo_id) {
                    photo.thumbnails = thumbnails;
                }
            }
            ComplaintEvent::ThumbnailFailed {
                photo_id, reason, ..
            } => {
                if let Some(photo) = self.photos.iter_mut().find(|p| p.id == photo_id) {
                    photo.thumbnail_failed = Some(reason);
                }
            }
        }
    }

    fn end(&mut self, status: Status, reason: Option<String>, by: UserId, at: DateTime<Utc>) {
        self.hold = None;
        self.outcome = Some(Outcome { reason, by, at });
        self.status = status;
    }

    /// The photo with this id.
    pub fn photo(&self, id: &PhotoId) -> Option<&Photo> {
        self.photos.iter().find(|p| &p.id == id)
    }
}

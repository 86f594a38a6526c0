//! Events of the Complaint aggregate. Every event carries who caused it (`by`) and when (`at`, the
//! command's time; for `ComplaintFiled` it is the filing time). The serde names are the stored event
//! names, a public contract that never follows a Rust rename; `tests/event_json.rs` pins every variant.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::types::{PhotoRole, Priority, Severity, Thumbnail, Visibility};
use crate::ids::{CategoryId, CommentId, ComplaintId, HostelId, PhotoId, UserId, WingId};

/// Something that happened to a complaint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ComplaintEvent {
    /// The complaint was filed.
    #[serde(rename = "ComplaintFiled")]
    Filed {
        /// The complaint.
        id: ComplaintId,
        /// The hostel.
        hostel: HostelId,
        /// The wing, if given.
        wing: Option<WingId>,
        /// The room.
        room: String,
        /// The category.
        category: CategoryId,
        /// The reporter's severity.
        severity: Severity,
        /// Title (trimmed).
        title: String,
        /// Description (trimmed).
        description: String,
        /// The resident it is for.
        reporter: UserId,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Staff set the priority and possibly corrected the category.
    #[serde(rename = "ComplaintTriaged")]
    Triaged {
        /// The priority.
        priority: Priority,
        /// The corrected category, if it changed.
        category: Option<CategoryId>,
        /// The category before the correction, if it changed.
        previous_category: Option<CategoryId>,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A staff member was made responsible.
    #[serde(rename = "ComplaintAssigned")]
    Assigned {
        /// The new assignee.
        assignee: UserId,
        /// The assignee before, on reassignment.
        previous: Option<UserId>,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The assignee started work.
    #[serde(rename = "WorkStarted")]
    WorkStarted {
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Work was paused.
    #[serde(rename = "ComplaintPutOnHold")]
    PutOnHold {
        /// Why.
        reason: String,
        /// Expected resume time.
        until: Option<DateTime<Utc>>,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Paused work resumed.
    #[serde(rename = "WorkResumed")]
    WorkResumed {
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A comment was added.
    #[serde(rename = "CommentAdded")]
    CommentAdded {
        /// The comment.
        comment_id: CommentId,
        /// The text (trimmed).
        body: String,
        /// Who may read it.
        visibility: Visibility,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The assignee reported the problem fixed.
    #[serde(rename = "ComplaintResolved")]
    Resolved {
        /// What was done.
        note: String,
        /// Photos of the result.
        after_photos: Vec<PhotoId>,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The reporter confirmed the fix.
    #[serde(rename = "ResolutionConfirmed")]
    ResolutionConfirmed {
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The reporter disputed the fix.
    #[serde(rename = "ResolutionDisputed")]
    ResolutionDisputed {
        /// Why.
        reason: String,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The complaint reopened after a dispute.
    #[serde(rename = "ComplaintReopened")]
    Reopened {
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The complaint was closed.
    #[serde(rename = "ComplaintClosed")]
    Closed {
        /// Why, if stated.
        reason: Option<String>,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The complaint was refused.
    #[serde(rename = "ComplaintRejected")]
    Rejected {
        /// Why.
        reason: String,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The reporter withdrew the complaint.
    #[serde(rename = "ComplaintWithdrawn")]
    Withdrawn {
        /// Why, if stated.
        reason: Option<String>,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The reporter rated the resolution.
    #[serde(rename = "ResolutionRated")]
    ResolutionRated {
        /// 1-5.
        stars: u8,
        /// Remark, if any.
        comment: Option<String>,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A photo was attached.
    #[serde(rename = "PhotoAttached")]
    PhotoAttached {
        /// The photo.
        photo_id: PhotoId,
        /// Where the original is stored.
        object_key: String,
        /// MIME type.
        content_type: String,
        /// Bytes.
        size: u64,
        /// Lowercase hex SHA-256.
        sha256: String,
        /// Before or after.
        role: PhotoRole,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Thumbnails of a photo were stored.
    #[serde(rename = "ThumbnailGenerated")]
    ThumbnailGenerated {
        /// The photo.
        photo_id: PhotoId,
        /// The renditions.
        thumbnails: Vec<Thumbnail>,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Thumbnailing a photo failed for good.
    #[serde(rename = "ThumbnailFailed")]
    ThumbnailFailed {
        /// The photo.
        photo_id: PhotoId,
        /// Why.
        reason: String,
        /// Who caused it.
        by: UserId,
        /// When.
        at: DateTime<Utc>,
    },
}

impl ComplaintEvent {
    /// Every stored event name of the aggregate.
    pub const STORED_NAMES: [&'static str; 18] = [
        "ComplaintFiled",
        "ComplaintTriaged",
        "ComplaintAssigned",
        "WorkStarted",
        "ComplaintPutOnHold",
        "WorkResumed",
        "CommentAdded",
        "ComplaintResolved",
        "ResolutionConfirmed",
        "ResolutionDisputed",
        "ComplaintReopened",
        "ComplaintClosed",
        "ComplaintRejected",
        "ComplaintWithdrawn",
        "ResolutionRated",
        "PhotoAttached",
        "ThumbnailGenerated",
        "ThumbnailFailed",
    ];

    /// The stored event name.
    pub const fn stored_name(&self) -> &'static str {
        match self {
            ComplaintEvent::Filed { .. } => "ComplaintFiled",
            ComplaintEvent::Triaged { .. } => "ComplaintTriaged",
            ComplaintEvent::Assigned { .. } => "ComplaintAssigned",
            ComplaintEvent::WorkStarted { .. } => "WorkStarted",
            ComplaintEvent::PutOnHold { .. } => "ComplaintPutOnHold",
            ComplaintEvent::WorkResumed { .. } => "WorkResumed",
            ComplaintEvent::CommentAdded { .. } => "CommentAdded",
            ComplaintEvent::Resolved { .. } => "ComplaintResolved",
            ComplaintEvent::ResolutionConfirmed { .. } => "ResolutionConfirmed",
            ComplaintEvent::ResolutionDisputed { .. } => "ResolutionDisputed",
            ComplaintEvent::Reopened { .. } => "ComplaintReopened",
            ComplaintEvent::Closed { .. } => "ComplaintClosed",
            ComplaintEvent::Rejected { .. } => "ComplaintRejected",
            ComplaintEvent::Withdrawn { .. } => "ComplaintWithdrawn",
            ComplaintEvent::ResolutionRated { .. } => "ResolutionRated",
            ComplaintEvent::PhotoAttached { .. } => "PhotoAttached",
            ComplaintEvent::ThumbnailGenerated { .. } => "ThumbnailGenerated",
            ComplaintEvent::ThumbnailFailed { .. } => "ThumbnailFailed",
        }
    }

    /// Who caused the event.
    pub fn by(&self) -> &UserId {
        match self {
            ComplaintEvent::Filed { by, .. }
            | ComplaintEvent::Triaged { by, .. }
            | ComplaintEvent::Assigned { by, .. }
            | ComplaintEvent::WorkStarted { by, .. }
            | ComplaintEvent::PutOnHold { by, .. }
            | ComplaintEvent::WorkResumed { by, .. }
            | ComplaintEvent::CommentAdded { by, .. }
            | ComplaintEvent::Resolved { by, .. }
            | ComplaintEvent::ResolutionConfirmed { by, .. }
            | ComplaintEvent::ResolutionDisputed { by, .. }
            | ComplaintEvent::Reopened { by, .. }
            | ComplaintEvent::Closed { by, .. }
            | ComplaintEvent::Rejected { by, .. }
            | ComplaintEvent::Withdrawn { by, .. }
            | ComplaintEvent::ResolutionRated { by, .. }
            | ComplaintEvent::PhotoAttached { by, .. }
            | ComplaintEvent::ThumbnailGenerated { by, .. }
            | ComplaintEvent::ThumbnailFailed { by, .. } => by,
        }
    }

    /// Whether residents never learn of it: a comment that is not public.
    pub fn is_internal(&self) -> bool {
        matches!(self, ComplaintEvent::CommentAdded { visibility, .. } if *visibility != Visibility::Public)
    }

    /// When it happened (the command time).
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            ComplaintEvent::Filed { at, .. }
            | ComplaintEvent::Triaged { at, .. }
            | ComplaintEvent::Assigned { at, .. }
            | ComplaintEvent::WorkStarted { at, .. }
            | ComplaintEvent::PutOnHold { at, .. }
            | ComplaintEvent::WorkResumed { at, .. }
            | ComplaintEvent::CommentAdded { at, .. }
            | ComplaintEvent::Resolved { at, .. }
            | ComplaintEvent::ResolutionConfirmed { at, .. }
            | ComplaintEvent::ResolutionDisputed { at, .. }
            | ComplaintEvent::Reopened { at, .. }
            | ComplaintEvent::Closed { at, .. }
            | ComplaintEvent::Rejected { at, .. }
            | ComplaintEvent::Withdrawn { at, .. }
            | ComplaintEvent::ResolutionRated { at, .. }
            | ComplaintEvent::PhotoAttached { at, .. }
            | ComplaintEvent::ThumbnailGenerated { at, .. }
            | ComplaintEvent::ThumbnailFailed { at, .. } => *at,
        }
    }
}

impl DomainEvent for ComplaintEvent {
    fn event_type(&self) -> String {
        self.stored_name().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

//! Commands to the Complaint aggregate. [`ComplaintCommand`] is the envelope: the actor, the request
//! time and the facts of the complaint's hostel (loaded by the executor), around one [`ComplaintAction`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::types::{PhotoRole, Priority, Severity, Thumbnail, Visibility};
use crate::actor::Actor;
use crate::hostel::HostelFacts;
use crate::ids::{CategoryId, CommentId, ComplaintId, PhotoId, UserId, WingId};

/// A request to change a complaint, with everything the decision needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComplaintCommand {
    /// Who asks.
    pub by: Actor,
    /// When (the API's clock).
    pub at: DateTime<Utc>,
    /// The facts of the complaint's hostel (for `File`, the hostel it is filed in).
    pub hostel: HostelFacts,
    /// What is asked.
    pub action: ComplaintAction,
}

/// What a complaint command asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ComplaintAction {
    /// File a new complaint.
    File {
        /// The new complaint's id (equal to the aggregate id).
        id: ComplaintId,
        /// The resident the complaint is for.
        reporter: UserId,
        /// The wing, if the hostel has wings and the reporter names one.
        wing: Option<WingId>,
        /// The room, matching the hostel's room pattern.
        room: String,
        /// An active category of the hostel.
        category: CategoryId,
        /// The reporter's severity.
        severity: Severity,
        /// 3-120 chars after trimming.
        title: String,
        /// 10-4000 chars after trimming.
        description: String,
    },
    /// Set the priority, optionally correcting the category.
    Triage {
        /// The priority.
        priority: Priority,
        /// A corrected category, if the reporter's was wrong.
        category: Option<CategoryId>,
    },
    /// Assign (or reassign) a staff member.
    Assign {
        /// The staff member.
        assignee: UserId,
    },
    /// The assignee starts work.
    StartWork,
    /// Pause work.
    PutOnHold {
        /// Why (1-1000 chars).
        reason: String,
        /// Expected resume time, after the command's time.
        until: Option<DateTime<Utc>>,
    },
    /// Resume paused work.
    ResumeWork,
    /// Comment on the complaint.
    AddComment {
        /// The new comment's id.
        comment_id: CommentId,
        /// 1-4000 chars.
        body: String,
        /// Who may read it.
        visibility: Visibility,
    },
    /// The assignee reports the problem fixed.
    Resolve {
        /// What was done, 1-4000 chars.
        note: String,
        /// Attached photos with role After that show the result.
        after_photos: Vec<PhotoId>,
    },
    /// The reporter confirms the fix; the complaint closes.
    ConfirmResolution,
    /// The reporter disputes the fix within the hostel's dispute window; the complaint reopens.
    DisputeResolution {
        /// Why (1-1000 chars).
        reason: String,
    },
    /// Close the complaint (warden or admin).
    Close {
        /// Why (1-1000 chars), if stated.
        reason: Option<String>,
    },
    /// Refuse the complaint (warden or admin).
    Reject {
        /// Why (1-1000 chars).
        reason: String,
    },
    /// The reporter withdraws the complaint before work starts.
    Withdraw {
        /// Why (1-1000 chars), if stated.
        reason: Option<String>,
    },
    /// The reporter rates the resolution, once.
    RateResolution {
        /// 1-5.
        stars: u8,
        /// Optional remark, 1-1000 chars.
        comment: Option<String>,
    },
    /// Attach an uploaded photo.
    AttachPhoto {
        /// The new photo's id.
        photo_id: PhotoId,
        /// Where the upload is stored.
        object_key: String,
        /// MIME type: image/jpeg, image/png or image/webp.
        content_type: String,
        /// Bytes, 1..=[`super::MAX_PHOTO_BYTES`].
        size: u64,
        /// Lowercase hex SHA-256 (64 chars) of the upload.
        sha256: String,
        /// Before or after.
        role: PhotoRole,
    },
    /// The thumbnail worker reports thumbnails of a photo.
    RecordThumbnail {
        /// The photo.
        photo_id: PhotoId,
        /// The renditions (at least one).
        thumbnails: Vec<Thumbnail>,
    },
    /// The thumbnail worker gives up on a photo.
    RecordThumbnailFailure {
        /// The photo.
        photo_id: PhotoId,
        /// Why (1-1000 chars).
        reason: String,
    },
}

/// The kind of a [`ComplaintAction`], without its data (for errors, metrics and logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// [`ComplaintAction::File`].
    File,
    /// [`ComplaintAction::Triage`].
    Triage,
    /// [`ComplaintAction::Assign`].
    Assign,
    /// [`ComplaintAction::StartWork`].
    StartWork,
    /// [`ComplaintAction::PutOnHold`].
    PutOnHold,
    /// [`ComplaintAction::ResumeWork`].
    ResumeWork,
    /// [`ComplaintAction::AddComment`].
    AddComment,
    /// [`ComplaintAction::Resolve`].
    Resolve,
    /// [`ComplaintAction::ConfirmResolution`].
    ConfirmResolution,
    /// [`ComplaintAction::DisputeResolution`].
    DisputeResolution,
    /// [`ComplaintAction::Close`].
    Close,
    /// [`ComplaintAction::Reject`].
    Reject,
    /// [`ComplaintAction::Withdraw`].
    Withdraw,
    /// [`ComplaintAction::RateResolution`].
    RateResolution,
    /// [`ComplaintAction::AttachPhoto`].
    AttachPhoto,
    /// [`ComplaintAction::RecordThumbnail`].
    RecordThumbnail,
    /// [`ComplaintAction::RecordThumbnailFailure`].
    RecordThumbnailFailure,
}

impl ActionKind {
    /// The command's stable name, stored in every event's metadata (`command`), hashed into
    /// idempotency records and used as a metrics label: a public contract that never follows a Rust
    /// rename.
    pub const fn command_name(self) -> &'static str {
        match self {
            ActionKind::File => "FileComplaint",
            ActionKind::Triage => "TriageComplaint",
            ActionKind::Assign => "AssignComplaint",
            ActionKind::StartWork => "StartWork",
            ActionKind::PutOnHold => "PutOnHold",
            ActionKind::ResumeWork => "ResumeWork",
            ActionKind::AddComment => "AddComment",
            ActionKind::Resolve => "ResolveComplaint",
            ActionKind::ConfirmResolution => "ConfirmResolution",
            ActionKind::DisputeResolution => "DisputeResolution",
            ActionKind::Close => "CloseComplaint",
            ActionKind::Reject => "RejectComplaint",
            ActionKind::Withdraw => "WithdrawComplaint",
            ActionKind::RateResolution => "RateResolution",
            ActionKind::AttachPhoto => "AttachPhoto",
            ActionKind::RecordThumbnail => "RecordThumbnail",
            ActionKind::RecordThumbnailFailure => "RecordThumbnailFailure",
        }
    }

    /// The stable snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActionKind::File => "file",
            ActionKind::Triage => "triage",
            ActionKind::Assign => "assign",
            ActionKind::StartWork => "start_work",
            ActionKind::PutOnHold => "put_on_hold",
            ActionKind::ResumeWork => "resume_work",
            ActionKind::AddComment => "add_comment",
            ActionKind::Resolve => "resolve",
            ActionKind::ConfirmResolution => "confirm_resolution",
            ActionKind::DisputeResolution => "dispute_resolution",
            ActionKind::Close => "close",
            ActionKind::Reject => "reject",
            ActionKind::Withdraw => "withdraw",
            ActionKind::RateResolution => "rate_resolution",
            ActionKind::AttachPhoto => "attach_photo",
            ActionKind::RecordThumbnail => "record_thumbnail",
            ActionKind::RecordThumbnailFailure => "record_thumbnail_failure",
        }
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ComplaintAction {
    /// The command's stable name ([`ActionKind::command_name`]).
    pub const fn command_name(&self) -> &'static str {
        self.kind().command_name()
    }

    /// The kind of this action.
    pub const fn kind(&self) -> ActionKind {
        match self {
            ComplaintAction::File { .. } => ActionKind::File,
            ComplaintAction::Triage { .. } => ActionKind::Triage,
            ComplaintAction::Assign { .. } => ActionKind::Assign,
            ComplaintAction::StartWork => ActionKind::StartWork,
            ComplaintAction::PutOnHold { .. } => ActionKind::PutOnHold,
            ComplaintAction::ResumeWork => ActionKind::ResumeWork,
            ComplaintAction::AddComment { .. } => ActionKind::AddComment,
            ComplaintAction::Resolve { .. } => ActionKind::Resolve,
            ComplaintAction::ConfirmResolution => ActionKind::ConfirmResolution,
            ComplaintAction::DisputeResolution { .. } => ActionKind::DisputeResolution,
            ComplaintAction::Close { .. } => ActionKind::Close,
            ComplaintAction::Reject { .. } => ActionKind::Reject,
            ComplaintAction::Withdraw { .. } => ActionKind::Withdraw,
            ComplaintAction::RateResolution { .. } => ActionKind::RateResolution,
            ComplaintAction::AttachPhoto { .. } => ActionKind::AttachPhoto,
            ComplaintAction::RecordThumbnail { .. } => ActionKind::RecordThumbnail,
            ComplaintAction::RecordThumbnailFailure { .. } => ActionKind::RecordThumbnailFailure,
        }
    }
}

//! Value types of the Complaint aggregate: severity, priority, visibility, photo roles and thumbnails,
//! and the records a complaint keeps (comments, photos, assignments, the resolution, the rating).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CommentId, PhotoId, UserId};

/// How bad the reporter says the problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Cosmetic or minor.
    Low,
    /// Inconvenient.
    Medium,
    /// Something important does not work.
    High,
    /// Safety or health at risk.
    Urgent,
}

/// How urgent staff judge the complaint, P1 most urgent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    /// Most urgent.
    P1,
    /// Urgent.
    P2,
    /// Normal.
    P3,
    /// Whenever possible.
    P4,
}

/// Who may read a comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone who may see the complaint, the reporter included.
    Public,
    /// Staff, wardens, admins and auditors only.
    Internal,
}

/// Whether a photo shows the problem or the fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoRole {
    /// The problem, before work.
    Before,
    /// The result, after work.
    After,
}

/// A thumbnail rendition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThumbnailSize {
    /// Fits 320 px.
    Thumb320,
    /// Fits 1024 px.
    Large1024,
}

impl ThumbnailSize {
    /// The bounding box edge in pixels.
    pub const fn pixels(self) -> u32 {
        match self {
            ThumbnailSize::Thumb320 => 320,
            ThumbnailSize::Large1024 => 1024,
        }
    }
}

/// A generated thumbnail of a photo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thumbnail {
    /// Which rendition.
    pub size: ThumbnailSize,
    /// Where it is stored.
    pub object_key: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// A comment on a complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// The comment id.
    pub id: CommentId,
    /// The author.
    pub by: UserId,
    /// The text (trimmed).
    pub body: String,
    /// Who may read it.
    pub visibility: Visibility,
    /// When it was added.
    pub at: DateTime<Utc>,
}

/// A photo attached to a complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    /// The photo id.
    pub id: PhotoId,
    /// Where the original is stored.
    pub object_key: String,
    /// MIME type of the original.
    pub content_type: String,
    /// Size of the original in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the original.
    pub sha256: String,
    /// Before or after.
    pub role: PhotoRole,
    /// Who attached it.
    pub by: UserId,
    /// When.
    pub at: DateTime<Utc>,
    /// Generated thumbnails (empty until the worker reports).
    pub thumbnails: Vec<Thumbnail>,
    /// The worker's failure reason, if thumbnailing failed.
    pub thumbnail_failed: Option<String>,
}

/// One assignment in a complaint's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Who was assigned.
    pub assignee: UserId,
    /// Who assigned.
    pub by: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

/// The assignee's report that the problem is fixed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// What was done.
    pub note: String,
    /// Photos of the result (role After).
    pub after_photos: Vec<PhotoId>,
    /// Who resolved.
    pub by: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

/// The reporter's rating of a resolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// 1-5.
    pub stars: u8,
    /// Optional remark.
    pub comment: Option<String>,
    /// The reporter.
    pub by: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Why work is paused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The reason.
    pub reason: String,
    /// Expected resume time, if known.
    pub until: Option<DateTime<Utc>>,
    /// Who paused it.
    pub by: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

/// A disputed resolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    /// The reporter's reason.
    pub reason: String,
    /// The reporter.
    pub by: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

/// How a complaint reached a terminal status (Closed, Rejected or Withdrawn; the status says which).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The stated reason, if any.
    pub reason: Option<String>,
    /// Who ended it.
    pub by: UserId,
    /// When.
    pub at: DateTime<Utc>,
}

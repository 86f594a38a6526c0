//! Photos and their thumbnails. Uploads are attached by the reporter (before photos) or by staff,
//! wardens and admins (either role); the thumbnail worker (Service role, or an admin) records results.
//! Repeats are no-ops so retried uploads and redelivered worker messages are harmless.

use std::collections::BTreeSet;

use super::{reason, Ctx, Decision};
use crate::actor::Role;
use crate::complaint::{
    ActionKind, ComplaintError, ComplaintEvent, PhotoProblem, PhotoRole, Status, Thumbnail,
    MAX_PHOTOS, MAX_PHOTO_BYTES, PHOTO_CONTENT_TYPES,
};
use crate::ids::PhotoId;

const OBJECT_KEY_MAX: usize = 512;

/// The data of an `AttachPhoto` action.
pub(super) struct Upload {
    pub photo_id: PhotoId,
    pub object_key: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub role: PhotoRole,
}

fn invalid(problem: PhotoProblem) -> ComplaintError {
    ComplaintError::InvalidPhoto { problem }
}

fn valid_object_key(key: &str) -> bool {
    (1..=OBJECT_KEY_MAX).contains(&key.len()) && !key.chars().any(char::is_control)
}

pub(super) fn attach(ctx: &Ctx<'_>, upload: Upload) -> Decision {
    let action = ActionKind::AttachPhoto;
    match ctx.by.role {
        Role::Resident => {
            ctx.require_reporter(action)?;
            if upload.role == PhotoRole::After {
                return Err(ctx.forbid(action));
            }
        }
        Role::Staff | Role::Warden | Role::Admin => {}
        Role::Auditor | Role::Service => return Err(ctx.forbid(action)),
    }
    match ctx.status() {
        Status::Filed
        | Status::Triaged
        | Status::Assigned
        | Status::InProgress
        | Status::OnHold
        | Status::Resolved
        | Status::Reopened => {}
        Status::Closed | Status::Rejected | Status::Withdrawn => return Err(ctx.refuse(action)),
    }
    if !valid_object_key(&upload.object_key) {
        return Err(invalid(PhotoProblem::ObjectKey));
    }
    if !PHOTO_CONTENT_TYPES.contains(&upload.content_type.as_str()) {
        return Err(invalid(PhotoProblem::ContentType));
    }
    if !(1..=MAX_PHOTO_BYTES).contains(&upload.size) {
        return Err(invalid(PhotoProblem::Size));
    }
    let hex_ok = upload.sha256.len() == 64
        && upload
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_ok {
        return Err(invalid(PhotoProblem::Sha256));
    }
    let photos = &ctx.state.photos;
    if photos.iter().any(|p| p.sha256 == upload.sha256) {
        return Ok(vec![]);
    }
    if photos.iter().any(|p| p.id == upload.photo_id) {
        return Err(invalid(PhotoProblem::DuplicateId));
    }
    if photos.len() >= MAX_PHOTOS {
        return Err(ComplaintError::PhotoLimitReached { limit: MAX_PHOTOS });
    }
    Ok(vec![ComplaintEvent::PhotoAttached {
        photo_id: upload.photo_id,
        object_key: upload.object_key,
        content_type: upload.content_type,
        size: upload.size,
        sha256: upload.sha256,
        role: upload.role,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}

/// The thumbnail worker (Service) or an admin; any status, since the worker may be late.
fn require_worker(ctx: &Ctx<'_>, action: ActionKind) -> Result<(), ComplaintError> {
    match ctx.by.role {
        Role::Service | Role::Admin => {}
        Role::Resident | Role::Staff | Role::Warden | Role::Auditor => {
            return Err(ctx.forbid(action))
        }
    }
    match ctx.status() {
        Status::Filed
        | Status::Triaged
        | Status::Assigned
        | Status::InProgress
        | Status::OnHold
        | Status::Resolved
        | Status::Reopened
        | Status::Closed
        | Status::Rejected
        | Status::Withdrawn => Ok(()),
    }
}

pub(super) fn thumbnails(ctx: &Ctx<'_>, photo_id: PhotoId, thumbnails: Vec<Thumbnail>) -> Decision {
    require_worker(ctx, ActionKind::RecordThumbnail)?;
    let Some(photo) = ctx.state.photo(&photo_id) else {
        return Err(ComplaintError::UnknownPhoto { photo_id });
    };
    if !photo.thumbnails.is_empty() {
        return Ok(vec![]);
    }
    let mut sizes = BTreeSet::new();
    let well_formed = !thumbnails.is_empty()
        && thumbnails
            .iter()
            .all(|t| sizes.insert(t.size) && t.width > 0 && t.height > 0);
    if !well_formed {
        return Err(invalid(PhotoProblem::Thumbnails));
    }
    if !thumbnails.iter().all(|t| valid_object_key(&t.object_key)) {
        return Err(invalid(PhotoProblem::ObjectKey));
    }
    Ok(vec![ComplaintEvent::ThumbnailGenerated {
        photo_id,
        thumbnails,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}

pub(super) fn failure(ctx: &Ctx<'_>, photo_id: PhotoId, raw_reason: &str) -> Decision {
    require_worker(ctx, ActionKind::RecordThumbnailFailure)?;
    let Some(photo) = ctx.state.photo(&photo_id) else {
        return Err(ComplaintError::UnknownPhoto { photo_id });
    };
    if !photo.thumbnails.is_empty() || photo.thumbnail_failed.is_some() {
        return Ok(vec![]);
    }
    let reason = reason(raw_reason)?;
    Ok(vec![ComplaintEvent::ThumbnailFailed {
        photo_id,
        reason,
        by: ctx.by.id.clone(),
        at: ctx.at,
    }])
}

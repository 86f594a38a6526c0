//! Photo routes: multipart upload (every deployment), presigned upload and completion (S3), the
//! list of a complaint's photos, and serving a photo's renditions.
//!
//! Scope is the complaint's: a photo of a complaint the caller may not see answers 404 like the
//! complaint. Who may attach is the aggregate's rule (the reporter before photos; staff, wardens and
//! admins of the hostel either role; auditors and services never), checked by a dry run of the
//! decision BEFORE any object is written, so a refused caller never stores a byte.

mod presigned;
mod serve;
mod upload;

use axum::extract::DefaultBodyLimit;
use cms_domain::complaint::{Complaint, Photo, PhotoRole, ThumbnailSize};
use cms_domain::ids::ComplaintId;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::commands::executor::Loaded;
use crate::commands::http::CommandResponse;
use crate::error::ApiError;
use crate::state::AppState;
use cms_domain::complaint::MAX_PHOTO_BYTES;

/// Multipart framing allowance on top of the photo itself.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

pub(super) fn router() -> OpenApiRouter<AppState> {
    let limit = usize::try_from(MAX_PHOTO_BYTES + MULTIPART_OVERHEAD).unwrap_or(usize::MAX);
    let uploads = OpenApiRouter::new()
        .routes(routes!(upload::upload_photo, serve::list_photos))
        .layer(DefaultBodyLimit::max(limit));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(serve::get_photo))
        .routes(routes!(presigned::create_upload))
        .routes(routes!(presigned::complete_upload))
}

/// 413 `photo_too_large`.
fn too_large() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "photo_too_large",
        format!("a photo may be at most {MAX_PHOTO_BYTES} bytes (10 MiB)"),
    )
}

/// 415 `unsupported_photo_type`.
fn unsupported_type() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_photo_type",
        "only JPEG, PNG and WebP images are accepted (judged by the file's content, not its name or declared type)",
    )
}

/// `before` or `after`.
fn parse_role(text: &str) -> Result<PhotoRole, ApiError> {
    match text.trim() {
        "before" => Ok(PhotoRole::Before),
        "after" => Ok(PhotoRole::After),
        _ => Err(ApiError::bad_request(
            "invalid_photo_role",
            "role must be `before` or `after`",
        )),
    }
}

fn size_name(size: ThumbnailSize) -> &'static str {
    match size {
        ThumbnailSize::Thumb320 => "thumb",
        ThumbnailSize::Large1024 => "large",
    }
}

/// A photo as the API shows it: no object keys, links to its renditions once they exist.
pub(crate) fn photo_json(complaint: ComplaintId, photo: &Photo) -> Value {
    let status = if !photo.thumbnails.is_empty() {
        "ready"
    } else if photo.thumbnail_failed.is_some() {
        "failed"
    } else {
        "pending"
    };
    let base = format!("/v1/complaints/{complaint}/photos/{}", photo.id);
    let mut links = serde_json::Map::new();
    if status == "ready" {
        for t in &photo.thumbnails {
            links.insert(
                size_name(t.size).into(),
                json!({ "href": format!("{base}?size={}", size_name(t.size)), "width": t.width, "height": t.height }),
            );
        }
        links.insert(
            "original".into(),
            json!({ "href": format!("{base}?size=original") }),
        );
    }
    json!({
        "photo_id": photo.id,
        "role": photo.role,
        "content_type": photo.content_type,
        "size": photo.size,
        "sha256": photo.sha256,
        "by": photo.by,
        "at": photo.at,
        "status": status,
        "failure": photo.thumbnail_failed,
        "renditions": links,
    })
}

/// The answer for bytes the complaint already has: that photo, 200.
fn already_attached(
    complaint: ComplaintId,
    loaded: &Loaded<Complaint>,
    photo: &Photo,
) -> CommandResponse {
    CommandResponse(crate::commands::executor::Outcome {
        aggregate_id: complaint.to_string(),
        status_code: 200,
        body: json!({ "complaint_id": complaint, "photo": photo_json(complaint, photo), "existing": true }),
        position: loaded.position,
        events: Vec::new(),
        replayed: false,
    })
}

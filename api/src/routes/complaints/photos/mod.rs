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
use chrono::Utc;
use cms_domain::actor::Actor;
use cms_domain::complaint::{
    Complaint, ComplaintAction, ComplaintCommand, Photo, PhotoRole, ThumbnailSize,
};
use cms_domain::ids::{ComplaintId, PhotoId};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::commands::complaints::{hostel_facts, not_found};
use crate::commands::executor::Loaded;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::error::ApiError;
use crate::photos::{keys, ImageKind};
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

/// A photo about to be attached.
#[derive(Debug, Clone)]
struct NewPhoto {
    photo_id: PhotoId,
    kind: ImageKind,
    size: u64,
    sha256: String,
    role: PhotoRole,
}

impl NewPhoto {
    fn action(&self, complaint: ComplaintId) -> ComplaintAction {
        ComplaintAction::AttachPhoto {
            photo_id: self.photo_id,
            object_key: keys::upload(complaint, self.photo_id),
            content_type: self.kind.content_type().to_owned(),
            size: self.size,
            sha256: self.sha256.clone(),
            role: self.role,
        }
    }
}

/// The photo with these bytes already on the complaint, if any.
fn existing<'a>(loaded: &'a Loaded<Complaint>, sha256: &str) -> Option<&'a Photo> {
    loaded
        .state
        .state()?
        .photos()
        .iter()
        .find(|p| p.sha256 == sha256)
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

/// Runs the attach decision without committing: the caller's role, the complaint's status, the
/// photo's data and the photo limit, all before anything is stored.
///
/// # Errors
/// The aggregate's refusal, or 404 when the hostel is gone.
async fn dry_run(
    state: &AppState,
    actor: &Actor,
    complaint: ComplaintId,
    loaded: &Loaded<Complaint>,
    photo: &NewPhoto,
) -> Result<(), ApiError> {
    let hostel = loaded.state.hostel().cloned().ok_or_else(not_found)?;
    let facts = hostel_facts(&state.executor, &hostel).await?;
    let command = ComplaintCommand {
        by: actor.clone(),
        at: Utc::now(),
        hostel: facts,
        action: photo.action(complaint),
    };
    loaded.state.decide(command)?;
    Ok(())
}

/// Commits `PhotoAttached` for an upload already stored under its key; answers 201 with the photo
/// (or, when the same bytes won a race, with the photo that has them).
///
/// # Errors
/// The aggregate's refusal, a conflict, or a storage failure.
async fn commit(
    state: &AppState,
    actor: &Actor,
    headers: &CommandHeaders,
    complaint: ComplaintId,
    loaded: Loaded<Complaint>,
    photo: &NewPhoto,
    command: &'static str,
) -> Result<CommandResponse, ApiError> {
    let executor = &state.executor;
    let hostel = loaded.state.hostel().cloned().ok_or_else(not_found)?;
    let facts = hostel_facts(executor, &hostel).await?;
    let target = complaint.to_string();
    let request = json!({
        "photo_id": photo.photo_id, "role": photo.role, "sha256": photo.sha256, "size": photo.size,
    });
    let ctx = headers.context(actor, command, &target, &request, Some(hostel.to_string()))?;
    let command = ComplaintCommand {
        by: actor.clone(),
        at: Utc::now(),
        hostel: facts,
        action: photo.action(complaint),
    };
    let sha256 = photo.sha256.clone();
    let outcome = executor
        .execute::<Complaint, _>(&ctx, &target, Some(loaded), 201, command, |c| {
            let photo = c
                .state()
                .and_then(|s| s.photos().iter().find(|p| p.sha256 == sha256));
            json!({
                "complaint_id": complaint,
                "photo": photo.map(|p| photo_json(complaint, p)),
            })
        })
        .await?;
    Ok(CommandResponse(outcome))
}

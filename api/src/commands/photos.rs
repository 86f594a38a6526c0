//! Commands on photos: attaching an upload (multipart or presigned) to a complaint. The decision is
//! dry-run BEFORE any object is written, so a refused caller never stores a byte; the attach itself
//! then runs through the [`Executor`](super::executor::Executor) like any complaint command.

use chrono::Utc;
use cms_domain::actor::Actor;
use cms_domain::complaint::{Complaint, ComplaintAction, ComplaintCommand, Photo, PhotoRole};
use cms_domain::ids::{ComplaintId, PhotoId};
use serde_json::{json, Value};

use super::complaints::{hostel_facts, not_found};
use super::executor::{Executor, Loaded};
use super::http::{CommandHeaders, CommandResponse};
use crate::error::ApiError;

/// A photo about to be attached.
#[derive(Debug, Clone)]
pub(crate) struct NewPhoto {
    /// The name of the command that attaches it (its route's), for metadata and idempotency.
    pub command: &'static str,
    pub photo_id: PhotoId,
    /// Where the upload is stored (`photos::keys::upload`).
    pub object_key: String,
    /// Its MIME type, judged by its bytes.
    pub content_type: &'static str,
    pub size: u64,
    pub sha256: String,
    pub role: PhotoRole,
}

impl NewPhoto {
    pub(crate) fn action(&self) -> ComplaintAction {
        ComplaintAction::AttachPhoto {
            photo_id: self.photo_id,
            object_key: self.object_key.clone(),
            content_type: self.content_type.to_owned(),
            size: self.size,
            sha256: self.sha256.clone(),
            role: self.role,
        }
    }
}

/// The photo with these bytes already on the complaint, if any.
pub(crate) fn existing<'a>(loaded: &'a Loaded<Complaint>, sha256: &str) -> Option<&'a Photo> {
    loaded
        .state
        .state()?
        .photos()
        .iter()
        .find(|p| p.sha256 == sha256)
}

/// Runs the attach decision without committing: the caller's role, the complaint's status, the
/// photo's data and the photo limit, all before anything is stored.
///
/// # Errors
/// The aggregate's refusal, or 404 when the hostel is gone.
pub(crate) async fn dry_run(
    executor: &Executor,
    actor: &Actor,
    loaded: &Loaded<Complaint>,
    photo: &NewPhoto,
) -> Result<(), ApiError> {
    let hostel = loaded.state.hostel().cloned().ok_or_else(not_found)?;
    let facts = hostel_facts(executor, &hostel).await?;
    let command = ComplaintCommand {
        by: actor.clone(),
        at: Utc::now(),
        hostel: facts,
        action: photo.action(),
    };
    loaded.state.decide(command)?;
    Ok(())
}

/// Commits `PhotoAttached` for an upload already stored under its key; answers 201 with the photo
/// as `render` shows it (or, when the same bytes won a race, with the photo that has them).
///
/// # Errors
/// The aggregate's refusal, a conflict, or a storage failure.
pub(crate) async fn attach(
    executor: &Executor,
    actor: &Actor,
    headers: &CommandHeaders,
    complaint: ComplaintId,
    loaded: Loaded<Complaint>,
    photo: &NewPhoto,
    render: impl Fn(&Photo) -> Value + Send + Sync,
) -> Result<CommandResponse, ApiError> {
    let hostel = loaded.state.hostel().cloned().ok_or_else(not_found)?;
    let facts = hostel_facts(executor, &hostel).await?;
    let target = complaint.to_string();
    let request = json!({
        "photo_id": photo.photo_id, "role": photo.role, "sha256": photo.sha256, "size": photo.size,
    });
    let ctx = headers.context(
        actor,
        photo.command,
        &target,
        &request,
        Some(hostel.to_string()),
    )?;
    let command = ComplaintCommand {
        by: actor.clone(),
        at: Utc::now(),
        hostel: facts,
        action: photo.action(),
    };
    let sha256 = photo.sha256.clone();
    let outcome = executor
        .execute::<Complaint, _>(&ctx, &target, Some(loaded), 201, command, |c| {
            let photo = c
                .state()
                .and_then(|s| s.photos().iter().find(|p| p.sha256 == sha256));
            json!({
                "complaint_id": complaint,
                "photo": photo.map(&render),
            })
        })
        .await?;
    Ok(CommandResponse(outcome))
}

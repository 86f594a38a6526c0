//! The presigned upload flow (S3 only): `POST /v1/complaints/{id}/photos/uploads` declares a photo
//! (role, content type, size, SHA-256) and gets a PUT URL bound to a server-chosen key, that content
//! type and that exact length, valid for 5 minutes; the client uploads straight to the bucket, then
//! `POST /v1/complaints/{id}/photos/{photo_id}/complete` checks the stored object against the
//! declaration (size, type by magic bytes, checksum) before `PhotoAttached` is committed. The
//! declaration is kept as a small JSON object beside the upload (`intent.json`), so no table is needed.
//! A key is never reused: an upload that does not match must start again with a new declaration.

use std::time::Duration;

use axum::extract::State;
use chrono::{DateTime, Utc};
use cms_domain::complaint::PhotoRole;
use cms_domain::ids::{ComplaintId, PhotoId, UserId};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{already_attached, parse_role, photo_json, too_large, unsupported_type};
use crate::auth::AuthUser;
use crate::commands::complaints::load_visible;
use crate::commands::executor::Outcome;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::commands::photos::{attach, dry_run, existing, NewPhoto};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::objects::ObjectError;
use crate::photos::sweep::COMPLETE_WITHIN;
use crate::photos::{keys, sha256_hex, ImageKind};
use crate::state::AppState;
use cms_domain::complaint::MAX_PHOTO_BYTES;

/// The command names of the two steps of a presigned upload, stored in event metadata and hashed
/// into idempotency records (the domain action of the second step is `AttachPhoto`).
const REQUEST_PHOTO_UPLOAD: &str = "RequestPhotoUpload";
const COMPLETE_PHOTO_UPLOAD: &str = "CompletePhotoUpload";
/// How long a presigned PUT stays valid.
pub const PRESIGNED_PUT_TTL: Duration = Duration::from_secs(300);

/// A photo the client is about to upload.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// `before` or `after`.
    pub role: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// Exact size in bytes (at most 10 MiB).
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
}

/// What `complete` checks the object against.
#[derive(Debug, Serialize, Deserialize)]
struct Intent {
    role: PhotoRole,
    content_type: String,
    size: u64,
    sha256: String,
    by: UserId,
    expires_at: DateTime<Utc>,
}

impl Intent {
    /// The same photo declared by the same caller (the expiry may differ).
    fn same_declaration(&self, other: &Intent) -> bool {
        (
            self.role,
            &self.content_type,
            self.size,
            &self.sha256,
            &self.by,
        ) == (
            other.role,
            &other.content_type,
            other.size,
            &other.sha256,
            &other.by,
        )
    }
}

fn unavailable() -> ApiError {
    ApiError::conflict(
        "presigned_uploads_unavailable",
        "presigned uploads need the S3 object store; POST the photo as multipart/form-data to \
         /v1/complaints/{id}/photos instead",
    )
}

/// Declare a photo and get a presigned PUT URL (S3 only).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/photos/uploads", tag = "photos", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UploadRequest,
    responses(
        (status = 201, description = "upload URL, method, headers to send, expiry and photo_id"),
        (status = 200, description = "these bytes are already attached; body has that photo"),
        (status = 409, description = "not on S3 (use the multipart upload), or ten photos already"),
        (status = 413, description = "size over 10 MiB"),
        (status = 415, description = "content type not JPEG, PNG or WebP")
    )
)]
pub(super) async fn create_upload(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    ApiJson(body): ApiJson<UploadRequest>,
) -> Result<CommandResponse, ApiError> {
    let loaded = load_visible(&state.executor, &actor, id).await?;
    let role = parse_role(&body.role)?;
    let kind = ImageKind::from_content_type(&body.content_type).ok_or_else(unsupported_type)?;
    if body.size > MAX_PHOTO_BYTES {
        return Err(too_large());
    }
    if let Some(photo) = existing(&loaded, &body.sha256) {
        return Ok(already_attached(id, &loaded, photo));
    }
    let request = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let photo_id = PhotoId::new(
        headers
            .context(
                &actor,
                REQUEST_PHOTO_UPLOAD,
                &id.to_string(),
                &request,
                None,
            )?
            .new_aggregate_id("photo"),
    );
    let photo = NewPhoto {
        command: REQUEST_PHOTO_UPLOAD,
        photo_id,
        object_key: keys::upload(id, photo_id),
        content_type: kind.content_type(),
        size: body.size,
        sha256: body.sha256.clone(),
        role,
    };
    // Size 0, a malformed digest, the caller's role, the status and the photo limit.
    dry_run(&state.executor, &actor, &loaded, &photo).await?;
    let key = keys::upload(id, photo_id);
    let presigned = state
        .objects
        .presign_put(&key, kind.content_type(), body.size, PRESIGNED_PUT_TTL)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(unavailable)?;
    let expires_at =
        Utc::now() + chrono::Duration::from_std(PRESIGNED_PUT_TTL).map_err(ApiError::internal)?;
    let intent = Intent {
        role,
        content_type: kind.content_type().to_owned(),
        size: body.size,
        sha256: body.sha256,
        by: actor.id.clone(),
        expires_at,
    };
    let intent_json = serde_json::to_vec(&intent).map_err(ApiError::internal)?;
    let intent_key = keys::intent(id, photo_id);
    match state.objects.put_if_absent(&intent_key, &intent_json).await {
        Ok(_) => {}
        // A retry with the same Idempotency-Key names the same photo: the declaration must match.
        Err(ObjectError::Conflict(_)) => {
            let stored = state
                .objects
                .get(&intent_key)
                .await
                .map_err(ApiError::internal)?
                .ok_or_else(|| ApiError::internal(format!("intent {intent_key} vanished")))?;
            let stored: Intent = serde_json::from_slice(&stored).map_err(ApiError::internal)?;
            if !stored.same_declaration(&intent) {
                return Err(ApiError::unprocessable(
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used to declare a different upload",
                ));
            }
        }
        Err(e) => return Err(ApiError::internal(e)),
    }
    let headers: serde_json::Map<String, serde_json::Value> = presigned
        .headers
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    Ok(CommandResponse(Outcome {
        aggregate_id: id.to_string(),
        status_code: 201,
        body: json!({
            "complaint_id": id,
            "photo_id": photo_id,
            "upload": {
                "method": presigned.method,
                "url": presigned.url,
                "headers": headers,
                "expires_at": expires_at,
            },
            "complete": format!("/v1/complaints/{id}/photos/{photo_id}/complete"),
        }),
        position: loaded.position,
        events: Vec::new(),
        replayed: false,
    }))
}

fn mismatch(message: String) -> ApiError {
    ApiError::unprocessable(
        "upload_mismatch",
        format!("{message}; request a new upload URL and upload again"),
    )
}

/// Check an uploaded object and attach it.
#[utoipa::path(
    post, path = "/v1/complaints/{id}/photos/{photo_id}/complete", tag = "photos",
    security(("bearer" = [])), params(("id" = String, Path), ("photo_id" = String, Path)),
    responses(
        (status = 201, description = "attached; body has the photo"),
        (status = 200, description = "already attached"),
        (status = 404, description = "no such upload for this caller"),
        (status = 409, description = "nothing uploaded yet"),
        (status = 410, description = "`upload_expired`: more than an hour after the upload URL expired"),
        (status = 422, description = "the object differs from the declaration (size, type or checksum)")
    )
)]
pub(super) async fn complete_upload(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath((id, photo_id)): ApiPath<(ComplaintId, PhotoId)>,
) -> Result<CommandResponse, ApiError> {
    let loaded = load_visible(&state.executor, &actor, id).await?;
    if let Some(photo) = loaded.state.state().and_then(|s| s.photo(&photo_id)) {
        return Ok(already_attached(id, &loaded, photo));
    }
    let not_found =
        || ApiError::not_found("upload_not_found", "no upload with this id was requested");
    let intent = state
        .objects
        .get(&keys::intent(id, photo_id))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    let intent: Intent = serde_json::from_slice(&intent).map_err(ApiError::internal)?;
    if intent.by != actor.id {
        return Err(not_found());
    }
    // Past this an unattached upload may be swept away (`cms photos sweep`): it cannot be completed.
    let deadline =
        intent.expires_at + chrono::Duration::from_std(COMPLETE_WITHIN).unwrap_or_default();
    if Utc::now() > deadline {
        return Err(ApiError::new(
            axum::http::StatusCode::GONE,
            "upload_expired",
            "this upload can no longer be completed (an hour after its URL expired); request a new one",
        ));
    }
    // One request for the size and the bytes; the size is checked before any byte is read.
    let body = state
        .objects
        .open(&keys::upload(id, photo_id))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::conflict(
                "upload_missing",
                "nothing has been uploaded to this photo's URL yet; upload it, then complete",
            )
        })?;
    let size = body.size;
    if size != intent.size {
        return Err(mismatch(format!(
            "the uploaded object is {size} bytes, not the declared {}",
            intent.size
        )));
    }
    let capacity = usize::try_from(size).unwrap_or(0);
    let bytes = body
        .stream
        .try_fold(
            Vec::with_capacity(capacity),
            |mut bytes, chunk| async move {
                bytes.extend_from_slice(&chunk);
                Ok(bytes)
            },
        )
        .await
        .map_err(ApiError::internal)?;
    let kind = ImageKind::sniff(&bytes);
    if kind.map(ImageKind::content_type) != Some(intent.content_type.as_str()) {
        return Err(mismatch(format!(
            "the uploaded object is not a {} image",
            intent.content_type
        )));
    }
    let sha256 = sha256_hex(&bytes);
    if sha256 != intent.sha256 {
        return Err(mismatch(
            "the uploaded object's SHA-256 differs from the declared one".into(),
        ));
    }
    if let Some(photo) = existing(&loaded, &sha256) {
        return Ok(already_attached(id, &loaded, photo));
    }
    let photo = NewPhoto {
        command: COMPLETE_PHOTO_UPLOAD,
        photo_id,
        object_key: keys::upload(id, photo_id),
        content_type: kind.ok_or_else(unsupported_type)?.content_type(),
        size,
        sha256,
        role: intent.role,
    };
    attach(&state.executor, &actor, &headers, id, loaded, &photo, |p| {
        photo_json(id, p)
    })
    .await
}

//! `POST /v1/complaints/{id}/photos`: a photo as `multipart/form-data` with a `role` field (`before`
//! or `after`) and a `file` field (JPEG, PNG or WebP by content, at most 10 MiB). The same bytes
//! attached again answer the photo that already has them (200); a new photo answers 201.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use cms_domain::complaint::PhotoRole;
use cms_domain::ids::{ComplaintId, PhotoId};

use super::{already_attached, parse_role, photo_json, too_large, unsupported_type};
use crate::auth::AuthUser;
use crate::commands::complaints::load_visible;
use crate::commands::http::{CommandHeaders, CommandResponse};
use crate::commands::photos::{attach, dry_run, existing, NewPhoto};
use crate::error::{ApiError, ApiPath};
use crate::metrics::names::PHOTO_UPLOADS;
use crate::objects::ObjectError;
use crate::photos::{keys, sha256_hex, ImageKind};
use crate::state::AppState;
use cms_domain::complaint::ActionKind;
use cms_domain::complaint::MAX_PHOTO_BYTES;

fn invalid_multipart(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_multipart", message)
}

fn from_multipart_error(error: &axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        invalid_multipart(format!(
            "the multipart body could not be read: {}",
            error.body_text()
        ))
    }
}

/// The form's two fields.
struct Form {
    role: PhotoRole,
    bytes: Vec<u8>,
}

async fn read_form(mut multipart: Multipart) -> Result<Form, ApiError> {
    let (mut role, mut bytes) = (None, None);
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| from_multipart_error(&e))?
    {
        match field.name() {
            Some("role") => {
                let text = field.text().await.map_err(|e| from_multipart_error(&e))?;
                role = Some(parse_role(&text)?);
            }
            Some("file") => {
                let mut data = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| from_multipart_error(&e))? {
                    if (data.len() + chunk.len()) as u64 > MAX_PHOTO_BYTES {
                        return Err(too_large());
                    }
                    data.extend_from_slice(&chunk);
                }
                bytes = Some(data);
            }
            other => {
                return Err(invalid_multipart(format!(
                    "unexpected field {:?}: send only `role` and `file`",
                    other.unwrap_or("")
                )))
            }
        }
    }
    let role =
        role.ok_or_else(|| invalid_multipart("the `role` field (before or after) is missing"))?;
    let bytes = bytes.ok_or_else(|| invalid_multipart("the `file` field is missing"))?;
    if bytes.is_empty() {
        return Err(ApiError::unprocessable("empty_photo", "the file is empty"));
    }
    Ok(Form { role, bytes })
}

/// Attach a photo (multipart upload).
#[utoipa::path(
    post, path = "/v1/complaints/{id}/photos", tag = "photos", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "fields `role` (before|after) and `file`"),
    responses(
        (status = 201, description = "attached; body has the photo"),
        (status = 200, description = "these bytes are already attached; body has that photo"),
        (status = 400, description = "malformed form or role"),
        (status = 403, description = "the caller may not attach (this role of) photo"),
        (status = 404, description = "complaint absent or not visible"),
        (status = 409, description = "ten photos already"),
        (status = 413, description = "over 10 MiB"),
        (status = 415, description = "not JPEG, PNG or WebP")
    )
)]
pub(super) async fn upload_photo(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    headers: CommandHeaders,
    ApiPath(id): ApiPath<ComplaintId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<CommandResponse, ApiError> {
    let result = receive(state, actor, headers, id, multipart).await;
    let outcome = match &result {
        Ok((_, outcome)) => *outcome,
        Err(error) if error.status().is_server_error() => "error",
        Err(_) => "refused",
    };
    metrics::counter!(PHOTO_UPLOADS, "outcome" => outcome).increment(1);
    result.map(|(response, _)| response)
}

/// The upload itself; also says how it ended for the [`PHOTO_UPLOADS`] metric (`accepted`,
/// `duplicate`).
async fn receive(
    state: AppState,
    actor: cms_domain::actor::Actor,
    headers: CommandHeaders,
    id: ComplaintId,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(CommandResponse, &'static str), ApiError> {
    let multipart = multipart.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "expected `multipart/form-data` with fields `role` and `file` ({})",
                e.body_text()
            ),
        )
    })?;
    // Scope first: a caller who may not see the complaint learns nothing, not even about the form.
    let loaded = load_visible(&state.executor, &actor, id).await?;
    let form = read_form(multipart).await?;
    let kind = ImageKind::sniff(&form.bytes).ok_or_else(unsupported_type)?;
    let sha256 = sha256_hex(&form.bytes);
    if let Some(photo) = existing(&loaded, &sha256) {
        return Ok((already_attached(id, &loaded, photo), "duplicate"));
    }
    // With an Idempotency-Key the id is derived from it, so a retried request names the same photo.
    let photo_id = headers
        .context(
            &actor,
            ActionKind::AttachPhoto.command_name(),
            &id.to_string(),
            &serde_json::json!({}),
            None,
        )?
        .new_aggregate_id("photo");
    let photo = NewPhoto {
        command: ActionKind::AttachPhoto.command_name(),
        photo_id: PhotoId::new(photo_id),
        object_key: keys::upload(id, PhotoId::new(photo_id)),
        content_type: kind.content_type(),
        size: form.bytes.len() as u64,
        sha256,
        role: form.role,
    };
    dry_run(&state.executor, &actor, &loaded, &photo).await?;
    state
        .objects
        .put_if_absent(&keys::upload(id, photo.photo_id), &form.bytes)
        .await
        .map_err(|error| match error {
            // The photo id comes from the Idempotency-Key, which already named other bytes.
            ObjectError::Conflict(_) => ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different photo; use a new key",
            ),
            other => ApiError::internal(other),
        })?;
    let response = attach(&state.executor, &actor, &headers, id, loaded, &photo, |p| {
        photo_json(id, p)
    })
    .await?;
    Ok((response, "accepted"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn roles_are_before_or_after() {
        assert!(super::parse_role("before").is_ok());
        assert!(super::parse_role(" after\n").is_ok());
        assert_eq!(
            super::parse_role("during").unwrap_err().code(),
            "invalid_photo_role"
        );
    }
}

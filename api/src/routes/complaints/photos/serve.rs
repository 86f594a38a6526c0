//! `GET /v1/complaints/{id}/photos` (the list) and `GET /v1/complaints/{id}/photos/{photo_id}` with
//! `?size=thumb|large|original`. Every size is a JPEG the worker re-encoded without metadata; the
//! uploaded bytes are never served (docs/adr/0010). On S3 the answer is a redirect to a GET presigned
//! for at most 60 seconds; from a local folder the image is streamed. Until the worker has rendered
//! the photo the answer is 409 `photo_not_ready` (with `Retry-After`); a photo that cannot be
//! rendered answers 422 `photo_unrenderable`.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cms_domain::complaint::ThumbnailSize;
use cms_domain::ids::{ComplaintId, PhotoId};
use serde::Deserialize;
use serde_json::{json, Value};

use super::photo_json;
use crate::auth::AuthUser;
use crate::commands::complaints::load_visible;
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::photos::keys;
use crate::state::AppState;

/// How long a presigned GET stays valid.
pub const PRESIGNED_GET_TTL: Duration = Duration::from_secs(60);

/// The rendition asked for.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Size {
    /// Fits 320 px.
    Thumb,
    /// Fits 1024 px (the default).
    #[default]
    Large,
    /// Full size, re-encoded without metadata.
    Original,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SizeQuery {
    #[serde(default)]
    size: Size,
}

/// The photos of a complaint.
#[utoipa::path(
    get, path = "/v1/complaints/{id}/photos", tag = "photos", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the photos, with links to their renditions once rendered"),
              (status = 404, description = "complaint absent or not visible"))
)]
pub(super) async fn list_photos(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiPath(id): ApiPath<ComplaintId>,
) -> Result<Json<Value>, ApiError> {
    let loaded = load_visible(&state.executor, &actor, id).await?;
    let photos: Vec<Value> = loaded
        .state
        .state()
        .map(|s| s.photos().iter().map(|p| photo_json(id, p)).collect())
        .unwrap_or_default();
    Ok(Json(json!({
        "complaint_id": id,
        "photos": photos,
        "position": loaded.position,
    })))
}

fn with_nosniff(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// One rendition of a photo.
#[utoipa::path(
    get, path = "/v1/complaints/{id}/photos/{photo_id}", tag = "photos", security(("bearer" = [])),
    params(("id" = String, Path), ("photo_id" = String, Path),
           ("size" = Option<String>, Query, description = "thumb, large (default) or original")),
    responses(
        (status = 200, description = "the JPEG (local folder)", content_type = "image/jpeg"),
        (status = 307, description = "redirect to a presigned GET valid for 60 s (S3)"),
        (status = 404, description = "complaint or photo absent, or not visible"),
        (status = 409, description = "not rendered yet; retry"),
        (status = 422, description = "the photo could not be rendered")
    )
)]
pub(super) async fn get_photo(
    State(state): State<AppState>,
    AuthUser(actor): AuthUser,
    ApiPath((id, photo_id)): ApiPath<(ComplaintId, PhotoId)>,
    ApiQuery(query): ApiQuery<SizeQuery>,
) -> Result<Response, ApiError> {
    let loaded = load_visible(&state.executor, &actor, id).await?;
    let photo = loaded
        .state
        .state()
        .and_then(|s| s.photo(&photo_id))
        .ok_or_else(|| ApiError::not_found("photo_not_found", "photo not found"))?;
    if photo.thumbnails.is_empty() {
        if photo.thumbnail_failed.is_some() {
            return Err(ApiError::unprocessable(
                "photo_unrenderable",
                "the photo could not be rendered (it is not a usable image), so it cannot be served",
            ));
        }
        let mut response = ApiError::conflict(
            "photo_not_ready",
            "the photo is still being processed; try again shortly",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Ok(response);
    }
    let key = match query.size {
        Size::Thumb => keys::thumbnail(id, photo_id, ThumbnailSize::Thumb320),
        Size::Large => keys::thumbnail(id, photo_id, ThumbnailSize::Large1024),
        Size::Original => keys::full(id, photo_id),
    };
    let objects = &state.objects;
    if let Some(presigned) = objects
        .presign_get(&key, PRESIGNED_GET_TTL)
        .await
        .map_err(ApiError::internal)?
    {
        let location = HeaderValue::from_str(&presigned.url).map_err(ApiError::internal)?;
        let response = (
            StatusCode::TEMPORARY_REDIRECT,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response();
        return Ok(with_nosniff(response));
    }
    let body = objects
        .open(&key)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal(format!("rendition {key} is recorded but missing")))?;
    let response = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::CONTENT_LENGTH, HeaderValue::from(body.size)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=60"),
            ),
        ],
        Body::from_stream(body.stream),
    )
        .into_response();
    Ok(with_nosniff(response))
}

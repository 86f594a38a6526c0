//! The one error envelope of the HTTP API. Every failure, whether a handler's refusal, an extractor's
//! rejection, an unknown route or an internal fault, leaves the service as
//! `{"error":{"code":"snake_case_code","message":"..."}}` with a stable `code`. This module owns
//! [`ApiError`], the validating extractors [`ApiJson`], [`ApiPath`] and [`ApiQuery`] whose rejections use
//! that envelope, and the router fallbacks for unknown routes (404) and unsupported methods (405).
//! Internal errors are logged once, here, and answer with a generic message: no SQL, paths or stack
//! traces ever reach a client.

use std::fmt;

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A failed request, rendered as the JSON error envelope.
///
/// Build one with the constructor named after its status; `code` must be a stable snake_case string
/// (clients match on it), `message` is for humans and must not contain secrets.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    www_authenticate: Option<HeaderValue>,
}

impl ApiError {
    /// An error with any status. Prefer the named constructors.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            www_authenticate: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: the caller is not authenticated. Carries a `WWW-Authenticate: Bearer` challenge.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
            .with_www_authenticate(HeaderValue::from_static("Bearer realm=\"cms\""))
    }

    /// 403: the caller is known but may not do this.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404: the resource does not exist (or the caller may not know that it does).
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 422: the body is well-formed JSON but its content breaks a rule.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 413 `payload_too_large`: the body is over the configured limit.
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// 500 `internal`: logs `cause` once (inside the current request span) and answers with a generic
    /// message, so nothing of the cause reaches the client.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// Replaces the `WWW-Authenticate` challenge sent with this error.
    #[must_use]
    pub fn with_www_authenticate(mut self, challenge: HeaderValue) -> Self {
        self.www_authenticate = Some(challenge);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let envelope = Envelope {
            error: Body {
                code: self.code,
                message: &self.message,
            },
        };
        let mut response = (self.status, axum::Json(envelope)).into_response();
        if let Some(challenge) = self.www_authenticate {
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonSyntaxError(err) => {
                Self::bad_request("malformed_json", inner_message(&err))
            }
            JsonRejection::JsonDataError(err) => {
                Self::unprocessable("invalid_body", inner_message(&err))
            }
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected a request with `Content-Type: application/json`",
            ),
            JsonRejection::BytesRejection(err) => Self::from(err),
            other => Self::bad_request("invalid_body", other.body_text()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::payload_too_large("the request body is larger than the limit")
        } else {
            Self::bad_request("unreadable_body", "the request body could not be read")
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            PathRejection::FailedToDeserializePathParams(err) => {
                Self::bad_request("invalid_path", err.body_text())
            }
            // A route whose handler asks for parameters it does not declare: a programming error.
            other => Self::internal(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request("invalid_query", rejection.body_text())
    }
}

/// The text of the serde error inside an axum rejection, without axum's generic prefix. serde names
/// the field and the expected type; it never contains more of the body than the offending token.
fn inner_message(err: &dyn std::error::Error) -> String {
    match err.source() {
        Some(source) => source.to_string(),
        None => err.to_string(),
    }
}

/// A JSON body whose rejections use the error envelope; also a JSON response.
///
/// Syntax errors answer 400 `malformed_json`; content that does not fit `T` (unknown fields under
/// `deny_unknown_fields`, wrong types, `TryFrom` validation) 422 `invalid_body`; a missing or wrong
/// content type 415 `unsupported_media_type`; a body over the limit 413 `payload_too_large`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters whose rejection is 400 `invalid_path` (for example a malformed UUID).
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// A query string whose rejection is 400 `invalid_query`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// Router fallback for unknown routes: 404 `route_not_found`.
pub async fn not_found_fallback() -> ApiError {
    ApiError::not_found("route_not_found", "no route matches this path")
}

/// Fallback for a known route called with a method it does not support: 405 `method_not_allowed`.
/// axum still adds the `Allow` header.
pub async fn method_not_allowed_fallback() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not support the request method",
    )
}

/// Installs both fallbacks. Call it after every route is added: axum applies the 405 fallback to the
/// method routers registered so far.
pub fn with_error_fallbacks<S>(router: Router<S>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .fallback(not_found_fallback)
        .method_not_allowed_fallback(method_not_allowed_fallback)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::extract::DefaultBodyLimit;
    use axum::http::header::{ALLOW, CONTENT_TYPE};
    use axum::routing::{get, post};
    use http_body_util::BodyExt;
    use serde::Deserialize;
    use tower::ServiceExt;

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    struct Note {
        title: String,
        pages: u32,
    }

    #[derive(Debug, Deserialize)]
    struct Paging {
        #[allow(dead_code)]
        limit: u32,
    }

    async fn echo(ApiJson(note): ApiJson<Note>) -> ApiJson<Note> {
        ApiJson(note)
    }

    async fn by_id(ApiPath(id): ApiPath<uuid::Uuid>) -> String {
        id.to_string()
    }

    async fn page(ApiQuery(_): ApiQuery<Paging>) -> &'static str {
        "ok"
    }

    async fn boom() -> Result<(), ApiError> {
        Err(ApiError::internal("disk on fire at /var/lib/secret.db"))
    }

    fn app() -> Router {
        with_error_fallbacks(
            Router::new()
                .route("/notes", post(echo))
                .route("/notes/{id}", get(by_id))
                .route("/pages", get(page))
                .route("/boom", get(boom))
                .layer(DefaultBodyLimit::max(64)),
        )
    }

    async fn call(req: Request) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
        let response = app().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, headers, json)
    }

    fn post_json(body: &str) -> Request {
        Request::post("/notes")
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    fn code(json: &serde_json::Value) -> &str {
        json["error"]["code"].as_str().unwrap_or("<no code>")
    }

    #[tokio::test]
    async fn a_valid_body_round_trips_as_json() {
        let (status, _, json) = call(post_json(r#"{"title":"tap","pages":2}"#)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json, serde_json::json!({"title":"tap","pages":2}));
    }

    #[tokio::test]
    async fn malformed_json_is_a_400_malformed_json() {
        let (status, _, json) = call(post_json(r#"{"title": "#)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(code(&json), "malformed_json");
    }

    #[tokio::test]
    async fn an_unknown_field_is_a_422_naming_the_field() {
        let (status, _, json) = call(post_json(r#"{"title":"a","pages":1,"x":1}"#)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code(&json), "invalid_body");
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains("unknown field `x`"), "{message}");
        assert!(!message.starts_with("Failed to deserialize"), "{message}");
    }

    #[tokio::test]
    async fn a_wrong_type_is_a_422_invalid_body() {
        let (status, _, json) = call(post_json(r#"{"title":"a","pages":"many"}"#)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code(&json), "invalid_body");
        assert!(json["error"]["message"].as_str().unwrap().contains("pages"));
    }

    #[tokio::test]
    async fn a_missing_content_type_is_a_415() {
        let req = Request::post("/notes")
            .body(Body::from(r#"{"title":"a","pages":1}"#))
            .unwrap();
        let (status, _, json) = call(req).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(code(&json), "unsupported_media_type");
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_a_413() {
        let big = format!(r#"{{"title":"{}","pages":1}}"#, "a".repeat(200));
        let (status, _, json) = call(post_json(&big)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(code(&json), "payload_too_large");
    }

    #[tokio::test]
    async fn a_bad_uuid_in_the_path_is_a_400_invalid_path() {
        let req = Request::get("/notes/not-a-uuid")
            .body(Body::empty())
            .unwrap();
        let (status, _, json) = call(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(code(&json), "invalid_path");
    }

    #[tokio::test]
    async fn a_bad_query_is_a_400_invalid_query() {
        let req = Request::get("/pages?limit=lots")
            .body(Body::empty())
            .unwrap();
        let (status, _, json) = call(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(code(&json), "invalid_query");
    }

    #[tokio::test]
    async fn an_unknown_route_is_a_404_route_not_found() {
        let req = Request::get("/nowhere").body(Body::empty()).unwrap();
        let (status, _, json) = call(req).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(code(&json), "route_not_found");
    }

    #[tokio::test]
    async fn a_wrong_method_is_a_405_with_an_allow_header() {
        let req = Request::delete("/notes").body(Body::empty()).unwrap();
        let (status, headers, json) = call(req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(code(&json), "method_not_allowed");
        assert_eq!(headers[ALLOW], "POST");
    }

    #[tokio::test]
    async fn an_internal_error_hides_its_cause() {
        let req = Request::get("/boom").body(Body::empty()).unwrap();
        let (status, _, json) = call(req).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            json,
            serde_json::json!({"error":{"code":"internal","message":"internal error"}})
        );
    }

    #[test]
    fn unauthorized_carries_a_bearer_challenge() {
        let response = ApiError::unauthorized("token_missing", "no token").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
    }
}

//! A command's HTTP edges: the request headers that travel into event metadata
//! (`Idempotency-Key`, `X-Correlation-Id`, `traceparent`) and the response that carries the
//! consistency token (`position` in the body, `Consistency-Token` header).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cms_domain::actor::Actor;
use serde_json::Value;
use uuid::Uuid;

use crate::error::ApiError;
use serde::Serialize;

use super::executor::{request_hash, CommandContext, IdempotencyKey, Outcome};

/// Header naming the position a response reflects.
pub const CONSISTENCY_TOKEN: &str = "consistency-token";
/// Header set to `true` when the response is the stored answer to an earlier request.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The command-related request headers.
#[derive(Debug, Clone)]
pub struct CommandHeaders {
    idempotency_key: Option<IdempotencyKey>,
    correlation_id: Uuid,
    causation_id: Option<Uuid>,
    traceparent: Option<String>,
}

impl CommandHeaders {
    /// The context for command `command` (its stable name) by `actor`; `target` and `request`
    /// identify the request for idempotency (the same key with another target or body is refused).
    ///
    /// # Errors
    /// 500 when `request` does not serialise (a bug).
    pub fn context(
        &self,
        actor: &Actor,
        command: &'static str,
        target: &str,
        request: &impl Serialize,
        hostel_id: Option<String>,
    ) -> Result<CommandContext, ApiError> {
        let body = serde_json::to_value(request).map_err(ApiError::internal)?;
        Ok(CommandContext {
            actor: actor.clone(),
            command,
            idempotency_key: self.idempotency_key.clone(),
            request_hash: request_hash(command, target, &body),
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            traceparent: self.traceparent.clone(),
            hostel_id,
        })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| {
                ApiError::bad_request(
                    "invalid_header",
                    format!("header {name} is not visible ASCII"),
                )
            })
        })
        .transpose()
}

fn uuid_header(headers: &HeaderMap, name: &str) -> Result<Option<Uuid>, ApiError> {
    header(headers, name)?
        .map(|v| {
            Uuid::parse_str(v).map_err(|_| {
                ApiError::bad_request("invalid_header", format!("header {name} must be a UUID"))
            })
        })
        .transpose()
}

/// W3C trace context: `00-<32 hex>-<16 hex>-<2 hex>`.
pub(crate) fn valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    parts.len() == 4
        && hex(parts[0], 2)
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
}

impl<S: Send + Sync> FromRequestParts<S> for CommandHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let idempotency_key = header(headers, "idempotency-key")?
            .map(|k| {
                IdempotencyKey::parse(k)
                    .map_err(|m| ApiError::bad_request("invalid_idempotency_key", m))
            })
            .transpose()?;
        let traceparent = match header(headers, "traceparent")? {
            Some(t) if valid_traceparent(t) => Some(t.to_owned()),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_header",
                    "header traceparent is not a W3C trace context",
                ))
            }
            None => None,
        };
        Ok(Self {
            idempotency_key,
            correlation_id: uuid_header(headers, "x-correlation-id")?.unwrap_or_else(Uuid::now_v7),
            causation_id: uuid_header(headers, "x-causation-id")?,
            traceparent,
        })
    }
}

/// A command's answer: its body plus `position`, and the consistency headers.
#[derive(Debug)]
pub struct CommandResponse(pub Outcome);

impl IntoResponse for CommandResponse {
    fn into_response(self) -> Response {
        let Outcome {
            status_code,
            mut body,
            position,
            replayed,
            ..
        } = self.0;
        if let Value::Object(map) = &mut body {
            map.insert("position".into(), Value::from(position));
        }
        let status = StatusCode::from_u16(status_code).unwrap_or(StatusCode::OK);
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(CONSISTENCY_TOKEN, HeaderValue::from(position));
        if replayed {
            headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::valid_traceparent;

    #[test]
    fn traceparent_must_follow_the_w3c_shape() {
        assert!(valid_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(!valid_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"
        ));
        assert!(!valid_traceparent(
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
    }
}

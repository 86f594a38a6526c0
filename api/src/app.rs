//! The HTTP application: shared state, the router with its middleware, and the OpenAPI document.

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::error;
use crate::routes;
use crate::state::AppState;

/// The W3C trace context header.
const TRACEPARENT: &str = "traceparent";

/// Limits applied to every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body, in bytes (larger ones get 413).
    pub body_bytes: usize,
    /// Longest a request may take before the server answers 408.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CMS: hostel maintenance complaints",
        description = "Event-sourced complaint management. Every command answers with the global \
                       position it committed (`position`, header `Consistency-Token`)."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "complaints", description = "Reading complaints: one, the list, its CSV export, the history and the changes between two moments"),
        (name = "filing", description = "Commands: file a complaint, triage it, withdraw it"),
        (name = "work", description = "Commands: assign, start, hold, resume and resolve the work"),
        (name = "feedback", description = "Commands: the reporter confirms, disputes or rates a resolution"),
        (name = "closing", description = "Commands: close or reject a complaint"),
        (name = "comments", description = "Commands: comment on a complaint"),
        (name = "photos", description = "Photos: upload, attach and serve them"),
        (name = "hostels", description = "Hostel administration"),
        (name = "realtime", description = "WebSocket tickets and the event stream"),
        (name = "audit", description = "The global log, hash-chain checkpoints and their key"),
        (name = "health", description = "Liveness and readiness")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::complaints::router())
        .merge(routes::hostels::router())
        .merge(routes::audit::router())
        .merge(routes::ws::router())
        .merge(routes::health::router())
}

/// The complete application: API routes, `/openapi.json`, the browsable UI at `/docs`, fallbacks
/// that answer in the error envelope, and request-id, tracing, metrics, timeout and body-limit
/// middleware. Every response carries `x-request-id` (the caller's, or a new UUID).
pub fn router(state: AppState, limits: Limits) -> Router {
    let (api, doc) = api_router().split_for_parts();
    let request_id = HeaderName::from_static("x-request-id");
    api.merge(SwaggerUi::new("/docs").url("/openapi.json", doc))
        .fallback(error::not_found_fallback)
        .method_not_allowed_fallback(error::method_not_allowed_fallback)
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // Outside the timeout (a 408 is counted) and inside routing (the matched route is known).
        .layer(axum::middleware::from_fn(crate::metrics::http::track))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                // The W3C trace id of the `traceparent` (the caller's, or the one started for it), so
                // logs join the trace.
                let trace_id = request
                    .headers()
                    .get(TRACEPARENT)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|t| t.split('-').nth(1))
                    .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
                    .unwrap_or("");
                // The path only: query strings may carry search text (`q=`) and never reach logs.
                tracing::info_span!(
                    "http",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request.id = %id,
                    trace.id = %trace_id,
                )
            }),
        )
        // Outside the trace span, which takes its trace id from the header.
        .layer(axum::middleware::map_request(start_trace_if_absent))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// A request without a `traceparent` starts a trace of its own: a new W3C trace context (random trace
/// and span ids, sampled) is put on the request, so its log lines, the metadata of the events its
/// command writes and their NATS messages share one trace id even when the caller sent none. A
/// malformed header is left for the routes to judge (commands refuse it with 400).
async fn start_trace_if_absent<B>(mut request: Request<B>) -> Request<B> {
    if !request.headers().contains_key(TRACEPARENT) {
        let value =
            HeaderValue::from_str(&new_traceparent()).expect("hex digits are a header value");
        request.headers_mut().insert(TRACEPARENT, value);
    }
    request
}

/// `00-<trace id>-<span id>-01` with random ids, never all zero (the W3C spec's invalid value).
fn new_traceparent() -> String {
    let trace_id = nonzero_random::<16>();
    let span_id = nonzero_random::<8>();
    format!("00-{}-{}-01", hex::encode(trace_id), hex::encode(span_id))
}

fn nonzero_random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    while bytes.iter().all(|&b| b == 0) {
        rand::Rng::fill(&mut rand::thread_rng(), &mut bytes[..]);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::new_traceparent;
    use crate::commands::http::valid_traceparent;

    #[test]
    fn started_traces_are_valid_w3c_contexts_with_fresh_ids() {
        let first = new_traceparent();
        let second = new_traceparent();
        assert!(valid_traceparent(&first), "{first}");
        assert!(valid_traceparent(&second), "{second}");
        assert_ne!(first[3..35], second[3..35], "trace ids must differ");
        assert!(
            first.starts_with("00-") && first.ends_with("-01"),
            "{first}"
        );
    }
}
